"""SIGKILL ``hotline process`` in the middle of mastering; the next run finishes the job.

Real subprocesses and a real signal: the first run is killed once the database shows
the job running with progress, the second run picks the job up again (the dead
worker's pid is gone), and the master that results is complete and valid.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import audio_fixtures as fx
import pytest
from sqlmodel import select

from episodes.audio import PASS_ONE_SHARE
from hotline.ffmpeg import probe
from hotline.models import Episode, Job
from hotline.station import Station

ROOT = Path(__file__).resolve().parents[2]
RECORDING_SECONDS = 180.0  # long enough that mastering takes seconds, not milliseconds
WAIT_LIMIT = 300.0  # a guard against hanging forever, not a timing assertion


def hotline(station: Station, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from hotline.cli import main; main()"]
        + ["--station", str(station.root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,  # its own process group, so the test can clean up ffmpeg
    )


def job(station: Station, job_id: int = 1) -> Job:
    with station.session(write=False) as session:  # polled while the worker writes
        found = session.get(Job, job_id)
        assert found is not None
        return found


def wait_until_encoding(station: Station, proc: subprocess.Popen[str]) -> Job:
    """Poll the database until the job runs and has reached the encoding pass.

    By then the master is being written to a temporary file, which is what a kill
    must not turn into a half master.
    """
    encoding = 0.95 * PASS_ONE_SHARE + 0.02  # the master stage scales mastering to 0–95 %
    deadline = time.monotonic() + WAIT_LIMIT
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        current = job(station)
        if current.status == "running" and current.progress > encoding:
            return current
        time.sleep(0.05)
    pytest.fail("the job never showed progress")


def kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def test_killed_mastering_resumes_and_leaves_no_half_master(
    cli: Callable[..., object], station: Station, tmp_path: Path
) -> None:
    recording = fx.write_speech_wav(tmp_path / "录音.wav", RECORDING_SECONDS, channels=1)
    added = cli("episodes", "add", "--number", 999, "--title", "医保改革面对面")
    assert added.exit_code == 0  # type: ignore[attr-defined]
    assert cli("ingest", 999, recording).exit_code == 0  # type: ignore[attr-defined]
    master = station.master_dir / "0999.mp3"

    first = hotline(station, "process", "--kind", "master")
    try:
        running = wait_until_encoding(station, first)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    finally:
        kill_group(first)
    assert first.returncode == -signal.SIGKILL
    assert running.worker.split(":")[1] == str(first.pid)
    assert not master.exists()  # nothing half-written under the final name
    assert [p for p in station.master_dir.iterdir() if p.name.startswith(".")]  # temp files
    assert job(station).status == "running"  # as the dead worker left it

    second = hotline(station, "process", "--kind", "master")
    try:
        out, err = second.communicate(timeout=WAIT_LIMIT)
    finally:
        kill_group(second)
    assert second.returncode == 0, out + err
    assert "picked up again after their worker died: job 1" in out
    assert "1 done" in out
    finished = job(station)
    assert (finished.status, finished.attempts, finished.progress) == ("done", 2, 1.0)
    assert [p.name for p in station.master_dir.iterdir()] == ["0999.mp3"]  # temp files gone
    with station.session() as session:
        episode = session.exec(select(Episode).where(Episode.number == 999)).one()
    assert episode.status == "mastered"
    assert episode.audio_bytes == master.stat().st_size
    info = probe(master)  # decodes the head and the tail: a complete MP3
    assert info.codec == "mp3"
    assert abs(info.duration - RECORDING_SECONDS) < 2.0
