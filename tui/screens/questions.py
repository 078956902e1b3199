"""The 听众 tab: the listener-question inbox, newest first, by status.

``n`` logs a question in one form and shows the open questions it may repeat; the
lifecycle moves (screen, assign, answer, refer, resolve, reject, duplicate) and the
call-back (回访) are one key each, offered only when the question's status allows them (a
key pressed anyway says why, before any form). Referring asks for a known department
(naming the near ones as you type) and an optional due date. The final moves say what
they close first: resolve asks (a referral closed before its reply and call-back asks
why), reject and duplicate name it in their form. Listener contacts are masked
(138****5678) unless revealed, on purpose, for the question under the cursor with ``m``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.widgets import Input, Label

from episodes import lookup, referrals, views
from episodes import questions as domain
from episodes.departments import get_department
from episodes.duplicates import PossibleDuplicate, find_possible_duplicates
from episodes.questions import QuestionView
from hotline import privacy
from hotline.models import QuestionStatus
from hotline.text import mask_contact
from hotline.timeutil import local_text, parse_date
from tui.changes import describe, in_field
from tui.dialogs.episode_form import parse_int
from tui.dialogs.prompt import Field, PromptDialog, required
from tui.dialogs.question_form import QuestionForm, channel_value
from tui.keys import Key
from tui.labels import ALL, CALLBACK_OUTCOME, CHANNEL, QUESTION_STATUS, label
from tui.messages import TableRow
from tui.screens.base import HotlinePane
from tui.screens.referrals import outcome_value
from tui.widgets.data_label import DataLabel
from tui.widgets.desk_input import DeskInput
from tui.widgets.desk_table import Col
from tui.widgets.paged_table import PagedTable

STATUS_CYCLE: tuple[str | None, ...] = (None, *(s.value for s in QuestionStatus))
CONTACT_COLUMN = 6
Q = QuestionStatus
# action → (the status it moves the question to, what it is called at the desk)
QUESTION_FLOOR = 20
"""Cells the question's text keeps at any width (ten characters of Chinese)."""
REVEAL_DOC = "reveal / hide the listener's contact for this question"
MOVES: dict[str, tuple[QuestionStatus, str]] = {
    "screen_question": (Q.screened, "审核"),
    "assign": (Q.assigned, "分配"),
    "answer": (Q.answered, "记录回答"),
    "refer": (Q.referred, "转办"),
    "resolve": (Q.resolved, "办结"),
    "reject": (Q.rejected, "拒绝"),
    "duplicate": (Q.duplicate, "标为重复"),
}


