"""Listener questions (听众来信/来电): logging, the lifecycle, routing to episodes and members.

The lifecycle is data (``LIFECYCLE``), read by every move and by the error that refuses
one. The moves the design names::

    new → screened → assigned → answered / referred (转办) → resolved
    new, screened            → rejected  (with a reason)
    new, screened, assigned  → duplicate (of an open question)

and the extras chosen here, because a real desk needs them:

- screened → referred: the question is plainly a matter for a government department
  (a broken street lamp), so it is passed on without waiting for an episode;
- assigned → assigned: re-assign to another episode (the first was cancelled or full);
- answered → referred: a member answered on air and the desk also passes the matter on
  to the department for follow-up;
- answered → resolved and referred → resolved close the question.

resolved, rejected and duplicate are final: nothing moves out of them. A question is
marked duplicate only of an open question; when that open question later turns out to
be a duplicate itself, the questions pointing at it are re-pointed to its original, so
``duplicate_of`` never leads to another duplicate (no chains, no cycles).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from episodes.duplicates import (
    OPEN_STATUSES,
    PossibleDuplicate,
    find_possible_duplicates,
)
from episodes.lookup import get_episode, get_member, get_question
from hotline.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from hotline.models import Channel, Episode, EpisodeStatus, Member, Question, QuestionStatus
from hotline.text import clean_text
from hotline.timeutil import parse_offset, utcnow

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

TEXT_LIMIT = 2000
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class QuestionView:
    """A question with what a list or detail view shows next to it."""

    question: Question
    episode_number: int | None
    member: Member | None


def allowed_moves(status: str) -> tuple[str, ...]:
    """The verbs that may be applied to a question in ``status``."""
    return tuple(VERBS[target] for target in LIFECYCLE[QuestionStatus(status)])


def _require_move(question: Question, target: QuestionStatus) -> None:
    current = QuestionStatus(question.status)
    if target not in LIFECYCLE[current]:
        moves = allowed_moves(current)
        allowed = f"allowed: {', '.join(moves)}" if moves else "it is final, no moves are allowed"
        raise InvalidTransition(
            f"question {question.id} is {current}: cannot {VERBS[target]} it; {allowed}"
        )


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
        raise InvalidInput(f"unknown channel {value!r}; use one of {names}") from None


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
    return QuestionView(found, number, member)


def _episode_for_questions(session: Session, number: int) -> Episode:
    found = get_episode(session, number)
    if found.status == EpisodeStatus.cancelled:
        raise Conflict(f"episode {number} is cancelled: questions cannot go to it")
    return found


def screen(*, session: Session, question: int) -> Question:
    """Mark a new question as screened (read, on topic, worth routing)."""
    found = get_question(session, question)
    _require_move(found, S.screened)
    return _enter(session, found, S.screened)


def assign(*, session: Session, question: int, episode: int) -> Question:
    """Route a question to the episode with on-air number ``episode`` (or re-route it)."""
    found = get_question(session, question)
    _require_move(found, S.assigned)
    found.episode_id = _episode_for_questions(session, episode).id
    return _enter(session, found, S.assigned)


def parse_answer_offset(value: str) -> float:
    """``MM:SS`` or ``HH:MM:SS`` (or seconds) into seconds; minutes and seconds below 60."""
    seconds = parse_offset(value, field="answer time")
    parts = value.strip().split(":")
    if any(float(p) >= 60 for p in parts[1:]):
        raise InvalidInput(f"answer time {value!r} is not a time offset: use MM:SS or HH:MM:SS")
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
) -> Question:
    """Record that ``member`` answered the question, ``at`` seconds (or MM:SS) into the show.

    The episode defaults to the one the question is assigned to; the offset must fall
    inside that episode.
    """
    found = get_question(session, question)
    _require_move(found, S.answered)
    answerer = get_member(session, member)
    if episode is not None:
        target = _episode_for_questions(session, episode)
    elif found.episode_id is not None:
        target = session.get(Episode, found.episode_id)
    else:  # an assigned question always has an episode; kept for hand-edited rows
        raise InvalidInput(f"question {found.id} has no episode: give --episode N")
    offset = parse_answer_offset(at) if isinstance(at, str) else at
    if offset is not None:
        _check_offset(offset, target)
    found.episode_id = target.id
    found.member_id = answerer.id
    found.answer_offset = offset
    return _enter(session, found, S.answered)


def _check_offset(offset: float, episode: Episode) -> None:
    if not math.isfinite(offset) or offset < 0:
        raise InvalidInput(f"answer time {offset} is not a time offset: use MM:SS or HH:MM:SS")
    length = _episode_length(episode)
    if offset > length:
        raise InvalidInput(
            f"answer time {offset_text(offset)} is past the end of episode "
            f"{episode.number} ({offset_text(length)})"
        )


def refer(*, session: Session, question: int, department: str) -> Question:
    """Pass the question on (转办) to a government ``department``."""
    found = get_question(session, question)
    _require_move(found, S.referred)
    found.referral_department = clean_text(
        department, field="referral department", max_length=100, required=True
    )
    return _enter(session, found, S.referred)


def resolve(*, session: Session, question: int) -> Question:
    """Close an answered or referred question."""
    found = get_question(session, question)
    _require_move(found, S.resolved)
    return _enter(session, found, S.resolved)


def reject(*, session: Session, question: int, reason: str) -> Question:
    """Turn a question down (off topic, abusive, not a question), saying why."""
    found = get_question(session, question)
    _require_move(found, S.rejected)
    found.reject_reason = clean_text(reason, field="reject reason", max_length=200, required=True)
    return _enter(session, found, S.rejected)


def mark_duplicate(*, session: Session, question: int, of: int) -> Question:
    """Mark a question as repeating the open question ``of``."""
    found = get_question(session, question)
    _require_move(found, S.duplicate)
    if of == found.id:
        raise InvalidInput(f"question {found.id} cannot be a duplicate of itself")
    try:
        original = get_question(session, of)
    except NotFound:
        raise NotFound(f"question {of} (the original) does not exist") from None
    if original.status not in OPEN_STATUSES:
        open_names = ", ".join(OPEN_STATUSES)
        raise Conflict(
            f"question {of} is {original.status}: a duplicate must point at an open question "
            f"({open_names})"
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
