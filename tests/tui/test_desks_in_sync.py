"""Desks in sync: what one desk (or another program) commits shows at every open desk
without a key pressed, on SQLite and on PostgreSQL.

Two desks (two Pilot apps) on one station, or one desk and another session or process.
Each test waits for the outcome with a bounded loop (``until``) and asserts it; no test
asserts how long it took (the README's figures are measured, not tested).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from desk_data import NOW
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, TabbedContent
from textual.worker import WorkerState
from waiting import LIMIT, until

import tui.follow
from episodes import bookings, live_desk, questions
from episodes.lookup import get_episode
from hotline import jobs
from hotline.changes import Watch
from hotline.models import JobKind
from hotline.station import Station
from tui.app import FOLLOW_GROUP, HotlineApp, make_app
from tui.dialogs.prompt import PromptDialog
from tui.widgets.paged_table import PagedTable

pytestmark = pytest.mark.both_databases

ROOT = Path(__file__).resolve().parents[2]
SIZE = (140, 40)
TABS = {"schedule": "1", "members": "2", "questions": "3", "live": "4", "pipeline": "5"}


def desk_app(station: Station) -> HotlineApp:
    return make_app(station, clock=lambda: NOW)


async def open_tab(pilot: Pilot, settle, pane_id: str) -> None:  # noqa: ANN001 - a fixture
    await settle(pilot)
    await pilot.press(TABS[pane_id])
    await settle(pilot)
    assert pilot.app.query_one(TabbedContent).active == pane_id


def column(app: HotlineApp, table_id: str, index: int) -> list[str]:
    table = app.query_one(f"#{table_id}", DataTable)
    return [str(table.get_row_at(row)[index]) for row in range(table.row_count)]


def add_caller_elsewhere(station: Station, name: str, summary: str) -> None:
    with station.session() as session:
        live_desk.add_caller(
            session=session, episode=1000, name=name, district="徐汇区", summary=summary
        )


async def test_a_caller_added_at_one_desk_shows_at_the_other(
    desk: Station, settle, type_text
) -> None:
    a, b = desk_app(desk), desk_app(desk)
    async with a.run_test(size=SIZE) as at_a, b.run_test(size=SIZE) as at_b:
        await open_tab(at_b, settle, "live")
        await open_tab(at_a, settle, "live")
        assert "钱先生" not in column(b, "live-table", 2)

        await at_a.press("n")
        await type_text(at_a, "钱先生")
        await at_a.press("enter")
        await type_text(at_a, "静安区")
        await at_a.press("enter")
        await type_text(at_a, "托管班能不能延长到六点")
        await at_a.press("enter")
        await settle(at_a)
        assert "钱先生" in column(a, "live-table", 2)

        assert await until(at_b, lambda: "钱先生" in column(b, "live-table", 2)), (
            "the other desk's 直播台 never showed the caller"
        )
        assert column(b, "live-table", 1)[column(b, "live-table", 2).index("钱先生")] == "等候"


async def test_a_caller_put_on_air_elsewhere_changes_its_status_here(desk: Station, settle) -> None:
    add_caller_elsewhere(desk, "吴女士", "托管班午饭谁来管")
    app = desk_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, settle, "live")
        assert column(app, "live-table", 1) == ["等候"]
        with desk.session() as session:
            live_desk.screen_caller(session=session, call=1)
        assert await until(pilot, lambda: column(app, "live-table", 1) == ["已审核"])


async def test_a_question_logged_by_another_process_shows_in_the_questions_tab(
    desk: Station, settle
) -> None:
    app = desk_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, settle, "questions")
        table = app.query_one("#questions-table", PagedTable)
        before = table.row_count
        code = "import sys\nfrom hotline.console import main\nsys.argv[0] = 'hotline'\nmain()"
        logged = subprocess.run(
            [sys.executable, "-c", code, "--station", str(desk.root), "questions", "add"]
            + ["--text", "公交车站台能不能加个遮阳棚？", "--channel", "wechat"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=os.environ.copy(),
            timeout=120,
        )
        assert logged.returncode == 0, logged.stderr
        shown = lambda: any("遮阳棚" in text for text in column(app, "questions-table", 8))  # noqa: E731
        assert await until(pilot, shown), "the 听众 tab never showed the question"
        assert table.row_count == before + 1


async def test_a_booking_confirmed_elsewhere_shows_in_the_members_tab(
    desk: Station, settle
) -> None:
    with desk.session() as session:  # 王伟 invited to 1001
        bookings.add_booking(
            session=session, settings=desk.settings, episode=1001, member=1, now=NOW
        )
    app = desk_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, settle, "members")
        assert column(app, "bookings-table", 0) == ["1000", "1001"]
        assert column(app, "bookings-table", 4) == ["已确认", "已邀请"]
        with desk.session() as session:
            bookings.confirm_booking(
                session=session, settings=desk.settings, episode=1001, member=1, now=NOW
            )
        confirmed = lambda: column(app, "bookings-table", 4) == ["已确认", "已确认"]  # noqa: E731
        assert await until(pilot, confirmed), "the 嘉宾 tab never showed the confirmation"


async def test_a_job_progress_from_another_machine_shows_in_the_pipeline_tab(
    desk: Station, settle
) -> None:
    with desk.session() as session:
        job = jobs.enqueue(session=session, kind=JobKind.master, episode_id=1)
        job_id = job.id
    assert job_id is not None
    app = desk_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, settle, "pipeline")
        assert column(app, "jobs-table", 3) == ["排队"]
        with desk.session() as session:  # a worker elsewhere claims it and reports progress
            assert jobs.try_claim(session=session, job_id=job_id, worker="转录机-2:4242")
        with desk.session() as session:
            jobs.heartbeat(
                session=session, job_id=job_id, worker="转录机-2:4242", progress=0.4, message="母带"
            )
        progress = lambda: column(app, "jobs-table", 4) == ["40%"]  # noqa: E731
        assert await until(pilot, progress), "the 制作 tab never showed the job's progress"
        assert column(app, "jobs-table", 8) == ["母带"]


async def test_a_tab_hidden_during_a_change_shows_it_when_shown_again(
    desk: Station, settle
) -> None:
    app = desk_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, settle, "questions")
        table = app.query_one("#questions-table", PagedTable)
        before = table.row_count
        await open_tab(pilot, settle, "live")
        with desk.session() as session:
            questions.add_question(
                session=session, text="小区快递柜收费合理吗？", channel="phone", received_at=NOW
            )
        await pilot.pause(1.0)  # whatever the desk does meanwhile, the tab is hidden
        await open_tab(pilot, settle, "questions")
        assert await until(pilot, lambda: table.row_count == before + 1)
        assert any("快递柜" in text for text in column(app, "questions-table", 8))


async def test_a_dialog_keeps_what_is_typed_while_the_tab_under_it_is_read_again(
    desk: Station, settle, type_text
) -> None:
    app = desk_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, settle, "live")
        await pilot.press("n")
        await type_text(pilot, "郑先")
        dialog = app.screen
        assert isinstance(dialog, PromptDialog)
        typing = app.focused
        assert isinstance(typing, Input) and typing.value == "郑先"

        add_caller_elsewhere(desk, "冯女士", "托管班有没有午睡")
        assert await until(pilot, lambda: "冯女士" in column(app, "live-table", 2))

        assert app.screen is dialog and app.focused is typing
        assert typing.value == "郑先"
        await type_text(pilot, "生")
        await pilot.press("enter")
        await type_text(pilot, "长宁区")
        await pilot.press("enter")
        await type_text(pilot, "托管班能不能接送")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is not dialog
        assert sorted(column(app, "live-table", 2)) == sorted(["冯女士", "郑先生"])


async def test_the_echo_of_a_desks_own_change_leaves_its_rows_and_cursor_alone(
    desk: Station, settle
) -> None:
    app = desk_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, settle, "questions")
        table = app.query_one("#questions-table", PagedTable)
        key = table.selected_key  # the newest question, not screened yet
        assert key is not None and questions_status(app, key) == "新来信"
        before = table.shown
        await pilot.press("v")  # screen it
        await settle(pilot)
        assert questions_status(app, key) == "已审核"
        rows = {row.key: row for row in table.ordered_rows}
        # The station tells this desk of its own write too (on PostgreSQL it can arrive
        # while the change's own read is settling): one read for the change, one for its
        # echo. Reading it again finds the same rows: nothing is rebuilt, the cursor stays.
        assert await until(pilot, lambda: table.shown >= before + 2)
        await settle(pilot)
        assert table.selected_key == key
        assert {row.key: row for row in table.ordered_rows} == rows
        assert all(rows[row.key] is row for row in table.ordered_rows)


def questions_status(app: HotlineApp, key: str) -> str:
    table = app.query_one("#questions-table", PagedTable)
    return str(table.get_row(key)[3])


async def test_closing_the_desk_stops_watching_the_station(
    desk: Station, settle, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Watch] = []
    closed: list[Watch] = []
    real_watch = tui.follow.watch

    class Recorded:
        def __init__(self, inner: Watch) -> None:
            self.inner = inner
            opened.append(self)

        def wait_for_change(self, timeout: float):  # noqa: ANN201 - as Watch
            return self.inner.wait_for_change(timeout)

        def close(self) -> None:
            self.inner.close()
            closed.append(self)

    monkeypatch.setattr(tui.follow, "watch", lambda station: Recorded(real_watch(station)))
    app = desk_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        followers = [w for w in app.workers if w.group == FOLLOW_GROUP]
        assert len(followers) == 1 and followers[0].is_running
        assert await until(pilot, lambda: len(opened) == 1)
        await pilot.press("q")
    follower = followers[0]
    assert follower.state in (WorkerState.CANCELLED, WorkerState.SUCCESS)
    for _ in range(int(LIMIT / 0.1)):
        if closed:
            break
        await asyncio.sleep(0.1)
    assert closed == opened, "the desk closed but its watch on the station stayed open"


def test_the_desk_process_ends_when_the_desk_is_closed(desk: Station) -> None:
    # A real process: the watching thread must neither keep it alive nor stop it ending.
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from hotline.station import open_station\n"
        "from tui.app import make_app\n"
        "app = make_app(open_station(Path(sys.argv[1])))\n"
        "async def pilot(p):\n"
        "    await p.pause(1.0)\n"  # the watch is open and waiting by then
        "    assert [w for w in app.workers if w.group == 'follow' and w.is_running]\n"
        "    await p.press('q')\n"
        "app.run(headless=True, auto_pilot=pilot)\n"
        "print('关闭了')\n"
    )
    ended = subprocess.run(
        [sys.executable, "-c", script, str(desk.root)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ.copy(),
        timeout=120,  # a guard against a process kept alive: not a timing assertion
    )
    assert ended.returncode == 0, ended.stderr
    assert ended.stdout.strip().endswith("关闭了")


async def test_a_change_committed_before_the_watch_opens_is_shown_too(
    desk: Station, settle, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The desk reads its first rows, then opens its watch: a commit in between (another
    # desk's, at that very moment) is not heard as a change, yet must show.
    real_watch = tui.follow.watch

    def watch_after_a_commit(station: Station) -> Watch:
        with desk.session() as session:
            episode = get_episode(session, 1001)
            episode.title = "开门前刚改的标题"
            session.add(episode)
        return real_watch(station)

    monkeypatch.setattr(tui.follow, "watch", watch_after_a_commit)
    app = desk_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = lambda: "开门前刚改的标题" in shown_text(app, "schedule-table")  # noqa: E731
        assert await until(pilot, shown), "the change made before the watch opened never showed"


def shown_text(app: HotlineApp, table_id: str) -> str:
    table = app.query_one(f"#{table_id}", DataTable)
    return "\n".join(" ".join(map(str, table.get_row_at(row))) for row in range(table.row_count))
