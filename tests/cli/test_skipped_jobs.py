"""A stage that cannot run for want of a whisper model ends ``skipped``, not ``done``.

What was seen: a transcription skipped for lack of a model was shown as ``done``. The whole
pipeline runs here through the real CLI, with no model anywhere it is looked for: master
is done, transcribe is skipped with the reason in ``jobs list``, ``jobs show``
and ``--json``; publishing does not wait for it, and ``jobs retry`` takes it up again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import audio_fixtures as fx
import pytest

from hotline.station import Station
from transcripts.models_offline import WHISPER_DIR_ENV

Cli = Callable[..., "object"]
REASON = "whisper model 'small' is not available offline"


@pytest.fixture(autouse=True)
def no_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(WHISPER_DIR_ENV, str(tmp_path / "models"))


def test_a_transcription_without_a_model_is_skipped_with_its_reason(
    cli: Cli, station: Station, tmp_path: Path
) -> None:
    add = cli("episodes", "add", "--number", 999, "--title", "医保改革面对面", "--air",
              "2022-08-06 11:00", "--past")  # fmt: skip
    assert add.exit_code == 0, add.stderr  # type: ignore[attr-defined]
    recording = fx.recording(tmp_path / "第999期.wav", 6.0)
    assert cli("ingest", 999, recording).exit_code == 0  # type: ignore[attr-defined]

    assert cli("process", "--kind", "master").exit_code == 0  # type: ignore[attr-defined]
    run = cli("process", "--kind", "transcribe")
    assert run.exit_code == 0, run.stdout + run.stderr  # type: ignore[attr-defined]
    assert "job 2 transcribe 第999期: skipped in" in run.stdout  # type: ignore[attr-defined]
    assert run.stdout.rstrip().endswith("\n1 skipped")  # type: ignore[attr-defined]

    listed = cli("jobs", "list", "--json").json()  # type: ignore[attr-defined]
    assert [(j["id"], j["kind"], j["status"]) for j in listed] == [
        (3, "publish", "queued"),
        (2, "transcribe", "skipped"),
        (1, "master", "done"),
    ]
    publish = cli("jobs", "show", 3, "--json").json()  # type: ignore[attr-defined]
    assert publish["waiting_for"] is None  # a missing transcript does not hold the feed back
    assert listed[1]["message"].startswith(REASON)
    table = cli("jobs", "list").stdout  # type: ignore[attr-defined]
    row = next(line for line in table.splitlines() if line.startswith("2 "))
    assert " skipped " in row and REASON in row
    shown = cli("jobs", "show", 2).stdout  # type: ignore[attr-defined]
    assert "status: skipped" in shown and f"message: {REASON}" in shown
    only = cli("jobs", "list", "--status", "skipped", "--json").json()  # type: ignore[attr-defined]
    assert [j["id"] for j in only] == [2]

    retried = cli("jobs", "retry", 2)
    assert retried.exit_code == 0  # type: ignore[attr-defined]
    assert cli("jobs", "show", 2, "--json").json()["status"] == "queued"  # type: ignore[attr-defined]
