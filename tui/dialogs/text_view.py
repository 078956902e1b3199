"""``TextViewDialog``: a long read-only text (a failed job's error log) to scroll and copy."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, TextArea


class TextViewDialog(ModalScreen[None]):
    """Shows ``text`` under ``title``; Escape closes."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "关闭")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog log"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield TextArea(self.text, read_only=True, id="text-view", soft_wrap=True)

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_close(self) -> None:
        self.dismiss(None)
