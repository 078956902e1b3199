"""Listener questions (听众来信/来电): logging, the lifecycle, routing to episodes and members.

The lifecycle is data (``LIFECYCLE``), read by every move and by the error that refuses
one. The moves the design names::

    new → screened → assigned → answered / referred (转办) → resolved
    new, screened            → rejected  (with a reason)
    new, screened, assigned  → duplicate (of an open question)

The show's rules on routing: assigning to an episode whose slot is over (or that is
published) asks first (``NeedsConfirmation`` unless ``confirm``); an answer needs the
member booked on the episode (confirmed or appeared) and the episode live or aired.

And the extras chosen here, because a real desk needs them:

- screened → referred: the question is plainly a matter for a government department
  (a broken street lamp), so it is passed on without waiting for an episode;
- assigned → assigned: re-assign to another episode (the first was cancelled or full);
- answered → referred: a member answered on air and the desk also passes the matter on
  to the department for follow-up;
- answered → resolved and referred → resolved close the question (办结): by itself when a
  call-back reaches the listener after the answer or the department's reply
  (``callback``), or with ``resolve``, which takes a reason for a referral closed before
  then. The referral rows themselves are ``episodes.referrals``'.

resolved, rejected and duplicate are final: nothing moves out of them. A question is
marked duplicate only of an open question; when that open question later turns out to
be a duplicate itself, the questions pointing at it are re-pointed to its original, so
``duplicate_of`` never leads to another duplicate (no chains, no cycles).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from episodes import referrals
from episodes.airing import live_or_aired, slot_over
from episodes.duplicates import (
    OPEN_STATUSES,
    PossibleDuplicate,
    find_possible_duplicates,
)
from episodes.lookup import get_episode, get_member, get_question
from hotline.config import Settings
from hotline.errors import Conflict, InvalidInput, InvalidTransition, NeedsConfirmation, NotFound
from hotline.history import current_actor
from hotline.locks import lock_ids
from hotline.models import (
    Booking,
    BookingStatus,
    Callback,
    CallbackOutcome,
    Channel,
    Episode,
    EpisodeStatus,
    Member,
    Question,
    QuestionStatus,
    Referral,
    ReferralStatus,
)
from hotline.text import clean_text
from hotline.timeutil import parse_offset, utcnow, zone

S = QuestionStatus
LIFECYCLE: Mapping[QuestionStatus, tuple[QuestionStatus, ...]] = {
    S.new: (S.screened, S.rejected, S.duplicate),
    S.screened: (S.assigned, S.referred, S.rejected, S.duplicate),
    S.assigned: (S.assigned, S.answered, S.referred, S.duplicate),
    S.answered: (S.resolved, S.referred),
    S.referred: (S.resolved,),
    S.resolved: (),
    S.rejected: (),
    S.duplicate: (),
}
"""Allowed moves: current status → the statuses it may move to."""

VERBS: Mapping[QuestionStatus, str] = {
    S.screened: "screen",
    S.assigned: "assign",
    S.answered: "answer",
    S.referred: "refer",
    S.resolved: "resolve",
    S.rejected: "reject",
    S.duplicate: "duplicate",
}
"""The command (CLI verb) that moves a question into each status."""

VERBS_ZH: Mapping[QuestionStatus, str] = {
    S.screened: "审核",
    S.assigned: "分配",
    S.answered: "记为已回答",
    S.referred: "转办",
    S.resolved: "办结",
    S.rejected: "拒绝",
    S.duplicate: "标为重复",
}
STATUS_ZH: Mapping[QuestionStatus, str] = {
    S.new: "新来信",
    S.screened: "已审核",
    S.assigned: "已分配",
    S.answered: "已回答",
    S.referred: "已转办",
    S.resolved: "已办结",
    S.rejected: "已拒绝",
    S.duplicate: "重复",
}
ANSWERING: tuple[str, ...] = (BookingStatus.confirmed, BookingStatus.appeared)
"""Bookings that let a member answer on the episode (not invited, declined, cancelled,
no-show)."""

TEXT_LIMIT = 2000
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class QuestionView:
    """A question with what a list or detail view shows next to it."""

    question: Question
    episode_number: int | None
    member: Member | None
    referral: Referral | None = None
    """Its latest referral (read by ``question_view`` and the desk's pages; lists leave it)."""


def allowed_moves(status: str) -> tuple[str, ...]:
    """The verbs that may be applied to a question in ``status``."""
    return tuple(VERBS[target] for target in LIFECYCLE[QuestionStatus(status)])


def move_refusal(*, question: int, status: str, target: QuestionStatus) -> InvalidTransition | None:
    """Why question ``question``, in ``status``, cannot move to ``target`` (None: it can)."""
    current = QuestionStatus(status)
    if target in LIFECYCLE[current]:
        return None
    moves = allowed_moves(current)
    allowed = f"allowed: {', '.join(moves)}" if moves else "it is final, no moves are allowed"
    allowed_zh = "、".join(VERBS_ZH[t] for t in LIFECYCLE[current]) or "无（已是最终状态）"
    return InvalidTransition(
        f"question {question} is {current}: cannot {VERBS[target]} it; {allowed}",
        zh=f"问题 #{question} {STATUS_ZH[current]}，不能{VERBS_ZH[target]}；可以：{allowed_zh}",
    )


def _require_move(question: Question, target: QuestionStatus) -> None:
    refusal = move_refusal(question=question.id or 0, status=question.status, target=target)
    if refusal is not None:
        raise refusal


def _enter(session: Session, question: Question, target: QuestionStatus) -> Question:
    # Called only after every check has passed, so a refused move changes nothing,
    # not even the objects in the session.
    question.status = target.value
    question.updated_at = utcnow()
    session.flush()
    return question


def check_channel(value: str) -> Channel:
    """The channel named by ``value``, or ``InvalidInput`` naming the allowed ones."""
    try:
        return Channel(value.strip().lower())
    except ValueError:
        names = ", ".join(c.value for c in Channel)
        raise InvalidInput(
            f"unknown channel {value!r}; use one of {names}",
            zh=f"渠道“{value}”不对：请填 电话、微信、短信、邮件、来信、网站 或 直播",
        ) from None


def check_status(value: str) -> QuestionStatus:
    """The status named by ``value``, or ``InvalidInput`` naming the allowed ones."""
    try:
        return QuestionStatus(value.strip().lower())
    except ValueError:
        names = ", ".join(s.value for s in QuestionStatus)
        raise InvalidInput(f"unknown question status {value!r}; use one of {names}") from None


def add_question(
    *,
    session: Session,
    text: str,
    channel: str,
    listener_name: str = "",
    listener_contact: str = "",
    district: str = "",
    topic: str = "",
    received_at: datetime | None = None,
    public_title: str = "",
) -> tuple[Question, list[PossibleDuplicate]]:
    """Log a listener question as ``new``; also return open questions it may repeat.

    ``public_title`` is what listeners will see for it (``episodes.question_edit``).
    """
    from episodes.question_edit import check_public_text

    if received_at is not None and received_at.tzinfo is None:
        raise InvalidInput("received_at must be an aware datetime")
    question = Question(
        text=clean_text(
            text, field="question text", max_length=TEXT_LIMIT, multiline=True, required=True
        ),
        channel=check_channel(channel).value,
        listener_name=clean_text(listener_name, field="listener name", max_length=50),
        listener_contact=clean_text(listener_contact, field="listener contact", max_length=200),
        district=clean_text(district, field="district", max_length=50),
        topic=clean_text(topic, field="topic", max_length=100),
        public_title=check_public_text(public_title),
        received_at=received_at or utcnow().replace(microsecond=0),
        status=QuestionStatus.new,
    )
    # Looked up before the insert, so the new question never matches itself.
    hints = find_possible_duplicates(
        session=session, text=question.text, received_at=question.received_at
    )
    session.add(question)
    session.flush()
    return question, hints


def list_questions(
    *,
    session: Session,
    status: str | None = None,
    episode: int | None = None,
    channel: str | None = None,
    search: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[QuestionView]:
    """Questions matching every filter given, newest first; ``limit`` None or 0 means all.

    Status, episode and received time are indexed; the limit is applied in SQL, and the
    episode number and member come from the same query (no query per row).
    """
    if limit is not None and limit < 0:
        raise InvalidInput(f"limit {limit} must be 0 (all) or more")
    ep, member = aliased(Episode), aliased(Member)
    query = (
        select(Question, ep.number, member)
        .outerjoin(ep, Question.episode_id == ep.id)
        .outerjoin(member, Question.member_id == member.id)
        .order_by(Question.received_at.desc(), Question.id.desc())
    )
    if status:
        # The composite index (status, received_at, id) serves this filter and the order.
        query = query.where(Question.status == check_status(status).value)
    if episode is not None:
        query = query.where(Question.episode_id == get_episode(session, episode).id)
    if channel:
        query = query.where(Question.channel == check_channel(channel).value)
    if search and search.strip():
        needle = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Question.text.like(f"%{needle}%", escape="\\"))
    if limit:
        query = query.limit(limit)
    return [QuestionView(q, number, m) for q, number, m in session.exec(query)]


def question_view(*, session: Session, question: int) -> QuestionView:
    """One question with its episode number and answering member."""
    found = get_question(session, question)
    number = session.get(Episode, found.episode_id).number if found.episode_id else None
    member = session.get(Member, found.member_id) if found.member_id else None
    return QuestionView(found, number, member, referrals.latest_referral(session, found.id))


def _episode_for_questions(session: Session, number: int) -> Episode:
    found = get_episode(session, number)
    if found.status == EpisodeStatus.cancelled:
        raise Conflict(
            f"episode {number} is cancelled: questions cannot go to it",
            zh=f"第{number}期已取消，不能把问题分配给它",
        )
    return found


def screen(*, session: Session, question: int) -> Question:
    """Mark a new question as screened (read, on topic, worth routing)."""
    found = get_question(session, question, lock=True)
    _require_move(found, S.screened)
    return _enter(session, found, S.screened)


def assign(
    *,
    session: Session,
    question: int,
    episode: int,
    confirm: bool = False,
    now: datetime | None = None,
) -> Question:
    """Route a question to the episode with on-air number ``episode`` (or re-route it).

    Raises:
        NeedsConfirmation: the episode is published or its slot is over (a question
            routed there will not be heard on air); call again with ``confirm=True``.
    """
    found = get_question(session, question, lock=True)
    _require_move(found, S.assigned)
    target = _episode_for_questions(session, episode)
    if not confirm and slot_over(target, now or utcnow()):
        when = "is published" if target.status == EpisodeStatus.published else "has aired"
        raise NeedsConfirmation(
            f"episode {episode} {when}: question {found.id} assigned to it will not be "
            "taken on air",
            zh=f"第{episode}期已播出：分配给它的问题 #{found.id} 不会在节目中回答",
        )
    found.episode_id = target.id
    return _enter(session, found, S.assigned)


def parse_answer_offset(value: str) -> float:
    """``MM:SS`` or ``HH:MM:SS`` (or seconds) into seconds; minutes and seconds below 60."""
    seconds = parse_offset(value, field="answer time")
    parts = value.strip().split(":")
    if any(float(p) >= 60 for p in parts[1:]):
        raise InvalidInput(
            f"answer time {value!r} is not a time offset: use MM:SS or HH:MM:SS",
            zh=f"回答时间 {value!r} 格式不对，请用 分:秒 或 时:分:秒",
        )
    return seconds


def offset_text(seconds: float | None) -> str | None:
    """Seconds → ``MM:SS`` under an hour, ``HH:MM:SS`` from an hour on."""
    if seconds is None:
        return None
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _episode_length(episode: Episode) -> float:
    return episode.audio_seconds or episode.duration_minutes * 60.0


def answer(
    *,
    session: Session,
    question: int,
    member: str | int,
    at: str | float | None = None,
    episode: int | None = None,
    now: datetime | None = None,
) -> Question:
    """Record that ``member`` answered the question, ``at`` seconds (or MM:SS) into the show.

    The episode defaults to the one the question is assigned to; it must be live or
    aired, the member booked on it (confirmed or appeared), and the offset inside it.
    """
    found = get_question(session, question, lock=True)
    _require_move(found, S.answered)
    answerer = get_member(session, member)
    if episode is not None:
        target = _episode_for_questions(session, episode)
    elif found.episode_id is not None:
        target = session.get(Episode, found.episode_id)
    else:  # an assigned question always has an episode; kept for hand-edited rows
        raise InvalidInput(
            f"question {found.id} has no episode: give --episode N",
            zh=f"问题 #{found.id} 没有节目，请指定期号",
        )
    check_answering(session=session, episode=target, member=answerer, now=now or utcnow())
    offset = parse_answer_offset(at) if isinstance(at, str) else at
    if offset is not None:
        _check_offset(offset, target)
    found.episode_id = target.id
    found.member_id = answerer.id
    found.answer_offset = offset
    return _enter(session, found, S.answered)


def check_answering(*, session: Session, episode: Episode, member: Member, now: datetime) -> None:
    """Refuse an answer on ``episode`` by ``member``: not yet on air, or not booked on it.

    The live desk puts callers on air through the same check.
    """
    if not live_or_aired(session, episode, now):
        raise Conflict(
            f"episode {episode.number} has not gone on air yet: no one can have answered on it",
            zh=f"第{episode.number}期尚未播出，还不能记录回答",
        )
    status = session.exec(
        select(Booking.status).where(
            Booking.episode_id == episode.id, Booking.member_id == member.id
        )
    ).first()
    if status not in ANSWERING:
        why = f"is {status} on it" if status else "is not booked on it"
        why_zh = {
            BookingStatus.invited: "尚未确认出席",
            BookingStatus.declined: "已婉拒",
            BookingStatus.cancelled: "的邀请已取消",
            BookingStatus.no_show: "未到场",
        }.get(status or "", "未受邀")
        raise Conflict(
            f"{member.name} (#{member.id}) {why}: only a member confirmed on episode "
            f"{episode.number} or who appeared on it can answer",
            zh=f"{member.name}（#{member.id}）在第{episode.number}期{why_zh}，"
            "只有已确认或已出场的嘉宾可以回答",
        )


def _check_offset(offset: float, episode: Episode) -> None:
    if not math.isfinite(offset) or offset < 0:
        raise InvalidInput(
            f"answer time {offset} is not a time offset: use MM:SS or HH:MM:SS",
            zh="回答时间格式不对，请用 分:秒 或 时:分:秒",
        )
    length = _episode_length(episode)
    if offset > length:
        raise InvalidInput(
            f"answer time {offset_text(offset)} is past the end of episode "
            f"{episode.number} ({offset_text(length)})",
            zh=f"回答时间 {offset_text(offset)} 超出第{episode.number}期的长度"
            f"（{offset_text(length)}）",
        )


def refer(
    *,
    session: Session,
    settings: Settings,
    question: int,
    department: str | int,
    due: date | str | None = None,
    now: datetime | None = None,
) -> referrals.Opened:
    """Pass the question on (转办) to a known ``department``, due on ``due`` or after
    ``referrals.working_days`` working days; the result carries any calendar warning."""
    found = get_question(session, question, lock=True)
    _require_move(found, S.referred)
    opened = referrals.open_referral(
        session=session,
        question=found,
        department=department,
        tz=zone(settings.show.timezone),
        working_days=settings.referrals.working_days,
        due=due,
        now=now,
    )
    found.referral_department = opened.department.name
    _enter(session, found, S.referred)
    return opened


def check_outcome(value: str) -> CallbackOutcome:
    """The call-back outcome named by ``value``, or ``InvalidInput`` naming the allowed ones."""
    try:
        return CallbackOutcome(value.strip().lower())
    except ValueError:
        names = ", ".join(o.value for o in CallbackOutcome)
        raise InvalidInput(
            f"unknown call-back outcome {value!r}; use one of {names}",
            zh=f"回访结果“{value}”不对：请填 满意、基本满意、不满意 或 未接通",
        ) from None


@dataclass(frozen=True)
class CalledBack:
    """A call-back recorded, and whether it closed the question (办结)."""

    question: Question
    callback: Callback
    closed: bool


def callback_refusal(
    *, question: int, status: str, answered: bool, referral: referrals.Followed | None
) -> Conflict | None:
    """Why a call-back about ``question`` (in ``status``) cannot be recorded now (None: it can).

    There must be something to call the listener back about: a member's answer
    (``answered``) or its latest ``referral``, and that referral must have its reply.
    A resolved question was called back (or closed) already: a second call-back, from a
    producer who started one at the same moment, would count the listener twice in the
    department report. ``callback`` raises it; the desk asks it before opening the form.
    """
    if status == S.resolved:
        return Conflict(
            f"question {question} is resolved already: its call-back is recorded "
            f"(`hotline questions show {question}`)",
            zh=f"问题 #{question} 已办结，回访已登记，不再回访",
        )
    if referral is None and not answered:
        return Conflict(
            f"question {question} was never referred or answered: there is no answer to "
            "call the listener back about",
            zh=f"问题 #{question} 既未回答也未转办，无需回访",
        )
    if referral is not None and referral.status == ReferralStatus.open:
        return Conflict(
            f"question {question}'s referral {referral.id} has no reply yet: record it with "
            f"`hotline referrals reply {referral.id} --text …` first",
            zh=f"问题 #{question} 的转办 #{referral.id} 尚无部门答复，请先登记答复",
        )
    return None


def callback(
    *,
    session: Session,
    question: int,
    outcome: str,
    note: str = "",
    made_by: str | None = None,
    now: datetime | None = None,
) -> CalledBack:
    """Record a call-back to the listener (回访) after an answer or a department's reply.

    A call-back that reached the listener (satisfied, partly, unsatisfied) closes an
    answered question, or a referred one whose department has replied; an unreachable
    one is recorded and the question stays open for another try.
    """
    found = get_question(session, question, lock=True)
    result = check_outcome(outcome)
    referral = referrals.latest_referral(session, found.id)
    refusal = callback_refusal(
        question=found.id or 0,
        status=found.status,
        answered=found.member_id is not None,
        referral=referral,
    )
    if refusal is not None:
        raise refusal
    moment = (now or utcnow()).replace(microsecond=0)
    made = Callback(
        question_id=found.id,
        referral_id=referral.id if referral is not None else None,
        outcome=result.value,
        note=clean_text(note, field="call-back note", max_length=500, multiline=True),
        made_by=clean_text(
            made_by or current_actor(session), field="caller", max_length=100, required=True
        ),
        made_at=moment,
    )
    session.add(made)
    closing = result != CallbackOutcome.unreachable and S.resolved in LIFECYCLE[S(found.status)]
    if closing:
        if referral is not None and referral.status == ReferralStatus.replied:
            referrals.close(session, referral, now=moment)
        _enter(session, found, S.resolved)
    session.flush()
    return CalledBack(found, made, closing)


def resolve(
    *,
    session: Session,
    question: int,
    reason: str | None = None,
    now: datetime | None = None,
) -> Question:
    """Close an answered or referred question (办结).

    A referred question closes by itself after its reply and a call-back; closing it
    before then takes a ``reason`` saying why (the department never answered, the
    listener withdrew), kept on the referral.
    """
    found = get_question(session, question, lock=True)
    _require_move(found, S.resolved)
    referral = referrals.latest_referral(session, found.id) if found.status == S.referred else None
    if reason is not None and not reason.strip():
        raise InvalidInput("reason must not be empty")
    if referral is None:
        if reason is not None:
            raise InvalidInput(
                f"question {found.id} is {found.status} and closes without a reason; "
                "--reason is for closing a referral before its reply and call-back"
            )
        return _enter(session, found, S.resolved)
    if reason is None:
        missing = "reply" if referral.status == ReferralStatus.open else "call-back"
        raise InvalidInput(
            f"question {found.id} is referred (referral {referral.id}) and has no {missing} "
            "yet: give --reason to close it anyway",
            zh=f"问题 #{found.id} 的转办尚未答复或回访：提前办结需写明理由",
        )
    referrals.close(session, referral, reason=reason, now=(now or utcnow()).replace(microsecond=0))
    return _enter(session, found, S.resolved)


def reject(*, session: Session, question: int, reason: str) -> Question:
    """Turn a question down (off topic, abusive, not a question), saying why."""
    found = get_question(session, question, lock=True)
    _require_move(found, S.rejected)
    found.reject_reason = clean_text(reason, field="reject reason", max_length=200, required=True)
    return _enter(session, found, S.rejected)


def mark_duplicate(*, session: Session, question: int, of: int) -> Question:
    """Mark a question as repeating the open question ``of``."""
    lock_ids(session, Question, (question, of))  # both rows, in id order: no deadlock
    found = get_question(session, question)
    _require_move(found, S.duplicate)
    if of == found.id:
        raise InvalidInput(
            f"question {found.id} cannot be a duplicate of itself",
            zh=f"问题 #{found.id} 不能标为自己的重复",
        )
    try:
        original = get_question(session, of)
    except NotFound:
        raise NotFound(
            f"question {of} (the original) does not exist", zh=f"原问题 #{of} 不存在"
        ) from None
    if original.status not in OPEN_STATUSES:
        open_names = ", ".join(OPEN_STATUSES)
        raise Conflict(
            f"question {of} is {original.status}: a duplicate must point at an open question "
            f"({open_names})",
            zh=f"问题 #{of} {STATUS_ZH[QuestionStatus(original.status)]}，"
            "只能标为尚未办结的问题的重复",
        )
    found.duplicate_of = original.id
    # Questions that duplicated this one now point at its original, so every duplicate
    # points straight at a question that is not itself a duplicate: no chains, no cycles.
    session.execute(
        sa.update(Question)
        .where(Question.duplicate_of == found.id)
        .values(duplicate_of=original.id, updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return _enter(session, found, S.duplicate)
