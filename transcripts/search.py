"""Transcript search: exact substring matches, newest first, by episode, or ranked (BM25).

A segment matches when its normalised text contains every normalised term;
transcripts.matching finds the matching segments from the positional postings alone. The
default listing is the first ``limit`` of them (they come newest episode first, then in
time order). A single one- or two-character term never needs every row: its totals come
from row counts and its listing reads rows newest first until it has ``limit`` segments (a
character found in most segments costs one row). BM25 scores every match, from term
frequencies counted on the same arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from hotline.models import Episode, UTCDateTime
from transcripts.index import EPISODE_LIMIT, ID_DTYPE, LENGTH_DTYPE, SEGMENT_SPAN, fetch_all
from transcripts.matching import (
    ORDINAL_SHIFT,
    SEGMENT_SHIFT,
    Plan,
    episode_counts,
    episode_total,
    make_plan,
    matching,
    simple_first,
    simple_totals,
    term_starts,
    term_tokens,
)
from transcripts.query import Filters, parse_query
from transcripts.snippets import display_form, make_snippet, match_spans
from transcripts.term_sets import counts_of, first_of, matching_set
from transcripts.words import decode, time_at

BM25_K1 = 1.2
BM25_B = 0.75


@dataclass
class Hit:
    """One matching segment, ready to show."""

    episode: int
    title: str
    air_start: datetime
    start: float
    end: float
    text: str
    snippet: str
    highlights: list[tuple[int, int]]
    score: float | None = None
    segment_id: int = 0
    rewritten: bool = False
    """The text as heard differs from the shown (normalised) form, e.g. traditional script."""
    at: float | None = None
    """When the first match was said (the start of its word); None without word timings."""

    @property
    def landing(self) -> float:
        """Where to jump to: the matched word when known, else the segment's start."""
        return self.start if self.at is None else self.at


@dataclass
class SearchResult:
    query: str
    terms: list[str]
    order: str  # "newest" or "rank"
    hits: list[Hit]
    matches: int
    episodes: int


@dataclass
class EpisodeMatches:
    episode: int
    title: str
    air_start: datetime
    matches: int


@dataclass
class EpisodeResult:
    query: str
    terms: list[str]
    rows: list[EpisodeMatches]
    matches: int
    episodes: int


_HIT_SQL = (
    sa.text(
        'SELECT s.id, s.start, s."end", s.text, s.text_norm, e.number, e.title, e.air_start, '
        "s.words FROM segment s JOIN episode e ON e.id = s.episode_id WHERE s.id IN :ids"
    )
    .bindparams(sa.bindparam("ids", expanding=True))
    .columns(air_start=UTCDateTime())
)


def _segment_ids(conn: sa.Connection, segments: np.ndarray) -> list[int]:
    """Segment ids of segment keys (episode_key << 20 | ordinal), in the order given."""
    if not len(segments):
        return []
    keys = (segments >> ORDINAL_SHIFT).tolist()
    # Episode numbers from the index itself, written into the statement (a page of hits
    # comes from a few episodes; SQLAlchemy's expanding IN would cost more than the read).
    numbers = ",".join(str(EPISODE_LIMIT - key) for key in sorted(set(keys)))
    ids = {
        EPISODE_LIMIT - number: np.frombuffer(blob, dtype=ID_DTYPE)
        for number, blob in fetch_all(
            conn, f"SELECT number, segment_ids FROM search_episode WHERE number IN ({numbers})", {}
        )
    }
    ordinals = (segments & np.uint64(SEGMENT_SPAN - 1)).tolist()
    return [int(ids[key][ordinal]) for key, ordinal in zip(keys, ordinals, strict=True)]


