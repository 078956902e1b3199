"""The station's log: the full traceback behind every one-line failure, for support to read.

Users see one line; the traceback goes to ``logs/hotline.log`` in the station (rotated,
readable by its owner only). When the station folder cannot take it (read-only, disk
full, no station found yet) the entry goes to the user's own state folder instead, and
when nothing can be written the caller still has its one line to show.
"""

from __future__ import annotations

import os
import traceback
from datetime import UTC, datetime
from pathlib import Path

LOG_DIR = "logs"
LOG_NAME = "hotline.log"
MAX_BYTES = 1 << 20
"""A log file is rotated when it passes this size."""
KEEP = 5
"""Rotated files kept: hotline.log.1 … hotline.log.5."""


def station_log_path(root: Path) -> Path:
    """Where a station keeps its log."""
    return root / LOG_DIR / LOG_NAME


def user_log_path() -> Path:
    """The fallback log when the station cannot be written: ``$XDG_STATE_HOME/hotline``."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "hotline" / LOG_NAME


def _rotate(path: Path) -> None:
    if not path.exists() or path.stat().st_size < MAX_BYTES:
        return
    for n in range(KEEP - 1, 0, -1):
        older = path.with_name(f"{path.name}.{n}")
        if older.exists():
            os.replace(older, path.with_name(f"{path.name}.{n + 1}"))
    os.replace(path, path.with_name(f"{path.name}.1"))


def _append(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _rotate(path)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, text.encode("utf-8", errors="backslashreplace"))
    finally:
        os.close(fd)


def format_entry(exc: BaseException, *, context: str) -> str:
    """One log entry: when, which process, what was being done, and the traceback."""
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    trace = "".join(traceback.format_exception(exc))
    return f"--- {stamp} pid {os.getpid()} {context}\n{trace}\n"


def record_failure(exc: BaseException, *, root: Path | None, context: str) -> Path | None:
    """Append ``exc``'s traceback to the station's log (or the user's); return the file.

    Never raises: a log that cannot be written returns None, so the caller's one-line
    message still reaches the user.
    """
    entry = format_entry(exc, context=context)
    candidates = [station_log_path(root)] if root is not None else []
    candidates.append(user_log_path())
    for path in candidates:
        try:
            _append(path, entry)
        except OSError:
            continue
        return path
    return None
