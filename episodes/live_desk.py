"""The live desk (直播台): the show clock and the caller queue during the live broadcast.

The screener adds callers (name, district, one-line summary); each call moves::

    waiting → screened → on_air → done
    waiting, screened  → dropped

Putting a call on air stamps its offset from the show clock and creates (or updates)
the listener question for it: channel ``on_air``, status ``answered``, the episode, the
answering member and ``answer_offset`` = that offset. So a call taken live becomes a
chapter in the feed and a jump point in the transcript without anyone retyping it.

The show's rules kept here: a published or cancelled episode has no live desk; starting
the clock further than ``window_minutes`` from the slot, or restarting it after calls
were stamped, asks first (``NeedsConfirmation`` unless ``confirm``; a restart keeps the
stamps, which were measured from the earlier start); at most ``lines`` callers are on
air at once; a member answers on air only when confirmed on the episode or appeared.

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
from sqlmodel import Session, col, select

from episodes.lookup import get_episode, get_member
from episodes.questions import ANSWERING, check_answering
from episodes.views import next_upcoming
from hotline.config import LiveSettings
from hotline.errors import Conflict, InvalidTransition, NeedsConfirmation, NotFound
from hotline.locks import get_for_update
from hotline.models import (
    Booking,
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
from hotline.timeutil import local_text, utcnow

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

STATUS_ZH: Mapping[CallStatus, str] = {
    C.waiting: "等候中",
    C.screened: "已审核",
    C.on_air: "直播中",
    C.done: "已结束",
    C.dropped: "已放弃",
}
VERBS_ZH: Mapping[CallStatus, str] = {
    C.screened: "审核",
    C.on_air: "上直播",
    C.done: "结束通话",
    C.dropped: "放弃",
}
NO_DESK = (EpisodeStatus.published, EpisodeStatus.cancelled)
"""Episodes the live desk cannot take: their broadcast is over or will not happen."""
DEFAULT_WINDOW_MINUTES = LiveSettings.start_window_minutes
DEFAULT_LINES = LiveSettings.lines

QUEUE_ORDER: tuple[CallStatus, ...] = (C.on_air, C.screened, C.waiting, C.done, C.dropped)
"""How the queue lists calls: who is on air, who is ready, who waits, then the finished."""

NAME_LIMIT, DISTRICT_LIMIT, SUMMARY_LIMIT = 50, 50, 200
ANSWERING_BOOKINGS: tuple[str, ...] = ANSWERING
"""Bookings whose member can answer on air: confirmed or appeared."""


def allowed_moves(status: str) -> tuple[str, ...]:
    """The verbs that may be applied to a call in ``status``."""
    return tuple(VERBS[target] for target in LIFECYCLE[CallStatus(status)])


def _require_move(call: Call, target: CallStatus) -> None:
    current = CallStatus(call.status)
    if target not in LIFECYCLE[current]:
        moves = allowed_moves(current)
        allowed = f"allowed: {', '.join(moves)}" if moves else "it is final, no moves are allowed"
        allowed_zh = "、".join(VERBS_ZH[t] for t in LIFECYCLE[current]) or "无"
        raise InvalidTransition(
            f"call {call.id} is {current}: `{VERBS[target]}` is not allowed; {allowed}",
            zh=f"来电 #{call.id} {STATUS_ZH[current]}，不能{VERBS_ZH[target]}；可以：{allowed_zh}",
        )


def get_call(session: Session, call: int, *, lock: bool = False) -> Call:
    """The call with id ``call``; ``lock`` holds its row (``hotline.locks``)."""
    found = get_for_update(session, Call, call) if lock else session.get(Call, call)
    if found is None:
        raise NotFound(f"call {call} does not exist", zh=f"来电 #{call} 不存在")
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
        raise NotFound(
            f"no episode airs today ({moment.date().isoformat()}): give the episode",
            zh=f"今天（{moment.date().isoformat()}）没有节目，请指定期号",
        )
    return found


def desk_episode(*, session: Session, tz: ZoneInfo, now: datetime | None = None) -> int | None:
    """The episode the desk opens on: today's, else the next to air (None: no episodes)."""
    try:
        return todays_episode(session=session, tz=tz, now=now).number
    except NotFound:
        return next_upcoming(session=session, now=now)


