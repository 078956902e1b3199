"""Word timings: which characters of a segment were said when, stored compactly per segment.

Both backends give each word's start and end. A stored segment's text is the model's text
after our filters and ``clean_text`` (loops collapsed, hallucinated phrases cut, spaces
trimmed), so the words are first aligned to that text: each word becomes a run of its
characters, every character belonging to exactly one word.

Storage is one compact JSON array per segment in ``segment.words``: three integers a word,
``[chars, gap, duration, chars, gap, duration, …]``, where ``chars`` is how many characters
of the text the word covers, ``gap`` the centiseconds from the end of the previous word
(the segment's start for the first) to its start, and ``duration`` its length in
centiseconds. Chinese words are one or two characters, so a word costs about 8 bytes
in SQLite against 43 for a row per word (``bench_transcribe.py --part words``).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass

CENTI = 100


@dataclass(frozen=True)
class Word:
    """One word: its text (as the model wrote it, or the characters it covers when read back)
    and its start and end in seconds."""

    start: float
    end: float
    text: str


def align(words: Sequence[Word], text: str) -> list[tuple[int, float, float]]:
    """(characters of ``text``, start, end) for each word, covering ``text`` exactly.

    Words whose characters were all removed from the text are dropped; characters of the
    text that no word spells (rare: a filter's joins) go to the word before them.
    """
    words = [w for w in words if w.text]
    if not words or not text:
        return []
    spoken = "".join(w.text for w in words)
    owner: list[int] = []
    for index, word in enumerate(words):
        owner += [index] * len(word.text)
    if spoken == text:
        per_char = owner
    else:
        per_char = [-1] * len(text)
        matcher = difflib.SequenceMatcher(None, spoken, text, autojunk=False)
        for a, b, size in matcher.get_matching_blocks():
            per_char[b : b + size] = owner[a : a + size]
        first = next((o for o in per_char if o >= 0), None)
        if first is None:
            return []
        previous = first
        for i, o in enumerate(per_char):
            if o < previous:  # unspelled, or out of order after an edit: stay with the last
                per_char[i] = previous
            previous = per_char[i]
    out: list[tuple[int, float, float]] = []
    run_owner, run = per_char[0], 0
    for o in per_char:
        if o != run_owner:
            out.append((run, words[run_owner].start, words[run_owner].end))
            run_owner, run = o, 0
        run += 1
    out.append((run, words[run_owner].start, words[run_owner].end))
    return out


def encode(aligned: Sequence[tuple[int, float, float]], *, segment_start: float) -> str | None:
    """The stored form of aligned words (None when there are none)."""
    if not aligned:
        return None
    values: list[int] = []
    clock = round(segment_start * CENTI)
    for chars, start, end in aligned:
        begin = max(round(start * CENTI), 0)
        finish = max(round(end * CENTI), begin)
        values += (chars, begin - clock, finish - begin)
        clock = finish
    return json.dumps(values, separators=(",", ":"))


def decode(stored: str | None, *, text: str, segment_start: float) -> list[Word]:
    """The words of a stored segment, each with the characters of ``text`` it covers."""
    if not stored:
        return []
    values = json.loads(stored)
    words = []
    clock = round(segment_start * CENTI)
    at = 0
    for i in range(0, len(values) - 2, 3):
        chars, gap, duration = values[i : i + 3]
        begin = clock + gap
        clock = begin + duration
        words.append(Word(begin / CENTI, clock / CENTI, text[at : at + chars]))
        at += chars
    return words


def store_words(words: Sequence[Word], *, text: str, segment_start: float) -> str | None:
    """``align`` then ``encode``: what ``segment.words`` holds for a segment."""
    return encode(align(words, text), segment_start=segment_start)


def time_at(words: Sequence[Word], offset: int, *, length: int | None = None) -> float | None:
    """When the character at ``offset`` was said: the start of its word.

    ``length`` is the length of the text ``offset`` counts in, when that text is not the
    one the words spell (the normalised text can differ in length): the offset is scaled.
    """
    if not words:
        return None
    total = sum(len(w.text) for w in words)
    if length is not None and length != total and length > 0:
        offset = int(offset * total / length)
    at = 0
    for word in words:
        at += len(word.text)
        if offset < at:
            return word.start
    return words[-1].start


def first_word_after(words: Sequence[Word], moment: float) -> Word | None:
    """The first word that starts at or after ``moment`` (None when none does)."""
    return next((w for w in words if w.start >= moment), None)
