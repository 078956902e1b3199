"""The stage contract in the kernel and the embedded engine keeping its promises.

Layering (domain code imports the contract, never an engine), the cancel check inside
whisper's own loop, and the runner: skipped stages, a cancel that kills the stage's
process, a stop that returns even from a stage that never checks, and a job whose end
the database cannot take.
"""

from __future__ import annotations

import ast
import re
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy.exc
from whisper_fixtures import (
    tiny_whisper_fixture,  # noqa: F401 (the tiny_whisper fixture)
    tone_and_silence,
)

from hotline import jobs, stages
from hotline.config import TranscribeSettings
from hotline.models import Episode, Job, JobKind, JobStatus
from hotline.processes import ChildProcesses
from hotline.runs import JobOutcome, JobView
from hotline.stages import JobAborted, StageContext, StageSkipped
from hotline.station import Station
from hotline.worker import run_jobs

ROOT = Path(__file__).resolve().parents[2]
COMPOSITION_ROOTS = ("hotline.cli", "hotline.worker", "hotline.demo", "hotline.pipeline")
COMPOSITION_ROOTS += ("hotline.backup",)
ENGINES = ("hotline.worker", "hotline.engine_pg", "hotline.running")
WAIT = 60.0  # a guard against a broken test hanging, not a timing assertion


class Quiet:
    """An observer that keeps the outcomes."""

    def __init__(self) -> None:
        self.finished_outcomes: list[JobOutcome] = []

    def started(self, job: JobView) -> None: ...

    def progress(self, job: JobView, fraction: float, message: str) -> None: ...

    def finished(self, outcome: JobOutcome) -> None:
        self.finished_outcomes.append(outcome)


def add_episode(station: Station, number: int = 999) -> int:
    with station.session() as session:
        episode = Episode(
            number=number, title="养老服务进社区", air_start=datetime(2022, 8, 6, 3, tzinfo=UTC)
        )
        session.add(episode)
        session.flush()
        assert episode.id is not None
        return episode.id


def queue(station: Station, kind: JobKind, episode_id: int) -> int:
    with station.session() as session:
        return jobs.enqueue(session=session, kind=kind, episode_id=episode_id).id or 0


def job_row(station: Station, job_id: int) -> Job:
    with station.session() as session:
        return jobs.get_job(session, job_id)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["episodes", "transcripts", "feeds", "tui"])
def test_domain_packages_and_the_desk_import_no_engine(package: str) -> None:
    """The stage contract lives in the kernel; only composition roots import engines."""
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imported_modules(path):
            engine = any(name == e or name.startswith(e + ".") for e in ENGINES)
            root = any(name == r or name.startswith(r + ".") for r in COMPOSITION_ROOTS)
            # The desk is a composition of its own: it may call the pipeline, not the engine.
            if engine or (root and package != "tui"):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


class Control:
    """A JobControl that asks the stage to stop after ``allow`` checks."""

    def __init__(self, allow: int) -> None:
        self.allow = allow
        self.checks = 0
        self.children = ChildProcesses()

    def report(self, fraction: float, message: str) -> None: ...

    def abort_reason(self) -> str | None:
        self.checks += 1
        return "cancelled" if self.checks > self.allow else None


def context(station: Station, control: Control) -> StageContext:
    return StageContext(
        station=station, job_id=7, kind="transcribe", episode_id=None, episode_number=999,
        control=control,
    )  # fmt: skip


def test_the_cancel_check_is_a_no_op_outside_a_job_and_raises_inside(station: Station) -> None:
    stages.check_cancelled()  # no job here: nothing to stop
    ctx = context(station, Control(allow=1))
    with stages.running(ctx):
        stages.check_cancelled()
        with pytest.raises(JobAborted, match="job 7: cancelled"):
            stages.check_cancelled()
    stages.check_cancelled()
    assert stages.current() is None


def test_whisper_stops_between_its_windows_when_the_job_is_cancelled(
    station: Station, tiny_whisper: Path
) -> None:
    from transcripts.asr import whisper_backend

    settings = TranscribeSettings(
        model=str(tiny_whisper), beam_size=0, temperatures=[0.0], max_window_tokens=8
    )
    backend = whisper_backend(settings)
    audio = tone_and_silence([("noise", 100.0)])  # four 30-second windows
    control = Control(allow=1)  # the first window may run, the second may not
    with stages.running(context(station, control)), pytest.raises(JobAborted):
        backend.transcribe(audio, prompt="以下是政协热线节目。", language="zh")
    assert control.checks == 2
    assert backend.transcribe(audio[: 16_000 * 5], language="zh") is not None  # outside a job


