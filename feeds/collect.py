"""Which episodes a feed lists, read from the database in a few queries, with guids fixed.

An episode is listed when it is mastered (its master file exists, at the size its
mastering recorded), released (its
explicit release time, or else the end of its air slot, has passed) and not withdrawn
(``episodes.withdrawal``). Its item guid is assigned the first time it is listed and
never changes afterwards, withdrawn or not.

What is read here is the station's own text; ``feeds.plan`` makes it public (masking
contacts) before anything is written.
"""

from __future__ import annotations

import os
import stat
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from episodes.chapters import Answer, answers_by_episode
from feeds.text import plain
from hotline.errors import InvalidInput
from hotline.models import (
    Booking,
    BookingStatus,
    Episode,
    EpisodeStatus,
    Member,
    Transcript,
)
from hotline.station import Station
from hotline.timeutil import as_utc, local_text

MASTERED = (EpisodeStatus.mastered, EpisodeStatus.transcribed, EpisodeStatus.published)


@dataclass(frozen=True)
class Release:
    """An episode ready for the feeds: database facts, detached from the session."""

    number: int
    guid: str
    title: str
    topic: str
    description: str
    released: datetime
    master: Path
    seconds: float
    hosts: tuple[str, ...]
    guests: tuple[str, ...]
    answers: tuple[Answer, ...]
    """Questions answered on air, in the recording's time (``episodes.chapters``)."""
    language: str | None
    """The stored transcript's language, if there is one."""
    stored_transcript: bool
    """The database holds a complete transcript (files may still be missing)."""
    new_guid: bool
    master_offset: float | None
    """Where the recording's time 0 lies in the master (None: not known, taken as 0)."""
    tags_fingerprint: str | None
    """The tags the master carries (None: not tagged by the master stage)."""
    audio_bytes: int | None
    tag_title: str
    """The episode's title and description as stored, for the master's tags."""
    tag_description: str
    air_date: str


@dataclass
class Collected:
    """What ``collect`` found: the releases, and why other mastered episodes wait."""

    releases: list[Release] = field(default_factory=list)
    waiting: list[tuple[int, datetime]] = field(default_factory=list)
    """Mastered episodes whose release time is still ahead: (number, when)."""
    missing: list[str] = field(default_factory=list)
    """Mastered episodes whose master file is gone (one line each)."""
    missing_numbers: set[int] = field(default_factory=set)
    """The numbers of those episodes."""
    damaged_numbers: set[int] = field(default_factory=set)
    """Those of them whose master is there but not the size its mastering recorded."""
    withdrawn: set[int] = field(default_factory=set)
    """Mastered episodes withdrawn from the feeds (``hotline episodes withdraw``)."""


def release_time(episode: Any) -> datetime:
    """When an episode goes out: its explicit release time, else the end of its air slot.

    ``episode`` is an ``Episode`` or a row with its ``release_at``, ``air_start`` and
    ``duration_minutes``.
    """
    if episode.release_at is not None:
        return as_utc(episode.release_at)
    return as_utc(episode.air_start) + timedelta(minutes=episode.duration_minutes)


# Only the columns a feed needs: loading whole ORM objects for 1000+ episodes and their
# questions on every publish costs more than everything else a quiet publish does.
_EPISODE_COLUMNS = (
    Episode.id,
    Episode.number,
    Episode.guid,
    Episode.title,
    Episode.topic,
    Episode.description,
    Episode.air_start,
    Episode.duration_minutes,
    Episode.release_at,
    Episode.audio_path,
    Episode.raw_path,
    Episode.audio_seconds,
    Episode.audio_bytes,
    Episode.master_offset,
    Episode.tags_fingerprint,
    Episode.hosts,
    Episode.withdrawn_at,
)


