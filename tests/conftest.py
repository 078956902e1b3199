"""Shared fixtures: a fresh temporary station and a runner for the real CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hotline.cli import app
from hotline.station import Station, init_station


@pytest.fixture
def station(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Station:
    """An empty station in a temporary folder (SQLite, default settings)."""
    monkeypatch.delenv("HOTLINE_STATION", raising=False)
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    created, _ = init_station(tmp_path / "station")
    return created


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture
def cli(station: Station) -> Callable[..., CliResult]:
    """Run ``hotline --station <temp station> ARGS…`` through typer's CliRunner."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> CliResult:
        result = runner.invoke(
            app,
            ["--station", str(station.root), *map(str, args)],
            input=input,
            catch_exceptions=False,
        )
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return run
