"""``KeyFooter``: Textual's footer of key bindings, rebuilt only when the tab's keys change.

Textual's ``Footer`` remounts one widget per key every time the screen's bindings are
refreshed (each focus change, each tab switch, each cursor move that changes what the
row allows), and each remount restyles and re-lays out the whole bar: on the desk that
was the largest cost of a tab switch. This footer builds one key widget for every
binding the focused widget's chain shows — also those the row under the cursor does not
allow now (``check_action`` says False) — and then, while that set of bindings stays the
same, only shows or hides the keys as the row allows them. Below ``COMPACT_BELOW``
columns it draws the keys closer together, so more of them fit.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

COMPACT_BELOW = 120
"""Terminal widths under which the keys are drawn without spacing between them."""


@dataclass(frozen=True)
class Shown:
    """One key of the footer and whether it applies now."""

    binding: Binding
    state: bool | None
    """``check_action``'s answer: True shown, None shown dimmed, False hidden."""
    palette: bool = False


class KeyFooter(Footer):
    """A ``Footer`` that shows or hides its keys in place while the tab's bindings stay."""

    def __init__(self) -> None:
        super().__init__()
        self._layout: tuple[tuple[str, str, str], ...] | None = None
        """(key, description, action) of each key widget built, in order."""
        self._widgets: list[FooterKey] = []

    def _keys(self, screen: Screen) -> list[Shown]:
        """Every key the footer may show, first binding of each action, as the chain sees it."""
        app = self.app
        seen: dict[str, Shown] = {}
        actions: set[str] = set()
        palette: Shown | None = None
        for namespace, bindings in screen._modal_binding_chain:
            for key, binding in bindings:
                if palette is not None and key == palette.binding.key:
                    continue
                if key in seen:
                    # Another action of the same key (``m``: show or hide the contact): the
                    # footer names the one that applies now.
                    first = seen[key]
                    if first.state is False and binding.show and binding.action not in actions:
                        state = app._check_action_state(binding.action, namespace)
                        if state is not False:
                            actions.add(binding.action)
                            seen[key] = Shown(binding, state)
                    continue
                state = app._check_action_state(binding.action, namespace)
                if key == app.COMMAND_PALETTE_BINDING:
                    if self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
                        palette = Shown(binding, state, palette=True)
                    continue
                if not binding.show or binding.action in actions:
                    continue
                actions.add(binding.action)
                seen[key] = Shown(binding, state)
        return [*seen.values(), *([palette] if palette else [])]

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        keys = self._keys(self.screen)
        self._layout = tuple((k.binding.key, k.binding.description, k.binding.action) for k in keys)
        self._widgets = []
        for shown in keys:
            binding = shown.binding
            widget = FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not shown.state,
                tooltip=binding.tooltip or (binding.description if shown.palette else ""),
                classes="-command-palette" if shown.palette else "",
            )
            widget.display = shown.state is not False
            if not shown.palette:
                widget.data_bind(compact=Footer.compact)
            self._widgets.append(widget)
            yield widget
        self.styles.grid_size_columns = sum(1 for w in self._widgets if w.display)

    def bindings_changed(self, screen: Screen) -> None:
        if not (self.is_attached and screen is self.screen and self._bindings_ready):
            super().bindings_changed(screen)
            return
        keys = self._keys(screen)
        layout = tuple((k.binding.key, k.binding.description, k.binding.action) for k in keys)
        if layout != self._layout or len(self._widgets) != len(keys):
            super().bindings_changed(screen)  # another tab or dialog: build the keys afresh
            return
        for widget, shown in zip(self._widgets, keys, strict=True):
            visible = shown.state is not False
            if widget.display != visible:
                widget.display = visible
            widget._disabled = not shown.state  # (a click on a dimmed key only rings)
            widget.set_class(not shown.state, "-disabled")
        columns = sum(1 for w in self._widgets if w.display)
        if self.styles.grid_size_columns != columns:
            self.styles.grid_size_columns = columns

    def on_resize(self, event: events.Resize) -> None:
        compact = event.size.width < COMPACT_BELOW
        if compact != self.compact:
            self.compact = compact