def _check_desk(episode: Episode) -> Episode:
    if episode.status in NO_DESK:
        raise Conflict(
            f"episode {episode.number} is {episode.status}: the live desk cannot take it",
            zh=f"第{episode.number}期"
            f"{'已发布' if episode.status == EpisodeStatus.published else '已取消'}，"
            "不能用直播台",
        )
    return episode


def _episode_for_desk(session: Session, number: int) -> Episode:
    return _check_desk(get_episode(session, number))


def _clock(session: Session, episode: Episode) -> ShowClock | None:
    return session.exec(select(ShowClock).where(ShowClock.episode_id == episode.id)).first()


def start_clock(
    *,
    session: Session,
    tz: ZoneInfo,
    episode: int | None = None,
    restart: bool = False,
    window_minutes: int = DEFAULT_WINDOW_MINUTES,
    confirm: bool = False,
    now: datetime | None = None,
) -> tuple[Episode, ShowClock]:
    """Start the show clock for ``episode`` (default: today's episode in ``tz``).

    A second start is refused unless ``restart`` is given: the offsets already stamped
    were measured from the first start, and a restart keeps them as they are.

    Raises:
        NeedsConfirmation: the start is more than ``window_minutes`` from the slot's
            start, or a restart would follow calls already stamped; call again with
            ``confirm=True``.
    """
    moment = now or utcnow()
    target = _check_desk(
        get_episode(session, episode)
        if episode is not None
        else todays_episode(session=session, tz=tz, now=moment)
    )
    session.refresh(target, with_for_update=True)  # one clock per episode (hotline.locks)
    clock = _clock(session, target)
    if clock is not None and not restart:
        raise Conflict(
            f"the show clock for episode {target.number} is already running "
            f"(started {clock.started_at.astimezone(tz):%H:%M:%S}); restart it on purpose",
            zh=f"第{target.number}期已在计时（{clock.started_at.astimezone(tz):%H:%M:%S} 开始）",
        )
    if not confirm:
        _confirm_start(session, tz, target, clock, window_minutes, moment)
    if clock is None:
        clock = ShowClock(episode_id=target.id, started_at=moment)
    clock.started_at = moment
    session.add(clock)
    session.flush()
    return target, clock


def _span(length: timedelta) -> tuple[str, str]:
    """A length of time as a person says it, in English and in Chinese."""
    minutes = round(length.total_seconds() / 60)
    if minutes < 120:
        return f"{minutes} min", f"{minutes} 分钟"
    hours = round(minutes / 60)
    if hours < 48:
        return f"{hours} h", f"{hours} 小时"
    days = round(hours / 24)
    return f"{days} days", f"{days} 天"


def _confirm_start(
    session: Session,
    tz: ZoneInfo,
    episode: Episode,
    clock: ShowClock | None,
    window_minutes: int,
    now: datetime,
) -> None:
    """Raise ``NeedsConfirmation`` naming every reason this start is unusual, if any."""
    reasons: list[str] = []
    reasons_zh: list[str] = []
    distance = now - episode.air_start
    if abs(distance) > timedelta(minutes=window_minutes):
        span, span_zh = _span(abs(distance))
        slot = local_text(episode.air_start, tz)
        if distance < timedelta(0):
            reasons.append(f"episode {episode.number} airs {slot}, {span} from now")
            reasons_zh.append(f"第{episode.number}期 {slot} 播出，还有 {span_zh}")
        else:
            reasons.append(f"episode {episode.number} was due on air {slot}, {span} ago")
            reasons_zh.append(f"第{episode.number}期的播出时间 {slot} 已过去 {span_zh}")
    if clock is not None:
        stamped = session.exec(
            select(sa.func.count())
            .select_from(Call)
            .where(Call.episode_id == episode.id, col(Call.on_air_offset).is_not(None))
        ).one()
        if stamped:
            calls = "call was" if stamped == 1 else "calls were"
            reasons.append(
                f"{stamped} {calls} stamped from the start at "
                f"{local_text(clock.started_at, tz, '%H:%M:%S')}; the stamps stay as they are"
            )
            reasons_zh.append(
                f"已有 {stamped} 个来电按 {local_text(clock.started_at, tz, '%H:%M:%S')} "
                "的计时记录了时间点，重新计时不会改动它们"
            )
    if reasons:
        verb, verb_zh = ("restart", "重新开始") if clock is not None else ("start", "开始")
        raise NeedsConfirmation(
            f"{'; '.join(reasons)}: {verb} the show clock of episode {episode.number} now?",
            zh=f"{'；'.join(reasons_zh)}。现在{verb_zh}第{episode.number}期的计时？",
        )


