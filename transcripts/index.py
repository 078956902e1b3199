"""The search index's write side: positional postings kept in step with segments.

Tokens are every single character and every overlapping character bigram of a segment's
normalised text (the approach of Lucene's CJK analyzer). A token's occurrences in one
episode are one row: a sorted uint32 array of keys ``ordinal << 12 | position`` (the
segment's place in the episode, the character's place in the segment), so re-transcribing
an episode rewrites only that episode's rows, and a query reads a token's rows newest
episode first straight off the primary key (``episode_key`` = 2**31 − number).

Where a token is in at least 1/32 of an episode's segments, a bitmap of those segments
is kept beside its row (``search_bitmap``, transcripts.bitmaps): no larger than the row, and
what a query of several common words intersects instead of their positions.

Tokenising is vectorised with numpy: an episode of 15 000 characters becomes its
postings in a few milliseconds. Plain portable SQL (BLOB / bytea, INSERT … ON CONFLICT).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session

from hotline.errors import InvalidInput
from hotline.timeutil import format_offset
from transcripts.bitmaps import row_bitmaps

POSITION_BITS = 12
MAX_SEGMENT_CHARS = 1 << POSITION_BITS
"""Longest normalised segment the keys can hold (imports are capped at 4000 characters)."""
SEGMENT_SPAN = 1 << 20
"""Room for segments in one episode: ordinals stay below this, keys below 2**32."""
EPISODE_LIMIT = 1 << 31
"""Episode numbers must stay below this (keys stay positive and ordered)."""
KEY_DTYPE = np.dtype("<u4")
ID_DTYPE = np.dtype("<i8")
LENGTH_DTYPE = np.dtype("<u2")
BITMAP_DENSITY = 32
"""A token's row gets a bitmap when the token is in at least 1/32 of the episode's segments
(then the bitmap is no larger than the segments as a uint32 list)."""
_BIGRAM = np.uint64(1 << 42)  # marks a bigram's token code; unigram codes are < 2**21
_CHUNK = 500

_INSERT_POSTING = (
    "INSERT INTO search_posting (token, episode_key, segments, keys) VALUES (?, ?, ?, ?)"
)
_UPSERT_POSTING = (
    _INSERT_POSTING + " ON CONFLICT (token, episode_key) DO UPDATE SET "
    "segments = excluded.segments, keys = excluded.keys"
)
_DELETE_POSTING = "DELETE FROM search_posting WHERE token = ? AND episode_key = ?"
_INSERT_BITMAP = "INSERT INTO search_bitmap (token, episode_key, bits) VALUES (?, ?, ?)"
_UPSERT_BITMAP = (
    _INSERT_BITMAP + " ON CONFLICT (token, episode_key) DO UPDATE SET bits = excluded.bits"
)
_DELETE_BITMAP = "DELETE FROM search_bitmap WHERE token = ? AND episode_key = ?"
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
    itself for the thousands of rows an episode has. The statement text stays portable:
    only the placeholder is spelled the way the driver wants it.
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

    For the reads of many postings rows, where SQLAlchemy's per-row result processing
    would cost more than the query. sqlite3 takes ``:name`` itself; pyformat drivers get
    ``%(name)s``.
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


def episode_key(number: int) -> int:
    """The key of ``number``'s postings rows (smaller is newer)."""
    return EPISODE_LIMIT - number


def key_range(number: int) -> tuple[int, int]:
    """The inclusive range of segment keys (episode_key · SEGMENT_SPAN + ordinal) of ``number``.

    transcripts.query describes filters in these; a range maps to episode keys by
    ``// SEGMENT_SPAN``.
    """
    base = episode_key(number) * SEGMENT_SPAN
    return base, base + SEGMENT_SPAN - 1


def number_of_key(segment_key: int) -> int:
    return EPISODE_LIMIT - segment_key // SEGMENT_SPAN


def _token_strings(codes: np.ndarray) -> list[str]:
    """Token codes (a code point, or two with the bigram mark) back to strings, in order."""
    mask = np.uint64((1 << 21) - 1)
    bigram = codes >= _BIGRAM
    unigrams = (codes[~bigram] & mask).astype("<u4").tobytes().decode("utf-32-le")
    pairs = np.stack([(codes[bigram] >> np.uint64(21)) & mask, codes[bigram] & mask], axis=1)
    bigrams = _PAIRS.findall(pairs.astype("<u4").tobytes().decode("utf-32-le"))
    # Unigram codes are all smaller than bigram codes: sorted codes list unigrams first.
    return list(unigrams) + bigrams


_PAIRS = re.compile("..", re.DOTALL)


