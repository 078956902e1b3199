"""What the QA walkthrough of the desk found: a form's refusal on its own line above the
buttons."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import Button, Label

from episodes import questions
from hotline.station import Station
from tests.tui.conftest import NOW
from tui.app import HotlineApp
from tui.dialogs.prompt import PromptDialog


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
