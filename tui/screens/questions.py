"""The 听众 tab: the listener-question inbox, newest first, by status.

``n`` logs a question in one form and shows the open questions it may repeat; the
lifecycle moves (screen, assign, answer, refer, resolve, reject, duplicate) are one key
each, refused with the domain's reason when the lifecycle does not allow them.
Listener contacts are masked (138****5678) unless revealed, on purpose, for the
question under the cursor with ``m``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Label

from episodes import questions as domain
from episodes import views
from episodes.duplicates import PossibleDuplicate, find_possible_duplicates
from episodes.questions import QuestionView
from hotline import privacy
from hotline.models import QuestionStatus
from hotline.text import clean_text, mask_contact
from hotline.timeutil import local_text
from tui.dialogs.episode_form import parse_int
from tui.dialogs.prompt import Field, PromptDialog
from tui.dialogs.question_form import QuestionForm, channel_value
from tui.labels import ALL, CHANNEL, QUESTION_STATUS, label
from tui.messages import TableRow
from tui.screens.base import HotlinePane
from tui.widgets.paged_table import PagedTable

STATUS_CYCLE: tuple[str | None, ...] = (None, *(s.value for s in QuestionStatus))
CONTACT_COLUMN = 6


def _episode(text: str) -> int:
    return parse_int(text, what="episode number")


class QuestionsPane(HotlinePane):
    """听众: the question inbox."""

    LABEL = "听众"
    PANE_ID = "questions"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_question", "登记"),
        Binding("v", "screen_question", "审核"),
        Binding("a", "assign", "分配"),
        Binding("w", "answer", "已回答"),
        Binding("f", "refer", "转办"),
        Binding("c", "resolve", "办结"),
        Binding("x", "reject", "拒绝"),
        Binding("u", "duplicate", "标为重复"),
        Binding("m", "reveal", "显示联系方式"),
        Binding("s", "cycle_status", "状态筛选"),
        Binding("slash", "filter", "搜索"),
        Binding("escape", "back_to_table", "返回列表", show=False),
    ]

    def __init__(self, *, key: str = "") -> None:
        super().__init__(key=key)
        self.status: str | None = None
        self.loaded = False
        self.questions: dict[str, QuestionView] = {}
        self.revealed: set[str] = set()
        self.last_hints: list[PossibleDuplicate] = []

    def compose_tab(self) -> ComposeResult:
        with Horizontal(classes="filter-bar"):
            yield Input(placeholder="/ 搜索问题内容", id="questions-filter", classes="filter")
            yield Label(f"状态：{ALL}", id="questions-status", classes="filter-status")
        yield PagedTable(
            [
                ("编号", 6),
                ("收到时间", 16),
                ("渠道", 4),
                ("状态", 6),
                ("期号", 6),
                ("听众", 8),
                ("联系方式", 13),
                ("话题", 8),
                ("问题", None),
            ],
            id="questions-table",
        )
        yield Label("", id="questions-detail", classes="detail", markup=False)

    @property
    def table(self) -> PagedTable:
        return self.query_one("#questions-table", PagedTable)

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

    def contact(self, key: str, contact: str) -> str:
        return contact if key in self.revealed else mask_contact(contact)

    def _source(self):  # noqa: ANN202 - a PagedTable Source
        station, tz = self.station, self.station.tz
        search, status = self.query_one("#questions-filter", Input).value, self.status

        def source(offset: int, limit: int) -> tuple[list[TableRow], int]:
            with station.session() as session:
                page = views.question_page(
                    session=session, status=status, search=search, offset=offset, limit=limit
                )
            rows: list[TableRow] = []
            for v in page.rows:
                q, key = v.question, str(v.question.id)
                self.questions[key] = v
                cells = (
                    q.id,
                    local_text(q.received_at, tz),
                    label(CHANNEL, q.channel),
                    label(QUESTION_STATUS, q.status),
                    v.episode_number or "",
                    q.listener_name,
                    self.contact(key, privacy.shown(q, "listener_contact") or ""),
                    q.topic,
                    " ".join(q.text.split())[:60],
                )
                rows.append((key, cells))
            return rows, page.total

        return source

    def reload(self, select: str | None = None) -> None:
        self.table.reload(select=select)

    @on(Input.Changed, "#questions-filter")
    def _filter_changed(self) -> None:
        self.refilter()

    @on(DataTable.RowHighlighted, "#questions-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(str(event.row_key.value))

    def _show_detail(self, key: str) -> None:
        view = self.questions.get(key)
        detail = self.query_one("#questions-detail", Label)
        if view is None:
            detail.update("")
            return
        q = view.question
        lines = [
            f"#{q.id} {label(QUESTION_STATUS, q.status)}  {q.listener_name} "
            f"{self.contact(key, privacy.shown(q, 'listener_contact') or '')} {q.district}",
            q.text,
        ]
        if view.member is not None:
            at = domain.offset_text(q.answer_offset)
            lines.append(f"回答：{view.member.name}（第{view.episode_number}期 {at or ''}）")
        if q.referral_department:
            lines.append(f"转办：{q.referral_department}")
        if q.duplicate_of:
            lines.append(f"重复于 #{q.duplicate_of}")
        if q.reject_reason:
            lines.append(f"拒绝理由：{q.reject_reason}")
        detail.update("\n".join(lines))

    # ------------------------------------------------------------ actions

    def selected(self) -> QuestionView | None:
        key = self.table.selected_key
        return self.questions.get(key) if key else None

    def action_cycle_status(self) -> None:
        self.status = STATUS_CYCLE[(STATUS_CYCLE.index(self.status) + 1) % len(STATUS_CYCLE)]
        shown = label(QUESTION_STATUS, self.status) if self.status else ALL
        self.query_one("#questions-status", Label).update(f"状态：{shown}")
        self.refilter()

    def action_reveal(self) -> None:
        view = self.selected()
        if view is None:
            return
        key = str(view.question.id)
        self.revealed ^= {key}
        table = self.table
        row = table.get_row_index(key)
        table.update_cell_at(
            (row, CONTACT_COLUMN), self.contact(key, view.question.listener_contact)
        )
        self._show_detail(key)

    def action_new_question(self) -> None:
        station, now = self.station, self.now()

        def hints(text: str) -> list[PossibleDuplicate]:
            with station.session() as session:
                return find_possible_duplicates(session=session, text=text, received_at=now)

        self.app.push_screen(QuestionForm(hints), self._add)

    def _add(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        received = self.now().replace(microsecond=0)  # the desk's clock, as tests set it

        def work(session: Session) -> tuple[str, str]:
            question, hints = domain.add_question(
                session=session,
                text=values["text"],
                channel=channel_value(values["channel"]),
                listener_name=values["name"],
                listener_contact=values["contact"],
                district=values["district"],
                topic=values["topic"],
                received_at=received,
            )
            self.last_hints = list(hints)
            text = f"已登记问题 #{question.id}（{label(CHANNEL, question.channel)}）"
            if hints:
                similar = "、".join(f"#{h.id}" for h in hints)
                text += f"；可能重复：{similar}（按 u 标为重复）"
            return text, str(question.id)

        self.change(work)

    def _move(self, work: Callable[[Session, int], str]) -> None:
        """Apply ``work(session, question id)`` to the question under the cursor."""
        view = self.selected()
        if view is None or view.question.id is None:
            return
        question = view.question.id
        self.change(
            lambda session: f"问题 #{question}：{work(session, question)}", select=str(question)
        )

    def _ask(
        self, title: str, fields: list[Field], work: Callable[[dict[str, str], Session, int], str]
    ) -> None:
        """Ask for the move's details, then apply ``work(values, session, question id)``."""
        if self.selected() is None:
            return

        def then(values: dict[str, str] | None) -> None:
            if values is not None:
                self._move(lambda session, question: work(values, session, question))

        self.app.push_screen(PromptDialog(title, fields), then)

    def action_screen_question(self) -> None:
        def work(session: Session, question: int) -> str:
            domain.screen(session=session, question=question)
            return "已审核"

        self._move(work)

    def action_assign(self) -> None:
        view = self.selected()
        default = str(view.episode_number or "") if view else ""

        def work(values: dict[str, str], session: Session, question: int) -> str:
            number = _episode(values["episode"])
            domain.assign(session=session, question=question, episode=number)
            return f"已分配到第{number}期"

        self._ask("分配到节目", [Field("episode", "期号", default, "1001", _episode)], work)

    def action_answer(self) -> None:
        view = self.selected()
        assigned = str(view.episode_number or "") if view else ""
        fields = [
            Field("member", "回答的委员（编号或姓名）", "", "#42", _required("member")),
            Field(
                "at",
                "节目中的时间（MM:SS，可空）",
                "",
                "12:30",
                _optional(domain.parse_answer_offset),
            ),
            Field("episode", "期号（空 = 已分配的那期）", assigned, "", _optional(_episode)),
        ]

        def work(values: dict[str, str], session: Session, question: int) -> str:
            moved = domain.answer(
                session=session,
                question=question,
                member=values["member"],
                at=values["at"].strip() or None,
                episode=_episode(values["episode"]) if values["episode"].strip() else None,
            )
            when = domain.offset_text(moved.answer_offset)
            return "已回答" + (f"（{when}）" if when else "")

        self._ask("记录回答", fields, work)

    def action_refer(self) -> None:
        def work(values: dict[str, str], session: Session, question: int) -> str:
            moved = domain.refer(session=session, question=question, department=values["to"])
            return f"已转办 {moved.referral_department}"

        check = _required("referral department", 100)
        self._ask("转办", [Field("to", "转办部门", "", "区住建局", check)], work)

    def action_resolve(self) -> None:
        def work(session: Session, question: int) -> str:
            domain.resolve(session=session, question=question)
            return "已办结"

        self._move(work)

    def action_reject(self) -> None:
        def work(values: dict[str, str], session: Session, question: int) -> str:
            domain.reject(session=session, question=question, reason=values["reason"])
            return "已拒绝"

        check = _required("reject reason", 200)
        self._ask("拒绝", [Field("reason", "理由", "", "与节目无关", check)], work)

    def action_duplicate(self) -> None:
        view = self.selected()
        # Propose the question the intake form hinted at, if it is not this one.
        hint = next((h for h in self.last_hints if view and h.id != view.question.id), None)

        def work(values: dict[str, str], session: Session, question: int) -> str:
            original = _question_id(values["of"])
            domain.mark_duplicate(session=session, question=question, of=original)
            return f"标为 #{original} 的重复"

        default = str(hint.id) if hint else ""
        field = Field("of", "重复于问题编号", default, "", _question_id)
        self._ask("标为重复", [field], work)


def _question_id(text: str) -> int:
    return parse_int(text, what="question id")


def _required(field: str, max_length: int = 100) -> Callable[[str], str]:
    """A check that refuses a blank value the way the domain does."""
    return lambda text: clean_text(text, field=field, max_length=max_length, required=True)


def _optional(check: Callable[[str], object]) -> Callable[[str], object]:
    """``check``, except that a blank value is accepted (the domain's default applies)."""
    return lambda text: check(text) if text.strip() else None
