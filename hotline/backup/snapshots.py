"""A backup folder: complete snapshots of a station, each with a sha256 manifest of its files.

::

    BACKUP/
      20260105T031500Z/               one complete snapshot (the newest is the one restored)
        backup.json                   what it holds: every file with its sha256, size, mtime
        tables/                       every table, as ``hotline export`` writes them
        station/hotline.toml          the settings, byte for byte
        station/art/ audio/raw/ audio/master/ transcripts/ …
        station/public/feeds/*.xml    the feeds public/ showed (their lastBuildDate is state)
      .partial-20260112T031500Z-4242/ a backup being written (or killed: removed next run)

A snapshot is written under its ``.partial-…`` name and renamed when complete, so a
folder without the dot always holds a whole backup. Files that did not change since the
previous snapshot are hard links to it: a second backup writes what changed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from hotline.errors import InvalidInput

MANIFEST = "backup.json"
FORMAT_NAME = "hotline-backup"
FORMAT_VERSION = 1
TABLES = "tables"
STATION = "station"
PARTIAL_PREFIX = ".partial-"
ROOTS = (TABLES, STATION)
"""The top folders of a snapshot; every file a manifest names is in one of them."""
LOCK = ".lock"


@dataclass(frozen=True)
class FileEntry:
    """One file of a snapshot, as it was when backed up."""

    sha256: str
    bytes: int
    mtime_ns: int


@dataclass
class BackupManifest:
    """``backup.json``: what a snapshot holds and how it was made."""

    created_at: str
    station: str
    """The station folder's name when it was backed up."""
    include_private: bool
    data_format: str
    schema_revision: str
    files: dict[str, FileEntry] = field(default_factory=dict)
    """Path in the snapshot (``station/…``, ``tables/…``) → its facts."""
    format: str = FORMAT_NAME
    format_version: int = FORMAT_VERSION

    def text(self) -> str:
        """The manifest as JSON: its facts one a line, then ``files``, one file a line."""
        encode = _ENCODER.encode
        facts = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "files"}
        lines = [f" {encode(name)}: {encode(value)}," for name, value in facts.items()]
        files = [
            f"  {encode(path)}: "
            f'{{"sha256": {encode(e.sha256)}, "bytes": {encode(e.bytes)}, '
            f'"mtime_ns": {encode(e.mtime_ns)}}}'
            for path, e in sorted(self.files.items())
        ]
        body = "{\n" + ",\n".join(files) + "\n }" if files else "{}"
        return "{\n" + "\n".join(lines) + f'\n "files": {body}\n}}\n'

    @property
    def total_bytes(self) -> int:
        return sum(entry.bytes for entry in self.files.values())

    @classmethod
    def read(cls, snapshot: Path) -> BackupManifest:
        """Read and check ``snapshot/backup.json``, refusing anything that is not ours."""
        path = snapshot / MANIFEST
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InvalidInput(
                f"{snapshot} is not a backup snapshot: it has no {MANIFEST}"
            ) from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            # Ours once (the name says so) and written whole by a rename: damaged since.
            raise damaged(snapshot, path, f"not a readable manifest: {exc}") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
            raise damaged(snapshot, path, "not a hotline backup manifest")
        if (
            not isinstance(data.get("format_version"), int)
            or data["format_version"] > FORMAT_VERSION
        ):
            raise InvalidInput(
                f"{path}: backup format {data.get('format_version')!r} is newer than this "
                f"hotline reads ({FORMAT_VERSION}); upgrade hotline"
            )
        try:
            files = {
                str(p): FileEntry(entry["sha256"], entry["bytes"], entry["mtime_ns"])
                for p, entry in data.pop("files").items()
            }
            manifest = cls(**data, files=files)
        except (TypeError, KeyError, AttributeError) as exc:
            raise damaged(snapshot, path, f"malformed manifest: {exc!r}") from exc
        for relative in manifest.files:
            # As strings: thousands of paths, and only a plain relative path is ours.
            parts = [part for part in relative.split("/") if part not in ("", ".")]
            if relative.startswith("/") or ".." in parts or not parts or parts[0] not in ROOTS:
                raise InvalidInput(f"{path}: file {relative!r} is outside the snapshot")
        return manifest


# One encoder for every value: ``json.dumps`` with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def snapshots(folder: Path) -> list[Path]:
    """The complete snapshots in a backup folder, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir() if not p.name.startswith(".") and (p / MANIFEST).is_file()
    )


def looks_like_snapshot(folder: Path) -> bool:
    """A snapshot, whole or damaged: its ``backup.json``, or both ``tables/`` and ``station/``."""
    return (folder / MANIFEST).is_file() or all((folder / root).is_dir() for root in ROOTS)


def every_snapshot(folder: Path) -> list[Path]:
    """The snapshots in a backup folder, oldest first, damaged ones (no manifest) included.

    A complete snapshot is renamed into place with its manifest, so a visible snapshot
    without one has lost it since.
    """
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if not p.name.startswith(".") and p.is_dir() and looks_like_snapshot(p)
    )


def damaged(snapshot: Path, path: Path, why: str) -> InvalidInput:
    """The one line that refuses a damaged snapshot, saying how to check and what to do.

    ``path`` is the damaged file (or the snapshot), ``why`` what is wrong with it.
    """
    folder = snapshot.parent
    older = [s for s in snapshots(folder) if s.name < snapshot.name]
    advice = f"`hotline backup verify {folder}` lists every damaged file"
    if older:
        advice += f"; restore an older snapshot by naming it: `hotline restore {older[-1]} --to …`"
    return InvalidInput(f"{path}: damaged backup ({why}); {advice}")


def latest(folder: Path) -> Path:
    """The newest snapshot, or ``InvalidInput`` saying why there is none or it is damaged.

    ``folder`` may also be one snapshot itself.
    """
    if (folder / MANIFEST).is_file():
        return folder
    if not folder.exists():
        raise InvalidInput(f"{folder}: no such folder, so no backup there")
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a folder")
    if looks_like_snapshot(folder):
        raise damaged(folder, folder, f"it has no {MANIFEST}")
    found = every_snapshot(folder)
    if not found:
        partial = any(p.name.startswith(PARTIAL_PREFIX) for p in folder.iterdir())
        why = "only an unfinished one" if partial else "none"
        raise InvalidInput(f"{folder} holds no complete backup ({why}); run `hotline backup`")
    newest = found[-1]
    if not (newest / MANIFEST).is_file():
        raise damaged(newest, newest, f"it has no {MANIFEST}")
    return newest


def is_backup(folder: Path) -> bool:
    """True for a backup folder or a snapshot in one, damaged or not (not a table export)."""
    if not folder.is_dir():
        return False
    if looks_like_snapshot(folder):
        return True
    return any(
        p.name.startswith(PARTIAL_PREFIX) or (p.is_dir() and looks_like_snapshot(p))
        for p in folder.iterdir()
    )


def nothing_to_restore(folder: Path) -> InvalidInput:
    """Why ``folder`` (neither a backup nor a table export) has nothing to restore."""
    if not folder.exists():
        return InvalidInput(f"{folder}: no such folder, so no backup there")
    if not folder.is_dir():
        return InvalidInput(f"{folder} is not a folder, so no backup")
    return InvalidInput(
        f"{folder} holds no backup snapshot (no {MANIFEST} in it or in a folder in it) "
        "and no table export"
    )


def partial_name(name: str) -> str:
    return f"{PARTIAL_PREFIX}{name}-{os.getpid()}"
