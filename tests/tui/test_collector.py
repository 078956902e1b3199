"""The desk holds garbage collection back while it starts and while a tab switch is drawn,
and always turns it back on; collection someone else turned off stays off."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from tui.app import HotlineApp
from tui.collector import CollectorPause

SIZE = (140, 40)


@pytest.fixture(autouse=True)
def collection_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_a_pause_turns_collection_off_until_released_once() -> None:
    pause = CollectorPause()
    assert pause.hold() is True
    assert not gc.isenabled()
    assert pause.hold() is False  # already held
    pause.release()
    assert gc.isenabled()
    pause.release()  # nothing held: no change
    assert gc.isenabled()


def test_a_pause_leaves_collection_someone_else_turned_off_alone() -> None:
    gc.disable()
    pause = CollectorPause()
    assert pause.hold() is False
    pause.release()
    assert not gc.isenabled()


async def test_collection_is_back_on_once_the_desk_and_a_switched_tab_are_drawn(
    app: HotlineApp, settle
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert gc.isenabled()
        await pilot.press("3")
        await settle(pilot)
        assert app.query_one("#tabs").active == "questions"
        assert gc.isenabled()
    assert gc.isenabled()


async def test_the_desk_leaves_collection_off_when_it_was_off(app: HotlineApp, settle) -> None:
    gc.disable()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert not gc.isenabled()
    assert not gc.isenabled()
