"""TUI fixtures: a small station with Chinese episodes, members, bookings and questions,
the app on it with a fixed clock, and helpers to let workers finish and to type text.
"""

from __future__ import annotations

import contextlib
import os

# Tab underlines and scrolling animate; in tests they only add waiting. Read at import.
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest  # noqa: E402
from desk_data import NOW, fill
from desk_workers import passing
from textual.pilot import Pilot
from textual.widgets import Input
from textual.worker import WorkerCancelled

from hotline.station import Station
from tui.app import HotlineApp, make_app


@pytest.fixture
def desk(station: Station) -> Station:
    """The shared empty station, filled with the small Chinese data set (desk_data)."""
    fill(station)
    return station


@pytest.fixture
def now() -> datetime:
    """The desk's fixed clock: Wednesday 2025-06-04 10:00 in Shanghai."""
    return NOW


@pytest.fixture
def app(desk: Station) -> Iterator[HotlineApp]:
    """The desk app on the small station, its clock fixed at ``NOW``.

    The desk survives an exception in a handler or a worker (it logs it and carries on);
    a test must not: any such failure left at the end fails the test.
    """
    desk_app = make_app(desk, clock=lambda: NOW)
    yield desk_app
    assert not desk_app.failures, f"the desk caught unexpected exceptions: {desk_app.failures}"


def _busy(pilot: Pilot) -> list:
    return passing(pilot.app)  # not the workers that live as long as the desk


async def _settle(pilot: Pilot) -> None:
    # A worker's result may start another worker (a read, then a page load): wait
    # until a pass finds nothing running.
    for _ in range(20):
        await pilot.pause()
        if not _busy(pilot):
            await pilot.pause()
            if not _busy(pilot):
                return
        with contextlib.suppress(WorkerCancelled):  # a closed dialog's file-tree loader
            busy = _busy(pilot)
            if busy:
                await pilot.app.workers.wait_for_complete(busy)
    raise AssertionError("workers kept running")


@pytest.fixture
def settle() -> Callable[[Pilot], Awaitable[None]]:
    """``await settle(pilot)``: let every worker finish and its messages be handled."""
    return _settle


async def _type(pilot: Pilot, text: str) -> None:
    for ch in text:
        if ch.isascii() or ch.isalnum():
            await pilot.press({" ": "space"}.get(ch, ch))
        else:
            # Pilot drops full-width punctuation (：，？); a terminal delivers it as text,
            # which is what inserting it at the cursor does.
            focused = pilot.app.focused
            assert isinstance(focused, Input), f"typing {ch!r} needs an Input, not {focused}"
            focused.insert_text_at_cursor(ch)
            await pilot.pause()


@pytest.fixture
def type_text() -> Callable[[Pilot, str], Awaitable[None]]:
    """``await type_text(pilot, "第1001期")``: type text key by key, as a producer would."""
    return _type


@pytest.fixture
def station_root(desk: Station) -> Path:
    return desk.root
