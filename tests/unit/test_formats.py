"""Transcript files: SRT, VTT, our JSON and TXT read and written; bad files named by line."""

from __future__ import annotations

import html
import io
import json
from pathlib import Path

import pytest
import srt
import webvtt
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.errors import InvalidInput
from hotline.text import clean_text
from transcripts.formats import (
    Cue,
    TranscriptDoc,
    format_timestamp,
    parse_json,
    parse_srt,
    parse_vtt,
    read_own_columns,
    read_transcript,
    render,
    write_srt_and_vtt,
)

SRT = """\ufeff1\r
00:00:01,500 --> 00:00:04,000\r
各位听众朋友，欢迎收听<i>政协热线</i>。\r
\r
2\r
00:00:04,000 --> 00:00:09,250\r
今天我们请到了两位委员\r
来谈谈養老服务。\r
\r
3\r
01:02:03,004 --> 01:02:05,000\r
CPPCC hotline\r
"""

VTT = """WEBVTT
Kind: captions

NOTE 这是注释

intro
00:01.000 --> 00:03.500 align:start
<v 主持人>欢迎收听

00:00:04.000 --> 00:00:06.000
医保报销怎么办？
"""


def test_srt_cues_with_bom_crlf_tags_and_two_lines() -> None:
    cues = parse_srt(SRT, name="a.srt").cues
    assert cues[0] == Cue(1.5, 4.0, "各位听众朋友，欢迎收听政协热线。")
    assert (
        cues[1].text == "今天我们请到了两位委员来谈谈養老服务。"
    )  # CJK lines join without a space
    assert cues[2] == Cue(3723.004, 3725.0, "CPPCC hotline")


def test_vtt_cues_skip_header_notes_identifiers_and_settings() -> None:
    cues = parse_vtt(VTT, name="a.vtt").cues
    assert cues == [Cue(1.0, 3.5, "欢迎收听"), Cue(4.0, 6.0, "医保报销怎么办？")]


def test_whisper_style_json_is_read() -> None:
    data = {"text": "…", "language": "zh", "segments": [{"start": 0, "end": 2.5, "text": "你好"}]}
    doc = parse_json(json.dumps(data, ensure_ascii=False), name="w.json")
    assert doc.cues == [Cue(0.0, 2.5, "你好")]
    assert doc.language == "zh"


@pytest.mark.parametrize("fmt", ["srt", "vtt", "txt", "json"])
def test_written_files_read_back(fmt: str, tmp_path: Path) -> None:
    doc = TranscriptDoc(
        cues=[Cue(0.0, 2.0, "政协热线开始了"), Cue(2.0, 5.5, "養老金 ABC 问题")],
        model="small",
        settings={"beam_size": 5},
        episode=999,
    )
    path = tmp_path / f"0999.{fmt}"
    path.write_text(render(doc, fmt), encoding="utf-8")
    back = read_transcript(path)
    assert [c.text for c in back.cues] == [c.text for c in doc.cues]
    assert [c.start for c in back.cues] == [0.0, 2.0]
    if fmt != "txt":  # TXT keeps start times only
        assert [c.end for c in back.cues] == [2.0, 5.5]
    if fmt == "json":
        assert back.model == "small" and back.settings == {"beam_size": 5}


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 10_000_000),
            st.integers(0, 100_000),
            st.text(alphabet="养老医保教育，。 ABCabc123", min_size=1, max_size=20),
        ),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from(["srt", "vtt", "json"]),
)
def test_round_trip_keeps_times_to_the_millisecond(
    items: list[tuple[int, int, str]], fmt: str
) -> None:
    cues = [Cue(ms / 1000, (ms + dur) / 1000, text.strip()) for ms, dur, text in items]
    cues = [c for c in cues if c.text]
    parse = {"srt": parse_srt, "vtt": parse_vtt, "json": parse_json}[fmt]
    assert parse(render(TranscriptDoc(cues=cues), fmt), name="x").cues == cues


