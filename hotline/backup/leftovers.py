"""What an interrupted export, backup or restore left: found by name, removed by the next run.

Each of them writes under a name ending in ``-PID`` and renames when complete; a
folder whose process is gone is a leftover (one whose process still runs is not).
"""

from __future__ import annotations

import os
import shutil
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


def remove_leftovers(parent: Path, pattern: str) -> int:
    """Remove the entries of ``parent`` matching ``pattern`` (``…-PID``) whose run is gone."""
    removed = 0
    for leftover in parent.glob(pattern):
        pid = leftover.name.rsplit("-", 1)[-1]
        if pid.isdigit() and running(int(pid)):
            continue
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
        removed += 1
    return removed
