"""The desk says the domain's field checks in Chinese, with the field named as the form
labels it: empty, over-long and badly written values (the CLI keeps the English lines)."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Label

from hotline.errors import InvalidInput
from hotline.text import clean_text
from hotline.timeutil import parse_date, parse_local_datetime, parse_offset, zone
from tui.app import HotlineApp
from tui.dialogs.prompt import PromptDialog
from tui.wording import in_chinese

SIZE = (140, 40)


def field_error(app: HotlineApp, name: str) -> str:
    return str(app.screen.query_one(f"#error-{name}", Label).content)


async def put(pilot, name: str, text: str) -> None:  # noqa: ANN001 - pilot
    """Paste ``text`` into the form's field ``name`` (as a terminal pastes it: at once)."""
    field = pilot.app.screen.query_one(f"#field-{name}", Input)
    field.focus()
    field.value = text
    await pilot.pause()


async def test_the_caller_form_names_its_fields_in_chinese(app: HotlineApp, settle) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")  # 直播台
        await settle(pilot)
        await pilot.press("n")
        await put(pilot, "district", "海淀区" * 126 + "西二旗")  # 381 characters
        assert field_error(app, "district") == "区县有 381 个字，最多 50 个字"
        await put(pilot, "district", "海淀区")
        await pilot.press("ctrl+s")  # the summary is still empty
        assert field_error(app, "district") == ""
        assert field_error(app, "summary") == "问题摘要不能为空"
        assert isinstance(app.screen, PromptDialog)


async def test_the_episode_form_names_its_fields_in_chinese(app: HotlineApp, settle) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await put(pilot, "title", "长" * 1000)
        assert field_error(app, "title") == "标题有 1000 个字，最多 200 个字"
        await put(pilot, "title", "第1003期：老旧小区改造")
        await put(pilot, "air", "下周六上午")
        assert field_error(app, "air") == "播出时间“下周六上午”不是时间：请按 YYYY-MM-DD HH:MM 填写"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PromptDialog)  # refused: still open, nothing added


@pytest.mark.parametrize(
    ("check", "said"),
    [
        (lambda: clean_text(" ", field="reason", max_length=200, required=True), "理由不能为空"),
        (
            lambda: clean_text("话" * 300, field="reply text", max_length=200),
            "部门答复有 300 个字，最多 200 个字",
        ),
        (
            lambda: parse_date("6月30日", field="due date"),
            "答复期限“6月30日”不是日期：请按 YYYY-MM-DD 填写",
        ),
        (
            lambda: parse_offset("十二分", field="answer time"),
            "节目中的时间“十二分”格式不对：请按 分:秒 或 时:分:秒 填写",
        ),
        (
            lambda: parse_local_datetime("2025-03-09 02:30", zone("America/New_York")),
            "播出时间“2025-03-09 02:30”在 America/New_York 时区不存在（夏令时切换），请换一个时间",
        ),
    ],
)
def test_each_shape_of_field_check_is_said_in_chinese(check, said: str) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput) as refused:
        check()
    assert in_chinese(refused.value) == said
    assert said not in str(refused.value)  # the CLI's line stays English


def test_the_domains_own_chinese_line_wins_and_other_lines_pass_as_they_are() -> None:
    assert in_chinese(InvalidInput("title must not be empty", zh="请填写标题")) == "请填写标题"
    assert in_chinese(InvalidInput("unknown time zone 'Mars/Base'")) == (
        "unknown time zone 'Mars/Base'"
    )
