"""The live desk (直播台): the show clock and the caller queue during the live broadcast.

The screener adds callers (name, district, one-line summary); each call moves::

    waiting → screened → on_air → done
    waiting, screened  → dropped

Putting a call on air stamps its offset from the show clock and creates (or updates)
the listener question for it: channel ``on_air``, status ``answered``, the episode, the
answering member and ``answer_offset`` = that offset. So a call taken live becomes a
chapter in the feed and a jump point in the transcript without anyone retyping it.

Every function flushes and never commits; the CLI and the TUI run each action in its
own transaction, so what happened on the desk is in the database the moment it happens
and survives a crash of the app. ``now`` is injectable everywhere for a controllable clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, select

from episodes.lookup import get_episode, get_member
from episodes.views import next_upcoming
from hotline.errors import Conflict, InvalidTransition, NotFound
from hotline.locks import get_for_update
from hotline.models import (
    Booking,
    BookingStatus,
    Call,
    CallStatus,
    Channel,
    Episode,
    EpisodeStatus,
    Member,
    Question,
    QuestionStatus,
    ShowClock,
)
from hotline.text import clean_text
from hotline.timeutil import utcnow

C = CallStatus
LIFECYCLE: Mapping[CallStatus, tuple[CallStatus, ...]] = {
    C.waiting: (C.screened, C.dropped),
    C.screened: (C.on_air, C.dropped),
    C.on_air: (C.done,),
    C.done: (),
    C.dropped: (),
}
"""Allowed moves: current status → the statuses a call may move to."""

VERBS: Mapping[CallStatus, str] = {
    C.screened: "screen",
    C.on_air: "on-air",
    C.done: "done",
    C.dropped: "drop",
}
"""The command (CLI verb) that moves a call into each status."""

QUEUE_ORDER: tuple[CallStatus, ...] = (C.on_air, C.screened, C.waiting, C.done, C.dropped)
"""How the queue lists calls: who is on air, who is ready, who waits, then the finished."""

NAME_LIMIT, DISTRICT_LIMIT, SUMMARY_LIMIT = 50, 50, 200
ANSWERING_BOOKINGS = (BookingStatus.invited, BookingStatus.confirmed, BookingStatus.appeared)


def allowed_moves(status: str) -> tuple[str, ...]:
    """The verbs that may be applied to a call in ``status``."""
    return tuple(VERBS[target] for target in LIFECYCLE[CallStatus(status)])


def _require_move(call: Call, target: CallStatus) -> None:
    current = CallStatus(call.status)
    if target not in LIFECYCLE[current]:
        moves = allowed_moves(current)
        allowed = f"allowed: {', '.join(moves)}" if moves else "it is final, no moves are allowed"
        raise InvalidTransition(
            f"call {call.id} is {current}: `{VERBS[target]}` is not allowed; {allowed}"
        )


def get_call(session: Session, call: int, *, lock: bool = False) -> Call:
    """The call with id ``call``; ``lock`` holds its row (``hotline.locks``)."""
    found = get_for_update(session, Call, call) if lock else session.get(Call, call)
    if found is None:
        raise NotFound(f"call {call} does not exist")
    return found


def todays_episode(*, session: Session, tz: ZoneInfo, now: datetime | None = None) -> Episode:
    """The episode airing today in the station's zone (the earliest, if several)."""
    moment = (now or utcnow()).astimezone(tz)
    day_start = datetime.combine(moment.date(), time(), tzinfo=tz)
    found = session.exec(
        select(Episode)
        .where(Episode.air_start >= day_start, Episode.air_start < day_start + timedelta(days=1))
        .where(Episode.status != EpisodeStatus.cancelled)
        .order_by(Episode.air_start)
    ).first()
    if found is None:
        raise NotFound(f"no episode airs today ({moment.date().isoformat()}): give the episode")
    return found


