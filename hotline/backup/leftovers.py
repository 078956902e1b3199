"""What an interrupted export, backup or restore left: found by name, removed by the next run.

Each of them writes under a name ending in ``-PID`` and renames when complete; a
folder whose process is gone is a leftover. One whose process still runs is not, nor
one a run holds (``claimed``): a process on another machine sharing the folder, whose
PID says nothing here, holds a lock on its folder for as long as it works.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path


def running(pid: int) -> bool:
    """True when process ``pid`` exists (this one excluded: its leftovers are its own)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


@contextlib.contextmanager
def claimed(folder: Path) -> Iterator[None]:
    """Hold the working folder ``folder`` while the block runs: no cleaner removes it.

    The lock goes with the process, however it ends (``kill -9`` included).
    """
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def _held(path: Path) -> bool:
    """True when a run holds ``path`` (``claimed``); False when free or not lockable."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False  # a file system without locks: the PID alone decides
    finally:
        os.close(fd)  # releases the lock taken just now
    return False


def remove_leftovers(parent: Path, pattern: str) -> int:
    """Remove the entries of ``parent`` matching ``pattern`` (``…-PID``) whose run is gone."""
    removed = 0
    for leftover in parent.glob(pattern):
        pid = leftover.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or running(int(pid)) or _held(leftover):
            continue
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
        removed += 1
    return removed