def _hits(
    session: Session, terms: list[str], segments: np.ndarray, scores: list[float] | None = None
) -> list[Hit]:
    """Load the chosen segments with their episodes, in the order given."""
    conn = session.connection()
    chosen = _segment_ids(conn, segments)
    if not chosen:
        return []
    rows = conn.execute(_HIT_SQL, {"ids": chosen}).all()
    by_id = {row[0]: row for row in rows}
    hits = []
    for i, segment_id in enumerate(chosen):
        if segment_id not in by_id:
            continue  # a posting whose segment vanished behind the index's back
        _, start, end, text, text_norm, number, title, air_start, words = by_id[segment_id]
        shown = display_form(text_norm, text)
        snippet, highlights = make_snippet(text_norm, text, terms, shown=shown)
        spans = match_spans(text_norm, terms) if words else []
        timed = decode(words, text=text, segment_start=start) if spans else []
        at = time_at(timed, spans[0][0], length=len(text_norm)) if timed else None
        hits.append(
            Hit(
                episode=number,
                title=title,
                air_start=air_start,
                start=start,
                end=end,
                text=text,
                snippet=snippet,
                highlights=highlights,
                score=None if scores is None else scores[i],
                segment_id=segment_id,
                rewritten=shown != text,
                at=at,
            )
        )
    return hits


def _bm25_constants(conn: sa.Connection, plan: Plan) -> tuple[dict[str, float], float]:
    """idf of each term from the token statistics, and the average segment length."""
    segments, chars = conn.execute(
        sa.text("SELECT COALESCE(SUM(segments), 0), COALESCE(SUM(chars), 0) FROM search_episode")
    ).one()
    total = max(int(segments), 1)
    idf = {}
    for term in plan.terms:
        # A longer term occurs in at most as many segments as its rarest bigram.
        df = min(plan.stats[token][0] for token in term_tokens(term))
        idf[term] = math.log(1 + (total - df + 0.5) / (df + 0.5))
    return idf, max(int(chars) / total, 1.0)


def _counts(starts: np.ndarray, term: str) -> tuple[np.ndarray, np.ndarray]:
    """(segments, non-overlapping occurrences of ``term`` in each), like ``str.count``."""
    segments = starts >> SEGMENT_SHIFT
    keep = np.ones(len(starts), dtype=bool)
    # Occurrences closer than the term's length overlap (养养养 holds 养养 once for
    # str.count): drop them greedily, left to right, as str.count does. Rare, so a loop.
    close = np.flatnonzero(
        (np.diff(starts) < np.uint64(len(term))) & (segments[1:] == segments[:-1])
    )
    for i in close.tolist():
        # j overlaps the last occurrence kept before it (i, or the one i overlapped).
        j, k = i + 1, i
        while not keep[k]:
            k -= 1
        if int(starts[j] - starts[k]) < len(term):
            keep[j] = False
    return np.unique(segments[keep], return_counts=True)


def _lengths(conn: sa.Connection, segments: np.ndarray) -> np.ndarray:
    """The normalised length of each of ``segments`` (segment keys)."""
    episodes, first = np.unique(segments >> ORDINAL_SHIFT, return_index=True)
    query = sa.text(
        "SELECT number, lengths FROM search_episode WHERE number IN :numbers"
    ).bindparams(sa.bindparam("numbers", expanding=True))
    numbers = [EPISODE_LIMIT - int(key) for key in episodes.tolist()]
    blobs = {number: blob for number, blob in conn.execute(query, {"numbers": numbers})}
    lengths = [np.frombuffer(blobs[number], dtype=LENGTH_DTYPE) for number in numbers]
    offsets = np.cumsum([0] + [len(part) for part in lengths[:-1]]).astype(np.uint64)
    episode_index = np.repeat(np.arange(len(episodes)), np.diff(np.append(first, len(segments))))
    ordinals = segments & np.uint64(SEGMENT_SPAN - 1)
    return np.concatenate(lengths)[offsets[episode_index] + ordinals].astype(np.float64)


