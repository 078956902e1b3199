"""`hotline transcripts import/show/export/delete` through the real CLI, with Chinese data."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hotline.models import Episode
from hotline.station import Station
from transcripts.formats import parse_srt, parse_vtt

SRT = """1
00:00:01,000 --> 00:00:04,000
各位听众，欢迎收听政协热线。

2
00:00:04,500 --> 00:00:09,000
今天请委员谈谈養老服务。
"""


@pytest.fixture
def episode(station: Station) -> int:
    with station.session() as session:
        session.add(
            Episode(number=999, title="养老服务", air_start=datetime(2022, 8, 6, 3, tzinfo=UTC))
        )
    return 999


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_show_export_delete(
    cli: Callable, station: Station, episode: int, tmp_path: Path
) -> None:
    r = cli("transcripts", "import", episode, write(tmp_path, "in.srt", SRT))
    assert r.exit_code == 0, r.stderr
    assert "imported 2 segments" in r.stdout
    for suffix in ("json", "srt", "vtt", "txt"):
        assert (station.transcripts_dir / f"0999.{suffix}").is_file()

    shown = cli("transcripts", "show", episode, "--json").json()
    assert shown["source"] == "import"
    assert [s["text"] for s in shown["segments"]] == [
        "各位听众，欢迎收听政协热线。",
        "今天请委员谈谈養老服务。",
    ]
    assert shown["segments"][1]["text_norm"] == "今天请委员谈谈养老服务。"
    assert shown["segments"][1]["timestamp"] == "00:00:04"

    table = cli("transcripts", "show", episode)
    assert "今天请委员谈谈養老服务。" in table.stdout and "00:00:04" in table.stdout

    srt = cli("transcripts", "export", episode, "--format", "srt").stdout
    assert [c.text for c in parse_srt(srt).cues][1] == "今天请委员谈谈養老服务。"
    vtt = cli("transcripts", "export", episode, "--format", "vtt").stdout
    assert parse_vtt(vtt).cues[0].start == 1.0
    txt = cli("transcripts", "export", episode, "--format", "txt").stdout
    assert txt.splitlines()[0] == "[00:00:01] 各位听众，欢迎收听政协热线。"
    out = tmp_path / "out.json"
    assert cli("transcripts", "export", episode, "-f", "json", "-o", out).exit_code == 0
    assert '"format": "hotline-transcript"' in out.read_text(encoding="utf-8")

    assert cli("search", "养老", "--json").json()["total_matches"] == 1
    r = cli("transcripts", "delete", episode)
    assert r.exit_code == 0 and "2 segments" in r.stdout
    assert cli("search", "养老", "--json").json()["total_matches"] == 0
    assert not (station.transcripts_dir / "0999.srt").exists()
    r = cli("transcripts", "show", episode)
    assert r.exit_code == 1 and "no transcript" in r.stderr


def test_a_broken_file_leaves_the_stored_transcript_alone(
    cli: Callable, episode: int, tmp_path: Path
) -> None:
    assert cli("transcripts", "import", episode, write(tmp_path, "ok.srt", SRT)).exit_code == 0
    broken = write(tmp_path, "broken.srt", SRT.replace("00:00:04,500", "00:00:4x,500"))
    r = cli("transcripts", "import", episode, broken)
    assert r.exit_code == 1
    assert r.stderr.strip().startswith("hotline: error: ")
    assert "broken.srt, line 6: broken timestamp" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert len(cli("transcripts", "show", episode, "--json").json()["segments"]) == 2


def test_import_refuses_unknown_formats_and_episodes(
    cli: Callable, episode: int, tmp_path: Path
) -> None:
    r = cli("transcripts", "import", episode, write(tmp_path, "x.doc", "随便写点什么\n"))
    assert r.exit_code == 1 and "not an SRT, VTT, JSON or TXT" in r.stderr
    r = cli("transcripts", "import", 5, write(tmp_path, "a.srt", SRT))
    assert r.exit_code == 1 and "episode 5 does not exist" in r.stderr
    r = cli("transcripts", "import", episode, tmp_path / "missing.srt")
    assert r.exit_code == 1 and "cannot read" in r.stderr
    r = cli("transcripts", "export", episode, "--format", "docx")
    assert r.exit_code == 1 and "unknown transcript format" in r.stderr


def test_reimport_replaces_and_vtt_and_json_are_accepted(
    cli: Callable, episode: int, tmp_path: Path
) -> None:
    vtt = "WEBVTT\n\n00:00.000 --> 00:02.000\n医保报销\n"
    assert cli("transcripts", "import", episode, write(tmp_path, "a.vtt", vtt)).exit_code == 0
    js = '{"segments": [{"start": 0, "end": 2, "text": "教育公平"}], "model": "small"}'
    assert cli("transcripts", "import", episode, write(tmp_path, "a.json", js)).exit_code == 0
    assert cli("search", "医保", "--json").json()["total_matches"] == 0
    assert cli("search", "教育", "--json").json()["total_matches"] == 1
    assert cli("transcripts", "show", episode, "--json").json()["model"] == "small"


def test_import_detects_big5_and_takes_an_encoding_override(
    cli: Callable, station: Station, episode: int, tmp_path: Path
) -> None:
    big5 = tmp_path / "港台.srt"
    big5.write_bytes(
        "1\n00:00:01,000 --> 00:00:04,000\n政協委員談養老服務和醫療保險的問題\n".encode("big5")
    )
    r = cli("transcripts", "import", episode, big5)
    assert r.exit_code == 0, r.stderr
    shown = cli("transcripts", "show", episode, "--json").json()
    assert shown["segments"][0]["text"] == "政協委員談養老服務和醫療保險的問題"
    r = cli("transcripts", "import", episode, big5, "--encoding", "utf-8")
    assert r.exit_code == 1
    assert "港台.srt:" in r.stderr and "not valid utf-8" in r.stderr
    shown = cli("transcripts", "show", episode, "--json").json()  # the station unchanged
    assert shown["segments"][0]["text"] == "政協委員談養老服務和醫療保險的問題"


def test_whisper_json_keeps_brackets_as_heard(
    cli: Callable, station: Station, episode: int, tmp_path: Path
) -> None:
    said = "温度 < 5 度 & 风力 > 3 级"
    document = {"segments": [{"start": 0, "end": 2, "text": said}]}
    path = write(tmp_path, "whisper.json", json.dumps(document, ensure_ascii=False))
    assert cli("transcripts", "import", episode, path).exit_code == 0
    assert cli("transcripts", "show", episode, "--json").json()["segments"][0]["text"] == said
    vtt = (station.transcripts_dir / "0999.vtt").read_text(encoding="utf-8")
    assert "温度 &lt; 5 度 &amp; 风力 &gt; 3 级" in vtt
