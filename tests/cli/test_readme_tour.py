"""The README's tour runs as written: every command of it, in order, through the real CLI,
on a fresh demo station built for the tour's day, with the clock where each section says.

The commands are read from README.md itself (the fenced block under "## A tour"), so the
README cannot drift from what works. What the tour leaves to the reader is provided the
way a reader would: a recording in the home folder and a whisper checkpoint where the
README says to put one. ``hotline tui`` needs a terminal: tests/tui covers the desk.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from audio_fixtures import write_speech_wav
from typer.testing import CliRunner
from whisper_fixtures import build_checkpoint

from hotline.cli import app
from hotline.config import load_settings, save_settings
from hotline.ffmpeg import transcode

README = Path(__file__).resolve().parents[2] / "README.md"
SHANGHAI = ZoneInfo("Asia/Shanghai")
INTERACTIVE = {("hotline", "tui")}
"""Commands that need a person at a terminal."""
SERVING = {("hotline", "worker")}
"""Commands that run until they are stopped (tests/cli/test_workers.py starts real workers
and stops them)."""


@dataclass(frozen=True)
class Step:
    """One command of the tour, with the section (and clock time) it belongs to."""

    line: int
    words: list[str]
    clock: time | None


def tour_block(text: str) -> tuple[int, list[str]]:
    """The first ``sh`` block after "## A tour": its first line number and its lines."""
    lines = text.splitlines()
    heading = lines.index("## A tour")
    opening = next(i for i in range(heading, len(lines)) if lines[i].startswith("```sh"))
    closing = next(i for i in range(opening + 1, len(lines)) if lines[i].startswith("```"))
    return opening + 2, lines[opening + 1 : closing]


def tour_steps(text: str) -> Iterator[Step]:
    """Each command of the tour; ``&&`` chains are split; comments and blanks skipped."""
    first, lines = tour_block(text)
    clock: time | None = None
    for number, raw in enumerate(lines, start=first):
        if raw.startswith("#"):
            found = re.search(r"·\s*(\d{2}:\d{2})\s*$", raw)
            if found:
                clock = time.fromisoformat(found.group(1))
            continue
        lexer = shlex.shlex(raw, posix=True, punctuation_chars="&")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words = list(lexer)
        command: list[str] = []
        for word in [*words, "&&"]:
            if word == "&&":
                if command:
                    yield Step(number, command, clock)
                command = []
            else:
                command.append(word)


def tour_day(text: str) -> date:
    found = re.search(r"hotline demo \S+ --today (\d{4}-\d{2}-\d{2})", text)
    assert found, "the tour starts by building the demo for its day"
    return date.fromisoformat(found.group(1))


def test_the_tour_is_read_from_the_readme() -> None:
    steps = list(tour_steps(README.read_text(encoding="utf-8")))
    assert steps[0].words[:2] == ["hotline", "demo"] and steps[1].words[0] == "cd"
    assert all(s.words[0] in ("hotline", "cd") for s in steps)
    # Quoted arguments stay whole, with their ~ for the tool to expand.
    assert ["hotline", "ingest", "1200", "~/录音/第1200期 直播.m4a"] in [s.words for s in steps]
    assert {s.clock for s in steps if s.words[:2] == ["hotline", "live"]} == {time(11, 5)}


@pytest.fixture(scope="session")
def tour_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh demo station built for the tour's day, in the folder the tour starts from."""
    day = tour_day(README.read_text(encoding="utf-8"))
    folder = tmp_path_factory.mktemp("tour")
    early = datetime.combine(day, time(7, 0), tzinfo=SHANGHAI)
    with pytest.MonkeyPatch.context() as patch, time_machine.travel(early, tick=True):
        patch.delenv("HOTLINE_STATION", raising=False)
        patch.delenv("HOTLINE_DATABASE_URL", raising=False)
        patch.setenv("HOTLINE_WHISPER_DIR", str(folder / "no-models"))
        result = CliRunner().invoke(
            app, ["demo", str(folder / "demo-station"), "--today", day.isoformat()]
        )
        assert result.exit_code == 0, result.stderr
    return folder