def _ranked(
    conn: sa.Connection, plan: Plan, limit: int
) -> tuple[np.ndarray, list[float], int, int]:
    """Top ``limit`` by BM25 over every match, with the totals."""
    found = matching(conn, plan)
    episodes = episode_total(found)
    if limit <= 0 or not len(found):
        return found[:0], [], len(found), episodes
    idf, average = _bm25_constants(conn, plan)
    norm = 1 - BM25_B + BM25_B * _lengths(conn, found) / average
    score = np.zeros(len(found), dtype=np.float64)
    for term in plan.terms:
        near = found << SEGMENT_SHIFT
        segments, counts = _counts(term_starts(conn, plan, term, near), term)
        tf = counts[np.searchsorted(segments, found)].astype(np.float64)
        score = score + idf[term] * tf * (BM25_K1 + 1) / (tf + BM25_K1 * norm)
    # Best score first; equal scores newest first, then in time order.
    if len(found) > limit:
        floor = np.partition(score, len(score) - limit)[len(score) - limit]
        contenders = np.flatnonzero(score >= floor)
    else:
        contenders = np.arange(len(found))
    order = contenders[np.lexsort((found[contenders], -score[contenders]))][:limit]
    scores = [round(float(s), 4) for s in score[order].tolist()]
    return found[order], scores, len(found), episodes


def search(
    *,
    session: Session,
    query: str,
    filters: Filters | None = None,
    limit: int = 20,
    rank: bool = False,
) -> SearchResult:
    """Segments matching ``query``: newest episode first (default) or by relevance."""
    terms = parse_query(query)
    plan = make_plan(session, terms, filters)
    order = "rank" if rank else "newest"
    if plan.empty:
        return SearchResult(query, terms, order, [], 0, 0)
    conn = session.connection()
    limit = max(limit, 0)
    if rank:
        chosen, scores, matches, episodes = _ranked(conn, plan, limit)
        hits = _hits(session, terms, chosen, scores)
        return SearchResult(query, terms, order, hits, matches, episodes)
    if plan.simple:
        first = simple_first(conn, plan, limit) if limit else np.zeros(0, dtype=np.uint64)
        matches, episodes = simple_totals(conn, plan)
    elif len(terms) > 1:
        found_set = matching_set(conn, plan)
        first = first_of(found_set, limit)
        counts = counts_of(found_set)[1]
        matches, episodes = int(counts.sum()), len(counts)
    else:
        found = matching(conn, plan)
        first = found[:limit]
        matches, episodes = len(found), episode_total(found)
    return SearchResult(query, terms, order, _hits(session, terms, first), matches, episodes)


def search_by_episode(
    *,
    session: Session,
    query: str,
    filters: Filters | None = None,
    limit: int | None = None,
) -> EpisodeResult:
    """Episodes with their number of matching segments, newest first."""
    terms = parse_query(query)
    plan = make_plan(session, terms, filters)
    if plan.empty:
        return EpisodeResult(query, terms, [], 0, 0)
    conn = session.connection()
    if plan.simple:
        rows = []
        for lo, hi in plan.spans:
            rows += fetch_all(
                conn,
                "SELECT episode_key, segments FROM search_posting "
                "WHERE token = :token AND episode_key BETWEEN :lo AND :hi ORDER BY episode_key",
                {"token": terms[0], "lo": lo, "hi": hi},
            )
        counts = {int(key): int(found) for key, found in rows}
    elif len(terms) > 1:
        keys, found = counts_of(matching_set(conn, plan))
        counts = dict(zip(keys.tolist(), found.tolist(), strict=True))
    else:
        keys, found = episode_counts(matching(conn, plan))
        counts = dict(zip(keys.tolist(), found.tolist(), strict=True))
    numbers = [EPISODE_LIMIT - key for key in sorted(counts)]
    shown = numbers if limit is None else numbers[: max(limit, 0)]
    info = {
        row[0]: row
        for row in session.exec(
            select(Episode.number, Episode.title, Episode.air_start).where(
                Episode.number.in_(shown)
            )
        ).all()
    }
    rows_out = [
        EpisodeMatches(n, info[n][1], info[n][2], counts[EPISODE_LIMIT - n])
        for n in shown
        if n in info
    ]
    return EpisodeResult(query, terms, rows_out, sum(counts.values()), len(counts))
