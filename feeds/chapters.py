"""Chapters in the Podcasting 2.0 JSON chapters format, from ``episodes.chapters.chapter_marks``.

The same chapters are the master's CHAP frames and the description's list of questions,
so each is on the master's timeline (trimmed dead air and intro jingle accounted for).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from episodes.chapters import Chapter
from feeds.text import AnsweredQuestion

CHAPTERS_VERSION = "1.2.0"


def chapters_json(chapters: Sequence[Chapter], redact: Callable[[str], str]) -> bytes:
    """The chapters file's bytes (stable: the same chapters give the same bytes).

    One line: ``indent`` would send ``json`` to its pure-Python encoder, which costs more
    than everything else a quiet publish does per episode.
    """
    document = {
        "version": CHAPTERS_VERSION,
        "chapters": [{"startTime": c.start, "title": redact(c.title)} for c in chapters],
    }
    return (json.dumps(document, ensure_ascii=False) + "\n").encode()


def answered_questions(
    chapters: Sequence[Chapter], redact: Callable[[str], str]
) -> list[AnsweredQuestion]:
    """The questions a description lists: each question's chapter, at its start."""
    return [AnsweredQuestion(c.start, redact(c.title)) for c in chapters if c.question]
