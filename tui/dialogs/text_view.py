"""``TextViewDialog``: a long read-only text (a failed job's error log) to scroll and copy."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import TextArea

from tui.dialogs.base import DeskDialog
from tui.shown import lines


class TextViewDialog(DeskDialog[None]):
    """Shows ``text`` under ``title``; Esc closes."""

    DIALOG_CLASSES = "log"
    SCROLLS = False

    def __init__(self, title: str, text: str) -> None:
        super().__init__(title)
        self.text = text

    def compose_body(self) -> ComposeResult:
        yield TextArea(lines(self.text), read_only=True, id="text-view", soft_wrap=True)

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()