def test_broken_timestamp_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.srt"
    path.write_text(
        "1\n00:00:01,000 --> 00:00:02,000\n好\n\n2\n00:00:0x,000 --> 00:00:03,000\n坏\n"
    )
    with pytest.raises(InvalidInput, match=r"bad\.srt, line 6: broken timestamp"):
        read_transcript(path)


def test_a_cue_that_ends_before_it_starts_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "back.vtt"
    path.write_text("WEBVTT\n\n00:00:05.000 --> 00:00:01.000\n倒退\n")
    with pytest.raises(InvalidInput, match=r"back\.vtt, line 3: cue ends .* before it starts"):
        read_transcript(path)


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.doc"
    path.write_text("这不是字幕文件\n只是几行字\n")
    with pytest.raises(InvalidInput, match=r"notes\.doc, line 1: not an SRT, VTT, JSON or TXT"):
        read_transcript(path)


def test_binary_and_empty_files_are_refused(tmp_path: Path) -> None:
    binary = tmp_path / "x.srt"
    binary.write_bytes(b"\x00\x01\x02\xff" * 10)
    with pytest.raises(InvalidInput, match="not a text file"):
        read_transcript(binary)
    empty = tmp_path / "empty.srt"
    empty.write_text("")
    with pytest.raises(InvalidInput, match="no cues"):
        read_transcript(empty)


def test_broken_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"segments": [\n{"start": 0, "end": 1, "text": "好"},\n{"start": oops}\n]}')
    with pytest.raises(InvalidInput, match=r"t\.json, line 3: not valid JSON"):
        read_transcript(path)
    path.write_text('{"segments": [{"start": "0", "end": 1, "text": "好"}]}')
    with pytest.raises(InvalidInput, match=r"t\.json, segment 1: broken timestamp"):
        read_transcript(path)


def test_gb18030_files_from_older_tools_are_read(tmp_path: Path) -> None:
    path = tmp_path / "old.srt"
    path.write_bytes("1\n00:00:00,000 --> 00:00:02,000\n政协委员谈养老\n".encode("gb18030"))
    assert read_transcript(path).cues[0].text == "政协委员谈养老"


def test_control_characters_are_stripped_from_cues() -> None:
    cues = parse_srt("1\n00:00:00,000 --> 00:00:01,000\n养\x07老\u202e\n", name="c.srt").cues
    assert cues[0].text == "养老"


# What a cue can hold: any text the station stores (clean_text, one line), markup-like
# characters and arrows included.
PIECES = st.sampled_from(["&", "<", ">", "-->", "&amp;", "<i>", "</b>", "&lt;", "{\\an8}", "1\n"])
CUE_TEXT = (
    st.lists(st.text(st.characters(blacklist_categories=("Cs",)), max_size=8) | PIECES, max_size=8)
    .map(lambda parts: clean_text("".join(parts), field="cue", max_length=4000))
    .filter(bool)
)


@settings(max_examples=300, deadline=None)
@given(st.lists(CUE_TEXT, min_size=1, max_size=4))
def test_any_text_survives_webvtt_py_as_a_real_reader(texts: list[str]) -> None:
    cues = [Cue(i * 2.0, i * 2.0 + 1.5, t) for i, t in enumerate(texts)]
    captions = webvtt.from_buffer(io.StringIO(render(TranscriptDoc(cues=cues), "vtt")))
    # webvtt-py drops cue tags and leaves character references for the renderer.
    assert [html.unescape(c.text) for c in captions] == texts
    assert [c.start_in_seconds for c in captions] == [c.start for c in cues]
    assert parse_vtt(render(TranscriptDoc(cues=cues), "vtt"), name="x").cues == cues


@settings(max_examples=300, deadline=None)
@given(st.lists(CUE_TEXT, min_size=1, max_size=4))
def test_any_text_survives_srt_as_a_real_reader(texts: list[str]) -> None:
    cues = [Cue(i * 2.0, i * 2.0 + 1.5, t) for i, t in enumerate(texts)]
    subtitles = list(srt.parse(render(TranscriptDoc(cues=cues), "srt")))
    assert [s.content for s in subtitles] == texts
    assert [s.start.total_seconds() for s in subtitles] == [c.start for c in cues]


