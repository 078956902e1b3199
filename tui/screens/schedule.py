"""The 排期 tab: every episode, newest number first, opening on the next one to air.

Filter by title/topic text and by status, jump to an episode number, add or edit an
episode in a form that checks as you type, generate the next K weekly episodes, cancel
(after saying what it cancels) or reschedule. Each change is one domain call in one
transaction, in a worker; its form stays open until it is done. Cancel and reschedule
are offered only for an episode that can still be cancelled or moved.

A published episode can be withdrawn from every feed (``w``: a reason, then the domain's
question naming the feeds and public files that go) and a withdrawn one reinstated with
its guid (``u``: the question names what comes back); each is one publish
(``feeds.withdraw``), run in a worker like any change.
"""

from __future__ import annotations

from typing import ClassVar

from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Label

from episodes import schedule, views
from episodes.lifecycle import TRANSITIONS
from episodes.listing import EpisodeView
from episodes.withdrawal import withdrawal_reason
from hotline.models import EpisodeStatus
from hotline.timeutil import local_text
from tui.changes import confirmed, in_field
from tui.dialogs.episode_form import EpisodeForm, parse_int, split_hosts
from tui.dialogs.prompt import Field, PromptDialog
from tui.keys import Key
from tui.labels import ALL, BOOKING_STATUS, EPISODE_STATUS, ROLE, label
from tui.messages import TableRow
from tui.screens.base import HotlinePane
from tui.widgets.data_label import DataLabel
from tui.widgets.desk_input import DeskInput
from tui.widgets.desk_table import Col
from tui.widgets.paged_table import PagedTable

STATUS_CYCLE: tuple[str | None, ...] = (None, *(s.value for s in EpisodeStatus))


