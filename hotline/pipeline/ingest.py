"""Ingest: check a delivered recording, copy it into the archive, queue the pipeline.

Every check comes before the copy (the tags taken with ``--use-tags`` included), and the
source is hashed first, so a refused ingest leaves nothing in ``audio/raw/`` and a file
already archived for the episode is recognised without copying it again. The hash and
the copy (into a part file) come before the ingest's first write to the database, so an
SQLite station's write lock is not held while a long recording is read and copied: desks
go on meanwhile. The part becomes the archived file in the database transaction, after
the changes are made (not yet committed): a failure there undoes both.

The copy is written to ``audio/raw/.incoming-HEX.part``, locked (``flock``) by its
ingest for as long as it writes it. An ingest killed mid-copy (SIGKILL, a power cut)
leaves its part behind with the lock gone with the process; the next ingest that copies
removes such parts, never one a running ingest holds.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session, col, select

from episodes.lifecycle import may_become, set_status
from episodes.lookup import get_episode
from hotline import processes
from hotline.errors import Conflict, InvalidInput
from hotline.files import CHUNK, fsync_dir, sha256_file
from hotline.models import Episode, EpisodeStatus
from hotline.pipeline.registry import queue_pipeline
from hotline.station import Station
from hotline.text import clean_text
from hotline.timeutil import utcnow

_FORMAT_EXT = {
    "mp3": "mp3",
    "wav": "wav",
    "flac": "flac",
    "ogg": "ogg",
    "opus": "opus",
    "amr": "amr",
    "aac": "aac",
    "mov": "m4a",
    "mp4": "m4a",
    "m4a": "m4a",
    "matroska": "mka",
    "webm": "webm",
    "aiff": "aiff",
    "w64": "w64",
}
_EPISODE_PREFIX = re.compile(r"^\s*第\s*\d+\s*期\s*[:：·\-—]?\s*")
PART_PATTERN = ".incoming-*.part"
"""A copy into ``audio/raw/`` not yet complete (or abandoned by a killed ingest)."""


@dataclass(frozen=True)
class IngestResult:
    """What ``ingest`` did, for the CLI to report."""

    episode: int
    raw_path: str
    sha256: str
    seconds: float
    format: str
    copied: bool
    tags: dict[str, str] = field(default_factory=dict)
    applied: list[str] = field(default_factory=list)
    queued: list[tuple[int, str]] = field(default_factory=list)
    also_of: list[int] = field(default_factory=list)
    """Other episodes whose recording is this very file (a wrong file picked, most likely)."""
    leftovers: int = 0
    """Parts of earlier ingests killed mid-copy, removed from ``audio/raw/``."""


def raw_extension(format_name: str) -> str:
    """A safe lower-case file extension for an ffprobe format name ("mov,mp4,m4a…" → m4a)."""
    names = [n.strip().lower() for n in (format_name or "").split(",")]
    for name in names:
        if name in _FORMAT_EXT:
            return _FORMAT_EXT[name]
    first = re.sub(r"[^a-z0-9]", "", names[0] if names else "")[:8]
    return first or "audio"


def archive_name(prefix: str, sha: str, ext: str) -> str:
    """``0999-1a2b3c4d.wav``: raw recordings are named by episode and content."""
    return f"{prefix}-{sha[:8]}.{ext}"


def already_archived(
    dest: Path, sha: str, *, size: int | None = None, recorded_sha: str | None = None
) -> bool:
    """True when ``dest`` holds the content hashed ``sha``; False when there is no ``dest``.

    A file the episode already records with this hash is trusted when its size is
    ``size`` (nothing rewrites raw files); any other file of that name is hashed.

    Raises:
        Conflict: ``dest`` exists with other content.
    """
    if not dest.exists():
        return False
    same_size = size is None or dest.stat().st_size == size
    if same_size and (recorded_sha == sha or sha256_file(dest) == sha):
        return True
    raise Conflict(f"{dest.name} already exists in the archive with other content")


def _same_file(handle: BinaryIO, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``handle``."""
    try:
        return os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
    except FileNotFoundError:
        return False


@contextlib.contextmanager
def _new_part(folder: Path) -> Iterator[tuple[Path, BinaryIO]]:
    """A new part file in ``folder``, open for writing and locked while it is open."""
    while True:
        temp = folder / f".incoming-{uuid.uuid4().hex}.part"
        handle = temp.open("xb")
        fcntl.flock(handle, fcntl.LOCK_EX)
        # Between its creation and the lock, an ingest cleaning up may have taken the
        # part for a leftover and removed it: then start again under another name.
        if _same_file(handle, temp):
            break
        handle.close()
    with handle:
        yield temp, handle


def remove_abandoned_parts(folder: Path) -> int:
    """Remove the parts in ``folder`` that no running ingest holds locked; how many.

    Best effort: a part that cannot be opened or removed (not this user's, a read-only
    folder) is left for a later ingest.
    """
    removed = 0
    for part in folder.glob(PART_PATTERN):
        try:
            with part.open("rb") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # an ingest is writing it
                # Removed while still locked, so that its writer, if it only just created
                # it, finds it gone once it has the lock (``_new_part``).
                if _same_file(handle, part):
                    part.unlink()
                    removed += 1
        except OSError:
            continue
    return removed


def copy_into_archive(source: Path, dest: Path, sha: str) -> bool:
    """Copy ``source`` (hashed ``sha``) to ``dest``; False when ``dest`` already holds it."""
    with staged_copy(source, dest, sha) as place:
        return place()


