"""Transcript search: exact substring matches, newest first, by episode, or ranked (BM25).

A segment matches when its normalised text contains every normalised term. Each term
needs index tokens: a term of one or two characters is itself a token (its posting list is
the exact answer); a longer term needs all of its bigrams, and the candidates those give
are checked against the text. The rarest token drives: its posting list is walked in key
order (newest episode first, then time), the others are probed by primary key.

The default listing stops after ``limit`` verified hits: it never scores or sorts the
matches. Totals for a single one- or two-character term come from the token statistics;
other totals count the driver's list, index-only where no text needs checking.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from sqlmodel import Session, select

from hotline.models import Episode, UTCDateTime
from transcripts.index import EPISODE_LIMIT, SEGMENT_SPAN, fetch_all, number_of_key
from transcripts.query import Filters, key_ranges, parse_query
from transcripts.snippets import display_form, make_snippet

FULL_RANGE = (0, EPISODE_LIMIT * SEGMENT_SPAN)
BM25_K1 = 1.2
BM25_B = 0.75
_FIRST_BATCH = 64


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


@dataclass
class _Plan:
    """How to answer the terms from the index."""

    terms: list[str]
    driver: str
    probes: list[str]
    verify: bool  # some term is longer than a token: candidates' text must be checked
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)
    empty: bool = False

    def accepts(self, text_norm: str) -> bool:
        return all(term in text_norm for term in self.terms)


def _term_tokens(term: str) -> list[str]:
    if len(term) <= 2:
        return [term]
    return list(dict.fromkeys(term[i : i + 2] for i in range(len(term) - 1)))


def _plan(conn: sa.Connection, terms: list[str]) -> _Plan:
    tokens = list(dict.fromkeys(t for term in terms for t in _term_tokens(term)))
    query = sa.text(
        "SELECT token, segments, episodes FROM search_token WHERE token IN :tokens"
    ).bindparams(sa.bindparam("tokens", expanding=True))
    stats = {row[0]: (row[1], row[2]) for row in conn.execute(query, {"tokens": tokens})}
    verify = any(len(term) > 2 for term in terms)
    if any(stats.get(t, (0, 0))[0] <= 0 for t in tokens):
        return _Plan(terms, tokens[0], [], verify, stats, empty=True)
    ordered = sorted(tokens, key=lambda t: stats[t][0])
    return _Plan(terms, ordered[0], ordered[1:], verify, stats)


def _candidates_sql(plan: _Plan, *, text: bool, count: str | None = None) -> sa.TextClause:
    """The driver's postings in a key range that every other token also has."""
    return _statement(len(plan.probes), text, count, False)


@cache
def _statement(probe_count: int, text: bool, count: str | None, limited: bool) -> sa.TextClause:
    """Statements by shape, built once (SQLAlchemy then reuses their compiled form)."""
    return sa.text(_statement_sql(probe_count, text, count, limited))


@cache
def _statement_sql(probe_count: int, text: bool, count: str | None, limited: bool) -> str:
    probes = " ".join(
        f"AND EXISTS (SELECT 1 FROM search_posting q{i} WHERE q{i}.token = :probe{i} "
        f"AND q{i}.sort_key = p.sort_key AND q{i}.segment_id = p.segment_id)"
        for i in range(probe_count)
    )
    join = "JOIN segment s ON s.id = p.segment_id" if text else ""
    if count == "total":
        columns = "COUNT(*), COUNT(DISTINCT p.sort_key / :span)"
    elif count == "episodes":
        columns = "p.sort_key / :span AS ek, COUNT(*)"
    else:
        columns = "p.sort_key, p.segment_id" + (", s.text_norm" if text else "")
    sql = (
        f"SELECT {columns} FROM search_posting p {join} "
        f"WHERE p.token = :driver AND p.sort_key BETWEEN :lo AND :hi {probes}"
    )
    if count == "episodes":
        sql += " GROUP BY ek ORDER BY ek"
    elif count is None:
        sql += " ORDER BY p.sort_key"
    if limited:
        sql += " LIMIT :batch"
    return sql