def clock_started(*, session: Session, episode: int) -> datetime | None:
    """When the show clock of ``episode`` started, or None if it has not."""
    clock = _clock(session, get_episode(session, episode))
    return clock.started_at if clock else None


def clock_offset(*, session: Session, episode: int, now: datetime | None = None) -> float:
    """Seconds since the show clock of ``episode`` started (never below zero)."""
    started = clock_started(session=session, episode=episode)
    if started is None:
        raise Conflict(
            f"the show clock for episode {episode} has not been started",
            zh=f"第{episode}期还没有开始计时",
        )
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
    if target == C.screened:
        # Ending or dropping a call stays possible whatever happened to the episode.
        _check_desk(_call_episode(session, found))
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


def _call_episode(session: Session, call: Call) -> Episode:
    episode = session.get(Episode, call.episode_id)
    assert episode is not None  # foreign key
    return episode


def _check_line_free(session: Session, episode: Episode, lines: int) -> None:
    """Refuse when every line already has a caller on air."""
    on_air = session.exec(
        select(Call.id, Call.caller_name)
        .where(Call.episode_id == episode.id, Call.status == C.on_air)
        .order_by(Call.id)
    ).all()
    if len(on_air) < lines:
        return
    if len(on_air) == 1:
        call_id, name = on_air[0]
        who = f"call {call_id}{f' ({name})' if name else ''} is on air"
        who_zh = f"来电 #{call_id}{f'（{name}）' if name else ''}正在直播"
    else:
        ids = ", ".join(str(call_id) for call_id, _ in on_air)
        who = f"calls {ids} are on air on all {lines} lines"
        who_zh = f"来电 {ids} 正占着全部 {lines} 条线路"
    raise Conflict(
        f"{who}: end a call first (`hotline live done N`)",
        zh=f"{who_zh}，请先结束一个通话",
    )


def put_on_air(
    *,
    session: Session,
    call: int,
    member: str | int | None = None,
    lines: int = DEFAULT_LINES,
    now: datetime | None = None,
) -> Call:
    """Put a screened call on air, answered by ``member``; stamp the offset; log the question.

    The question is created (or the one the call already has is updated) as answered on
    air at that offset, so it becomes a chapter and a transcript jump point. Refused
    when ``lines`` callers are already on air, and when ``member`` is not confirmed on
    the episode (nor appeared): a no-show or declined guest cannot answer.
    """
    found = get_call(session, call, lock=True)
    _require_move(found, C.on_air)
    episode = _check_desk(_call_episode(session, found))
    # Two desks putting two callers on air at once: the episode row serialises the
    # line check (hotline.locks).
    session.refresh(episode, with_for_update=True)
    clock = _clock(session, episode)
    if clock is None:
        raise Conflict(
            f"the show clock for episode {episode.number} has not been started: "
            "start it before putting callers on air",
            zh=f"第{episode.number}期还没有开始计时，请先开始计时再接通来电",
        )
    _check_line_free(session, episode, lines)
    answerer = get_member(session, member) if member not in (None, "") else None
    moment = now or utcnow()
    if answerer is not None:
        check_answering(session=session, episode=episode, member=answerer, now=moment)
    offset = _offset(clock.started_at, moment)
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
    """The members confirmed on ``episode`` or who appeared on it: those who can answer."""
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
