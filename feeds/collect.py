"""Which episodes a feed lists, read from the database in a few queries, with guids fixed.

An episode is listed when it is mastered (its master file exists) and released: its
explicit release time, or else the end of its air slot, has passed. Its item guid is
assigned the first time it is listed and never changes afterwards.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from feeds.text import AnsweredQuestion, plain
from hotline.errors import InvalidInput
from hotline.models import (
    Booking,
    BookingStatus,
    Episode,
    EpisodeStatus,
    Member,
    Question,
    QuestionStatus,
    Transcript,
)
from hotline.station import Station
from hotline.timeutil import as_utc

MASTERED = (EpisodeStatus.mastered, EpisodeStatus.transcribed, EpisodeStatus.published)
QUESTION_TITLE_CHARS = 60


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
    questions: tuple[AnsweredQuestion, ...]
    language: str | None
    """The stored transcript's language, if there is one."""
    new_guid: bool


@dataclass
class Collected:
    """What ``collect`` found: the releases, and why other mastered episodes wait."""

    releases: list[Release] = field(default_factory=list)
    waiting: list[tuple[int, datetime]] = field(default_factory=list)
    """Mastered episodes whose release time is still ahead: (number, when)."""
    missing: list[str] = field(default_factory=list)
    """Mastered episodes whose master file is gone (one line each)."""


def release_time(episode: Any) -> datetime:
    """When an episode goes out: its explicit release time, else the end of its air slot.

    ``episode`` is an ``Episode`` or a row with its ``release_at``, ``air_start`` and
    ``duration_minutes``.
    """
    if episode.release_at is not None:
        return as_utc(episode.release_at)
    return as_utc(episode.air_start) + timedelta(minutes=episode.duration_minutes)


def question_title(question: Any) -> str:
    """A question as a chapter and list entry: its topic, else the start of its text."""
    title = plain(question.topic) or plain(question.text)
    if len(title) > QUESTION_TITLE_CHARS:
        title = title[: QUESTION_TITLE_CHARS - 1] + "…"
    return title


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
    Episode.audio_seconds,
    Episode.hosts,
)


def collect(*, session: Session, station: Station, now: datetime) -> Collected:
    """The released, mastered episodes, oldest first; assigns guids to new ones (flushes)."""
    found = Collected()
    candidates = session.exec(
        select(*_EPISODE_COLUMNS)
        .where(col(Episode.status).in_([s.value for s in MASTERED]))
        .where(col(Episode.audio_path).is_not(None))
        .order_by(col(Episode.number))
    ).all()
    folders = {station.root: station.root.resolve()}
    ready: list[tuple[Any, Path]] = []
    for episode in candidates:
        when = release_time(episode)
        try:
            master = _inside(station, episode.audio_path or "", folders)
        except InvalidInput as exc:
            found.missing.append(f"episode {episode.number}: {exc}")
            continue
        if not master.is_file():
            found.missing.append(f"episode {episode.number}: master {episode.audio_path} missing")
        elif when > now:
            found.waiting.append((episode.number, when))
        else:
            ready.append((episode, master))
    ids = [e.id for e, _ in ready]
    guests = _guests(session, ids)
    questions = _questions(session, ids)
    languages = dict(
        session.exec(
            select(Transcript.episode_id, Transcript.language).where(
                col(Transcript.episode_id).in_(ids)
            )
        ).all()
    )
    for episode, master in ready:
        guid, new = episode.guid, episode.guid is None
        if new:
            # Random, not derived from number or URL: those may change, the guid may not.
            guid = str(uuid.uuid4())
            stored = session.get(Episode, episode.id)
            assert stored is not None
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
                questions=tuple(questions.get(episode.id, [])),
                language=languages.get(episode.id),
                new_guid=new,
            )
        )
    session.flush()
    return found


def _inside(station: Station, relative: str, folders: dict[Path, Path]) -> Path:
    """``station.path_inside`` for a master, resolving each folder once, not each file.

    Masters share a folder or two; a file name that is itself a symbolic link (or ``.``,
    ``..``) still goes through the full check.
    """
    path = station.root / relative
    if not relative or path.name in ("", ".", "..") or path.is_symlink():
        return station.path_inside(relative, what="master")
    folder = folders.get(path.parent)
    if folder is None:
        folder = folders[path.parent] = path.parent.resolve()
    if not folder.is_relative_to(folders[station.root]):
        raise InvalidInput(f"master {relative!r} is outside the station folder")
    return folder / path.name


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


def _questions(session: Session, ids: list[int | None]) -> dict[int | None, list[AnsweredQuestion]]:
    """Questions answered on air, in the order they were answered."""
    rows = session.exec(
        select(Question.episode_id, Question.answer_offset, Question.topic, Question.text)
        .where(col(Question.episode_id).in_(ids), col(Question.answer_offset).is_not(None))
        .where(col(Question.status).not_in([QuestionStatus.rejected, QuestionStatus.duplicate]))
        .order_by(col(Question.episode_id), col(Question.answer_offset), col(Question.id))
    ).all()
    out: dict[int | None, list[AnsweredQuestion]] = defaultdict(list)
    for question in rows:
        if title := question_title(question):
            out[question.episode_id].append(AnsweredQuestion(question.answer_offset, title))
    return out
