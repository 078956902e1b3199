"""An unexpected exception — in a worker, in a key's handler, inside a change — never ends
the desk: its traceback goes to the station's log, a toast and the status bar name the
log, the database is unchanged, and the desk goes on answering keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlmodel import select
from waiting import until

import tui.follow
from episodes import schedule, views
from hotline.failures import Where
from hotline.logs import station_log_path
from hotline.models import Episode
from hotline.station import Station
from tui.app import RECOVERED, HotlineApp
from tui.changes import failure_line
from tui.screens.schedule import SchedulePane

SIZE = (100, 30)


def toasts(app: HotlineApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def logged(station: Station) -> str:
    path = station_log_path(station.root)
    return path.read_text(encoding="utf-8") if path.exists() else ""


async def test_a_failing_worker_is_logged_and_the_desk_goes_on(
    app: HotlineApp, desk: Station, settle, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_: Any) -> None:
        raise RuntimeError("页读取坏了")

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        monkeypatch.setattr(views, "episode_page", broken)
        await pilot.press("s")  # the status filter re-reads the list in a worker
        await settle(pilot)
        assert app.is_running
        log = str(station_log_path(desk.root))
        assert any("RuntimeError: 页读取坏了" in t and log in t for t in toasts(app))
        assert "页读取坏了" in logged(desk) and "Traceback" in logged(desk)
        monkeypatch.undo()
        await pilot.press("s")  # and the desk still answers
        await settle(pilot)
        assert app.status_bar.message == "排期：只看已确认"
        assert len(app.failures) == 1
        app.failures.clear()  # expected: the fixture fails a test that leaves any


async def test_a_failing_key_handler_is_logged_and_the_desk_goes_on(
    app: HotlineApp, desk: Station, settle, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: SchedulePane) -> None:
        raise KeyError("没有这个键")

    monkeypatch.setattr(SchedulePane, "action_generate", broken)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert app.is_running and isinstance(app.failures[0], KeyError)
        assert "没有这个键" in logged(desk)
        assert app.status_bar.is_error and str(station_log_path(desk.root)) in (
            app.status_bar.message
        )
        await pilot.press("n")  # still at work
        await pilot.press("escape")
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
        app.failures.clear()


async def test_a_change_that_fails_changes_nothing_and_says_where_the_log_is(
    app: HotlineApp, desk: Station, settle, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = schedule.cancel_episode

    def disk_full(*, session: Any, number: int) -> Any:
        real(session=session, number=number)  # changed in the transaction, then:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(schedule, "cancel_episode", disk_full)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c", "y")
        await settle(pilot)
        assert app.is_running
        message = app.status_bar.message  # what it means, not the exception's name
        assert message.startswith("磁盘已满（工作站所在的磁盘或数据库服务器）：腾出空间后再试")
        assert str(station_log_path(desk.root)) in message and app.status_bar.is_error
        assert any(t == message for t in toasts(app))
        assert "No space left on device" in logged(desk)
        assert isinstance(app.failures.pop(), OSError)
    with desk.session() as session:
        status = session.exec(select(Episode.status).where(Episode.number == 1000)).one()
    assert status == "confirmed"  # rolled back
    assert Path(station_log_path(desk.root)).stat().st_mode & 0o077 == 0  # owner only


def test_a_database_server_gone_is_said_as_what_it_means(tmp_path: Path) -> None:
    url = "postgresql+psycopg://hotline@/hotline?host=/run/postgresql"
    gone = psycopg.OperationalError(
        'connection failed: connection to server on socket "/run/postgresql/.s.PGSQL.5432" '
        "failed: Connection refused"
    )
    line = failure_line(gone, where=Where(tmp_path, url), context="desk: 直播台")
    assert line.startswith(f"连不上数据库服务器 {url}：请确认它在运行")
    assert str(station_log_path(tmp_path)) in line
    assert "OperationalError" not in line  # the exception's name is for the log
    assert "Connection refused" in station_log_path(tmp_path).read_text(encoding="utf-8")


def test_any_other_failure_names_its_exception(tmp_path: Path) -> None:
    line = failure_line(KeyError("没有这个键"), where=Where(tmp_path), context="desk")
    assert line.startswith("出错了（KeyError: '没有这个键'）；详情已写入 ")


async def test_an_outage_is_toasted_once_and_its_end_is_said(
    app: HotlineApp, desk: Station, settle, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_watch = tui.follow.watch
    down = [True]
    gone = "consuming input failed: server closed the connection unexpectedly"

    def watch(station: Station) -> Any:
        if down[0]:
            raise psycopg.OperationalError(gone)
        return real_watch(station)

    monkeypatch.setattr(tui.follow, "RETRY_SECONDS", 0.05)
    monkeypatch.setattr(tui.follow, "watch", watch)
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: bool(app.failures)), "the watch never failed"
        # A tab's read meets the same outage: the status bar says it, no second toast.
        app.failed(psycopg.OperationalError(gone), context="desk: 直播台")
        await pilot.pause()
        outage = [t for t in toasts(app) if "连不上数据库服务器" in t]
        assert len(outage) == 1, toasts(app)
        assert "连不上数据库服务器" in app.status_bar.message
        down[0] = False  # the server answers again
        assert await until(pilot, lambda: app.status_bar.message == RECOVERED)
        assert toasts(app).count(RECOVERED) == 1
        await settle(pilot)  # the tabs read again what they may have missed meanwhile
        app.failures.clear()  # expected: the fixture fails a test that leaves any
