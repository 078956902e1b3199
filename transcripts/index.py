"""The search index's write side: postings and token statistics kept in step with segments.

Tokens are every single character and every overlapping character bigram of a segment's
normalised text (the approach of Lucene's CJK analyzer). A posting is (token, sort_key,
segment_id) with ``sort_key`` ordering segments newest episode first, then by time within
the episode, so a token's postings read in result order straight off the primary key.

Plain portable SQL (INSERT … ON CONFLICT works on SQLite ≥ 3.24 and PostgreSQL alike).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from hotline.errors import InvalidInput

SEGMENT_SPAN = 1 << 20
"""Room for segments in one episode's key range."""
EPISODE_LIMIT = 1 << 31
"""Episode numbers must stay below this (keys stay positive and ordered)."""
_CHUNK = 500

# Statements for bulk writes, with ``?`` for each parameter (see ``_executemany``).
_INSERT_POSTING = "INSERT INTO search_posting (token, sort_key, segment_id) VALUES (?, ?, ?)"
_DELETE_POSTINGS = "DELETE FROM search_posting WHERE token = ? AND sort_key BETWEEN ? AND ?"
_ADD_STATS = (
    "INSERT INTO search_token (token, segments, episodes) VALUES (?, ?, ?) "
    "ON CONFLICT (token) DO UPDATE SET segments = search_token.segments + excluded.segments, "
    "episodes = search_token.episodes + excluded.episodes"
)
_SUBTRACT_STATS = (
    "UPDATE search_token SET segments = segments - ?, episodes = episodes - ? WHERE token = ?"
)
_DROP_EMPTY_STATS = "DELETE FROM search_token WHERE token = ? AND segments <= 0"
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _executemany(conn: sa.Connection, statement: str, rows: Sequence[tuple[object, ...]]) -> None:
    """Run ``statement`` for every row through the driver's own ``executemany``.

    SQLAlchemy builds a parameter dictionary per row, which costs more than the insert
    itself for the tens of thousands of postings an episode has. The statement text stays
    portable: only the placeholder is spelled the way the driver wants it.
    """
    if not rows:
        return
    placeholder = _PLACEHOLDERS.get(conn.dialect.paramstyle)
    if placeholder is None:
        raise RuntimeError(f"unsupported DB-API paramstyle {conn.dialect.paramstyle!r}")
    cursor = conn.connection.driver_connection.cursor()  # same transaction as ``conn``
    try:
        cursor.executemany(statement.replace("?", placeholder), rows)
    finally:
        cursor.close()


_NAMED_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


def fetch_all(conn: sa.Connection, sql: str, params: dict[str, object]) -> list[tuple[Any, ...]]:
    """Rows of a ``:name``-parameter query, straight from the driver's cursor.

    For the long candidate walks, where SQLAlchemy's per-row result processing would cost
    more than the query. sqlite3 takes ``:name`` itself; pyformat drivers get ``%(name)s``.
    """
    style = conn.dialect.paramstyle
    if style == "pyformat":
        sql = _NAMED_PARAMETER.sub(r"%(\1)s", sql)
    elif conn.dialect.name != "sqlite":
        return [tuple(row) for row in conn.execute(sa.text(sql), params)]
    cursor = conn.connection.driver_connection.cursor()  # same transaction as ``conn``
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


def tokens_of(text_norm: str) -> set[str]:
    """Every character and every overlapping bigram of ``text_norm``."""
    tokens = set(text_norm)
    tokens.update(text_norm[i : i + 2] for i in range(len(text_norm) - 1))
    return tokens


def episode_key(number: int) -> int:
    """The high part of the sort keys of ``number``'s segments (smaller is newer)."""
    return EPISODE_LIMIT - number


def key_range(number: int) -> tuple[int, int]:
    """The inclusive range of sort keys that episode ``number``'s postings use."""
    base = episode_key(number) * SEGMENT_SPAN
    return base, base + SEGMENT_SPAN - 1


def number_of_key(sort_key: int) -> int:
    return EPISODE_LIMIT - sort_key // SEGMENT_SPAN


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _tokens_present(conn: sa.Connection, tokens: Sequence[str], lo: int, hi: int) -> set[str]:
    """Which of ``tokens`` already have postings in the key range ``lo``–``hi``."""
    query = sa.text(
        "SELECT DISTINCT token FROM search_posting "
        "WHERE token IN :tokens AND sort_key BETWEEN :lo AND :hi"
    ).bindparams(sa.bindparam("tokens", expanding=True))
    present: set[str] = set()
    for chunk in _chunks(tokens):
        present.update(conn.execute(query, {"tokens": list(chunk), "lo": lo, "hi": hi}).scalars())
    return present


