"""Transcript search: exactly what a brute-force normalised scan finds, fast paths included."""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from hotline.errors import InvalidInput
from hotline.models import Booking, Episode, Member, Segment
from hotline.station import Station
from hotline.vocab import sectors
from transcripts import index, matching, term_sets
from transcripts.formats import Cue
from transcripts.index import (
    ID_DTYPE,
    LENGTH_DTYPE,
    MAX_SEGMENT_CHARS,
    episode_key,
    postings_of,
    rebuild_index,
)
from transcripts.normalize import normalize
from transcripts.query import Filters, make_filters
from transcripts.search import BM25_B, BM25_K1, search, search_by_episode
from transcripts.store import (
    append_segments,
    delete_transcript,
    save_transcript,
    start_transcript,
)

NUMBERS = (7, 8, 9, 10)
ALPHABET = "养老医疗醫療教育學校学校乾隆一目瞭然了头發发后後，。！？ ,.aAbBzZ19Ａ１"


def add_episodes(session: Session, numbers: tuple[int, ...] = NUMBERS) -> None:
    first = datetime(2022, 7, 23, 3, 0, tzinfo=UTC)  # Saturdays, 11:00 in Shanghai
    for i, number in enumerate(numbers):
        air = first + timedelta(days=7 * i)
        session.add(Episode(number=number, title=f"第{number}期 民生热线", air_start=air))
    session.flush()


@pytest.fixture
def archive(station: Station) -> Station:
    with station.session() as session:
        add_episodes(session)
    return station


def save(session: Session, number: int, texts: list[str], source: str = "import") -> None:
    cues = [Cue(float(i * 3), float(i * 3 + 2), text) for i, text in enumerate(texts)]
    save_transcript(session=session, episode=number, segments=cues, model="t", source=source)


def brute_force(session: Session, query: str) -> list[tuple[int, float, str]]:
    """The definition: every term's normalised form inside the segment's normalised text."""
    terms = [normalize(term) for term in query.split()]
    rows = session.exec(select(Segment, Episode.number).join(Episode)).all()
    found = [
        (number, seg.start, seg.id, seg.text)
        for seg, number in rows
        if all(term in normalize(seg.text) for term in terms)
    ]
    found.sort(key=lambda r: (-r[0], r[1], r[2]))
    return [(number, start, text) for number, start, _, text in found]


def check_index_statistics(session: Session) -> None:
    """The index is exactly what the stored segments give, and its statistics add up."""
    conn = session.connection()
    stats = {
        row[0]: (row[1], row[2])
        for row in conn.execute(sa.text("SELECT token, segments, episodes FROM search_token"))
        if row[1] > 0
    }
    actual = {
        row[0]: (row[1], row[2])
        for row in conn.execute(
            sa.text("SELECT token, SUM(segments), COUNT(*) FROM search_posting GROUP BY token")
        )
    }
    assert stats == actual
    stored = {
        (row[0], row[1], row[2], bytes(row[3]))
        for row in conn.execute(
            sa.text("SELECT token, episode_key, segments, keys FROM search_posting")
        )
    }
    expected = set()
    indexed = conn.execute(
        sa.text("SELECT episode_id, number, segments, segment_ids, lengths FROM search_episode")
    ).all()
    for episode_id, number, count, ids, lengths in indexed:
        rows = conn.execute(
            sa.text("SELECT id, text_norm FROM segment WHERE episode_id = :e ORDER BY start, id"),
            {"e": episode_id},
        ).all()
        assert np.frombuffer(ids, dtype=ID_DTYPE).tolist() == [r[0] for r in rows]
        assert np.frombuffer(lengths, dtype=LENGTH_DTYPE).tolist() == [len(r[1]) for r in rows]
        assert count == len(rows)
        postings = postings_of([r[1] for r in rows])
        key = episode_key(number)
        expected.update((t, key, n, blob) for t, n, blob in postings.rows())
    assert stored == expected
    check_bitmaps(conn)
    unindexed = conn.execute(
        sa.text(
            "SELECT COUNT(*) FROM segment WHERE episode_id NOT IN "
            "(SELECT episode_id FROM search_episode)"
        )
    ).scalar()
    assert unindexed == 0


