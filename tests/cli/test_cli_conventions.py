"""How every command reads: one-line usage errors, global options anywhere, ``~`` in paths,
plurals, ISO 8601 in JSON, whole transcript segments, and the question a terminal is asked."""

from __future__ import annotations

import json
import os
import pty
import re
import select as io_select
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hotline.cli import app
from hotline.station import Station

Cli = Callable[..., Any]
LONG = (
    "委员说：关于老旧小区加装电梯，一楼住户的顾虑主要是采光、噪音和出入，"
    "我们建议由街道牵头，请设计单位出两到三个方案，让一楼住户先挑，补偿标准公开透明，"
    "这样大家心里都有底，事情才好推进。"
)


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    """The real CLI without a --station of its own (the tests place it themselves)."""
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("episodes", "show", "abc"),
            "hotline episodes show: invalid value for 'number': ",
        ),
        (
            ("episodes", "list", "--bogus"),
            "hotline episodes list: no such option: --bogus (see `hotline episodes list --help`)",
        ),
        (("questions", "assign", "1"), "hotline questions assign: missing argument 'episode'"),
        (("desk",), "hotline: error: no such command 'desk' (see `hotline --help`)"),
        (("--bogus",), "hotline: error: no such option: --bogus (see `hotline --help`)"),
        (
            ("jobs", "frobnicate"),
            "hotline: error: hotline jobs: no such command 'frobnicate' "
            "(see `hotline jobs --help`)",
        ),
    ],
)
def test_usage_errors_are_one_line_with_exit_1(
    cli: Cli, args: tuple[str, ...], message: str
) -> None:
    result = cli(*args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("hotline: error: ")
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_group_without_a_command_prints_its_help(cli: Cli) -> None:
    result = cli("episodes")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout and "reschedule" in result.stdout


def test_station_and_json_are_accepted_anywhere_on_the_line(station: Station) -> None:
    where = str(station.root)
    added = run("episodes", "add", "--title", "养老服务", "--air", "2099-01-03 11:00", "-s", where)
    assert added.exit_code == 0, added.stderr
    for line in (
        ("episodes", "list", "--station", where, "--json"),
        ("--json", "episodes", "list", "--station", where),
        ("episodes", "--json", "list", f"--station={where}"),
        ("--station", where, "episodes", "list", "--json"),
    ):
        result = run(*line)
        assert result.exit_code == 0, (line, result.stderr)
        assert [e["title"] for e in json.loads(result.stdout)] == ["养老服务"]


def test_a_quoted_tilde_is_the_home_folder(
    station: Station, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "家"
    (home / "资料").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    csv = home / "资料" / "委员名单.csv"
    csv.write_bytes("name,sector\n王伟,医药卫生界\n".encode("gb18030"))
    station_in_home = home / "电台"
    station.root.rename(station_in_home)
    result = run("--station", "~/电台", "members", "import", "~/资料/委员名单.csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "imported 1 member from ~/资料/委员名单.csv".replace(
        "~", str(home)
    )


def test_counts_read_in_the_right_number(cli: Cli, tmp_path: Path) -> None:
    assert cli("members", "add", "--name", "王伟", "--sector", "医药卫生界").exit_code == 0
    assert cli("members", "list").stdout.rstrip().endswith("\n1 member")
    assert cli("bookings", "list").stdout.rstrip().endswith("0 bookings")
    made = cli("episodes", "generate", "--count", "1", "--start", "2099-01-01")
    assert made.stdout.strip() == "scheduled 1 episode: 1, 2099-01-03 11:00"
    assert cli("bookings", "add", "1", "王伟").exit_code == 0
    assert cli("bookings", "list").stdout.rstrip().endswith("\n1 booking")
    history = cli("members", "history", "王伟").stdout.rstrip()
    assert history.endswith("1 booking, 0 appearances")


def test_transcripts_show_whole_segments_and_around_a_time(cli: Cli, tmp_path: Path) -> None:
    added = cli(
        "episodes",
        "add",
        "--number",
        "800",
        "--title",
        "加装电梯",
        "--air",
        "2018-06-02 11:00",
        "--past",
    )
    assert added.exit_code == 0, added.stderr
    srt = tmp_path / "0800.srt"
    cues = [
        f"{i + 1}\n00:{i:02d}:00,000 --> 00:{i:02d}:50,000\n第{i + 1}段：{LONG}\n"
        for i in range(20)
    ]
    srt.write_text("\n".join(cues), encoding="utf-8")
    assert cli("transcripts", "import", "800", str(srt)).exit_code == 0
    shown = cli("transcripts", "show", "800")
    lines = shown.stdout.splitlines()
    assert lines[0] == "第800期 transcript: 20 segments (import)"
    assert lines[1] == f"00:00:00–00:00:50  第1段：{LONG}"
    assert len(lines) == 21 and "…" not in shown.stdout
    around = cli("transcripts", "show", "800", "--around", "12:30").stdout.splitlines()
    assert around[0] == "第800期 around 00:12:30: no word timings stored: the segment said then"
    assert [line[2:10] for line in around[1:]] == [f"00:{m:02d}:00" for m in range(9, 18)]
    assert around[4] == f"→ 00:12:00  第13段：{LONG}"  # whole, never cut
    pause = cli("transcripts", "show", "800", "--around", "05:55", "--json").json()
    hit = next(s for s in pause["segments"] if s["hit"])
    assert hit["start"] == 360.0  # between segments: the one about to be heard
    refused = cli("transcripts", "show", "800", "--around", "twelve")
    assert refused.exit_code == 1 and "--around 'twelve' is not a time offset" in refused.stderr


def test_feed_build_times_are_iso_8601_in_json(cli: Cli, station: Station) -> None:
    feeds = station.public_dir / "feeds"
    feeds.mkdir(parents=True, exist_ok=True)
    (feeds / "generic.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        "<title>政协热线</title><lastBuildDate>Sat, 05 Dec 2026 03:00:00 +0000</lastBuildDate>"
        "</channel></rss>",
        encoding="utf-8",
    )
    listed = cli("feeds", "list", "--json").json()
    generic = next(f for f in listed if f["platform"] == "generic")
    assert generic["last_build"] == "2026-12-05T11:00:00+08:00"
    assert all(f["last_build"] is None for f in listed if f["platform"] != "generic")
    assert "2026-12-05 11:00" in cli("feeds", "list").stdout


# ---------------------------------------------------------------- asking at a terminal


def hotline_at_a_terminal(root: Path, *args: str, answer: str) -> tuple[int, str]:
    """Run the installed console script with a terminal on stdin; answer its question."""
    leader, follower = pty.openpty()
    env = {**os.environ, "HOTLINE_STATION": str(root)}
    env.pop("HOTLINE_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "hotline.console", *args],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    seen = b""
    while b"[y/N]" not in seen:
        ready, _, _ = io_select.select([leader], [], [], 60)
        assert ready, f"no question asked; saw {seen!r}"
        seen += os.read(leader, 4096)
    os.write(leader, answer.encode() + b"\n")
    out, _ = process.communicate(timeout=60)
    while True:  # what the command wrote to the terminal after the answer
        ready, _, _ = io_select.select([leader], [], [], 1)
        try:
            chunk = os.read(leader, 4096) if ready else b""
        except OSError:  # the terminal closed with the process
            chunk = b""
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    return process.returncode, seen.decode("utf-8", "replace") + out.decode()


def test_a_person_at_the_terminal_is_asked(cli: Cli, station: Station) -> None:
    assert cli("members", "add", "--name", "王伟", "--sector", "医药卫生界").exit_code == 0
    again = ("members", "add", "--name", "王伟", "--sector", "医药卫生界", "--allow-duplicate")
    assert cli(*again).exit_code == 0
    code, said = hotline_at_a_terminal(station.root, "members", "merge", "1", "2", answer="n")
    assert code == 1
    assert re.search(r"merge member #2 王伟 into #1 王伟: .*#2 is removed \[y/N\]", said)
    assert "not confirmed; nothing changed" in said
    assert cli("members", "show", "2").exit_code == 0
    code, said = hotline_at_a_terminal(station.root, "members", "merge", "1", "2", answer="y")
    assert code == 0, said
    assert "merged member #2 王伟 into #1 王伟: 0 bookings and 0 answers moved; #2 removed" in said
    assert cli("members", "show", "2").exit_code == 1
