"""Published transcripts: rendered a whole transcript at a time, in two processes on two
CPUs, and byte for byte what rendering cue by cue with the plain writers gives."""

from __future__ import annotations

import json
import os
import tempfile
from itertools import accumulate
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from episodes.public_text import Redactor
from feeds import forked
from feeds import public_transcripts as public
from feeds.public_transcripts import find_source, render_many, render_public
from hotline.errors import InvalidInput
from hotline.text import clean_text
from transcripts.formats import (
    Cue,
    CueColumns,
    TranscriptDoc,
    read_transcript,
    render,
    srt_text,
    write_transcript_files,
)

BINARY = "".join(map(chr, [*range(0x09), *range(0x0E, 0x20)]))
REDACT = Redactor.with_contacts(["wxid_lili1988", "QQ 号 lili88 请加"])

# What a cue of our JSON can hold: text as it was stored (or edited by hand: line breaks,
# blank lines, spaces only), contacts written and spoken, markup-like characters.
PIECES = st.sampled_from(
    ["&", "<", ">", "-->", "&amp;", "<i>", "\n", "\n \n", " ", "13812345678"]
    + ["一三八一二三四五六七八", "wxid_lili1988", "QQ 号 lili88 请加", "li@example.cn"]
    + ["2022-08-13", "委员"]
)
JSON_TEXT = (
    st.lists(
        st.text(
            st.characters(blacklist_categories=("Cs",), blacklist_characters=BINARY), max_size=6
        )
        | PIECES,
        min_size=1,
        max_size=6,
    )
    .map("".join)
    .filter(bool)
)
# What SRT gives back: clean text, one line, and something left once SRT's formatting tags
# are read as tags (a cue of "<I>" alone is no cue: a file of such is refused on reading).
SRT_TEXT = (
    JSON_TEXT.map(lambda text: clean_text(text, field="cue", max_length=4000))
    .filter(bool)
    .filter(lambda text: srt_text(text).strip())
)
# Gaps and lengths in milliseconds-and-beyond: cues that touch, overlap and leave gaps.
SECONDS = st.floats(min_value=0, max_value=4000, allow_nan=False) | st.sampled_from([0.0, 2.5])


def cue_by_cue(cues: list[Cue], redact: Redactor) -> dict[str, bytes]:
    """What publishing gave before rendering went whole-transcript: each cue masked on its
    own, the plain SRT and WebVTT writers, ``json.dumps``."""
    shown = [Cue(c.start, c.end, redact(c.text)) for c in cues]
    doc = TranscriptDoc(cues=shown)
    segments = [{"startTime": c.start, "endTime": c.end, "body": c.text} for c in shown]
    return {
        "vtt": render(doc, "vtt").encode(),
        "srt": render(doc, "srt").encode(),
        "json": json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False).encode(),
    }


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["json", "srt"]).flatmap(
        lambda kind: st.tuples(
            st.lists(
                st.tuples(JSON_TEXT if kind == "json" else SRT_TEXT, SECONDS, SECONDS),
                min_size=1,
                max_size=6,
            ),
            st.just(kind),
        )
    )
)
def test_a_rendered_transcript_is_byte_for_byte_the_cue_by_cue_rendering(
    case: tuple[list[tuple[str, float, float]], str],
) -> None:
    said, kind = case
    starts = list(accumulate(gap for _, gap, _ in said))
    cues = [
        Cue(start, start + length, text)
        for start, (text, _, length) in zip(starts, said, strict=True)
    ]
    with tempfile.TemporaryDirectory() as folder:
        write_transcript_files(Path(folder), TranscriptDoc(cues=cues, episode=7))
        if kind == "srt":  # a station whose transcript came as SRT alone
            for ext in ("json", "vtt", "txt"):
                (Path(folder) / f"0007.{ext}").unlink()
        source = find_source(Path(folder), set(os.listdir(folder)), 7)
        assert source is not None and source.path.suffix == f".{kind}"
        stored = cues if kind == "json" else read_transcript(source.path).cues
        assert render_public(source, REDACT) == cue_by_cue(stored, REDACT)


