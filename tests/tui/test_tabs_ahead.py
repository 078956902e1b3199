"""Tabs built ahead of use: after launch the other tabs are built hidden and the quick ones
read their rows, so a first visit only shows them; what changed meanwhile still shows."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import TabbedContent

from episodes import questions
from tui.app import HotlineApp
from tui.screens.base import HotlinePane
from tui.widgets.paged_table import PagedTable

SIZE = (140, 40)


async def test_after_launch_every_tab_is_built_and_the_lists_are_read(
    app: HotlineApp, settle
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert all(pane.ready for pane in app.query(HotlinePane))
        assert app.query_one(TabbedContent).active == "schedule"
        assert app.query_one("#members-table", PagedTable).row_count == 4
        assert app.query_one("#questions-table", PagedTable).row_count == 5
        assert isinstance(app.focused, PagedTable) and app.focused.id == "schedule-table"


async def test_a_first_visit_shows_what_changed_since_the_tab_was_read(
    app: HotlineApp, settle
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        with app.station.session() as session:  # e.g. the CLI, while the desk is open
            questions.add_question(
                session=session,
                text="公交站台什么时候加装遮阳棚？",
                channel="phone",
                listener_name="吴先生",
                listener_contact="13700001111",
                received_at=app.now() + timedelta(minutes=5),
            )
        await pilot.press("3")
        await settle(pilot)
        table = app.query_one("#questions-table", PagedTable)
        assert table.row_count == 6
        assert "公交站台" in str(table.get_row_at(0)[-1])
        assert app.focused is table
        assert "共 6 条" in str(app.query_one("#status-count").content)


async def test_a_tab_pressed_at_once_after_launch_opens_built_and_filled(
    app: HotlineApp, settle
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")  # before the desk has settled or built anything ahead
        await settle(pilot)
        table = app.query_one("#questions-table", PagedTable)
        assert app.query_one(TabbedContent).active == "questions"
        assert app.focused is table
        assert table.row_count == 5
        await pilot.press("2")
        await settle(pilot)
        assert app.focused is app.query_one("#members-table")
