"""Ingest: check a delivered recording, copy it into the archive, queue the pipeline."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from episodes.lifecycle import set_status
from episodes.lookup import get_episode
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


def raw_extension(format_name: str) -> str:
    """A safe lower-case file extension for an ffprobe format name ("mov,mp4,m4a…" → m4a)."""
    names = [n.strip().lower() for n in (format_name or "").split(",")]
    for name in names:
        if name in _FORMAT_EXT:
            return _FORMAT_EXT[name]
    first = re.sub(r"[^a-z0-9]", "", names[0] if names else "")[:8]
    return first or "audio"


def copy_into_archive(source: Path, folder: Path, prefix: str, ext: str) -> tuple[Path, str, bool]:
    """Copy ``source`` to ``folder/<prefix>-<sha8>.<ext>``; return (path, sha256, copied).

    The copy is streamed and hashed on the way, written under a temporary name,
    fsynced and renamed, so the archive never holds half a recording. A file
    already there with the same content is kept (``copied`` False); raw files are
    never overwritten.
    """
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".incoming-{uuid.uuid4().hex}.part"
    digest = hashlib.sha256()
    try:
        with source.open("rb") as reader, temp.open("xb") as writer:
            while chunk := reader.read(CHUNK):
                digest.update(chunk)
                writer.write(chunk)
            writer.flush()
            os.fsync(writer.fileno())
        sha = digest.hexdigest()
        dest = folder / f"{prefix}-{sha[:8]}.{ext}"
        if dest.exists():
            if sha256_file(dest) != sha:
                raise Conflict(f"{dest.name} already exists in the archive with other content")
            return dest, sha, False
        temp.chmod(0o444)  # raw recordings are never modified
        os.replace(temp, dest)
        fsync_dir(folder)
        return dest, sha, True
    finally:
        temp.unlink(missing_ok=True)


def _found_tags(source: Path) -> dict[str, str]:
    from episodes.tags import existing_tags

    found = existing_tags(source) or {}
    return {str(k): str(v) for k, v in found.items() if v not in (None, "", [], {})}


def _apply_tags(episode: Episode, found: dict[str, str]) -> list[str]:
    """Take title and description from a delivered file's tags; return what was applied."""
    applied = []
    title = _EPISODE_PREFIX.sub("", found.get("title", ""))
    if title:
        episode.title = clean_text(title, field="title tag", max_length=200)
        applied.append("title")
    description = found.get("description") or found.get("comment") or ""
    if description:
        episode.description = clean_text(
            description, field="description tag", max_length=4000, multiline=True
        )
        applied.append("description")
    return applied


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
    unreadable, empty, non-audio or truncated file, or a recording shorter than
    ``audio.min_recording_seconds`` raises with the file and the reason.
    """
    from hotline.ffmpeg import probe

    episode = get_episode(session, number)
    set_status(session, episode, EpisodeStatus.recorded)  # refuses a cancelled episode
    source = Path(source)
    info = probe(source)
    seconds = info.duration or _decoded_seconds(source)
    minimum = station.settings.audio.min_recording_seconds
    if seconds < minimum:
        raise InvalidInput(
            f"{source}: the recording is {seconds:.1f} s long; the minimum is "
            f"{minimum:g} s (audio.min_recording_seconds)"
        )
    found = _found_tags(source)
    dest, sha, copied = copy_into_archive(
        source, station.raw_dir, f"{episode.number:04d}", raw_extension(info.format)
    )
    episode.raw_path = dest.relative_to(station.root).as_posix()
    episode.raw_sha256 = sha
    applied = _apply_tags(episode, found) if use_tags else []
    episode.updated_at = utcnow()
    session.add(episode)
    session.flush()
    queued = queue_pipeline(session=session, episode=episode)
    return IngestResult(
        episode=episode.number,
        raw_path=episode.raw_path,
        sha256=sha,
        seconds=seconds,
        format=raw_extension(info.format),
        copied=copied,
        tags=found,
        applied=applied,
        queued=[(job.id or 0, job.kind) for job in queued],
    )
