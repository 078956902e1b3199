"""`hotline search` through the real CLI, with Chinese transcripts imported by the CLI."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.models import Booking, Episode, Member
from hotline.station import Station
from hotline.vocab import sectors

TRANSCRIPTS = {
    998: ["今天谈谈养老服务", "社区養老和居家养老", "还有医保报销"],
    999: ["医保异地结算怎么办", "委员说：养老金会按时发放"],
    1000: ["教育公平是大事", "Wi-Fi 进课堂"],
}


@pytest.fixture
def archive(station: Station, cli: Callable, tmp_path: Path) -> Callable:
    first = datetime(2022, 7, 30, 3, 0, tzinfo=UTC)  # 2022-07-30 11:00 Shanghai
    with station.session() as session:
        member = Member(name="王建国", sector=sectors()[0])
        session.add(member)
        for i, number in enumerate(sorted(TRANSCRIPTS)):
            ep = Episode(number=number, title=f"第{number}期", air_start=first + timedelta(7 * i))
            session.add(ep)
            session.flush()
            if number == 999:
                session.add(Booking(episode_id=ep.id, member_id=member.id, status="appeared"))
    for number, texts in TRANSCRIPTS.items():
        srt = "\n".join(
            f"{i + 1}\n00:0{i}:00,000 --> 00:0{i}:05,000\n{text}\n" for i, text in enumerate(texts)
        )
        path = tmp_path / f"{number}.srt"
        path.write_text(srt, encoding="utf-8")
        assert cli("transcripts", "import", number, path).exit_code == 0
    return cli


def test_json_results_are_newest_first_with_totals_and_highlights(archive: Callable) -> None:
    data = archive("search", "養老", "--json").json()
    assert data["terms"] == ["养老"]
    assert (data["total_matches"], data["total_episodes"]) == (3, 2)
    results = data["results"]
    assert [(r["episode"], r["timestamp"]) for r in results] == [
        (999, "00:01:00"),
        (998, "00:00:00"),
        (998, "00:01:00"),
    ]
    first = results[0]
    assert set(first) == {
        "episode", "title", "air_date", "air_start", "start", "end", "timestamp",
        "snippet", "highlights", "text", "score", "at",
    }  # fmt: skip
    assert first["at"] is None  # an imported SRT has no word timings
    assert first["air_date"] == "2022-08-06"
    assert first["air_start"] == "2022-08-06T11:00:00+08:00"
    start, end = first["highlights"][0]
    assert first["snippet"][start:end] == "养老"
    assert results[2]["text"] == "社区養老和居家养老"  # as heard
    assert len(results[2]["highlights"]) == 2


def test_terminal_output_brackets_matches_when_not_a_tty(archive: Callable) -> None:
    r = archive("search", "养老金")
    assert r.exit_code == 0
    assert "第999期  2022-08-06  00:01:00  委员说：【养老金】会按时发放" in r.stdout
    assert "\x1b[" not in r.stdout
    assert "1 match in 1 episode" in r.stdout
    r = archive("search", "社区养老")
    assert "原文：社区養老和居家养老" in r.stdout


def test_several_terms_must_all_occur(archive: Callable) -> None:
    data = archive("search", "养老", "居家", "--json").json()
    assert [r["text"] for r in data["results"]] == ["社区養老和居家养老"]
    assert archive("search", "养老 医保", "--json").json()["total_matches"] == 0


def test_a_quoted_phrase_is_one_term_without_its_quotes(archive: Callable) -> None:
    plain = archive("search", "养老", "--json").json()
    quoted = archive("search", '"养老"', "--json").json()
    assert quoted["terms"] == ["养老"]
    assert quoted["results"] == plain["results"] and quoted["total_matches"] == 3
    phrase = archive("search", '"wi-fi 进课堂"', "--json").json()
    assert phrase["terms"] == ["wi-fi 进课堂"]
    assert [r["text"] for r in phrase["results"]] == ["Wi-Fi 进课堂"]
    assert archive("search", '"进课堂 wi-fi"', "--json").json()["total_matches"] == 0
    assert archive("search", '"养老', "居家", "--json").json()["total_matches"] == 1
    r = archive("search", '""')
    assert r.exit_code == 1 and "empty query" in r.stderr


def test_by_episode_and_rank(archive: Callable) -> None:
    data = archive("search", "养老", "--by-episode", "--json").json()
    assert [(e["episode"], e["matches"]) for e in data["episodes"]] == [(999, 1), (998, 2)]
    table = archive("search", "养老", "--by-episode").stdout
    assert "998" in table and "3 matches in 2 episodes" in table
    ranked = archive("search", "养老", "--rank", "--json").json()
    assert ranked["order"] == "rank"
    assert ranked["results"][0]["text"] == "社区養老和居家养老"
    assert all(r["score"] > 0 for r in ranked["results"])


def test_filters(archive: Callable) -> None:
    def episodes(*args: str) -> list[int]:
        return [r["episode"] for r in archive("search", "养老", "--json", *args).json()["results"]]

    assert episodes("--episodes", "998") == [998, 998]
    assert episodes("--from", "2022-08-01") == [999]
    assert episodes("--to", "2022-07-30") == [998, 998]
    assert episodes("--member", "王建国") == [999]
    assert episodes("--sector", sectors()[0]) == [999]
    assert episodes("--limit", "1") == [999]
    assert archive("search", "wi-fi", "--json").json()["results"][0]["episode"] == 1000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["，。"], "empty query"),
        (["  "], "empty query"),
        (["养老", "--from", "2022/08/01"], "--from date '2022/08/01' is not a date"),
        (["养老", "--episodes", "abc"], "episode range"),
        (["养老", "--member", "不存在"], "no member named"),
        (["养老", "--by-episode", "--rank"], "do not combine"),
    ],
)
def test_bad_input_gets_a_one_line_error(archive: Callable, args: list[str], message: str) -> None:
    r = archive("search", *args)
    assert r.exit_code == 1
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_search_on_an_empty_archive(cli: Callable) -> None:
    r = cli("search", "养老", "--json")
    assert r.exit_code == 0
    assert r.json()["results"] == [] and r.json()["total_matches"] == 0
