"""The runner, ingest helpers, chapters and the master stage, below the CLI."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from hotline import jobs, pipeline, running, stages
from hotline.errors import Conflict, InvalidInput
from hotline.files import sha256_file
from hotline.models import Episode, Job, JobKind, JobStatus
from hotline.pipeline.ingest import archive_name, copy_into_archive, raw_extension
from hotline.runs import JobOutcome, JobView
from hotline.stages import StageContext
from hotline.station import Station
from hotline.worker import run_jobs


class Recorder:
    """An observer that keeps every event."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[str, int, object]] = []

    def started(self, job: JobView) -> None:
        with self.lock:
            self.events.append(("started", job.job_id, job.attempt))

    def progress(self, job: JobView, fraction: float, message: str) -> None:
        with self.lock:
            self.events.append(("progress", job.job_id, (fraction, message)))

    def finished(self, outcome: JobOutcome) -> None:
        with self.lock:
            self.events.append(("finished", outcome.job_id, outcome.status))


def add_episode(station: Station, number: int = 999) -> Episode:
    with station.session() as session:
        episode = Episode(
            number=number, title="养老服务进社区", air_start=datetime(2022, 8, 6, 3, tzinfo=UTC)
        )
        session.add(episode)
        session.flush()
        return episode


def queue(station: Station, kind: JobKind, episode: Episode) -> int:
    with station.session() as session:
        return jobs.enqueue(session=session, kind=kind, episode_id=episode.id).id or 0


def job_row(station: Station, job_id: int) -> Job:
    with station.session() as session:
        return jobs.get_job(session, job_id)


def test_the_runner_runs_stages_in_order_and_reports_progress(station: Station) -> None:
    episode = add_episode(station)
    order: list[str] = []

    def master(ctx: StageContext) -> str:
        for step in range(1, 5):
            ctx.progress(step / 4, f"第{step}步")
        order.append(f"master {ctx.episode_number}")
        return "mastered"

    def transcribe(ctx: StageContext) -> str:
        order.append(f"transcribe {ctx.episode_number}")
        return "transcribed"

    transcribe_id = queue(station, JobKind.transcribe, episode)
    master_id = queue(station, JobKind.master, episode)
    recorder = Recorder()
    summary = run_jobs(
        station=station,
        handlers={"master": master, "transcribe": transcribe},
        observer=recorder,
        workers=2,
    )
    assert order == ["master 999", "transcribe 999"]
    assert [(o.job_id, o.status, o.message) for o in summary.outcomes] == [
        (master_id, "done", "mastered"),
        (transcribe_id, "done", "transcribed"),
    ]
    assert not summary.failed
    assert ("progress", master_id, (0.5, "第2步")) in recorder.events
    done = job_row(station, master_id)
    assert (done.status, done.progress, done.message, done.attempts) == ("done", 1.0, "mastered", 1)


def test_a_failing_handler_fails_its_job_and_blocks_later_stages(station: Station) -> None:
    episode = add_episode(station)

    def master(ctx: StageContext) -> str:
        raise InvalidInput("jingle audio/jingles/片头.wav (audio.intro) does not exist")

    master_id = queue(station, JobKind.master, episode)
    transcribe_id = queue(station, JobKind.transcribe, episode)
    summary = run_jobs(
        station=station,
        handlers={"master": master, "transcribe": lambda ctx: "never"},
        observer=Recorder(),
    )
    assert summary.failed
    statuses = [(o.job_id, o.status) for o in summary.outcomes]
    assert statuses == [(master_id, "failed"), (transcribe_id, "waiting")]
    assert summary.outcomes[1].message == f"waiting for master job {master_id} (failed)"
    failed = job_row(station, master_id)
    assert failed.message == "jingle audio/jingles/片头.wav (audio.intro) does not exist"
    assert "Traceback" in failed.error
    assert job_row(station, transcribe_id).status == JobStatus.queued


