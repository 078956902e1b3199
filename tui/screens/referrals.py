"""The 转办 tab: referrals followed to the end, the overdue ones on top.

Each row is a referral: its question, the department, when it was sent, when the reply
is due and where it stands (逾期 N 天, 待复, 已答复, 已关闭). ``r`` records the
department's reply, ``b`` the call-back to the listener (回访, which closes the question
when it reaches them), ``c`` closes the question early with a reason, ``d`` shows the
department report. ``s`` cycles what is shown: everything still followed, only the
overdue ones, only those due within the reminder window, or the closed ones too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.widgets import Input, Label

from episodes import questions, referrals
from episodes.department_report import DepartmentReport, department_report
from episodes.referrals import ReferralRow
from hotline.models import CallbackOutcome, QuestionStatus
from hotline.timeutil import local_text
from tui.changes import describe
from tui.dialogs.department_report import DepartmentReportDialog
from tui.dialogs.prompt import Field, PromptDialog, required
from tui.keys import Key
from tui.labels import CALLBACK_OUTCOME, REFERRAL_STATUS, label
from tui.messages import TableRow
from tui.screens.base import HotlinePane
from tui.widgets.desk_input import DeskInput
from tui.widgets.desk_table import Col
from tui.widgets.paged_table import PagedTable


@dataclass(frozen=True)
class View:
    """One choice of the ``s`` cycle: its label and the list's filters."""

    label: str
    overdue: bool = False
    due_soon: bool = False
    include_closed: bool = False


VIEWS = (
    View("跟进中"),
    View("逾期", overdue=True),
    View("即将到期", due_soon=True),
    View("全部（含已关闭）", include_closed=True),
)


Work = Callable[[Session, dict[str, str], ReferralRow], str]
"""A change to the referral under the cursor, given the dialog's values; says what it did."""


def outcome_value(text: str) -> CallbackOutcome:
    """A call-back outcome from its Chinese label or its English value."""
    typed = text.strip()
    for value, shown in CALLBACK_OUTCOME.items():
        if typed in (value, shown):
            return CallbackOutcome(value)
    return questions.check_outcome(typed)  # raises, naming the allowed ones


def state_label(row: ReferralRow, pane: ReferralsPane) -> str:
    now, tz = pane.now(), pane.station.tz
    if row.overdue(now):
        return f"逾期 {row.days_overdue(now, tz)} 天"
    return label(REFERRAL_STATUS, row.status)


