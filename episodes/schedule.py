"""The episode schedule: the weekly slot, and adding, editing, cancelling, rescheduling and
generating episodes. Status changes go through ``episodes.lifecycle.set_status``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from episodes.lifecycle import set_status
from episodes.lookup import get_episode
from hotline.config import Settings
from hotline.errors import Conflict, InvalidInput
from hotline.locks import lock_schedule
from hotline.models import Booking, BookingStatus, Episode, EpisodeStatus
from hotline.text import clean_text
from hotline.timeutil import local_text, parse_date, parse_local_datetime, utcnow, zone

S = EpisodeStatus
MAX_NUMBER = 999_999
MAX_DURATION = 24 * 60
MAX_HOSTS = 10
MAX_GENERATE = 5000

# Before recording the air time may still move; after that the episode is history.
RESCHEDULABLE = (S.planned, S.confirmed)


# ---------------------------------------------------------------- values typed by producers


def check_number(number: int) -> int:
    if not 1 <= number <= MAX_NUMBER:
        raise InvalidInput(f"episode number {number} is out of range: use 1 to {MAX_NUMBER}")
    return number


def check_duration(minutes: int) -> int:
    if not 1 <= minutes <= MAX_DURATION:
        raise InvalidInput(f"duration {minutes} minutes is out of range: use 1 to {MAX_DURATION}")
    return minutes


def clean_hosts(hosts: Iterable[str]) -> list[str]:
    """Host names cleaned, blanks dropped, duplicates removed in order."""
    names: list[str] = []
    for raw in hosts:
        name = clean_text(raw, field="host", max_length=50)
        if name and name not in names:
            names.append(name)
    if len(names) > MAX_HOSTS:
        raise InvalidInput(f"{len(names)} hosts given; the limit is {MAX_HOSTS}")
    return names


def air_time(value: str | datetime, tz: ZoneInfo) -> datetime:
    """An air time typed as ``YYYY-MM-DD HH:MM`` in ``tz`` (or an aware datetime), in UTC."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInput(f"air time {value.isoformat()} has no time zone")
        return value.astimezone(UTC)
    return parse_local_datetime(value, tz, field="air time")


# ---------------------------------------------------------------- slots and overlaps


def _end(start: datetime, minutes: int) -> datetime:
    return start + timedelta(minutes=minutes)


def find_overlap(
    session: Session, start: datetime, minutes: int, *, exclude_id: int | None = None
) -> Episode | None:
    """A non-cancelled episode whose air time overlaps [start, start + minutes), if any."""
    # Episodes are at most MAX_DURATION long, so only those starting in that window can overlap.
    stmt = select(Episode).where(
        Episode.status != S.cancelled,
        col(Episode.air_start) > start - timedelta(minutes=MAX_DURATION),
        col(Episode.air_start) < _end(start, minutes),
    )
    if exclude_id is not None:
        stmt = stmt.where(Episode.id != exclude_id)
    for other in session.exec(stmt.order_by(col(Episode.air_start))):
        if _end(other.air_start, other.duration_minutes) > start:
            return other
    return None


def _refuse_overlap(
    session: Session, tz: ZoneInfo, start: datetime, minutes: int, exclude_id: int | None = None
) -> None:
    other = find_overlap(session, start, minutes, exclude_id=exclude_id)
    if other is not None:
        raise Conflict(
            f"air time {local_text(start, tz)} overlaps episode {other.number} "
            f"({local_text(other.air_start, tz)}, {other.duration_minutes} min)"
        )


def weekly_slots(settings: Settings, first_day: date) -> Iterable[datetime]:
    """The weekly slots (UTC) from ``first_day`` on, skipping blackout dates and local times
    that do not exist (a DST gap); endless."""
    tz = zone(settings.show.timezone)
    blackout = settings.schedule.blackout_dates()
    start_time: time = settings.schedule.start_time()
    day = first_day + timedelta(days=(settings.schedule.weekday_index() - first_day.weekday()) % 7)
    while True:
        if day not in blackout:
            local = datetime.combine(day, start_time, tzinfo=tz)
            moment = local.astimezone(UTC)
            if moment.astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None):
                yield moment
        day += timedelta(days=7)


