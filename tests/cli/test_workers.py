"""``hotline worker`` as real processes: the queues a machine can serve, stage order across
workers, a killed worker's job taken over (a transcription resuming at its last chunk),
a cancel reaching the worker that runs the job, a stopped worker giving its job back,
``hotline process`` draining the queue on PostgreSQL, and a worker riding out its
database going away and coming back.

Workers run as subprocesses against the test's station (SQLite, or a fresh database on the
test PostgreSQL server); a worker "on another machine" runs with a host name of its own,
so only the engine's heartbeats can tell that it died. Deadlines are the promises made to
users (a cancel within 10 s, a takeover within 60 s), polled, never measured.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import audio_fixtures as fx
import pytest
from feeds_fixtures import use_cover
from process_fixtures import (
    all_gone,
    gated_ffmpeg,
    hotline,
    hotline_run,
    hung_ffmpeg,
    poll,
    recorded_pids,
)
from sqlmodel import select
from whisper_fixtures import (
    add_mastered_episode,
    tiny_settings,
    tiny_whisper_fixture,  # noqa: F401 (the tiny_whisper fixture)
    tone_and_silence,
)
from worker_fixtures import (
    all_jobs,
    allow_connections,
    first_line,
    job,
    kill_group,
    model_dirs,
    other_machine_possible,
    read_until,
    start_worker,
    stop_worker,
    ticket_statuses,
    wait_for,
)

from hotline import jobs
from hotline.config import save_settings
from hotline.engine_pg.upkeep import STALLED_AFTER, UPKEEP_EVERY
from hotline.ffmpeg import FFMPEG_ENV, ffmpeg_path
from hotline.models import Episode, Job, JobKind, Transcript
from hotline.station import Station

Cli = Callable[..., "object"]
CANCEL_WITHIN = 10.0  # the promise: a cancelled job stops within 10 s wherever it runs
TAKEOVER_WITHIN = 60.0  # the promise: a dead worker's job runs again elsewhere within 60 s
postgresql_only = pytest.mark.parametrize("database", ["postgresql"])


@pytest.fixture(autouse=True)
def no_models_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's own whisper models are out of sight of every worker."""
    for key, value in model_dirs(tmp_path).items():
        monkeypatch.setenv(key, value)


def ingest(cli: Cli, tmp_path: Path, number: int, seconds: float = 6.0) -> None:
    added = cli("episodes", "add", "--number", number, "--title", f"第{number}期 医保改革面对面")
    assert added.exit_code == 0, added.stderr  # type: ignore[attr-defined]
    recording = fx.recording(tmp_path / f"第{number}期 录音.wav", seconds)
    result = cli("ingest", number, recording)
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]


def finished(station: Station, *job_ids: int) -> bool:
    return all(job(station, j).status in ("done", "skipped", "failed") for j in job_ids)


def any_failed(station: Station) -> bool:
    return any(row.status == "failed" for row in all_jobs(station))


@pytest.mark.both_databases
def test_a_worker_takes_only_the_queues_this_machine_can_serve(
    cli: Cli, station: Station, tmp_path: Path
) -> None:
    worker = start_worker(station)
    laptop = start_worker(station, "--queues", "publish")
    try:
        line = first_line(worker)
        assert re.fullmatch(
            r"worker \S+:\d+ \((embedded runner|PostgreSQL, procrastinate)\) takes master, "
            r"publish; not transcribe: whisper model 'small' is not available offline: "
            r"no small\.pt in .*",
            line,
        ), line
        assert re.fullmatch(r"worker \S+ \(.*\) takes publish", first_line(laptop))
        ingest(cli, tmp_path, 999)
        ingest(cli, tmp_path, 1000)
        # Episode 1000's master comes after episode 999's transcription in the queue: once
        # it is done, the workers have passed the transcription by.
        wait_for(lambda: finished(station, 1, 4), "both masters done")
    finally:
        stop_worker(laptop)
        out, err = stop_worker(worker)
    assert [(j.id, j.kind, j.status) for j in all_jobs(station)] == [
        (1, "master", "done"),
        (2, "transcribe", "queued"),
        (3, "publish", "queued"),  # waits for the transcription
        (4, "master", "done"),
        (5, "transcribe", "queued"),
        (6, "publish", "queued"),
    ]
    assert job(station, 2).attempts == 0 and job(station, 5).attempts == 0
    assert worker.returncode == 0, out + err
    assert "Traceback" not in out + err
    assert re.search(r"worker \S+ stopped by SIGTERM: 2 done\n", out), out


