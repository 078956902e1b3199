"""Text files as Chinese offices save them: detected, decoded, or refused with the reason."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.encodings import decode_text
from hotline.errors import InvalidInput

SIMPLIFIED = (
    "编号,播出时间,标题\n1200,2026-12-05 11:00,养老服务怎么办\n"
    "1201,2026-12-12 11:00,小区电梯加装补贴\n"
)
TRADITIONAL = (
    "編號,播出時間,標題\n1200,2026-12-05 11:00,養老服務怎麼辦\n"
    "1201,2026-12-12 11:00,社區電梯加裝補貼\n"
)


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        (SIMPLIFIED, "utf-8", "utf-8"),
        (SIMPLIFIED, "utf-8-sig", "utf-8"),
        (SIMPLIFIED, "utf-16", "utf-16"),
        (SIMPLIFIED, "utf-16-le", "utf-16"),
        (SIMPLIFIED, "gbk", "gb18030"),
        (SIMPLIFIED, "gb18030", "gb18030"),
        (TRADITIONAL, "big5", "big5"),
        (TRADITIONAL, "utf-8", "utf-8"),
    ],
)
def test_detects_what_offices_save(text: str, encoding: str, expected: str) -> None:
    decoded = decode_text(text.encode(encoding), name="guests.csv")
    assert decoded.text == text
    assert decoded.encoding == expected


def test_crlf_becomes_newline() -> None:
    data = SIMPLIFIED.replace("\n", "\r\n").encode("gbk")
    assert decode_text(data, name="a.csv").text == SIMPLIFIED


def test_big5_is_never_read_as_gb18030_mojibake() -> None:
    data = "第800期 這個問題我們請委員回答。市民關心醫療保險和養老金。\n".encode("big5")
    # GB18030 accepts these bytes too; detection must still pick Big5.
    data.decode("gb18030")
    assert decode_text(data, name="0800.srt").text.startswith("第800期 這個問題")


def test_forced_encoding_overrides_and_names_the_line() -> None:
    data = "第一行\n".encode() + "第二行\n".encode("gbk")
    with pytest.raises(InvalidInput, match=r"^members\.csv:2: not valid utf-8$"):
        decode_text(data, name="members.csv", encoding="utf-8")
    assert decode_text("养老\n".encode("gbk"), name="a", encoding="gbk").text == "养老\n"


def test_unknown_encoding_name() -> None:
    with pytest.raises(InvalidInput, match="unknown encoding"):
        decode_text(b"abc", name="a.csv", encoding="klingon")


def test_binary_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^photo\.jpg: "):
        decode_text(bytes(range(256)) * 4, name="photo.jpg")


def test_undecidable_bytes_are_refused_not_guessed() -> None:
    # Valid in both GB18030 (亍喟鹆) and Big5 (堙鈰蟥), and rare in both scripts.
    data = bytes([0xD8, 0xA1, 0xE0, 0xB0, 0xF0, 0xC1]) * 3
    with pytest.raises(InvalidInput, match="cannot tell the encoding"):
        decode_text(data, name="x.srt")


SIMPLIFIED_WORDS = "养老医保电梯加装补贴怎么申请社区服务的是在有我们这个问题，。"
TRADITIONAL_WORDS = "養老醫保電梯加裝補貼怎麼申請社區服務的是在有我們這個問題，。"


# Twenty characters is a short subtitle line; shorter texts may be refused as
# undecidable, which is the promise: never a wrong guess.
@given(st.text(alphabet=st.sampled_from(SIMPLIFIED_WORDS), min_size=20))
def test_common_simplified_text_round_trips_in_every_encoding(text: str) -> None:
    for encoding in ("utf-8", "utf-8-sig", "utf-16", "gb18030"):
        assert decode_text(text.encode(encoding), name="t").text == text


@given(st.text(alphabet=st.sampled_from(TRADITIONAL_WORDS), min_size=20))
def test_common_traditional_text_round_trips_in_big5(text: str) -> None:
    assert decode_text(text.encode("big5"), name="t").text == text


def test_bom_is_dropped() -> None:
    assert decode_text(codecs.BOM_UTF8 + "养老".encode(), name="t").text == "养老"