class _Taken:
    """Air intervals of the non-cancelled episodes, loaded once, for slot searches."""

    def __init__(self, session: Session) -> None:
        rows = session.exec(
            select(Episode.air_start, Episode.duration_minutes).where(Episode.status != S.cancelled)
        ).all()
        self.intervals = sorted((start, _end(start, minutes)) for start, minutes in rows)

    def free(self, start: datetime, minutes: int) -> bool:
        # Sorted by start and no episode is longer than MAX_DURATION, so only the
        # intervals starting in (start - MAX_DURATION, end) can overlap.
        end = _end(start, minutes)
        lo = bisect.bisect_right(self.intervals, (start - timedelta(minutes=MAX_DURATION),))
        hi = bisect.bisect_left(self.intervals, (end,))
        return not any(start < e for _, e in self.intervals[lo:hi])

    def take(self, start: datetime, minutes: int) -> None:
        bisect.insort(self.intervals, (start, _end(start, minutes)))


def _latest(session: Session) -> tuple[int, datetime | None]:
    row = session.exec(select(sa.func.max(Episode.number), sa.func.max(Episode.air_start))).one()
    return (row[0] or 0), row[1]


def _default_first_day(session: Session, tz: ZoneInfo, now: datetime) -> tuple[date, datetime]:
    """Slots start after the latest episode or now, whichever is later."""
    _, latest_air = _latest(session)
    after = max(now, latest_air) if latest_air is not None else now
    return after.astimezone(tz).date(), after


def next_free_slot(
    session: Session, settings: Settings, *, now: datetime | None = None
) -> datetime:
    """The first free weekly slot after the latest episode (or now, if later)."""
    tz = zone(settings.show.timezone)
    first_day, after = _default_first_day(session, tz, now or utcnow())
    taken = _Taken(session)
    minutes = settings.schedule.duration_minutes
    for slot in weekly_slots(settings, first_day):
        if slot > after and taken.free(slot, minutes):
            return slot
    raise AssertionError("unreachable: weekly slots are endless")


# ---------------------------------------------------------------- commands


def add_episode(
    *,
    session: Session,
    settings: Settings,
    title: str,
    number: int | None = None,
    air: str | datetime | None = None,
    topic: str = "",
    hosts: Sequence[str] | None = None,
    description: str = "",
    duration_minutes: int | None = None,
    now: datetime | None = None,
) -> Episode:
    """Schedule a new episode (status planned).

    ``number`` defaults to one past the highest; ``air`` to the next free weekly slot;
    ``hosts`` to the show's regular hosts. Refuses a taken number and an air time that
    is malformed, does not exist in the station's zone or overlaps another episode.
    """
    lock_schedule(session)
    tz = zone(settings.show.timezone)
    highest, _ = _latest(session)
    number = check_number(highest + 1 if number is None else number)
    existing = session.exec(select(Episode).where(Episode.number == number)).first()
    if existing is not None:
        raise Conflict(
            f"episode {number} already exists ({local_text(existing.air_start, tz)} "
            f"{existing.title}); numbers are never reused"
        )
    episode = Episode(
        number=number,
        title=clean_text(title, field="title", max_length=200, required=True),
        topic=clean_text(topic, field="topic", max_length=200),
        air_start=(
            air_time(air, tz) if air is not None else next_free_slot(session, settings, now=now)
        ),
        duration_minutes=check_duration(
            settings.schedule.duration_minutes if duration_minutes is None else duration_minutes
        ),
        hosts=clean_hosts(settings.show.hosts if hosts is None else hosts),
        description=clean_text(description, field="description", max_length=4000, multiline=True),
        status=S.planned,
    )
    _refuse_overlap(session, tz, episode.air_start, episode.duration_minutes)
    session.add(episode)
    session.flush()
    return episode


