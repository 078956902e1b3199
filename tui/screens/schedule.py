"""The 排期 tab: every episode, newest number first, opening on the next one to air.

Filter by title/topic text and by status, jump to an episode number, add or edit an
episode in a form that checks as you type, generate the next K weekly episodes, cancel
or reschedule. Each change is one domain call in one transaction, in a worker.
"""

from __future__ import annotations

from typing import ClassVar

from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Label

from episodes import schedule, views
from episodes.listing import EpisodeView
from hotline.models import EpisodeStatus
from hotline.timeutil import local_text
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.episode_form import EpisodeForm, parse_int, split_hosts
from tui.dialogs.prompt import Field, PromptDialog
from tui.labels import ALL, EPISODE_STATUS, label
from tui.messages import TableRow
from tui.screens.base import HotlinePane
from tui.widgets.paged_table import PagedTable

STATUS_CYCLE: tuple[str | None, ...] = (None, *(s.value for s in EpisodeStatus))


class SchedulePane(HotlinePane):
    """排期: the schedule."""

    LABEL = "排期"
    PANE_ID = "schedule"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_episode", "新建"),
        Binding("e", "edit_episode", "编辑"),
        Binding("c", "cancel_episode", "取消节目"),
        Binding("r", "reschedule", "改期"),
        Binding("g", "goto", "跳到期号"),
        Binding("t", "generate", "排后续K期"),
        Binding("s", "cycle_status", "状态筛选"),
        Binding("slash", "filter", "筛选"),
        Binding("escape", "back_to_table", "返回列表", show=False),
    ]

    def __init__(self, *, key: str = "") -> None:
        super().__init__(key=key)
        self.status: str | None = None
        self.loaded = False
        self.views: dict[str, EpisodeView] = {}

    def compose_tab(self) -> ComposeResult:
        with Horizontal(classes="filter-bar"):
            yield Input(placeholder="/ 按标题或话题筛选", id="schedule-filter", classes="filter")
            yield Label(f"状态：{ALL}", id="schedule-status", classes="filter-status")
        yield PagedTable(
            [("期号", 6), ("播出时间", 16), ("状态", 6), ("标题", 36), ("嘉宾", None)],
            id="schedule-table",
        )
        yield Label("", id="schedule-detail", classes="detail", markup=False)

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
                        (v.number, when, label(EPISODE_STATUS, v.status), v.title, guests),
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

    @on(DataTable.RowHighlighted, "#schedule-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        view = self.views.get(str(event.row_key.value))
        detail = self.query_one("#schedule-detail", Label)
        if view is None:
            detail.update("")
            return
        parts = [
            f"第{view.number}期  {view.duration_minutes}分钟  主持：{'、'.join(view.hosts or [])}"
        ]
        if view.topic:
            parts.append(f"话题：{view.topic}")
        if view.description:
            parts.append(f"简介：{view.description}")
        detail.update("\n".join(parts))

    @on(DataTable.RowSelected, "#schedule-table")
    def _selected(self) -> None:
        self.action_edit_episode()

    # ------------------------------------------------------------ actions

    def selected(self) -> EpisodeView | None:
        key = self.table.selected_key
        return self.views.get(key) if key else None

    def action_cycle_status(self) -> None:
        self.status = STATUS_CYCLE[(STATUS_CYCLE.index(self.status) + 1) % len(STATUS_CYCLE)]
        shown = label(EPISODE_STATUS, self.status) if self.status else ALL
        self.query_one("#schedule-status", Label).update(f"状态：{shown}")
        self.refilter()

    def action_new_episode(self) -> None:
        self.app.push_screen(EpisodeForm(self.station.tz, new=True), self._add)

    def _add(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        station, now = self.station, self.now()

        def work(session: Session) -> tuple[str, str]:
            episode = schedule.add_episode(
                session=session,
                settings=station.settings,
                number=parse_int(values["number"], what="episode number")
                if values["number"].strip()
                else None,
                title=values["title"],
                air=values["air"].strip() or None,
                topic=values["topic"],
                hosts=split_hosts(values["hosts"]) or None,
                description=values["description"],
                duration_minutes=parse_int(values["duration"], what="duration")
                if values["duration"].strip()
                else None,
                now=now,
            )
            when = local_text(episode.air_start, station.tz)
            return f"已新建第{episode.number}期 {when} {episode.title}", str(episode.number)

        self.change(work)

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
        self.app.push_screen(
            EpisodeForm(tz, values, new=False), lambda new: self._save(view, values, new)
        )

    def _save(self, view: EpisodeView, old: dict[str, str], new: dict[str, str] | None) -> None:
        if new is None:
            return
        station, now, number = self.station, self.now(), view.number

        def changed(name: str) -> str | None:
            return new[name] if new[name] != old[name] else None

        def work(session: Session) -> str:
            # Text and length first, then the air time: one transaction, so a refused
            # reschedule leaves the text unchanged too.
            hosts = changed("hosts")
            duration = changed("duration")
            schedule.edit_episode(
                session=session,
                settings=station.settings,
                number=number,
                title=changed("title"),
                topic=changed("topic"),
                hosts=split_hosts(hosts) if hosts is not None else None,
                description=changed("description"),
                duration_minutes=parse_int(duration, what="duration") if duration else None,
            )
            if changed("air") is not None:
                schedule.reschedule_episode(
                    session=session,
                    settings=station.settings,
                    number=number,
                    air=new["air"],
                    now=now,
                )
            return f"已保存第{number}期"

        self.change(work, select=str(number))

    def action_cancel_episode(self) -> None:
        view = self.selected()
        if view is None:
            return
        question = f"取消第{view.number}期《{view.title}》？已邀请和已确认的嘉宾也会一并取消。"
        self.app.push_screen(ConfirmDialog(question), lambda yes: yes and self._cancel(view.number))

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

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return

            def work(session: Session) -> str:
                episode = schedule.reschedule_episode(
                    session=session,
                    settings=station.settings,
                    number=view.number,
                    air=values["air"],
                    now=now,
                )
                return f"第{episode.number}期改到 {local_text(episode.air_start, tz)}"

            self.change(work, select=str(view.number))

        self.app.push_screen(PromptDialog(f"第{view.number}期改期", [field]), done)

    def action_goto(self) -> None:
        field = Field("number", "期号", "", "1000", lambda t: parse_int(t, what="episode number"))
        self.app.push_screen(PromptDialog("跳到期号", [field]), self._goto)

    def _goto(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        number = parse_int(values["number"], what="episode number")
        text, status = self.filter_text, self.status

        def where(session: Session) -> int | None:
            return views.episode_position(session=session, number=number, text=text, status=status)

        def go(index: int | None) -> None:
            if index is None:
                self.hotline.report(f"第{number}期不在当前筛选结果中", error=True)
            else:
                self.table.jump(index, str(number))
                self.table.focus()

        self.read(where, go)

    def action_generate(self) -> None:
        field = Field(
            "count",
            "排几期",
            "4",
            "",
            lambda t: parse_int(t, what="count"),
        )
        self.app.push_screen(PromptDialog("按每周时段排出后续节目", [field]), self._generate)

    def _generate(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        count = parse_int(values["count"], what="count")
        station, now = self.station, self.now()

        def work(session: Session) -> tuple[str, str]:
            created = schedule.generate_episodes(
                session=session, settings=station.settings, count=count, now=now
            )
            first, last = created[0].number, created[-1].number
            return f"已排出 {len(created)} 期：第{first}–{last}期", str(first)

        self.change(work)