def _entry(conn: sa.Connection, episode_id: int) -> tuple[int, int] | None:
    """(number, segments indexed) of an indexed episode, or None."""
    row = conn.execute(
        sa.text("SELECT number, segments FROM search_episode WHERE episode_id = :e"),
        {"e": episode_id},
    ).first()
    return (row[0], row[1]) if row else None


def index_segments(
    *, session: Session, episode_id: int, number: int, segments: Sequence[tuple[int, str]]
) -> None:
    """Add postings for ``segments`` — (segment id, text_norm) in time order — to an episode.

    Appends after the episode's segments already indexed (chunked transcription adds a
    chunk at a time); ordinals continue from there.
    """
    if not 1 <= number < EPISODE_LIMIT:
        raise InvalidInput(f"episode number {number} is outside the searchable range")
    session.flush()
    conn = session.connection()
    entry = _entry(conn, episode_id)
    if entry is not None and entry[0] != number:
        raise InvalidInput(
            f"episode {number} was indexed as episode {entry[0]}; rebuild the search index"
        )
    first = entry[1] if entry else 0
    if first + len(segments) > SEGMENT_SPAN:
        raise InvalidInput(f"episode {number}: more than {SEGMENT_SPAN} segments to index")
    lo, hi = key_range(number)
    lists: dict[str, list[tuple[int, int]]] = defaultdict(list)
    chars = 0
    for ordinal, (segment_id, text_norm) in enumerate(segments, start=first):
        chars += len(text_norm)
        posting = (lo + ordinal, segment_id)
        for token in tokens_of(text_norm):
            lists[token].append(posting)
    tokens = sorted(lists)
    # A token seen in an earlier chunk of this episode does not count the episode twice.
    seen = _tokens_present(conn, tokens, lo, hi) if first else set()
    # Rows in b-tree order (keys already ascend within each list): each token's new
    # postings land on neighbouring pages.
    _executemany(conn, _INSERT_POSTING, [(t, k, i) for t in tokens for k, i in lists[t]])
    _executemany(conn, _ADD_STATS, [(t, len(lists[t]), 0 if t in seen else 1) for t in tokens])
    if entry is None:
        conn.execute(
            sa.text(
                "INSERT INTO search_episode (episode_id, number, segments, chars) "
                "VALUES (:e, :number, :segments, :chars)"
            ),
            {"e": episode_id, "number": number, "segments": len(segments), "chars": chars},
        )
    else:
        conn.execute(
            sa.text(
                "UPDATE search_episode SET segments = segments + :segments, "
                "chars = chars + :chars WHERE episode_id = :e"
            ),
            {"e": episode_id, "segments": len(segments), "chars": chars},
        )


def unindex_episode(*, session: Session, episode_id: int) -> int:
    """Remove an episode's postings and statistics; call before its segments are deleted.

    Returns the number of segments that were indexed.
    """
    session.flush()
    conn = session.connection()
    entry = _entry(conn, episode_id)
    if entry is None:
        return 0
    number, indexed = entry
    texts = conn.execute(
        sa.text("SELECT text_norm FROM segment WHERE episode_id = :e"), {"e": episode_id}
    ).scalars()
    counts: Counter[str] = Counter()
    for text_norm in texts:
        counts.update(tokens_of(text_norm))
    lo, hi = key_range(number)
    if counts:
        tokens = sorted(counts)
        _executemany(conn, _DELETE_POSTINGS, [(t, lo, hi) for t in tokens])
        _executemany(conn, _SUBTRACT_STATS, [(counts[t], 1, t) for t in tokens])
        _executemany(conn, _DROP_EMPTY_STATS, [(t,) for t in tokens])
    conn.execute(sa.text("DELETE FROM search_episode WHERE episode_id = :e"), {"e": episode_id})
    return indexed


def rebuild_index(*, session: Session) -> int:
    """Drop the whole index and build it again from the stored segments; returns segments."""
    session.flush()
    conn = session.connection()
    for table in ("search_posting", "search_token", "search_episode"):
        conn.execute(sa.text(f"DELETE FROM {table}"))
    episodes = conn.execute(
        sa.text(
            "SELECT DISTINCT e.id, e.number FROM episode e JOIN segment s ON s.episode_id = e.id"
        )
    ).all()
    total = 0
    for episode_id, number in episodes:
        segments = conn.execute(
            sa.text("SELECT id, text_norm FROM segment WHERE episode_id = :e ORDER BY start, id"),
            {"e": episode_id},
        ).all()
        index_segments(
            session=session,
            episode_id=episode_id,
            number=number,
            segments=[(row[0], row[1]) for row in segments],
        )
        total += len(segments)
    return total
