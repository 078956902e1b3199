"""Files of a public generation: hard links, new files, one flush for the whole tree.

A generation is written where no reader looks yet (``feeds.generations``), so its files
need no temporary names: they are created in place, and the whole tree is made durable
with one ``syncfs`` (an fsync per file and folder where that call is missing) before
``public`` is switched to it. Masters and unchanged files are hard links, so a
generation costs directory entries, not copies.
"""

from __future__ import annotations

import ctypes
import os
import shutil
from functools import cache
from pathlib import Path

from hotline.files import TEMP_SUFFIX, fsync_dir, write_atomic

__all__ = [
    "TEMP_SUFFIX",
    "flush_tree",
    "is_current",
    "link_or_copy",
    "same_file",
    "write_if_changed",
    "write_new",
]


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


def same_file(source: Path, dest: Path) -> bool:
    """True when ``dest`` is ``source`` (a hard link) or a copy with its size and mtime."""
    try:
        a, b = source.stat(), dest.stat()
    except FileNotFoundError:
        return False
    if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
        return True
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def link_or_copy(source: Path, dest: Path) -> None:
    """Make ``dest`` a hard link to ``source``; a copy (mtime kept) where links cannot go."""
    try:
        os.link(source, dest)
    except OSError:
        # Another file system (or no hard links there): the copy keeps the mtime, so
        # ``same_file`` finds it current next time.
        shutil.copy2(source, dest)


def write_new(dest: Path, data: bytes, *, mtime_ns: int | None = None) -> None:
    """Create ``dest`` (which must not exist) holding ``data``; flushed by ``flush_tree``."""
    with dest.open("xb") as handle:
        handle.write(data)
    if mtime_ns is not None:
        os.utime(dest, ns=(mtime_ns, mtime_ns))


@cache
def _libc() -> object:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


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


BATCH_MIN = 32
"""From this many new files on, one ``syncfs`` flushes them instead of an fsync each."""


def flush_tree(folder: Path, written: list[Path] | None = None) -> None:
    """Make every file and folder under ``folder`` durable.

    ``written`` names the files created there (the rest are hard links to files already
    on disk, which need only their folder's fsync). Many new files (a first publish
    writes thousands) are flushed with one ``syncfs`` (milliseconds) instead of an fsync
    each (a journal commit each); a few, and every folder, are fsynced one by one, so a
    small publish does not flush everything else the machine has written meanwhile.
    """
    if written is None or len(written) >= BATCH_MIN:
        if _syncfs(folder):
            return
        written = None
    for parent, _, names in os.walk(folder):
        if written is None:
            for name in names:
                _fsync_file(Path(parent) / name)
        fsync_dir(Path(parent))
    for path in written or ():
        _fsync_file(path)


def _fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