def check_bitmaps(conn: sa.Connection) -> None:
    """Every stored bitmap is exactly its row's segments; every dense row has one."""
    postings = {
        (row[0], row[1]): (row[2], bytes(row[3]))
        for row in conn.execute(
            sa.text("SELECT token, episode_key, segments, keys FROM search_posting")
        )
    }
    sizes = {
        episode_key(row[0]): row[1]
        for row in conn.execute(sa.text("SELECT number, segments FROM search_episode"))
    }
    stored = {
        (row[0], row[1]): bytes(row[2])
        for row in conn.execute(sa.text("SELECT token, episode_key, bits FROM search_bitmap"))
    }
    for row, bits in stored.items():
        ordinals = set((np.frombuffer(postings[row][1], dtype="<u4") >> 12).tolist())
        flags = np.unpackbits(np.frombuffer(bits, dtype=np.uint8), bitorder="little")
        assert set(np.flatnonzero(flags).tolist()) == ordinals, row
        assert len(bits) == max(ordinals) // 8 + 1, row
    for (token, key), (segments, _) in postings.items():
        if segments * index.BITMAP_DENSITY >= sizes[key]:
            assert (token, key) in stored, (token, key)


def reference_rank(session: Session, query: str) -> list[tuple[int, float, float]]:
    """BM25 of every match as the definition says, best first, ties newest first, in time."""
    terms = list(dict.fromkeys(normalize(term) for term in query.split()))
    conn = session.connection()
    stats = dict(conn.execute(sa.text("SELECT token, segments FROM search_token")).all())
    rows = session.exec(select(Segment, Episode.number).join(Episode)).all()
    total = max(len(rows), 1)
    average = max(sum(len(seg.text_norm) for seg, _ in rows) / total, 1.0)
    scored = []
    for seg, number in rows:
        if not all(term in seg.text_norm for term in terms):
            continue
        norm = 1 - BM25_B + BM25_B * len(seg.text_norm) / average
        score = 0.0
        for term in terms:
            tokens = [term] if len(term) <= 2 else [term[i : i + 2] for i in range(len(term) - 1)]
            df = min(stats[token] for token in tokens)
            idf = math.log(1 + (total - df + 0.5) / (df + 0.5))
            tf = seg.text_norm.count(term)
            score += idf * tf * (BM25_K1 + 1) / (tf + BM25_K1 * norm)
        scored.append((-score, -number, seg.start))
    scored.sort()
    return [(-number, start, round(-score, 4)) for score, number, start in scored]


def only_noise(query: str) -> bool:
    return all(ch.isspace() or unicodedata.category(ch)[0] in "PZC" for ch in query)


