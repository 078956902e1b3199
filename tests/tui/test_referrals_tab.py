"""转办: overdue referrals on top, the reply and the call-back by key, the department report,
and ``h``: the history of the row under the cursor on any tab."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import DataTable, Label

from episodes import questions, referrals
from hotline.models import Question, Referral
from hotline.station import Station
from tests.tui.conftest import NOW
from tui.app import HotlineApp
from tui.dialogs.department_report import DepartmentReportDialog
from tui.dialogs.history_dialog import HistoryDialog
from tui.dialogs.prompt import PromptDialog
from tui.widgets.paged_table import PagedTable

SIZE = (140, 40)


@pytest.fixture
def referred(desk: Station) -> Station:
    """Question 2 referred ten days ago and overdue; question 5 referred yesterday."""
    with desk.session() as s:
        questions.screen(session=s, question=5)
        common = {"session": s, "settings": desk.settings}
        questions.refer(
            **common,
            question=2,
            department="区教育局",
            due="2025-05-30",
            now=NOW - timedelta(days=10),
        )
        questions.refer(
            **common,
            question=5,
            department="市住房和城乡建设管理委员会",
            now=NOW - timedelta(days=1),
        )
    return desk


def table(app: HotlineApp) -> PagedTable:
    return app.query_one("#referrals-table", PagedTable)


async def open_tab(pilot, settle) -> None:  # noqa: ANN001 - pilot and fixture
    await settle(pilot)
    await pilot.press("8")
    await settle(pilot)


async def test_overdue_first_then_reply_and_call_back(
    app: HotlineApp, referred: Station, settle, type_text
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, settle)
        rows = [table(app).get_row_at(i) for i in range(table(app).row_count)]
        assert [(r[0], r[1], r[5]) for r in rows] == [(1, 2, "逾期 5 天"), (2, 5, "待复")]
        assert "区教育局" in str(app.query_one("#referrals-detail", Label).content)
        await pilot.press("b")  # a call-back before the reply: no form, the reason instead
        await settle(pilot)
        assert app.status_bar.message == "问题 #2 的转办 #1 尚无部门答复，请先登记答复"
        assert not isinstance(app.screen, PromptDialog)
        await pilot.press("r")
        await type_text(pilot, "已安排暑期托管试点")
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert app.status_bar.message.startswith("转办 #1：已登记答复（逾期）")
        assert table(app).get_row("1")[5] == "已答复"
        await pilot.press("r")  # a second reply: no form, the reason instead
        await settle(pilot)
        assert app.status_bar.message == "转办 #1 已有答复，不能再记录答复"
        assert app.status_bar.is_error and not isinstance(app.screen, PromptDialog)
        await pilot.press("b")
        await pilot.press("enter", "enter")  # 满意 is the default outcome
        await settle(pilot)
        assert app.status_bar.message == "问题 #2：已回访（满意），问题已办结"
    with referred.session() as s:
        assert s.get(Question, 2).status == "resolved"
        assert s.get(Referral, 1).status == "closed"


async def test_views_and_closing_early_with_a_reason(
    app: HotlineApp, referred: Station, settle, type_text
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, settle)
        await pilot.press("s")  # 逾期
        await settle(pilot)
        assert table(app).row_count == 1
        assert "逾期" in str(app.query_one("#referrals-view", Label).content)
        await pilot.press("c")
        await pilot.press("enter")  # a reason is required
        await settle(pilot)
        assert str(app.screen.query_one("#error-reason", Label).content) == ("理由不能为空")
        await type_text(pilot, "听众来电告知已解决")
        await pilot.press("enter")
        await settle(pilot)
        assert app.status_bar.message == "问题 #2：已办结"
        assert table(app).row_count == 0
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DepartmentReportDialog)
        report = app.screen.query_one(DataTable)
        names = [report.get_row_at(i)[0] for i in range(report.row_count)]
        assert names == ["区教育局", "市住房和城乡建设管理委员会", "合计"]
        assert report.get_row("total")[1:5] == ["2", "0", "0（0%）", "0"]
    with referred.session() as s:
        assert s.get(Referral, 1).close_reason == "听众来电告知已解决"


async def test_h_shows_the_history_of_the_row_under_the_cursor(
    app: HotlineApp, referred: Station, settle
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, settle)
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HistoryDialog)
        assert app.screen.title_text.startswith("修改记录：问题 #2")
        shown = app.screen.query_one("#history-table", DataTable)
        what = [shown.get_row_at(i)[2] for i in range(shown.row_count)]
        assert what[-2:] == ["转办 #1 → 区教育局", "问题 #2"]
        assert shown.get_row_at(shown.row_count - 1)[4] == (
            "status: screened → referred; referral_department: ∅ → 区教育局"
        )
        await pilot.press("escape")
        await pilot.press("1")  # 排期: the episode under the cursor
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HistoryDialog)
        assert app.screen.title_text.startswith("修改记录：第")
        await pilot.press("escape")
        await pilot.press("4")  # 直播台 with no call: said, not shown
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        assert not isinstance(app.screen, HistoryDialog)
        assert app.status_bar.message == "直播台上没有选中的来电"
        await pilot.press("5")  # 制作 has no rows with a history: says where h works
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        assert not isinstance(app.screen, HistoryDialog)
        assert app.status_bar.message.startswith("制作的行没有修改记录：h 看排期、嘉宾")


async def test_the_inbox_calls_back_an_answered_question_and_asks_why_a_referral_closes_early(
    app: HotlineApp, referred: Station, settle, type_text
) -> None:
    inbox = "#questions-table"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        questions_table = app.query_one(inbox, PagedTable)
        await pilot.press("j")  # newest first: 5, then 4, answered on air by 李娜
        await settle(pilot)
        assert questions_table.selected_key == "4"
        await pilot.press("b")
        await pilot.press("backspace", "backspace")  # the default 满意
        await type_text(pilot, "基本满意")
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert app.status_bar.message == "问题 #4：已回访（基本满意），已办结"
        for _ in range(2):  # down to question 2: referred, no reply yet
            await pilot.press("j")
        await settle(pilot)
        assert questions_table.selected_key == "2"
        await pilot.press("c")
        await settle(pilot)
        assert app.screen.query_one("#field-reason") is not None
        await type_text(pilot, "家长已找到托管班")
        await pilot.press("enter")
        await settle(pilot)
        assert app.status_bar.message == "问题 #2：已办结"
    with referred.session() as s:
        assert s.get(Question, 4).status == "resolved"
        assert s.get(Referral, 1).close_reason == "家长已找到托管班"


async def test_an_outcome_the_desk_does_not_know_is_refused_in_chinese(
    app: HotlineApp, referred: Station, settle, type_text
) -> None:
    with referred.session() as s:
        referrals.reply(session=s, referral=1, text="已答复", tz=referred.tz, now=NOW)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, settle)
        while table(app).selected_key != "1":  # replied: after the open one
            await pilot.press("j")
        await pilot.press("b")
        await settle(pilot)
        app.screen.query_one("#field-outcome").value = ""
        await type_text(pilot, "非常满意")
        await settle(pilot)
        error = str(app.screen.query_one("#error-outcome", Label).content)
        assert error == "回访结果“非常满意”不对：请填 满意、基本满意、不满意 或 未接通"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PromptDialog)  # still open, nothing recorded
    with referred.session() as s:
        assert s.get(Question, 2).status == "referred"
