"""``SteadyTable``: a DataTable that keeps its drawn rows and draws new ones cheaply.

Textual's DataTable throws away every rendered cell, row and line whenever its styles
are re-applied, and they are re-applied each time it takes or loses the focus (its
``:focus`` rules change the cursor's colours), which is every tab switch on the desk.
Redrawing a screenful of cells was half the time of a switch. Yet the table's caches
are keyed by everything a drawn line depends on that focus can change (its pseudo-class
state and base style), so lines drawn while focused are still right the next time it
is focused. This table keeps them, unless the styles it draws with for that state have
changed since (a new theme or stylesheet): then it drops them as DataTable does.

It also throws them away on every resize, and a table is "resized" each time its tab is
shown (hidden widgets have no size): every switch drew the table once for the frame and
then again from scratch. Only the width matters to a drawn row (rows are drawn out to
it), so this table forgets rows when the width it draws at changes, not on every resize.

Drawing rows the first time (a tab's first showing, a new page, a scroll) is cheaper too:
a cell of plain text that fits its column skips Rich's layout (``plain_cells``), a row's
cells are read ahead while the tab is hidden (``read_rows_ahead``), and the table's own
style, which Textual recomputes from every ancestor, is worked out once per drawing
rather than once per line.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.cache import LRUCache
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable

from tui.widgets.plain_cells import plain_cell_line

_RENDER_CACHES = ("_row_render_cache", "_cell_render_cache", "_row_renderable_cache", "_line_cache")
"""DataTable's caches of drawn output; each key holds the pseudo-class state and base style."""
_COMPONENTS = tuple(sorted(DataTable.COMPONENT_CLASSES))
"""The component classes whose styles DataTable draws cells, header and stripes with."""
_STRIPES = ("datatable--even-row", "datatable--odd-row")


class SteadyTable(DataTable[Any]):
    """A DataTable whose drawn rows survive a restyle or resize that changes nothing they show."""

    _drawing: tuple[Style, tuple[Style, ...]] | None = None
    """While drawing: the table's style and its stripes' styles, worked out once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._drawn_with: dict[object, tuple[Style, ...]] = {}
        """Per pseudo-class state, the component styles the cached lines were drawn with."""
        self._drawn_width: int | None = None
        """The width the cached rows were drawn out to (None before the first drawing)."""

    # ------------------------------------------------------------ keeping drawn rows

    def notify_style_update(self) -> None:
        kept = {name: getattr(self, name) for name in _RENDER_CACHES}
        for name in _RENDER_CACHES:  # DataTable clears these: let it clear throwaway ones
            setattr(self, name, LRUCache(1))
        super().notify_style_update()  # still drops its style lookups and redraws
        for name, cache in kept.items():
            setattr(self, name, cache)

    def _on_resize(self, event: events.Resize) -> None:
        # DataTable starts every cache afresh on a resize. A width change is handled when
        # drawing (below); anything else changes nothing a drawn row shows.
        if self._drawn_width in (None, event.size.width):
            event.prevent_default()

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
        width = self.size.width
        if self._drawn_width not in (None, width):
            self._row_render_cache.clear()  # rows are drawn out to the table's width
        self._drawn_width = width
        stripes = tuple(self.get_component_styles(name).rich_style for name in _STRIPES)
        self._drawing = (super().rich_style, stripes)
        try:
            return super().render_lines(crop)
        finally:
            self._drawing = None

    # ------------------------------------------------------------ drawing rows cheaply

    @property
    def rich_style(self) -> Style:
        # DataTable asks for it for every line it draws; nothing can change it mid-drawing.
        return self._drawing[0] if self._drawing is not None else super().rich_style

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        if self._drawing is None or row_index < self.fixed_rows or not self.zebra_stripes:
            return super()._get_row_style(row_index, base_style)
        return self._drawing[1][row_index % 2]

    def read_rows_ahead(self, count: int) -> None:
        """Turn the first ``count`` rows' values into what their cells show, ahead of drawing.

        For a table not yet shown: done while the desk is idle, its first drawing only
        lays the cells out. DataTable keeps these until the rows or columns change.
        """
        for row_index in range(min(count, self.row_count)):
            self._get_row_renderables(row_index)

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        # A cell of plain text that fits its column is laid out here (see plain_cells), and
        # kept under the key DataTable keeps it under; anything else as DataTable draws it.
        header = row_index == -1
        fixed = not header and (row_index < self.fixed_rows or column_index < self.fixed_columns)
        height = self.header_height if header else self._row_height(row_index)
        if fixed or column_index < 0 or height != 1:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._header_row_key if header else self._row_locations.get_key(row_index)
        key = (
            row_key,
            self._column_locations.get_key(column_index),
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        lines = self._cell_render_cache.get(key)
        if lines is None:
            component_style, post_style = self._get_styles_to_render_cell(
                header,
                False,
                False,
                hover,
                cursor,
                self.show_cursor,
                self._show_hover_cursor,
                self.cursor_foreground_priority == "css",
                self.cursor_background_priority == "css",
            )
            meta = Style.from_meta({"row": row_index, "column": column_index})
            cell = self._get_row_renderables(row_index).cells[column_index]
            pre_style = base_style + meta + component_style
            lines = plain_cell_line(cell, width, self.cell_padding, pre_style, post_style)
            if lines is None:
                return super()._render_cell(
                    row_index, column_index, base_style, width, cursor, hover
                )
            self._cell_render_cache[key] = lines
        return lines

    def _row_height(self, row_index: int) -> int:
        """The row's height in lines (0 for an auto-height row not measured yet)."""
        row = self.rows.get(self._row_locations.get_key(row_index))
        return 0 if row is None or row.auto_height else row.height