class ReferralsPane(HotlinePane):
    """转办: referrals to departments, overdue first."""

    LABEL = "转办"
    PANE_ID = "referrals"
    TABLES = frozenset({"referral", "callback", "question", "department"})
    BINDINGS: ClassVar[list[BindingType]] = [
        Key("r", "reply", "登记答复", doc="record the department's reply (text, date)"),
        Key(
            "b",
            "callback",
            "回访",
            doc="call the listener back (回访); reaching them closes the question",
        ),
        Key("c", "close", "提前办结", doc="close the question early, with the reason"),
        Key(
            "d",
            "report",
            "部门统计",
            doc="department report (转办统计): on time, overdue, days to reply, satisfaction",
        ),
        Key(
            "s",
            "cycle_view",
            "切换视图",
            doc="cycle the view: followed, overdue, due soon, all (with closed)",
        ),
        Key("slash", "filter", "搜索", doc="search the referrals"),
        Key(
            "escape",
            "back_to_table",
            "返回列表",
            show=False,
            doc="from the search back to the table",
        ),
    ]

    def __init__(self, *, key: str = "") -> None:
        super().__init__(key=key)
        self.view = VIEWS[0]
        self.loaded = False
        self.rows: dict[str, ReferralRow] = {}

    def compose_tab(self) -> ComposeResult:
        with Horizontal(classes="filter-bar"):
            yield DeskInput(
                placeholder="/ 按部门或问题内容搜索", id="referrals-filter", classes="filter"
            )
            yield Label(f"视图：{self.view.label}", id="referrals-view", classes="filter-status")
        yield PagedTable(
            [
                Col("编号", keep=True),
                Col("问题", keep=True),
                Col("部门"),
                Col("转办日期", keep=True),
                Col("答复期限", keep=True),
                Col("状态", keep=True),
                Col("话题"),
                Col("问题内容"),
            ],
            id="referrals-table",
        )
        yield Label("", id="referrals-detail", classes="detail", markup=False)

    @property
    def table(self) -> PagedTable:
        return self.query_one("#referrals-table", PagedTable)

    # ------------------------------------------------------------ loading

    def activated(self) -> None:
        if not self.loaded:
            self.refilter()

    def preload(self) -> None:
        self.read_ahead = not self.loaded
        self.activated()

    def refilter(self) -> None:
        self.loaded = True
        self.table.load(self._source(), select=self.table.selected_key)

    def _filters(self) -> dict[str, object]:
        view = self.view
        return {
            "overdue": view.overdue,
            "due_within": self.station.settings.referrals.remind_days if view.due_soon else None,
            "include_closed": view.include_closed,
            "search": self.query_one("#referrals-filter", Input).value,
        }

    def _source(self):  # noqa: ANN202 - a PagedTable Source
        station, tz, now = self.station, self.station.tz, self.now()
        filters = self._filters()

        def source(offset: int, limit: int) -> tuple[list[TableRow], int]:
            with station.session() as session:
                found = referrals.list_referrals(
                    session=session, tz=tz, now=now, offset=offset, limit=limit, **filters
                )
                total = referrals.count_referrals(session=session, tz=tz, now=now, **filters)
            rows: list[TableRow] = []
            for r in found:
                key = str(r.id)
                self.rows[key] = r
                cells = (
                    r.id,
                    r.question_id,
                    r.department,
                    local_text(r.sent_at, tz, "%Y-%m-%d"),
                    referrals.due_day(r.due_at, tz).isoformat(),
                    state_label(r, self),
                    r.topic,
                    r.text,
                )
                rows.append((key, cells))
            return rows, total

        return source

    def reload(self, select: str | None = None) -> None:
        self.table.reload(select=select)

    @on(Input.Changed, "#referrals-filter")
    def _filter_changed(self) -> None:
        self.refilter()

    def state_changed(self) -> None:
        # The cursor moved, or the rows were read again (a change updates the row under
        # the cursor in place): the detail follows the row either way.
        super().state_changed()
        self._show_detail(self.table.selected_key)

    def _show_detail(self, key: str | None) -> None:
        row = self.rows.get(key) if key else None
        detail = self.query_one("#referrals-detail", Label)
        if row is None:
            detail.update("")
            return
        tz = self.station.tz
        lines = [
            f"转办 #{row.id} 问题 #{row.question_id} → {row.department}  "
            f"{local_text(row.sent_at, tz)} 转办，"
            f"{referrals.due_day(row.due_at, tz)} 前答复  {state_label(row, self)}",
            " ".join(row.text.split()),
        ]
        if row.replied_at is not None:
            lines.append(f"答复（{local_text(row.replied_at, tz)}）：{row.reply_text}")
        if row.close_reason:
            lines.append(f"办结理由：{row.close_reason}")
        detail.update("\n".join(lines))

    # ------------------------------------------------------------ actions

    def selected(self) -> ReferralRow | None:
        key = self.table.selected_key
        return self.rows.get(key) if key else None

    def why_not(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        if action not in ("reply", "callback", "close"):
            return None
        row = self.selected()
        if row is None:
            return "没有选中的转办"
        # The rules the domain functions themselves refuse by, asked before a form opens.
        if action == "reply":
            refusal = referrals.reply_refusal(row)
        elif action == "callback":
            # (a referral's row: whether a member also answered matters only unreferred)
            refusal = questions.callback_refusal(
                question=row.question_id,
                status=row.question_status,
                answered=False,
                referral=row,
            )
        else:
            refusal = questions.move_refusal(
                question=row.question_id, status=row.question_status, target=QuestionStatus.resolved
            )
        return None if refusal is None else describe(refusal)

    def history_subject(self) -> tuple[str, int] | None:
        """The desk's history key (h) shows the question of the referral under the cursor."""
        row = self.selected()
        return ("question", row.question_id) if row else None

    def action_cycle_view(self) -> None:
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        self.query_one("#referrals-view", Label).update(f"视图：{self.view.label}")
        self.refilter()

    def _ask(self, title: str, fields: list[Field], work: Work) -> None:
        """Ask for the details, then run ``work(session, values, row)`` on the row under
        the cursor in one transaction."""
        row = self.selected()
        if row is None:
            return

        def save(form: PromptDialog, values: dict[str, str]) -> None:
            self.change(lambda session: work(session, values, row), select=str(row.id), form=form)

        self.app.push_screen(PromptDialog(title, fields, on_save=save))

    def action_reply(self) -> None:
        tz = self.station.tz

        def work(session: Session, values: dict[str, str], row: ReferralRow) -> str:
            done = referrals.reply(
                session=session,
                referral=row.id,
                text=values["text"],
                tz=tz,
                when=values["date"].strip() or None,
                now=self.now(),
            )
            timing = "按期" if done.replied_at < done.due_at else "逾期"
            return f"转办 #{done.id}：已登记答复（{timing}）；下一步回访听众（b）"

        fields = [
            Field("text", "部门答复", "", "已责成街道限期整改", required("reply text", 4000)),
            Field("date", "答复日期（YYYY-MM-DD，空 = 今天）", "", "", None),
        ]
        self._ask("登记部门答复", fields, work)

    def action_callback(self) -> None:
        def work(session: Session, values: dict[str, str], row: ReferralRow) -> str:
            done = questions.callback(
                session=session,
                question=row.question_id,
                outcome=outcome_value(values["outcome"]),
                note=values["note"],
                now=self.now(),
            )
            closed = "，问题已办结" if done.closed else ""
            shown = label(CALLBACK_OUTCOME, done.callback.outcome)
            return f"问题 #{row.question_id}：已回访（{shown}）{closed}"

        outcomes = "、".join(CALLBACK_OUTCOME.values())
        fields = [
            Field("outcome", f"回访结果（{outcomes}）", "满意", "满意", outcome_value),
            Field("note", "回访记录（可空）", "", "听众表示满意", None),
        ]
        self._ask("回访听众", fields, work)

    def action_close(self) -> None:
        def work(session: Session, values: dict[str, str], row: ReferralRow) -> str:
            questions.resolve(
                session=session,
                question=row.question_id,
                reason=values["reason"],
                now=self.now(),
            )
            return f"问题 #{row.question_id}：已办结"

        field = Field("reason", "提前办结的理由", "", "听众来电告知已解决", required("reason", 200))
        self._ask("提前办结", [field], work)

    def action_report(self) -> None:
        station, now = self.station, self.now()

        def work(session: Session) -> DepartmentReport:
            return department_report(session=session, tz=station.tz, now=now)

        self.read(work, lambda report: self.app.push_screen(DepartmentReportDialog(report)))
