"""The whisper backend on a tiny random-weight checkpoint, offline models, episode orchestration.

The real ``whisper.load_model`` and ``whisper.transcribe`` run here; random weights make
garbage text, so the assertions are about structure: segments inside the audio, offsets,
what is stored, resume after a crash, errors.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psycopg
import pytest
from sqlmodel import Session, select
from whisper_fixtures import (
    Engine,
    add_mastered_episode,
    engine_fixture,  # noqa: F401 (the engine fixture)
    tiny_ct2_fixture,  # noqa: F401 (the tiny_ct2 fixture)
    tiny_settings,
    tiny_whisper_fixture,  # noqa: F401 (the tiny_whisper fixture)
    tone_and_silence,
)

from hotline import running
from hotline.config import TranscribeSettings
from hotline.errors import InvalidInput
from hotline.models import Episode, SearchEpisode, Segment, Transcript
from hotline.station import Station
from transcripts.asr import DecodeOptions, RawSegment, make_backend, pick_device, whisper_backend
from transcripts.models_offline import (
    MODEL_FILES,
    WHISPER_DIR_ENV,
    CorruptCheckpoint,
    ModelUnavailable,
    list_models,
    resolve_model,
)
from transcripts.transcribe import transcribe_audio, transcribe_episode

BACKEND_CLASSES = {"openai-whisper": "WhisperBackend", "faster-whisper": "FasterWhisperBackend"}
FAST = {"beam_size": 0, "temperatures": [0.0], "max_window_tokens": 8, "chunk_seconds": 30.0}


@pytest.fixture(autouse=True)
def no_model_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Named models are looked up in empty temporary folders, never the real cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(WHISPER_DIR_ENV, str(tmp_path / "models"))
    return tmp_path / "models"


def test_model_files_agree_with_whisper() -> None:
    import whisper

    assert {k: v.rsplit("/", 1)[1] for k, v in whisper._MODELS.items()} == MODEL_FILES


def test_real_engine_path_on_the_tiny_model(engine: Engine) -> None:
    settings = TranscribeSettings(model=str(engine.model), threads=1, **FAST)
    backend = make_backend(settings)
    assert type(backend).__name__ == BACKEND_CLASSES[engine.backend]  # auto chose by the model
    audio = tone_and_silence([("tone", 4), ("silence", 2), ("noise", 3)])
    segments = backend.transcribe(audio, prompt="以下是政协热线节目。", language="zh")
    assert isinstance(segments, list)
    for segment in segments:
        assert isinstance(segment, RawSegment) and isinstance(segment.text, str)
        assert 0.0 <= segment.start <= segment.end <= 30.0
        for word in segment.words:
            assert segment.start - 0.02 <= word.start <= word.end <= segment.end + 0.02
    assert backend.model_name == str(engine.model)


def test_pipeline_on_arrays_keeps_segments_inside_the_speech(engine: Engine) -> None:
    settings = TranscribeSettings(model=str(engine.model), threads=1, **FAST)
    backend = make_backend(settings, backend=engine.backend)
    audio = tone_and_silence([("silence", 8), ("tone", 5), ("silence", 40), ("noise", 4)])
    segments = transcribe_audio(audio, backend=backend, settings=settings)
    pad = settings.speech_pad_seconds + 0.05
    speech = [(8 - pad, 13 + pad), (53 - pad, 57.0)]
    for segment in segments:
        assert any(a <= segment.start <= segment.end <= b for a, b in speech), segment
        for word in segment.words:
            assert any(a <= word.start <= word.end <= b for a, b in speech), word


def test_decoding_options() -> None:
    options = DecodeOptions.from_settings(TranscribeSettings(max_window_tokens=16))
    kwargs = options.whisper_kwargs(language="zh", device="cpu")
    assert kwargs["condition_on_previous_text"] is False
    assert kwargs["beam_size"] == 5 and kwargs["temperature"][0] == 0.0
    assert kwargs["sample_len"] == 16 and kwargs["fp16"] is False
    greedy = DecodeOptions.from_settings(TranscribeSettings(beam_size=0))
    assert greedy.whisper_kwargs(language="zh", device="cpu")["beam_size"] is None
    with pytest.raises(InvalidInput, match="temperatures"):
        DecodeOptions.from_settings(TranscribeSettings(temperatures=[0.0, 3.0]))


def test_device_auto_is_cpu_without_cuda() -> None:
    assert pick_device("auto") == "cpu"
    assert pick_device("CPU") == "cpu"
    with pytest.raises(InvalidInput, match="no CUDA"):
        pick_device("cuda")
    with pytest.raises(InvalidInput, match="auto, cpu or cuda"):
        pick_device("tpu")


def test_a_named_model_not_on_disk_says_how_to_provide_it() -> None:
    with pytest.raises(ModelUnavailable) as caught:
        resolve_model("small")
    message = str(caught.value)
    assert "whisper model 'small' is not available offline" in message
    assert "whisper.load_model('small')" in message and "small.pt" in message
    assert "checkpoint path" in message and "\n" not in message


def test_an_unknown_name_is_neither_model_nor_file() -> None:
    with pytest.raises(ModelUnavailable, match="neither a known model name"):
        resolve_model("smal")


def test_named_model_found_in_the_configured_folder(
    tiny_whisper: Path,
    no_model_cache: Path,
) -> None:
    no_model_cache.mkdir()
    (no_model_cache / "tiny.pt").write_bytes(tiny_whisper.read_bytes())
    name, path = resolve_model("tiny")
    assert (name, path) == ("tiny", no_model_cache / "tiny.pt")
    listed = {m.name: m for m in list_models()}
    assert listed["tiny"].available and listed["tiny"].path == no_model_cache / "tiny.pt"
    assert not listed["small"].available
    backend = whisper_backend(TranscribeSettings(model="tiny", **FAST))
    assert backend.model_name == "tiny"


def test_relative_checkpoint_paths_are_taken_from_the_station(
    tiny_whisper: Path, tmp_path: Path
) -> None:
    (tmp_path / "models").mkdir(exist_ok=True)
    (tmp_path / "models" / "mine.pt").write_bytes(tiny_whisper.read_bytes())
    assert resolve_model("models/mine.pt", base=tmp_path)[1] == tmp_path / "models" / "mine.pt"


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", b"PK\x03\x04broken zip"])
def test_a_corrupt_checkpoint_is_named_in_one_line(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "broken.pt"
    bad.write_bytes(content)
    with pytest.raises(CorruptCheckpoint) as caught:
        whisper_backend(TranscribeSettings(model=str(bad)))
    assert str(bad) in str(caught.value) and "\n" not in str(caught.value)


def test_a_checkpoint_without_whisper_dims_is_corrupt(tmp_path: Path) -> None:
    import torch

    bad = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, bad)
    with pytest.raises(CorruptCheckpoint, match="other.pt"):
        whisper_backend(TranscribeSettings(model=str(bad)))


# ------------------------------------------------------------------ episodes


class ScriptedBackend:
    """One segment per second of audio heard; can die on a given call (a killed worker)."""

    model_name = "scripted"

    def __init__(self, die_on_call: int | None = None) -> None:
        self.calls = 0
        self.die_on_call = die_on_call
        self.heard: list[float] = []

    def transcribe(
        self, audio: np.ndarray, *, prompt: str | None = None, language: str = "zh"
    ) -> list[RawSegment]:
        self.calls += 1
        if self.calls == self.die_on_call:
            raise KeyboardInterrupt("killed")
        assert prompt and "主持人：李明、王芳。" in prompt
        self.heard.append(len(audio) / 16_000)
        return [RawSegment(0.0, min(1.0, len(audio) / 16_000), "请委员谈谈養老服务")]


def long_programme() -> np.ndarray:
    """About 100 s of tone and noise with pauses: four chunks of about 30 s."""
    pattern = []
    for i in range(10):
        pattern += [("tone" if i % 2 else "noise", 8.0), ("silence", 2.0)]
    return tone_and_silence(pattern)


def stored(station: Station, number: int = 999) -> tuple[Transcript, list[Segment]]:
    with station.session() as session:
        transcript = session.exec(select(Transcript)).one()
        segments = session.exec(select(Segment).order_by(Segment.start)).all()
        session.expunge_all()
        return transcript, list(segments)


def test_a_crash_keeps_finished_chunks_and_the_rerun_resumes(station: Station) -> None:
    add_mastered_episode(station, 999, long_programme())
    tiny_settings(station, Path("unused.pt"))
    dying = ScriptedBackend(die_on_call=3)
    with pytest.raises(KeyboardInterrupt):
        transcribe_episode(station=station, number=999, backend=dying)
    transcript, segments = stored(station)
    assert (transcript.chunks_done, transcript.complete) == (2, False)
    assert transcript.chunks_total == 4
    first_ids = [s.id for s in segments]
    assert len(segments) == 2 and not (station.transcripts_dir / "0999.json").exists()

    fresh = ScriptedBackend()
    seen: list[str] = []
    result = transcribe_episode(
        station=station, number=999, backend=fresh, progress=lambda f, m: seen.append(m)
    )
    assert fresh.calls == 2  # chunks 3 and 4 only, not from zero
    assert (result.resumed_from, result.chunks, result.segments) == (2, 4, 4)
    assert "chunk 1/4" not in seen and "chunk 3/4" in seen
    transcript, segments = stored(station)
    assert transcript.complete and transcript.chunks_done == 4
    assert [s.id for s in segments[:2]] == first_ids  # the first chunks were not redone
    starts = [s.start for s in segments]
    assert starts == sorted(starts) and starts[0] == pytest.approx(0.0)
    assert all(s.text_norm == "请委员谈谈养老服务" for s in segments)


def test_a_database_away_at_every_write_loses_no_chunk_and_stores_none_twice(
    station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transcribe stage's writes go through its ``save``, which waits for a database
    that is away: each write here meets the server gone once, half of them after their
    commit (its answer lost with the connection), and the transcript still comes out whole."""
    add_mastered_episode(station, 999, long_programme())
    tiny_settings(station, Path("unused.pt"))
    monkeypatch.setattr(running, "RETRY_EVERY", 0.0)
    tries: list[int] = []

    def save(write: Callable[[Session], object]) -> object:
        tries.append(0)
        after_commit = len(tries) % 2 == 0

        def call() -> object:
            tries[-1] += 1
            with station.session() as session:
                result = write(session)
                if tries[-1] == 1 and not after_commit:
                    raise psycopg.OperationalError("server closed the connection unexpectedly")
            if tries[-1] == 1:
                raise psycopg.OperationalError("server closed the connection unexpectedly")
            return result

        return running.outlast(call, stop=threading.Event())

    result = transcribe_episode(station=station, number=999, backend=ScriptedBackend(), save=save)
    assert tries == [2] * 6  # the start, four chunks, the end: each tried again once
    assert (result.outcome, result.chunks, result.segments) == ("transcribed", 4, 4)
    transcript, segments = stored(station)
    assert transcript.complete and transcript.chunks_done == 4
    starts = [s.start for s in segments]
    assert len(segments) == 4 and starts == sorted(set(starts))
    data = json.loads((station.transcripts_dir / "0999.json").read_text(encoding="utf-8"))
    assert len(data["segments"]) == 4