corpora = st.dictionaries(
    st.sampled_from(NUMBERS),
    st.lists(st.text(alphabet=ALPHABET, min_size=1, max_size=30), min_size=1, max_size=6),
    max_size=4,
)
terms = st.text(alphabet=ALPHABET.replace(" ", ""), min_size=1, max_size=6)
queries = terms | st.tuples(terms, terms).map(" ".join)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.parametrize("sparse", [matching._SPARSE, 0])
@given(corpus=corpora, query=queries, data=st.data())
def test_index_answers_exactly_what_a_brute_force_scan_finds(
    archive: Station,
    monkeypatch: pytest.MonkeyPatch,
    sparse: int,
    corpus: dict[int, list[str]],
    query: str,
    data: st.DataObject,
) -> None:
    # sparse=0: every lookup after the first reads only the candidates' rows, one by one.
    monkeypatch.setattr(matching, "_SPARSE", sparse)
    monkeypatch.setattr(term_sets, "_SPARSE", sparse)
    # Tiny episodes: density 32 gives every row a segment bitmap, 2 only some, 0 none. Every
    # indexed episode is written again below, with this example's density.
    density = data.draw(st.sampled_from([index.BITMAP_DENSITY, 2, 0]))
    monkeypatch.setattr(index, "BITMAP_DENSITY", density)
    # A multi-term query reads a token's bitmaps or all its positions, by cost: try both.
    monkeypatch.setattr(term_sets, "_positions_cheaper", lambda *_: data.draw(st.booleans()))
    with archive.session() as session:
        for number in NUMBERS:  # re-transcription and deletion, example after example
            texts = [t for t in corpus.get(number, []) if t.strip()]
            if texts and data.draw(st.booleans()):
                save(session, number, texts)
            elif texts:  # chunked transcription: the episode's rows grow chunk by chunk
                cues = [Cue(float(i * 3), float(i * 3 + 2), t) for i, t in enumerate(texts)]
                cut = data.draw(st.integers(0, len(cues)))
                start_transcript(session=session, episode=number, model="t", chunks_total=2)
                append_segments(session=session, episode=number, segments=cues[:cut])
                append_segments(session=session, episode=number, segments=cues[cut:])
            elif session.exec(
                select(Segment).join(Episode).where(Episode.number == number)
            ).first():
                delete_transcript(session=session, episode=number)
    # Half the time ask for a piece of what was said, so that there are hits to compare.
    spoken = [t for texts in corpus.values() for t in texts if t.strip()]
    if spoken and data.draw(st.booleans()):
        text = data.draw(st.sampled_from(spoken))
        start = data.draw(st.integers(0, len(text) - 1))
        query = text[start : start + data.draw(st.integers(1, 6))].strip() or query
    with archive.session() as session:
        check_index_statistics(session)
        if only_noise(query):
            with pytest.raises(InvalidInput):
                search(session=session, query=query)
            return
        expected = brute_force(session, query)
        numbers = Counter(number for number, _, _ in expected)

        everything = search(session=session, query=query, limit=1000)
        assert [(h.episode, h.start, h.text) for h in everything.hits] == expected
        assert (everything.matches, everything.episodes) == (len(expected), len(numbers))

        top = search(session=session, query=query, limit=2)
        assert [(h.episode, h.start, h.text) for h in top.hits] == expected[:2]
        assert (top.matches, top.episodes) == (len(expected), len(numbers))

        grouped = search_by_episode(session=session, query=query)
        assert [(r.episode, r.matches) for r in grouped.rows] == sorted(
            numbers.items(), reverse=True
        )
        assert (grouped.matches, grouped.episodes) == (len(expected), len(numbers))

        ranked = search(session=session, query=query, limit=1000, rank=True)
        assert sorted((h.episode, h.start, h.text) for h in ranked.hits) == sorted(expected)
        assert ranked.matches == len(expected)
        reference = reference_rank(session, query)
        assert [(h.episode, h.start, h.score) for h in ranked.hits] == reference
        best = search(session=session, query=query, limit=2, rank=True)
        assert [(h.episode, h.start, h.score) for h in best.hits] == reference[:2]

        for hit in everything.hits:
            assert hit.highlights, hit
            for start, end in hit.highlights:
                assert 0 <= start < end <= len(hit.snippet)


def test_traditional_query_finds_simplified_and_the_reverse(archive: Station) -> None:
    with archive.session() as session:
        save(session, 7, ["我们讨论养老金", "今天天气不错"])
        save(session, 8, ["我們討論養老金"])
    with archive.session() as session:
        for query in ("養老", "养老", "老", "养老金", "討論養老"):
            result = search(session=session, query=query)
            assert [h.episode for h in result.hits] == [8, 7], query


