"""``restore_backup``: a whole station again, in a new folder, from a backup's newest snapshot.

Every file is checked against the snapshot's sha256 while it is copied; the tables are
loaded into a fresh database (SQLite, or ``HOTLINE_DATABASE_URL``), which the new
``hotline.toml`` names (without a password) and which records the backed-up station's
id as the folder does; the search index is rebuilt; the feeds ``public/`` showed become
the new station's published feeds, so its first ``hotline publish`` finds nothing to
change for subscribers. The station is built under a hidden sibling name and renamed
into place when complete: an interrupted restore leaves no half station (and the next
restore, whatever its target, removes what it left).
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from feeds.files import flush_tree
from feeds.generations import PublicTree
from hotline.backup.leftovers import claimed, remove_leftovers
from hotline.backup.restore import restore_station
from hotline.backup.snapshots import (
    MANIFEST,
    STATION,
    TABLES,
    BackupManifest,
    FileEntry,
    damaged,
    latest,
)
from hotline.backup.station_backup import copy_hashing, make_folders, sha256_of
from hotline.config import load_settings
from hotline.errors import InvalidInput
from hotline.files import fsync_dir, write_atomic
from hotline.station import SETTINGS_FILE, init_station, save_station_settings

PUBLISHED = "public/feeds/"


@dataclass
class RestoreReport:
    """What ``restore_backup`` did."""

    target: Path
    snapshot: str
    files: int = 0
    bytes: int = 0
    tables: dict[str, int] = field(default_factory=dict)
    include_private: bool = False
    database: str = ""
    """The server database the station was restored into (no password); "" for its own
    ``hotline.db``."""
    seconds: float = 0.0


def _check_target(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise InvalidInput(f"{target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()):
        raise InvalidInput(f"{target} is not empty; restore into a new or empty folder")


def _check_file(snapshot: Path, relative: str, entry: FileEntry) -> None:
    """Refuse a file of the snapshot that is missing or not what its manifest says."""
    path = snapshot / relative
    if not path.is_file():
        raise damaged(snapshot, path, "missing")
    if sha256_of(path) != entry.sha256:
        raise damaged(snapshot, path, "its sha256 is not the manifest's")


def _copy_checked(snapshot: Path, relative: str, dest: Path, entry: FileEntry) -> None:
    """Copy the snapshot's file ``relative`` to ``dest``, refusing it if missing or changed."""
    source = snapshot / relative
    if not source.is_file():
        raise damaged(snapshot, source, "missing")
    sha, size = copy_hashing(source, dest, private=False, mtime_ns=entry.mtime_ns)
    if sha != entry.sha256 or size != entry.bytes:
        raise damaged(snapshot, source, "its sha256 is not the manifest's")


def restore_backup(*, source: Path, target: Path) -> RestoreReport:
    """Restore the newest complete snapshot in ``source`` as a new station at ``target``."""
    started = time.perf_counter()
    snapshot = latest(source.resolve())
    manifest = BackupManifest.read(snapshot)
    target = target.resolve()
    _check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Any killed restore's, whatever station it was making (not those still at work).
    remove_leftovers(target.parent, ".*.restoring-*")
    staging = target.parent / f".{target.name}.restoring-{os.getpid()}"
    staging.mkdir()
    report = RestoreReport(target, snapshot.name, include_private=manifest.include_private)
    try:
        with claimed(staging):
            _restore_into(staging, snapshot, manifest, report)
            flush_tree(staging)
            if target.is_dir():
                target.rmdir()  # empty, checked above
            os.rename(staging, target)
        fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report.seconds = time.perf_counter() - started
    return report


def _restore_into(
    root: Path, snapshot: Path, manifest: BackupManifest, report: RestoreReport
) -> None:
    """Build the station in the empty folder ``root``: every file checked, then the tables."""
    from transcripts.index import rebuild_index

    for relative, entry in sorted(manifest.files.items()):
        if relative.startswith(f"{TABLES}/"):
            _check_file(snapshot, relative, entry)  # loaded once the station exists
            continue
        inside = relative.removeprefix(f"{STATION}/")
        if inside.startswith(PUBLISHED):
            _check_file(snapshot, relative, entry)  # shown once the station exists
            continue
        if inside == SETTINGS_FILE:
            continue  # below: the station is made from it
        dest = root / inside
        make_folders(dest.parent, root, 0o777)
        _copy_checked(snapshot, relative, dest, entry)
        report.files += 1
        report.bytes += entry.bytes
    settings_key = f"{STATION}/{SETTINGS_FILE}"
    if settings_key not in manifest.files:
        raise damaged(snapshot, snapshot / MANIFEST, f"it lists no {SETTINGS_FILE}")
    held = root / f".{SETTINGS_FILE}.restored"
    _copy_checked(snapshot, settings_key, held, manifest.files[settings_key])
    settings = load_settings(held)
    # The database restored into, never the backed-up station's: that one may still be in
    # use (and holds the same station id). init_station names a server's URL, if any.
    settings.database.url = ""
    station, _ = init_station(root, settings)
    report.database = station.settings.database.url
    try:
        if load_settings(held) == station.settings:
            write_atomic(station.settings_path, held.read_bytes())  # byte for byte, comments too
        else:
            save_station_settings(station)  # another database, or a station id given now
        held.unlink()
        with station.session() as session:
            loaded = restore_station(session=session, source=snapshot / TABLES)
            rebuild_index(session=session)
        report.tables = {entry.name: entry.rows for entry in loaded.tables}
        _restore_published_feeds(snapshot, manifest, root)
    finally:
        station.engine.dispose()


def _restore_published_feeds(snapshot: Path, manifest: BackupManifest, root: Path) -> None:
    """Show the backed-up feeds in ``public/``, as the station published them."""
    feeds = {
        relative: entry
        for relative, entry in manifest.files.items()
        if relative.startswith(f"{STATION}/{PUBLISHED}")
    }
    if not feeds:
        return
    tree = PublicTree(root)
    generation = tree.new_generation()
    (generation / "feeds").mkdir()
    for relative, entry in sorted(feeds.items()):
        name = Path(relative).name
        _copy_checked(snapshot, relative, generation / "feeds" / name, entry)
    tree.switch(generation)
    tree.remove_leftovers()
