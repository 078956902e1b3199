"""听众: the inbox newest first, intake with the duplicate hint, every lifecycle move by
key, refusals with the domain's reason, and contacts masked unless revealed."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.widgets import Label

from hotline.models import Question
from hotline.station import Station
from tui.app import HotlineApp
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.prompt import PromptDialog
from tui.widgets.paged_table import PagedTable

SIZE = (140, 40)


def table(app: HotlineApp) -> PagedTable:
    return app.query_one("#questions-table", PagedTable)


def footer_keys(app: HotlineApp) -> set[str]:
    return {key.key for key in app.query("FooterKey") if key.display}


def footer_says(app: HotlineApp, key: str) -> str:
    """What the footer calls ``key`` now."""
    shown = [k for k in app.query("FooterKey") if k.display and k.key == key]
    assert len(shown) == 1, f"the footer shows {key} {len(shown)} times"
    return shown[0].description


def keys(app: HotlineApp) -> list[str]:
    t = table(app)
    return [str(t.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(t.row_count)]


def question(station: Station, question_id: int) -> Question:
    with station.session() as session:
        return session.get(Question, question_id)


async def open_inbox(pilot, settle) -> None:  # noqa: ANN001 - pilot and fixture
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)


async def go_to(pilot, app: HotlineApp, key: str, settle) -> None:  # noqa: ANN001
    while table(app).selected_key != key:
        await pilot.press("j")
    await settle(pilot)


async def test_inbox_newest_first_with_contacts_masked_until_revealed(
    app: HotlineApp, settle
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await open_inbox(pilot, settle)
        assert keys(app) == ["5", "4", "3", "2", "1"]
        await go_to(pilot, app, "1", settle)
        assert table(app).get_row("1")[6] == "138****5678"
        assert "13812345678" not in str(app.query_one("#questions-detail", Label).content)
        assert footer_says(app, "m") == "显示联系方式"
        await pilot.press("m")
        assert table(app).get_row("1")[6] == "13812345678"
        assert "13812345678" in str(app.query_one("#questions-detail", Label).content)
        assert footer_says(app, "m") == "隐藏联系方式"  # the key now hides it
        assert table(app).get_row("2")[6] == "136****5432"  # only the one asked for
        await pilot.press("m")
        assert table(app).get_row("1")[6] == "138****5678"
        assert footer_says(app, "m") == "显示联系方式"


async def test_a_call_back_with_nothing_to_call_back_about_says_why_without_a_form(
    app: HotlineApp, desk: Station, settle
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await open_inbox(pilot, settle)
        await go_to(pilot, app, "1", settle)  # 新来信: neither answered nor referred
        assert "b" not in footer_keys(app)
        await pilot.press("b")
        await settle(pilot)
        assert not isinstance(app.screen, PromptDialog)
        assert app.status_bar.message == "问题 #1 既未回答也未转办，无需回访"
        assert app.status_bar.is_error


async def test_filter_by_status_and_text(app: HotlineApp, settle, type_text) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await open_inbox(pilot, settle)
        await pilot.press("s")
        await settle(pilot)
        assert keys(app) == ["5", "1"]
        assert "新来信" in str(app.query_one("#questions-status", Label).content)
        await pilot.press(*["s"] * 8)  # round to 全部
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "托管")
        await settle(pilot)
        assert keys(app) == ["3", "2"]


async def test_intake_shows_the_duplicate_hint(
    app: HotlineApp, desk: Station, settle, type_text
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await open_inbox(pilot, settle)
        await pilot.press("n")
        await type_text(pilot, "小区旁边工地夜里十点后还施工")
        await settle(pilot)
        hint = str(app.screen.query_one("#duplicate-hint", Label).content)
        assert "#1" in hint and "可能重复" in hint
        await pilot.press("enter", "enter")  # channel: 电话
        await type_text(pilot, "钱先生")
        await pilot.press("enter")
        await type_text(pilot, "13700001234")
        await pilot.press("enter", "enter", "enter", "enter")  # district, topic, public title
        await settle(pilot)
        added = question(desk, 6)
        assert (added.status, added.channel, added.listener_contact) == (
            "new",
            "phone",
            "13700001234",
        )
        assert app.status_bar.message == "已登记问题 #6（电话）；可能重复：#1（按 u 标为重复）"
        assert table(app).selected_key == "6"
        assert table(app).get_row("6")[6] == "137****1234"
        await pilot.press("u", "enter")  # the form proposes the hinted question
        await settle(pilot)
        assert (question(desk, 6).status, question(desk, 6).duplicate_of) == ("duplicate", 1)


async def test_screen_assign_answer_resolve(
    app: HotlineApp, desk: Station, settle, type_text, time_machine
) -> None:
    # During the show of episode 1000 (Saturday 11:20), where 王伟 is a confirmed guest:
    # an answer needs the episode on air and the member booked on it.
    time_machine.move_to(datetime(2025, 6, 7, 3, 20, tzinfo=UTC), tick=True)
    async with app.run_test(size=SIZE) as pilot:
        await open_inbox(pilot, settle)
        await go_to(pilot, app, "1", settle)
        await pilot.press("v")
        await settle(pilot)
        assert question(desk, 1).status == "screened"
        assert app.status_bar.message == "问题 #1：已审核"
        # Screened: not offered again, nor answered before it is assigned; the key says
        # why, before any form opens.
        assert "v" not in footer_keys(app) and "w" not in footer_keys(app)
        await pilot.press("v")
        await settle(pilot)
        assert (
            app.status_bar.message
            == "问题 #1 已审核，不能审核（现在可以：分配、转办、拒绝、标为重复）"
        )
        await pilot.press("w")
        await settle(pilot)
        assert not isinstance(app.screen, PromptDialog)
        assert app.status_bar.message.startswith("问题 #1 已审核，不能记录回答")
        await pilot.press("a")
        await type_text(pilot, "1000")
        await pilot.press("enter")
        await settle(pilot)
        assert question(desk, 1).status == "assigned"
        assert table(app).get_row("1")[4] == 1000
        await pilot.press("w")
        await type_text(pilot, "王伟")
        await pilot.press("enter")
        await type_text(pilot, "75:00")  # past the end of a 60-minute episode
        await pilot.press("enter", "enter")
        await settle(pilot)
        past = "回答时间 01:15:00 超出第1000期的长度（01:00:00）"
        assert app.status_bar.message == past
        assert question(desk, 1).status == "assigned"
        # The form is still open with what was typed; the time is the field marked.
        assert isinstance(app.screen, PromptDialog)
        assert app.screen.values() == {"member": "王伟", "at": "75:00", "episode": "1000"}
        assert str(app.screen.query_one("#error-at", Label).content) == past
        assert app.focused is app.screen.input("at")
        # An unknown member is marked at the member field.
        app.screen.input("member").value = "赵六"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert str(app.screen.query_one("#error-member", Label).content) == ("没有名叫“赵六”的委员")
        app.screen.input("member").value = "王伟"
        app.screen.input("at").focus()
        await pilot.press("ctrl+u")
        await type_text(pilot, "12:30")
        await pilot.press("enter", "enter")
        await settle(pilot)
        answered = question(desk, 1)
        assert (answered.status, answered.member_id, answered.answer_offset) == (
            "answered",
            1,
            750.0,
        )
        assert app.status_bar.message == "问题 #1：王伟 已回答（12:30）"
        # Resolving is final: it asks first, naming the question.
        await pilot.press("c")
        assert isinstance(app.screen, ConfirmDialog)
        assert "#1" in app.screen.question and app.screen.question.endswith(
            "不能再分配、回答或转办。"
        )
        await pilot.press("n")
        await settle(pilot)
        assert question(desk, 1).status == "answered"
        await pilot.press("c", "y")
        await settle(pilot)
        assert question(desk, 1).status == "resolved"
        assert app.status_bar.message == "问题 #1：已办结"


async def test_refer_reject_and_final_states(
    app: HotlineApp, desk: Station, settle, type_text
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await open_inbox(pilot, settle)
        await go_to(pilot, app, "2", settle)  # screened
        await pilot.press("f")
        await type_text(pilot, "区教育局")
        await pilot.press("enter", "enter")  # the department, then the due date left empty
        await settle(pilot)
        referred = question(desk, 2)
        assert (referred.status, referred.referral_department) == ("referred", "区教育局")
        await go_to(pilot, app, "1", settle)  # new
        await pilot.press("x")
        await pilot.press("enter")  # a reason is required
        await settle(pilot)
        assert str(app.screen.query_one("#error-reason", Label).content) == ("理由不能为空")
        assert question(desk, 1).status == "new"
        await pilot.press("escape")
        await pilot.press("x")
        # The form says that rejecting is final before it is saved.
        warning = str(app.screen.query_one("#form-warning", Label).content)
        assert warning == "拒绝后这个问题就结束了：不能再审核、分配或回答。"
        await type_text(pilot, "与节目无关")
        await pilot.press("enter")
        await settle(pilot)
        rejected = question(desk, 1)
        assert (rejected.status, rejected.reject_reason) == ("rejected", "与节目无关")
        assert app.status_bar.message == "问题 #1：已拒绝（与节目无关）"
        assert not {"v", "a", "w", "f", "c", "x", "u"} & footer_keys(app)
        await pilot.press("c")
        await settle(pilot)
        assert app.status_bar.message == "问题 #1 已拒绝，不能办结（已结束，不能再处理）"
