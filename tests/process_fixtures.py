"""Real processes for the tests that stop jobs: a hung ffmpeg, the CLI as a subprocess, polling.

The hung ffmpeg is a shell script that starts ``sleep`` as its own child and waits for it,
as a wrapper script around a stuck program would: a kill that missed the grandchild would
leave the pipe open. It appends "shell-pid sleep-pid" to a file each time it starts.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GONE_WITHIN = 10.0  # a kill is delivered at once; the bound only keeps a broken test finite
WAIT_LIMIT = 900.0  # a guard against hanging forever (a loaded CI machine), not a timing assertion


def hung_ffmpeg(folder: Path) -> tuple[Path, Path]:
    """(the script, the file its pids go to)."""
    pids = folder / "ffmpeg-pids"
    script = folder / "挂起的 ffmpeg"
    script.write_text(
        f'#!/bin/sh\nsleep 600 &\necho "$$ $!" >> "{pids}"\nwait\n',
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, pids


def gated_ffmpeg(folder: Path, real: str) -> tuple[Path, Path, Path]:
    """An ffmpeg that waits for a gate file before it runs the real one: (the script, the
    gate to create, the file each start appends its pid to)."""
    gate, starts = folder / "ffmpeg-gate", folder / "ffmpeg-starts"
    script = folder / "等待的 ffmpeg"
    script.write_text(
        f'#!/bin/sh\necho "$$" >> "{starts}"\n'
        f'while [ ! -e "{gate}" ]; do sleep 0.1; done\nexec "{real}" "$@"\n',
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, gate, starts


def recorded_pids(pids: Path) -> list[int]:
    return [int(p) for p in pids.read_text().split()] if pids.exists() else []


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its parent counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def poll(condition: Callable[[], bool], *, within: float) -> bool:
    """Check ``condition`` every 50 ms until it holds (True) or ``within`` seconds pass."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def all_gone(pids: list[int]) -> bool:
    """None of ``pids`` runs, or stops running within ``GONE_WITHIN``."""
    return poll(lambda: not any(alive(pid) for pid in pids), within=GONE_WITHIN)


@contextmanager
def small_disk(folder: Path, size: str = "24m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``folder`` (root only; the test is skipped elsewhere)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def hotline(
    station_root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """``hotline --station ROOT ARGS…`` as a real process in its own process group."""
    return subprocess.Popen(
        [sys.executable, "-c", "from hotline.cli import main; main()"]
        + ["--station", str(station_root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )


def hotline_run(
    station_root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``hotline`` to its end."""
    proc = hotline(station_root, *args, env=env)
    out, err = proc.communicate(timeout=WAIT_LIMIT)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
