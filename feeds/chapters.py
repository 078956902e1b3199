"""Chapters in the Podcasting 2.0 JSON chapters format, from the questions answered on air."""

from __future__ import annotations

import json
from collections.abc import Sequence

from feeds.text import AnsweredQuestion

CHAPTERS_VERSION = "1.2.0"
OPENING = "开场"


def chapter_list(questions: Sequence[AnsweredQuestion], seconds: float) -> list[dict[str, object]]:
    """One chapter per answered question (by its offset), after an opening chapter.

    Questions without an offset, at or past the end of the audio, or within a second of
    the previous chapter are left out; the list is empty when no question has an offset.
    """
    chapters: list[dict[str, object]] = []
    for question in sorted(
        (q for q in questions if q.offset is not None), key=lambda q: q.offset or 0.0
    ):
        start = round(float(question.offset or 0.0), 3)
        if start < 0 or start >= seconds:
            continue
        if chapters and start - float(chapters[-1]["startTime"]) < 1.0:  # type: ignore[arg-type]
            continue
        chapters.append({"startTime": start, "title": question.title})
    if chapters and float(chapters[0]["startTime"]) >= 1.0:  # type: ignore[arg-type]
        chapters.insert(0, {"startTime": 0, "title": OPENING})
    return chapters


def chapters_json(chapters: list[dict[str, object]]) -> bytes:
    """The chapters file's bytes (stable: the same chapters give the same bytes).

    One line: ``indent`` would send ``json`` to its pure-Python encoder, which costs more
    than everything else a quiet publish does per episode.
    """
    document = {"version": CHAPTERS_VERSION, "chapters": chapters}
    return (json.dumps(document, ensure_ascii=False) + "\n").encode()
