"""The 制作 tab: ingest a real recording, master it in a worker while the producer keeps
working in other tabs, then retry, cancel and read a failed job's log.

The master job is real (ffmpeg, loudness, MP3, tags). To interact *while* it runs, not
merely before or after, the test holds the job at its first progress report (a gate on
the observer, in the job's own thread) and opens it once it has switched tabs, typed a
search and seen the results.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import audio_fixtures as fx
import pytest
from desk_workers import workers_done
from sqlmodel import select
from textual.widgets import DataTable, Label, TabbedContent, TextArea

from hotline import jobs
from hotline.models import Episode, Job
from hotline.station import Station
from transcripts.formats import Cue
from transcripts.store import save_transcript
from tui.app import HotlineApp
from tui.screens import pipeline
from tui.screens.pipeline import PipelinePane
from tui.screens.search import SearchPane

SIZE = (140, 40)


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fx.recording(
        tmp_path_factory.mktemp("audio") / "第1001期.wav", 8.0, lead_silence=1.0, tail_silence=1.0
    )


@pytest.fixture
def archive(desk: Station) -> Station:
    with desk.session() as session:
        cues = [Cue(0.0, 8.0, "社区养老服务中心什么时候开门？")]
        save_transcript(session=session, episode=999, segments=cues, source="import")
    return desk


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Holds a running job at its first progress report until the test sets the event."""
    opened = threading.Event()
    report = pipeline.PostingObserver.progress

    def held(self, job, fraction: float, message: str) -> None:  # noqa: ANN001
        report(self, job, fraction, message)
        opened.wait(timeout=60)
        opened.set()  # hold once at most, even if the test failed before opening

    monkeypatch.setattr(pipeline.PostingObserver, "progress", held)
    yield opened
    opened.set()


def key_of(app: HotlineApp, pane_id: str) -> str:
    return str([p.PANE_ID for p in app.panes].index(pane_id) + 1)


async def others_done(pilot) -> None:  # noqa: ANN001
    """Wait for every worker except the pipeline runner (which the gate holds)."""
    for _ in range(5):
        await pilot.pause()
        await workers_done(pilot.app, besides={"pipeline"})


def status_message(app: HotlineApp) -> str:
    return str(app.query_one("#status-message", Label).content)


async def test_ingest_and_master_in_a_worker_while_the_desk_stays_usable(
    app: HotlineApp, archive: Station, recording: Path, gate: threading.Event, settle, type_text
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(key_of(app, "pipeline"))
        await settle(pilot)
        assert app.query_one(TabbedContent).active == "pipeline"

        await pilot.press("i")
        await type_text(pilot, "1001")
        await pilot.press("enter")
        await type_text(pilot, str(recording))
        await pilot.press("enter")
        await settle(pilot)
        assert "第1001期录音已导入" in status_message(app)
        table = app.query_one("#jobs-table", DataTable)
        kinds = [table.get_row_at(i)[1] for i in range(table.row_count)]
        assert kinds == ["发布", "转写", "母带制作"]  # newest first

        await pilot.press("down", "down")  # the master job
        await pilot.press("o")  # run only the selected job's kind for its episode
        pane = app.query_one(PipelinePane)
        for _ in range(200):  # until the held job has reported (bounded)
            if app.query("#job-progress ProgressBar"):
                break
            await pilot.pause(0.05)
        assert pane.running
        assert table.get_row_at(2)[3] == "运行中"

        # The job is running: the producer switches tabs and searches meanwhile.
        await pilot.press(key_of(app, "live"))
        await others_done(pilot)
        assert app.query_one(TabbedContent).active == "live"
        await pilot.press(key_of(app, "search"))
        await others_done(pilot)
        search = app.query_one(SearchPane)
        await type_text(pilot, "养老")
        await pilot.press("enter")
        await others_done(pilot)
        assert search.table.row_count == 1
        assert pane.running  # still mastering while all that happened

        await pilot.press("escape", key_of(app, "pipeline"))
        gate.set()
        await workers_done(app)
        await settle(pilot)
        assert not pane.running
        assert not app.query("#job-progress ProgressBar")  # the bar goes when the job ends
        assert table.get_row_at(2)[3:5] == ["完成", "100%"]
        assert "运行结束：完成 1" in str(app.query_one("#pipeline-summary", Label).content)

    with archive.session() as session:
        episode = session.exec(select(Episode).where(Episode.number == 1001)).one()
        master = session.exec(select(Job).where(Job.kind == "master")).one()
        assert (master.status, master.progress) == ("done", 1.0)
        assert episode.status == "mastered"
        assert (archive.root / episode.audio_path).stat().st_size > 10_000
        others = session.exec(select(Job.status).where(Job.kind != "master")).all()
        assert others == ["queued", "queued"]  # only the chosen kind ran


async def test_retry_cancel_and_the_log_of_a_failed_job(
    app: HotlineApp, desk: Station, settle
) -> None:
    with desk.session() as session:
        episode = session.exec(select(Episode).where(Episode.number == 1001)).one()
        job = jobs.enqueue(session=session, kind="master", episode_id=episode.id)
    claimed = jobs.claim_next(desk.session, worker="test:1", kinds=["master"])
    assert claimed is not None and claimed.id == job.id
    with desk.session() as session:
        jobs.fail(session=session, job_id=job.id, worker="test:1", error=RuntimeError("解码失败"))

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(key_of(app, "pipeline"))
        await settle(pilot)
        table = app.query_one("#jobs-table", DataTable)
        assert table.get_row_at(0)[3] == "失败"

        await pilot.press("l")
        await settle(pilot)
        log = app.screen.query_one(TextArea)
        assert log.text.startswith("解码失败") and "RuntimeError" in log.text
        await pilot.press("escape")

        await pilot.press("c")
        await settle(pilot)
        assert table.get_row_at(0)[3] == "已取消"
        await pilot.press("t")
        await settle(pilot)
        assert table.get_row_at(0)[3] == "排队"
        # A queued job is not offered for a retry: the key says why.
        assert "t" not in {key.key for key in app.query("FooterKey") if key.display}
        await pilot.press("t")
        await settle(pilot)
        assert status_message(app) == "任务 1 排队：只有失败或已取消的任务可以重试"

        await pilot.press("i")
        await pilot.press(*"1001", "enter", *"/no/such.wav", "enter")
        assert "不是文件" in str(app.screen.query_one("#ingest-error", Label).content)
        await pilot.press("escape")
        assert not app.screen.query("#ingest-error")
