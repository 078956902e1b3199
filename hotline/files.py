"""Durable files for the whole station: hashing in chunks and atomic, fsynced replacement.

Raw recordings, masters, transcripts, settings and the public tree are all replaced the
same way — a temporary name in the destination folder, fsync, rename, fsync of the
folder — so a reader (or a crash) sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

CHUNK = 1 << 20
# Temporary files are ".<final name>.<random>.tmp": a killed run's leftovers are found by name.
TEMP_SUFFIX = ".tmp"


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_path_for(dest: Path) -> Path:
    """A fresh temporary name beside ``dest``."""
    return dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:12]}{TEMP_SUFFIX}")


def replace_durably(temp: Path, dest: Path) -> None:
    """fsync the finished ``temp``, rename it over ``dest`` and fsync the folder."""
    with temp.open("rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(temp, dest)
    fsync_dir(dest.parent)


def write_atomic(
    dest: Path, data: bytes | str, *, mtime_ns: int | None = None, durable: bool = True
) -> None:
    """Replace ``dest`` with ``data`` (text is written as UTF-8), never leaving a mix.

    The data is always fsynced before the rename; ``durable`` False leaves the folder's
    fsync (which makes the rename itself survive a power cut) to the caller.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path_for(dest)
    try:
        with temp.open("xb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if mtime_ns is not None:
            os.utime(temp, ns=(mtime_ns, mtime_ns))
        os.replace(temp, dest)
    finally:
        temp.unlink(missing_ok=True)
    if durable:
        fsync_dir(dest.parent)
