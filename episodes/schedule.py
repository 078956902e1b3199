"""The episode schedule: the weekly slot, and adding, editing, cancelling, rescheduling and
generating episodes. Status changes go through ``episodes.lifecycle.set_status``.

The show's rules kept here: a new or moved episode airs in the future (back catalogue is
entered with ``past=True`` and marked aired); an episode that went on air is never moved,
while one whose slot passed without airing can still be; generated episodes fill the
free weekly slots from the week after the last aired episode (never before now), so a
special scheduled far ahead leaves no gap; cancelling an episode sends its assigned
questions back to ``screened``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from episodes.airing import clock_start
from episodes.lifecycle import AIRED, STATUS_ZH, set_status
from episodes.lookup import get_episode
from hotline.config import Settings
from hotline.errors import Conflict, InvalidInput, InvalidTransition
from hotline.locks import lock_schedule
from hotline.models import Booking, BookingStatus, Episode, EpisodeStatus, Question, QuestionStatus
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
        raise InvalidInput(
            f"episode number {number} is out of range: use 1 to {MAX_NUMBER}",
            zh=f"期号 {number} 超出范围：请填 1 到 {MAX_NUMBER}",
        )
    return number


def check_duration(minutes: int) -> int:
    if not 1 <= minutes <= MAX_DURATION:
        raise InvalidInput(
            f"duration {minutes} minutes is out of range: use 1 to {MAX_DURATION}",
            zh=f"时长 {minutes} 分钟超出范围：请填 1 到 {MAX_DURATION}",
        )
    return minutes


def clean_hosts(hosts: Iterable[str]) -> list[str]:
    """Host names cleaned, blanks dropped, duplicates removed in order."""
    names: list[str] = []
    for raw in hosts:
        name = clean_text(raw, field="host", max_length=50)
        if name and name not in names:
            names.append(name)
    if len(names) > MAX_HOSTS:
        raise InvalidInput(
            f"{len(names)} hosts given; the limit is {MAX_HOSTS}",
            zh=f"主持人有 {len(names)} 位，最多 {MAX_HOSTS} 位",
        )
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
            f"({local_text(other.air_start, tz)}, {other.duration_minutes} min)",
            zh=f"播出时间 {local_text(start, tz)} 与第{other.number}期"
            f"（{local_text(other.air_start, tz)}，{other.duration_minutes} 分钟）冲突",
        )


def _refuse_past(start: datetime, tz: ZoneInfo, now: datetime) -> None:
    if start <= now:
        raise InvalidInput(
            f"air time {local_text(start, tz)} has passed: give a time still to come "
            "(back catalogue is entered with --past, marked aired)",
            zh=f"播出时间 {local_text(start, tz)} 已过，请填写将来的时间（补录往期节目请选“往期”）",
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


def _highest_number(session: Session) -> int:
    return session.exec(select(sa.func.max(Episode.number))).one() or 0


def _last_aired(session: Session) -> datetime | None:
    """The air time of the latest episode that went out (by its status)."""
    return session.exec(
        select(sa.func.max(Episode.air_start)).where(col(Episode.status).in_(AIRED))
    ).one()


def _default_first_day(session: Session, tz: ZoneInfo, now: datetime) -> tuple[date, datetime]:
    """Slots start after the last aired episode or now, whichever is later.

    Episodes still to come do not move the start: a special scheduled far ahead is one
    taken slot among the free ones, not the end of the schedule.
    """
    last_aired = _last_aired(session)
    after = max(now, last_aired) if last_aired is not None else now
    return after.astimezone(tz).date(), after


def next_free_slot(
    session: Session, settings: Settings, *, now: datetime | None = None
) -> datetime:
    """The first free weekly slot after the last aired episode (or now, if later)."""
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
    past: bool = False,
    now: datetime | None = None,
) -> Episode:
    """Schedule a new episode (status planned), or enter a back-catalogue one (``past``).

    ``number`` defaults to one past the highest; ``air`` to the next free weekly slot;
    ``hosts`` to the show's regular hosts. Refuses a taken number and an air time that
    is malformed, does not exist in the station's zone, overlaps another episode or has
    passed. With ``past`` the air time must have passed and the episode is marked aired.
    """
    lock_schedule(session)
    tz = zone(settings.show.timezone)
    moment = now or utcnow()
    number = check_number(_highest_number(session) + 1 if number is None else number)
    existing = session.exec(select(Episode).where(Episode.number == number)).first()
    if existing is not None:
        raise Conflict(
            f"episode {number} already exists ({local_text(existing.air_start, tz)} "
            f"{existing.title}); numbers are never reused",
            zh=f"第{number}期已存在（{local_text(existing.air_start, tz)} {existing.title}），"
            "期号不能重复使用",
        )
    if air is None:
        if past:
            raise InvalidInput(
                "a back-catalogue episode needs its air time", zh="补录往期节目需要填写播出时间"
            )
        start = next_free_slot(session, settings, now=moment)
    else:
        start = air_time(air, tz)
        if not past:
            _refuse_past(start, tz, moment)
        elif start > moment:
            raise InvalidInput(
                f"air time {local_text(start, tz)} is still to come: --past is for "
                "episodes that have aired",
                zh=f"播出时间 {local_text(start, tz)} 尚未到来，“往期”只用于已播出的节目",
            )
    episode = Episode(
        number=number,
        title=clean_text(title, field="title", max_length=200, required=True),
        topic=clean_text(topic, field="topic", max_length=200),
        air_start=start,
        duration_minutes=check_duration(
            settings.schedule.duration_minutes if duration_minutes is None else duration_minutes
        ),
        hosts=clean_hosts(settings.show.hosts if hosts is None else hosts),
        description=clean_text(description, field="description", max_length=4000, multiline=True),
        status=S.aired if past else S.planned,
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


@dataclass(frozen=True)
class CancelEffects:
    """What cancelling an episode does besides cancelling it, for the question that asks first."""

    number: int
    bookings: int
    """Open bookings (invited, confirmed) that are cancelled with it."""
    questions: int
    """Questions assigned to it that go back to screened, to be assigned again."""


_OPEN_BOOKINGS = (BookingStatus.invited, BookingStatus.confirmed)


def _cancellable(session: Session, number: int) -> Episode:
    episode = get_episode(session, number, lock=True)
    if episode.status == S.cancelled:
        raise Conflict(f"episode {number} is already cancelled", zh=f"第{number}期已经取消")
    if episode.status in AIRED:
        raise InvalidTransition(
            f"episode {number} is {episode.status}: it went on air and cannot be cancelled",
            zh=f"第{number}期{STATUS_ZH[S(episode.status)]}，已经播出，不能取消",
        )
    return episode


def cancel_effects(*, session: Session, number: int) -> CancelEffects:
    """What ``cancel_episode`` would do to episode ``number``; refuses as it would."""
    episode = _cancellable(session, number)
    bookings = session.exec(
        select(sa.func.count())
        .select_from(Booking)
        .where(Booking.episode_id == episode.id, col(Booking.status).in_(_OPEN_BOOKINGS))
    ).one()
    questions = session.exec(
        select(sa.func.count())
        .select_from(Question)
        .where(Question.episode_id == episode.id, Question.status == QuestionStatus.assigned)
    ).one()
    return CancelEffects(number=episode.number, bookings=bookings, questions=questions)


def cancel_episode(*, session: Session, number: int) -> tuple[Episode, int]:
    """Cancel a planned or confirmed episode; return (episode, bookings cancelled).

    Its open bookings are cancelled and the questions assigned to it go back to
    ``screened`` with no episode (``cancel_effects`` counts both beforehand).
    """
    episode = _cancellable(session, number)
    set_status(session, episode, S.cancelled)
    stamp = utcnow()
    result = session.exec(
        sa.update(Booking)
        .where(col(Booking.episode_id) == episode.id, col(Booking.status).in_(_OPEN_BOOKINGS))
        .values(status=BookingStatus.cancelled, updated_at=stamp)
    )
    session.execute(
        sa.update(Question)
        .where(
            col(Question.episode_id) == episode.id,
            col(Question.status) == QuestionStatus.assigned,
        )
        .values(status=QuestionStatus.screened, episode_id=None, updated_at=stamp)
        .execution_options(synchronize_session="fetch")
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
    """Move a planned or confirmed episode that has not gone on air to another air time.

    Refused when the episode is cancelled or went on air (aired or later, or its show
    clock was started), when the new time has passed, or when it overlaps another
    episode (which also keeps its confirmed guests from being on two episodes at once:
    episodes never overlap). An episode whose slot passed without airing can be moved.
    """
    lock_schedule(session)
    tz = zone(settings.show.timezone)
    episode = get_episode(session, number, lock=True)
    if episode.status == S.cancelled:
        raise Conflict(
            f"episode {number} is cancelled: it cannot be rescheduled",
            zh=f"第{number}期已取消，不能改期",
        )
    if episode.status not in RESCHEDULABLE:
        raise Conflict(
            f"episode {number} is already {episode.status}: it cannot be rescheduled",
            zh=f"第{number}期已播出，不能改期",
        )
    started = clock_start(session, episode)
    if started is not None:
        raise Conflict(
            f"episode {number} went on air (show clock started {local_text(started, tz)}): "
            "it cannot be rescheduled",
            zh=f"第{number}期已开播（{local_text(started, tz)} 开始计时），不能改期",
        )
    start = air_time(air, tz)
    _refuse_past(start, tz, now or utcnow())
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

    Slots come from ``settings.schedule`` in the station's zone, from the week after the
    last aired episode (never before now), or from the first slot on or after ``start``
    (a local date that has not passed), skipping blackout dates and slots another
    episode already occupies: an episode scheduled far ahead is stepped over, not
    followed. Existing episodes are never moved or renumbered.
    """
    if not 1 <= count <= MAX_GENERATE:
        raise InvalidInput(
            f"count {count} is out of range: use 1 to {MAX_GENERATE}",
            zh=f"数量 {count} 超出范围：请填 1 到 {MAX_GENERATE}",
        )
    lock_schedule(session)
    tz = zone(settings.show.timezone)
    moment = now or utcnow()
    highest = _highest_number(session)
    if highest + count > MAX_NUMBER:
        raise InvalidInput(f"numbers would pass {MAX_NUMBER}", zh=f"期号将超过 {MAX_NUMBER}")
    first_day, after = _default_first_day(session, tz, moment)
    if start is not None:
        first_day = start if isinstance(start, date) else parse_date(start, field="start date")
        if first_day < moment.astimezone(tz).date():
            raise InvalidInput(
                f"start date {first_day.isoformat()} has passed: generated episodes are "
                "still to come",
                zh=f"起始日期 {first_day.isoformat()} 已过，只能为将来排期",
            )
        after = moment
    taken = _Taken(session)
    minutes = settings.schedule.duration_minutes
    hosts = clean_hosts(settings.show.hosts)
    created: list[Episode] = []
    for slot in weekly_slots(settings, first_day):
        if len(created) == count:
            break
        if slot <= after or not taken.free(slot, minutes):
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
