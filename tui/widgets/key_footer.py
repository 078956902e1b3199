"""``KeyFooter``: Textual's footer of key bindings, rebuilt only when the keys it shows change.

Textual's ``Footer`` remounts one widget per key every time the screen's bindings are
refreshed (each focus change, each tab switch), and each remount restyles and re-lays
out the whole bar: on the desk that was the largest cost of a tab switch. This footer
remembers which keys it shows and rebuilds only when that list differs. Below
``COMPACT_BELOW`` columns it draws the keys closer together, so more of them fit.
"""

from __future__ import annotations

from textual import events
from textual.screen import Screen
from textual.widgets import Footer

Shown = tuple[tuple[str, str, str, bool, str], ...]
COMPACT_BELOW = 120
"""Terminal widths under which the keys are drawn without spacing between them."""


class KeyFooter(Footer):
    """A ``Footer`` that skips the rebuild when the shown keys are the same as last time."""

    def __init__(self) -> None:
        super().__init__()
        self._shown: Shown | None = None

    def _shown_keys(self, screen: Screen) -> Shown:
        return tuple(
            (binding.key, binding.description, binding.action, enabled, tooltip)
            for _, binding, enabled, tooltip in screen.active_bindings.values()
            if binding.show or binding.key == self.app.COMMAND_PALETTE_BINDING
        )

    def bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            shown = self._shown_keys(screen)
            if shown == self._shown and self._bindings_ready:
                return
            self._shown = shown
        super().bindings_changed(screen)

    def on_resize(self, event: events.Resize) -> None:
        compact = event.size.width < COMPACT_BELOW
        if compact != self.compact:
            self.compact = compact
