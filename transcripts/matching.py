"""Evaluating a query on the positional postings: its matching segments as sorted arrays.

The index (transcripts.index) keeps each token's positions, one row per episode, so every
answer is computed from the postings alone, vectorised, without reading a segment's text:

- a term of one or two characters is a token: its occurrences are its keys;
- a longer term starts at ``p`` exactly when bigram ``term[i:i+2]`` occurs at ``p + i`` for
  a set of offsets covering the term (0, 2, 4, … and the last bigram);
- several terms match the segments that all of them match.

Keys from many episodes are joined into one sorted uint64 array, ``episode_key << 32 |
ordinal << 12 | position``: ascending is newest episode first, then time order. A segment
is ``episode_key << 20 | ordinal`` (a global key shifted right by 12).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session

from transcripts.index import (
    EPISODE_LIMIT,
    KEY_DTYPE,
    MAX_SEGMENT_CHARS,
    POSITION_BITS,
    SEGMENT_SPAN,
    fetch_all,
)
from transcripts.query import Filters, key_ranges

EPISODE_SHIFT = np.uint64(32)
SEGMENT_SHIFT = np.uint64(POSITION_BITS)
ORDINAL_SHIFT = np.uint64(20)  # SEGMENT_SPAN = 2**20
_POSITION_MASK = np.uint64(MAX_SEGMENT_CHARS - 1)
_ALL_EPISODES = [(0, EPISODE_LIMIT)]
_FIRST_ROWS = 4


def term_tokens(term: str) -> list[str]:
    """The tokens whose statistics describe ``term``: itself, or every bigram of it."""
    if len(term) <= 2:
        return [term]
    return list(dict.fromkeys(term[i : i + 2] for i in range(len(term) - 1)))


def _cover(term: str) -> list[tuple[str, int]]:
    """(bigram, offset) pairs whose joint occurrence at p + offset means ``term`` at p."""
    if len(term) <= 2:
        return [(term, 0)]
    offsets = list(range(0, len(term) - 1, 2))
    if offsets[-1] != len(term) - 2:
        offsets.append(len(term) - 2)
    return [(term[i : i + 2], i) for i in offsets]


@dataclass
class Plan:
    """The terms, their tokens' statistics, and the episode-key ranges to look in."""

    terms: list[str]
    stats: dict[str, tuple[int, int]]
    spans: list[tuple[int, int]]  # inclusive episode-key ranges, newest first
    restricted: bool
    empty: bool = False
    lists: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def simple(self) -> bool:
        """A single term that is one token: answers come from one posting list as stored."""
        return len(self.terms) == 1 and len(self.terms[0]) <= 2


def make_plan(session: Session, terms: list[str], filters: Filters | None) -> Plan:
    conn = session.connection()
    tokens = list(dict.fromkeys(t for term in terms for t in term_tokens(term)))
    # Straight through the driver: SQLAlchemy's expanding IN costs more than the lookup.
    names = ", ".join(f":t{i}" for i in range(len(tokens)))
    stats = {
        row[0]: (row[1], row[2])
        for row in fetch_all(
            conn,
            f"SELECT token, segments, episodes FROM search_token WHERE token IN ({names})",
            {f"t{i}": token for i, token in enumerate(tokens)},
        )
    }
    ranges = key_ranges(session, filters or Filters())
    spans = (
        _ALL_EPISODES
        if ranges is None
        else [(lo // SEGMENT_SPAN, hi // SEGMENT_SPAN) for lo, hi in ranges]
    )
    empty = ranges == [] or any(stats.get(t, (0, 0))[0] <= 0 for t in tokens)
    return Plan(terms, stats, spans, ranges is not None, empty)


_ROWS_SQL = (
    "SELECT episode_key, keys FROM search_posting "
    "WHERE token = :token AND episode_key BETWEEN :lo AND :hi ORDER BY episode_key"
)


# Episode keys are integers from the index itself, so they are written into the statement.
_SOME_ROWS_SQL = (
    "SELECT episode_key, keys FROM search_posting "
    "WHERE token = :token AND episode_key IN ({}) ORDER BY episode_key"
)
_SPARSE = 4
"""Read a token's rows one by one when candidates sit in under 1/4 of its episodes."""
_IN_CHUNK = 500


def join_rows(rows: list[tuple[int, bytes]]) -> np.ndarray:
    """Rows (episode_key, keys blob) in key order → one sorted uint64 array of global keys."""
    if not rows:
        return np.zeros(0, dtype=np.uint64)
    blobs = [row[1] for row in rows]
    keys = np.frombuffer(b"".join(blobs), dtype=KEY_DTYPE)
    sizes = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs)) // KEY_DTYPE.itemsize
    episodes = np.fromiter((row[0] for row in rows), dtype=np.uint64, count=len(rows))
    joined = np.repeat(episodes << EPISODE_SHIFT, sizes)
    joined |= keys
    return joined


def _episodes(keys: np.ndarray) -> np.ndarray:
    """The distinct episode keys of sorted global keys."""
    episodes = keys >> EPISODE_SHIFT
    if len(episodes) < 2:
        return episodes
    return episodes[np.append(True, episodes[1:] != episodes[:-1])]


