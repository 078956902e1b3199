"""``hotline tui`` in a real terminal: tmux runs it on a small station, the test sends keys,
reads the screen and quits; skipped when tmux is not installed."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from hotline.station import Station

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60.0  # seconds; a loaded machine starts Python slowly
# Bare `hotline` in a terminal opens the desk (tmux gives it a real tty).
LAUNCH = "from hotline.cli import main; main()"


class Terminal:
    """A tmux server of our own (its own socket), one 140×40 window running a command."""

    def __init__(self, command: str) -> None:
        self.status_file: Path | None = None
        self.socket = f"hotline-smoke-{uuid.uuid4().hex[:8]}"
        self.tmux("new-session", "-d", "-s", "desk", "-x", "140", "-y", "40", command)
        self.tmux("set-option", "-t", "desk", "remain-on-exit", "on")

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "desk")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "desk", *keys)

    def wait_for(self, check: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            text = self.screen()
            if check(text):
                return text
            time.sleep(0.2)
        raise AssertionError(f"waited {TIMEOUT:.0f}s for {what}; the screen shows:\n{text}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def terminal(desk: Station, tmp_path: Path) -> Terminal:
    env = f"HOTLINE_STATION={shlex.quote(str(desk.root))} TERM=xterm-256color"
    # The shell records the app's exit status itself: tmux's pane_dead_status is sometimes
    # empty for a process that exited cleanly.
    status = tmp_path / "exit-status"
    command = (
        f"cd {shlex.quote(str(ROOT))} && env {env} {shlex.quote(sys.executable)} -c "
        f"{shlex.quote(LAUNCH)}; echo $? > {shlex.quote(str(status))}"
    )
    term = Terminal(command)
    term.status_file = status
    yield term
    term.close()


def test_hotline_tui_in_a_real_terminal(terminal: Terminal) -> None:
    # The schedule drawn, its table focused: the footer then states the tab's keys.
    first = terminal.wait_for(lambda s: "第1002期" in s and "新建" in s, "the schedule")
    assert "1 排期" in first and "2 嘉宾" in first and "3 听众" in first

    terminal.keys("2")
    members = terminal.wait_for(lambda s: "邀请记录" in s and "李娜" in s, "the members tab")
    assert "医药卫生界" in members

    terminal.keys("3")
    # The lines under the table show the row under the cursor in full (in a narrow window
    # its contact cell ends with "…"): masked there, and nowhere in clear.
    inbox = terminal.wait_for(lambda s: "周女士 130****3333" in s, "the questions tab")
    assert "收到时间" in inbox and "王女士" in inbox, inbox
    assert "13022223333" not in inbox and "13812345678" not in inbox

    terminal.keys("q")
    terminal.wait_for(lambda _: terminal.status_file.is_file(), "the app to quit")
    assert terminal.status_file.read_text().strip() == "0"