def test_a_machine_that_can_serve_nothing_says_why_in_one_line(cli: Cli, station: Station) -> None:
    (station.root / "audio" / "raw").rmdir()  # the share is not mounted here
    result = cli("worker", "--queues", "master")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert result.stderr == (  # type: ignore[attr-defined]
        "hotline: error: this machine can take none of the queues asked for: not master: "
        "the archive folder audio/raw/ is missing here (is the station folder mounted?)\n"
    )
    result = cli("worker", "--queues", "master,转写")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert result.stderr == (  # type: ignore[attr-defined]
        "hotline: error: unknown job kind '转写'; use one of: master, transcribe, publish\n"
    )


@postgresql_only
def test_stages_of_an_episode_run_in_order_and_never_together_across_workers(
    cli: Cli, station: Station, tmp_path: Path, tiny_whisper: Path
) -> None:
    tiny_settings(station, tiny_whisper)
    use_cover(station)
    workers = [start_worker(station, "--concurrency", "2") for _ in range(2)]
    try:
        for worker in workers:
            assert "takes master, transcribe, publish" in first_line(worker)
        for number in (997, 998, 999):
            ingest(cli, tmp_path, number)
        # A failed stage holds its episode's later stages back for good: stop waiting then.
        wait_for(
            lambda: finished(station, *range(1, 10)) or any_failed(station),
            "every job finished",
        )
    finally:
        for worker in workers:
            stop_worker(worker)
    rows = all_jobs(station)
    failed = [(row.id, row.kind, row.error) for row in rows if row.status == "failed"]
    assert not failed, failed
    assert [row.status for row in rows] == ["done"] * 9, [(r.id, r.status) for r in rows]
    by_episode: dict[int | None, list[Job]] = {}
    for row in rows:
        by_episode.setdefault(row.episode_id, []).append(row)
    for stages in by_episode.values():
        stages.sort(key=lambda r: r.started_at)
        assert [r.kind for r in stages] == ["master", "transcribe", "publish"]
        for earlier, later in zip(stages, stages[1:], strict=False):
            assert earlier.finished_at <= later.started_at, (earlier.kind, later.kind)


@postgresql_only
def test_a_killed_worker_s_transcription_is_taken_over_and_resumes_at_its_last_chunk(
    station: Station, tiny_whisper: Path
) -> None:
    pattern = []
    for i in range(16):  # 192 s: six or seven chunks of 30 s
        pattern += [("tone" if i % 2 else "noise", 9.0), ("silence", 3.0)]
    add_mastered_episode(station, 999, tone_and_silence(pattern))
    tiny_settings(station, tiny_whisper)
    with station.session() as session:
        episode = session.exec(select(Episode)).one()
        jobs.enqueue(session=session, kind=JobKind.transcribe, episode_id=episode.id)
    host = "worker-b" if other_machine_possible() else None
    doomed = start_worker(station, "--queues", "transcribe", host=host)
    survivor = None
    try:
        assert "takes transcribe" in first_line(doomed)

        def a_chunk_stored() -> bool:
            with station.session(write=False) as session:
                transcript = session.exec(select(Transcript)).first()
                return transcript is not None and transcript.chunks_done >= 1

        wait_for(a_chunk_stored, "a first chunk stored")
        survivor = start_worker(station, "--queues", "transcribe")
        assert "takes transcribe" in first_line(survivor)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        with station.session(write=False) as session:
            done = session.exec(select(Transcript)).one().chunks_done
        dead = job(station, 1)
        assert dead.status == "running" and dead.attempts == 1

        def taken_over() -> bool:
            now = job(station, 1)
            return now.attempts == 2 and now.status in ("running", "done")

        assert poll(taken_over, within=TAKEOVER_WITHIN), "the job was not taken over"
        wait_for(lambda: finished(station, 1), "the transcription finished")
    finally:
        kill_group(doomed)
        if survivor is not None:
            out, err = stop_worker(survivor)
    ended = job(station, 1)
    assert ended.status == "done", ended.message
    assert ended.worker.split(":")[1] == str(survivor.pid)
    assert f"resumed at chunk {done + 1}" in ended.message
    assert "job 1: its worker died; queued again" in out, out
    assert "Traceback" not in out + err


