"""``MemberPicker``: who answers the caller — the episode's booked guests first, or anyone.

The choice is the member reference to pass to the domain (``"#3"`` for a listed guest, or
what was typed: an id or a unique name), ``""`` for "no member (the host answers)". With
``on_pick`` the dialog stays open until the move is done: a refused choice (an unknown
or ambiguous name) is shown under the field, with what was typed still there. Without
it, the dialog closes with the choice (None when closed with Esc).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from hotline.models import Member
from tui.dialogs.base import DeskDialog
from tui.shown import plain
from tui.widgets.data_label import DataLabel
from tui.widgets.desk_input import DeskInput

NO_MEMBER = "none"
Pick = Callable[["MemberPicker", str], None]


class MemberPicker(DeskDialog[str | None]):
    """Pick the answering member: Enter on a guest, or type an id or name and press Enter."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "取消")]

    def __init__(
        self, title: str, guests: Sequence[Member], *, on_pick: Pick | None = None
    ) -> None:
        super().__init__(title)
        self.guests = list(guests)
        self.on_pick = on_pick
        self.saving = False

    def compose_body(self) -> ComposeResult:
        options = [
            Option(plain(f"{m.name}  {m.sector}  #{m.id}"), id=f"#{m.id}") for m in self.guests
        ]
        options.append(Option("（无：主持人作答）", id=NO_MEMBER))
        yield Label("本期嘉宾（回车选定）", classes="field-label")
        yield OptionList(*options, id="picker-guests")
        yield Label("其他委员（编号或姓名，回车确定）", classes="field-label")
        yield DeskInput(placeholder="#42 或 姓名", id="picker-other", compact=True)
        yield DataLabel("", id="picker-error", classes="field-error")

    def on_mount(self) -> None:
        self.query_one("#picker-guests", OptionList).focus()

    @on(OptionList.OptionSelected, "#picker-guests")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        choice = event.option.id or NO_MEMBER
        self.choose("" if choice == NO_MEMBER else choice)

    @on(Input.Submitted, "#picker-other")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.choose(event.value.strip())

    @on(Input.Changed, "#picker-other")
    def _editing(self) -> None:
        self.query_one("#picker-error", Label).update("")
        self.query_one("#picker-other", Input).set_class(False, "-invalid")

    def choose(self, member: str) -> None:
        """The producer chose ``member``: hand it on (and wait), or close with it."""
        if self.on_pick is None:
            self.dismiss(member)
        elif not self.saving:
            self.saving = True
            self.on_pick(self, member)

    # ------------------------------------------------------------ the outcome of on_pick

    def saved(self) -> None:
        self.saving = False
        if self.is_attached:
            self.dismiss(None)

    def refused(self, error: BaseException | None, text: str) -> None:
        self.saving = False
        if not self.is_attached:
            return
        field = self.query_one("#picker-other", Input)
        self.query_one("#picker-error", Label).update(f"未执行：{text}")
        field.set_class(True, "-invalid")
        field.focus()
