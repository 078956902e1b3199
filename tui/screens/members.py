"""The 嘉宾 tab: members with sector, level and appearances, and the bookings of the one
under the cursor.

Search by name, sector or affiliation; invite the member onto an episode; confirm,
decline, cancel or mark appeared / no-show on the booking under the bookings cursor;
the sector report as a table. A refused booking shows the domain's reason (overlap,
guest limit, inactive member, aired or cancelled episode) and changes nothing.

The booking keys act on the booking shown under the bookings cursor, of the member the
bookings list is titled with: while the cursor moves to another member, the list is
emptied until that member's bookings are in, so a key never reaches a booking that is
not on screen. Only the moves the booking's status and air time allow are offered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Label

from episodes import bookings, views
from episodes.bookings import AFTER_AIRING, BookingView
from episodes.members import MemberSummary
from episodes.reports import SectorReport, sector_report
from hotline.models import BookingStatus
from hotline.timeutil import local_text
from tui.changes import in_field
from tui.dialogs.booking_dialog import BookingDialog, role_value
from tui.dialogs.episode_form import parse_int
from tui.dialogs.prompt import PromptDialog
from tui.dialogs.sector_report import SectorReportDialog
from tui.keys import Key
from tui.labels import BOOKING_STATUS, ROLE, label
from tui.messages import TableRow
from tui.screens.base import HotlinePane
from tui.widgets.data_label import DataLabel
from tui.widgets.desk_input import DeskInput
from tui.widgets.desk_table import Col, DeskTable
from tui.widgets.paged_table import PagedTable

# key → (domain move, the status it leads to, what the status bar says it did)
MOVES: dict[str, tuple[Callable[..., Any], BookingStatus, str]] = {
    "confirm": (bookings.confirm_booking, BookingStatus.confirmed, "已确认"),
    "decline": (bookings.decline_booking, BookingStatus.declined, "已婉拒"),
    "cancel": (bookings.cancel_booking, BookingStatus.cancelled, "已取消邀请"),
    "appeared": (bookings.mark_appeared, BookingStatus.appeared, "已出场"),
    "no_show": (bookings.mark_no_show, BookingStatus.no_show, "未到场"),
}
VERBS = {"confirm": "确认", "decline": "婉拒", "cancel": "取消", "appeared": "标为已出场"}
VERBS["no_show"] = "标为未到场"


class MembersPane(HotlinePane):
    """嘉宾: members and their bookings."""

    LABEL = "嘉宾"
    PANE_ID = "members"
    TABLES = frozenset({"member", "booking", "episode"})
    BINDINGS: ClassVar[list[BindingType]] = [
        Key("b", "book", "邀请上节目", doc="invite the member onto an episode (number, role)"),
        Key(
            "y",
            "move('confirm')",
            "确认",
            doc="confirm / decline / cancel the booking under the bookings cursor",
        ),
        Key(
            "d",
            "move('decline')",
            "婉拒",
            doc="confirm / decline / cancel the booking under the bookings cursor",
        ),
        Key(
            "x",
            "move('cancel')",
            "取消邀请",
            doc="confirm / decline / cancel the booking under the bookings cursor",
        ),
        Key("a", "move('appeared')", "已出场", doc="mark appeared / no-show (after airing)"),
        Key("o", "move('no_show')", "未到场", doc="mark appeared / no-show (after airing)"),
        Key("r", "report", "界别报告", doc="sector report (界别出场统计)"),
        Key("slash", "filter", "搜索", doc="search by name, sector or affiliation"),
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
        self.loaded = False
        self.members: dict[str, MemberSummary] = {}
        self.bookings_of: str | None = None
        """The member whose bookings the bookings list shows (None while it is read)."""
        self.booking_views: dict[str, BookingView] = {}
        """Those bookings by episode number (the bookings list's row keys)."""

    def compose_tab(self) -> ComposeResult:
        with Horizontal(classes="filter-bar"):
            yield DeskInput(
                placeholder="/ 按姓名、界别或单位搜索", id="members-filter", classes="filter"
            )
        yield PagedTable(
            [
                Col("编号", keep=True),
                Col("姓名"),
                Col("界别"),
                Col("级别", keep=True),
                Col("单位"),
                Col("在任", keep=True),
                Col("出场", keep=True),
            ],
            id="members-table",
        )
        yield DataLabel("", id="members-detail", classes="detail")
        yield DataLabel("邀请记录", id="bookings-title", classes="section-title")
        yield DeskTable(
            [
                Col("期号", keep=True),
                Col("播出时间", keep=True),
                Col("标题"),
                Col("角色", keep=True),
                Col("状态", keep=True),
            ],
            id="bookings-table",
        )
        yield DataLabel("", id="bookings-detail", classes="detail")

    @property
    def table(self) -> PagedTable:
        return self.query_one("#members-table", PagedTable)

    @property
    def bookings_table(self) -> DeskTable:
        return self.query_one("#bookings-table", DeskTable)

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
        member = self.table.selected_key
        if select is None and member is not None and member == self.bookings_of:
            select = self.bookings_table.selected_key  # read again: the cursor stays put
        self._load_bookings(member, select)

    @on(Input.Changed, "#members-filter")
    def _filter_changed(self) -> None:
        self.refilter()

    @on(DataTable.RowHighlighted, "#members-table")
    def _member_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = str(event.row_key.value)
        summary = self.members.get(key)
        detail = ""
        if summary is not None:
            m = summary.member
            detail = (
                f"#{m.id} {m.name}  {m.sector}  {m.level}级  {'在任' if m.active else '已不在任'}"
                f"  出场 {summary.appearances} 次"
                + (f"\n单位：{m.affiliation}" if m.affiliation else "")
                + (f"  区县：{m.district}" if m.district else "")
            )
        self.query_one("#members-detail", Label).update(detail)
        if key != self.bookings_of:
            self._show_bookings(None, [])  # not this member's: gone until theirs are in
            self._load_bookings(key)

    @on(DataTable.RowHighlighted, "#bookings-table")
    def _booking_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_booking_detail(str(event.row_key.value))

    def _show_booking_detail(self, key: str | None) -> None:
        view = self.booking_views.get(key or "")
        text = ""
        if view is not None:
            when = local_text(view.air_start, self.station.tz)
            text = (
                f"第{view.episode}期 {when}《{view.title}》 {view.name} "
                f"{label(ROLE, view.role)} {label(BOOKING_STATUS, view.status)}"
            )
        self.query_one("#bookings-detail", Label).update(text)

    def _load_bookings(self, member_key: str | None, select: str | None = None) -> None:
        if member_key is None:
            return

        def rows(session: Session) -> tuple[str, list[BookingView]]:
            return member_key, bookings.list_bookings(session=session, member=int(member_key))

        def show(result: tuple[str, list[BookingView]]) -> None:
            key, found = result
            if key != self.table.selected_key:
                return  # the cursor moved on meanwhile
            self._show_bookings(key, found, select)

        self.read(rows, show)

    def _show_bookings(
        self, member_key: str | None, found: list[BookingView], select: str | None = None
    ) -> None:
        """Show ``member_key``'s bookings (None: none shown, while they are read)."""
        tz = self.station.tz
        table = self.bookings_table
        self.bookings_of = member_key
        self.booking_views = {str(b.episode): b for b in found}
        rows = [
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
        table.show_rows(rows, select)  # read again: changed cells only
        member = self.members.get(member_key or "")
        title = "邀请记录"
        if member is not None:
            m = member.member
            title = f"邀请记录：{m.name}（#{m.id} {m.sector}） 共 {len(found)} 条"
        elif member_key is None and self.table.row_count:
            title = "邀请记录：读取中…"
        self.query_one("#bookings-title", Label).update(title)
        if found:
            keys = [str(b.episode) for b in found]
            target = select if select in keys else keys[-1]
            table.move_cursor(row=keys.index(target))
            self._show_booking_detail(target)
        else:
            self._show_booking_detail(None)
        self.state_changed()

    # ------------------------------------------------------------ actions

    def selected_member(self) -> MemberSummary | None:
        key = self.table.selected_key
        return self.members.get(key) if key else None

    def selected_booking(self) -> tuple[MemberSummary, BookingView] | None:
        """The booking under the bookings cursor and its member, if the list shows one."""
        member = self.members.get(self.bookings_of or "")
        key = self.bookings_table.selected_key
        view = self.booking_views.get(key or "")
        if member is None or view is None or self.bookings_of != self.table.selected_key:
            return None
        return member, view

    def why_not(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        if action == "book":
            chosen = self.selected_member()
            if chosen is None:
                return "没有选中的委员"
            if not chosen.member.active:
                return f"{chosen.member.name} 已不在任，不能邀请"
            return None
        if action != "move":
            return None
        found = self.selected_booking()
        if found is None:
            return "没有选中的邀请记录：先选一位有邀请的委员"
        _, view = found
        move = str(parameters[0]) if parameters else ""
        _, target, _ = MOVES[move]
        shown = f"第{view.episode}期 {view.name} {label(BOOKING_STATUS, view.status)}"
        if target not in bookings.MOVES[BookingStatus(view.status)]:
            return f"{shown}，不能{VERBS[move]}"
        aired = view.air_start <= self.now()
        if target in AFTER_AIRING and not aired:
            return f"第{view.episode}期还没播出：播出后才能{VERBS[move]}"
        if target not in AFTER_AIRING and aired:
            return f"第{view.episode}期已播出，不能再{VERBS[move]}"
        return None

    def action_book(self) -> None:
        chosen = self.selected_member()
        if chosen is None:
            return
        member = chosen.member
        now = self.now()

        def upcoming(session: Session) -> int | None:
            return views.next_upcoming(session=session, now=now)

        def ask(number: int | None) -> None:
            dialog = BookingDialog(
                f"{member.name}（#{member.id} {member.sector}）",
                str(number or ""),
                on_save=lambda form, values: self._book(form, member.id, values),
            )
            self.app.push_screen(dialog)

        self.read(upcoming, ask)

    def _book(self, form: PromptDialog, member_id: int | None, values: dict[str, str]) -> None:
        if member_id is None:
            return
        station, now = self.station, self.now()

        def work(session: Session) -> tuple[str, str]:
            with in_field("episode"):
                episode = parse_int(values["episode"], what="episode number")
            with in_field("role"):
                role = role_value(values["role"])
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

        self.change(work, form=form)

    def action_move(self, move: str) -> None:
        found = self.selected_booking()
        if found is None:
            return
        chosen, view = found
        episode, member = view.episode, chosen.member
        action, _, done = MOVES[move]
        station, now = self.station, self.now()

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
