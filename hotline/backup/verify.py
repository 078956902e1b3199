"""``verify_backup``: read every file of every snapshot again and compare it with its manifest.

Snapshots share unchanged files as hard links; each such file is read once. A problem
is one line naming the snapshot and the file: missing, another size, another sha256,
or a file the manifest does not list; a snapshot that lost its manifest is one problem.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from hotline.backup.snapshots import (
    MANIFEST,
    PARTIAL_PREFIX,
    BackupManifest,
    every_snapshot,
    looks_like_snapshot,
)
from hotline.backup.station_backup import sha256_of
from hotline.errors import InvalidInput


@dataclass
class SnapshotCheck:
    """One snapshot's verdict."""

    name: str
    files: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class VerifyReport:
    """Every snapshot of a backup folder, checked."""

    folder: Path
    snapshots: list[SnapshotCheck] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)
    """Snapshots a killed backup left (the next backup removes them)."""
    bytes_read: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.snapshots) and all(not s.problems for s in self.snapshots)


def verify_backup(folder: Path) -> VerifyReport:
    """Re-hash every file of every complete snapshot in ``folder`` against its manifest."""
    started = time.perf_counter()
    folder = folder.resolve()
    if looks_like_snapshot(folder):  # one snapshot given
        found, report = [folder], VerifyReport(folder.parent)
    else:
        found, report = every_snapshot(folder), VerifyReport(folder)
        if not found:
            raise InvalidInput(f"{folder} holds no complete backup to verify")
        report.unfinished = sorted(
            p.name for p in folder.iterdir() if p.name.startswith(PARTIAL_PREFIX)
        )
    hashed: dict[tuple[int, int], str] = {}
    for snapshot in found:
        check = SnapshotCheck(snapshot.name)
        report.snapshots.append(check)
        try:
            manifest = BackupManifest.read(snapshot)
        except InvalidInput as exc:
            check.problems.append(str(exc))
            continue
        for relative, entry in sorted(manifest.files.items()):
            path = snapshot / relative
            try:
                stat = path.stat()
            except FileNotFoundError:
                check.problems.append(f"{snapshot.name}/{relative}: missing")
                continue
            check.files += 1
            check.bytes += stat.st_size
            if stat.st_size != entry.bytes:
                check.problems.append(
                    f"{snapshot.name}/{relative}: {stat.st_size} bytes, the manifest says "
                    f"{entry.bytes}"
                )
                continue
            inode = (stat.st_dev, stat.st_ino)
            if inode not in hashed:
                hashed[inode] = sha256_of(path)
                report.bytes_read += stat.st_size
            if hashed[inode] != entry.sha256:
                check.problems.append(f"{snapshot.name}/{relative}: content changed (sha256)")
        listed = set(manifest.files) | {MANIFEST}
        for parent, _, names in os.walk(snapshot):
            for name in names:
                relative = (Path(parent) / name).relative_to(snapshot).as_posix()
                if relative not in listed:
                    check.problems.append(f"{snapshot.name}/{relative}: not in the manifest")
    report.seconds = time.perf_counter() - started
    return report
