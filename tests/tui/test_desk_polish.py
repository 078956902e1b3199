"""What the QA walkthrough of the desk found: a form's refusal on its own line above the
buttons, the status bar cleared on a tab switch, the question column readable at 80×24,
the 制作 tab's fixed job words in Chinese."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import Button, Label

from episodes import questions
from hotline.station import Station
from tests.tui.conftest import NOW
from tui.app import HotlineApp
from tui.dialogs.prompt import PromptDialog
from tui.widgets.paged_table import PagedTable
from tui.wording import job_message


@pytest.fixture
def referred(desk: Station) -> Station:
    """Question 2 referred two days ago."""
    with desk.session() as s:
        questions.refer(
            session=s,
            settings=desk.settings,
            question=2,
            department="区教育局",
            now=NOW - timedelta(days=2),
        )
    return desk


async def test_a_refusal_has_its_own_line_above_the_buttons(
    app: HotlineApp, referred: Station, settle, type_text
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("8")  # 转办
        await settle(pilot)
        await pilot.press("r")
        await type_text(pilot, "已安排暑期托管试点")
        await pilot.press("enter")
        await type_text(pilot, "2099-01-01")
        await pilot.press("ctrl+s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, PromptDialog)
        error = form.query_one("#form-error", Label)
        assert str(error.content) == "未保存：答复日期不能晚于今天"
        ok, cancel = form.query_one("#ok", Button), form.query_one("#cancel", Button)
        assert error.region.height == 1  # one line, not wrapped beside the buttons
        assert error.region.bottom <= ok.region.y  # above them, not on their row
        assert ok.region.y == cancel.region.y and cancel.region.right <= form.size.width


async def test_a_tab_switch_clears_the_last_tabs_message(
    app: HotlineApp, referred: Station, settle
) -> None:
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("8")  # 转办
        await settle(pilot)
        await pilot.press("b")  # no reply yet: said in the status bar
        await settle(pilot)
        assert app.status_bar.message == "问题 #2 的转办 #1 尚无部门答复，请先登记答复"
        await pilot.press("2")  # 嘉宾: that message was about 转办
        await settle(pilot)
        assert app.status_bar.message == ""


async def test_the_question_column_stays_readable_at_80_columns(app: HotlineApp, settle) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")  # 听众
        await settle(pilot)
        table = app.query_one("#questions-table", PagedTable)
        question = table.ordered_columns[-1]
        assert str(question.label) == "问题"
        assert question.width >= 20, [c.width for c in table.ordered_columns]


def test_the_fixed_job_words_are_said_in_chinese_and_free_text_is_left_alone() -> None:
    assert job_message("queued") == "排队中"
    assert job_message("writing tags") == "写入标签"
    assert job_message("chunk 3/12") == "第 3/12 段"
    assert job_message("queued again with master job 7") == "随母带制作任务 7 重新排队"
    assert job_message("requeued: worker stopped") == "重新排队：worker stopped"
    assert job_message("ffmpeg: 0001.wav: Invalid data") == "ffmpeg: 0001.wav: Invalid data"
