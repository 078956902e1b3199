"""``hotline demo`` through the real CLI: the summary, the next steps, reruns and refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from hotline.cli import app

runner = CliRunner()


def hotline(*args: str) -> Result:
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("HOTLINE_DATABASE_URL", raising=False)
        patch.delenv("HOTLINE_STATION", raising=False)
        cache = tmp_path_factory.mktemp("no-models")
        patch.setenv("XDG_CACHE_HOME", str(cache))
        patch.setenv("HOTLINE_WHISPER_DIR", str(cache))
        folder = tmp_path_factory.mktemp("cli") / "demo-station"
        result = hotline("demo", str(folder), "--today", "2026-11-27")
        assert result.exit_code == 0, result.stderr
        return folder, result.stdout


def test_demo_prints_the_summary_and_what_to_try_next(demo_dir: tuple[Path, str]) -> None:
    folder, out = demo_dir
    assert f"built the demo station in {folder.resolve()}" in out
    assert "episode 1000  2022-08-13 11:00 Saturday" in out
    assert "next episode  1197 on 2026-11-28 11:00" in out
    assert "in 31 sectors" in out
    for status in ("new", "screened", "assigned", "answered", "referred", "resolved"):
        assert f"{status} " in out
    assert "what to try next:" in out
    # The newest aired episode got a generated recording, mastered and published for real.
    assert "recording     episode 1196:" in out
    assert "master: mastered 1196.mp3" in out
    assert "transcribe: skipped: whisper model 'small' is not available offline" in out
    feed = (folder / "public" / "feeds" / "generic.xml").read_text(encoding="utf-8")
    assert feed.count("<item>") == 1 and "<podcast:episode>1196</podcast:episode>" in feed
    assert f"cd {folder}" in out
    assert "hotline episodes show 1000" in out
    assert (folder / "hotline.toml").is_file() and (folder / ".hotline-demo").is_file()


def test_the_demo_is_a_station_other_commands_open(demo_dir: tuple[Path, str]) -> None:
    folder, _ = demo_dir
    result = hotline("--station", str(folder), "db", "current", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["revision"] == data["head"]


def test_running_it_again_changes_nothing(demo_dir: tuple[Path, str]) -> None:
    folder, _ = demo_dir
    database = (folder / "hotline.db").read_bytes()
    result = hotline("demo", str(folder), "--today", "2026-11-27", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["created"] is False
    assert summary["episode_1000_air"] == "2022-08-13T11:00:00+08:00"
    assert summary["first_air"].startswith("2000-")
    assert summary["upcoming"] == 52 and summary["members"] >= 300
    assert sum(summary["questions"].values()) >= 500
    assert (folder / "hotline.db").read_bytes() == database

    plain = hotline("demo", str(folder))
    assert plain.exit_code == 0
    assert "already a demo station; nothing changed" in plain.stdout


def test_an_ordinary_station_is_refused(tmp_path: Path) -> None:
    assert hotline("init", str(tmp_path / "real")).exit_code == 0
    result = hotline("demo", str(tmp_path / "real"), "--force")
    assert result.exit_code == 1
    assert "not a demo station" in result.stderr
    assert not (tmp_path / "real" / ".hotline-demo").exists()


def test_a_bad_today_is_refused(tmp_path: Path) -> None:
    result = hotline("demo", str(tmp_path / "d"), "--today", "2026-13-01")
    assert result.exit_code == 1
    assert "--today '2026-13-01' is not a date" in result.stderr
    assert not (tmp_path / "d").exists()
