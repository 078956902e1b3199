"""The 直播台 tab: the show clock and the caller queue during the live broadcast.

Opens on today's episode (else the next to air). ``s`` starts the show clock, shown as a
running HH:MM:SS; ``n`` adds a caller (name, district, one-line summary); ``v`` screens,
``o`` puts on air — the offset is taken from the show clock *at the key press*, before
the answering member is chosen — ``d`` ends the call and ``x`` drops it. Every action is
one domain call in its own transaction, so the desk survives a crash of the app.
Each call key is offered only for a call in a state it applies to (``o`` only for a
screened call, once the clock runs); a move the domain wants approved (starting the
clock outside the slot, say) is asked about and repeated on yes.
The clock is the app's (``make_app(station, clock=…)``), so tests control it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import DataTable, Label

from episodes import live_desk as desk
from episodes.questions import offset_text
from hotline.models import CallStatus
from hotline.timeutil import format_offset, local_text
from tui.changes import confirmed, in_field
from tui.dialogs.episode_form import parse_int
from tui.dialogs.member_picker import MemberPicker
from tui.dialogs.prompt import Field, PromptDialog
from tui.keys import Key
from tui.labels import CALL_STATUS, label
from tui.screens.base import HotlinePane
from tui.widgets.data_label import DataLabel
from tui.widgets.desk_table import Col, DeskTable

TICK_SECONDS = 0.5
"""How often the clock label is redrawn (twice a second, so it never skips a second)."""
C = CallStatus
# action → (the status it moves the call to, what it is called at the desk)
CALL_MOVES: dict[str, tuple[CallStatus, str]] = {
    "screen_call": (C.screened, "审核"),
    "on_air": (C.on_air, "上直播"),
    "finish_call": (C.done, "结束通话"),
    "drop_call": (C.dropped, "放弃"),
}


class LiveDeskPane(HotlinePane):
    """直播台: the live desk."""

    LABEL = "直播台"
    PANE_ID = "live"
    TABLES = frozenset({"call", "showclock", "question", "booking", "episode", "member"})
    BINDINGS: ClassVar[list[BindingType]] = [
        Key(
            "s",
            "start_clock",
            "开始计时",
            doc="start the show clock for the episode on the desk (again: asks first)",
        ),
        Key(
            "n",
            "add_caller",
            "登记来电",
            doc="log a caller: name, district, one-line summary (waiting)",
        ),
        Key("v", "screen_call", "审核", doc="screen the caller under the cursor (审核)"),
        Key(
            "o",
            "on_air",
            "上直播",
            doc="on air: stamps the show-clock offset and records the question",
        ),
        Key("d", "finish_call", "结束通话", doc="end the call / drop the caller"),
        Key("x", "drop_call", "放弃", doc="end the call / drop the caller"),
        Key(
            "e",
            "choose_episode",
            "选择期号",
            doc="choose the episode on the desk (default: today's)",
        ),
    ]

    def __init__(self, *, key: str = "") -> None:
        super().__init__(key=key)
        self.episode: int | None = None
        self.state: desk.DeskState | None = None
        self.loaded = False

    def compose_tab(self) -> ComposeResult:
        with Horizontal(classes="live-bar"):
            yield DataLabel("", id="live-episode")
            yield DataLabel("--:--:--", id="live-clock")
        yield DeskTable(
            [
                Col("编号", keep=True),
                Col("状态", keep=True),
                Col("来电人"),
                Col("区县"),
                Col("上直播", keep=True),
                Col("回答委员"),
                Col("问题摘要"),
            ],
            id="live-table",
        )
        yield DataLabel("", id="live-detail", classes="detail")

    def tab_built(self) -> None:
        self.set_interval(TICK_SECONDS, self.tick)

    @property
    def table(self) -> DeskTable:
        return self.query_one("#live-table", DeskTable)

    # ------------------------------------------------------------ loading and the clock

    def main_widget(self) -> Widget:
        return self.table

    def activated(self) -> None:
        self.table.focus()
        if not self.loaded:
            self.loaded = True
            self.reload()

    def reload(self, select: str | None = None, *, episode: int | None = None) -> None:
        """Read the desk again (for ``episode``, else the one shown, else today's)."""
        station, chosen, now = self.station, episode or self.episode, self.now()

        def read(session: Session) -> desk.DeskState | None:
            number = chosen or desk.desk_episode(session=session, tz=station.tz, now=now)
            return None if number is None else desk.desk_state(session=session, episode=number)

        self.read(read, lambda state: self.show(state, select))

    def show(self, state: desk.DeskState | None, select: str | None = None) -> None:
        self.state = state
        table = self.table
        if state is None:
            table.clear()
            self.query_one("#live-episode", Label).update("还没有节目：先在 排期 里新建")
            self.state_changed()
            return
        self.episode = state.number
        started = local_text(state.started_at, self.station.tz, "%H:%M:%S")
        when = f"计时开始于 {started}" if started else "未开始计时（按 s）"
        self.query_one("#live-episode", Label).update(f"第{state.number}期 {state.title}  {when}")
        rows = [
            (
                str(view.call.id),
                (
                    str(view.call.id),
                    label(CALL_STATUS, view.call.status),
                    view.call.caller_name,
                    view.call.district,
                    offset_text(view.call.on_air_offset) or "",
                    view.member_name,
                    view.call.summary,
                ),
            )
            for view in state.calls
        ]
        table.show_rows(rows, select)  # read again: changed cells only, the cursor stays
        self.tick()
        self.hotline.show_count(self.count_text(), pane=self)
        self.state_changed()

    def tick(self) -> None:
        """Redraw the show clock from the app's clock."""
        if not self.display:
            return  # a hidden tab's clock need not be drawn; it is redrawn when shown
        started = self.state.started_at if self.state else None
        text = "--:--:--" if started is None else format_offset(offset_since(started, self.now()))
        clock = self.query_one("#live-clock", Label)
        if str(clock.content) != text:
            clock.update(text, layout=False)  # a fixed width: no need to lay out again

    def count_text(self) -> str:
        if self.state is None:
            return ""
        waiting = sum(1 for v in self.state.calls if v.call.status in ("waiting", "screened"))
        return f"等候 {waiting} / 共 {len(self.state.calls)} 通"

    @on(DataTable.RowHighlighted, "#live-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        view = self.view(str(event.row_key.value))
        text = ""
        if view is not None:
            call = view.call
            text = (
                f"#{call.id} {label(CALL_STATUS, call.status)} {call.caller_name} "
                f"{call.district}：{call.summary}"
            )
            if view.member_name:
                text += f"\n回答：{view.member_name} {offset_text(call.on_air_offset) or ''}"
            if call.question_id:
                text += f"\n已记为听众问题 #{call.question_id}"
        self.query_one("#live-detail", Label).update(text)

    # ------------------------------------------------------------ actions

    def selected_key(self) -> str | None:
        return self.table.selected_key

    def view(self, key: str | None) -> desk.CallView | None:
        if key is None or self.state is None:
            return None
        return next((v for v in self.state.calls if str(v.call.id) == key), None)

    def history_subject(self) -> tuple[str, int] | str:
        """The desk's history key (h): the question the call under the cursor became."""
        if self.state is None:
            return "直播台上还没有节目：按 e 选择期号"
        view = self.view(self.selected_key())
        if view is None:
            return "直播台上没有选中的来电"
        call = view.call
        if not call.question_id:
            return f"来电 #{call.id} 还没有上直播，尚未记为听众问题，没有修改记录"
        return ("question", call.question_id)

    def why_not(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        if action in ("start_clock", "add_caller") and self.state is None:
            return "直播台上还没有节目：按 e 选择期号"
        if action not in CALL_MOVES:
            return None
        view = self.view(self.selected_key())
        if view is None:
            return "没有选中的来电"
        target, name = CALL_MOVES[action]
        status = CallStatus(view.call.status)
        if target not in desk.LIFECYCLE[status]:
            return f"来电 #{view.call.id} {label(CALL_STATUS, status)}，不能{name}"
        if action == "on_air" and self.state is not None and self.state.started_at is None:
            return f"第{self.state.number}期还没开始计时：先按 s 开始计时"
        return None

    def action_start_clock(self) -> None:
        if self.state is None:
            return
        number, now = self.state.number, self.now()
        station = self.station

        def start(restart: bool) -> None:
            def work(session: Session, *, confirm: bool = False) -> str:
                desk.start_clock(
                    session=session,
                    tz=station.tz,
                    episode=number,
                    restart=restart,
                    now=now,
                    **confirmed(confirm),
                )
                again = "重新" if restart else ""
                return f"第{number}期{again}开始计时 {local_text(now, station.tz, '%H:%M:%S')}"

            self.change(work)

        if self.state.started_at is None:
            start(False)
            return
        started = local_text(self.state.started_at, station.tz, "%H:%M:%S")
        question = (
            f"第{number}期的计时已在 {started} 开始。现在重新开始计时？"
            "之后上直播的时间点从现在算起；已上直播的时间点不变。"
        )
        self.confirm(question, lambda: start(True), yes="重新计时")

    def action_add_caller(self) -> None:
        if self.state is None:
            return
        number = self.state.number
        fields = [
            Field("name", "来电人", "", "王女士", desk.check_name, ("name",)),
            Field("district", "区县", "", "海淀区", desk.check_district, ("district",)),
            Field(
                "summary",
                "问题摘要（一句话）",
                "",
                "加装电梯一楼不同意",
                desk.check_summary,
                ("summary",),
            ),
        ]

        def add(form: PromptDialog, values: dict[str, str]) -> None:
            def work(session: Session, *, confirm: bool = False) -> tuple[str, str]:
                call = desk.add_caller(
                    session=session,
                    episode=number,
                    name=values["name"],
                    district=values["district"],
                    summary=values["summary"],
                    **confirmed(confirm),
                )
                return f"来电 #{call.id} {call.caller_name} 已登记（等候）", str(call.id)

            self.change(work, form=form)

        title = f"第{number}期 来电登记"
        self.app.push_screen(PromptDialog(title, fields, submit_label="登记", on_save=add))

    def _move(self, work: Callable[[Session, int], str]) -> None:
        key = self.selected_key()
        if key is None:
            return
        call = int(key)
        self.change(lambda session: f"来电 #{call}：{work(session, call)}", select=key)

    def action_screen_call(self) -> None:
        self._move(lambda s, c: desk.screen_caller(session=s, call=c) and "已审核")

    def action_finish_call(self) -> None:
        self._move(lambda s, c: desk.finish_call(session=s, call=c) and "通话结束")

    def action_drop_call(self) -> None:
        self._move(lambda s, c: desk.drop_call(session=s, call=c) and "已放弃")

    def action_on_air(self) -> None:
        key = self.selected_key()
        view = self.view(key)
        if view is None or self.state is None:
            return
        at = self.now()  # the moment of the key press, not of choosing the member
        caller = view.call.caller_name

        def on_air(picker: MemberPicker, member: str) -> None:
            def work(session: Session, call: int, confirm: bool = False) -> str:
                with in_field("member"):
                    done = desk.put_on_air(
                        session=session,
                        call=call,
                        member=member or None,
                        now=at,
                        **confirmed(confirm),
                    )
                offset = offset_text(done.on_air_offset)
                return f"{caller} 上直播 {offset}，已记为问题 #{done.question_id}"

            def run(session: Session, *, confirm: bool = False) -> tuple[str, str]:
                assert key is not None
                return f"来电 #{key}：{work(session, int(key), confirm)}", key

            self.change(run, select=key, form=picker)

        title = f"来电 #{view.call.id} {caller}：谁来回答？"
        self.app.push_screen(MemberPicker(title, self.state.guests, on_pick=on_air))

    def action_choose_episode(self) -> None:
        current = str(self.episode or "")

        def chosen(form: PromptDialog, values: dict[str, str]) -> None:
            number = parse_int(values["episode"], what="episode number")

            def read(session: Session) -> desk.DeskState:
                with in_field("episode"):
                    return desk.desk_state(session=session, episode=number)

            def show(state: desk.DeskState) -> None:
                form.saved()
                self.show(state)
                self.hotline.report(f"直播台：第{state.number}期《{state.title}》")

            self.read(read, show, form=form)

        check = lambda t: parse_int(t, what="episode number")  # noqa: E731
        field = Field("episode", "期号", current, "1000", check, ("episode",))
        dialog = PromptDialog("直播台：选择期号", [field], submit_label="选择", on_save=chosen)
        self.app.push_screen(dialog)


def offset_since(started: datetime, now: datetime) -> float:
    """Seconds on the show clock (never negative)."""
    return max((now - started).total_seconds(), 0.0)
