"""Archive file helpers: hashing while reading, and durable atomic replacement."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

CHUNK = 1 << 20


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


def replace_durably(temp: Path, dest: Path) -> None:
    """fsync ``temp`` and rename it over ``dest``: readers see the old file or the new one."""
    with temp.open("rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(temp, dest)
    fsync_dir(dest.parent)