def collect(
    *,
    session: Session,
    station: Station,
    now: datetime,
    withdraw: frozenset[int] = frozenset(),
    reinstate: frozenset[int] = frozenset(),
    assign_guids: bool = True,
) -> Collected:
    """The released, mastered episodes, oldest first; assigns guids to new ones (flushes).

    Args:
        withdraw: episodes to leave out as withdrawn, whatever the database says yet.
        reinstate: withdrawn episodes to list again, whatever the database says yet.
        assign_guids: False for a preview: a new episode gets a random guid that is not
            stored (a publish would store another), and nothing is written.
    """
    found = Collected()
    candidates = session.exec(
        select(*_EPISODE_COLUMNS)
        .where(col(Episode.status).in_([s.value for s in MASTERED]))
        .where(col(Episode.audio_path).is_not(None))
        .order_by(col(Episode.number))
    ).all()
    folders = {"": str(station.root.resolve())}
    ready: list[tuple[Any, Path]] = []
    for episode in candidates:
        if episode.number in withdraw or (
            episode.withdrawn_at is not None and episode.number not in reinstate
        ):
            found.withdrawn.add(episode.number)
            continue
        when = release_time(episode)
        try:
            master = _inside(station, episode.audio_path or "", folders)
        except InvalidInput as exc:
            found.missing.append(f"episode {episode.number}: {exc}")
            found.missing_numbers.add(episode.number)
            continue
        size = _file_size(master)
        if size is None:
            found.missing.append(f"episode {episode.number}: master {episode.audio_path} missing")
            found.missing_numbers.add(episode.number)
        elif episode.audio_bytes is not None and size != episode.audio_bytes:
            # Truncated, overwritten or written into through public/ (a hard link to it):
            # an app would download a broken file under the item listeners know.
            found.missing.append(_damaged(episode, size))
            found.missing_numbers.add(episode.number)
            found.damaged_numbers.add(episode.number)
        elif when > now:
            found.waiting.append((episode.number, when))
        else:
            ready.append((episode, Path(master)))
    ids = [e.id for e, _ in ready]
    guests = _guests(session, ids)
    answers = answers_by_episode(session, ids)
    transcripts = {
        episode_id: (language, complete)
        for episode_id, language, complete in session.exec(
            select(Transcript.episode_id, Transcript.language, Transcript.complete).where(
                col(Transcript.episode_id).in_(ids)
            )
        ).all()
    }
    # The episodes that get a guid, loaded in one query: a ``session.get`` each would
    # flush the one before (autoflush), a flush per episode on a first publish.
    new_ids = [e.id for e, _ in ready if e.guid is None] if assign_guids else []
    unsaved = (
        {e.id: e for e in session.exec(select(Episode).where(col(Episode.id).in_(new_ids)))}
        if new_ids
        else {}
    )
    for episode, master in ready:
        guid, new = episode.guid, episode.guid is None
        if new:
            # Random, not derived from number or URL: those may change, the guid may not.
            guid = str(uuid.uuid4())
        if new and assign_guids:
            stored = unsaved[episode.id]
            stored.guid = guid
            session.add(stored)
        found.releases.append(
            Release(
                number=episode.number,
                guid=guid or "",
                title=plain(episode.title) or f"第{episode.number}期",
                topic=plain(episode.topic),
                description=plain(episode.description, multiline=True),
                released=release_time(episode),
                master=master,
                seconds=float(episode.audio_seconds or 0.0),
                hosts=tuple(h for h in (plain(h) for h in episode.hosts or []) if h),
                guests=tuple(guests.get(episode.id, [])),
                answers=tuple(answers.get(episode.id, [])),
                language=transcripts.get(episode.id, (None, False))[0],
                stored_transcript=bool(transcripts.get(episode.id, (None, False))[1]),
                new_guid=new,
                master_offset=episode.master_offset,
                tags_fingerprint=episode.tags_fingerprint,
                audio_bytes=episode.audio_bytes,
                tag_title=episode.title,
                tag_description=episode.description,
                air_date=local_text(episode.air_start, station.tz, "%Y-%m-%d") or "",
            )
        )
    session.flush()
    return found


def _file_size(path: str) -> int | None:
    """The size of the regular file at ``path``; None when there is none."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _damaged(episode: Any, size: int) -> str:
    """Why a master of the wrong size is not listed, and how to make it again."""
    again = (
        f"`hotline ingest {episode.number} {episode.raw_path}` masters it again"
        if episode.raw_path
        else f"ingest episode {episode.number}'s recording again to master it"
    )
    return (
        f"episode {episode.number}: master {episode.audio_path} is {size} bytes, not the "
        f"{episode.audio_bytes} its mastering recorded (damaged or replaced on disk); {again}"
    )


def _inside(station: Station, relative: str, folders: dict[str, str]) -> str:
    """``station.path_inside`` for a master, resolving each folder once, not each file.

    Masters share a folder or two; a file name that is itself a symbolic link (or ``.``,
    ``..``) still goes through the full check. Plain strings: this runs for every mastered
    episode of the archive on every publish, and ``pathlib`` would be most of its time.
    """
    head, name = os.path.split(relative)
    root = folders[""]
    if not relative or name in ("", ".", "..") or os.path.isabs(relative):
        return str(station.path_inside(relative, what="master"))
    folder = folders.get(head)
    if folder is None:
        folder = folders[head] = os.path.realpath(os.path.join(root, head))
    if folder != root and not folder.startswith(root + os.sep):
        raise InvalidInput(f"master {relative!r} is outside the station folder")
    path = os.path.join(folder, name)
    if os.path.islink(path):
        return str(station.path_inside(relative, what="master"))
    return path


def _guests(session: Session, ids: list[int | None]) -> dict[int | None, list[str]]:
    rows = session.exec(
        select(Booking.episode_id, Member.name)
        .join(Member, col(Member.id) == col(Booking.member_id))
        .where(col(Booking.episode_id).in_(ids), Booking.status == BookingStatus.appeared)
        .order_by(col(Booking.episode_id), col(Booking.id))
    ).all()
    out: dict[int | None, list[str]] = defaultdict(list)
    for episode_id, name in rows:
        if cleaned := plain(name):
            out[episode_id].append(cleaned)
    return out