def _occurrences(
    conn: sa.Connection, plan: Plan, token: str, near: np.ndarray | None = None
) -> np.ndarray:
    """Occurrences of ``token`` in the plan's episodes, as global keys, ascending.

    With ``near`` (sorted global keys of candidates) only the candidates' episodes need be
    covered: when they are few next to the token's, their rows are read one by one
    instead of the whole list.
    """
    if token in plan.lists:
        return plan.lists[token]
    if near is not None:
        episodes = _episodes(near)
        if len(episodes) * _SPARSE < plan.stats[token][1]:
            rows: list[tuple[int, bytes]] = []
            for start in range(0, len(episodes), _IN_CHUNK):
                listed = ",".join(map(str, episodes[start : start + _IN_CHUNK].tolist()))
                rows += fetch_all(conn, _SOME_ROWS_SQL.format(listed), {"token": token})
            return join_rows(rows)
    rows = []
    for lo, hi in plan.spans:
        rows += fetch_all(conn, _ROWS_SQL, {"token": token, "lo": lo, "hi": hi})
    plan.lists[token] = join_rows(rows)
    return plan.lists[token]


def contains(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """Which of ``needles`` are in the sorted ``haystack``."""
    if not len(haystack):
        return np.zeros(len(needles), dtype=bool)
    at = np.searchsorted(haystack, needles)
    np.minimum(at, len(haystack) - 1, out=at)
    return haystack[at] == needles


def term_starts(
    conn: sa.Connection, plan: Plan, term: str, near: np.ndarray | None = None
) -> np.ndarray:
    """Global keys of the positions where ``term`` starts, ascending.

    Every one of them, or with ``near`` (sorted global keys) at least those in its episodes.
    """
    cover = _cover(term)
    if len(cover) == 1:
        return _occurrences(conn, plan, term, near)
    # Start from the rarest bigram; each other one is looked up at its offset.
    cover.sort(key=lambda pair: plan.stats[pair[0]][0])
    token, offset = cover[0]
    found = _occurrences(conn, plan, token, near)
    position = found & _POSITION_MASK
    # A start at p needs p ≥ 0 and the whole term inside the segment's 2**12 positions, so
    # the additions below never carry into the ordinal.
    keep = (position >= np.uint64(offset)) & (
        position - np.uint64(offset) + np.uint64(len(term)) <= np.uint64(MAX_SEGMENT_CHARS)
    )
    starts = found[keep] - np.uint64(offset)
    for token, offset in cover[1:]:
        if not len(starts):
            break
        shifted = starts + np.uint64(offset)
        starts = starts[contains(_occurrences(conn, plan, token, shifted), shifted)]
    return starts


def distinct_segments(starts: np.ndarray) -> np.ndarray:
    """Distinct segments (episode_key << 20 | ordinal) of sorted global keys."""
    segments = starts >> SEGMENT_SHIFT
    if len(segments) < 2:
        return segments
    first = np.empty(len(segments), dtype=bool)
    first[0] = True
    np.not_equal(segments[1:], segments[:-1], out=first[1:])
    return segments[first]


def _within(starts: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Which of the sorted ``segments`` hold one of the sorted ``starts``."""
    if not len(starts):
        return np.zeros(len(segments), dtype=bool)
    at = np.searchsorted(starts, segments << SEGMENT_SHIFT)
    np.minimum(at, len(starts) - 1, out=at)
    return (starts[at] >> SEGMENT_SHIFT) == segments


def matching(conn: sa.Connection, plan: Plan) -> np.ndarray:
    """Every matching segment, ascending (newest episode first, then time order)."""
    order = sorted(plan.terms, key=lambda t: min(plan.stats[k][0] for k in term_tokens(t)))
    found = distinct_segments(term_starts(conn, plan, order[0]))
    for term in order[1:]:
        if not len(found):
            break
        found = found[_within(term_starts(conn, plan, term, found << SEGMENT_SHIFT), found)]
    return found


def episode_counts(segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(episode keys ascending, matching segments in each) of sorted segment keys."""
    return np.unique(segments >> ORDINAL_SHIFT, return_counts=True)


def episode_total(segments: np.ndarray) -> int:
    """How many episodes sorted segment keys fall in."""
    episodes = segments >> ORDINAL_SHIFT
    return int(np.count_nonzero(episodes[1:] != episodes[:-1])) + 1 if len(episodes) else 0


def simple_totals(conn: sa.Connection, plan: Plan) -> tuple[int, int]:
    """(segments, episodes) of a single-token query, without reading any keys."""
    if not plan.restricted:
        return plan.stats[plan.terms[0]]
    matches = episodes = 0
    for lo, hi in plan.spans:
        found, count = fetch_all(
            conn,
            "SELECT COALESCE(SUM(segments), 0), COUNT(*) FROM search_posting "
            "WHERE token = :token AND episode_key BETWEEN :lo AND :hi",
            {"token": plan.terms[0], "lo": lo, "hi": hi},
        )[0]
        matches, episodes = matches + int(found), episodes + int(count)
    return matches, episodes


def simple_first(conn: sa.Connection, plan: Plan, limit: int) -> np.ndarray:
    """The first ``limit`` segments of a single-token query, reading rows newest first."""
    found: list[np.ndarray] = []
    wanted = limit
    sql = _ROWS_SQL + " LIMIT :rows"
    for lo, hi in plan.spans:
        rows_wanted = _FIRST_ROWS
        while wanted > 0 and lo <= hi:
            rows = fetch_all(
                conn, sql, {"token": plan.terms[0], "lo": lo, "hi": hi, "rows": rows_wanted}
            )
            segments = distinct_segments(join_rows(rows))[:wanted]
            found.append(segments)
            wanted -= len(segments)
            if len(rows) < rows_wanted:
                break
            lo, rows_wanted = rows[-1][0] + 1, rows_wanted * 8
        if wanted <= 0:
            break
    return np.concatenate(found) if found else np.zeros(0, dtype=np.uint64)
