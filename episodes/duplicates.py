"""Possible-duplicate hints for listener questions: CJK character-bigram similarity.

Listeners who ask the same thing rarely use the same words: "小区旁边的工地晚上十点以后
还在施工" and "小区旁边工地夜里十点后还施工" share most of their two-character pieces
but few whole words, and Chinese has no spaces to split words on. So a text becomes the
set of its character bigrams after normalising (NFKC, lower case, punctuation, spaces and
sentence particles such as 的/了/吗 dropped, filler bigrams such as 请问/希望/有关 removed),
and two texts are compared by the Dice coefficient of their sets. A short phone summary
of a long letter shares few bigrams relative to the letter's size, so containment of the
shorter in the longer also counts (discounted, and only when the shorter has enough
bigrams to mean something).

Measured on realistic pairs (tests/unit/test_questions.py): paraphrases score 0.38–0.70,
different questions on neighbouring topics (two questions about 老旧小区, two that both
start 希望有关部门关注一下) score at most 0.22. ``THRESHOLD`` sits between.

Candidates are prefiltered in SQL so the hint stays fast with thousands of open questions:
only open statuses, received within ``WINDOW`` before the new question (an older open
question is stale and staff should look at it anyway), the newest
``MAX_CANDIDATES`` of those, and of them only the ones that contain enough of the new
text's content bigrams (``LIKE``, portable SQL) to possibly reach the threshold. The
``MAX_SCORED`` sharing the most are scored exactly in Python.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from hotline.models import Question, QuestionStatus

OPEN_STATUSES: tuple[QuestionStatus, ...] = (
    QuestionStatus.new,
    QuestionStatus.screened,
    QuestionStatus.assigned,
)
THRESHOLD = 0.35
"""Similarity at or above which a question is reported as a possible duplicate."""
WINDOW = timedelta(days=365)
MAX_CANDIDATES = 2000
"""Newest open questions the SQL prefilter looks at."""
MAX_SCORED = 200
"""Candidates, most shared bigrams first, that are scored exactly in Python."""
MAX_PATTERNS = 24
"""Bigrams used in the SQL prefilter; a paraphrase shares far more than one of them."""
MAX_HINTS = 5
SNIPPET_CHARS = 40
CONTAINMENT_WEIGHT = 0.8
MIN_CONTAINMENT_BIGRAMS = 6

# Sentence particles: they sit between content words and break up shared bigrams
# ("旁边的工地" vs "旁边工地"), so they are dropped before pairing characters.
_DROP_PARTICLES = str.maketrans("", "", "的了吗呢吧啊呀哦嘛么")
_NOT_WORD = re.compile(r"[\W_]+")
# Bigrams that nearly every listener letter contains; sharing them says nothing.
_FILLER_TEXT = """
请问 能不 不能 能否 希望 我们 你们 什么 怎么 一下 有关 部门 问题 谢谢 可以 是否
委员 政府 现在 这个 那个 没有 有没 是不 不是 如何 相关 关注 领导 我家 你好 您好
"""
_FILLER_BIGRAMS = frozenset(_FILLER_TEXT.split())


@dataclass(frozen=True)
class PossibleDuplicate:
    """An open question that a new one may repeat."""

    id: int
    similarity: float
    snippet: str


def normalise(text: str) -> str:
    """Letters and digits only, NFKC, lower case, sentence particles dropped."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return _NOT_WORD.sub("", folded).translate(_DROP_PARTICLES)


def bigrams(text: str) -> frozenset[str]:
    """The content bigrams of ``text`` (a one-character text is its own single piece)."""
    norm = normalise(text)
    if len(norm) == 1:
        return frozenset(norm)
    pieces = {norm[i : i + 2] for i in range(len(norm) - 1)}
    return frozenset(pieces - _FILLER_BIGRAMS)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice coefficient of two bigram sets, or discounted containment of the shorter one."""
    if not a or not b:
        return 0.0
    shared = len(a & b)
    dice = 2 * shared / (len(a) + len(b))
    shorter = min(len(a), len(b))
    if shorter < MIN_CONTAINMENT_BIGRAMS:
        return dice
    return max(dice, CONTAINMENT_WEIGHT * shared / shorter)


def snippet(text: str, width: int = SNIPPET_CHARS) -> str:
    """The start of ``text`` on one line, with an ellipsis when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _prefilter_patterns(text: str, pieces: frozenset[str]) -> list[str]:
    # Only bigrams that occur literally in the typed text can match stored raw text
    # with LIKE; spread the choice across the text rather than taking its opening.
    literal = unicodedata.normalize("NFKC", text).lower()
    present = sorted(p for p in pieces if p in literal)
    if len(present) > MAX_PATTERNS:
        step = len(present) / MAX_PATTERNS
        present = [present[int(i * step)] for i in range(MAX_PATTERNS)]
    return present