def test_ascii_is_case_insensitive_and_full_width_folds(archive: Station) -> None:
    with archive.session() as session:
        save(session, 9, ["CPPCC 委员谈 AI 医疗", "ｗｅｃｈａｔ 留言"])
    with archive.session() as session:
        assert search(session=session, query="cppcc").matches == 1
        assert search(session=session, query="Ai").matches == 1
        assert search(session=session, query="WeChat").matches == 1
        hit = search(session=session, query="cppcc").hits[0]
        assert hit.snippet.startswith("CPPCC")  # the speaker's capitals are shown
        assert hit.snippet[slice(*hit.highlights[0])] == "CPPCC"


@pytest.mark.parametrize("query", ["", "   ", "，。！", " ？ ", "..."])
def test_empty_or_punctuation_only_queries_are_refused(archive: Station, query: str) -> None:
    with archive.session() as session, pytest.raises(InvalidInput, match="empty query"):
        search(session=session, query=query)


def test_results_are_newest_episode_first_then_by_time_with_exact_totals(
    archive: Station,
) -> None:
    with archive.session() as session:
        for number in NUMBERS:
            save(session, number, [f"第{i}段 养老" for i in range(5)])
    with archive.session() as session:
        result = search(session=session, query="养老", limit=3)
        assert [(h.episode, h.start) for h in result.hits] == [(10, 0.0), (10, 3.0), (10, 6.0)]
        assert (result.matches, result.episodes) == (20, 4)


def test_filters_by_episode_range_air_date_member_and_sector(archive: Station) -> None:
    with archive.session() as session:
        for number in NUMBERS:
            save(session, number, ["说说养老"])
        sector = sectors()[0]
        member = Member(name="张卫国", sector=sector)
        session.add(member)
        session.flush()
        eight = session.exec(select(Episode).where(Episode.number == 8)).one()
        session.add(Booking(episode_id=eight.id, member_id=member.id, status="appeared"))
    tz = archive.tz
    with archive.session() as session:

        def numbers(**kwargs: str) -> list[int]:
            filters = make_filters(session=session, tz=tz, **kwargs)
            return [h.episode for h in search(session=session, query="养老", filters=filters).hits]

        assert numbers(episodes="8-9") == [9, 8]
        assert numbers(episodes="9") == [9]
        assert numbers(episodes="9-") == [10, 9]
        # Episode 8 airs 2022-07-30 11:00 local; --to is inclusive.
        assert numbers(date_from="2022-07-30", date_to="2022-08-06") == [9, 8]
        assert numbers(member="张卫国") == [8]
        assert numbers(sector=sector) == [8]
        assert numbers(episodes="7", member="张卫国") == []
        with pytest.raises(InvalidInput, match="not a date"):
            make_filters(session=session, tz=tz, date_from="2022/07/30")
        with pytest.raises(InvalidInput, match="episode range"):
            make_filters(session=session, tz=tz, episodes="9-8")
        with pytest.raises(InvalidInput, match="unknown sector"):
            make_filters(session=session, tz=tz, sector="不存在界")


def test_chunked_transcription_is_searchable_chunk_by_chunk(archive: Station) -> None:
    with archive.session() as session:
        start_transcript(session=session, episode=9, model="small", chunks_total=2)
        append_segments(
            session=session, episode=9, segments=[Cue(0, 2, "第一块讲养老")], chunks_done=1
        )
    with archive.session() as session:
        assert search(session=session, query="养老").matches == 1
        append_segments(session=session, episode=9, segments=[Cue(600, 602, "第二块也讲养老")])
        with pytest.raises(InvalidInput, match="starts before the last stored one"):
            append_segments(session=session, episode=9, segments=[Cue(1, 2, "倒回去")])
    with archive.session() as session:
        result = search(session=session, query="养老")
        assert [h.start for h in result.hits] == [0.0, 600.0]
        assert (result.matches, result.episodes) == (2, 1)
        check_index_statistics(session)


