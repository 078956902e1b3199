"""Reading a transcript around one segment or one moment, with the questions answered then.

What a search result opens onto: the few segments before and after the hit, so the
reader sees the exchange it belongs to, and the listener questions answered on that
episode with their offsets (the jump points a producer logged on the live desk). With
word timings, a moment lands on the word said then (``window_at``), and a question's
on-air stamp is snapped to the first word said at or after it (``AnsweredQuestion.aligned``):
the live desk stamps when a producer pressed the key, which is seldom on a word.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from episodes.lookup import get_episode
from hotline.errors import NotFound
from hotline.models import Episode, Member, Question, QuestionStatus, Segment
from transcripts.words import Word, decode, first_word_after

ALIGN_WITHIN = 30.0
"""Seconds after a stamp in which its first word is looked for."""

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
    aligned: float | None = None
    """The start of the first word said at or after ``offset`` (None without word timings)."""


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
        AnsweredQuestion(
            q.id or 0,
            q.answer_offset,
            q.listener_name,
            name or "",
            q.text,
            aligned_stamp(session=session, episode_id=episode_id, offset=q.answer_offset),
        )
        for q, name in rows
    ]


def _words_between(session: Session, episode_id: int, start: float, end: float) -> list[Word]:
    rows = session.exec(
        select(Segment.start, Segment.text, Segment.words)
        .where(Segment.episode_id == episode_id)
        .where(col(Segment.end) >= start, col(Segment.start) <= end)
        .order_by(col(Segment.start))
    ).all()
    words: list[Word] = []
    for segment_start, text, stored in rows:
        words += decode(stored, text=text, segment_start=segment_start)
    return words


def aligned_stamp(*, session: Session, episode_id: int, offset: float | None) -> float | None:
    """The start of the first word said at or after ``offset`` (within ``ALIGN_WITHIN``)."""
    if offset is None:
        return None
    word = first_word_after(
        _words_between(session, episode_id, offset, offset + ALIGN_WITHIN), offset
    )
    return word.start if word is not None and word.start <= offset + ALIGN_WITHIN else None


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


@dataclass(frozen=True)
class Landing:
    """A moment of an episode: the segments around it and the word said then."""

    window: TranscriptWindow
    word: Word | None
    """The word said at the moment, or the first after it (None without word timings)."""
    span: tuple[int, int] | None
    """Where that word is in the hit line's text (None when it cannot be placed)."""


def window_at(
    *, session: Session, episode: int, moment: float, before: int = 3, after: int = 5
) -> Landing:
    """The transcript of episode number ``episode`` around ``moment`` seconds, on its word.

    The hit is the segment being said at ``moment``, else the next one (else the last).
    """
    ep = get_episode(session, episode)
    same = select(Segment).where(Segment.episode_id == ep.id)
    hit = (
        session.exec(
            same.where(col(Segment.end) > moment).order_by(col(Segment.start), col(Segment.id))
        ).first()
        or session.exec(same.order_by(col(Segment.start).desc())).first()
    )
    if hit is None or hit.id is None:
        raise NotFound(f"episode {episode} has no transcript")
    window = transcript_window(session=session, segment_id=hit.id, before=before, after=after)
    words = decode(hit.words, text=hit.text, segment_start=hit.start)
    word = next((w for w in words if w.start <= moment < w.end), None)
    word = word or first_word_after(words, moment) or (words[-1] if words else None)
    span = None
    if word is not None and len(hit.text) == len(hit.text_norm):
        at = sum(len(w.text) for w in words[: words.index(word)])
        span = (at, at + len(word.text))
    return Landing(window, word, span)