@pytest.mark.both_databases
def test_cancel_stops_the_job_on_the_worker_that_runs_it(
    cli: Cli, station: Station, tmp_path: Path
) -> None:
    ingest(cli, tmp_path, 999)
    station.settings.jobs.timeout_floor = 600.0  # only a cancel can stop this one
    save_settings(station.settings, station.settings_path)
    script, pids = hung_ffmpeg(tmp_path)
    worker = start_worker(station, "--queues", "master", env={FFMPEG_ENV: str(script)})
    try:
        first_line(worker)
        wait_for(lambda: len(recorded_pids(pids)) == 2, "the hung ffmpeg started")
        cancel = hotline_run(station.root, "jobs", "cancel", "1")
        assert cancel.returncode == 0, cancel.stderr
        gone = all_gone(recorded_pids(pids))  # within GONE_WITHIN of the cancel
        stopped = poll(
            lambda: job(station, 1).message.startswith("cancelled;"), within=CANCEL_WITHIN
        )
        still_serving = worker.poll() is None
    finally:
        out, err = stop_worker(worker)
    assert gone, "the job's ffmpeg still ran after the cancel"
    assert stopped, f"the job was not stopped {CANCEL_WITHIN} s after the cancel"
    assert still_serving, out + err
    assert re.fullmatch(
        r"cancelled; worker \S+ stopped it after \d+ s, killing 1 process", job(station, 1).message
    )
    assert "job 1 master 第999期: cancelled in" in out
    assert [job(station, j).status for j in (1, 2, 3)] == ["cancelled"] * 3
    if station.url.startswith("postgresql"):  # carried by the engine's own abort
        assert ticket_statuses(station, 1) == ["aborted"]
        assert ticket_statuses(station, 2) == ticket_statuses(station, 3) == ["cancelled"]
    assert worker.returncode == 0 and "Traceback" not in out + err


@postgresql_only
def test_a_worker_says_when_the_database_is_gone_and_back_then_takes_jobs_again(
    cli: Cli, station: Station, tmp_path: Path, postgres_server: str
) -> None:
    worker = start_worker(station, "--queues", "master")
    try:
        assert "takes master" in read_until(worker, "takes master")
        allow_connections(postgres_server, station, False)
        # An upkeep round every few seconds notices; the limit only guards against a hang.
        gone = read_until(worker, "jobs wait until it answers", within=120)
        allow_connections(postgres_server, station, True)
        back = read_until(worker, "answers again", within=120)
        ingest(cli, tmp_path, 999)
        wait_for(
            lambda: job(station, 1).status == "done" or worker.poll() is not None,
            "the master after the outage (or the worker's end)",
        )
        serving = worker.poll() is None
    finally:
        allow_connections(postgres_server, station, True)
        out, err = stop_worker(worker)
    assert serving, f"the worker ended: {out} {err}"
    # One line when the database went, one when it came back: not a warning per retry.
    [lost] = [line for line in gone.splitlines() if "jobs wait until it answers" in line]
    assert "details in the station's log" in lost
    assert "the database answers again; taking jobs" in back
    assert "job 1 master 第999期: done" in out
    assert err == "" and "Traceback" not in gone + back + out, err
    assert "error connecting" not in gone + back + out + err  # the pool's own warnings