def _params(plan: _Plan, lo: int, hi: int) -> dict[str, object]:
    params: dict[str, object] = {"driver": plan.driver, "lo": lo, "hi": hi, "span": SEGMENT_SPAN}
    params.update({f"probe{i}": token for i, token in enumerate(plan.probes)})
    return params


def _walk(
    conn: sa.Connection, plan: _Plan, ranges: list[tuple[int, int]], *, text: bool
) -> Iterator[tuple[int, int, str]]:
    """Every candidate (sort_key, segment_id, text_norm or "") in key order, in batches."""
    limited = _statement_sql(len(plan.probes), text, None, True)
    for lo, hi in ranges:
        after, batch = lo, _FIRST_BATCH
        while after <= hi:
            rows = fetch_all(conn, limited, {**_params(plan, after, hi), "batch": batch})
            for row in rows:
                yield row[0], row[1], row[2] if text else ""
            if len(rows) < batch:
                break
            after = rows[-1][0] + 1
            batch = min(batch * 4, 16384)


def _matches(
    conn: sa.Connection, plan: _Plan, ranges: list[tuple[int, int]]
) -> Iterator[tuple[int, int, str]]:
    for key, segment_id, text_norm in _walk(conn, plan, ranges, text=plan.verify):
        if not plan.verify or plan.accepts(text_norm):
            yield key, segment_id, text_norm


def _totals(
    conn: sa.Connection, plan: _Plan, ranges: list[tuple[int, int]] | None
) -> tuple[int, int]:
    """(matching segments, episodes with a match)."""
    if ranges is None and len(plan.terms) == 1 and not plan.verify:
        return plan.stats[plan.driver]
    spans = ranges if ranges is not None else [FULL_RANGE]
    if not plan.verify:
        sql = _candidates_sql(plan, text=False, count="total")
        matches = episodes = 0
        for lo, hi in spans:
            found, eps = conn.execute(sql, _params(plan, lo, hi)).one()
            matches, episodes = matches + found, episodes + eps
        return matches, episodes
    return _count_verified(conn, plan, spans)


def _count_verified(
    conn: sa.Connection, plan: _Plan, spans: list[tuple[int, int]]
) -> tuple[int, int]:
    matches = 0
    episodes: set[int] = set()
    for key, _, _ in _matches(conn, plan, spans):
        matches += 1
        episodes.add(key // SEGMENT_SPAN)
    return matches, len(episodes)


_HIT_SQL = (
    sa.text(
        'SELECT s.id, s.start, s."end", s.text, s.text_norm, e.number, e.title, e.air_start '
        "FROM segment s JOIN episode e ON e.id = s.episode_id WHERE s.id IN :ids"
    )
    .bindparams(sa.bindparam("ids", expanding=True))
    .columns(air_start=UTCDateTime())
)


def _hits(session: Session, plan: _Plan, chosen: list[tuple[int, float | None]]) -> list[Hit]:
    """Load the chosen segments (id, score) with their episodes, in the order given."""
    if not chosen:
        return []
    ids = [segment_id for segment_id, _ in chosen]
    rows = session.connection().execute(_HIT_SQL, {"ids": ids}).all()
    by_id = {row[0]: row for row in rows}
    hits = []
    for segment_id, score in chosen:
        if segment_id not in by_id:
            continue  # a posting whose segment vanished behind the index's back
        _, start, end, text, text_norm, number, title, air_start = by_id[segment_id]
        snippet, highlights = make_snippet(text_norm, text, plan.terms)
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
                score=score,
                segment_id=segment_id,
                rewritten=display_form(text_norm, text) != text,
            )
        )
    return hits


def _bm25(plan: _Plan, conn: sa.Connection) -> tuple[dict[str, float], float]:
    """idf of each term from the token statistics, and the average segment length."""
    segments, chars = conn.execute(
        sa.text("SELECT COALESCE(SUM(segments), 0), COALESCE(SUM(chars), 0) FROM search_episode")
    ).one()
    total = max(int(segments), 1)
    idf = {}
    for term in plan.terms:
        # A longer term occurs in at most as many segments as its rarest bigram.
        df = min(plan.stats[token][0] for token in _term_tokens(term))
        idf[term] = math.log(1 + (total - df + 0.5) / (df + 0.5))
    return idf, max(int(chars) / total, 1.0)