class SchedulePane(HotlinePane):
    """排期: the schedule."""

    LABEL = "排期"
    PANE_ID = "schedule"
    TABLES = frozenset({"episode", "booking", "member"})
    BINDINGS: ClassVar[list[BindingType]] = [
        Key(
            "n",
            "new_episode",
            "新建",
            doc="new episode (the form checks as you type; it stays open until saved)",
        ),
        Key(
            "e",
            "edit_episode",
            "编辑",
            doc="edit title, topic, hosts, air time, length, description",
        ),
        Key(
            "c",
            "cancel_episode",
            "取消节目",
            doc="cancel the episode (asks first, naming the guests whose invitations go with it)",
        ),
        Key("r", "reschedule", "改期", doc="reschedule (new air time)"),
        Key(
            "w",
            "withdraw_episode",
            "撤下",
            doc="withdraw a published episode from every feed and public/ "
            "(asks for a reason, then names the feeds and files that go)",
        ),
        Key(
            "u",
            "reinstate_episode",
            "恢复上线",
            doc="reinstate a withdrawn episode with its guid (asks first, naming what comes back)",
        ),
        Key("colon", "goto", "跳到期号", key_display=":", doc="jump to an episode number"),
        Key("t", "generate", "续排几期", doc="generate the next K weekly episodes"),
        Key("s", "cycle_status", "按状态", doc="cycle the status filter"),
        Key(
            "slash",
            "filter",
            "筛选",
            doc="filter by title or topic (type; Enter or Esc returns to the table)",
        ),
        Key(
            "escape",
            "back_to_table",
            "返回列表",
            show=False,
            doc="from the filter back to the table",
        ),
    ]

    def __init__(self, *, key: str = "") -> None:
        super().__init__(key=key)
        self.status: str | None = None
        self.loaded = False
        self.views: dict[str, EpisodeView] = {}

    def compose_tab(self) -> ComposeResult:
        with Horizontal(classes="filter-bar"):
            yield DeskInput(
                placeholder="/ 按标题或话题筛选", id="schedule-filter", classes="filter"
            )
            yield Label(f"状态：{ALL}", id="schedule-status", classes="filter-status")
        yield PagedTable(
            [
                Col("期号", keep=True),
                Col("播出时间", keep=True),
                Col("状态", keep=True),
                Col("标题"),
                Col("嘉宾"),
            ],
            id="schedule-table",
        )
        yield DataLabel("", id="schedule-detail", classes="detail")

    @property
    def table(self) -> PagedTable:
        return self.query_one(PagedTable)

    @property
    def filter_text(self) -> str:
        return self.query_one("#schedule-filter", Input).value

    # ------------------------------------------------------------ loading

    def activated(self) -> None:
        if not self.loaded:
            self.loaded = True
            self.read(self._first_position, self._open_at)

    def _first_position(self, session: Session) -> tuple[int, str | None]:
        number = views.next_upcoming(session=session, now=self.now())
        if number is None:
            return 0, None
        return views.episode_position(session=session, number=number) or 0, str(number)

    def _open_at(self, found: tuple[int, str | None]) -> None:
        index, key = found
        self.table.load(self._source(), at_least=index, select=key)

    def _source(self):  # noqa: ANN202 - a PagedTable Source
        station, text, status, tz = self.station, self.filter_text, self.status, self.station.tz

        def source(offset: int, limit: int) -> tuple[list[TableRow], int]:
            with station.session() as session:
                page = views.episode_page(
                    session=session, text=text, status=status, offset=offset, limit=limit
                )
            rows: list[TableRow] = []
            for v in page.rows:
                self.views[str(v.number)] = v
                guests = "、".join(g.name for g in v.guests)
                when = local_text(v.air_start, tz)
                rows.append(
                    (
                        str(v.number),
                        (v.number, when, label(EPISODE_STATUS, v.shown_status), v.title, guests),
                    )
                )
            return rows, page.total

        return source

    def reload(self, select: str | None = None) -> None:
        self.table.reload(select=select)

    def refilter(self) -> None:
        self.loaded = True
        self.table.load(self._source(), select=self.table.selected_key)

    @on(Input.Changed, "#schedule-filter")
    def _filter_changed(self) -> None:
        self.refilter()

    def state_changed(self) -> None:
        # The cursor moved, or the rows were read again (a withdrawal changes the row under
        # the cursor in place): the detail follows the row either way.
        super().state_changed()
        self._show_detail(self.table.selected_key)

    def _show_detail(self, key: str | None) -> None:
        view = self.views.get(key) if key else None
        detail = self.query_one("#schedule-detail", Label)
        if view is None:
            detail.update("")
            return
        when = local_text(view.air_start, self.station.tz)
        shown = label(EPISODE_STATUS, view.shown_status)  # as the row says it
        parts = [
            f"第{view.number}期 {when} {shown}  {view.title}",
            f"{view.duration_minutes}分钟  主持：{'、'.join(view.hosts or [])}",
        ]
        if view.guests:
            guests = "、".join(
                f"{g.name}（{label(ROLE, g.role)}，{label(BOOKING_STATUS, g.status)}）"
                for g in view.guests
            )
            parts.append(f"嘉宾：{guests}")
        if view.topic:
            parts.append(f"话题：{view.topic}")
        if view.description:
            parts.append(f"简介：{view.description}")
        if view.withdrawn_at is not None:
            when = local_text(view.withdrawn_at, self.station.tz)
            parts.append(f"{when} 已从所有订阅源撤下：{view.withdrawal_reason}（u 恢复上线）")
        detail.update("\n".join(parts))

    @on(DataTable.RowSelected, "#schedule-table")
    def _selected(self) -> None:
        self.action_edit_episode()

    # ------------------------------------------------------------ actions

    def selected(self) -> EpisodeView | None:
        key = self.table.selected_key
        return self.views.get(key) if key else None

    def why_not(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        if action not in LISTING_ACTIONS + ("edit_episode", "cancel_episode", "reschedule"):
            return None
        view = self.selected()
        if view is None:
            return "没有选中的节目"
        if action in LISTING_ACTIONS:
            return _listing_refusal(action, view)
        status = EpisodeStatus(view.status)
        shown = f"第{view.number}期{label(EPISODE_STATUS, view.status)}"
        if action == "cancel_episode" and EpisodeStatus.cancelled not in TRANSITIONS[status]:
            return f"{shown}，不能取消"
        if action == "reschedule" and status not in schedule.RESCHEDULABLE:
            return f"{shown}，不能改期"
        return None

    def action_cycle_status(self) -> None:
        self.status = STATUS_CYCLE[(STATUS_CYCLE.index(self.status) + 1) % len(STATUS_CYCLE)]
        shown = label(EPISODE_STATUS, self.status) if self.status else ALL
        self.query_one("#schedule-status", Label).update(f"状态：{shown}")
        self.hotline.report(f"排期：只看{shown}" if self.status else "排期：显示全部状态")
        self.refilter()

    def action_new_episode(self) -> None:
        self.app.push_screen(EpisodeForm(self.station.tz, new=True, on_save=self._add))

    def _add(self, form: PromptDialog, values: dict[str, str]) -> None:
        station, now = self.station, self.now()

        def work(session: Session) -> tuple[str, str]:
            with in_field("number"):
                number = (
                    parse_int(values["number"], what="episode number")
                    if values["number"].strip()
                    else None
                )
            with in_field("duration"):
                duration = (
                    parse_int(values["duration"], what="duration")
                    if values["duration"].strip()
                    else None
                )
            episode = schedule.add_episode(
                session=session,
                settings=station.settings,
                number=number,
                title=values["title"],
                air=values["air"].strip() or None,
                topic=values["topic"],
                hosts=split_hosts(values["hosts"]) or None,
                description=values["description"],
                duration_minutes=duration,
                now=now,
            )
            when = local_text(episode.air_start, station.tz)
            return f"已新建第{episode.number}期 {when} {episode.title}", str(episode.number)

        self.change(work, form=form)

    def action_edit_episode(self) -> None:
        view = self.selected()
        if view is None:
            return
        tz = self.station.tz
        values = {
            "number": str(view.number),
            "title": view.title,
            "topic": view.topic,
            "hosts": "、".join(view.hosts or []),
            "air": local_text(view.air_start, tz),
            "duration": str(view.duration_minutes),
            "description": view.description,
        }

        def save(form: PromptDialog, new: dict[str, str]) -> None:
            self._save(form, view, values, new)

        self.app.push_screen(EpisodeForm(tz, values, new=False, on_save=save))

    def _save(
        self, form: PromptDialog, view: EpisodeView, old: dict[str, str], new: dict[str, str]
    ) -> None:
        station, now, number = self.station, self.now(), view.number

        def changed(name: str) -> str | None:
            return new[name] if new[name] != old[name] else None

        def work(session: Session) -> str:
            # Text and length first, then the air time: one transaction, so a refused
            # reschedule leaves the text unchanged too.
            hosts = changed("hosts")
            duration = changed("duration")
            with in_field("duration"):
                minutes = parse_int(duration, what="duration") if duration else None
            schedule.edit_episode(
                session=session,
                settings=station.settings,
                number=number,
                title=changed("title"),
                topic=changed("topic"),
                hosts=split_hosts(hosts) if hosts is not None else None,
                description=changed("description"),
                duration_minutes=minutes,
            )
            if changed("air") is not None:
                with in_field("air"):
                    schedule.reschedule_episode(
                        session=session,
                        settings=station.settings,
                        number=number,
                        air=new["air"],
                        now=now,
                    )
            names = [FIELD_NAMES[name] for name in FIELD_NAMES if changed(name) is not None]
            what = "、".join(names) if names else "没有改动"
            return f"已保存第{number}期（{what}）"

        self.change(work, select=str(number), form=form)

    def action_cancel_episode(self) -> None:
        view = self.selected()
        if view is None:
            return
        when = local_text(view.air_start, self.station.tz)
        open_guests = [g.name for g in view.guests if g.status in ("invited", "confirmed")]
        names = "、".join(open_guests)
        guests = (
            f"已邀请和已确认的 {len(open_guests)} 位嘉宾（{names}）会一并取消邀请。"
            if open_guests
            else "这期没有待出场的嘉宾。"
        )
        question = (
            f"取消第{view.number}期《{view.title}》（{when}）？{guests}"
            "取消后这一期不能恢复，期号也不会再用。"
        )
        self.confirm(question, lambda: self._cancel(view.number), yes="取消节目")

    def _cancel(self, number: int) -> None:
        def work(session: Session) -> str:
            _, bookings = schedule.cancel_episode(session=session, number=number)
            return f"已取消第{number}期" + (f"，取消邀请 {bookings} 人" if bookings else "")

        self.change(work, select=str(number))

    def action_reschedule(self) -> None:
        view = self.selected()
        if view is None:
            return
        tz, station, now = self.station.tz, self.station, self.now()
        field = Field(
            "air",
            "新的播出时间",
            local_text(view.air_start, tz),
            "YYYY-MM-DD HH:MM",
            lambda t: schedule.air_time(t, tz),
        )

        def save(form: PromptDialog, values: dict[str, str]) -> None:
            def work(session: Session) -> str:
                with in_field("air"):
                    episode = schedule.reschedule_episode(
                        session=session,
                        settings=station.settings,
                        number=view.number,
                        air=values["air"],
                        now=now,
                    )
                return f"第{episode.number}期改到 {local_text(episode.air_start, tz)}"

            self.change(work, select=str(view.number), form=form)

        title = f"第{view.number}期《{view.title}》改期"
        self.app.push_screen(PromptDialog(title, [field], submit_label="改期", on_save=save))

    def action_withdraw_episode(self) -> None:
        view = self.selected()
        if view is None:
            return
        station, now, number = self.station, self.now(), view.number
        field = Field(
            "reason",
            "撤下原因（记入历史）",
            "",
            "例如：嘉宾口误，数据待核实",
            lambda text: withdrawal_reason(text, required=True),
            subjects=("reason",),
        )

        def save(form: PromptDialog, values: dict[str, str]) -> None:
            def work(_session: Session | None, *, confirm: bool = False) -> str:
                from feeds.withdraw import withdraw_episode

                outcome = withdraw_episode(
                    station=station,
                    number=number,
                    reason=values["reason"],
                    now=now,
                    **confirmed(confirm),
                )
                gone = outcome.before
                return (
                    f"已撤下第{number}期：移出 {len(gone.feeds)} 个订阅源，"
                    f"删除 {len(gone.files)} 个公开文件；GUID 保留，可用 u 恢复"
                )

            self.change(work, select=str(number), form=form, own_transactions=True)

        dialog = PromptDialog(
            f"撤下第{number}期《{view.title}》",
            [field],
            submit_label="撤下",
            warning="从所有订阅源和 public/ 中移除，确认前会列出具体的订阅源和文件。",
            on_save=save,
        )
        self.app.push_screen(dialog)

    def action_reinstate_episode(self) -> None:
        view = self.selected()
        if view is None:
            return
        station, now, number = self.station, self.now(), view.number

        def work(_session: Session | None, *, confirm: bool = False) -> str:
            from feeds.withdraw import reinstate_episode

            outcome = reinstate_episode(
                station=station, number=number, now=now, **confirmed(confirm)
            )
            if not outcome.after.feeds:
                return f"已恢复第{number}期，但暂未列入订阅源（缺母带或未到发布时间）"
            return f"已恢复第{number}期：重新列入 {len(outcome.after.feeds)} 个订阅源，GUID 不变"

        self.change(work, select=str(number), own_transactions=True)

    def action_goto(self) -> None:
        field = Field("number", "期号", "", "1000", lambda t: parse_int(t, what="episode number"))
        self.app.push_screen(
            PromptDialog("跳到期号", [field], submit_label="跳到", on_save=self._goto)
        )

    def _goto(self, form: PromptDialog, values: dict[str, str]) -> None:
        number = parse_int(values["number"], what="episode number")
        text, status = self.filter_text, self.status

        def where(session: Session) -> int | None:
            with in_field("number"):
                return views.episode_position(
                    session=session, number=number, text=text, status=status
                )

        def go(index: int | None) -> None:
            if index is None:
                form.refused(None, f"第{number}期不在当前筛选结果中")
                return
            form.saved()
            self.table.jump(index, str(number))
            self.table.focus()
            self.hotline.report(f"已跳到第{number}期")

        self.read(where, go, form=form)

    def action_generate(self) -> None:
        field = Field("count", "排几期", "4", "", lambda t: parse_int(t, what="count"))
        dialog = PromptDialog(
            "按每周时段排出后续节目", [field], submit_label="排期", on_save=self._generate
        )
        self.app.push_screen(dialog)

    def _generate(self, form: PromptDialog, values: dict[str, str]) -> None:
        count = parse_int(values["count"], what="count")
        station, now = self.station, self.now()

        def work(session: Session) -> tuple[str, str]:
            with in_field("count"):
                created = schedule.generate_episodes(
                    session=session, settings=station.settings, count=count, now=now
                )
            first, last = created[0], created[-1]
            tz = station.tz
            text = (
                f"已排出 {len(created)} 期：第{first.number}–{last.number}期"
                f"（{local_text(first.air_start, tz, '%Y-%m-%d')} 至 "
                f"{local_text(last.air_start, tz, '%Y-%m-%d')}）"
            )
            return text, str(first.number)

        self.change(work, form=form)


LISTING_ACTIONS = ("withdraw_episode", "reinstate_episode")


def _listing_refusal(action: str, view: EpisodeView) -> str | None:
    """Why episode ``view`` cannot be withdrawn or reinstated now (None: it can)."""
    if action == "withdraw_episode":
        if view.withdrawn_at is not None:
            return f"第{view.number}期已撤下（{view.withdrawal_reason}），u 恢复上线"
        if view.published_at is None or view.guid is None:
            return f"第{view.number}期从未发布，没有可撤下的内容"
        return None
    if view.withdrawn_at is None:
        return f"第{view.number}期没有撤下，无需恢复"
    return None


FIELD_NAMES = {
    "title": "标题",
    "topic": "话题",
    "hosts": "主持",
    "air": "播出时间",
    "duration": "时长",
    "description": "简介",
}
"""The episode form's fields by name, as the status bar names what was saved."""
