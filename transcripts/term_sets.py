"""The segments matching a query of several terms, as per-episode bitmaps (transcripts.bitmaps).

Several terms match the segments that all of them match, so only which segments hold each
term matters, not where: a term of one or two characters (a token) reads its stored
bitmaps and, for the episodes where it has none, its postings; a longer term is located
by its positions (transcripts.matching) first. The sets are intersected rarest term first,
and a later term reads only the episodes still in play when they are few. The default
listing takes its first page and its totals from the one intersection, so two common words
(我们 这个) cost a few hundred kilobytes of bitmaps instead of their every position.
"""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa

from transcripts import bitmaps
from transcripts.bitmaps import SegmentSet
from transcripts.index import fetch_all
from transcripts.matching import (
    EPISODE_SHIFT,
    Plan,
    contains,
    distinct_segments,
    join_rows,
    term_starts,
    term_tokens,
)

_SPARSE = 4
"""Read a token's rows episode by episode when the episodes in play are under 1/4 of its."""
_IN_CHUNK = 500
_BITMAPS_SQL = (
    "SELECT episode_key, bits FROM search_bitmap "
    "WHERE token = :token AND {where} ORDER BY episode_key"
)
_BITMAP_SIZE_SQL = (
    "SELECT COUNT(*), COALESCE(SUM(LENGTH(bits)), 0) FROM search_bitmap WHERE token = :token"
)
_ALL_POSTINGS_SQL = (
    "SELECT p.episode_key, p.keys FROM search_posting p "
    "WHERE p.token = :token AND {where} ORDER BY p.episode_key"
)
# The postings of the episodes where the token has no bitmap.
_OTHER_POSTINGS_SQL = (
    "SELECT p.episode_key, p.keys FROM search_posting p "
    "WHERE p.token = :token AND {where} AND NOT EXISTS ("
    "SELECT 1 FROM search_bitmap b WHERE b.token = p.token AND b.episode_key = p.episode_key"
    ") ORDER BY p.episode_key"
)


def _scopes(
    plan: Plan, column: str, episodes: np.ndarray | None
) -> list[tuple[str, dict[str, int]]]:
    """Conditions on ``column`` (an episode key) with their parameters: the plan's spans,
    or with ``episodes`` just those, one by one."""
    if episodes is None:
        return [(f"{column} BETWEEN :lo AND :hi", {"lo": lo, "hi": hi}) for lo, hi in plan.spans]
    # Episode keys come from the index itself, so they are written into the statement.
    return [
        (f"{column} IN ({','.join(map(str, episodes[i : i + _IN_CHUNK].tolist()))})", {})
        for i in range(0, len(episodes), _IN_CHUNK)
    ]


Found = SegmentSet | np.ndarray
"""Segments as bitmaps, or as sorted segment keys (the cheaper form for a few of them)."""


def _postings(
    conn: sa.Connection, plan: Plan, sql: str, token: str, episodes: np.ndarray | None
) -> np.ndarray:
    rows: list[tuple[int, bytes]] = []
    for where, params in _scopes(plan, "p.episode_key", episodes):
        rows += fetch_all(conn, sql.format(where=where), {"token": token, **params})
    return distinct_segments(join_rows(rows))


def _combined(found: SegmentSet, rest: np.ndarray) -> Found:
    """Bitmaps of some episodes and segment keys of others, as one."""
    if not len(found.episodes):
        return rest
    if not len(rest):
        return found
    return bitmaps.union(found, bitmaps.from_segments(rest))


def _bitmap_rows(
    conn: sa.Connection, plan: Plan, token: str, episodes: np.ndarray | None
) -> list[tuple[int, bytes]]:
    rows: list[tuple[int, bytes]] = []
    for where, params in _scopes(plan, "episode_key", episodes):
        rows += fetch_all(conn, _BITMAPS_SQL.format(where=where), {"token": token, **params})
    return rows