def min_shared(size: int) -> int:
    """The fewest bigrams a text of ``size`` bigrams shares with any text it is similar to.

    Dice ≥ T needs shared ≥ T·(size + other)/2 ≥ T·(size + 1)/2; containment counts
    only when both have ``MIN_CONTAINMENT_BIGRAMS``, and then needs shared ≥
    (T / weight)·MIN_CONTAINMENT_BIGRAMS.
    """
    dice = math.ceil(THRESHOLD * (size + 1) / 2)
    if size < MIN_CONTAINMENT_BIGRAMS:
        return dice
    containment = math.ceil(THRESHOLD / CONTAINMENT_WEIGHT * MIN_CONTAINMENT_BIGRAMS)
    return max(1, min(dice, containment))


def status_in_time_order(statuses: Sequence[str]) -> sa.ColumnElement[bool]:
    """``status IN (…)`` written so the planner walks ``received_at`` instead of the status index.

    SQLite has no statistics unless ANALYZE ran, so it always prefers the status index
    for ``status = ?``, reads every row of that status and sorts them all to return
    the newest 50 (350 ms for 20 000 ``new`` questions). When the status is common,
    walking the ``received_at`` index newest first and checking the status row by row
    stops after a few dozen rows (0.3 ms). Wrapping the column in an expression is the
    portable way to say "do not use this index"; PostgreSQL plans well either way.
    """
    return sa.func.coalesce(Question.status, "").in_(list(statuses))


def find_possible_duplicates(
    *, session: Session, text: str, received_at: datetime, exclude: int | None = None
) -> list[PossibleDuplicate]:
    """Open questions that ``text`` may repeat, most similar first (at most ``MAX_HINTS``).

    Candidates are the newest ``MAX_CANDIDATES`` open questions of the last ``WINDOW``
    (an index walk that stops early), of those only the ones sharing enough of the new
    text's bigrams to possibly reach ``THRESHOLD`` (``min_shared``, less the bigrams the
    filter could not test), so the words every letter has (居民, 解决, 小区) do not drag
    rows into Python.
    """
    pieces = bigrams(text)
    patterns = _prefilter_patterns(text, pieces)
    if not patterns:
        return []
    needed = max(1, min_shared(len(pieces)) - (len(pieces) - len(patterns)))
    recent = (
        select(Question.id, Question.text)
        .where(status_in_time_order([s.value for s in OPEN_STATUSES]))
        .where(Question.received_at >= received_at - WINDOW)
        .order_by(Question.received_at.desc(), Question.id.desc())
        .limit(MAX_CANDIDATES)
    )
    if exclude is not None:
        recent = recent.where(Question.id != exclude)
    recent = recent.subquery()
    shared = sum(
        (sa.case((recent.c.text.like(f"%{p}%"), 1), else_=0) for p in patterns), sa.literal(0)
    )
    scored = select(recent.c.id, recent.c.text, shared.label("shared")).subquery()
    # The most shared bigrams first: similar texts sort to the top, so Python scores a
    # bounded number even when thousands of letters use the same stock phrases.
    query = (
        select(scored.c.id, scored.c.text)
        .where(scored.c.shared >= needed)
        .order_by(scored.c.shared.desc(), scored.c.id.desc())
        .limit(MAX_SCORED)
    )
    hints = []
    for question_id, candidate in session.exec(query):
        score = similarity(pieces, bigrams(candidate))
        if score >= THRESHOLD:
            hints.append(PossibleDuplicate(question_id, round(score, 2), snippet(candidate)))
    hints.sort(key=lambda h: (-h.similarity, -h.id))
    return hints[:MAX_HINTS]
