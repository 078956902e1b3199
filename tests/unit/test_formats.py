"""Transcript files: SRT, VTT, our JSON and TXT read and written; bad files named by line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.errors import InvalidInput
from transcripts.formats import (
    Cue,
    TranscriptDoc,
    parse_json,
    parse_srt,
    parse_vtt,
    read_transcript,
    render,
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
