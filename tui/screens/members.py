"""The 嘉宾 tab: members with sector, level and appearances, and the bookings of the one
under the cursor.

Search by name, sector or affiliation; invite the member onto an episode; confirm,
decline, cancel or mark appeared / no-show on the booking under the bookings cursor;
the sector report as a table. A refused booking shows the domain's reason (overlap,
guest limit, inactive member, aired or cancelled episode) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Label

from episodes import bookings, views
from episodes.members import MemberSummary
from episodes.reports import SectorReport, sector_report
from hotline.timeutil import local_text
from tui.dialogs.booking_dialog import BookingDialog, role_value
from tui.dialogs.episode_form import parse_int
from tui.dialogs.sector_report import SectorReportDialog
from tui.labels import BOOKING_STATUS, ROLE, label
from tui.messages import TableRow
from tui.screens.base import HotlinePane
from tui.widgets.paged_table import PagedTable

# key → (domain move, what the status bar says it did)
MOVES: dict[str, tuple[Callable[..., Any], str]] = {
    "confirm": (bookings.confirm_booking, "已确认"),
    "decline": (bookings.decline_booking, "已婉拒"),
    "cancel": (bookings.cancel_booking, "已取消邀请"),
    "appeared": (bookings.mark_appeared, "已出场"),
    "no_show": (bookings.mark_no_show, "未到场"),
}


class MembersPane(HotlinePane):
    """嘉宾: members and their bookings."""

    LABEL = "嘉宾"
    PANE_ID = "members"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "book", "邀请上节目"),
        Binding("y", "move('confirm')", "确认"),
        Binding("d", "move('decline')", "婉拒"),
        Binding("x", "move('cancel')", "取消邀请"),
        Binding("a", "move('appeared')", "已出场"),
        Binding("o", "move('no_show')", "未到场"),
        Binding("r", "report", "界别报告"),
        Binding("slash", "filter", "搜索"),
        Binding("escape", "back_to_table", "返回列表", show=False),
    ]

    def __init__(self, *, key: str = "") -> None:
        super().__init__(key=key)
        self.loaded = False
        self.members: dict[str, MemberSummary] = {}

    def compose_tab(self) -> ComposeResult:
        with Horizontal(classes="filter-bar"):
            yield Input(
                placeholder="/ 按姓名、界别或单位搜索", id="members-filter", classes="filter"
            )
        yield PagedTable(
            [
                ("编号", 6),
                ("姓名", 8),
                ("界别", 14),
                ("级别", 4),
                ("单位", 28),
                ("在任", 4),
                ("出场", 4),
            ],
            id="members-table",
        )
        yield Label("邀请记录", id="bookings-title", classes="section-title", markup=False)
        bookings_table: DataTable[Any] = DataTable(
            id="bookings-table", cursor_type="row", zebra_stripes=True
        )
        yield bookings_table

    @property
    def table(self) -> PagedTable:
        return self.query_one("#members-table", PagedTable)

    @property
    def bookings_table(self) -> DataTable[Any]:
        return self.query_one("#bookings-table", DataTable)

    def tab_built(self) -> None:
        self.bookings_table.add_columns("期号", "播出时间", "标题", "角色", "状态")

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

    def _source(self):  # noqa: ANN202 - a PagedTable Source
        station, search = self.station, self.query_one("#members-filter", Input).value

        def source(offset: int, limit: int) -> tuple[list[TableRow], int]:
            with station.session() as session:
                page = views.member_page(session=session, search=search, offset=offset, limit=limit)
            rows: list[TableRow] = []
            for s in page.rows:
                m = s.member
                self.members[str(m.id)] = s
                cells = (
                    m.id,
                    m.name,
                    m.sector,
                    m.level,
                    m.affiliation,
                    "是" if m.active else "否",
                    s.appearances,
                )
                rows.append((str(m.id), cells))
            return rows, page.total

        return source

    def reload(self, select: str | None = None) -> None:
        self.table.reload()
        self._load_bookings(self.table.selected_key, select)

    @on(Input.Changed, "#members-filter")
    def _filter_changed(self) -> None:
        self.refilter()

    @on(DataTable.RowHighlighted, "#members-table")
    def _member_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._load_bookings(str(event.row_key.value))

    def _load_bookings(self, member_key: str | None, select: str | None = None) -> None:
        if member_key is None:
            return
        tz = self.station.tz

        def rows(session: Session) -> tuple[str, list[TableRow]]:
            found = bookings.list_bookings(session=session, member=int(member_key))
            return member_key, [
                (
                    str(b.episode),
                    (
                        b.episode,
                        local_text(b.air_start, tz),
                        b.title,
                        label(ROLE, b.role),
                        label(BOOKING_STATUS, b.status),
                    ),
                )
                for b in found
            ]

        def show(result: tuple[str, list[TableRow]]) -> None:
            key, found = result
            if key != self.table.selected_key:
                return  # the cursor moved on meanwhile
            table = self.bookings_table
            table.clear()
            for row_key, cells in found:
                table.add_row(*cells, key=row_key)
            member = self.members.get(key)
            name = f"{member.member.name}（{member.member.sector}）" if member else ""
            self.query_one("#bookings-title", Label).update(f"邀请记录 {name}  共 {len(found)} 条")
            if found:
                target = select if select in {k for k, _ in found} else found[-1][0]
                table.move_cursor(row=table.get_row_index(target))

        self.read(rows, show)

    # ------------------------------------------------------------ actions

    def selected_member(self) -> MemberSummary | None:
        key = self.table.selected_key
        return self.members.get(key) if key else None

    def action_book(self) -> None:
        chosen = self.selected_member()
        if chosen is None:
            return
        member = chosen.member
        now = self.now()

        def upcoming(session: Session) -> int | None:
            return views.next_upcoming(session=session, now=now)

        def ask(number: int | None) -> None:
            dialog = BookingDialog(f"{member.name}（#{member.id}）", str(number or ""))
            self.app.push_screen(dialog, lambda values: self._book(member.id, values))

        self.read(upcoming, ask)

    def _book(self, member_id: int | None, values: dict[str, str] | None) -> None:
        if values is None or member_id is None:
            return
        station, now = self.station, self.now()
        episode = parse_int(values["episode"], what="episode number")
        role = role_value(values["role"])

        def work(session: Session) -> tuple[str, str]:
            booking = bookings.add_booking(
                session=session,
                settings=station.settings,
                episode=episode,
                member=member_id,
                role=role,
                now=now,
            )
            view = bookings.describe_booking(session=session, booking=booking)
            text = f"已邀请 {view.name} 上第{view.episode}期（{label(ROLE, view.role)}）"
            return text, str(view.episode)

        self.change(work)

    def action_move(self, move: str) -> None:
        chosen = self.selected_member()
        table = self.bookings_table
        if chosen is None or table.row_count == 0:
            self.hotline.report("没有选中的邀请记录：先选一位有邀请的委员", error=True)
            return
        episode = int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or 0)
        action, done = MOVES[move]
        station, now, member = self.station, self.now(), chosen.member

        def work(session: Session) -> str:
            action(
                session=session,
                settings=station.settings,
                episode=episode,
                member=member.id,
                now=now,
            )
            return f"第{episode}期 {member.name}：{done}"

        self.change(work, select=str(episode))

    def action_report(self) -> None:
        tz = self.station.tz

        def report(session: Session) -> SectorReport:
            return sector_report(session=session, tz=tz)

        self.read(report, lambda found: self.app.push_screen(SectorReportDialog(found)))