def test_import_strips_only_real_formatting_and_keeps_every_other_bracket(
    tmp_path: Path,
) -> None:
    said = "温度 < 5 度 & 风力 > 3 级"
    whisper = {"segments": [{"start": 0.0, "end": 2.0, "text": said}]}
    path = tmp_path / "whisper.json"
    path.write_text(json.dumps(whisper, ensure_ascii=False), encoding="utf-8")
    assert read_transcript(path).cues[0].text == said
    srt_file = tmp_path / "a.srt"
    srt_file.write_text(
        "1\n00:00:00,000 --> 00:00:02,000\n"
        '{\\an8}<i>温度</i> < 5 度 & <font color="red">风力</font> > 3 级\n',
        encoding="utf-8",
    )
    assert read_transcript(srt_file).cues[0].text == said
    vtt_file = tmp_path / "a.vtt"
    vtt_file.write_text(
        "WEBVTT\n\n00:00.000 --> 00:02.000\n<v 主持人><c.yellow>温度</c> &lt; 5 度 &amp; "
        "<00:00:01.000><b>风力</b> &gt; 3 级\n",
        encoding="utf-8",
    )
    assert read_transcript(vtt_file).cues[0].text == said
    txt_file = tmp_path / "a.txt"
    txt_file.write_text(f"[00:00:00] {said}\n", encoding="utf-8")
    assert read_transcript(txt_file).cues[0].text == said


def test_big5_is_detected_and_an_undecidable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "港台.srt"
    text = "1\n00:00:00,000 --> 00:00:02,000\n政協委員談養老服務和醫療保險的問題\n"
    path.write_bytes(text.encode("big5"))
    assert read_transcript(path).cues[0].text == "政協委員談養老服務和醫療保險的問題"
    assert read_transcript(path, encoding="big5").cues[0].text.startswith("政協委員")
    with pytest.raises(InvalidInput, match="not valid utf-8"):
        read_transcript(path, encoding="utf-8")


@settings(max_examples=100, deadline=None)
@given(st.lists(CUE_TEXT, min_size=1, max_size=4))
def test_srt_and_vtt_in_one_pass_are_the_writers_own(texts: list[str]) -> None:
    cues = [Cue(i * 61.25, i * 61.25 + 3600.5, t) for i, t in enumerate(texts)]
    assert write_srt_and_vtt(cues) == (
        render(TranscriptDoc(cues=cues), "srt"),
        render(TranscriptDoc(cues=cues), "vtt"),
    )


def test_our_own_json_is_read_fast_and_anything_else_with_every_check(tmp_path: Path) -> None:
    doc = TranscriptDoc(cues=[Cue(0.0, 2.0, "政协热线开始了")], episode=9)
    ours = tmp_path / "0009.json"
    ours.write_text(render(doc, "json"), encoding="utf-8")
    columns = read_own_columns(ours)
    assert columns is not None and columns.cues() == doc.cues
    whisper = tmp_path / "w.json"
    whisper.write_text('{"segments": [{"start": 0, "end": 1, "text": "好"}]}', encoding="utf-8")
    assert read_own_columns(whisper) is None
    edited = tmp_path / "e.json"
    edited.write_text(render(doc, "json").replace("政协", "政\\u0007协"), encoding="utf-8")
    assert read_own_columns(edited) is None


@given(st.floats(min_value=0, max_value=500 * 3600, allow_nan=False), st.sampled_from(".,"))
def test_a_timestamp_is_its_fields_zero_padded(seconds: float, separator: str) -> None:
    millis = round(seconds * 1000)
    hours, minutes, secs = millis // 3_600_000, millis // 60_000 % 60, millis // 1000 % 60
    expected = f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis % 1000:03d}"
    assert format_timestamp(seconds, separator=separator) == expected