def test_a_skipped_stage_has_its_own_status_and_later_stages_go_on(station: Station) -> None:
    episode = add_episode(station)
    transcribe_id = queue(station, JobKind.transcribe, episode)
    publish_id = queue(station, JobKind.publish, episode)

    def transcribe(ctx: StageContext) -> str:
        raise StageSkipped("whisper model 'small' is not available offline: 没有 small.pt")

    summary = run_jobs(
        station=station,
        handlers={"transcribe": transcribe, "publish": lambda ctx: "published"},
        observer=Quiet(),
    )
    assert [(o.job_id, o.status) for o in summary.outcomes] == [
        (transcribe_id, "skipped"),
        (publish_id, "done"),
    ]
    assert not summary.failed
    skipped = job_row(station, transcribe_id)
    assert skipped.status == JobStatus.skipped
    assert skipped.message == "whisper model 'small' is not available offline: 没有 small.pt"
    assert skipped.finished_at is not None and skipped.error == ""


def test_a_cancel_kills_the_stage_process_and_the_worker_records_it(station: Station) -> None:
    job_id = queue(station, JobKind.master, add_episode(station))
    waiting = threading.Event()
    pids: list[int] = []

    def master(ctx: StageContext) -> str:
        with ctx.children.start(["sleep", "600"], what="sleep 600") as child:
            pids.append(child.proc.pid)
            waiting.set()
            child.proc.wait()  # as a stage waits on a hung ffmpeg
            child.check()
        return "never"

    def cancel() -> None:
        assert waiting.wait(WAIT)
        with station.session() as session:
            jobs.cancel(session=session, job_id=job_id)

    canceller = threading.Thread(target=cancel)
    canceller.start()
    summary = run_jobs(station=station, handlers={"master": master}, observer=Quiet())
    canceller.join()
    assert [(o.job_id, o.status) for o in summary.outcomes] == [(job_id, "cancelled")]
    cancelled = job_row(station, job_id)
    assert cancelled.status == JobStatus.cancelled
    assert re.fullmatch(
        r"cancelled; worker \S+ stopped it after \d+ s, killing 1 process", cancelled.message
    )
    assert not Path(f"/proc/{pids[0]}").exists()  # reaped: gone for good


def test_a_stop_returns_even_from_a_stage_that_never_checks(station: Station) -> None:
    job_id = queue(station, JobKind.master, add_episode(station))
    entered, release, stop = threading.Event(), threading.Event(), threading.Event()

    def master(ctx: StageContext) -> str:
        entered.set()
        release.wait(WAIT)  # stuck in Python: no progress, no check, no process
        return "late"

    def press_ctrl_c() -> None:
        assert entered.wait(WAIT)
        stop.set()

    threading.Thread(target=press_ctrl_c).start()
    observer = Quiet()
    try:
        summary = run_jobs(
            station=station, handlers={"master": master}, observer=observer, stop=stop
        )
    finally:
        release.set()
    assert summary.interrupted
    assert [(o.job_id, o.status, o.message) for o in summary.outcomes] == [
        (job_id, "requeued", "interrupted; its stage did not stop in time")
    ]
    requeued = job_row(station, job_id)
    assert (requeued.status, requeued.message, requeued.worker) == ("queued", "interrupted", "")
    assert len(observer.finished_outcomes) == 1  # the stage ending late reports nothing more


def test_an_end_the_database_cannot_take_leaves_the_job_to_the_next_worker(
    station: Station, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """The disk-full case without a full disk (see tests/cli/test_disk_full.py for one)."""
    first = queue(station, JobKind.master, add_episode(station, 998))
    second = queue(station, JobKind.master, add_episode(station, 999))

    def full(**kwargs: object) -> bool:
        raise sqlalchemy.exc.OperationalError(
            "UPDATE job", {}, Exception("database or disk is full")
        )

    def master(ctx: StageContext) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jobs, "fail", full)
    summary = run_jobs(station=station, handlers={"master": master}, observer=Quiet())
    assert summary.unrecorded == [first] and summary.failed
    assert summary.halted == "database or disk is full"
    assert [o.job_id for o in summary.outcomes] == [first]  # no second job taken
    assert "could not be recorded" in summary.outcomes[0].message
    assert job_row(station, first).status == JobStatus.running  # as the database has it
    assert job_row(station, second).status == JobStatus.queued
    assert "Traceback" not in capfd.readouterr().err

    monkeypatch.undo()
    summary = run_jobs(
        station=station, handlers={"master": lambda ctx: "mastered"}, observer=Quiet()
    )
    assert summary.recovered == [first]  # its worker is gone: taken over
    assert {(o.job_id, o.status) for o in summary.outcomes} == {(first, "done"), (second, "done")}
    assert job_row(station, first).attempts == 2
