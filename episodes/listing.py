"""Reading the schedule: episode lists and one episode's detail, with their JSON form.

Lists are built from two queries whatever their length: the episodes' columns, then the
booked guests of all of them, so 1200 episodes cost what one does plus the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from episodes.lifecycle import check_status
from episodes.lookup import get_episode
from hotline.errors import InvalidInput
from hotline.models import (
    Booking,
    BookingStatus,
    Episode,
    EpisodeStatus,
    Member,
    Question,
    table_of,
)
from hotline.timeutil import local_iso, utcnow

# Bookings that put a member on an episode (declined and cancelled ones do not).
GUEST_STATUSES = (
    BookingStatus.invited,
    BookingStatus.confirmed,
    BookingStatus.appeared,
    BookingStatus.no_show,
)

# Lists select Core columns of the tables, not ORM attributes: a Core select compiles
# without the ORM's compile step and without configuring every mapper, which costs a
# short command more than its query.
_episode = table_of(Episode).c
_booking = table_of(Booking).c
_member = table_of(Member).c

_COLUMNS = (
    _episode.id,
    _episode.number,
    _episode.title,
    _episode.topic,
    _episode.air_start,
    _episode.duration_minutes,
    _episode.status,
    _episode.hosts,
    _episode.description,
    _episode.guid,
    _episode.published_at,
    _episode.audio_path,
    _episode.audio_bytes,
    _episode.audio_seconds,
    _episode.withdrawn_at,
    _episode.withdrawal_reason,
)


@dataclass(slots=True)
class Guest:
    """A member booked on an episode."""

    name: str
    sector: str
    role: str
    status: str
    member_id: int = 0
    booking_id: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "sector": self.sector, "role": self.role, "status": self.status}


@dataclass(slots=True)
class EpisodeView:
    """What lists and detail pages show of an episode."""

    id: int
    number: int
    title: str
    topic: str
    air_start: datetime
    duration_minutes: int
    status: str
    hosts: list[str]
    description: str
    guid: str | None
    published_at: datetime | None
    audio_path: str | None
    audio_bytes: int | None
    audio_seconds: float | None
    withdrawn_at: datetime | None = None
    withdrawal_reason: str = ""
    guests: list[Guest] = field(default_factory=list)

    @property
    def shown_status(self) -> str:
        """The status as lists show it: ``withdrawn`` while withdrawn from the feeds."""
        return "withdrawn" if self.withdrawn_at is not None else self.status

    def as_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The stable ``--json`` form; times in ISO 8601 with the station's offset."""
        return {
            "number": self.number,
            "title": self.title,
            "topic": self.topic,
            "air_start": local_iso(self.air_start, tz),
            "duration_minutes": self.duration_minutes,
            "status": self.status,
            "hosts": list(self.hosts or []),
            "description": self.description,
            "guests": [g.as_json() for g in self.guests],
            "guid": self.guid,
            "published_at": local_iso(self.published_at, tz),
            "withdrawn": None
            if self.withdrawn_at is None
            else {"at": local_iso(self.withdrawn_at, tz), "reason": self.withdrawal_reason},
            "audio": {
                "path": self.audio_path,
                "bytes": self.audio_bytes,
                "seconds": self.audio_seconds,
            },
        }


@dataclass(slots=True)
class EpisodeDetail:
    """One episode with every booking (declined and cancelled too) and its questions by status."""

    episode: EpisodeView
    bookings: list[Guest]
    questions: dict[str, int]

    def as_json(self, tz: ZoneInfo) -> dict[str, Any]:
        data = self.episode.as_json(tz)
        data["bookings"] = [
            {**b.as_json(), "member_id": b.member_id, "booking_id": b.booking_id}
            for b in self.bookings
        ]
        data["questions"] = dict(self.questions)
        return data


def _rows(session: Session, stmt: Any) -> Any:
    """Plain rows through the session's connection: lists need no ORM identity bookkeeping,
    which costs more than the query itself on a thousand rows."""
    return session.connection().execute(stmt).all()


def _guests(session: Session, episode_ids: Any, *, every: bool = False) -> dict[int, list[Guest]]:
    """Bookings of the given episodes (ids or a subquery of ids), in one query."""
    stmt = (
        sa.select(
            _booking.episode_id,
            _member.name,
            _member.sector,
            _booking.role,
            _booking.status,
            _member.id,
            _booking.id,
        )
        .join_from(table_of(Booking), table_of(Member), _member.id == _booking.member_id)
        .where(_booking.episode_id.in_(episode_ids))
        .order_by(_booking.episode_id, _booking.id)
    )
    if not every:
        stmt = stmt.where(_booking.status.in_(GUEST_STATUSES))
    found: dict[int, list[Guest]] = {}
    for episode_id, name, sector, role, status, member_id, booking_id in _rows(session, stmt):
        found.setdefault(episode_id, []).append(
            Guest(name, sector, role, status, member_id, booking_id)
        )
    return found


def list_episodes(
    *,
    session: Session,
    from_number: int | None = None,
    to_number: int | None = None,
    upcoming: bool = False,
    status: str | None = None,
    limit: int | None = None,
    now: datetime | None = None,
) -> list[EpisodeView]:
    """Episodes by number, with their booked guests, in two queries.

    ``upcoming`` keeps episodes that have not started yet and are not cancelled (unless
    ``status`` asks for cancelled ones). ``limit`` keeps the list's own order and takes
    what matters from it: with ``upcoming`` the next ``limit`` to air, otherwise the
    newest ``limit`` (the end of the list).
    """
    conditions: list[Any] = []
    if from_number is not None:
        conditions.append(_episode.number >= from_number)
    if to_number is not None:
        conditions.append(_episode.number <= to_number)
    if status is not None:
        conditions.append(_episode.status == check_status(status).value)
    if upcoming:
        conditions.append(_episode.air_start >= (now or utcnow()))
        if status is None:
            conditions.append(_episode.status != EpisodeStatus.cancelled)
    if limit is not None and limit < 0:
        raise InvalidInput(f"limit {limit}: give 0 (all) or more")
    limit = limit or None  # 0 is all, as every list's --limit says

    # The newest come from the end: taken in reverse and turned back into number order.
    newest_first = limit is not None and not upcoming
    order = _episode.number.desc() if newest_first else _episode.number
    stmt = sa.select(*_COLUMNS).where(*conditions).order_by(order).limit(limit)
    views = [EpisodeView(*row) for row in _rows(session, stmt)]
    if newest_first:
        views.reverse()
    if not views:
        return views
    # One query for the guests of every listed episode: by subquery, not N lookups.
    ids = sa.select(_episode.id).where(*conditions).order_by(order).limit(limit)
    guests = _guests(session, ids.scalar_subquery())
    for view in views:
        view.guests = guests.get(view.id, [])
    return views


def episode_detail(*, session: Session, number: int) -> EpisodeDetail:
    """One episode, all its bookings and the count of its listener questions per status."""
    episode = get_episode(session, number)
    row = session.connection().execute(sa.select(*_COLUMNS).where(_episode.id == episode.id)).one()
    view = EpisodeView(*row)
    bookings = _guests(session, [episode.id], every=True).get(episode.id, [])
    view.guests = [b for b in bookings if b.status in GUEST_STATUSES]
    counts = session.exec(
        select(Question.status, sa.func.count())
        .where(Question.episode_id == episode.id)
        .group_by(col(Question.status))
    ).all()
    return EpisodeDetail(view, bookings, {s: n for s, n in sorted(counts)})
