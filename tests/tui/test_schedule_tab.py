"""排期: the producer drives the schedule from the keyboard; the database and the screen
show the result, every action answers in the status bar, a refused form stays open with
what was typed, and every refusal leaves the database as it was."""

from __future__ import annotations

from sqlmodel import func, select
from textual.widgets import Input, Label

from hotline.models import Booking, Episode
from hotline.station import Station
from tui.app import HotlineApp
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.prompt import PromptDialog
from tui.widgets.paged_table import PagedTable

SIZE = (140, 40)


def table(app: HotlineApp) -> PagedTable:
    return app.query_one("#schedule-table", PagedTable)


def footer_keys(app: HotlineApp) -> set[str]:
    """The keys the footer offers now."""
    return {key.key for key in app.query("FooterKey") if key.display}


def keys(app: HotlineApp) -> list[str]:
    t = table(app)
    return [str(t.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(t.row_count)]


def episode(station: Station, number: int) -> Episode | None:
    with station.session() as session:
        return session.exec(select(Episode).where(Episode.number == number)).first()


def count(station: Station) -> int:
    with station.session() as session:
        return session.exec(select(func.count()).select_from(Episode)).one()


def field_error(app: HotlineApp, name: str) -> str:
    return str(app.screen.query_one(f"#error-{name}", Label).content)


def marked(app: HotlineApp, name: str) -> bool:
    """The form shows field ``name`` as refused."""
    return app.screen.query_one(f"#field-{name}", Input).has_class("-invalid")


async def test_opens_on_the_next_episode_newest_first(app: HotlineApp, settle) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert keys(app) == ["1002", "1001", "1000", "999", "998"]
        assert table(app).selected_key == "1000"
        detail = str(app.query_one("#schedule-detail", Label).content)
        assert "第1000期" in detail and "主持：李明、王芳" in detail
        assert table(app).get_row("1000")[4] == "王伟"  # the booked guest


async def test_filter_by_text_and_status(app: HotlineApp, settle, type_text) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await type_text(pilot, "垃圾")
        await settle(pilot)
        assert keys(app) == ["1001"]
        await pilot.press("escape")
        assert app.focused is table(app)
        app.query_one("#schedule-filter", Input).value = ""
        await settle(pilot)
        await pilot.press("s")  # 计划中
        await settle(pilot)
        assert keys(app) == ["1002", "1001"]
        assert "计划中" in str(app.query_one("#schedule-status", Label).content)
        await pilot.press("s")  # 已确认
        await settle(pilot)
        assert keys(app) == ["1000"]


async def test_jump_to_an_episode_number(app: HotlineApp, settle, type_text) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await type_text(pilot, "998")
        await pilot.press("enter")
        await settle(pilot)
        assert table(app).selected_key == "998"
        assert app.status_bar.message == "已跳到第998期"
        await pilot.press("colon")
        await type_text(pilot, "5")
        await pilot.press("enter")
        await settle(pilot)
        # Refused: the dialog stays open with the number typed, the reason under it.
        assert isinstance(app.screen, PromptDialog)
        assert app.screen.input("number").value == "5"
        assert field_error(app, "number") == "第5期不存在" and marked(app, "number")
        assert app.status_bar.message == "第5期不存在"
        assert app.status_bar.is_error


async def test_new_episode_is_added(app: HotlineApp, desk: Station, settle, type_text) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await type_text(pilot, "1003")
        await pilot.press("enter")
        await type_text(pilot, "第1003期：夜间施工扰民")
        await pilot.press("enter")
        await type_text(pilot, "城市管理")
        await pilot.press("enter", "enter")  # hosts: the show's regular ones
        await type_text(pilot, "2025-06-28 11:00")
        await pilot.press("enter", "enter", "enter")  # duration and description: defaults
        await settle(pilot)
        added = episode(desk, 1003)
        assert added is not None and added.title == "第1003期：夜间施工扰民"
        assert added.topic == "城市管理" and added.hosts == ["李明", "王芳"]
        assert app.status_bar.message.startswith("已新建第1003期 2025-06-28 11:00")
        assert table(app).selected_key == "1003"


async def test_form_refuses_as_you_type_with_the_cli_reason(
    app: HotlineApp, desk: Station, settle, type_text
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.press("enter", "enter")  # number blank is fine; title blank is not
        assert field_error(app, "title") == "标题不能为空"
        assert app.focused is app.screen.query_one("#field-title", Input)
        await type_text(pilot, "第1003期")
        assert field_error(app, "title") == ""
        app.screen.query_one("#field-air", Input).focus()
        await pilot.pause()
        await type_text(pilot, "2025-13-01")
        assert field_error(app, "air") == (
            "播出时间“2025-13-01”不是时间：请按 YYYY-MM-DD HH:MM 填写"
        )
        await pilot.press("ctrl+s")  # refused: the form stays open
        await settle(pilot)
        assert app.screen.query("#field-air")
        assert count(desk) == 5


async def test_taken_number_and_overlap_are_refused_and_change_nothing(
    app: HotlineApp, desk: Station, settle, type_text
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await type_text(pilot, "1000")
        await pilot.press("enter")
        await type_text(pilot, "重复的期号")
        await pilot.press("ctrl+s")
        await settle(pilot)
        taken = "第1000期已存在（2025-06-07 11:00 第1000期：暑期托管服务），期号不能重复使用"
        assert app.status_bar.message == taken
        # The form is still open, everything typed still there, the number marked.
        assert isinstance(app.screen, PromptDialog)
        assert app.screen.values()["title"] == "重复的期号"
        assert field_error(app, "number") == taken and marked(app, "number")
        assert app.focused is app.screen.input("number")
        # Fix the number, move the air time onto 1000's slot: refused at the air time.
        await pilot.press("ctrl+u")
        app.screen.input("air").focus()
        await pilot.pause()
        await type_text(pilot, "2025-06-07 11:30")
        await pilot.press("ctrl+s")
        await settle(pilot)
        overlap = "播出时间 2025-06-07 11:30 与第1000期（2025-06-07 11:00，60 分钟）冲突"
        assert app.status_bar.message == overlap
        assert field_error(app, "air") == overlap and marked(app, "air")
        assert app.screen.values()["title"] == "重复的期号"
        assert count(desk) == 5
        # A free slot: saved, the form closes, the status bar says what was done.
        await pilot.press("ctrl+u")
        await type_text(pilot, "2025-06-28 11:00")
        assert not marked(app, "air")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, PromptDialog)
        assert count(desk) == 6
        assert app.status_bar.message == "已新建第1003期 2025-06-28 11:00 重复的期号"


async def test_enter_opens_the_episode_to_edit(
    app: HotlineApp, desk: Station, settle, type_text
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # on 1000
        title = app.screen.query_one("#field-title", Input)
        assert title.value == "第1000期：暑期托管服务"
        await pilot.press("home", "ctrl+k")
        await type_text(pilot, "第1000期：暑期安全")
        app.screen.query_one("#field-air", Input).focus()
        await pilot.pause()
        await pilot.press("home", "ctrl+k")
        await type_text(pilot, "2025-06-07 14:00")
        await pilot.press("ctrl+s")
        await settle(pilot)
        edited = episode(desk, 1000)
        assert edited.title == "第1000期：暑期安全"
        assert edited.air_start.astimezone(desk.tz).strftime("%H:%M") == "14:00"
        assert app.status_bar.message == "已保存第1000期（标题、播出时间）"
        assert table(app).get_row("1000")[3] == "第1000期：暑期安全"


async def test_edit_with_a_refused_air_time_changes_nothing(
    app: HotlineApp, desk: Station, settle, type_text
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j")  # 999, aired
        await pilot.press("e")
        await pilot.press("end")
        await type_text(pilot, "（重播）")
        app.screen.query_one("#field-air", Input).focus()
        await pilot.pause()
        await pilot.press("home", "ctrl+k")
        await type_text(pilot, "2025-05-31 15:00")
        await pilot.press("ctrl+s")
        await settle(pilot)
        refused = "第999期已播出，不能改期"
        assert app.status_bar.message == refused
        assert field_error(app, "air") == refused
        assert app.screen.values()["title"] == "第999期：医保异地结算（重播）"
        assert episode(desk, 999).title == "第999期：医保异地结算"


async def test_cancel_asks_then_cancels_with_the_bookings(
    app: HotlineApp, desk: Station, settle
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        # The question names the episode and what goes with it, then what cannot be undone.
        assert isinstance(app.screen, ConfirmDialog)
        assert "第1000期《第1000期：暑期托管服务》" in app.screen.question
        assert "王伟" in app.screen.question and app.screen.question.endswith("也不会再用。")
        await pilot.press("n")  # no: nothing happens
        await settle(pilot)
        assert episode(desk, 1000).status == "confirmed"
        assert app.status_bar.message == "未执行：选择了“否”"
        await pilot.press("c", "y")
        await settle(pilot)
        assert episode(desk, 1000).status == "cancelled"
        with desk.session() as session:
            statuses = session.exec(select(Booking.status)).all()
        assert "confirmed" not in statuses and "cancelled" in statuses
        assert app.status_bar.message == "已取消第1000期，取消邀请 1 人"
        assert table(app).get_row("1000")[2] == "已取消"
        # A cancelled episode is not offered for cancelling: the key says why, asks nothing.
        assert "c" not in footer_keys(app)
        await pilot.press("c")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        assert app.status_bar.message == "第1000期已取消，不能取消"
        assert app.status_bar.is_error


async def test_reschedule(app: HotlineApp, desk: Station, settle, type_text) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("k", "r")  # 1001
        await pilot.press("home", "ctrl+k")
        await type_text(pilot, "2025-06-15 09:00")
        await pilot.press("enter")
        await settle(pilot)
        moved = episode(desk, 1001)
        assert moved.air_start.astimezone(desk.tz).strftime("%m-%d %H:%M") == "06-15 09:00"
        assert app.status_bar.message == "第1001期改到 2025-06-15 09:00"


async def test_generate_the_next_episodes(app: HotlineApp, desk: Station, settle) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t", "backspace", "3", "enter")
        await settle(pilot)
        assert count(desk) == 8
        assert [episode(desk, n).title for n in (1003, 1004, 1005)] == [
            "第1003期",
            "第1004期",
            "第1005期",
        ]
        assert app.status_bar.message == "已排出 3 期：第1003–1005期（2025-06-28 至 2025-07-12）"
        assert keys(app)[:3] == ["1005", "1004", "1003"]