def _positions_cheaper(segments: int, episodes: int, bitmaps: int, size: int) -> bool:
    """Whether reading all a token's positions costs less than its ``bitmaps`` (of ``size``
    bytes in all) and the postings of the episodes without one.

    So when bitmaps cover few of its episodes, or when its positions take no more than
    about four times the bytes of its bitmaps (a token in a few percent of segments).
    """
    return bitmaps < episodes and (bitmaps * 2 < episodes or segments <= size)


def _token_set(conn: sa.Connection, plan: Plan, token: str, near: np.ndarray | None) -> Found:
    """The segments holding ``token`` in the plan's episodes, or at least in ``near``'s.

    From its stored bitmaps, and its postings where it has none.
    """
    segments, episodes = plan.stats[token]
    if near is not None and len(near) * _SPARSE < episodes:
        # Few episodes in play: their bitmaps, and the postings of the others among them.
        found = bitmaps.from_rows(_bitmap_rows(conn, plan, token, near))
        missing = np.setdiff1d(near, found.episodes, assume_unique=True)
        return _combined(found, _postings(conn, plan, _ALL_POSTINGS_SQL, token, missing))
    if not plan.restricted:
        count, size = fetch_all(conn, _BITMAP_SIZE_SQL, {"token": token})[0]
        if _positions_cheaper(segments, episodes, count, size):
            return _postings(conn, plan, _ALL_POSTINGS_SQL, token, None)
    stored = _bitmap_rows(conn, plan, token, None)
    found = bitmaps.from_rows(stored)
    if not plan.restricted and len(stored) == episodes:
        return found  # every episode holding the token has a bitmap
    if near is not None:
        missing = np.setdiff1d(near, found.episodes, assume_unique=True)
        rest = _postings(conn, plan, _ALL_POSTINGS_SQL, token, missing)
    else:
        rest = _postings(conn, plan, _OTHER_POSTINGS_SQL, token, None)
    return _combined(found, rest)


def _term_set(conn: sa.Connection, plan: Plan, term: str, near: np.ndarray | None) -> Found:
    if len(term) <= 2:
        return _token_set(conn, plan, term, near)
    candidates = None if near is None else near << EPISODE_SHIFT
    return distinct_segments(term_starts(conn, plan, term, candidates))


def _episodes(found: Found) -> np.ndarray:
    if isinstance(found, SegmentSet):
        return found.episodes
    return np.unique(found >> np.uint64(bitmaps.ORDINAL_BITS))


def _both(a: Found, b: Found) -> Found:
    """The segments in both; sorted keys stay keys, two sets of bitmaps are ANDed."""
    if isinstance(a, SegmentSet) and isinstance(b, SegmentSet):
        return bitmaps.intersect(a, b)
    keys, other = (b, a) if isinstance(a, SegmentSet) else (a, b)
    if isinstance(other, SegmentSet):
        return keys[bitmaps.contains(other, keys)]
    return keys[contains(other, keys)]


def matching_set(conn: sa.Connection, plan: Plan) -> Found:
    """Every segment matching all the plan's terms."""
    order = sorted(plan.terms, key=lambda t: min(plan.stats[k][0] for k in term_tokens(t)))
    found = _term_set(conn, plan, order[0], None)
    for term in order[1:]:
        near = _episodes(found)
        if not len(near):
            break
        found = _both(found, _term_set(conn, plan, term, near))
    return found


def first_of(found: Found, limit: int) -> np.ndarray:
    """The first ``limit`` matching segment keys (newest episode first, then in time)."""
    if isinstance(found, SegmentSet):
        return bitmaps.first_segments(found, limit)
    return found[: max(limit, 0)]


def counts_of(found: Found) -> tuple[np.ndarray, np.ndarray]:
    """(episode keys ascending, matching segments in each), episodes without any left out."""
    if isinstance(found, SegmentSet):
        counts = found.counts()
        kept = counts > 0
        return found.episodes[kept], counts[kept]
    return np.unique(found >> np.uint64(bitmaps.ORDINAL_BITS), return_counts=True)
