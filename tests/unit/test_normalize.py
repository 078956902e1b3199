"""Script normalisation: traditional → simplified, width folding, ASCII case; fast path exact."""

from __future__ import annotations

import opencc
from hypothesis import given, settings
from hypothesis import strategies as st

from transcripts.normalize import _t2s, normalize


def test_traditional_and_simplified_normalise_alike() -> None:
    assert normalize("養老") == normalize("养老") == "养老"
    assert normalize("醫療保險") == "医疗保险"
    assert normalize("政協委員") == "政协委员"


def test_phrases_follow_the_opencc_phrase_dictionary() -> None:
    assert normalize("一目瞭然") == "一目了然"
    assert normalize("乾隆") == "乾隆"  # not 干隆: the phrase dictionary wins


def test_full_width_folds_and_only_ascii_is_lower_cased() -> None:
    assert normalize("ＡＢＣ１２３") == "abc123"
    assert normalize("CPPCC 热线") == "cppcc 热线"
    assert normalize("ΣΑΣ") == "ΣΑΣ"  # not ASCII: left alone


LIBRARY = opencc.OpenCC("t2s")
LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}


def _library(text: str) -> str:
    return LIBRARY.convert(text).translate(LOWER)


PHRASE_PIECES = [key[: 1 + i % len(key)] for i, key in enumerate(_t2s().phrases)]
PHRASE_PIECES += _t2s().phrases
ALPHABET = list("養老醫療乾隆瞭了著頭髮后後发發，。、 -.!？aZ9") + [
    chr(code) for code in list(_t2s().table)[:300]
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ALPHABET) | st.sampled_from(PHRASE_PIECES), max_size=20))
def test_fast_path_equals_the_opencc_library(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert _t2s().convert_lower(text) == _library(text)


@given(st.text(max_size=30))
def test_normalize_is_total(text: str) -> None:
    assert isinstance(normalize(text), str)
