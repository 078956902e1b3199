"""Files of the ``public/`` tree: atomic writes, linking or copying masters, transcript copies.

Every file is replaced atomically (temporary name in the same folder, fsync, rename,
fsync of the folder), so a web server never serves half a file. Files that are already
current are left alone: nothing is rewritten, no mtime moves, caches stay warm.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

# Temporary files are ".<final name>.<random>.tmp": a killed run's leftovers are found by name.
TEMP_SUFFIX = ".tmp"


def _temp_for(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:12]}{TEMP_SUFFIX}")


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(
    dest: Path, data: bytes, *, mtime_ns: int | None = None, durable: bool = True
) -> None:
    """Replace ``dest`` with ``data``: readers see the old file or the new one, never a mix.

    The data is always fsynced before the rename; ``durable`` False leaves the folder's
    fsync (which makes the rename itself survive a power cut) to the caller.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = _temp_for(dest)
    try:
        with temp.open("xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mtime_ns is not None:
            os.utime(temp, ns=(mtime_ns, mtime_ns))
        os.replace(temp, dest)
    finally:
        temp.unlink(missing_ok=True)
    if durable:
        fsync_dir(dest.parent)


def write_if_changed(dest: Path, data: bytes, *, durable: bool = True) -> bool:
    """Write ``data`` atomically unless ``dest`` already holds exactly it; True when written."""
    try:
        if dest.stat().st_size == len(data) and dest.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    write_atomic(dest, data, durable=durable)
    return True


def same_file(source: Path, dest: Path) -> bool:
    """True when ``dest`` is ``source`` (a hard link) or a copy with its size and mtime."""
    try:
        a, b = source.stat(), dest.stat()
    except FileNotFoundError:
        return False
    if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
        return True
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def sync_file(source: Path, dest: Path, *, durable: bool = True) -> bool:
    """Make ``dest`` a hard link to ``source`` (a copy across file systems); True when changed.

    Skipped when ``dest`` is already the same file. The link or copy is made under a
    temporary name and renamed over ``dest``.
    """
    if same_file(source, dest):
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = _temp_for(dest)
    try:
        try:
            os.link(source, temp)
        except OSError:
            # Another file system (or no hard links there): copy, keeping the mtime so the
            # next run sees the copy as current.
            shutil.copy2(source, temp)
            with temp.open("rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(temp, dest)
    finally:
        temp.unlink(missing_ok=True)
    if durable:
        fsync_dir(dest.parent)
    return True


def sync_json_transcript(source: Path, dest: Path, *, durable: bool = True) -> bool:
    """Write ``source`` (our transcript JSON) as a Podcasting 2.0 JSON transcript at ``dest``.

    ``dest`` takes the mtime of ``source``, so an unchanged source is not converted again.
    A source that is not our JSON format is skipped (False, and no ``dest``).
    """
    stat = source.stat()
    if dest.is_file() and dest.stat().st_mtime_ns == stat.st_mtime_ns:
        return False
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
        segments = [
            {
                "startTime": float(seg["start"]),
                "endTime": float(seg["end"]),
                "body": str(seg.get("text_norm") or seg["text"]),
            }
            for seg in document["segments"]
        ]
    except (ValueError, KeyError, TypeError):
        return False
    data = json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False)
    write_atomic(dest, data.encode(), mtime_ns=stat.st_mtime_ns, durable=durable)
    return True


def remove_leftovers(folder: Path) -> int:
    """Delete temporary files a killed run left in ``folder``; return how many."""
    if not folder.is_dir():
        return 0
    removed = 0
    for leftover in folder.glob(f".*{TEMP_SUFFIX}"):
        leftover.unlink(missing_ok=True)
        removed += 1
    return removed
