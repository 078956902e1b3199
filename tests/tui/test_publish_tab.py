"""The 发布 tab: feeds with their validation state, publishing, a refused feed's problems."""

from __future__ import annotations

import threading

import feeds_fixtures as ff
import pytest
from textual.widgets import DataTable, Label, TabbedContent
from waiting import until

from episodes.lookup import get_episode
from feeds.publish import publish
from hotline.station import Station
from tui.app import HotlineApp, make_app
from tui.dialogs.confirm import ConfirmDialog
from tui.screens.publish import PublishPane

SIZE = (140, 40)
PROFILES = ("generic", "apple", "spotify", "xiaoyuzhou", "ximalaya")


@pytest.fixture
def ready(station: Station) -> Station:
    """Three mastered, aired episodes and a good cover: ready to publish."""
    ff.use_cover(station)
    with station.session() as session:
        for number in (1, 2, 3):
            ff.add_episode(station, session, number)
    return station


@pytest.fixture
def publish_app(ready: Station) -> HotlineApp:
    return make_app(ready, clock=lambda: ff.NOW)


def key_of(app: HotlineApp, pane_id: str) -> str:
    return str([p.PANE_ID for p in app.panes].index(pane_id) + 1)


def states(app: HotlineApp) -> dict[str, str]:
    table = app.query_one("#feeds-table", DataTable)
    return {
        str(table.coordinate_to_cell_key((i, 0)).row_key.value): table.get_row_at(i)[5]
        for i in range(table.row_count)
    }


def text(app: HotlineApp, selector: str) -> str:
    return str(app.query_one(selector, Label).content)


async def open_publish(app: HotlineApp, pilot, settle) -> None:  # noqa: ANN001 - Pilot, fixture
    """The desk up, then 发布 shown and its first check done."""
    await settle(pilot)
    await pilot.press(key_of(app, "publish"))
    await settle(pilot)
    assert app.query_one(TabbedContent).active == "publish"


async def test_publish_then_a_refused_feed_keeps_the_last_good_one(
    publish_app: HotlineApp, ready: Station, settle
) -> None:
    app = publish_app
    async with app.run_test(size=SIZE) as pilot:
        await open_publish(app, pilot, settle)
        assert states(app) == dict.fromkeys(PROFILES, "未发布")
        assert str(ready.public_dir / "feeds") in text(app, "#feeds-where")
        assert "not published yet" in text(app, "#feed-problems")

        await pilot.press("p")
        await settle(pilot)  # the preview, then the question
        await pilot.press("n")  # asked first: no means nothing happens
        await settle(pilot)
        assert not (ready.public_dir / "feeds/generic.xml").exists()

        await pilot.press("p")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert states(app) == dict.fromkeys(PROFILES, "通过")
        assert "已发布：3 期在订阅源中；新发布 第1、2、3期" in text(app, "#status-message")
        table = app.query_one("#feeds-table", DataTable)
        assert table.get_row_at(0)[1:3] == ["public/feeds/generic.xml", "3"]
        assert "没有问题" in text(app, "#feed-problems")
        good = (ready.public_dir / "feeds/apple.xml").read_bytes()
        with ready.session() as session:
            assert get_episode(session, 2).status == "published"

        ff.use_cover(ready, size=800)  # too small for Apple and others, fine for Spotify
        with ready.session() as session:
            get_episode(session, 1).title = "更新后的标题"
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert states(app) == {
            "generic": "发布失败",
            "apple": "发布失败",
            "spotify": "通过",
            "xiaoyuzhou": "发布失败",
            "ximalaya": "发布失败",
        }
        assert text(app, "#status-message").startswith("4 个问题：失败的订阅源未写入")
        await pilot.press("down")  # apple
        problems = text(app, "#feed-problems")
        assert "800×800" in problems and "保留上一版" in problems
        assert (ready.public_dir / "feeds/apple.xml").read_bytes() == good


async def test_a_publish_made_elsewhere_shows_here_without_a_key(
    publish_app: HotlineApp, ready: Station, settle
) -> None:
    app = publish_app
    async with app.run_test(size=SIZE) as pilot:
        await open_publish(app, pilot, settle)
        await pilot.press("down", "down")  # spotify
        assert states(app) == dict.fromkeys(PROFILES, "未发布")
        said = text(app, "#status-message")

        publish(station=ready, now=ff.NOW)  # another desk, `hotline publish` or a worker
        assert await until(pilot, lambda: states(app) == dict.fromkeys(PROFILES, "通过")), (
            "the 发布 tab never showed the feeds published elsewhere"
        )
        table = app.query_one("#feeds-table", DataTable)
        assert table.get_row_at(0)[2] == "3"
        assert table.cursor_row == 2  # still on spotify
        problems = text(app, "#feed-problems")
        assert "spotify" in problems.lower() and "没有问题" in problems
        assert text(app, "#status-message") == said  # read quietly: nothing said


async def test_a_quiet_check_under_way_never_stands_in_the_producers_way(
    publish_app: HotlineApp, ready: Station, settle, monkeypatch: pytest.MonkeyPatch
) -> None:
    import feeds.status

    app = publish_app
    async with app.run_test(size=SIZE) as pilot:
        await open_publish(app, pilot, settle)
        real, gate, began = feeds.status.validate_feeds, threading.Event(), threading.Event()

        def slow_check(**kwargs):  # noqa: ANN003, ANN202 - the real signature
            began.set()
            gate.wait(30)
            return real(**kwargs)

        monkeypatch.setattr(feeds.status, "validate_feeds", slow_check)
        app.query_one(PublishPane).reload()  # a change elsewhere: a quiet check begins
        assert await until(pilot, began.is_set)
        monkeypatch.setattr(feeds.status, "validate_feeds", real)
        await pilot.press("p")  # the producer publishes meanwhile: asked at once
        assert await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        assert await until(pilot, lambda: "已发布：3 期在订阅源中" in text(app, "#status-message"))
        assert states(app) == dict.fromkeys(PROFILES, "通过")
        gate.set()  # the quiet check ends after the publish: what it read is dropped
        await settle(pilot)
        assert states(app) == dict.fromkeys(PROFILES, "通过")
        assert "已发布：3 期在订阅源中" in text(app, "#status-message")


async def test_a_damaged_master_is_said_when_the_publish_leaves_it_out(
    publish_app: HotlineApp, ready: Station, settle
) -> None:
    with ready.session() as session:
        for number in range(4, 11):
            ff.add_episode(ready, session, number)
    assert publish(station=ready, now=ff.NOW).ok
    with (ready.master_dir / "0003.mp3").open("r+b") as master:
        master.truncate(100)
    app = publish_app
    async with app.run_test(size=SIZE) as pilot:
        await open_publish(app, pilot, settle)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "已发布：9 期在订阅源中；1 期母带缺失或损坏，未列入" in text(app, "#status-message")
    assert not (ready.public_dir / "audio/0003.mp3").exists()