@postgresql_only
def test_a_worker_started_while_its_database_is_away_waits_for_it_then_takes_jobs(
    cli: Cli, station: Station, tmp_path: Path, postgres_server: str
) -> None:
    allow_connections(postgres_server, station, False)
    worker = start_worker(station, "--queues", "master")
    try:
        gone = read_until(worker, "jobs wait until it answers", within=120)
        waiting = worker.poll() is None
        allow_connections(postgres_server, station, True)
        back = read_until(worker, "answers again", within=120)
        ingest(cli, tmp_path, 999)
        wait_for(
            lambda: job(station, 1).status == "done" or worker.poll() is not None,
            "the master once the database answers (or the worker's end)",
        )
        serving = worker.poll() is None
    finally:
        allow_connections(postgres_server, station, True)
        out, err = stop_worker(worker)
    assert waiting and serving, f"the worker ended: {gone} {back} {out} {err}"
    assert "takes master" in gone.splitlines()[0], gone
    [lost] = [line for line in gone.splitlines() if "jobs wait until it answers" in line]
    assert "details in the station's log" in lost
    assert "the database answers again; taking jobs" in back
    assert "job 1 master 第999期: done" in back + out
    assert worker.returncode == 0 and err == "", err
    assert "Traceback" not in gone + back + out


@postgresql_only
def test_a_master_finished_while_the_database_is_away_is_recorded_done_when_it_is_back(
    cli: Cli, station: Station, tmp_path: Path, postgres_server: str
) -> None:
    ingest(cli, tmp_path, 1196)
    script, gate, starts = gated_ffmpeg(tmp_path, ffmpeg_path())
    worker = start_worker(station, "--queues", "master", env={FFMPEG_ENV: str(script)})
    master = station.master_dir / "1196.mp3"
    try:
        assert "takes master" in read_until(worker, "takes master")
        wait_for(starts.exists, "the master's ffmpeg waiting at its gate")
        allow_connections(postgres_server, station, False)
        gone = read_until(worker, "jobs wait until it answers", within=120)
        gate.touch()  # the master goes on while the database is away
        wait_for(master.exists, "the master written while the database is away")
        # Long enough for the job's heartbeats and its engine's to look dead.
        time.sleep(STALLED_AFTER + 2 * UPKEEP_EVERY)
        allow_connections(postgres_server, station, True)
        back = read_until(worker, "answers again", within=120)
        wait_for(
            lambda: job(station, 1).status != "running" or worker.poll() is not None,
            "the master's end recorded (or the worker's end)",
        )
        time.sleep(2 * UPKEEP_EVERY)  # rounds of upkeep after the job's end
        serving = worker.poll() is None
    finally:
        gate.touch()
        allow_connections(postgres_server, station, True)
        out, err = stop_worker(worker)
    assert serving, f"the worker ended: {out} {err}"
    ended = job(station, 1)
    # Recorded once, by the worker that did the work: not failed, not taken over, not redone.
    assert (ended.status, ended.attempts) == ("done", 1), ended.message
    assert ended.message.startswith("mastered 1196.mp3"), ended.message
    with station.session(write=False) as session:
        episode = session.exec(select(Episode).where(Episode.number == 1196)).one()
        assert (episode.status, episode.audio_bytes) == ("mastered", master.stat().st_size)
    said = gone + back + out
    assert "job 1 master 第1196期: done" in said, said
    assert "its worker died" not in gone + back + out and ": failed" not in gone + back + out
    assert [line for line in (gone + back).splitlines() if "until it answers" in line], gone
    assert worker.returncode == 0 and err == "", err
    assert "Traceback" not in gone + back + out and "couldn't get a connection" not in out


@pytest.mark.both_databases
def test_a_stopped_worker_gives_its_job_back_to_the_next_one(
    cli: Cli, station: Station, tmp_path: Path
) -> None:
    ingest(cli, tmp_path, 999)
    station.settings.jobs.timeout_floor = 600.0
    save_settings(station.settings, station.settings_path)
    script, pids = hung_ffmpeg(tmp_path)
    first = start_worker(station, "--queues", "master", env={FFMPEG_ENV: str(script)})
    try:
        first_line(first)
        wait_for(lambda: len(recorded_pids(pids)) == 2, "the hung ffmpeg started")
        first.send_signal(signal.SIGTERM)
        exited = poll(lambda: first.poll() is not None, within=5.0)
    finally:
        out, err = stop_worker(first)
    assert exited, "the worker still ran 5 s after SIGTERM"
    assert first.returncode == 0, out + err
    assert re.search(r"stopped by SIGTERM: 1 requeued; its running jobs are queued again", out)
    assert all_gone(recorded_pids(pids))
    assert (job(station, 1).status, job(station, 1).message) == ("queued", "interrupted")

    second = start_worker(station, "--queues", "master")
    try:
        first_line(second)
        wait_for(lambda: finished(station, 1), "the master done by the next worker")
    finally:
        stop_worker(second)
    assert (job(station, 1).status, job(station, 1).attempts) == ("done", 2)


