"""``StatusBar``: one line above the footer with the last outcome and the current list's size."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label


class StatusBar(Horizontal):
    """The last message (green when done, red when refused) and a count on the right."""

    DEFAULT_CSS = """
    StatusBar { height: 1; dock: bottom; background: $panel; padding: 0 1; }
    StatusBar #status-message { width: 1fr; height: 1; }
    StatusBar #status-message.-error { color: $error; text-style: bold; }
    StatusBar #status-message.-done { color: $success; }
    StatusBar #status-count { width: 40; height: 1; text-align: right; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield Label("", id="status-message", markup=False)
        yield Label("", id="status-count", markup=False)

    @property
    def message(self) -> str:
        return str(self.query_one("#status-message", Label).content)

    def say(self, text: str, *, error: bool = False) -> None:
        label = self.query_one("#status-message", Label)
        # Both labels have a fixed size: redrawing them needs no new layout of the screen.
        label.update(text, layout=False)
        label.set_class(error, "-error")
        label.set_class(not error and bool(text), "-done")

    def count(self, text: str) -> None:
        self.query_one("#status-count", Label).update(text, layout=False)
