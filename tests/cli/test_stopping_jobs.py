"""Jobs can always be stopped: a hung ffmpeg, ``hotline jobs cancel``, SIGINT and SIGTERM.

Each test reproduces what was seen with real processes: ``hotline process`` runs as a
subprocess with ``HOTLINE_FFMPEG`` pointing at a script that hangs (see
``process_fixtures``); the test cancels or signals it through the real CLI and polls,
with the deadline the promise states (10 s for a cancel, 5 s for a signal), for the
worker to act.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
from collections.abc import Callable
from pathlib import Path

import audio_fixtures as fx
import pytest
from process_fixtures import (
    WAIT_LIMIT,
    all_gone,
    hotline,
    hotline_run,
    hung_ffmpeg,
    poll,
    recorded_pids,
)

from hotline.config import save_settings
from hotline.ffmpeg import FFMPEG_ENV
from hotline.models import Job
from hotline.station import Station

Cli = Callable[..., "object"]
CANCEL_WITHIN = 10.0  # the promise: a cancelled job stops within 10 s wherever it runs
SIGNAL_WITHIN = 5.0  # the promise: a signalled worker requeues and exits within 5 s


@pytest.fixture
def ingested(cli: Cli, station: Station, tmp_path: Path) -> Station:
    """Episode 999 with a recording ingested (master, transcribe, publish queued)."""
    added = cli("episodes", "add", "--number", 999, "--title", "医保改革面对面")
    assert added.exit_code == 0, added.stderr  # type: ignore[attr-defined]
    recording = fx.recording(tmp_path / "第999期 录音.wav", 6.0)
    result = cli("ingest", 999, recording)
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    return station


def set_limits(station: Station, *, floor: float, factor: float) -> None:
    station.settings.jobs.timeout_floor = floor
    station.settings.jobs.timeout_factor = factor
    save_settings(station.settings, station.settings_path)


def job(station: Station, job_id: int) -> Job:
    with station.session() as session:
        found = session.get(Job, job_id)
        assert found is not None
        return found


def wait_until_hung(station: Station, proc: object, pids: Path) -> None:
    """Poll until the master job runs and the hung ffmpeg has started."""

    def hung() -> bool:
        assert proc.poll() is None, proc.communicate()  # type: ignore[attr-defined]
        return job(station, 1).status == "running" and len(recorded_pids(pids)) == 2

    assert poll(hung, within=WAIT_LIMIT), "the job never started its ffmpeg"


def stop_group(proc: object) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # type: ignore[attr-defined]


def test_a_hung_ffmpeg_is_stopped_at_its_limit_and_the_job_fails_saying_why(
    ingested: Station, tmp_path: Path
) -> None:
    station = ingested
    set_limits(station, floor=2.0, factor=0.5)
    script, pids = hung_ffmpeg(tmp_path)
    done = hotline_run(station.root, "process", "--kind", "master", env={FFMPEG_ENV: str(script)})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    failed = job(station, 1)
    assert failed.status == "failed"
    assert re.fullmatch(
        r"ffmpeg probing 0999-[0-9a-f]{8}\.wav was stopped after [\d.]+ s: over its limit of "
        r"3 s \(jobs\.timeout_floor 2 s \+ jobs\.timeout_factor 0\.5 × 2 s of audio\)",
        failed.message,
    ), failed.message
    assert "job 1 master 第999期: failed in" in done.stdout
    assert all_gone(recorded_pids(pids))
    shown = hotline_run(station.root, "jobs", "show", "1")
    assert "status: failed" in shown.stdout and "jobs.timeout_factor" in shown.stdout


def test_cancel_stops_a_running_job_and_its_queued_later_stages(
    ingested: Station, tmp_path: Path
) -> None:
    station = ingested
    set_limits(station, floor=600.0, factor=0.5)  # only a cancel can stop this one
    script, pids = hung_ffmpeg(tmp_path)
    worker = hotline(station.root, "process", env={FFMPEG_ENV: str(script)})
    try:
        wait_until_hung(station, worker, pids)
        cancel = hotline_run(station.root, "jobs", "cancel", "1")
        assert cancel.returncode == 0, cancel.stderr
        stopped = poll(lambda: worker.poll() is not None, within=CANCEL_WITHIN)
        gone = all_gone(recorded_pids(pids))
    finally:
        stop_group(worker)
    out, err = worker.communicate(timeout=WAIT_LIMIT)
    assert gone, "the job's ffmpeg still ran after the cancel"
    assert stopped, f"the worker still ran {CANCEL_WITHIN} s after the cancel"
    assert cancel.stdout.strip() == (
        "job 1 (master) cancelled (its worker stops it at its next heartbeat); "
        "with it: transcribe (job 2), publish (job 3)"
    )
    assert worker.returncode == 0, out + err
    assert "Traceback" not in out + err
    assert "job 1 master 第999期: cancelled in" in out
    master = job(station, 1)
    assert master.status == "cancelled"
    assert re.fullmatch(
        r"cancelled; worker \S+ stopped it after \d+ s, killing 1 process", master.message
    ), master.message
    for later in (2, 3):  # they would only have failed for want of a master
        assert (job(station, later).status, job(station, later).message) == (
            "cancelled",
            "cancelled with master job 1",
        )


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signalled_worker_requeues_its_job_and_exits(
    ingested: Station, tmp_path: Path, signum: signal.Signals
) -> None:
    station = ingested
    set_limits(station, floor=600.0, factor=0.5)
    script, pids = hung_ffmpeg(tmp_path)
    worker = hotline(station.root, "process", env={FFMPEG_ENV: str(script)})
    try:
        wait_until_hung(station, worker, pids)
        worker.send_signal(signum)  # to the worker alone, as `kill` or systemd would
        exited = poll(lambda: worker.poll() is not None, within=SIGNAL_WITHIN)
    finally:
        stop_group(worker)
    out, err = worker.communicate(timeout=WAIT_LIMIT)
    assert exited, f"the worker still ran {SIGNAL_WITHIN} s after {signum.name}"
    assert job(station, 1).status == "queued", out + err
    assert worker.returncode == 128 + signum, out + err
    assert f"hotline: stopped by {signum.name}; running jobs are queued again" in err
    assert "Traceback" not in out + err
    assert "job 1 master 第999期: requeued in" in out
    assert all_gone(recorded_pids(pids))
    requeued = job(station, 1)
    assert (requeued.status, requeued.message, requeued.worker) == ("queued", "interrupted", "")

    # Given back for real: the next worker, with a working ffmpeg, masters the episode.
    again = hotline_run(station.root, "process", "--kind", "master")
    assert again.returncode == 0, again.stdout + again.stderr
    mastered = job(station, 1)
    assert (mastered.status, mastered.attempts) == ("done", 2)


def test_retry_queues_again_the_later_stages_cancelled_with_a_job(
    cli: Cli, ingested: Station
) -> None:
    result = cli("jobs", "cancel", 3)  # publish, on its own
    assert result.stdout.strip() == "job 3 (publish) cancelled"  # type: ignore[attr-defined]
    result = cli("jobs", "cancel", 1)
    assert result.exit_code == 0  # type: ignore[attr-defined]
    assert result.stdout.strip() == (  # type: ignore[attr-defined]
        "job 1 (master) cancelled; with it: transcribe (job 2)"
    )
    listed = cli("jobs", "list", "--json").json()  # type: ignore[attr-defined]
    assert [(j["id"], j["status"], j["message"]) for j in listed] == [
        (3, "cancelled", "cancelled"),
        (2, "cancelled", "cancelled with master job 1"),
        (1, "cancelled", "cancelled"),
    ]
    result = cli("jobs", "retry", 1)
    assert result.exit_code == 0  # type: ignore[attr-defined]
    assert result.stdout.strip() == (  # type: ignore[attr-defined]
        "job 1 (master) queued again; with it: transcribe (job 2); "
        "a running `hotline worker` takes it, or run `hotline process`"
    )
    listed = cli("jobs", "list", "--json").json()  # type: ignore[attr-defined]
    assert {j["id"]: j["status"] for j in listed} == {1: "queued", 2: "queued", 3: "cancelled"}
