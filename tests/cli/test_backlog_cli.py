"""`hotline transcribe --backlog` and the estimate `hotline jobs list` shows, through the CLI.

Whisper really runs (a tiny random-weight checkpoint) where a measured run is needed: the
estimate is the machine time of runs measured on this station, so before the first run it
says it does not know yet, and after one it puts a figure on every waiting job.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select
from whisper_fixtures import (
    add_mastered_episode,
    offline_models_fixture,  # noqa: F401 (the offline_models fixture)
    tiny_settings,
    tiny_whisper_fixture,  # noqa: F401 (the tiny_whisper fixture)
    tone_and_silence,
    write_wav,
)

from hotline.models import Episode, Job
from hotline.station import Station

pytestmark = pytest.mark.usefixtures("offline_models")


def archive(station: Station, tiny_whisper: Path) -> None:
    """Three untranscribed episodes (2024-01-06, -13, -20), one transcribed, one unmastered."""
    clip = tone_and_silence([("tone", 5), ("silence", 1)])
    for number, day in ((1001, 6), (1002, 13), (1003, 20), (1004, 27)):
        air = datetime(2024, 1, day, 3, tzinfo=UTC)
        add_mastered_episode(station, number, clip, air_start=air, title=f"第{number}期 民生热线")
    add_mastered_episode(
        station, 1005, None, air_start=datetime(2024, 2, 3, 3, tzinfo=UTC), raw_path="audio/raw/x"
    )
    tiny_settings(station, tiny_whisper)


def transcribe_jobs(station: Station) -> list[tuple[int, str]]:
    with station.session() as session:
        rows = session.exec(
            select(Episode.number, Job.status)
            .join(Episode, Episode.id == Job.episode_id)
            .where(Job.kind == "transcribe")
            .order_by(Job.id)
        ).all()
    return [(number, status) for number, status in rows]


def test_backlog_queues_what_has_no_transcript_and_estimates_once_measured(
    cli: Callable[..., object], station: Station, tiny_whisper: Path, tmp_path: Path
) -> None:
    archive(station, tiny_whisper)
    srt = tmp_path / "1004.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:02,000\n各位听众大家好\n", encoding="utf-8")
    assert cli("transcripts", "import", 1004, srt).exit_code == 0

    queued = cli("transcribe", "--backlog", "--json")
    assert queued.exit_code == 0, queued.stderr
    data = queued.json()
    assert [q["episode"] for q in data["queued"]] == [1003, 1002, 1001]  # newest first
    assert data["audio_seconds"] == 18.0 and data["not_mastered"] == 1
    assert data["backend"] == "openai-whisper" and data["estimated_machine_seconds"] is None
    assert transcribe_jobs(station) == [(1003, "queued"), (1002, "queued"), (1001, "queued")]

    listed = cli("jobs", "list")
    assert "transcription still to do: 3 job(s), 18 s of audio; machine time not yet known" in (
        listed.stdout
    )
    assert all("estimated_seconds" not in job for job in cli("jobs", "list", "--json").json())

    # One episode transcribed here gives the rate; the estimate follows from it.
    assert cli("transcribe", 1003).exit_code == 0
    jobs = {job["episode"]: job for job in cli("jobs", "list", "--json").json()}
    assert {n: jobs[n]["estimated_seconds"] > 0 for n in (1001, 1002, 1003)} == {
        1001: True, 1002: True, 1003: True,
    }  # fmt: skip
    text = cli("jobs", "list").stdout
    assert "of machine time for one worker (at " in text and "openai-whisper" in text

    again = cli("transcribe", "--backlog")
    assert again.exit_code == 0
    assert again.stdout.startswith("queued 2 episode(s), newest first (第1002期 … 第1001期)")
    assert "estimated machine time: " in again.stdout and "for one worker" in again.stdout
    assert "1 episode(s) have a recording but no master yet" in again.stdout
    assert len(transcribe_jobs(station)) == 3  # the waiting jobs were kept, not doubled

    ran = cli("process", "--kind", "transcribe")
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    assert [status for _, status in transcribe_jobs(station)] == ["done", "done", "done"]
    assert "transcription still to do" not in cli("jobs", "list").stdout
    nothing = cli("transcribe", "--backlog")
    assert nothing.stdout.startswith("nothing to queue: every mastered episode has a complete")


def test_a_transcription_whose_master_is_not_done_has_no_length_yet(
    cli: Callable[..., object], station: Station, tiny_whisper: Path, tmp_path: Path
) -> None:
    # An ingested recording queues its transcription before mastering measures it: the
    # list says its length is not known yet, never that it is 0 min of audio.
    archive(station, tiny_whisper)
    add_mastered_episode(station, 1006, None, air_start=datetime(2024, 2, 10, 3, tzinfo=UTC))
    recording = write_wav(tmp_path / "第1006期.wav", tone_and_silence([("tone", 6)]))
    assert cli("ingest", 1006, recording).exit_code == 0
    listed = cli("jobs", "list").stdout
    assert "transcription still to do: 1 job(s), length not known until mastered;" in listed
    assert "0 min" not in listed and "0 s of audio" not in listed

    assert cli("transcribe", "--backlog").exit_code == 0  # four of known length as well
    assert cli("transcribe", 1003).exit_code == 0  # a measured run: the rate is known
    listed = cli("jobs", "list").stdout
    assert (
        "transcription still to do: 5 job(s), 24 s of audio, and 1 whose length is not known "
        "until mastered; about "
    ) in listed
    assert "for one worker for those of known length (at " in listed
    estimates = {
        j["episode"]: j.get("estimated_seconds")
        for j in cli("jobs", "list", "--json").json()
        if j["kind"] == "transcribe"
    }
    assert estimates[1006] is None and estimates[1001] > 0


def test_backlog_order_limit_and_dates(
    cli: Callable[..., object], station: Station, tiny_whisper: Path
) -> None:
    archive(station, tiny_whisper)
    picked = cli(
        "transcribe", "--backlog", "--oldest-first", "--limit", 2,
        "--from", "2024-01-10", "--to", "2024-01-27", "--json",
    )  # fmt: skip
    assert picked.exit_code == 0, picked.stderr
    assert [q["episode"] for q in picked.json()["queued"]] == [1002, 1003]
    assert transcribe_jobs(station) == [(1002, "queued"), (1003, "queued")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--backlog", "1001"), "--backlog queues many episodes: give no episode number"),
        ((), "give an episode number, or --backlog to queue every untranscribed one"),
        (("1001", "--limit", "3"), "--limit, --from and --to go with --backlog"),
        (("--backlog", "--model", "small"), "--model and --backend apply to one episode"),
        (("--backlog", "--from", "2024-13-01"), "--from date '2024-13-01' is not a date"),
        (("--backlog", "--from", "2024-02-01", "--to", "2024-01-01"), "--from 2024-02-01 is after"),
    ],
)
def test_bad_backlog_requests_change_nothing(
    cli: Callable[..., object], station: Station, tiny_whisper: Path, args: tuple, message: str
) -> None:
    archive(station, tiny_whisper)
    result = cli("transcribe", *args)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"hotline: error: {message}")
    assert result.stderr.count("\n") == 1
    assert transcribe_jobs(station) == []
