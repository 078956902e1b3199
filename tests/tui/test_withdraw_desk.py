"""At the desk: withdrawing and reinstating an episode (排期, ``w`` and ``u``), each asking
first and naming what goes or comes back, and the 发布 tab's preview before it asks."""

from __future__ import annotations

import feeds_fixtures as ff
import pytest
from textual.widgets import DataTable, Label

from episodes.lookup import get_episode
from feeds.publish import publish
from hotline.station import Station
from tui.app import HotlineApp, make_app
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.history_dialog import HistoryDialog
from tui.dialogs.prompt import PromptDialog
from tui.widgets.paged_table import PagedTable

SIZE = (140, 40)


@pytest.fixture
def published(station: Station) -> Station:
    """Three episodes in every feed."""
    ff.use_cover(station)
    with station.session() as session:
        for number in (1, 2, 3):
            ff.add_episode(station, session, number, title=f"第{number}期：社区养老服务")
    assert publish(station=station, now=ff.NOW).ok
    return station


@pytest.fixture
def desk_app(published: Station) -> HotlineApp:
    return make_app(published, clock=lambda: ff.NOW)


def key_of(app: HotlineApp, pane_id: str) -> str:
    return str([p.PANE_ID for p in app.panes].index(pane_id) + 1)


def guid_in_feeds(station: Station, guid: str) -> list[bool]:
    return [
        guid.encode() in (station.public_dir / f"feeds/{name}.xml").read_bytes()
        for name in ("generic", "apple", "spotify", "xiaoyuzhou", "ximalaya")
    ]


def withdrawn(station: Station, number: int) -> str | None:
    with station.session(write=False) as session:
        episode = get_episode(session, number)
        return episode.withdrawal_reason if episode.withdrawn_at else None


def question(app: HotlineApp) -> str:
    assert isinstance(app.screen, ConfirmDialog), app.screen
    return app.screen.question


async def select(app: HotlineApp, pilot, settle, number: int) -> None:
    await pilot.press(key_of(app, "schedule"))
    await settle(pilot)
    table = app.query_one("#schedule-table", PagedTable)
    keys = [str(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(table.row_count)]
    table.move_cursor(row=keys.index(str(number)))
    await settle(pilot)


async def test_withdraw_and_reinstate_ask_first_naming_what_goes(
    desk_app: HotlineApp, published: Station, settle, type_text
) -> None:
    app = desk_app
    with published.session(write=False) as session:
        guid = get_episode(session, 2).guid
    assert guid is not None
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(app, pilot, settle, 2)
        await pilot.press("u")  # not withdrawn: said in the status bar, nothing opens
        await settle(pilot)
        assert app.status_bar.message == "第2期没有撤下，无需恢复"
        assert not isinstance(app.screen, (PromptDialog, ConfirmDialog))

        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, PromptDialog)
        await type_text(pilot, "嘉宾口误，数据待核实")
        await pilot.press("ctrl+s")
        await settle(pilot)
        asked = question(app)
        assert "撤下第2期《第2期：社区养老服务》" in asked
        assert "5 个订阅源" in asked and "小宇宙" in asked
        for name in ("audio/0002.mp3", "transcripts/0002.vtt", "chapters/0002.json"):
            assert name in asked
        await pilot.press("n")  # no: nothing happens, the form keeps the reason
        await settle(pilot)
        assert withdrawn(published, 2) is None and all(guid_in_feeds(published, guid))
        assert isinstance(app.screen, PromptDialog)
        assert app.screen.input("reason").value == "嘉宾口误，数据待核实"

        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, (PromptDialog, ConfirmDialog))
        assert withdrawn(published, 2) == "嘉宾口误，数据待核实"
        assert not any(guid_in_feeds(published, guid))
        assert not (published.public_dir / "audio/0002.mp3").exists()
        assert app.status_bar.message.startswith("已撤下第2期：移出 5 个订阅源，删除 5 个公开文件")
        table = app.query_one("#schedule-table", PagedTable)
        assert table.get_row("2")[2] == "已撤下"
        detail = str(app.query_one("#schedule-detail", Label).content)
        assert "嘉宾口误，数据待核实" in detail
        # The detail says what the row says, not the status from before the withdrawal.
        assert detail.splitlines()[0].startswith("第2期 ") and "已撤下" in detail.splitlines()[0]
        assert "已发布" not in detail

        await pilot.press("h")  # the history says it in Chinese too
        await settle(pilot)
        assert isinstance(app.screen, HistoryDialog)
        lines = app.screen.query_one("#history-table", DataTable)
        last = lines.get_row_at(lines.row_count - 1)[4]
        assert last == "已从所有订阅源撤下：嘉宾口误，数据待核实", last
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("w")  # already withdrawn: said, nothing opens
        await settle(pilot)
        assert app.status_bar.message.startswith("第2期已撤下")
        assert not isinstance(app.screen, PromptDialog)

        await pilot.press("u")
        await settle(pilot)
        asked = question(app)
        assert "恢复第2期" in asked and "嘉宾口误，数据待核实" in asked
        assert "audio/0002.mp3" in asked and "5 个订阅源" in asked
        await pilot.press("y")
        await settle(pilot)
        assert withdrawn(published, 2) is None
        assert all(guid_in_feeds(published, guid))  # the same guid, in every feed
        assert (published.public_dir / "audio/0002.mp3").is_file()
        assert app.status_bar.message == "已恢复第2期：重新列入 5 个订阅源，GUID 不变"


async def test_an_episode_never_published_is_not_offered_for_withdrawal(
    desk_app: HotlineApp, published: Station, settle
) -> None:
    with published.session() as session:
        ff.add_episode(published, session, 4, master=False, status="planned")
    async with desk_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(desk_app, pilot, settle, 4)
        await pilot.press("w")
        await settle(pilot)
        assert desk_app.status_bar.message == "第4期从未发布，没有可撤下的内容"
        assert desk_app.status_bar.is_error
        assert not isinstance(desk_app.screen, PromptDialog)


async def test_publish_shows_what_it_will_do_before_asking(
    desk_app: HotlineApp, published: Station, settle
) -> None:
    app = desk_app
    with published.session() as session:
        get_episode(session, 1).title = "第1期：社区养老服务（更正）"
        ff.add_episode(published, session, 4, title="第4期：老旧小区加装电梯")
    shown = (published.public_dir / "feeds/apple.xml").read_bytes()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(key_of(app, "publish"))
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        asked = question(app)
        assert "各平台订阅源（5 个）：新增 第4期；修改 第1期（title" in asked
        assert "public/ 文件：新增 " in asked
        await pilot.press("n")
        await settle(pilot)
        assert (published.public_dir / "feeds/apple.xml").read_bytes() == shown
        summary = str(app.query_one("#feed-problems", Label).content)  # in full on the tab
        assert summary.startswith("发布预览（尚未写入）")
        assert "新增 第4期《第4期：老旧小区加装电梯》" in summary
        assert "修改 第1期《第1期：社区养老服务（更正）》（title" in summary
        assert "Apple Podcasts" in summary and "小宇宙" in summary

        await pilot.press("p")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert (
            b"\xe7\xac\xac4\xe6\x9c\x9f" in (published.public_dir / "feeds/apple.xml").read_bytes()
        )
        await pilot.press("p")  # nothing left to publish: said, not asked
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        assert app.status_bar.message.startswith("没有需要发布的改动")
