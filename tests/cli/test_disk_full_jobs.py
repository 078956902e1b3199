"""A disk that fills up while a job runs: the job's end cannot be recorded, yet it is not lost.

The station lives on a small tmpfs (root only: skipped elsewhere). ``HOTLINE_FFMPEG`` is a
wrapper that fills the disk to the last byte the first time mastering calls ffmpeg, then
runs the real one, so the master cannot be written and neither can the job's failure.
The worker must say so in one line and leave the job for the next worker, which takes it
over once there is room again.
"""

from __future__ import annotations

import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import audio_fixtures as fx
import pytest
from process_fixtures import hotline_run, small_disk

from hotline.ffmpeg import FFMPEG_ENV, ffmpeg_path
from hotline.models import Job
from hotline.station import Station, init_station


@pytest.fixture(name="small_disk")
def small_disk_fixture(tmp_path: Path) -> Iterator[Path]:
    """A 24 MB tmpfs, unmounted afterwards."""
    with small_disk(tmp_path / "disk") as disk:
        yield disk


def filling_ffmpeg(folder: Path, filler: Path) -> Path:
    """An ffmpeg that first fills ``filler``'s disk (once), then runs the real ffmpeg."""
    script = folder / "fill-then-ffmpeg"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ ! -e "{filler}" ]; then head -c 1G /dev/zero > "{filler}" 2>/dev/null; fi\n'
        f'exec "{ffmpeg_path()}" "$@"\n',
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def job(station: Station, job_id: int) -> Job:
    with station.session() as session:
        found = session.get(Job, job_id)
        assert found is not None
        return found


def test_a_failure_that_cannot_be_recorded_leaves_the_job_to_the_next_worker(
    small_disk: Path, tmp_path: Path
) -> None:
    station, _ = init_station(small_disk / "station")
    recording = fx.recording(tmp_path / "第999期 录音.wav", 6.0)
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "HOTLINE_DATABASE_URL": ""}
    for args in (
        ("episodes", "add", "--number", "999", "--title", "医保改革面对面"),
        ("ingest", "999", str(recording)),
    ):
        done = hotline_run(station.root, *args, env=env)
        assert done.returncode == 0, done.stderr
    filler = small_disk / "filler"
    script = filling_ffmpeg(tmp_path, filler)

    full = hotline_run(
        station.root, "process", "--kind", "master", env={**env, FFMPEG_ENV: str(script)}
    )
    assert shutil.disk_usage(small_disk).free < 64 * 1024  # the disk really was full
    assert full.returncode == 1, full.stdout + full.stderr  # it exited, it did not die
    assert "Traceback" not in full.stdout + full.stderr
    assert full.stderr.strip().splitlines()[-1] == (
        "hotline: error: the database could not record the end of job 1 (database or disk is "
        "full); it shows as running until the next `hotline process` finds its worker gone "
        "and runs it again"
    )
    assert "No space left on device" in full.stdout
    assert job(station, 1).status == "running"  # what the full disk kept
    listed = hotline_run(station.root, "jobs", "list", env=env)
    row = next(line for line in listed.stdout.splitlines() if line.startswith("1 "))
    assert "running (worker gone)" in row  # not "running" forever
    shown = hotline_run(station.root, "jobs", "show", "1", "--json", env=env)
    assert '"worker_gone": true' in shown.stdout

    filler.unlink()  # room again
    again = hotline_run(station.root, "process", "--kind", "master", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "picked up again after their worker died: job 1" in again.stdout
    mastered = job(station, 1)
    assert (mastered.status, mastered.attempts) == ("done", 2)
    assert (station.master_dir / "0999.mp3").is_file()
