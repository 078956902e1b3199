"""Word timings as users meet them: `transcripts show --around`, search, answers' stamps.

The transcript is imported from our JSON with words (as a transcription would store it),
so no model runs here; test_real_speech.py checks the same landing on real speech.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from whisper_fixtures import add_mastered_episode

from hotline.models import Episode, Question
from hotline.station import Station

TRANSCRIPT = {
    "segments": [
        {
            "start": 60.0, "end": 63.0, "text": "各位听众大家好",
            "words": [[60.0, 60.5, "各位"], [60.5, 61.0, "听众"], [61.6, 62.2, "大家"],
                      [62.2, 63.0, "好"]],
        },
        {
            "start": 64.0, "end": 66.0, "text": "今天谈養老服务",
            "words": [[64.0, 64.6, "今天"], [64.6, 65.0, "谈"], [65.0, 65.5, "養老"],
                      [65.5, 66.0, "服务"]],
        },
        {"start": 70.0, "end": 72.0, "text": "这一句没有词的时间"},
    ]
}  # fmt: skip


@pytest.fixture
def timed(cli: Callable[..., object], station: Station, tmp_path: Path) -> Station:
    add_mastered_episode(station, 999, None)
    path = tmp_path / "0999.json"
    path.write_text(json.dumps(TRANSCRIPT, ensure_ascii=False), encoding="utf-8")
    assert cli("transcripts", "import", 999, path).exit_code == 0
    with station.session() as session:
        episode = session.query(Episode).one()
        session.add(
            Question(
                channel="phone", text="老楼加装电梯怎么申请？", status="answered",
                episode_id=episode.id, answer_offset=61.2,
            )
        )  # fmt: skip
    return station


def test_around_a_moment_lands_on_the_word_said_then(
    cli: Callable[..., object], timed: Station
) -> None:
    during = cli("transcripts", "show", 999, "--around", "1:01.7", "--json").json()
    assert during["word"] == {"start": 61.6, "end": 62.2, "text": "大家"}
    assert during["at"] == 61.6
    hit = next(s for s in during["segments"] if s["hit"])
    assert hit["text"] == "各位听众大家好" and hit["timestamp"] == "00:01:00"
    (question,) = during["questions"]
    assert (question["offset"], question["aligned"]) == (61.2, 61.6)  # snapped to 大家

    in_a_pause = cli("transcripts", "show", 999, "--around", "1:01.2", "--json").json()
    assert in_a_pause["word"]["text"] == "大家"  # the first word after the moment

    shown = cli("transcripts", "show", 999, "--around", "65.2")
    assert shown.exit_code == 0
    assert shown.stdout.startswith(
        "第999期 around 00:01:05: the word 【養老】 at 00:01:05 (65.00 s)"
    )
    assert "→ 00:01:04  今天谈【養老】服务" in shown.stdout  # as said, not as searched
    assert "问题 1 回答于 00:01:01 (first word at 00:01:01): 老楼加装电梯怎么申请？" in shown.stdout

    untimed = cli("transcripts", "show", 999, "--around", "1:10", "--json").json()
    assert untimed["word"] is None and untimed["at"] == 70.0


def test_search_lands_on_the_word_and_export_keeps_the_words(
    cli: Callable[..., object], timed: Station
) -> None:
    (hit,) = cli("search", "养老", "--json").json()["results"]
    assert (hit["start"], hit["at"], hit["timestamp"]) == (64.0, 65.0, "00:01:04")
    assert "00:01:05  今天谈【养老】服务" in cli("search", "养老").stdout
    exported = json.loads(cli("transcripts", "export", 999, "--format", "json").stdout)
    assert exported["segments"][1]["words"][2] == [65.0, 65.5, "養老"]
    assert "words" not in exported["segments"][2]


def test_around_refuses_bad_input(cli: Callable[..., object], timed: Station) -> None:
    bad = cli("transcripts", "show", 999, "--around", "一分钟")
    assert bad.exit_code == 1
    assert bad.stderr == (
        "hotline: error: --around '一分钟' is not a time offset: use MM:SS or HH:MM:SS\n"
    )
    add_mastered_episode(timed, 1000, None)
    none = cli("transcripts", "show", 1000, "--around", "1:00")
    assert none.exit_code == 1 and none.stderr == "hotline: error: episode 1000 has no transcript\n"
