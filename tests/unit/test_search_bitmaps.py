"""Segment bitmaps: set operations agree with Python sets; stored bitmaps survive upgrades."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from hypothesis import given
from hypothesis import strategies as st

from hotline import db
from hotline.models import Episode
from hotline.station import Station
from transcripts import bitmaps, index
from transcripts.formats import Cue
from transcripts.query import make_filters
from transcripts.search import search, search_by_episode
from transcripts.store import save_transcript

EPISODE_KEYS = (5, 6, 9)
segment_keys = st.frozensets(
    st.tuples(st.sampled_from(EPISODE_KEYS), st.integers(0, 40)).map(lambda p: p[0] << 20 | p[1])
)


def as_array(keys: frozenset[int]) -> np.ndarray:
    return np.array(sorted(keys), dtype=np.uint64)


def members(found: bitmaps.SegmentSet) -> list[int]:
    return bitmaps.first_segments(found, 10**6).tolist()


@given(a=segment_keys, b=segment_keys, limit=st.integers(0, 50))
def test_set_operations_agree_with_python_sets(
    a: frozenset[int], b: frozenset[int], limit: int
) -> None:
    left, right = bitmaps.from_segments(as_array(a)), bitmaps.from_segments(as_array(b))
    assert members(left) == sorted(a)
    assert bitmaps.first_segments(left, limit).tolist() == sorted(a)[:limit]
    both = bitmaps.intersect(left, right)
    assert members(both) == sorted(a & b)
    assert both.counts().tolist() == [
        sum(1 for key in a & b if key >> 20 == episode) for episode in both.episodes.tolist()
    ]
    assert 0 not in both.counts().tolist()  # episodes left empty are dropped
    probe = as_array(a | b)
    assert probe[bitmaps.contains(right, probe)].tolist() == sorted(b)
    # Union of sets without a common episode: b's segments outside a's episodes.
    apart = frozenset(key for key in b if key >> 20 not in {k >> 20 for k in a})
    assert members(bitmaps.union(left, bitmaps.from_segments(as_array(apart)))) == sorted(a | apart)


def test_row_bitmaps_are_the_rows_own_sets() -> None:
    rows = [[0, 0, 3], [9], [1, 8, 16, 16]]
    ordinals = np.array([o for row in rows for o in row], dtype=np.uint32)
    made = bitmaps.row_bitmaps(np.array([len(row) for row in rows]), ordinals)
    for row, bits in zip(rows, made, strict=True):
        flags = np.unpackbits(np.frombuffer(bits, dtype=np.uint8), bitorder="little")
        assert np.flatnonzero(flags).tolist() == sorted(set(row))
        assert len(bits) == max(row) // 8 + 1


@pytest.fixture
def archive(station: Station) -> Station:
    first = datetime(2022, 7, 23, 3, 0, tzinfo=UTC)
    texts = {
        7: ["我们说养老", "这个问题", "我们这个养老金", "别的"],
        8: ["我们这个", "我们", "这个"],
        9: ["这个我们也说", "养老院我们这个", "没有", "没有其他"] + ["其他"] * 70,
    }
    with station.session() as session:
        for i, (number, lines) in enumerate(texts.items()):
            session.add(
                Episode(number=number, title=f"第{number}期", air_start=first + timedelta(7 * i))
            )
            session.flush()
            cues = [Cue(float(j), float(j) + 0.5, t) for j, t in enumerate(lines)]
            save_transcript(session=session, episode=number, segments=cues, model="t")
    return station


def stored_bitmaps(station: Station) -> set[tuple[str, int, bytes]]:
    with station.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT token, episode_key, bits FROM search_bitmap"))
        return {(row[0], row[1], bytes(row[2])) for row in rows}


def test_multi_term_search_with_filters_reads_bitmaps_and_postings(archive: Station) -> None:
    bitmapped = stored_bitmaps(archive)
    # 我们 has a bitmap in episodes 7 and 8 but not in 9 (2 of 74 segments), so a
    # restricted search combines both kinds of rows.
    assert {key for token, key, _ in bitmapped if token == "我们"} == {
        index.episode_key(7),
        index.episode_key(8),
    }
    with archive.session() as session:
        everything = search(session=session, query="我们 这个")
        assert [(h.episode, h.start) for h in everything.hits] == [
            (9, 0.0),
            (9, 1.0),
            (8, 0.0),
            (7, 2.0),
        ]
        filters = make_filters(session=session, tz=archive.tz, episodes="8-9")
        some = search(session=session, query="这个 我们", filters=filters, limit=1)
        assert [(h.episode, h.start) for h in some.hits] == [(9, 0.0)]
        assert (some.matches, some.episodes) == (3, 2)
        grouped = search_by_episode(session=session, query="我们 这个", filters=filters)
        assert [(r.episode, r.matches) for r in grouped.rows] == [(9, 2), (8, 1)]
        # 没有's positions against 其他's bitmap (in 71 of episode 9's 74 segments).
        rare = search(session=session, query="没有 其他")
        assert [(h.episode, h.start) for h in rare.hits] == [(9, 3.0)]
        assert (rare.matches, rare.episodes) == (1, 1)


def test_upgrade_fills_the_bitmaps_of_an_existing_index(archive: Station) -> None:
    written = stored_bitmaps(archive)
    assert written
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS_DIR))
    with archive.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")  # a station indexed before bitmaps existed
    db.upgrade(archive.engine)
    assert stored_bitmaps(archive) == written
