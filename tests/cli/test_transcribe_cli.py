"""`hotline transcribe`, `hotline models list` and the transcribe stage through the real CLI.

Whisper really runs, on a tiny random-weight checkpoint, through openai-whisper and through
faster-whisper (the same weights converted: the ``engine`` fixture): the text is garbage,
so the tests check what a user can see and rely on: exit codes, messages, files, status,
the index, word timings, and a SIGKILL in the middle resuming from the last finished chunk.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import select
from whisper_fixtures import (
    Engine,
    add_mastered_episode,
    engine_fixture,  # noqa: F401 (the engine fixture)
    tiny_ct2_fixture,  # noqa: F401 (the tiny_ct2 fixture)
    tiny_settings,
    tiny_whisper_fixture,  # noqa: F401 (the tiny_whisper fixture)
    tone_and_silence,
)

from hotline import jobs
from hotline.models import Episode, JobKind, SearchEpisode, Segment, Transcript
from hotline.station import Station
from transcripts.models_offline import WHISPER_DIR_ENV

ROOT = Path(__file__).resolve().parents[2]
WAIT_LIMIT = 300.0  # a guard against hanging forever, not a timing assertion


@pytest.fixture(autouse=True)
def offline_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(WHISPER_DIR_ENV, str(tmp_path / "models"))
    return tmp_path / "models"


def programme(blocks: int = 4) -> object:
    pattern = []
    for i in range(blocks):
        pattern += [("tone" if i % 2 else "noise", 9.0), ("silence", 3.0)]
    return tone_and_silence(pattern)


def counts(station: Station) -> tuple[int, int]:
    with station.session() as session:
        return (
            len(session.exec(select(Transcript)).all()),
            len(session.exec(select(Segment)).all()),
        )


def status(station: Station, number: int) -> str:
    with station.session() as session:
        return session.exec(select(Episode).where(Episode.number == number)).one().status


def test_transcribe_writes_files_stores_indexes_and_moves_status(
    cli: Callable[..., object],
    station: Station,
    engine: Engine,
) -> None:
    add_mastered_episode(station, 999, programme())
    tiny_settings(station, engine.model)
    result = cli("transcribe", 999)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("transcribed episode 999: ")
    assert f"({engine.model}, {engine.backend})" in result.stdout  # auto chose by the model
    assert "transcripts/0999.json" in result.stdout
    assert "第999期" in result.stderr and "chunk 1/2" in result.stderr  # progress
    assert status(station, 999) == "transcribed"
    data = json.loads((station.transcripts_dir / "0999.json").read_text(encoding="utf-8"))
    assert data["model"] == str(engine.model) and data["episode"] == 999
    assert data["settings"]["backend"] == engine.backend and data["settings"]["word_timestamps"]
    assert data["timings"]["backend"] == engine.backend
    assert (
        data["settings"]["language"] == "zh" and "主持人：李明、王芳" in data["settings"]["prompt"]
    )
    assert data["timings"]["chunks"] == 2 and data["timings"]["audio_seconds"] == 48.0
    for segment in data["segments"]:
        assert 0.0 <= segment["start"] <= segment["end"] <= 48.0
        for start, end, _ in segment.get("words", []):  # words inside their segment
            assert segment["start"] - 0.02 <= start <= end <= segment["end"] + 0.02
    for suffix in ("srt", "vtt", "txt"):
        assert (station.transcripts_dir / f"0999.{suffix}").is_file()
    with station.session() as session:
        transcript = session.exec(select(Transcript)).one()
        assert transcript.complete and transcript.chunks_done == transcript.chunks_total == 2
        episode_id = session.exec(select(Episode.id).where(Episode.number == 999)).one()
        indexed = session.get(SearchEpisode, episode_id)
        # Random weights may say nothing at all; whatever was said is indexed.
        assert (indexed.segments if indexed else 0) == len(data["segments"])

    shown = cli("transcripts", "show", 999, "--json")
    assert shown.exit_code == 0 and len(shown.json()["segments"]) == len(data["segments"])

    again = cli("transcribe", 999, "--json")
    assert again.exit_code == 0 and again.json()["outcome"] == "current"
    forced = cli("transcribe", 999, "--force", "--json")
    assert forced.exit_code == 0, forced.stderr
    assert forced.json()["outcome"] == "transcribed" and forced.json()["chunks"] == 2


def test_an_episode_without_a_master_is_refused(
    cli: Callable[..., object],
    station: Station,
    tiny_whisper: Path,
) -> None:
    add_mastered_episode(station, 998, None)
    tiny_settings(station, tiny_whisper)
    result = cli("transcribe", 998)
    assert result.exit_code == 1
    assert result.stderr.startswith("hotline: error: episode 998 has no master to transcribe")
    assert result.stderr.count("\n") == 1
    assert counts(station) == (0, 0)
    assert cli("transcribe", 5).exit_code == 1  # no such episode


def test_a_corrupt_checkpoint_stores_nothing(
    cli: Callable[..., object], station: Station, tmp_path: Path
) -> None:
    add_mastered_episode(station, 999, programme(2))
    broken = tmp_path / "small.pt"
    broken.write_bytes(b"\x80\x04this is not a torch checkpoint")
    tiny_settings(station, broken)
    result = cli("transcribe", 999)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"hotline: error: whisper checkpoint {broken} is corrupt")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert counts(station) == (0, 0)
    assert status(station, 999) == "mastered"
    assert not any(station.transcripts_dir.iterdir())


def test_a_model_not_available_offline_explains_how_to_get_it(
    cli: Callable[..., object],
    station: Station,
    tiny_whisper: Path,
) -> None:
    add_mastered_episode(station, 999, programme(2))
    tiny_settings(station, tiny_whisper)
    result = cli("transcribe", 999, "--model", "small")
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert line.startswith("hotline: error: whisper model 'small' is not available offline")
    assert "whisper.load_model('small')" in line and "\n" not in line
    assert counts(station) == (0, 0)


def test_models_list_shows_what_is_on_disk(
    cli: Callable[..., object],
    offline_cache: Path,
    tiny_whisper: Path,
) -> None:
    empty = cli("models", "list")
    assert empty.exit_code == 0
    assert "not on disk" in empty.stdout and "whisper.load_model('small')" in empty.stdout
    offline_cache.mkdir()
    (offline_cache / "base.pt").write_bytes(tiny_whisper.read_bytes())
    listed = cli("models", "list", "--json").json()
    assert listed["searched"][0] == str(offline_cache)
    models = {m["name"]: m for m in listed["models"]}
    assert models["base"]["available"] and models["base"]["path"] == str(offline_cache / "base.pt")
    assert models["small"] == {
        "name": "small", "file": "small.pt", "available": False, "path": None, "bytes": None,
        "kind": "checkpoint", "backend": "openai-whisper", "quantization": None,
    }  # fmt: skip
    plain = cli("models", "list")
    assert "base.pt" in plain.stdout and "available" in plain.stdout


def test_the_pipeline_stage_transcribes(
    cli: Callable[..., object],
    station: Station,
    tiny_whisper: Path,
) -> None:
    add_mastered_episode(station, 999, programme(2))
    tiny_settings(station, tiny_whisper)
    with station.session() as session:
        episode = session.exec(select(Episode)).one()
        jobs.enqueue(session=session, kind=JobKind.transcribe, episode_id=episode.id)
    result = cli("process", "--kind", "transcribe")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "transcribed episode 999" in result.stdout
    assert status(station, 999) == "transcribed"
    assert (station.transcripts_dir / "0999.srt").is_file()


def test_without_a_model_the_stage_is_skipped_with_the_reason(
    cli: Callable[..., object], station: Station
) -> None:
    add_mastered_episode(station, 999, programme(2))
    with station.session() as session:
        episode = session.exec(select(Episode)).one()
        jobs.enqueue(session=session, kind=JobKind.transcribe, episode_id=episode.id)
    result = cli("process", "--kind", "transcribe")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "skipped in" in result.stdout
    assert "whisper model 'small' is not available offline" in result.stdout
    assert status(station, 999) == "mastered"  # publishing can go ahead without a transcript
    assert counts(station) == (0, 0)


def hotline(station: Station, *args: str) -> subprocess.Popen[str]:
    code = "from hotline.cli import main\nmain()\n"
    return subprocess.Popen(
        [sys.executable, "-c", code, "--station", str(station.root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ},
        start_new_session=True,
    )


def test_sigkill_mid_transcription_resumes_from_the_last_finished_chunk(
    station: Station,
    engine: Engine,
) -> None:
    # 192 s (six or seven chunks) for openai-whisper; faster-whisper is quicker, so it gets
    # four times as much, to be caught in the middle.
    blocks = 16 if engine.backend == "openai-whisper" else 64
    add_mastered_episode(station, 999, programme(blocks))
    tiny_settings(station, engine.model)
    first = hotline(station, "transcribe", "999")
    try:
        deadline = time.monotonic() + WAIT_LIMIT
        while True:
            assert time.monotonic() < deadline, "no chunk was ever stored"
            assert first.poll() is None, first.communicate()
            with station.session(write=False) as session:  # never waits for the writer
                transcript = session.exec(select(Transcript)).first()
                if transcript is not None and transcript.chunks_done >= 1:
                    break
            time.sleep(0.05)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(first.pid, signal.SIGKILL)
    with station.session() as session:
        transcript = session.exec(select(Transcript)).one()
        done, total = transcript.chunks_done, transcript.chunks_total
        kept = session.exec(select(Segment.id, Segment.start).order_by(Segment.start)).all()
    assert 1 <= done < total and total >= 6 and not transcript.complete
    assert status(station, 999) == "mastered"

    second = hotline(station, "transcribe", "999")
    out, err = second.communicate(timeout=WAIT_LIMIT)
    assert second.returncode == 0, err
    assert f"resumed at chunk {done + 1}" in out
    assert f"chunk 1/{total}" not in err and f"chunk {done + 1}/{total}" in err
    with station.session() as session:
        transcript = session.exec(select(Transcript)).one()
        assert transcript.complete and transcript.chunks_done == total
        after = session.exec(select(Segment.id, Segment.start).order_by(Segment.start)).all()
    assert after[: len(kept)] == kept  # the chunks stored before the kill were kept, not redone
    assert status(station, 999) == "transcribed"
