"""``StatusBar``: the line between the tabs and the key footer with the last outcome and the
current list's size.

Every action answers here: what was done and to which row, or in red why it was not.
It is laid out above the footer (never docked under it), and a long message wraps onto a
second or third line rather than being cut.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from tui.shown import one_line
from tui.widgets.data_label import DataLabel

MAX_ROWS = 3
"""Lines a long message may wrap to."""


class StatusBar(Horizontal):
    """The last message (green when done, red when refused) and a count on the right."""

    DEFAULT_CSS = """
    StatusBar { height: auto; max-height: 3; background: $panel; padding: 0 1; }
    StatusBar #status-message { width: 1fr; height: auto; max-height: 3; }
    StatusBar #status-message.-error { color: $text-error; text-style: bold; }
    StatusBar #status-message.-done { color: $text-success; }
    StatusBar #status-count { width: 26; height: 1; text-align: right; color: $text-muted; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._rows = 1
        """Lines the message took when last laid out."""

    def compose(self) -> ComposeResult:
        yield DataLabel(" ", id="status-message")
        yield DataLabel("", id="status-count")

    @property
    def message(self) -> str:
        return str(self.query_one("#status-message", Label).content).strip()

    @property
    def is_error(self) -> bool:
        return self.query_one("#status-message", Label).has_class("-error")

    def say(self, text: str, *, error: bool = False) -> None:
        if not self.children:
            return  # the desk is closing: a late outcome has nowhere to go
        label = self.query_one("#status-message", Label)
        shown = one_line(text) or " "
        # A message as tall as the last one redraws the bar alone; only a change in the
        # number of lines it wraps to lays the screen out again.
        width = max(label.size.width, 1)
        rows = min(-(-cell_len(shown) // width), MAX_ROWS)
        label.update(shown, layout=rows != self._rows)
        self._rows = rows
        label.set_class(error, "-error")
        label.set_class(not error and bool(text), "-done")

    def count(self, text: str) -> None:
        # A fixed size: redrawing it needs no new layout of the screen (tab switches).
        if self.children:  # none once the desk is closing
            self.query_one("#status-count", Label).update(text, layout=False)
