"""``hotline live …``: the live desk through the real CLI, one transaction per command."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

import hotline.cli as root
from hotline.station import Station


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture
def live_cli(station: Station) -> Callable[..., CliResult]:
    """The real root app, on a temporary station."""
    app = root.app
    runner = CliRunner()

    def run(*args: str) -> CliResult:
        result = runner.invoke(app, ["--station", str(station.root), *map(str, args)])
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return run


AIR = datetime(2026, 12, 12, 3, 0, tzinfo=UTC)  # Saturday 11:00 in Shanghai


@pytest.fixture
def show(cli: Callable[..., CliResult], time_machine: Any) -> None:
    """Episode 1000 airs today at 11:00, with 张伟 confirmed; the clock is at 10:58."""
    time_machine.move_to(AIR - timedelta(days=7), tick=False)
    added = cli(
        "episodes", "add", "--number", "1000", "--title", "养老服务", "--air", AIR.isoformat()
    )
    assert added.exit_code == 0, added.stderr
    assert cli("members", "add", "--name", "张伟", "--sector", "中国共产党").exit_code == 0
    assert cli("bookings", "add", "1000", "张伟").exit_code == 0
    assert cli("bookings", "confirm", "1000", "张伟").exit_code == 0
    time_machine.move_to(AIR - timedelta(minutes=2), tick=True)


def test_a_call_from_queue_to_done(live_cli: Callable[..., CliResult], cli, show: None) -> None:
    started = live_cli("live", "start")  # today's episode
    assert started.stdout.startswith("show clock for episode 1000 started at ")
    again = live_cli("live", "start", "--episode", "1000")
    assert again.exit_code == 1
    assert "already running" in again.stderr

    added = live_cli(
        "live",
        "add",
        "-e",
        "1000",
        "--name",
        "王女士",
        "--district",
        "海淀区",
        "--summary",
        "加装电梯一楼不同意怎么办",
    )
    assert added.stdout.strip() == "added call 1 (waiting)"
    refused = live_cli("live", "on-air", "1", "--member", "张伟")
    assert refused.exit_code == 1
    assert "call 1 is waiting" in refused.stderr and "allowed: screen, drop" in refused.stderr

    assert live_cli("live", "screen", "1").exit_code == 0
    on_air = live_cli("live", "on-air", "1", "--member", "张伟")
    assert on_air.exit_code == 0, on_air.stderr
    assert "question 1 answered" in on_air.stdout

    rows = live_cli("live", "queue", "-e", "1000", "--json").json()
    assert rows[0]["status"] == "on_air"
    assert rows[0]["member"]["name"] == "张伟"
    assert rows[0]["on_air_offset"] >= 0
    question = cli("questions", "show", "1", "--json").json()
    assert question["channel"] == "on_air"
    assert question["status"] == "answered"
    assert question["episode"] == 1000

    assert live_cli("live", "done", "1").exit_code == 0
    table = live_cli("live", "queue", "-e", "1000")
    assert "王女士" in table.stdout and "done" in table.stdout


def test_unknown_call_and_empty_summary(live_cli: Callable[..., CliResult], show: None) -> None:
    missing = live_cli("live", "drop", "42")
    assert missing.exit_code == 1
    assert missing.stderr.strip() == "hotline: error: call 42 does not exist"
    empty = live_cli("live", "add", "-e", "1000", "--summary", "  ")
    assert empty.exit_code == 1
    assert "summary must not be empty" in empty.stderr
    assert live_cli("live", "queue", "-e", "1000", "--json").json() == []