def test_index_follows_retranscription_and_deletion(archive: Station) -> None:
    with archive.session() as session:
        save(session, 7, ["旧的说法：养老院"], source="whisper")
        save(session, 7, ["新的说法：医养结合"], source="whisper")
    with archive.session() as session:
        assert search(session=session, query="养老").matches == 0
        assert search(session=session, query="医养").matches == 1
        delete_transcript(session=session, episode=7)
    with archive.session() as session:
        assert search(session=session, query="医养").matches == 0
        assert (
            session.connection().execute(sa.text("SELECT COUNT(*) FROM search_posting")).scalar()
            == 0
        )
        check_index_statistics(session)


def test_rebuild_gives_the_same_index(archive: Station) -> None:
    with archive.session() as session:
        save(session, 7, ["养老金", "医保"])
        save(session, 10, ["教育 养老"])
        before = (
            session.connection()
            .execute(sa.text("SELECT * FROM search_posting ORDER BY 1, 2"))
            .all()
        )
        assert rebuild_index(session=session) == 3
        after = (
            session.connection()
            .execute(sa.text("SELECT * FROM search_posting ORDER BY 1, 2"))
            .all()
        )
        assert before == after
        check_index_statistics(session)


def test_rank_puts_the_denser_segment_first(archive: Station) -> None:
    with archive.session() as session:
        save(
            session,
            7,
            [
                "养老养老养老，三句不离养老",
                "这一段很长很长很长很长很长很长很长很长很长，顺带提了一次养老",
            ],
        )
        save(session, 10, ["今天只说一次养老，然后谈别的事情很久很久很久很久很久"])
    with archive.session() as session:
        ranked = search(session=session, query="养老", rank=True)
        assert ranked.hits[0].text.startswith("养老养老养老")
        assert ranked.hits[0].score is not None and ranked.hits[0].score > ranked.hits[1].score
        assert ranked.matches == 3 and ranked.order == "rank"


def test_unrestricted_filters_are_recognised() -> None:
    assert Filters().unrestricted
    assert not Filters(first=3).unrestricted


def test_keys_hold_ordinal_and_position_of_every_character_and_bigram() -> None:
    postings = postings_of(["养老养", "老"], first=3)
    rows = {
        token: (count, np.frombuffer(blob, dtype="<u4").tolist())
        for token, count, blob in postings.rows()
    }
    assert rows == {
        "养": (1, [3 << 12 | 0, 3 << 12 | 2]),
        "老": (2, [3 << 12 | 1, 4 << 12 | 0]),
        "养老": (1, [3 << 12 | 0]),
        "老养": (1, [3 << 12 | 1]),
    }  # no bigram across the two segments


def test_the_longest_segment_is_searchable_to_its_last_character(archive: Station) -> None:
    # ㍻ is one character that NFKC turns into two (平成): 2047 of them fill 4094 positions.
    longest = "㍻" * 2047 + "养老"
    assert len(normalize(longest)) == MAX_SEGMENT_CHARS
    with archive.session() as session:
        save(session, 7, [longest, "成养老院", "老院"])
    with archive.session() as session:
        for query, expected in (("成养老", 2), ("养老", 2), ("平成平成养老", 1), ("老院", 2)):
            assert search(session=session, query=query).matches == expected, query
        # A term running past the end of the long segment does not continue into the next.
        assert search(session=session, query="养老成").matches == 0
        check_index_statistics(session)


def test_a_segment_too_long_for_the_index_is_refused_and_nothing_is_stored(
    archive: Station,
) -> None:
    with archive.session() as session:
        save(session, 7, ["原来的养老"])
    with pytest.raises(InvalidInput, match="at most 4096"), archive.session() as session:
        save(session, 7, ["说说养老", "㍻" * 2049])
    with archive.session() as session:
        assert [h.text for h in search(session=session, query="养老").hits] == ["原来的养老"]
        check_index_statistics(session)
