"""Leftovers of killed exports and restores: removed when their run is gone, kept while it works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hotline.backup.leftovers import claimed, remove_leftovers


def dead_pid() -> int:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    return gone.pid


def test_a_folder_held_by_a_run_stays_though_its_pid_means_nothing_here(tmp_path: Path) -> None:
    # As a restore on another machine sharing the folder: its PID is no process here.
    elsewhere = tmp_path / f".新电台.restoring-{dead_pid()}"
    killed = tmp_path / f".旧电台.restoring-{dead_pid()}"
    for folder in (elsewhere, killed):
        folder.mkdir()
        (folder / "hotline.toml").write_text("# 设置\n", encoding="utf-8")
    with claimed(elsewhere):
        assert remove_leftovers(tmp_path, ".*.restoring-*") == 1
        assert elsewhere.is_dir() and not killed.exists()
    assert remove_leftovers(tmp_path, ".*.restoring-*") == 1
    assert not elsewhere.exists()


def test_only_names_ending_in_a_pid_are_leftovers(tmp_path: Path) -> None:
    mine = tmp_path / ".我的笔记.restoring-草稿"
    mine.mkdir()
    assert remove_leftovers(tmp_path, ".*.restoring-*") == 0
    assert mine.is_dir()