def test_transcribed_episode_has_files_status_and_index(station: Station) -> None:
    add_mastered_episode(station, 999, long_programme())
    tiny_settings(station, Path("unused.pt"))
    result = transcribe_episode(station=station, number=999, backend=ScriptedBackend())
    assert result.outcome == "transcribed"
    names = sorted(p.name for p in station.transcripts_dir.iterdir())
    assert names == ["0999.json", "0999.srt", "0999.txt", "0999.vtt"]
    data = json.loads((station.transcripts_dir / "0999.json").read_text(encoding="utf-8"))
    assert data["model"] == "scripted" and len(data["segments"]) == 4
    assert data["settings"]["condition_on_previous_text"] is False
    assert data["settings"]["audio_sha256"] and data["settings"]["fingerprint"]
    assert {"plan", "decode", "asr", "store", "total", "audio_seconds"} <= set(data["timings"])
    assert data["segments"][0]["text_norm"] == "请委员谈谈养老服务"
    with station.session() as session:
        episode = session.exec(select(Episode)).one()
        indexed = session.get(SearchEpisode, episode.id)
        assert episode.status == "transcribed"
        assert indexed is not None and indexed.segments == 4

    again = ScriptedBackend()
    assert transcribe_episode(station=station, number=999, backend=again).outcome == "current"
    assert again.calls == 0
    forced = transcribe_episode(station=station, number=999, backend=again, force=True)
    assert forced.outcome == "transcribed" and again.calls == 4