def test_a_phone_number_said_on_air_is_masked_in_every_format(tmp_path: Path) -> None:
    cues = [
        Cue(0.0, 2.0, "各位听众朋友，欢迎收听政协热线"),
        Cue(2.0, 5.5, "我的电话是一三八一二三四五六七八，微信wxid_lili1988"),
        Cue(5.5, 9.0, "温度 < 5 度 & 风力 > 3 级"),
    ]
    write_transcript_files(tmp_path, TranscriptDoc(cues=cues, episode=3))
    source = find_source(tmp_path, set(os.listdir(tmp_path)), 3)
    assert source is not None
    shown = {ext: data.decode() for ext, data in render_public(source, REDACT).items()}
    for text in shown.values():
        assert "一三八一二三四五六七八" not in text and "wxid_lili1988" not in text
        assert "我的电话是***********，微信*************" in text
    assert "温度 &lt; 5 度 &amp; 风力 &gt; 3 级" in shown["vtt"]
    assert "温度 < 5 度 & 风力 > 3 级" in shown["srt"]
    assert "一三八一二三四五六七八" in (tmp_path / "0003.srt").read_text("utf-8")  # ours kept


def test_times_json_cannot_write_as_python_does_go_through_json(tmp_path: Path) -> None:
    cues = CueColumns([0.0, 1.5], [1.5, float("inf")], ["政协热线", "再见"])
    segments = [
        {"startTime": 0.0, "endTime": 1.5, "body": "政协热线"},
        {"startTime": 1.5, "endTime": float("inf"), "body": "再见"},
    ]
    expected = json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False)
    assert public.podcast_json(cues) == expected.encode()


def test_many_transcripts_are_rendered_in_two_processes_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(1, 10):
        cues = [Cue(0.0, 3.0, f"第{number}期 听众来电"), Cue(3.0, 6.0, f"电话1381234{number:04d}")]
        write_transcript_files(tmp_path, TranscriptDoc(cues=cues, episode=number))
    (tmp_path / "0004.json").unlink()
    (tmp_path / "0004.vtt").unlink()  # no other file to fall back to
    (tmp_path / "0004.srt").write_text("1\n00:00:01,000 --> 坏了\n委员\n", encoding="utf-8")
    names = set(os.listdir(tmp_path))
    sources = [s for n in range(1, 10) if (s := find_source(tmp_path, names, n)) is not None]
    monkeypatch.setattr(public, "RENDER_APART_MIN", 2)
    monkeypatch.setattr(forked, "can_fork", lambda: True)
    parent = os.getpid()
    pids = []
    real = public.render_public

    def noting(source: public.TranscriptSource, redact: Redactor) -> dict[str, bytes]:
        pids.append(os.getpid())  # the child's list is its own: only ours come back
        return real(source, redact)

    monkeypatch.setattr(public, "render_public", noting)
    rendered = render_many(sources, REDACT)
    assert pids == [parent] * 5  # sources 1, 3, 5, 7, 9 here; the other four in the child
    assert [r if isinstance(r, InvalidInput) else None for r in rendered][3] is not None
    assert "0004.srt, line 2: broken timestamp" in str(rendered[3])
    for source, done in zip(sources, rendered, strict=True):
        if source.number != 4:
            assert done == real(source, REDACT)
            assert "1381234" not in done["vtt"].decode()


def test_a_child_that_dies_costs_time_not_results() -> None:
    parent = os.getpid()

    def doubled(items: list[int]) -> list[int]:
        if os.getpid() != parent:
            os._exit(3)  # the child dies without answering
        return [2 * item for item in items]

    assert forked.map_in_two(doubled, [1, 2, 3, 4, 5]) == [2, 4, 6, 8, 10]