def test_an_embedded_worker_takes_over_a_job_whose_worker_dies_while_it_runs(
    cli: Cli, station: Station, tmp_path: Path
) -> None:
    ingest(cli, tmp_path, 999, seconds=180.0)
    doomed = hotline(station.root, "process", "--kind", "master")
    worker = None
    try:
        wait_for(lambda: job(station, 1).status == "running", "the master running")
        worker = start_worker(station, "--queues", "master")
        first_line(worker)
        ingest(cli, tmp_path, 1000)  # the worker masters this one while job 1 runs:
        wait_for(lambda: finished(station, 4), "the worker serving")  # it is past its start
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        wait_for(lambda: finished(station, 1), "the master done by the worker")
    finally:
        kill_group(doomed)
        if worker is not None:
            out, err = stop_worker(worker)
    assert (job(station, 1).status, job(station, 1).attempts) == ("done", 2)
    assert job(station, 1).worker.split(":")[1] == str(worker.pid)
    assert "job 1: its worker died; queued again" in out, out + err


@postgresql_only
def test_process_on_postgresql_drains_the_queue_and_exits(
    cli: Cli, station: Station, tmp_path: Path
) -> None:
    use_cover(station)
    ingest(cli, tmp_path, 999)
    ingest(cli, tmp_path, 1000)
    only = hotline_run(station.root, "process", "--episode", "1000")
    assert only.returncode == 0, only.stdout + only.stderr
    assert [(j.id, j.status) for j in all_jobs(station)] == [
        (1, "queued"),
        (2, "queued"),
        (3, "queued"),
        (4, "done"),
        (5, "skipped"),  # no whisper model on this machine
        (6, "done"),
    ]
    assert "2 done, 1 skipped" in only.stdout
    rest = hotline_run(station.root, "process")
    assert rest.returncode == 0, rest.stdout + rest.stderr
    assert [j.status for j in all_jobs(station)] == ["done", "skipped", "done"] * 2
    assert "no queued jobs to run" in hotline_run(station.root, "process").stdout
    with station.session(write=False) as session:  # nothing left for the engine either
        left = session.connection().exec_driver_sql(
            "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
        )
        assert left.scalar() == 0


# A stage busy in a call that never looks at its stop (a long model call): the
# worker's master stage replaced in the worker's own process before it starts.
STAGE_THAT_NEVER_STOPS = """
import time, hotline.pipeline
from hotline.stages import STAGES
STAGES["master"] = lambda context: time.sleep(3600) or "never"
from hotline.cli import main
main()
"""


@pytest.mark.both_databases
def test_sigterm_ends_a_worker_whose_stage_does_not_stop_and_its_job_waits_for_the_next(
    cli: Cli, station: Station, tmp_path: Path
) -> None:
    ingest(cli, tmp_path, 999)
    command = [sys.executable, "-c", STAGE_THAT_NEVER_STOPS, "--station", str(station.root)]
    worker = subprocess.Popen(
        [*command, "worker", "--queues", "master"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert "takes master" in first_line(worker)
        wait_for(lambda: job(station, 1).status == "running", "the stuck master running")
        worker.send_signal(signal.SIGTERM)
        # The promise: within a few seconds, whatever its stage is doing.
        exited = poll(lambda: worker.poll() is not None, within=20.0)
    finally:
        out, err = stop_worker(worker)
    assert exited, "the worker still ran 20 s after SIGTERM: its stuck stage held it"
    assert "its stage did not stop in time" in out and "Traceback" not in err, out + err
    assert job(station, 1).status == "queued"  # for the next worker