@pytest.fixture
def reader_home(tmp_path: Path) -> tuple[Path, Path]:
    """What a reader brings: a recording of the show at home, and a whisper checkpoint."""
    home = tmp_path / "home"
    recording = home / "录音" / "第1200期 直播.m4a"
    recording.parent.mkdir(parents=True)
    wav = write_speech_wav(tmp_path / "studio.wav", 30.0)
    transcode(wav, recording)
    models = home / ".cache" / "whisper"  # where the tour's `models convert` finds it
    models.mkdir(parents=True)
    build_checkpoint(models / "small.pt")  # tiny random weights: words are noise
    return home, models


def test_every_tour_command_runs_as_written(
    tour_folder: Path,
    reader_home: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    text = README.read_text(encoding="utf-8")
    day = tour_day(text)
    home, models = reader_home
    monkeypatch.delenv("HOTLINE_STATION", raising=False)
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HOTLINE_WHISPER_DIR", str(models))
    monkeypatch.chdir(tour_folder)
    # Random weights make garbage at any setting; greedy decoding of a few tokens keeps
    # the garbage quick and free of sampling (the model file is found as the README says).
    toml = tour_folder / "demo-station" / "hotline.toml"
    settings = load_settings(toml)
    settings.transcribe.beam_size = 0
    settings.transcribe.temperatures = [0.0]
    settings.transcribe.max_window_tokens = 8
    save_settings(settings, toml)
    runner = CliRunner()
    clock: time | None = None
    outputs: dict[str, str] = {}
    for step in tour_steps(text):
        if step.clock != clock and step.clock is not None:
            clock = step.clock
            time_machine.move_to(datetime.combine(day, clock, tzinfo=SHANGHAI), tick=True)
        where = f"README.md:{step.line}: {shlex.join(step.words)}"
        if step.words[0] == "cd":
            monkeypatch.chdir(Path.cwd() / step.words[1])
            continue
        if tuple(step.words) in INTERACTIVE | SERVING:
            continue
        result = runner.invoke(app, step.words[1:], catch_exceptions=False)
        assert result.exit_code == 0, f"{where}\n{result.stdout}\n{result.stderr}"
        outputs[" ".join(step.words[1:3])] = result.stdout

    # The tour did what its comments say.
    assert "139****1111" in outputs["questions list"]
    assert "1 row already in the station, skipped" in outputs["members import"]
    assert "imported 12 episodes (69–80): 12 aired, 0 upcoming" in outputs["episodes import"]
    assert "call 1 on air at " in outputs["live on-air"]
    assert "question 602 → answered at 12:30" in outputs["questions answer"]
    assert "done in" in outputs["process"] and "mastered 1200.mp3" in outputs["process"]
    assert "吴国军委员" in outputs["transcripts show"]  # episode 800's guest, whole lines
    assert "restored backup " in outputs["restore ../备份盘"]
    assert "dry run: nothing was written" in outputs["publish --dry-run"]
    assert "withdrew episode 1199 " in outputs["episodes withdraw"]
    assert "reinstated episode 1199 " in outputs["episodes reinstate"]
    assert "in 5 feeds" in outputs["episodes reinstate"]


JSON_COMMANDS = (
    "episodes list --json",
    "episodes show 1000 --json",
    "members list --json",
    "members show 18 --json",
    "members history 18 --json",
    "bookings list --episode 1000 --json",
    "questions list --json",
    "questions show 1 --json",
    "report sectors --json",
    "jobs list --json",
    "jobs show 1 --json",
    "tags show 1199 --json",
    "transcripts show 1198 --json",
    "search 养老 --json",
    "search 养老 --by-episode --json",
    "feeds list --json",
    "feeds validate --json",
    "db current --json",
)
RFC_822 = re.compile(r"^[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4}")
LOOKS_LIKE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.mark.parametrize("command", JSON_COMMANDS)
def test_every_json_time_is_iso_8601_with_an_offset(
    tour_folder: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    monkeypatch.setenv("HOTLINE_STATION", str(tour_folder / "demo-station"))
    result = CliRunner().invoke(app, command.split(), catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    for text in _strings(json.loads(result.stdout)):
        assert not RFC_822.match(text), f"{command}: {text!r} is not ISO 8601"
        if LOOKS_LIKE_TIME.match(text) and len(text) <= 40:
            moment = datetime.fromisoformat(text)
            assert moment.tzinfo is not None, f"{command}: {text!r} has no offset"