def test_transcriptions_at_once_in_one_process_all_come_out_whole(
    tiny_whisper: Path, tmp_path: Path
) -> None:
    # A worker with --concurrency 2 runs two transcriptions in one process, on the model
    # it loads once or on two models: openai-whisper keeps decoding state on the model and
    # switches attention kernels for every model at once, so they must take turns.
    import threading

    from transcripts import asr

    other = tmp_path / "other.pt"  # a second model: the same weights in another file
    other.write_bytes(tiny_whisper.read_bytes())
    models = [tiny_whisper, tiny_whisper, other, tiny_whisper]
    settings = [
        TranscribeSettings(model=str(m), threads=1, word_timestamps=True, **FAST) for m in models
    ]
    rng = np.random.default_rng(7)
    clips = [rng.normal(0, 0.1, 16000 * n).astype(np.float32) for n in (5, 7, 3, 4)]
    alone = [whisper_backend(s).transcribe(c) for s, c in zip(settings, clips, strict=True)]
    asr._cached_model.cache_clear()  # the threads load the models, at the same moment
    together: dict[int, list[RawSegment]] = {}
    failures: list[BaseException] = []
    loaded: dict[int, object] = {}
    gate = threading.Barrier(len(clips))

    def run(index: int) -> None:
        gate.wait()
        try:
            backend = whisper_backend(settings[index])
            loaded[index] = backend.model
            together[index] = backend.transcribe(clips[index])
        except BaseException as exc:  # reported below, with what it was
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clips))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert [together[i] for i in range(len(clips))] == alone
    assert loaded[0] is loaded[1] is loaded[3]  # one model loaded once for its three jobs
