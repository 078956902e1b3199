"""Cleaning whisper's output: known hallucinated phrases dropped, repetition loops collapsed.

On silence, music and applause whisper writes what the subtitle files it learnt from say
at such moments (字幕由Amara.org社群提供, 请不吝点赞 订阅 转发 打赏支持明镜与点点栏目, 谢谢观看);
on hard audio it loops (好的好的好的好的…, one sentence ten times). The phrases live in
``data/hallucinations.txt``; matching ignores script, case, spaces and punctuation.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from transcripts.asr import RawSegment
from transcripts.normalize import normalize

PHRASES_FILE = Path(__file__).with_name("data") / "hallucinations.txt"
MIN_REPEATED_SEGMENTS = 3
"""This many consecutive segments with the same text are a loop: one is kept."""

_NOT_TEXT = re.compile(r"[\W_]+")
# The shortest unit first: 好的好的好的 is 好的 ×3, not 好的好的 + 好的.
_LOOP = re.compile(r"(.{1,30}?)\1{2,}", re.S)


def text_key(text: str) -> str:
    """``text`` as compared: simplified script, ASCII lower case, no spaces or punctuation."""
    return _NOT_TEXT.sub("", normalize(text))


@dataclass(frozen=True)
class Phrases:
    """The hallucination list: phrases that make up a whole segment, and ones cut anywhere."""

    whole: frozenset[str]
    anywhere: tuple[re.Pattern[str], ...]


@cache
def _variants() -> dict[str, str]:
    """Simplified character → itself plus its traditional forms (for matching heard text)."""
    import opencc

    table = Path(opencc.__file__).with_name("dictionary") / "TSCharacters.txt"
    forms: dict[str, set[str]] = defaultdict(set)
    for line in table.read_text(encoding="utf-8").splitlines():
        traditional, _, simplified = line.strip().partition("\t")
        simplified = simplified.split(" ")[0]
        if len(traditional) == 1 and len(simplified) == 1:
            forms[simplified].add(traditional)
    return {s: s + "".join(sorted(t)) for s, t in forms.items()}


def _anywhere_pattern(key: str) -> re.Pattern[str]:
    variants = _variants()
    classes = ["[" + re.escape(variants.get(ch, ch)) + "]" for ch in key]
    return re.compile(r"[\W_]*".join(classes), re.IGNORECASE)


def parse_phrases(lines: Iterable[str]) -> Phrases:
    whole: set[str] = set()
    anywhere: list[str] = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("* "):
            anywhere.append(text_key(line[2:]))
        else:
            whole.add(text_key(line))
    anywhere = sorted({k for k in anywhere if k}, key=len, reverse=True)
    whole.update(anywhere)
    whole.discard("")
    return Phrases(frozenset(whole), tuple(_anywhere_pattern(k) for k in anywhere))


@cache
def default_phrases() -> Phrases:
    """The phrases of ``data/hallucinations.txt``."""
    return parse_phrases(PHRASES_FILE.read_text(encoding="utf-8").splitlines())


def _made_of(key: str, parts: frozenset[str]) -> bool:
    """Whether ``key`` is a concatenation of one or more of ``parts``."""
    if not key:
        return False
    longest = max((len(p) for p in parts), default=0)
    reachable = [True] + [False] * len(key)
    for end in range(1, len(key) + 1):
        for size in range(1, min(longest, end) + 1):
            if reachable[end - size] and key[end - size : end] in parts:
                reachable[end] = True
                break
    return reachable[-1]


def remove_hallucinations(text: str, phrases: Phrases | None = None) -> str:
    """``text`` without hallucinated phrases; empty when nothing real is left."""
    phrases = phrases or default_phrases()
    for pattern in phrases.anywhere:
        text = pattern.sub("", text)
    key = text_key(text)
    if not key or _made_of(key, phrases.whole):
        return ""
    return text.strip()


def _loop_limit(unit: str) -> int | None:
    """How many repeats of ``unit`` make a loop (None: never, for punctuation)."""
    size = len(text_key(unit))
    if size == 0:
        return None
    if size == 1:
        return 5  # 哈哈哈 and 对对对对 are speech; 哈哈哈哈哈 and on are not worth keeping
    if size <= 3:
        return 4  # 好的好的 is speech, 好的好的好的好的 a loop
    return 3


def collapse_repeats(text: str) -> str:
    """Repetition loops in ``text`` reduced to one occurrence of the repeated unit."""

    def replace(match: re.Match[str]) -> str:
        unit = match.group(1)
        limit = _loop_limit(unit)
        count = len(match.group(0)) // len(unit)
        return unit if limit is not None and count >= limit else match.group(0)

    return _LOOP.sub(replace, text)


def clean_segments(
    segments: Sequence[RawSegment], phrases: Phrases | None = None
) -> list[RawSegment]:
    """Segments without hallucinations and loops, in time order; empty ones dropped.

    A run of ``MIN_REPEATED_SEGMENTS`` or more consecutive segments saying the same thing
    becomes the first of them, lasting until the last one ends.
    """
    kept: list[RawSegment] = []
    for segment in sorted(segments, key=lambda s: (s.start, s.end)):
        text = remove_hallucinations(collapse_repeats(segment.text), phrases)
        if text:
            kept.append(
                RawSegment(segment.start, max(segment.end, segment.start), text, segment.words)
            )
    out: list[RawSegment] = []
    i = 0
    while i < len(kept):
        j = i + 1
        key = text_key(kept[i].text)
        while j < len(kept) and text_key(kept[j].text) == key:
            j += 1
        if j - i >= MIN_REPEATED_SEGMENTS:
            out.append(RawSegment(kept[i].start, kept[j - 1].end, kept[i].text, kept[i].words))
        else:
            out.extend(kept[i:j])
        i = j
    return out
