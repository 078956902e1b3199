"""Word timings: aligned to the stored text, stored compactly, read back, and landed on."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from transcripts.words import Word, align, decode, encode, store_words, time_at

HANZI = st.sampled_from("政协委员听众来信医保养老服务社区电梯公交学校问题补贴办理")


def spoken(*pieces: tuple[float, float, str]) -> list[Word]:
    return [Word(start, end, text) for start, end, text in pieces]


def test_words_that_spell_the_text_keep_their_characters() -> None:
    words = spoken((10.0, 10.4, "养老"), (10.4, 10.6, "服"), (10.6, 10.9, "务"))
    assert align(words, "养老服务") == [(2, 10.0, 10.4), (1, 10.4, 10.6), (1, 10.6, 10.9)]


def test_after_a_filter_shortened_the_text_every_character_still_has_a_word() -> None:
    # A loop collapsed by the filters: 好的好的好的好的 → 好的, then the real words.
    words = spoken(
        *[(i * 0.3, i * 0.3 + 0.3, "好的") for i in range(4)],
        (1.2, 1.5, "医保"),
        (1.5, 1.8, "报销"),
    )
    aligned = align(words, "好的医保报销")
    assert sum(chars for chars, _, _ in aligned) == len("好的医保报销")
    assert [start for _, start, _ in aligned] == sorted(start for _, start, _ in aligned)
    assert aligned[-2:] == [(2, 1.2, 1.5), (2, 1.5, 1.8)]


def test_leading_spaces_trimmed_by_clean_text_are_not_counted() -> None:
    words = spoken((0.0, 0.3, " Good"), (0.3, 0.7, " morning"))
    assert align(words, "Good morning") == [(4, 0.0, 0.3), (8, 0.3, 0.7)]


def test_stored_form_is_three_small_integers_a_word() -> None:
    words = spoken((12.34, 12.80, "养老"), (13.00, 13.21, "服务"))
    stored = store_words(words, text="养老服务", segment_start=12.0)
    assert stored == "[2,34,46,2,20,21]"
    back = decode(stored, text="养老服务", segment_start=12.0)
    assert back == spoken((12.34, 12.8, "养老"), (13.0, 13.21, "服务"))


def test_nothing_to_store_without_words() -> None:
    assert store_words([], text="养老服务", segment_start=0.0) is None
    assert decode(None, text="养老服务", segment_start=0.0) == []


def test_landing_on_a_character() -> None:
    words = spoken((5.0, 5.4, "我们"), (5.4, 5.9, "养老"), (6.2, 6.8, "服务"))
    assert time_at(words, 0) == 5.0
    assert time_at(words, 3) == 5.4  # 老
    assert time_at(words, 4) == 6.2
    assert time_at(words, 99) == 6.2
    # The normalised text is twice as long here: the offset is scaled onto the words.
    assert time_at(words, 8, length=12) == 6.2
    assert time_at([], 0) is None


@given(
    st.lists(
        st.tuples(st.text(HANZI, min_size=1, max_size=3), st.integers(0, 80), st.integers(1, 90)),
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 500_000),
)
def test_stored_words_read_back_to_the_centisecond(
    pieces: list[tuple[str, int, int]], start_cs: int
) -> None:
    clock = start_cs
    words = []
    for text, gap, duration in pieces:
        words.append(Word((clock + gap) / 100, (clock + gap + duration) / 100, text))
        clock += gap + duration
    text = "".join(w.text for w in words)
    stored = store_words(words, text=text, segment_start=start_cs / 100)
    assert stored is not None and all(isinstance(v, int) for v in json.loads(stored))
    assert decode(stored, text=text, segment_start=start_cs / 100) == words


@given(st.lists(st.text(HANZI, min_size=1, max_size=3), min_size=1, max_size=30), st.data())
def test_any_edit_of_the_text_is_covered_in_time_order(words_text: list[str], data) -> None:  # noqa: ANN001
    words = [Word(i * 0.5, i * 0.5 + 0.4, t) for i, t in enumerate(words_text)]
    said = "".join(words_text)
    cut = data.draw(st.integers(0, len(said) - 1))
    edited = data.draw(st.sampled_from([said[:cut] + said[cut + 1 :], said[cut:], "他" + said]))
    aligned = align(words, edited)
    if edited:
        assert sum(chars for chars, _, _ in aligned) == len(edited)
        starts = [start for _, start, _ in aligned]
        assert starts == sorted(starts)
    stored = encode(aligned, segment_start=0.0)
    assert [w.text for w in decode(stored, text=edited, segment_start=0.0)] == (
        [edited[sum(a[0] for a in aligned[:i]) :][: aligned[i][0]] for i in range(len(aligned))]
    )