def desk_episode(*, session: Session, tz: ZoneInfo, now: datetime | None = None) -> int | None:
    """The episode the desk opens on: today's, else the next to air (None: no episodes)."""
    try:
        return todays_episode(session=session, tz=tz, now=now).number
    except NotFound:
        return next_upcoming(session=session, now=now)


def _episode_for_desk(session: Session, number: int) -> Episode:
    episode = get_episode(session, number)
    if episode.status == EpisodeStatus.cancelled:
        raise Conflict(f"episode {number} is cancelled: the live desk cannot take it")
    return episode


def _clock(session: Session, episode: Episode) -> ShowClock | None:
    return session.exec(select(ShowClock).where(ShowClock.episode_id == episode.id)).first()


def start_clock(
    *,
    session: Session,
    tz: ZoneInfo,
    episode: int | None = None,
    restart: bool = False,
    now: datetime | None = None,
) -> tuple[Episode, ShowClock]:
    """Start the show clock for ``episode`` (default: today's episode in ``tz``).

    A second start is refused unless ``restart`` is given: the offsets already stamped
    were measured from the first start.
    """
    moment = now or utcnow()
    target = (
        _episode_for_desk(session, episode)
        if episode is not None
        else todays_episode(session=session, tz=tz, now=moment)
    )
    session.refresh(target, with_for_update=True)  # one clock per episode (hotline.locks)
    clock = _clock(session, target)
    if clock is not None and not restart:
        raise Conflict(
            f"the show clock for episode {target.number} is already running "
            f"(started {clock.started_at.astimezone(tz):%H:%M:%S}); restart it on purpose"
        )
    if clock is None:
        clock = ShowClock(episode_id=target.id, started_at=moment)
    clock.started_at = moment
    session.add(clock)
    session.flush()
    return target, clock


def clock_started(*, session: Session, episode: int) -> datetime | None:
    """When the show clock of ``episode`` started, or None if it has not."""
    clock = _clock(session, get_episode(session, episode))
    return clock.started_at if clock else None


def clock_offset(*, session: Session, episode: int, now: datetime | None = None) -> float:
    """Seconds since the show clock of ``episode`` started (never below zero)."""
    started = clock_started(session=session, episode=episode)
    if started is None:
        raise Conflict(f"the show clock for episode {episode} has not been started")
    return _offset(started, now)


def _offset(started: datetime, now: datetime | None) -> float:
    seconds = ((now or utcnow()) - started).total_seconds()
    return round(max(seconds, 0.0), 1)


def add_caller(
    *,
    session: Session,
    episode: int,
    name: str,
    district: str,
    summary: str,
    now: datetime | None = None,
) -> Call:
    """Put a caller in the queue of ``episode`` as ``waiting``."""
    target = _episode_for_desk(session, episode)
    call = Call(
        episode_id=target.id,
        caller_name=check_name(name),
        district=check_district(district),
        summary=check_summary(summary),
        status=C.waiting,
        created_at=now or utcnow(),
    )
    session.add(call)
    session.flush()
    return call


def _move(session: Session, call: int, target: CallStatus) -> Call:
    found = get_call(session, call, lock=True)
    _require_move(found, target)
    found.status = target.value
    session.add(found)
    session.flush()
    return found


def screen_caller(*, session: Session, call: int) -> Call:
    """The screener has spoken to the caller: ready to go on air."""
    return _move(session, call, C.screened)


def finish_call(*, session: Session, call: int) -> Call:
    """The caller is off air."""
    return _move(session, call, C.done)


def drop_call(*, session: Session, call: int) -> Call:
    """The caller hung up or will not go on air."""
    return _move(session, call, C.dropped)


