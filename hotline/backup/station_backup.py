"""``backup_station``: the whole station into a backup folder, incrementally, checksummed.

What a snapshot holds (``hotline.backup.snapshots`` shows the layout): every table (as
``hotline export`` writes them), ``hotline.toml``, ``art/``, ``audio/raw``,
``audio/master``, ``transcripts/``, any cover or jingle the settings name elsewhere in
the station, and the feeds ``public/`` shows. Not ``hotline.db`` itself (the tables are
portable between SQLite and PostgreSQL), not the rest of ``public/`` (``hotline publish``
rebuilds it), not ``logs/``.

A file whose size and mtime match the previous snapshot's record is hard-linked from it
and keeps its recorded sha256; any other is copied and hashed in the same pass. So a
second backup of an unchanged archive writes the tables and a manifest, not 60 GB. A
snapshot with contact details (``include_private``) is its owner's only: folders 0700,
files 0600, from creation.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from feeds.files import flush_tree
from feeds.generations import PublicTree
from hotline import db, privacy
from hotline.backup.access import require_every_table
from hotline.backup.export import open_new, write_tables
from hotline.backup.leftovers import remove_leftovers
from hotline.backup.manifest import DATA_FORMATS, Manifest
from hotline.backup.snapshots import (
    LOCK,
    MANIFEST,
    PARTIAL_PREFIX,
    STATION,
    TABLES,
    BackupManifest,
    FileEntry,
    partial_name,
    snapshots,
)
from hotline.errors import InvalidInput
from hotline.files import fsync_dir
from hotline.station import SETTINGS_FILE, Station

CHUNK = 4 << 20
ARCHIVE_FOLDERS = ("art", "audio/raw", "audio/master", "transcripts")
"""Station folders a backup copies whole (what is in them, at any depth)."""
DEFAULT_KEEP = 2
"""Complete snapshots kept: the new one and the one before (hard links make that cheap)."""

Progress = Callable[[str, int, int], None]
"""Called with (path, files done, files in all) as files are backed up."""


@dataclass
class BackupReport:
    """What ``backup_station`` did."""

    folder: Path
    snapshot: str
    files: int = 0
    copied: int = 0
    linked: int = 0
    bytes_written: int = 0
    total_bytes: int = 0
    seconds: float = 0.0
    tables: dict[str, int] = field(default_factory=dict)
    include_private: bool = False
    removed_partials: int = 0
    pruned: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list, repr=False)
    """Files this backup created (the rest are links to files already on disk)."""


def station_files(station: Station) -> Iterator[tuple[str, str]]:
    """(path relative to the station, file) for every file a backup holds, settings first."""
    root = station.root
    seen: set[str] = set()
    settings = root / SETTINGS_FILE
    if settings.is_file():
        seen.add(SETTINGS_FILE)
        yield SETTINGS_FILE, str(settings)
    for folder in ARCHIVE_FOLDERS:
        base = root / folder
        if base.is_dir():
            for relative, path in _regular_files(str(base), f"{folder}/"):
                seen.add(relative)
                yield relative, path
    audio = station.settings.audio
    for named in (station.settings.show.cover, audio.intro, audio.outro):
        if not named:
            continue
        path = station.path_inside(named, what="file named in hotline.toml")
        relative = path.relative_to(root.resolve()).as_posix()
        if relative not in seen and path.is_file():
            seen.add(relative)
            yield relative, str(path)


def _regular_files(folder: str, prefix: str) -> Iterator[tuple[str, str]]:
    """(``prefix`` + path below ``folder``, path) of its regular files at any depth, sorted.

    Hidden entries are temporary files of runs in progress (or killed); symbolic links
    are not followed. Strings and directory entries, not ``Path`` objects: an archive
    has thousands of files, and an unchanged backup does little else than list them.
    """
    with os.scandir(folder) as found:
        entries = sorted((e for e in found if not e.name.startswith(".")), key=lambda e: e.name)
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from _regular_files(entry.path, f"{prefix}{entry.name}/")
        elif entry.is_file(follow_symlinks=False):
            yield f"{prefix}{entry.name}", entry.path


def published_feeds(station: Station) -> Iterator[tuple[str, str]]:
    """The feed files ``public/`` shows now, as ``public/feeds/NAME.xml``."""
    current = PublicTree(station.root).current()
    folder = current / "feeds" if current is not None else None
    if folder is None or not folder.is_dir():
        return
    for path in sorted(folder.glob("*.xml")):
        yield f"public/feeds/{path.name}", str(path)


def copy_hashing(
    source: Path | str, dest: Path | str, *, private: bool, mtime_ns: int
) -> tuple[str, int]:
    """Copy ``source`` to the new file ``dest`` with mtime ``mtime_ns``; (sha256, bytes) copied.

    Hashing what is read while it is copied: each byte is read once.
    """
    digest = hashlib.sha256()
    size = 0
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
    with open(source, "rb") as reader, os.fdopen(fd, "wb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    os.utime(dest, ns=(mtime_ns, mtime_ns))
    return digest.hexdigest(), size


def make_folders(folder: Path, base: Path, mode: int) -> None:
    """Create ``folder`` and its missing parents below ``base``, each with ``mode``."""
    missing = []
    while folder != base and not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=mode)


def sha256_of(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """One backup (or restore reading it) at a time per backup folder."""
    # 0600 like a private backup's files, though empty: nothing in a backup folder is
    # readable by others.
    fd = os.open(folder / LOCK, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _check_target(station: Station, target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise InvalidInput(f"{target} exists and is not a folder")
    if target.is_relative_to(station.root.resolve()):
        raise InvalidInput(
            f"{target} is inside the station: a backup must live elsewhere (another disk)"
        )
    if target.is_dir() and any(
        not p.name.startswith(".") and not (p / MANIFEST).is_file() for p in target.iterdir()
    ):
        raise InvalidInput(
            f"{target} holds other files; back up into a new folder or an earlier backup's"
        )


def _snapshot_name(target: Path) -> str:
    name = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate, n = name, 1
    while (target / candidate).exists():
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def backup_station(
    *,
    station: Station,
    target: Path,
    include_private: bool = False,
    data_format: str = "json",
    keep: int = DEFAULT_KEEP,
    progress: Progress | None = None,
) -> BackupReport:
    """Write a new complete snapshot of ``station`` into the backup folder ``target``.

    Args:
        station: the station to back up (read only).
        target: a new folder, or one holding earlier backups of this station.
        include_private: also back up members' and listeners' contact details.
        data_format: the tables as ``json`` (JSON Lines) or ``csv``.
        keep: complete snapshots to keep, the new one included (at least 1).
        progress: told of each file as it is backed up.
    """
    if keep < 1:
        raise InvalidInput(f"--keep {keep}: keep at least the new backup (1)")
    if data_format not in DATA_FORMATS:
        raise InvalidInput(f"unknown table format {data_format!r}: use json or csv")
    started = time.perf_counter()
    target = target.resolve()
    _check_target(station, target)
    with station.session(write=False) as session:
        # Said of the tables and the contacts before any folder is made.
        if include_private:
            privacy.require_private(session)
        require_every_table(session, doing="back up")
    target.mkdir(parents=True, exist_ok=True, mode=0o700 if include_private else 0o777)
    mode = 0o700 if include_private else 0o777
    with folder_lock(target):
        report = BackupReport(target, _snapshot_name(target), include_private=include_private)
        report.removed_partials = remove_leftovers(target, f"{PARTIAL_PREFIX}*")
        earlier = snapshots(target)
        previous = earlier[-1] if earlier else None
        known = BackupManifest.read(previous).files if previous is not None else {}
        work = target / partial_name(report.snapshot)
        work.mkdir(mode=mode)
        try:
            manifest = _write_snapshot(
                station, work, previous, known, report, data_format, mode, progress
            )
            with open_new(work / MANIFEST, private=include_private) as out:
                text = manifest.text()
                out.write(text)
            report.bytes_written += len(text.encode())
            report.written.append(work / MANIFEST)
            flush_tree(work, report.written)
            os.rename(work, target / report.snapshot)
            fsync_dir(target)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        for old in snapshots(target)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
            report.pruned.append(old.name)
    report.total_bytes = manifest.total_bytes
    report.files = len(manifest.files)
    report.seconds = time.perf_counter() - started
    return report


class _PartReuse:
    """Links a table part from the previous snapshot when its key says it is unchanged."""

    def __init__(
        self,
        previous: Path | None,
        known: dict[str, FileEntry],
        tables_dir: Path,
        data_format: str,
        private: bool,
        revision: str | None,
    ) -> None:
        self.previous = previous
        self.known = known
        self.tables_dir = tables_dir
        self.private = private
        self.linked: set[str] = set()
        """Parts linked (``tables/…`` keys): their manifest entries are the previous ones."""
        self.keys: dict[str, str] = {}
        if previous is None:
            return
        try:
            earlier = Manifest.read(previous / TABLES)
        except InvalidInput:
            return  # unreadable: every part is written again
        # Parts carry the same rows only in the same format, with the same columns.
        if (earlier.data_format, earlier.include_private, earlier.schema_revision) == (
            data_format,
            private,
            revision,
        ):
            for entry in earlier.tables:
                self.keys.update({f"{entry.file}/{p}": k for p, k in entry.part_keys.items()})

    def __call__(self, part: str, key: str) -> bool:
        name = f"{TABLES}/{part}"
        if self.previous is None or self.keys.get(part) != key or name not in self.known:
            return False
        dest = self.tables_dir / part
        if not _link(os.path.join(self.previous, name), dest):
            return False
        if self.private:
            dest.chmod(0o600)
        self.linked.add(name)
        return True


def _link(kept: str, dest: Path | str) -> bool:
    """Hard-link the previous snapshot's ``kept`` as ``dest``; False when it is gone."""
    try:
        os.link(kept, dest)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return False  # missing, or a folder where a file was (link(2) says EPERM)
    return True


