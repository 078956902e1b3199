"""Reading a transcript around one segment, with the questions answered in that episode.

What a search result opens onto: the few segments before and after the hit, so the
reader sees the exchange it belongs to, and the listener questions answered on that
episode with their offsets (the jump points a producer logged on the live desk).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from hotline.errors import NotFound
from hotline.models import Episode, Member, Question, QuestionStatus, Segment

ANSWERED = (QuestionStatus.answered, QuestionStatus.referred, QuestionStatus.resolved)
"""Statuses of a question that was answered on air (and perhaps referred or closed since)."""


@dataclass(frozen=True)
class Line:
    """One segment of the transcript."""

    segment_id: int
    start: float
    end: float
    text: str
    """Normalised (simplified script, folded punctuation): what search matched."""
    heard: str = ""
    """As transcribed, before normalisation: what a reader is shown."""


@dataclass(frozen=True)
class AnsweredQuestion:
    """A listener question answered on the episode, at ``offset`` seconds if logged."""

    question_id: int
    offset: float | None
    listener: str
    member: str
    text: str


@dataclass(frozen=True)
class TranscriptWindow:
    """Segments around a hit (``hit`` is its index in ``lines``) and the episode's answers."""

    episode: int
    title: str
    air_start: datetime
    lines: list[Line]
    hit: int
    questions: list[AnsweredQuestion]


def answered_questions(*, session: Session, episode_id: int) -> list[AnsweredQuestion]:
    """Questions answered on the episode, in the order they came up on air."""
    rows = session.exec(
        select(Question, Member.name)
        .outerjoin(Member, col(Member.id) == col(Question.member_id))
        .where(Question.episode_id == episode_id)
        .where(col(Question.status).in_([s.value for s in ANSWERED]))
        .order_by(col(Question.answer_offset).is_(None), col(Question.answer_offset), Question.id)
    ).all()
    return [
        AnsweredQuestion(q.id or 0, q.answer_offset, q.listener_name, name or "", q.text)
        for q, name in rows
    ]


def transcript_window(
    *, session: Session, segment_id: int, before: int = 6, after: int = 10
) -> TranscriptWindow:
    """The ``before`` segments before ``segment_id``, it, and the ``after`` after it."""
    hit = session.get(Segment, segment_id)
    if hit is None:
        raise NotFound(f"segment {segment_id} does not exist (the transcript was replaced?)")
    episode = session.get(Episode, hit.episode_id)
    assert episode is not None  # foreign key
    same = select(Segment).where(Segment.episode_id == hit.episode_id)
    earlier = session.exec(
        same.where(col(Segment.start) < hit.start).order_by(col(Segment.start).desc()).limit(before)
    ).all()
    later = session.exec(
        same.where(col(Segment.start) >= hit.start, Segment.id != hit.id)
        .order_by(col(Segment.start), Segment.id)
        .limit(after)
    ).all()
    segments = [*reversed(earlier), hit, *later]
    return TranscriptWindow(
        episode=episode.number,
        title=episode.title,
        air_start=episode.air_start,
        lines=[Line(s.id or 0, s.start, s.end, s.text_norm, s.text) for s in segments],
        hit=len(earlier),
        questions=answered_questions(session=session, episode_id=episode.id or 0),
    )
