"""The station log: tracebacks kept for support, owner-only, rotated, never a new failure."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hotline import logs


def _boom() -> ValueError:
    try:
        raise ValueError("数据库损坏")
    except ValueError as exc:
        return exc


def test_traceback_goes_to_the_station_log_owner_only(tmp_path: Path) -> None:
    path = logs.record_failure(_boom(), root=tmp_path, context="hotline episodes list")
    assert path == tmp_path / "logs" / "hotline.log"
    text = path.read_text(encoding="utf-8")
    assert "hotline episodes list" in text
    assert "Traceback" in text and "ValueError: 数据库损坏" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_falls_back_to_the_users_state_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    blocked = tmp_path / "station"
    blocked.mkdir()
    (blocked / "logs").write_text("a file where the folder should be")
    path = logs.record_failure(_boom(), root=blocked, context="x")
    assert path == tmp_path / "state" / "hotline" / "hotline.log"
    assert logs.record_failure(_boom(), root=None, context="y") == path


def test_nothing_writable_returns_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "f").write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "f"))
    assert logs.record_failure(_boom(), root=tmp_path / "f", context="x") is None


def test_rotates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "MAX_BYTES", 200)
    for _ in range(10):
        logs.record_failure(_boom(), root=tmp_path, context="x")
    names = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert names == ["hotline.log", *(f"hotline.log.{n}" for n in range(1, 6))]
