"""``MemberPicker``: who answers the caller — the episode's booked guests first, or anyone.

Returns the member reference to pass to the domain (``"#3"`` for a listed guest, or what
was typed: an id or a unique name), ``""`` for "no member (the host answers)", or None
when cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from hotline.models import Member

NO_MEMBER = "none"


class MemberPicker(ModalScreen[str | None]):
    """Pick the answering member: Enter on a guest, or type an id or name and press Enter."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "取消")]

    def __init__(self, title: str, guests: Sequence[Member]) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.guests = list(guests)

    def compose(self) -> ComposeResult:
        options = [Option(f"{m.name}  {m.sector}  #{m.id}", id=f"#{m.id}") for m in self.guests]
        options.append(Option("（无：主持人作答）", id=NO_MEMBER))
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield Label("本期嘉宾", classes="field-label")
            yield OptionList(*options, id="picker-guests")
            yield Label("其他委员（编号或姓名，回车确定）", classes="field-label")
            yield Input(placeholder="#42 或 姓名", id="picker-other")

    def on_mount(self) -> None:
        self.query_one("#picker-guests", OptionList).focus()

    @on(OptionList.OptionSelected, "#picker-guests")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        choice = event.option.id or NO_MEMBER
        self.dismiss("" if choice == NO_MEMBER else choice)

    @on(Input.Submitted, "#picker-other")
    def _typed(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
