"""Files of the ``public/`` tree: atomic writes, linking or copying masters, transcript copies.

Every file is replaced atomically (temporary name in the same folder, fsync, rename,
fsync of the folder), so a web server never serves half a file. Files that are already
current are left alone: nothing is rewritten, no mtime moves, caches stay warm. Many
files at once (a first publish) are flushed with one ``syncfs`` before their renames.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from hotline.files import TEMP_SUFFIX, fsync_dir, temp_path_for, write_atomic

# From this many files on, ``write_many`` flushes them with one syncfs, not an fsync each.
BATCH_MIN = 32


def is_current(dest: Path, data: bytes) -> bool:
    """True when ``dest`` already holds exactly ``data`` (the size is compared first)."""
    try:
        return dest.stat().st_size == len(data) and dest.read_bytes() == data
    except FileNotFoundError:
        return False


def write_if_changed(dest: Path, data: bytes, *, durable: bool = True) -> bool:
    """Write ``data`` atomically unless ``dest`` already holds exactly it; True when written."""
    if is_current(dest, data):
        return False
    write_atomic(dest, data, durable=durable)
    return True


def _syncfs(folder: Path) -> bool:
    """Flush the whole file system holding ``folder`` (Linux ``syncfs``); False if unavailable."""
    syncfs = getattr(_libc(), "syncfs", None)
    if syncfs is None:
        return False
    fd = os.open(folder, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"syncfs {folder}: {os.strerror(err)}")
    finally:
        os.close(fd)
    return True


@cache
def _libc() -> object:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def write_many(writes: Iterable[tuple[Path, bytes, int | None]]) -> int:
    """Replace each ``(dest, data, mtime_ns)`` atomically; return how many.

    Few files go through ``write_atomic`` one by one. Many (a first publish writes
    thousands of small transcript and chapters files) are written under temporary names,
    made durable with one ``syncfs`` of their file system instead of one fsync each
    (milliseconds each here, a journal commit per file), and only then renamed: each file
    is still temp, flushed, rename, so a reader or a crash sees the old file or the new one.
    """
    pending = list(writes)
    folders = {dest.parent for dest, _, _ in pending}
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    devices = {folder.stat().st_dev: folder for folder in folders}
    if len(pending) < BATCH_MIN or _libc() is None or not hasattr(_libc(), "syncfs"):
        for dest, data, mtime_ns in pending:
            write_atomic(dest, data, mtime_ns=mtime_ns, durable=False)
    else:
        temps: list[tuple[Path, Path]] = []
        try:
            for dest, data, mtime_ns in pending:
                temp = temp_path_for(dest)
                temps.append((temp, dest))
                with temp.open("xb") as handle:
                    handle.write(data)
                if mtime_ns is not None:
                    os.utime(temp, ns=(mtime_ns, mtime_ns))
            for folder in devices.values():
                _syncfs(folder)
            for temp, dest in temps:
                os.replace(temp, dest)
        finally:
            for temp, _ in temps:
                temp.unlink(missing_ok=True)
    for folder in folders:
        fsync_dir(folder)
    return len(pending)


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
    temp = temp_path_for(dest)
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


def json_transcript(source: Path, dest: Path) -> tuple[bytes, int] | bool:
    """``source`` (our transcript JSON) as a Podcasting 2.0 JSON transcript for ``dest``.

    Returns the bytes and the mtime ``dest`` takes (that of ``source``) when ``dest`` must
    be written; True when ``dest`` is already current (same mtime: not converted again);
    False when ``source`` is not our JSON format (then there is no ``dest``).
    """
    stat = source.stat()
    try:
        if dest.stat().st_mtime_ns == stat.st_mtime_ns:
            return True
    except FileNotFoundError:
        pass
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
    return data.encode(), stat.st_mtime_ns


def sync_json_transcript(source: Path, dest: Path, *, durable: bool = True) -> bool:
    """Write ``json_transcript(source, dest)`` at ``dest`` when needed; True when written."""
    update = json_transcript(source, dest)
    if isinstance(update, bool):
        return False
    write_atomic(dest, update[0], mtime_ns=update[1], durable=durable)
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