def test_kinds_without_a_handler_are_not_claimed(station: Station) -> None:
    episode = add_episode(station)
    publish_id = queue(station, JobKind.publish, episode)
    summary = run_jobs(station=station, handlers={"master": lambda ctx: "x"}, observer=Recorder())
    assert summary.outcomes == []
    assert job_row(station, publish_id).status == JobStatus.queued


def test_several_workers_run_jobs_at_the_same_time(station: Station) -> None:
    episodes = [add_episode(station, number) for number in (997, 998, 999)]
    ids = [queue(station, JobKind.master, episode) for episode in episodes]
    together = threading.Barrier(3, timeout=30)

    def master(ctx: StageContext) -> str:
        together.wait()  # only passes when three jobs run at once
        return f"第{ctx.episode_number}期 done"

    summary = run_jobs(station=station, handlers={"master": master}, observer=Recorder(), workers=3)
    assert sorted(o.job_id for o in summary.outcomes if o.status == "done") == ids


def test_a_job_cancelled_while_running_stops_at_its_next_progress(
    station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(running, "PROGRESS_EVERY", 0.0)  # every progress call reaches the DB
    job_id = queue(station, JobKind.master, add_episode(station))
    reached: list[float] = []

    def master(ctx: StageContext) -> str:
        ctx.progress(0.1, "decoding")
        with station.session() as session:
            jobs.cancel(session=session, job_id=ctx.job_id)
        for step in range(1, 10):
            ctx.progress(0.1 * step, "loudness")
            reached.append(0.1 * step)
        return "should not get here"

    summary = run_jobs(station=station, handlers={"master": master}, observer=Recorder())
    assert [(o.job_id, o.status) for o in summary.outcomes] == [(job_id, "cancelled")]
    assert reached == []
    assert job_row(station, job_id).status == JobStatus.cancelled


def test_a_stop_request_gives_running_jobs_back_to_the_queue(station: Station) -> None:
    job_id = queue(station, JobKind.master, add_episode(station))
    stop = threading.Event()

    def master(ctx: StageContext) -> str:
        stop.set()  # as Ctrl-C does
        ctx.progress(0.2, "loudness")
        return "should not get here"

    summary = run_jobs(station=station, handlers={"master": master}, observer=Recorder(), stop=stop)
    assert [(o.job_id, o.status) for o in summary.outcomes] == [(job_id, "requeued")]
    requeued = job_row(station, job_id)
    assert (requeued.status, requeued.message) == (JobStatus.queued, "interrupted")


def test_queue_pipeline_queues_only_registered_stages(
    station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    episode = add_episode(station)
    monkeypatch.setattr(stages, "STAGES", {"master": lambda ctx: "ok"})
    with station.session() as session:
        queued = pipeline.queue_pipeline(session=session, episode=episode)
        assert [job.kind for job in queued] == ["master"]
    stages.register_stage(JobKind.publish, lambda ctx: "ok")  # one line adds a stage
    stages.register_stage(JobKind.transcribe, lambda ctx: "ok")
    with station.session() as session:
        queued = pipeline.queue_pipeline(session=session, episode=episode)
        assert [job.kind for job in queued] == ["master", "transcribe", "publish"]
        assert len(session.exec(select(Job)).all()) == 3  # master was reused


@pytest.mark.parametrize(
    ("format_name", "ext"),
    [
        ("mp3", "mp3"),
        ("wav", "wav"),
        ("mov,mp4,m4a,3gp,3g2,mj2", "m4a"),
        ("ogg", "ogg"),
        ("flac", "flac"),
        ("amr", "amr"),
        ("matroska,webm", "mka"),
        ("../../etc/passwd", "etcpassw"),
        ("", "audio"),
    ],
)
def test_raw_extension_is_safe_and_lower_case(format_name: str, ext: str) -> None:
    assert raw_extension(format_name) == ext


def test_copy_into_archive_names_by_hash_and_never_overwrites(tmp_path: Path) -> None:
    source = tmp_path / "第999期 原始录音.wav"
    source.write_bytes(b"RIFF" + bytes(range(256)) * 100)
    sha = sha256_file(source)
    dest = tmp_path / "raw" / archive_name("0999", sha, "wav")
    assert dest.name == f"0999-{sha[:8]}.wav"
    assert copy_into_archive(source, dest, sha)
    assert dest.read_bytes() == source.read_bytes()
    assert not copy_into_archive(source, dest, sha)  # already there: nothing copied
    assert [p.name for p in dest.parent.iterdir()] == [dest.name]  # no temp files left
    dest.chmod(0o644)
    dest.write_bytes(b"tampered")
    with pytest.raises(Conflict, match="other content"):
        copy_into_archive(source, dest, sha)
    assert dest.read_bytes() == b"tampered"


def test_a_source_that_changed_since_it_was_hashed_is_not_archived(tmp_path: Path) -> None:
    source = tmp_path / "第999期.wav"
    source.write_bytes(b"RIFF" + bytes(range(256)) * 100)
    sha = sha256_file(source)
    source.write_bytes(b"RIFF" + bytes(range(255, -1, -1)) * 100)  # rewritten meanwhile
    dest = tmp_path / "raw" / archive_name("0999", sha, "wav")
    with pytest.raises(InvalidInput, match="changed while it was being copied"):
        copy_into_archive(source, dest, sha)
    assert list(dest.parent.iterdir()) == []


def _ingest(station: Station, source: Path) -> None:
    with station.session() as session:
        pipeline.ingest(station=station, session=session, number=999, source=source)


def _process(station: Station) -> list[JobOutcome]:
    return pipeline.process(station=station, observer=Recorder(), kind="master").outcomes


def test_master_stage_cleans_leftovers_embeds_the_cover_and_redoes_a_lost_master(
    station: Station, tmp_path: Path
) -> None:
    from io import BytesIO

    import audio_fixtures as fx
    from PIL import Image

    from episodes.tags import read_tags

    add_episode(station)
    recording = fx.recording(tmp_path / "录音.wav", 6.0)
    cover = BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(cover, format="PNG")
    (station.root / "cover.png").write_bytes(cover.getvalue())
    station.settings.show.cover = "cover.png"
    leftovers = [station.master_dir / ".0999-dead.mp3", station.master_dir / "..0999.mp3.partial"]
    for leftover in leftovers:
        leftover.write_bytes(b"half a master")

    _ingest(station, recording)
    [outcome] = _process(station)
    assert outcome.status == "done" and outcome.message.startswith("mastered 0999.mp3")
    master = station.master_dir / "0999.mp3"
    assert [p.name for p in station.master_dir.iterdir()] == ["0999.mp3"]
    tags = read_tags(master)
    assert (tags["has_cover"], tags["cover_mime"]) == (True, "image/png")

    _ingest(station, recording)
    [outcome] = _process(station)
    assert outcome.message == "master is current (0999.mp3); nothing to do"

    master.unlink()  # lost (or replaced by hand): the fingerprint alone is not enough
    _ingest(station, recording)
    [outcome] = _process(station)
    assert outcome.message.startswith("mastered 0999.mp3")
    assert master.is_file()


def test_a_missing_cover_or_raw_file_fails_the_job_naming_it(
    station: Station, tmp_path: Path
) -> None:
    import audio_fixtures as fx

    add_episode(station)
    _ingest(station, fx.recording(tmp_path / "录音.wav", 6.0))
    station.settings.show.cover = "art/封面.jpg"
    [outcome] = _process(station)
    assert (outcome.status, outcome.message) == (
        "failed",
        "cover art art/封面.jpg (show.cover) does not exist",
    )
    station.settings.show.cover = ""
    with station.session() as session:
        episode = session.exec(select(Episode)).one()
        raw = station.root / (episode.raw_path or "")
        jobs.retry(session=session, job_id=1)
    raw.chmod(0o644)
    raw.unlink()
    [outcome] = _process(station)
    assert outcome.status == "failed"
    assert (
        outcome.message
        == f"raw recording {raw.relative_to(station.root)} of episode 999 is missing"
    )