def _write_snapshot(
    station: Station,
    work: Path,
    previous: Path | None,
    known: dict[str, FileEntry],
    report: BackupReport,
    data_format: str,
    mode: int,
    progress: Progress | None,
) -> BackupManifest:
    """Fill ``work`` with the tables and the station's files; return its manifest."""
    private = report.include_private
    tables_dir = work / TABLES
    tables_dir.mkdir(mode=mode)
    with db.snapshot(station.engine) as session:
        # The revision as the tables are read: parts are reused only under the same columns.
        revision = db.revision_in(session.connection())
        reuse = _PartReuse(previous, known, tables_dir, data_format, private, revision)
        exported = write_tables(
            session=session,
            folder=tables_dir,
            tz=station.tz,
            data_format=data_format,
            include_private=private,
            reuse=reuse,
        )
    report.tables = {entry.name: entry.rows for entry in exported.tables}
    manifest = BackupManifest(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        station=station.root.name,
        include_private=private,
        data_format=data_format,
        schema_revision=exported.schema_revision,
    )
    for relative, path in _regular_files(str(tables_dir), f"{TABLES}/"):
        if relative in reuse.linked:
            manifest.files[relative] = known[relative]
            continue
        stat = os.stat(path)
        manifest.files[relative] = FileEntry(sha256_of(path), stat.st_size, stat.st_mtime_ns)
        report.bytes_written += stat.st_size
        report.written.append(Path(path))
    wanted = [*station_files(station), *published_feeds(station)]
    folders: set[str] = set()
    for done, (relative, source) in enumerate(wanted, start=1):
        key = f"{STATION}/{relative}"
        dest = os.path.join(work, key)
        parent = os.path.dirname(dest)
        if parent not in folders:
            make_folders(Path(parent), work, mode)
            folders.add(parent)
        stat = os.stat(source)
        before = known.get(key)
        if (
            before is not None
            and previous is not None
            and before.bytes == stat.st_size
            and before.mtime_ns == stat.st_mtime_ns
            and _link(os.path.join(previous, key), dest)
        ):
            if private:
                os.chmod(dest, 0o600)
            manifest.files[key] = before
            report.linked += 1
        else:
            sha, size = copy_hashing(source, dest, private=private, mtime_ns=stat.st_mtime_ns)
            manifest.files[key] = FileEntry(sha, size, stat.st_mtime_ns)
            report.copied += 1
            report.bytes_written += size
            report.written.append(Path(dest))
        if progress is not None:
            progress(relative, done, len(wanted))
    return manifest