@dataclass
class Postings:
    """A batch of segments' postings, grouped by token (tokens in code order)."""

    tokens: list[str]
    segments: list[int]  # per token: segments containing it
    keys: np.ndarray  # every key, grouped by token, ascending within a group
    bounds: np.ndarray  # group i is keys[bounds[i]:bounds[i + 1]]

    def rows(self) -> list[tuple[str, int, bytes]]:
        """(token, segments, keys blob) for every token."""
        data = self.keys.tobytes()
        size = KEY_DTYPE.itemsize
        bounds = (self.bounds * size).tolist()
        return [
            (token, segments, data[bounds[i] : bounds[i + 1]])
            for i, (token, segments) in enumerate(zip(self.tokens, self.segments, strict=True))
        ]


def postings_of(texts: Sequence[str], first: int = 0) -> Postings:
    """The postings of ``texts`` (normalised, in time order), ordinals from ``first``."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    size = len(codes)
    ordinals = np.repeat(np.arange(first, first + len(texts), dtype=np.uint64), lengths)
    starts = np.cumsum(lengths) - lengths
    positions = np.arange(size, dtype=np.uint64) - np.repeat(starts, lengths).astype(np.uint64)
    keys = (ordinals << np.uint64(POSITION_BITS)) | positions
    # A bigram starts at every character but the last of its segment.
    ends = (starts + lengths)[lengths > 0] - 1
    pairs = np.ones(size, dtype=bool)
    pairs[ends] = False
    pairs = pairs[:-1] if size else pairs
    bigrams = _BIGRAM | (codes[:-1][pairs] << np.uint64(21)) | codes[1:][pairs]
    tokens = np.concatenate([codes, bigrams])
    all_keys = np.concatenate([keys, keys[:-1][pairs]])
    order = np.lexsort((all_keys, tokens))
    tokens, all_keys = tokens[order], all_keys[order]
    new_token = np.empty(len(tokens), dtype=bool)
    new_token[:1] = True
    np.not_equal(tokens[1:], tokens[:-1], out=new_token[1:])
    heads = np.flatnonzero(new_token)
    segment_of = all_keys >> np.uint64(POSITION_BITS)
    new_segment = new_token.copy()
    new_segment[1:] |= segment_of[1:] != segment_of[:-1]
    segments = np.add.reduceat(new_segment, heads) if len(heads) else np.zeros(0, np.int64)
    return Postings(
        tokens=_token_strings(tokens[heads]),
        segments=segments.tolist(),
        keys=all_keys.astype(KEY_DTYPE),
        bounds=np.append(heads, len(tokens)),
    )


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _entry(conn: sa.Connection, episode_id: int) -> tuple[int, int, bytes, bytes] | None:
    """(number, segments indexed, segment ids, lengths) of an indexed episode, or None."""
    row = conn.execute(
        sa.text(
            "SELECT number, segments, segment_ids, lengths FROM search_episode "
            "WHERE episode_id = :e"
        ),
        {"e": episode_id},
    ).first()
    return (row[0], row[1], bytes(row[2]), bytes(row[3])) if row else None


def _existing(conn: sa.Connection, tokens: Sequence[str], key: int) -> dict[str, tuple[int, bytes]]:
    """The rows of ``tokens`` that episode ``key`` already has: token → (segments, keys)."""
    query = sa.text(
        "SELECT token, segments, keys FROM search_posting "
        "WHERE episode_key = :key AND token IN :tokens"
    ).bindparams(sa.bindparam("tokens", expanding=True))
    found: dict[str, tuple[int, bytes]] = {}
    for chunk in _chunks(tokens):
        for token, segments, keys in conn.execute(query, {"tokens": list(chunk), "key": key}):
            found[token] = (segments, bytes(keys))
    return found


def _check_lengths(segments: Sequence[tuple[int, str]], number: int, conn: sa.Connection) -> None:
    for segment_id, text_norm in segments:
        if len(text_norm) > MAX_SEGMENT_CHARS:
            start = conn.execute(
                sa.text("SELECT start FROM segment WHERE id = :i"), {"i": segment_id}
            ).scalar()
            where = f"episode {number}, segment at {format_offset(start or 0.0)}"
            raise InvalidInput(
                f"{where}: {len(text_norm)} characters after normalisation; the search index "
                f"holds at most {MAX_SEGMENT_CHARS}: split the segment"
            )


def _write_bitmaps(
    conn: sa.Connection,
    key: int,
    rows: list[tuple[str, int, bytes]],
    segments: int,
    seen: dict[str, tuple[int, bytes]],
) -> None:
    """Bitmaps for the rows (token, segments, keys) dense enough in an episode of ``segments``.

    A row rewritten for a later chunk that is no longer dense loses its bitmap, which would
    miss the new chunk; rows not rewritten keep theirs, still exact.
    """
    dense = [(token, blob) for token, count, blob in rows if count * BITMAP_DENSITY >= segments]
    blobs = [blob for _, blob in dense]
    sizes = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs)) // KEY_DTYPE.itemsize
    ordinals = np.frombuffer(b"".join(blobs), dtype=KEY_DTYPE) >> POSITION_BITS
    bitmaps = row_bitmaps(sizes, ordinals)
    _executemany(
        conn,
        _UPSERT_BITMAP if seen else _INSERT_BITMAP,
        [(token, key, bits) for (token, _), bits in zip(dense, bitmaps, strict=True)],
    )
    stale = [(t, key) for t, count, _ in rows if t in seen and count * BITMAP_DENSITY < segments]
    _executemany(conn, _DELETE_BITMAP, stale)


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
    _check_lengths(segments, number, conn)
    entry = _entry(conn, episode_id)
    if entry is not None and entry[0] != number:
        raise InvalidInput(
            f"episode {number} was indexed as episode {entry[0]}; rebuild the search index"
        )
    first = entry[1] if entry else 0
    if first + len(segments) > SEGMENT_SPAN:
        raise InvalidInput(f"episode {number}: more than {SEGMENT_SPAN} segments to index")
    texts = [text for _, text in segments]
    postings = postings_of(texts, first)
    key = episode_key(number)
    # A token seen in an earlier chunk of this episode: its row grows, the episode counts once.
    seen = _existing(conn, postings.tokens, key) if first else {}
    chunk = postings.rows()
    rows = [
        (token, count + seen[token][0], seen[token][1] + blob)
        if token in seen
        else (token, count, blob)
        for token, count, blob in chunk
    ]
    _executemany(
        conn,
        _UPSERT_POSTING if seen else _INSERT_POSTING,
        [(token, key, count, blob) for token, count, blob in rows],
    )
    _write_bitmaps(conn, key, rows, first + len(segments), seen)
    _executemany(
        conn, _ADD_STATS, [(token, count, 0 if token in seen else 1) for token, count, _ in chunk]
    )
    ids = np.array([segment_id for segment_id, _ in segments], dtype=ID_DTYPE).tobytes()
    lengths = np.array([len(text) for text in texts], dtype=LENGTH_DTYPE).tobytes()
    values = {
        "e": episode_id,
        "number": number,
        "segments": len(segments),
        "chars": sum(map(len, texts)),
        "ids": ids,
        "lengths": lengths,
    }
    if entry is None:
        conn.execute(
            sa.text(
                "INSERT INTO search_episode (episode_id, number, segments, chars, segment_ids, "
                "lengths) VALUES (:e, :number, :segments, :chars, :ids, :lengths)"
            ),
            values,
        )
    else:
        values.update(ids=entry[2] + ids, lengths=entry[3] + lengths)
        conn.execute(
            sa.text(
                "UPDATE search_episode SET segments = segments + :segments, "
                "chars = chars + :chars, segment_ids = :ids, lengths = :lengths "
                "WHERE episode_id = :e"
            ),
            values,
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
    number, indexed = entry[0], entry[1]
    ids = np.frombuffer(entry[2], dtype=ID_DTYPE).tolist()
    texts_by_id = dict(
        conn.execute(
            sa.text("SELECT id, text_norm FROM segment WHERE episode_id = :e"), {"e": episode_id}
        ).all()
    )
    # The segments the index holds, as it holds them: their tokens name the rows to drop.
    postings = postings_of([texts_by_id.get(i, "") for i in ids])
    key = episode_key(number)
    tokens = postings.tokens
    _executemany(conn, _DELETE_POSTING, [(t, key) for t in tokens])
    # Any of the rows may have a bitmap: one written for an earlier chunk stays.
    _executemany(conn, _DELETE_BITMAP, [(t, key) for t in tokens])
    _executemany(
        conn, _SUBTRACT_STATS, [(c, 1, t) for t, c in zip(tokens, postings.segments, strict=True)]
    )
    _executemany(conn, _DROP_EMPTY_STATS, [(t,) for t in tokens])
    conn.execute(sa.text("DELETE FROM search_episode WHERE episode_id = :e"), {"e": episode_id})
    return indexed


def rebuild_index(*, session: Session) -> int:
    """Drop the whole index and build it again from the stored segments; returns segments."""
    session.flush()
    conn = session.connection()
    for table in ("search_posting", "search_bitmap", "search_token", "search_episode"):
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
