"""Speech recognition backends: the ``AsrBackend`` interface, openai-whisper, and the choice.

The rest of ``transcripts`` sees only ``AsrBackend.transcribe(audio, prompt=…, language=…)``:
16 kHz mono float32 in, ``RawSegment`` list out (seconds from the start of ``audio``, with
word timings when asked for). This module knows openai-whisper's options and picks the
backend for the settings (``make_backend``); ``transcripts.asr_ct2`` is faster-whisper.
Engines are imported only inside functions, so importing this module costs nothing.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from hotline.config import TranscribeSettings
from hotline.errors import InvalidInput
from hotline.stages import check_cancelled
from transcripts.models_offline import (
    BACKENDS,
    FASTER,
    OPENAI,
    load_checkpoint,
    prefers_ct2,
    resolve_model,
)
from transcripts.words import Word

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16_000
"""What every backend takes: 16 kHz mono float32."""


@dataclass(frozen=True)
class RawSegment:
    """A piece of recognised speech, in seconds from the start of the audio given."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    """Word timings, when the backend was asked for them (the words spell ``text``)."""


def make_segment(
    start: float, end: float, text: str, words: Iterable[Word], *, duration: float
) -> RawSegment:
    """A segment with its times (and its words') clamped to the audio: whisper's word
    alignment can put a time a frame before zero or past the end."""

    def clamp(t: float, low: float) -> float:
        return min(max(float(t), low), duration)

    start = clamp(start, 0.0)
    timed = []
    for word in words:
        word_start = clamp(word.start, 0.0)
        timed.append(Word(word_start, clamp(word.end, word_start), word.text))
    return RawSegment(start, clamp(end, start), text, tuple(timed))


class AsrBackend(Protocol):
    """A speech recogniser."""

    @property
    def model_name(self) -> str:
        """What produced the text (stored with the transcript)."""
        ...

    def transcribe(
        self, audio: np.ndarray, *, prompt: str | None = None, language: str = "zh"
    ) -> list[RawSegment]:
        """Recognise ``audio`` (16 kHz mono float32); segments in time order."""
        ...


@dataclass(frozen=True)
class DecodeOptions:
    """How whisper decodes; the same for every chunk of a run."""

    beam_size: int = 5
    """0 decodes greedily."""
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    """Fallback ladder: the next temperature is tried when the output looks like a failure."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Further keyword arguments for ``whisper.transcribe`` (benchmarks cap ``sample_len``)."""
    word_timestamps: bool = False
    """Ask the model for each word's start and end."""

    @classmethod
    def from_settings(cls, settings: TranscribeSettings) -> DecodeOptions:
        if settings.beam_size < 0:
            raise InvalidInput("transcribe.beam_size must be 0 (greedy) or more")
        temperatures = tuple(float(t) for t in settings.temperatures) or (0.0,)
        if any(not 0.0 <= t <= 1.0 for t in temperatures):
            raise InvalidInput("transcribe.temperatures must lie between 0 and 1")
        if settings.max_window_tokens < 0:
            raise InvalidInput("transcribe.max_window_tokens must be 0 (whisper's limit) or more")
        extra = {"sample_len": settings.max_window_tokens} if settings.max_window_tokens else {}
        return cls(
            beam_size=settings.beam_size,
            temperatures=temperatures,
            extra=extra,
            word_timestamps=settings.word_timestamps,
        )

    def with_extra(self, extra: Mapping[str, Any] | None) -> DecodeOptions:
        if not extra:
            return self
        return replace(self, extra={**self.extra, **extra})

    def whisper_kwargs(self, *, language: str, device: str) -> dict[str, Any]:
        """Keyword arguments for ``whisper.transcribe`` (prompt excluded)."""
        return {
            "verbose": None,
            "language": language,
            "task": "transcribe",
            "temperature": self.temperatures,
            "beam_size": self.beam_size or None,
            # Against repetition loops and drift: each 30 s window stands on its own.
            "condition_on_previous_text": False,
            "fp16": device == "cuda",
            "word_timestamps": self.word_timestamps,
            **self.extra,
        }


def pick_device(setting: str, *, engine: str = OPENAI) -> str:
    """``auto`` → ``cuda`` when the engine (torch, or CTranslate2 for faster-whisper) sees a
    GPU, else ``cpu``; ``cpu``/``cuda`` as given."""
    setting = setting.strip().lower()
    if setting not in ("auto", "cpu", "cuda"):
        raise InvalidInput(f"transcribe.device {setting!r}: use auto, cpu or cuda")
    if setting == "cpu":
        return "cpu"
    if engine == FASTER:
        import ctranslate2

        found, library = ctranslate2.get_cuda_device_count() > 0, "CTranslate2"
    else:
        import torch

        found, library = torch.cuda.is_available(), "torch"
    if found:
        return "cuda"
    if setting == "cuda":
        raise InvalidInput(f"transcribe.device is cuda, but {library} sees no CUDA device here")
    return "cpu"


_WHISPER_RUNNING = threading.Lock()
"""Held by the one ``whisper.transcribe`` this process runs at a time."""
_LOADING = threading.Lock()
WAIT_STEP = 0.5
"""Seconds between two looks for a cancel while waiting for whisper."""


@contextmanager
def _whisper_held() -> Iterator[None]:
    """openai-whisper to this thread alone, for one ``whisper.transcribe``.

    Whisper decodes with hooks it installs on the model (the key/value cache, the
    cross-attention of word timings) and switches attention kernels for word timings
    by a class attribute (``disable_sdpa``), for every model at once: two transcriptions
    at once in one process mix these up and fail. A worker running two jobs has them take
    turns here (each already uses every core through torch); a job cancelled while it
    waits stops waiting.
    """
    while not _WHISPER_RUNNING.acquire(timeout=WAIT_STEP):
        check_cancelled()
    try:
        yield
    finally:
        _WHISPER_RUNNING.release()


class WhisperBackend:
    """openai-whisper on an in-memory model (one transcription at a time per process)."""

    def __init__(self, model: Any, *, name: str, device: str, options: DecodeOptions) -> None:
        self.model = model
        self.name = name
        self.device = device
        self.options = options

    @property
    def model_name(self) -> str:
        return self.name

    def transcribe(
        self, audio: np.ndarray, *, prompt: str | None = None, language: str = "zh"
    ) -> list[RawSegment]:
        import numpy as np
        import whisper

        kwargs = self.options.whisper_kwargs(language=language, device=self.device)
        if prompt:
            kwargs["initial_prompt"] = prompt
            if _carries_prompt():
                # Without conditioning, whisper would use the prompt for the first window
                # only; names and script matter in every window.
                kwargs["carry_initial_prompt"] = True
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        with _whisper_held():
            result = whisper.transcribe(_Cancellable(self.model), audio, **kwargs)
        duration = len(audio) / SAMPLE_RATE
        return [
            make_segment(
                s["start"],
                s["end"],
                str(s["text"]),
                (Word(w["start"], w["end"], str(w["word"])) for w in s.get("words") or ()),
                duration=duration,
            )
            for s in result["segments"]
        ]


class _Cancellable:
    """The model as ``whisper.transcribe`` sees it: a cancelled job stops before the next
    30-second window instead of after the whole chunk (minutes on a CPU)."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Word timings run the model itself (whisper.timing.find_alignment).
        return self._model(*args, **kwargs)

    def decode(self, *args: Any, **kwargs: Any) -> Any:
        check_cancelled()
        return self._model.decode(*args, **kwargs)


@lru_cache(maxsize=1)
def _carries_prompt() -> bool:
    import whisper

    return "carry_initial_prompt" in inspect.signature(whisper.transcribe).parameters


@lru_cache(maxsize=2)
def _cached_model(path: str, stamp: tuple[int, int], name: str, device: str) -> Any:
    # ``stamp`` (size, mtime) makes a replaced checkpoint load afresh.
    return load_checkpoint(Path(path), name=name, device=device)


def whisper_backend(
    settings: TranscribeSettings,
    *,
    model: str | None = None,
    base: Path | None = None,
    extra: Mapping[str, Any] | None = None,
) -> WhisperBackend:
    """The whisper backend for ``settings`` (``model`` overrides ``settings.model``).

    The model is checked to be on disk before whisper sees it; a process keeps the last
    model loaded, so a worker transcribing many episodes loads it once.

    Raises:
        ModelUnavailable: the model is not on this machine (with how to provide it).
        CorruptCheckpoint: the checkpoint file cannot be loaded (naming it).
    """
    options = DecodeOptions.from_settings(settings).with_extra(extra)
    spec = (model or settings.model).strip()
    name, path = resolve_model(spec, base=base)
    device = pick_device(settings.device)
    stat = path.stat()
    with _LOADING:  # two jobs starting at once load the model once, not twice
        loaded = _cached_model(str(path), (stat.st_size, stat.st_mtime_ns), name, device)
    return WhisperBackend(loaded, name=spec, device=device, options=options)


def choose_backend(
    settings: TranscribeSettings,
    *,
    model: str | None = None,
    backend: str | None = None,
    base: Path | None = None,
) -> str:
    """openai-whisper or faster-whisper for these settings (``backend`` overrides them).

    ``auto`` takes faster-whisper when the model is a CTranslate2 folder, or a converted
    model of that name is on disk; otherwise the openai-whisper reference.
    """
    from transcripts.asr_ct2 import pick_compute_type

    choice = (backend or settings.backend).strip().lower()
    if choice in BACKENDS:
        return choice
    if choice != "auto":
        raise InvalidInput(f"transcribe backend {choice!r}: use auto, {' or '.join(BACKENDS)}")
    spec = (model or settings.model).strip()
    prefer = pick_compute_type(settings.compute_type, device="cpu", check=False)
    return FASTER if prefers_ct2(spec, base=base, prefer=prefer) else OPENAI


def make_backend(
    settings: TranscribeSettings,
    *,
    model: str | None = None,
    backend: str | None = None,
    base: Path | None = None,
    extra: Mapping[str, Any] | None = None,
) -> AsrBackend:
    """The recogniser for ``settings``: ``model`` and ``backend`` override the settings.

    Raises:
        ModelUnavailable: the model is not on this machine in the form the backend needs.
        CorruptCheckpoint: the model cannot be loaded (naming it).
    """
    if choose_backend(settings, model=model, backend=backend, base=base) == FASTER:
        from transcripts.asr_ct2 import faster_whisper_backend

        return faster_whisper_backend(settings, model=model, base=base, extra=extra)
    return whisper_backend(settings, model=model, base=base, extra=extra)
