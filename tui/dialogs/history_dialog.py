"""``HistoryDialog``: who changed what, when, for the row under the cursor (``h`` on any tab)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from zoneinfo import ZoneInfo

from sqlmodel import Session
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from episodes.history_view import ACTIONS_ZH, HistoryLine, history_of
from hotline.timeutil import local_text
from tui.wording import history_summary

if TYPE_CHECKING:
    from tui.screens.base import HotlinePane


class HistoryDialog(ModalScreen[None]):
    """Shows history lines, newest last with the cursor on it; Escape or q closes."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "关闭")]

    def __init__(self, title: str, lines: list[HistoryLine], tz: ZoneInfo) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.lines = lines
        self.tz = tz

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog log"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            if not self.lines:
                yield Label("尚无修改记录", id="history-empty", markup=False)
            yield DataTable(id="history-table", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("时间", "操作人", "对象", "操作", "内容")
        for n, line in enumerate(self.lines):
            table.add_row(
                local_text(line.at, self.tz, "%Y-%m-%d %H:%M"),
                line.actor,
                line.what,
                ACTIONS_ZH.get(line.action, line.action),
                history_summary(line.summary),
                key=str(n),
            )
        if self.lines:
            table.move_cursor(row=len(self.lines) - 1)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)


# The tabs whose main table's row keys name a subject with a history: the key is the
# episode number, the member id, the question id. A tab may instead answer itself with
# ``history_subject()``: the subject of its row, or why it has none (the 转办 tab answers
# with the referral's question, the 直播台 with the question a call became).
SUBJECT_OF_TAB = {"schedule": "episode", "members": "member", "questions": "question"}
TITLES = {"episode": "第{}期", "member": "委员 #{}", "question": "问题 #{}"}
NO_HISTORY = "{tab}的行没有修改记录：h 看排期、嘉宾、听众、直播台和转办里光标所在的行"
NO_ROW = "没有选中的行"


def history_subject(pane: HotlinePane) -> tuple[str, str] | str:
    """(subject, reference) of the row under ``pane``'s cursor, or why there is none."""
    own = getattr(pane, "history_subject", None)
    if callable(own):
        found = own()
        if isinstance(found, str):
            return found
        return (found[0], str(found[1])) if found else NO_ROW
    subject = SUBJECT_OF_TAB.get(pane.PANE_ID)
    if subject is None:
        return NO_HISTORY.format(tab=pane.LABEL)
    key = getattr(pane.main_widget(), "selected_key", None)
    return (subject, str(key)) if key else NO_ROW


def open_history(pane: HotlinePane) -> None:
    """Read the history of the row under ``pane``'s cursor and show it in a dialog."""
    chosen = history_subject(pane)
    if isinstance(chosen, str):
        pane.hotline.report(chosen, error=True)
        return
    subject, ref = chosen
    tz = pane.station.tz

    def work(session: Session) -> list[HistoryLine]:
        return history_of(session=session, subject=subject, ref=ref, tz=tz)

    def show(lines: list[HistoryLine]) -> None:
        title = f"修改记录：{TITLES[subject].format(ref)}（共 {len(lines)} 条）"
        pane.app.push_screen(HistoryDialog(title, lines, tz))

    pane.read(work, show)
