"""A tiny random-weight whisper checkpoint, loaded by the real ``whisper.load_model``.

Random weights make garbage text, so tests built on it assert on structure (segments,
offsets, files, status, index, resume), never on words. Import the fixture into a test
module: ``from whisper_fixtures import tiny_whisper_fixture  # noqa: F401``.

``tiny_ct2`` is the same checkpoint converted by ``hotline models convert``'s code for
faster-whisper, and ``engine`` parametrises a test over both backends on those identical
weights.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pytest

TINY_DIMS = {
    "n_mels": 80,
    "n_audio_ctx": 1500,
    "n_audio_state": 64,
    "n_audio_head": 2,
    "n_audio_layer": 1,
    "n_vocab": 51865,
    "n_text_ctx": 448,
    "n_text_state": 64,
    "n_text_head": 2,
    "n_text_layer": 1,
}


def build_checkpoint(path: Path, *, seed: int = 0, **dims: int) -> Path:
    """Save a random-weight whisper model as whisper's own checkpoint format."""
    import torch
    from whisper.model import ModelDimensions, Whisper

    torch.manual_seed(seed)
    dimensions = ModelDimensions(**{**TINY_DIMS, **dims})
    model = Whisper(dimensions)
    torch.save({"dims": asdict(dimensions), "model_state_dict": model.state_dict()}, path)
    return path


@pytest.fixture(scope="session", name="tiny_whisper")
def tiny_whisper_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a tiny random-weight checkpoint (built once per test session)."""
    import torch

    # One thread: on a shared two-core machine a second thread mostly waits for the first.
    torch.set_num_threads(1)
    return build_checkpoint(tmp_path_factory.mktemp("whisper") / "tiny-random.pt")


@pytest.fixture(scope="session", name="tiny_ct2")
def tiny_ct2_fixture(tiny_whisper: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny checkpoint as a CTranslate2 int8 folder, converted by our converter."""
    from transcripts.convert import convert_checkpoint

    folder = tmp_path_factory.mktemp("ct2") / "tiny-random-ct2-int8"
    return convert_checkpoint(tiny_whisper, out=folder, quantization="int8").path


@dataclass(frozen=True)
class Engine:
    """A backend and the model it runs (the same random weights for both)."""

    backend: str
    model: Path


@pytest.fixture(params=["openai-whisper", "faster-whisper"], name="engine")
def engine_fixture(request: pytest.FixtureRequest, tiny_whisper: Path) -> Engine:
    if request.param == "openai-whisper":
        return Engine(request.param, tiny_whisper)
    return Engine(request.param, request.getfixturevalue("tiny_ct2"))


@pytest.fixture(name="offline_models")
def offline_models_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Named models are looked up in an empty folder of the test's own, never the real cache."""
    from transcripts.models_offline import WHISPER_DIR_ENV

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(WHISPER_DIR_ENV, str(tmp_path / "models"))
    (tmp_path / "models").mkdir(exist_ok=True)
    return tmp_path / "models"


def tone_and_silence(pattern: list[tuple[str, float]], *, rate: int = 16_000) -> np.ndarray:
    """16 kHz mono audio from (kind, seconds) pieces: ``tone``, ``noise`` or ``silence``."""
    rng = np.random.default_rng(7)
    pieces = []
    for kind, seconds in pattern:
        n = round(seconds * rate)
        t = np.arange(n) / rate
        if kind == "tone":
            wobble = 1 + 0.2 * np.sin(2 * np.pi * 3 * t)
            piece = 0.3 * np.sin(2 * np.pi * 180 * t * wobble)
        elif kind == "noise":
            piece = 0.2 * rng.standard_normal(n)
        elif kind == "silence":
            piece = 1e-4 * rng.standard_normal(n)  # a −80 dBFS hiss, not digital zero
        else:
            raise ValueError(kind)
        pieces.append(piece)
    return np.concatenate(pieces).astype(np.float32)


def write_wav(path: Path, audio: np.ndarray, *, rate: int = 16_000) -> Path:
    """16-bit mono WAV of a float array."""
    import wave

    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(pcm.tobytes())
    return path


def add_mastered_episode(station, number: int, audio: np.ndarray | None, **fields) -> None:  # noqa: ANN001
    """An episode whose master is ``audio`` (as if the master stage had run), or no master."""
    from datetime import UTC, datetime

    from hotline.models import Episode

    episode = Episode(
        number=number,
        title=fields.pop("title", "养老服务面对面"),
        air_start=fields.pop("air_start", datetime(2022, 8, 6, 3, tzinfo=UTC)),
        hosts=fields.pop("hosts", ["李明", "王芳"]),
        status="recorded",
        **fields,
    )
    if audio is not None:
        station.master_dir.mkdir(parents=True, exist_ok=True)
        path = write_wav(station.master_dir / f"{number:04d}.wav", audio)
        episode.audio_path = path.relative_to(station.root).as_posix()
        episode.audio_seconds = len(audio) / 16_000
        episode.status = "mastered"
    with station.session() as session:
        session.add(episode)


def tiny_settings(station, checkpoint: Path, **overrides) -> None:  # noqa: ANN001
    """Point the station at the tiny checkpoint (or CTranslate2 folder) with fast,
    deterministic decoding."""
    from hotline.config import save_settings

    settings = station.settings.transcribe
    settings.model = str(checkpoint)
    settings.beam_size = 0
    settings.temperatures = [0.0]
    settings.max_window_tokens = 8
    settings.chunk_seconds = 30.0
    settings.threads = 1  # as torch's one thread: a second mostly waits on a shared machine
    for key, value in overrides.items():
        setattr(settings, key, value)
    save_settings(station.settings, station.settings_path)
