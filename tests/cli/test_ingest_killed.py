"""An ingest killed mid-copy leaves its part file; the next ingest removes it, never a live one.

What was seen: ``kill -9`` during ``hotline ingest N long.wav`` left
``audio/raw/.incoming-<hex>.part`` (620 MB) for good; SIGTERM cleans up, SIGKILL gives
no chance to. Real processes and real signals: the ingest of a long recording is killed
once its part appears, and a later ingest must remove what it left; an ingest stopped
(SIGSTOP) in the middle of its copy keeps its part through another ingest, and finishes;
meanwhile the station takes other writes (on SQLite too: the copy is made before the
ingest's first write, so it does not hold the station's write lock while it copies).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path

import audio_fixtures as fx
import pytest
from process_fixtures import WAIT_LIMIT, hotline, hotline_run, poll

from hotline.station import Station

LONG_SECONDS = 3600  # 16-bit mono at 44.1 kHz: 318 MB, a copy that takes a while


def long_wav(path: Path) -> Path:
    """An hour of quiet studio hum, written a block at a time."""
    block = fx.tone(path.with_suffix(".block.wav"), 60.0, freq=50.0, level=0.01)
    with wave.open(str(block), "rb") as one:
        frames = one.readframes(one.getnframes())
        params = one.getparams()
    block.unlink()
    with wave.open(str(path), "wb") as out:
        out.setparams(params)
        for _ in range(LONG_SECONDS // 60):
            out.writeframes(frames)
    return path


@pytest.fixture
def sources(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(the long recording for episode 1201, a short one for 1202)."""
    long = long_wav(tmp_path / "第1201期 直播全程.wav")
    short = fx.recording(tmp_path / "第1202期 直播.wav", 8.0)
    yield long, short
    long.unlink()  # 318 MB: not kept in pytest's last three runs


def add_episodes(station: Station) -> None:
    for number, title in (("1201", "老旧小区加装电梯"), ("1202", "社区养老服务")):
        added = hotline_run(station.root, "episodes", "add", "--number", number, "--title", title)
        assert added.returncode == 0, added.stderr


def parts(station: Station) -> list[Path]:
    return sorted(station.raw_dir.glob(".incoming-*.part"))


def copying(station: Station, number: int, source: Path) -> subprocess.Popen[str]:
    """``hotline ingest`` as a real process, returned once its part file is in audio/raw/."""
    proc = hotline(station.root, "ingest", str(number), str(source))
    started = poll(lambda: bool(parts(station)) or proc.poll() is not None, within=WAIT_LIMIT)
    assert started and proc.poll() is None, proc.communicate()  # still copying
    return proc


def signal_group(proc: subprocess.Popen[str], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signum)


def test_a_part_left_by_a_killed_ingest_is_removed_by_the_next_ingest(
    station: Station, sources: tuple[Path, Path]
) -> None:
    long, short = sources
    add_episodes(station)
    proc = copying(station, 1201, long)
    signal_group(proc, signal.SIGKILL)
    proc.communicate(timeout=WAIT_LIMIT)
    assert proc.returncode == -signal.SIGKILL
    assert len(parts(station)) == 1  # what the killed copy left

    later = hotline_run(station.root, "ingest", "1202", str(short))
    assert later.returncode == 0, later.stderr
    assert "removed from audio/raw/: 1 unfinished copy left by an ingest that was killed" in (
        later.stdout
    )
    assert parts(station) == []
    assert [p.name[:5] for p in station.raw_dir.iterdir()] == ["1202-"]

    again = hotline_run(station.root, "ingest", "1201", str(long))  # the ingest, redone
    assert again.returncode == 0, again.stderr
    assert "unfinished cop" not in again.stdout  # nothing left to remove
    assert sorted(p.name[:5] for p in station.raw_dir.iterdir()) == ["1201-", "1202-"]


def test_an_ingest_in_the_middle_of_its_copy_keeps_its_part_and_holds_up_no_one(
    station: Station, sources: tuple[Path, Path]
) -> None:
    long, short = sources
    add_episodes(station)
    proc = copying(station, 1201, long)
    signal_group(proc, signal.SIGSTOP)  # holds its part, as a slow copy does
    try:
        (held,) = parts(station)
        other = hotline_run(station.root, "ingest", "1202", str(short))
        assert other.returncode == 0, other.stderr
        assert "unfinished cop" not in other.stdout
        assert parts(station) == [held]
        logged = hotline_run(
            station.root, "questions", "add", "--text", "电梯什么时候装好？", "--channel", "phone"
        )
        assert logged.returncode == 0, logged.stderr  # a desk's write goes through
    finally:
        signal_group(proc, signal.SIGCONT)
    out, err = proc.communicate(timeout=WAIT_LIMIT)
    assert proc.returncode == 0, err
    assert "第1201期 直播全程.wav → audio/raw/1201-" in out
    assert parts(station) == []
    assert sorted(p.name[:5] for p in station.raw_dir.iterdir()) == ["1201-", "1202-"]
