"""嘉宾: members, searching, booking a member onto an episode and moving the booking along;
refused bookings show the domain's reason, keep the dialog open and change nothing; the
booking keys act only on the booking shown, and only the moves it allows are offered;
the sector report."""

from __future__ import annotations

from sqlmodel import select
from textual.widgets import DataTable, Label

from hotline.models import Booking, Episode
from hotline.station import Station
from tui.app import HotlineApp
from tui.dialogs.prompt import PromptDialog
from tui.dialogs.sector_report import SectorReportDialog
from tui.widgets.paged_table import PagedTable

SIZE = (140, 40)


def members(app: HotlineApp) -> PagedTable:
    return app.query_one("#members-table", PagedTable)


def footer_keys(app: HotlineApp) -> set[str]:
    return {key.key for key in app.query("FooterKey") if key.display}


def booking_rows(app: HotlineApp) -> list[list[object]]:
    table = app.query_one("#bookings-table", DataTable)
    return [table.get_row_at(i) for i in range(table.row_count)]


def booking(station: Station, episode: int, member: int) -> Booking | None:
    with station.session() as session:
        return session.exec(
            select(Booking)
            .join(Episode, Episode.id == Booking.episode_id)
            .where(Episode.number == episode, Booking.member_id == member)
        ).first()


async def open_members(pilot, settle) -> None:  # noqa: ANN001 - pilot and fixture
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)


async def test_members_with_appearances_and_search(app: HotlineApp, settle, type_text) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await open_members(pilot, settle)
        table = members(app)
        assert table.row_count == 4
        assert table.get_row("2")[1:] == ["李娜", "医药卫生界", "省", "医药卫生界委员", "是", 1]
        assert booking_rows(app)[0][2] == "第1000期：暑期托管服务"  # 王伟's booking
        await pilot.press("slash")
        await type_text(pilot, "医药")
        await settle(pilot)
        assert table.row_count == 1 and table.selected_key == "2"
        assert booking_rows(app)[0][4] == "已出场"


async def test_book_confirm_and_decline(app: HotlineApp, desk: Station, settle, type_text) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await open_members(pilot, settle)
        await pilot.press("j", "j", "j")  # 陈静 (#4)
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("home", "ctrl+k")
        await type_text(pilot, "1001")
        await pilot.press("enter")
        await pilot.press("home", "ctrl+k")
        await type_text(pilot, "专家")
        await pilot.press("enter")
        await settle(pilot)
        made = booking(desk, 1001, 4)
        assert made is not None and (made.status, made.role) == ("invited", "expert")
        assert app.status_bar.message == "已邀请 陈静 上第1001期（专家）"
        assert booking_rows(app)[-1][3:] == ["专家", "已邀请"]
        await pilot.press("y")
        await settle(pilot)
        assert booking(desk, 1001, 4).status == "confirmed"
        await pilot.press("d")
        await settle(pilot)
        assert booking(desk, 1001, 4).status == "declined"
        assert app.status_bar.message == "第1001期 陈静：已婉拒"


async def test_refused_bookings_say_why_keep_the_dialog_and_change_nothing(
    app: HotlineApp, desk: Station, settle, type_text
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await open_members(pilot, settle)
        # 王伟 is already confirmed on 1000, the episode the dialog proposes.
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("enter", "enter")
        await settle(pilot)
        refused = "王伟（#1）已在第1000期的嘉宾名单上（已确认）"
        assert app.status_bar.message == refused
        assert isinstance(app.screen, PromptDialog)  # still open: try another episode
        assert str(app.screen.query_one("#error-episode", Label).content) == refused
        await pilot.press("ctrl+u")
        await type_text(pilot, "1001")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, PromptDialog)
        assert booking(desk, 1001, 1).status == "invited"
        # 张敏 is inactive: not offered, and the key says why before any dialog.
        await pilot.press("j", "j")
        await settle(pilot)
        assert "b" not in footer_keys(app)
        await pilot.press("b")
        await settle(pilot)
        assert not isinstance(app.screen, PromptDialog)
        assert app.status_bar.message == "张敏 已不在任，不能邀请"
        assert booking(desk, 1000, 3) is None
        # A guest limit of one: 1000 is full.
        desk.settings.bookings.guest_limit = 1
        await pilot.press("j", "b")
        await settle(pilot)
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert app.status_bar.message == "第1000期嘉宾已满（已约 1 位，上限 1 位）"
        assert isinstance(app.screen, PromptDialog)
        await pilot.press("escape")
        assert booking(desk, 1000, 4) is None


async def test_only_the_moves_the_booking_allows_are_offered(
    app: HotlineApp, desk: Station, settle
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await open_members(pilot, settle)
        # 王伟 on 1000, confirmed, airing on Saturday: decline and cancel, not confirm
        # again, and appeared / no-show only once it has aired.
        assert {"d", "x"} <= footer_keys(app)
        assert not {"y", "a", "o"} & footer_keys(app)
        await pilot.press("a")
        await settle(pilot)
        assert app.status_bar.message == "第1000期还没播出：播出后才能标为已出场"
        assert booking(desk, 1000, 1).status == "confirmed"
        await pilot.press("x")
        await settle(pilot)
        assert booking(desk, 1000, 1).status == "cancelled"
        assert booking_rows(app)[0][4] == "已取消"
        assert app.status_bar.message == "第1000期 王伟：已取消邀请"
        assert not {"y", "d", "x"} & footer_keys(app)
        # 李娜 appeared on 999: nothing is left to do with that booking.
        await pilot.press("j")
        await settle(pilot)
        assert not {"y", "d", "x", "a", "o"} & footer_keys(app)
        titles = [title for title, *_ in app.palette_actions()]
        assert "嘉宾：邀请上节目" in titles and "嘉宾：确认" not in titles


async def test_a_booking_key_never_reaches_a_booking_not_on_screen(
    app: HotlineApp, desk: Station, settle
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await open_members(pilot, settle)
        pane = app.query_one("#members")
        # The cursor moves to 李娜: until her bookings are in, none is shown, and
        # y/d/x have nothing to act on (王伟's booking, shown a moment ago, is left alone).
        members(app).move_cursor(row=1)
        await pilot.press("x")
        await settle(pilot)
        assert booking(desk, 1000, 1).status == "confirmed"
        assert pane.bookings_of == "2"
        assert "李娜" in str(app.query_one("#bookings-title", Label).content)


async def test_sector_report_as_a_table(app: HotlineApp, settle) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await open_members(pilot, settle)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, SectorReportDialog)
        table = app.screen.query_one("#sector-table", DataTable)
        assert table.row_count == 31
        assert table.get_row_at(30) == ["医药卫生界", "1", "1", "1", "100.0%"]
        await pilot.press("escape")
        assert not isinstance(app.screen, SectorReportDialog)