@contextlib.contextmanager
def staged_copy(source: Path, dest: Path, sha: str) -> Iterator[Callable[[], bool]]:
    """Copy ``source`` (hashed ``sha``) into a part beside ``dest``; yield ``place``.

    The copy is streamed and hashed again on the way and fsynced, so the archive never
    holds half a recording nor one that changed since it was checked. ``place()`` renames
    the part to ``dest`` (False, and the part dropped, when ``dest`` already holds the
    recording: nothing is copied when it did from the start). Raw files are never
    overwritten. The part stays locked until it is renamed or the block ends (which
    removes it), so no other ingest takes it for a leftover.
    """
    folder = dest.parent
    folder.mkdir(parents=True, exist_ok=True)
    if dest.exists():

        def verify() -> bool:
            already_archived(dest, sha)  # Conflict when it holds another recording
            return False

        yield verify
        return
    digest = hashlib.sha256()
    temp: Path | None = None
    try:
        # A full disk or a read-only folder surfaces as the OSError itself: the CLI's one
        # failure handler names the file being written and what to do.
        with source.open("rb") as reader, _new_part(folder) as (temp, writer):
            while chunk := reader.read(CHUNK):
                digest.update(chunk)
                writer.write(chunk)
            writer.flush()
            os.fsync(writer.fileno())
            if digest.hexdigest() != sha:
                raise InvalidInput(
                    f"{source}: the file changed while it was being copied; try again"
                )
            part = temp

            def place() -> bool:
                if already_archived(dest, sha):  # another ingest of the same file got there
                    return False
                part.chmod(0o444)  # raw recordings are never modified
                os.replace(part, dest)
                fsync_dir(folder)
                return True

            yield place
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)


def _found_tags(source: Path) -> dict[str, str]:
    from episodes.tags import existing_tags

    found = existing_tags(source) or {}
    return {str(k): str(v) for k, v in found.items() if v not in (None, "", [], {})}


def _tag_fields(source: Path, found: dict[str, str]) -> dict[str, str]:
    """Title and description from a delivered file's tags, checked as the episode's fields.

    Raises:
        InvalidInput: a tag that would not pass as the field (too long, control
            characters), naming the file.
    """
    fields: dict[str, str] = {}
    try:
        title = _EPISODE_PREFIX.sub("", found.get("title", ""))
        if title:
            fields["title"] = clean_text(title, field="title tag", max_length=200)
        description = found.get("description") or found.get("comment") or ""
        if description:
            fields["description"] = clean_text(
                description, field="description tag", max_length=4000, multiline=True
            )
    except InvalidInput as exc:
        raise InvalidInput(f"{source}: {exc}") from exc
    return fields


def _decoded_seconds(source: Path) -> float:
    """Length by decoding, for containers whose header does not say (raw AMR, some streams)."""
    from hotline.ffmpeg import iter_pcm

    rate = 8000
    frames = sum(len(block) for block in iter_pcm(source, sample_rate=rate, channels=1))
    return frames / rate


def ingest(
    *, station: Station, session: Session, number: int, source: Path, use_tags: bool = False
) -> IngestResult:
    """Check that ``source`` is decodable audio, archive it and queue the episode's pipeline.

    Every check happens before anything is copied: an unknown episode, a missing,
    unreadable, empty, non-audio or truncated file, a recording shorter than
    ``audio.min_recording_seconds``, or (with ``use_tags``) a tag that cannot be the
    episode's title or description raises with the file and the reason.
    """
    from hotline.ffmpeg import probe

    # Checked on a read first (no write lock), again in the write below.
    with station.session(write=False) as reading:
        may_become(get_episode(reading, number), EpisodeStatus.recorded)  # not cancelled
    source = Path(source)
    with processes.limits(station.settings.jobs):
        info = probe(source)
        seconds = info.duration or _decoded_seconds(source)
    minimum = station.settings.audio.min_recording_seconds
    if seconds < minimum:
        raise InvalidInput(
            f"{source}: the recording is {seconds:.1f} s long; the minimum is "
            f"{minimum:g} s (audio.min_recording_seconds)"
        )
    found = _found_tags(source)
    fields = _tag_fields(source, found) if use_tags else {}
    sha = sha256_file(source)
    dest = station.raw_dir / archive_name(f"{number:04d}", sha, raw_extension(info.format))
    relative = dest.relative_to(station.root).as_posix()
    existed = dest.exists()
    leftovers = remove_abandoned_parts(station.raw_dir)
    with staged_copy(source, dest, sha) as place:
        # The first write: from here on an SQLite station's write lock is held.
        episode = get_episode(session, number)
        set_status(session, episode, EpisodeStatus.recorded)  # refuses a cancelled episode
        recorded = episode.raw_sha256 if episode.raw_path == relative else None
        if existed:
            already_archived(dest, sha, size=source.stat().st_size, recorded_sha=recorded)
        also_of = session.exec(
            select(Episode.number)
            .where(Episode.raw_sha256 == sha)
            .where(Episode.number != episode.number)
            .order_by(col(Episode.number))
        ).all()
        episode.raw_path = relative
        episode.raw_sha256 = sha
        for name, value in fields.items():
            setattr(episode, name, value)
        episode.updated_at = utcnow()
        session.add(episode)
        session.flush()
        queued = queue_pipeline(session=session, episode=episode)
        # Last: a failure to place the copy raises here and the changes are rolled back.
        copied = False if existed else place()
    return IngestResult(
        episode=episode.number,
        raw_path=episode.raw_path,
        sha256=sha,
        seconds=seconds,
        format=raw_extension(info.format),
        copied=copied,
        tags=found,
        applied=list(fields),
        queued=[(job.id or 0, job.kind) for job in queued],
        also_of=list(also_of),
        leftovers=leftovers,
    )