def edit_episode(
    *,
    session: Session,
    settings: Settings,
    number: int,
    title: str | None = None,
    topic: str | None = None,
    hosts: Sequence[str] | None = None,
    description: str | None = None,
    duration_minutes: int | None = None,
) -> Episode:
    """Change the text fields or length of an episode; ``None`` leaves a field as it is."""
    lock_schedule(session)
    episode = get_episode(session, number, lock=True)
    if title is not None:
        episode.title = clean_text(title, field="title", max_length=200, required=True)
    if topic is not None:
        episode.topic = clean_text(topic, field="topic", max_length=200)
    if hosts is not None:
        episode.hosts = clean_hosts(hosts)
    if description is not None:
        episode.description = clean_text(
            description, field="description", max_length=4000, multiline=True
        )
    if duration_minutes is not None and duration_minutes != episode.duration_minutes:
        episode.duration_minutes = check_duration(duration_minutes)
        if episode.status != S.cancelled:
            tz = zone(settings.show.timezone)
            _refuse_overlap(
                session, tz, episode.air_start, episode.duration_minutes, exclude_id=episode.id
            )
    episode.updated_at = utcnow()
    session.add(episode)
    session.flush()
    return episode


def cancel_episode(*, session: Session, number: int) -> tuple[Episode, int]:
    """Cancel a planned or confirmed episode and its open bookings; return (episode, bookings
    cancelled)."""
    episode = get_episode(session, number, lock=True)
    if episode.status == S.cancelled:
        raise Conflict(f"episode {number} is already cancelled")
    set_status(session, episode, S.cancelled)
    result = session.exec(
        sa.update(Booking)
        .where(
            col(Booking.episode_id) == episode.id,
            col(Booking.status).in_([BookingStatus.invited, BookingStatus.confirmed]),
        )
        .values(status=BookingStatus.cancelled, updated_at=utcnow())
    )
    session.flush()
    return episode, result.rowcount


def reschedule_episode(
    *,
    session: Session,
    settings: Settings,
    number: int,
    air: str | datetime,
    now: datetime | None = None,
) -> Episode:
    """Move a planned or confirmed episode that has not aired yet to another air time.

    Refused when the episode is cancelled or past confirmed, when its air time has passed,
    or when the new time overlaps another episode (which also keeps its confirmed guests
    from being on two episodes at once: episodes never overlap).
    """
    lock_schedule(session)
    tz = zone(settings.show.timezone)
    episode = get_episode(session, number, lock=True)
    if episode.status not in RESCHEDULABLE:
        why = "cancelled" if episode.status == S.cancelled else f"already {episode.status}"
        raise Conflict(f"episode {number} is {why}: it cannot be rescheduled")
    if episode.air_start <= (now or utcnow()):
        raise Conflict(
            f"episode {number} aired on {local_text(episode.air_start, tz)}: "
            "it cannot be rescheduled"
        )
    start = air_time(air, tz)
    _refuse_overlap(session, tz, start, episode.duration_minutes, exclude_id=episode.id)
    episode.air_start = start
    episode.updated_at = utcnow()
    session.add(episode)
    session.flush()
    return episode


def generate_episodes(
    *,
    session: Session,
    settings: Settings,
    count: int,
    start: str | date | None = None,
    now: datetime | None = None,
) -> list[Episode]:
    """Schedule ``count`` new episodes on the weekly slot, numbered after the highest.

    Slots come from ``settings.schedule`` in the station's zone, from the first one on or
    after ``start`` (a local date; default: after the latest episode or now, whichever is
    later), skipping blackout dates and slots another episode already occupies. Existing
    episodes are never moved or renumbered.
    """
    if not 1 <= count <= MAX_GENERATE:
        raise InvalidInput(f"count {count} is out of range: use 1 to {MAX_GENERATE}")
    lock_schedule(session)
    tz = zone(settings.show.timezone)
    highest, _ = _latest(session)
    if highest + count > MAX_NUMBER:
        raise InvalidInput(f"numbers would pass {MAX_NUMBER}")
    if start is None:
        first_day, after = _default_first_day(session, tz, now or utcnow())
    else:
        first_day = start if isinstance(start, date) else parse_date(start, field="start date")
        after = None
    taken = _Taken(session)
    minutes = settings.schedule.duration_minutes
    hosts = clean_hosts(settings.show.hosts)
    created: list[Episode] = []
    for slot in weekly_slots(settings, first_day):
        if len(created) == count:
            break
        if (after is not None and slot <= after) or not taken.free(slot, minutes):
            continue
        taken.take(slot, minutes)
        number = highest + len(created) + 1
        created.append(
            Episode(
                number=number,
                title=f"第{number}期",
                air_start=slot,
                duration_minutes=minutes,
                hosts=list(hosts),
                status=S.planned,
            )
        )
    session.add_all(created)
    session.flush()
    return created
