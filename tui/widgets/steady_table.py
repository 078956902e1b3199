"""``SteadyTable``: a DataTable that keeps its drawn rows when focus comes and goes.

Textual's DataTable throws away every rendered cell, row and line whenever its styles
are re-applied, and they are re-applied each time it takes or loses the focus (its
``:focus`` rules change the cursor's colours), which is every tab switch on the desk.
Redrawing a screenful of cells was half the time of a switch. Yet the table's caches
are keyed by everything a drawn line depends on that focus can change (its pseudo-class
state and base style), so lines drawn while focused are still right the next time it
is focused. This table keeps them, unless the styles it draws with for that state have
changed since (a new theme or stylesheet): then it drops them as DataTable does.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable

_RENDER_CACHES = ("_row_render_cache", "_cell_render_cache", "_row_renderable_cache", "_line_cache")
"""DataTable's caches of drawn output; each key holds the pseudo-class state and base style."""
_COMPONENTS = tuple(sorted(DataTable.COMPONENT_CLASSES))
"""The component classes whose styles DataTable draws cells, header and stripes with."""


class SteadyTable(DataTable[Any]):
    """A DataTable whose drawn rows survive a restyle that changes nothing they show."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._drawn_with: dict[object, tuple[Style, ...]] = {}
        """Per pseudo-class state, the component styles the cached lines were drawn with."""

    def notify_style_update(self) -> None:
        kept = {name: getattr(self, name) for name in _RENDER_CACHES}
        for name in _RENDER_CACHES:  # DataTable clears these: let it clear throwaway ones
            setattr(self, name, LRUCache(1))
        super().notify_style_update()  # still drops its style lookups and redraws
        for name, cache in kept.items():
            setattr(self, name, cache)

    def render_lines(self, crop: Region) -> list[Strip]:
        # Checked here, not on restyle: the component styles are only final once Textual has
        # applied them after the restyle, and here they are those the lines are drawn with.
        state = self.get_pseudo_class_state()
        styles = tuple(self.get_component_rich_style(name) for name in _COMPONENTS)
        if self._drawn_with.get(state, styles) != styles:
            self._drawn_with.clear()  # a new theme or stylesheet: any cached line may be stale
            for name in _RENDER_CACHES:
                getattr(self, name).clear()
        self._drawn_with[state] = styles
        return super().render_lines(crop)
