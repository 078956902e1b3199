"""Chapter marks: where each question answered on air begins in the master, one function for all.

The live desk stamps each answer with its offset into the recording. Mastering then
trims dead air from the start and may put an intro jingle in front, so the master's
timeline is the recording's shifted by ``master_offset`` (``Episode.master_offset``).
:func:`chapter_marks` turns answers into chapters on the master's timeline, and the MP3's
CHAP frames, the published chapters JSON and the episode description all come from it,
so a listener jumping to a question lands on it wherever they read the time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from episodes.public_text import public_question_title
from hotline.models import Question, QuestionStatus, table_of

OPENING = "开场"
"""Title of the chapter before the first question."""
MIN_GAP = 1.0
"""Answers closer than this (seconds) to the previous chapter start no chapter of their own."""


@dataclass(frozen=True)
class Answer:
    """A question answered on air: seconds into the recording, and its public title."""

    offset: float
    title: str


@dataclass(frozen=True)
class Chapter:
    """A chapter of the master: from ``start`` to ``end`` seconds; ``question`` False for
    the opening chapter, which no answer started."""

    start: float
    end: float
    title: str
    question: bool = True


def chapter_marks(answers: Iterable[Answer], *, offset: float, length: float) -> list[Chapter]:
    """The chapters of a master of ``length`` seconds whose recording starts at ``offset``.

    Each answer starts a chapter at ``answer.offset + offset`` (an answer in dead air cut
    from the start begins the programme). Answers at or past the last second of the
    audio are dropped, as is an answer within a second of the chapter before it. When
    the first answer comes later than a second in, an opening chapter covers the time
    before it. Chapters tile the master: each ends where the next starts, the last at
    ``length``. No answers (or none inside the audio) means no chapters.
    """
    starts: list[tuple[float, str]] = []
    for answer in sorted(answers, key=lambda a: a.offset):
        start = max(round(answer.offset + offset, 3), 0.0)
        if start >= length - MIN_GAP:
            continue
        if starts and start - starts[-1][0] < MIN_GAP:
            continue
        starts.append((start, answer.title))
    if not starts:
        return []
    chapters: list[tuple[float, str, bool]] = [(s, t, True) for s, t in starts]
    if starts[0][0] >= MIN_GAP:
        chapters.insert(0, (0.0, OPENING, False))
    else:
        chapters[0] = (0.0, starts[0][1], True)
    ends = [start for start, _, _ in chapters[1:]] + [length]
    return [
        Chapter(start, end, title, question)
        for (start, title, question), end in zip(chapters, ends, strict=True)
    ]


def answers_by_episode(
    session: Session, episode_ids: Sequence[int | None]
) -> dict[int, list[Answer]]:
    """The answers given on air in each of ``episode_ids``, in time order, with public titles.

    Rejected and duplicate questions are left out, as are questions never stamped with
    an offset. Titles come from ``public_question_title``: never the listener's text.
    """
    question = table_of(Question)
    rows = session.execute(
        sa.select(
            question.c.episode_id,
            question.c.answer_offset,
            question.c.public_title,
            question.c.topic,
        )
        .where(question.c.episode_id.in_([i for i in episode_ids if i is not None]))
        .where(question.c.answer_offset.is_not(None))
        .where(question.c.status.not_in([QuestionStatus.rejected, QuestionStatus.duplicate]))
        .order_by(question.c.episode_id, question.c.answer_offset, question.c.id)
    )
    out: dict[int, list[Answer]] = defaultdict(list)
    for episode_id, offset, public_title, topic in rows:
        title = public_question_title(public_title=public_title, topic=topic)
        out[episode_id].append(Answer(float(offset), title))
    return dict(out)