def put_on_air(
    *,
    session: Session,
    call: int,
    member: str | int | None = None,
    now: datetime | None = None,
) -> Call:
    """Put a screened call on air, answered by ``member``; stamp the offset; log the question.

    The question is created (or the one the call already has is updated) as answered on
    air at that offset, so it becomes a chapter and a transcript jump point.
    """
    found = get_call(session, call, lock=True)
    _require_move(found, C.on_air)
    episode = session.get(Episode, found.episode_id)
    assert episode is not None  # foreign key
    clock = _clock(session, episode)
    if clock is None:
        raise Conflict(
            f"the show clock for episode {episode.number} has not been started: "
            "start it before putting callers on air"
        )
    answerer = get_member(session, member) if member not in (None, "") else None
    offset = _offset(clock.started_at, now)
    question = session.get(Question, found.question_id) if found.question_id else None
    if question is None:
        question = Question(received_at=found.created_at, channel=Channel.on_air, text="")
    question.channel = Channel.on_air.value
    question.text = found.summary
    question.listener_name = found.caller_name
    question.district = found.district
    question.status = QuestionStatus.answered.value
    question.episode_id = episode.id
    question.member_id = answerer.id if answerer else None
    question.answer_offset = offset
    question.updated_at = now or utcnow()
    session.add(question)
    session.flush()
    found.question_id = question.id
    found.member_id = question.member_id
    found.on_air_offset = offset
    found.status = C.on_air.value
    session.add(found)
    session.flush()
    return found


def _order() -> sa.Case:
    return sa.case({s.value: i for i, s in enumerate(QUEUE_ORDER)}, value=Call.status)


def queue(*, session: Session, episode: int, active_only: bool = False) -> list[Call]:
    """The calls of ``episode``: on air, screened, waiting, then done and dropped; oldest first."""
    target = get_episode(session, episode)
    query = select(Call).where(Call.episode_id == target.id)
    if active_only:
        query = query.where(Call.status.in_([C.waiting, C.screened, C.on_air]))
    return list(session.exec(query.order_by(_order(), Call.created_at, Call.id)))


def answering_members(*, session: Session, episode: int) -> list[Member]:
    """The members booked on ``episode`` (not declined or cancelled): the likely answerers."""
    target = get_episode(session, episode)
    query = (
        select(Member)
        .join(Booking, Booking.member_id == Member.id)
        .where(Booking.episode_id == target.id)
        .where(Booking.status.in_([s.value for s in ANSWERING_BOOKINGS]))
        .order_by(Booking.role, Member.name, Member.id)
    )
    return list(session.exec(query))


def check_name(value: str) -> str:
    """A caller name as it would be stored, or ``InvalidInput`` (forms check as you type)."""
    return clean_text(value, field="caller name", max_length=NAME_LIMIT)


def check_district(value: str) -> str:
    """A district as it would be stored, or ``InvalidInput``."""
    return clean_text(value, field="district", max_length=DISTRICT_LIMIT)


def check_summary(value: str) -> str:
    """A summary as it would be stored, or ``InvalidInput``."""
    return clean_text(value, field="summary", max_length=SUMMARY_LIMIT, required=True)


@dataclass(frozen=True)
class CallView:
    """A call with the name of the member who answered it."""

    call: Call
    member_name: str


@dataclass(frozen=True)
class DeskState:
    """Everything the desk shows for one episode, read in one go."""

    number: int
    title: str
    started_at: datetime | None
    calls: list[CallView]
    guests: list[Member]


def desk_state(*, session: Session, episode: int) -> DeskState:
    """The episode's clock, its queue (with answering members) and its booked guests."""
    target = get_episode(session, episode)
    calls = queue(session=session, episode=episode)
    ids = {c.member_id for c in calls if c.member_id is not None}
    names = (
        dict(session.exec(select(Member.id, Member.name).where(Member.id.in_(ids))).all())
        if ids
        else {}
    )
    clock = _clock(session, target)
    return DeskState(
        number=target.number,
        title=target.title,
        started_at=clock.started_at if clock else None,
        calls=[CallView(c, names.get(c.member_id, "")) for c in calls],
        guests=answering_members(session=session, episode=episode),
    )
