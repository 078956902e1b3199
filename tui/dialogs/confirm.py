"""``ConfirmDialog``: a yes/no question that names what will happen; ``y`` or 是 says yes,
``n``, Esc or 否 says no.

The whole question is shown, wrapped (it ends with what cannot be undone), with the
buttons under it; the focus starts on 否, so an Enter pressed out of habit does nothing
irreversible.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Button

from tui.dialogs.base import DeskDialog
from tui.keys import Key
from tui.widgets.data_label import DataLabel


class ConfirmDialog(DeskDialog[bool]):
    """Asks ``question``; returns True for yes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Key("y", "answer(True)", "是", doc="yes: do what the question names"),
        Key("n,escape", "answer(False)", "否", doc="no: nothing happens"),
    ]

    def __init__(self, question: str, *, title: str = "请确认", yes: str = "是") -> None:
        super().__init__(title)
        self.question = question
        self.yes = yes

    def compose_body(self) -> ComposeResult:
        yield DataLabel(self.question, id="confirm-text", classes="dialog-text")

    def compose_buttons(self) -> ComposeResult:
        yield Button(f"{self.yes} (y)", variant="error", id="yes")
        yield Button("否 (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    def action_close(self) -> None:
        self.dismiss(False)
