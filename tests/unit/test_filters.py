"""Hallucinated phrases and repetition loops in whisper's output, on crafted segment lists."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transcripts.asr import RawSegment as Seg
from transcripts.filters import (
    clean_segments,
    collapse_repeats,
    parse_phrases,
    remove_hallucinations,
)


@pytest.mark.parametrize(
    "text",
    [
        "字幕由Amara.org社群提供",
        "字幕由 amara.org 社群提供。",
        "請不吝點贊 訂閱 轉發 打賞支持明鏡與點點欄目",
        "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目",
        "谢谢观看！",
        "谢谢观看。谢谢观看。",
        "中文字幕志愿者",
        "……",
        "",
    ],
)
def test_segments_made_only_of_hallucinations_are_dropped(text: str) -> None:
    assert remove_hallucinations(text) == ""


def test_never_spoken_phrases_are_cut_out_of_real_speech() -> None:
    assert remove_hallucinations("今天的节目就到这里。字幕由Amara.org社群提供") == (
        "今天的节目就到这里。"
    )


@pytest.mark.parametrize(
    "text",
    [
        "谢谢观看今天的直播，我们下周六再见",
        "请委员谈谈养老服务",
        "谢谢委员的解答",
        "订阅号里也能留言",
    ],
)
def test_real_speech_is_kept_as_heard(text: str) -> None:
    assert remove_hallucinations(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("好的好的好的好的好的好的", "好的"),
        ("嗯嗯嗯嗯嗯嗯嗯", "嗯"),
        ("我们来听一下听众的来电。我们来听一下听众的来电。我们来听一下听众的来电。",
         "我们来听一下听众的来电。"),
        ("委员您好，养老养老养老养老院的床位", "委员您好，养老院的床位"),
        ("哈哈哈", "哈哈哈"),  # laughter is speech
        ("对对对对", "对对对对"),
        ("好的好的", "好的好的"),
        ("谢谢谢谢", "谢谢谢谢"),
        ("……………………", "……………………"),
    ],
)  # fmt: skip
def test_repetition_loops_collapse(text: str, expected: str) -> None:
    assert collapse_repeats(text) == expected


@given(st.text(alphabet="好的养老医保，。 ab", max_size=40))
def test_collapsing_never_grows_text_and_is_stable(text: str) -> None:
    once = collapse_repeats(text)
    assert len(once) <= len(text)
    assert collapse_repeats(once) == collapse_repeats(collapse_repeats(once))


def test_clean_segments_on_a_whisper_like_list() -> None:
    segments = [
        Seg(30.0, 34.0, "谢谢观看"),
        Seg(0.0, 3.0, "各位听众，欢迎收听政协热线。"),
        Seg(3.0, 7.5, "今天请委员谈谈養老服务。"),
        Seg(8.0, 9.0, "好的好的好的好的好的"),
        Seg(10.0, 11.0, "请问您在哪个区？"),
        Seg(11.0, 12.0, "请问您在哪个区？"),
        Seg(12.0, 13.0, "請問您在哪個區？"),
        Seg(13.0, 14.0, "请问您在哪个区"),
        Seg(14.0, 15.0, "字幕由Amara.org社群提供"),
        Seg(15.0, 16.0, "。"),
    ]
    assert clean_segments(segments) == [
        Seg(0.0, 3.0, "各位听众，欢迎收听政协热线。"),
        Seg(3.0, 7.5, "今天请委员谈谈養老服务。"),  # text as heard: script is not changed
        Seg(8.0, 9.0, "好的"),
        Seg(10.0, 14.0, "请问您在哪个区？"),  # one question asked four times is a loop
    ]


def test_two_identical_segments_in_a_row_are_both_kept() -> None:
    segments = [Seg(0, 1, "好。"), Seg(1, 2, "好。"), Seg(2, 3, "那我们接下一位听众。")]
    assert clean_segments(segments) == segments


def test_phrase_file_format() -> None:
    phrases = parse_phrases(["# a comment", "", "下集再见", "* 某某字幕组出品"])
    assert remove_hallucinations("下集再见！", phrases) == ""
    assert (
        remove_hallucinations("本期节目到此结束，某某字幕組出品", phrases) == "本期节目到此结束，"
    )
    assert remove_hallucinations("谢谢观看", phrases) == "谢谢观看"  # not in this list