class QuestionsPane(HotlinePane):
    """听众: the question inbox."""

    LABEL = "听众"
    PANE_ID = "questions"
    TABLES = frozenset({"question", "referral", "callback", "episode", "member"})
    BINDINGS: ClassVar[list[BindingType]] = [
        Key(
            "n",
            "new_question",
            "登记",
            doc="log a question (shows possible duplicates as you type)",
        ),
        Key("v", "screen_question", "审核", doc="screen (审核)"),
        Key("a", "assign", "分配", doc="assign to an episode"),
        Key("w", "answer", "已回答", doc="answered: member, time into the show (MM:SS), episode"),
        Key(
            "f",
            "refer",
            "转办",
            doc="refer (转办) to a department (near names as you type) and a due date",
        ),
        Key(
            "c",
            "resolve",
            "办结",
            doc="resolve (办结; asks first; closing a referral early asks why)",
        ),
        Key(
            "b",
            "callback",
            "回访",
            doc="call the listener back (回访): satisfied, partly, unsatisfied, unreachable",
        ),
        Key("x", "reject", "拒绝", doc="reject, with a reason (the form says it is final)"),
        Key(
            "u",
            "duplicate",
            "标为重复",
            doc="mark duplicate of another question (the form says it is final)",
        ),
        # One key, two bindings: the footer names the one the row allows (show or hide).
        Key("m", "reveal", "显示联系方式", doc=REVEAL_DOC),
        Key("m", "conceal", "隐藏联系方式", doc=REVEAL_DOC),
        Key("s", "cycle_status", "按状态", doc="cycle the status filter"),
        Key("slash", "filter", "搜索", doc="search the question text"),
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
        self.status: str | None = None
        self.loaded = False
        self.questions: dict[str, QuestionView] = {}
        self.revealed: set[str] = set()
        self.last_hints: list[PossibleDuplicate] = []

    def compose_tab(self) -> ComposeResult:
        with Horizontal(classes="filter-bar"):
            yield DeskInput(placeholder="/ 搜索问题内容", id="questions-filter", classes="filter")
            yield Label(f"状态：{ALL}", id="questions-status", classes="filter-status")
        yield PagedTable(
            [
                Col("编号", keep=True),
                Col("收到时间", keep=True),
                Col("渠道", keep=True),
                Col("状态", keep=True, floor=6),
                Col("期号", keep=True),
                Col("听众", floor=6),
                Col("联系方式"),
                Col("话题"),
                Col("问题", floor=QUESTION_FLOOR),
            ],
            id="questions-table",
        )
        yield DataLabel("", id="questions-detail", classes="detail")

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
                    " ".join(q.text.split())[:200],  # the detail line shows all of it
                )
                rows.append((key, cells))
            return rows, page.total

        return source

    def reload(self, select: str | None = None) -> None:
        self.table.reload(select=select)

    @on(Input.Changed, "#questions-filter")
    def _filter_changed(self) -> None:
        self.refilter()

    def state_changed(self) -> None:
        # The cursor moved, or the rows were read again (a change updates the row under
        # the cursor in place): the detail follows the row either way.
        super().state_changed()
        self._show_detail(self.table.selected_key)

    def _show_detail(self, key: str | None) -> None:
        view = self.questions.get(key) if key else None
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

    def why_not(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        if action not in MOVES and action not in ("reveal", "conceal", "callback"):
            return None
        view = self.selected()
        if view is None:
            return "没有选中的问题"
        if action in ("reveal", "conceal"):
            shown = str(view.question.id) in self.revealed
            if shown == (action == "reveal"):
                return "联系方式已显示" if shown else "联系方式已隐藏"
            return None
        if action == "callback":  # the rule ``domain.callback`` itself refuses by
            refusal = domain.callback_refusal(
                question=view.question.id or 0,
                status=view.question.status,
                answered=view.question.member_id is not None,
                referral=view.referral,
            )
            return None if refusal is None else describe(refusal)
        target, name = MOVES[action]
        status = QuestionStatus(view.question.status)
        if target in domain.LIFECYCLE[status]:
            return None
        shown = f"问题 #{view.question.id} {label(QUESTION_STATUS, status)}"
        allowed = "、".join(MOVE_NAMES[t] for t in domain.LIFECYCLE[status] if t in MOVE_NAMES)
        then = f"（现在可以：{allowed}）" if allowed else "（已结束，不能再处理）"
        return f"{shown}，不能{name}{then}"

    def action_cycle_status(self) -> None:
        self.status = STATUS_CYCLE[(STATUS_CYCLE.index(self.status) + 1) % len(STATUS_CYCLE)]
        shown = label(QUESTION_STATUS, self.status) if self.status else ALL
        self.query_one("#questions-status", Label).update(f"状态：{shown}")
        self.hotline.report(f"听众：只看{shown}" if self.status else "听众：显示全部状态")
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
        shown = "显示" if key in self.revealed else "隐藏"
        self.hotline.report(f"问题 #{key}：已{shown}听众联系方式")
        self.state_changed()  # the footer now offers the other one

    def action_conceal(self) -> None:
        self.action_reveal()  # (the same toggle: ``why_not`` lets one of them through)

    def action_new_question(self) -> None:
        station, now = self.station, self.now()

        def hints(text: str) -> list[PossibleDuplicate]:
            with station.session() as session:
                return find_possible_duplicates(session=session, text=text, received_at=now)

        self.app.push_screen(QuestionForm(hints, on_save=self._add))

    def _add(self, form: PromptDialog, values: dict[str, str]) -> None:
        received = self.now().replace(microsecond=0)  # the desk's clock, as tests set it

        def work(session: Session) -> tuple[str, str]:
            with in_field("channel"):
                channel = channel_value(values["channel"])
            question, hints = domain.add_question(
                session=session,
                text=values["text"],
                channel=channel,
                listener_name=values["name"],
                listener_contact=values["contact"],
                district=values["district"],
                topic=values["topic"],
                public_title=values["public_title"],
                received_at=received,
            )
            self.last_hints = list(hints)
            text = f"已登记问题 #{question.id}（{label(CHANNEL, question.channel)}）"
            if hints:
                similar = "、".join(f"#{h.id}" for h in hints)
                text += f"；可能重复：{similar}（按 u 标为重复）"
            return text, str(question.id)

        self.change(work, form=form)

    def _move(
        self,
        work: Callable[[Session, int], str],
        *,
        question: int | None = None,
        form: PromptDialog | None = None,
    ) -> None:
        """Apply ``work(session, question id)`` to ``question`` (default: the one under the
        cursor; a dialog passes the one it was opened on)."""
        if question is None:
            view = self.selected()
            if view is None or view.question.id is None:
                return
            question = view.question.id
        self.change(
            lambda session: f"问题 #{question}：{work(session, question)}",
            select=str(question),
            form=form,
        )

    def _ask(
        self,
        title: str,
        fields: list[Field],
        work: Callable[[dict[str, str], Session, int], str],
        *,
        submit: str = "确定",
        warning: str = "",
    ) -> None:
        """Ask for the move's details, then apply ``work(values, session, question id)``."""
        view = self.selected()
        if view is None:
            return
        question = view.question.id

        def save(form: PromptDialog, values: dict[str, str]) -> None:
            self._move(lambda session, q: work(values, session, q), question=question, form=form)

        summary = _summary(view)
        dialog = PromptDialog(
            f"{title}：问题 #{question} {summary}",
            fields,
            submit_label=submit,
            warning=warning,
            on_save=save,
        )
        self.app.push_screen(dialog)

    def action_screen_question(self) -> None:
        def work(session: Session, question: int) -> str:
            domain.screen(session=session, question=question)
            return "已审核"

        self._move(work)

    def action_assign(self) -> None:
        view = self.selected()
        default = str(view.episode_number or "") if view else ""

        def work(values: dict[str, str], session: Session, question: int) -> str:
            with in_field("episode"):
                number = _episode(values["episode"])
                lookup.get_episode(session, number)
            domain.assign(session=session, question=question, episode=number)
            return f"已分配到第{number}期"

        field = Field("episode", "期号", default, "1001", _episode, ("episode",))
        self._ask("分配到节目", [field], work, submit="分配")

    def action_answer(self) -> None:
        view = self.selected()
        assigned = str(view.episode_number or "") if view else ""
        fields = [
            Field(
                "member",
                "回答的委员（编号或姓名）",
                "",
                "#42",
                required("member"),
                ("member",),
            ),
            Field(
                "at",
                "节目中的时间（MM:SS，可空）",
                "",
                "12:30",
                _optional(domain.parse_answer_offset),
                ("answer time",),
            ),
            Field(
                "episode",
                "期号（空 = 已分配的那期）",
                assigned,
                "",
                _optional(_episode),
                ("episode",),
            ),
        ]

        def work(values: dict[str, str], session: Session, question: int) -> str:
            with in_field("member"):
                member = lookup.get_member(session, values["member"].strip())
            with in_field("episode"):
                number = _episode(values["episode"]) if values["episode"].strip() else None
                if number is not None:
                    lookup.get_episode(session, number)
            moved = domain.answer(
                session=session,
                question=question,
                member=member.id or 0,
                at=values["at"].strip() or None,
                episode=number,
            )
            when = domain.offset_text(moved.answer_offset)
            return f"{member.name} 已回答" + (f"（{when}）" if when else "")

        self._ask("记录回答", fields, work, submit="记录")

    def action_refer(self) -> None:
        station = self.station
        settings = station.settings

        def known(text: str) -> str:
            # As the producer types: a miss names the near departments.
            with station.session() as session:
                return get_department(session, text).name

        def due(text: str) -> object:
            return parse_date(text, field="due date") if text.strip() else None

        def work(values: dict[str, str], session: Session, question: int) -> str:
            opened = domain.refer(
                session=session,
                settings=settings,
                question=question,
                department=values["to"],
                due=values["due"].strip() or None,
                now=self.now(),
            )
            due_day = referrals.due_day(opened.referral.due_at, station.tz)
            text = f"已转办 {opened.department.name}，{due_day} 前答复"
            return f"{text}（{opened.warning_zh}）" if opened.warning_zh else text

        days = settings.referrals.working_days
        fields = [
            Field("to", "转办部门（名称或编号）", "", "市民政局", known, ("department",)),
            Field(
                "due",
                f"答复期限（YYYY-MM-DD，空 = {days} 个工作日）",
                "",
                "",
                due,
                ("due date", "due"),
            ),
        ]
        self._ask("转办", fields, work, submit="转办")

    def action_resolve(self) -> None:
        view = self.selected()
        if view is None:
            return
        if view.question.status == QuestionStatus.referred:
            # Closed by a call-back after the department's reply; before that, say why.
            def early(values: dict[str, str], session: Session, question: int) -> str:
                domain.resolve(session=session, question=question, reason=values["reason"])
                return "已办结"

            check = required("reason", 200)
            field = Field(
                "reason",
                "提前办结的理由（尚未答复或回访）",
                "",
                "听众来电告知已解决",
                check,
                ("reason",),
            )
            self._ask(
                "办结",
                [field],
                early,
                submit="办结",
                warning="办结后这个问题就结束了，不能再分配、回答或转办。",
            )
            return
        question = (
            f"办结问题 #{view.question.id}（{_summary(view)}）？"
            "办结后这个问题就结束了，不能再分配、回答或转办。"
        )

        def work(session: Session, question: int) -> str:
            domain.resolve(session=session, question=question)
            return "已办结"

        question_id = view.question.id
        self.confirm(question, lambda: self._move(work, question=question_id), yes="办结")

    def action_callback(self) -> None:
        def work(values: dict[str, str], session: Session, question: int) -> str:
            done = domain.callback(
                session=session,
                question=question,
                outcome=outcome_value(values["outcome"]),
                note=values["note"],
                now=self.now(),
            )
            shown = label(CALLBACK_OUTCOME, done.callback.outcome)
            return f"已回访（{shown}）" + ("，已办结" if done.closed else "")

        outcomes = "、".join(CALLBACK_OUTCOME.values())
        fields = [
            Field(
                "outcome", f"回访结果（{outcomes}）", "满意", "满意", outcome_value, ("outcome",)
            ),
            Field("note", "回访记录（可空）", "", "听众表示满意", None),
        ]
        self._ask("回访听众", fields, work, submit="回访")

    def action_reject(self) -> None:
        def work(values: dict[str, str], session: Session, question: int) -> str:
            domain.reject(session=session, question=question, reason=values["reason"])
            return f"已拒绝（{values['reason'].strip()}）"

        check = required("reject reason", 200)
        field = Field("reason", "理由", "", "与节目无关", check, ("reason",))
        warning = "拒绝后这个问题就结束了：不能再审核、分配或回答。"
        self._ask("拒绝", [field], work, submit="拒绝", warning=warning)

    def action_duplicate(self) -> None:
        view = self.selected()
        # Propose the question the intake form hinted at, if it is not this one.
        hint = next((h for h in self.last_hints if view and h.id != view.question.id), None)

        def work(values: dict[str, str], session: Session, question: int) -> str:
            with in_field("of"):
                original = _question_id(values["of"])
                lookup.get_question(session, original)
            domain.mark_duplicate(session=session, question=question, of=original)
            return f"标为 #{original} 的重复"

        default = str(hint.id) if hint else ""
        field = Field("of", "重复于问题编号", default, "", _question_id, ("original", "duplicate"))
        warning = "标为重复后这个问题就结束了，由原问题代为处理，不能再改。"
        self._ask("标为重复", [field], work, submit="标为重复", warning=warning)


MOVE_NAMES = {target: name for target, name in MOVES.values()}


def _summary(view: QuestionView) -> str:
    """The question's text, short, for a dialog's title (the detail line shows it all)."""
    text = " ".join(view.question.text.split())
    return text if len(text) <= 24 else text[:23] + "…"


def _episode(text: str) -> int:
    return parse_int(text, what="episode number")


def _question_id(text: str) -> int:
    return parse_int(text, what="question id")


def _optional(check: Callable[[str], object]) -> Callable[[str], object]:
    """``check``, except that a blank value is accepted (the domain's default applies)."""
    return lambda text: check(text) if text.strip() else None