def _ranked(
    conn: sa.Connection, plan: _Plan, ranges: list[tuple[int, int]], limit: int
) -> tuple[list[tuple[int, float | None]], int, int]:
    """Top ``limit`` by BM25 over the candidates only, with the totals seen on the way."""
    idf, average = _bm25(plan, conn)
    top: list[tuple[float, int, int]] = []  # (score, -sort_key, segment_id) min-heap
    matches = 0
    episodes: set[int] = set()
    for key, segment_id, text_norm in _walk(conn, plan, ranges, text=True):
        if not plan.accepts(text_norm):
            continue
        matches += 1
        episodes.add(key // SEGMENT_SPAN)
        norm = 1 - BM25_B + BM25_B * len(text_norm) / average
        score = 0.0
        for term in plan.terms:
            tf = text_norm.count(term)
            score += idf[term] * tf * (BM25_K1 + 1) / (tf + BM25_K1 * norm)
        item = (score, -key, segment_id)
        if limit <= 0:
            continue
        if len(top) < limit:
            heapq.heappush(top, item)
        elif item > top[0]:
            heapq.heapreplace(top, item)
    best = sorted(top, reverse=True)
    return [(segment_id, round(score, 4)) for score, _, segment_id in best], matches, len(episodes)


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
    conn = session.connection()
    plan = _plan(conn, terms)
    order = "rank" if rank else "newest"
    ranges = key_ranges(session, filters or Filters())
    if plan.empty or ranges == []:
        return SearchResult(query, terms, order, [], 0, 0)
    spans = ranges if ranges is not None else [FULL_RANGE]
    limit = max(limit, 0)
    if rank:
        chosen, matches, episodes = _ranked(conn, plan, spans, limit)
        return SearchResult(query, terms, order, _hits(session, plan, chosen), matches, episodes)
    found: list[tuple[int, float | None]] = []
    seen_episodes: set[int] = set()
    exhausted = True
    for key, segment_id, _ in _matches(conn, plan, spans):
        if len(found) == limit:
            exhausted = False
            break
        found.append((segment_id, None))
        seen_episodes.add(key // SEGMENT_SPAN)
    if exhausted:  # the walk saw every match: the totals are already known
        matches, episodes = len(found), len(seen_episodes)
    else:
        matches, episodes = _totals(conn, plan, ranges)
    return SearchResult(query, terms, order, _hits(session, plan, found), matches, episodes)


def search_by_episode(
    *,
    session: Session,
    query: str,
    filters: Filters | None = None,
    limit: int | None = None,
) -> EpisodeResult:
    """Episodes with their number of matching segments, newest first."""
    terms = parse_query(query)
    conn = session.connection()
    plan = _plan(conn, terms)
    ranges = key_ranges(session, filters or Filters())
    if plan.empty or ranges == []:
        return EpisodeResult(query, terms, [], 0, 0)
    spans = ranges if ranges is not None else [FULL_RANGE]
    counts: Counter[int] = Counter()
    if plan.verify:
        for key, _, _ in _matches(conn, plan, spans):
            counts[key // SEGMENT_SPAN] += 1
    else:
        sql = _candidates_sql(plan, text=False, count="episodes")
        for lo, hi in spans:
            for episode_key, found in conn.execute(sql, _params(plan, lo, hi)):
                counts[episode_key] += found
    numbers = [number_of_key(k * SEGMENT_SPAN) for k in sorted(counts)]
    shown = numbers if limit is None else numbers[: max(limit, 0)]
    info = {
        row[0]: row
        for row in session.exec(
            select(Episode.number, Episode.title, Episode.air_start).where(
                Episode.number.in_(shown)
            )
        ).all()
    }
    rows = [
        EpisodeMatches(n, info[n][1], info[n][2], counts[EPISODE_LIMIT - n])
        for n in shown
        if n in info
    ]
    return EpisodeResult(query, terms, rows, sum(counts.values()), len(counts))
