"""The desk's shell: tabs in Chinese switched by number keys, the footer, the command
palette, quitting, and the one-line registration of tabs."""

from __future__ import annotations

from textual.widgets import Footer, Input, TabbedContent

from tui.app import PANES, HotlineApp, pane_classes
from tui.screens.base import HotlinePane
from tui.widgets.paged_table import PagedTable

SIZE = (140, 40)


def tab_labels(app: HotlineApp) -> list[str]:
    tabs = app.query_one(TabbedContent)
    return [str(tabs.get_tab(pane.PANE_ID).label) for pane in app.panes]


async def test_opens_on_the_schedule_with_chinese_tabs_and_keys_in_the_footer(
    app: HotlineApp, settle
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.query_one(TabbedContent).active == "schedule"
        assert tab_labels(app)[:3] == ["1 排期", "2 嘉宾", "3 听众"]
        footer = {k.description for k in app.query_one(Footer).query("FooterKey") if k.display}
        assert {"新建", "编辑", "取消节目", "改期", "跳到期号"} <= footer
        assert isinstance(app.focused, PagedTable)


async def test_number_keys_switch_tabs_and_focus_each_table(app: HotlineApp, settle) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key, pane_id in (("2", "members"), ("3", "questions"), ("1", "schedule")):
            await pilot.press(key)
            await settle(pilot)
            assert app.query_one(TabbedContent).active == pane_id
            assert app.focused is app.query_one(f"#{pane_id}-table")
            assert app.query_one(f"#{pane_id}-table", PagedTable).row_count > 0
        if len(app.panes) < 9:
            await pilot.press("9")  # no ninth tab: nothing happens
            assert app.query_one(TabbedContent).active == "schedule"
        assert "共 5 条" in str(app.query_one("#status-count").content)


async def test_number_keys_type_into_a_dialog_instead_of_switching(app: HotlineApp, settle) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.press("2")
        assert app.query_one(TabbedContent).active == "schedule"
        assert app.screen.query_one("#field-number", Input).value == "2"
        await pilot.press("escape")
        assert not app.screen.query("#field-number")


async def test_command_palette_lists_app_and_tab_actions_and_runs_them(
    app: HotlineApp, settle, type_text
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [title for title, *_ in app.palette_actions()]
        assert "切换到 听众" in titles
        assert "排期：新建" in titles and "排期：改期" in titles
        await pilot.press("ctrl+p")
        await type_text(pilot, "切换到 听众")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert app.query_one(TabbedContent).active == "questions"
        titles = [title for title, *_ in app.palette_actions()]
        assert "听众：登记" in titles and "排期：新建" not in titles


async def test_q_quits(app: HotlineApp, settle) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_refusals_reach_the_status_bar(app: HotlineApp, settle) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.report("episode 9 does not exist", error=True)
        await pilot.pause()
        assert app.status_bar.message == "episode 9 does not exist"


def test_every_tab_is_one_pane_class_named_in_panes() -> None:
    classes = pane_classes()
    assert len(classes) == len(PANES)
    assert all(issubclass(c, HotlinePane) for c in classes)
    assert len({c.PANE_ID for c in classes}) == len(classes)
    assert [c.LABEL for c in classes][:3] == ["排期", "嘉宾", "听众"]
