"""The faster-whisper backend: whisper on CTranslate2, the same interface as openai-whisper's.

Decoding follows ``DecodeOptions`` exactly as the openai-whisper backend does (beam, the
temperature ladder, no conditioning on previous text, the prompt in every window), so
the two differ only in the engine. The prompt goes in as faster-whisper's ``hotwords``:
that is the text put after ``<|startofprev|>`` in every window, which is what
openai-whisper's ``carry_initial_prompt`` does (its ``initial_prompt`` would reach the first
window only). On CUDA the model runs in float16, on CPU in int8 with one thread per core,
unless ``transcribe.compute_type`` and ``transcribe.threads`` say otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hotline.config import TranscribeSettings
from hotline.errors import InvalidInput
from hotline.stages import check_cancelled
from transcripts.asr import SAMPLE_RATE, DecodeOptions, RawSegment, Word, make_segment, pick_device
from transcripts.models_offline import FASTER, CorruptCheckpoint, resolve_ct2_model

if TYPE_CHECKING:
    import numpy as np

COMPUTE_TYPES = ("int8", "int8_float32", "int8_float16", "int16", "float16", "bfloat16", "float32")
BATCHED = 8
"""Windows decoded together when ``transcribe.batch_size`` is 0 (auto), on a GPU and on a
CPU alike: on this project's 2-core CPU, 265 s of speech through our pipeline took int8
24.7 s sequential and 19.5 s batched (36 CPU seconds instead of 44, the same word error
rate; ``bench_transcribe.py --part engines``)."""


def pick_compute_type(setting: str, *, device: str, check: bool = True) -> str:
    """``auto`` → float16 on CUDA, int8 on CPU; an explicit type is checked against the device."""
    setting = setting.strip().lower()
    if setting == "auto":
        return "float16" if device == "cuda" else "int8"
    if setting not in COMPUTE_TYPES:
        raise InvalidInput(
            f"transcribe.compute_type {setting!r}: use auto or one of {', '.join(COMPUTE_TYPES)}"
        )
    if check:
        import ctranslate2

        supported = ctranslate2.get_supported_compute_types(device)
        if setting not in supported:
            raise InvalidInput(
                f"transcribe.compute_type {setting} is not supported on this {device} "
                f"(supported: {', '.join(sorted(supported))})"
            )
    return setting


def pick_threads(setting: int) -> int:
    if setting < 0:
        raise InvalidInput("transcribe.threads must be 0 (one per core) or more")
    return setting or os.cpu_count() or 1


def pick_batch_size(setting: int) -> int:
    if setting < 0:
        raise InvalidInput("transcribe.batch_size must be 0 (auto), 1 (sequential) or more")
    return setting or BATCHED


def faster_kwargs(options: DecodeOptions, *, language: str) -> dict[str, Any]:
    """Keyword arguments for faster-whisper's ``transcribe`` (prompt excluded)."""
    kwargs: dict[str, Any] = {
        "language": language,
        "task": "transcribe",
        "beam_size": options.beam_size or 1,
        "temperature": list(options.temperatures),
        # Against repetition loops and drift: each 30 s window stands on its own.
        "condition_on_previous_text": False,
        "word_timestamps": options.word_timestamps,
        "vad_filter": False,  # our silence gate has already removed the pauses
    }
    extra = dict(options.extra)
    if "sample_len" in extra:
        kwargs["max_new_tokens"] = extra.pop("sample_len")
    if "without_timestamps" in extra:
        kwargs["without_timestamps"] = extra.pop("without_timestamps")
    if extra:
        raise InvalidInput(f"faster-whisper takes no option {', '.join(sorted(extra))}")
    return kwargs


class FasterWhisperBackend:
    """faster-whisper on an in-memory CTranslate2 model."""

    def __init__(
        self,
        model: Any,
        *,
        name: str,
        device: str,
        compute_type: str,
        options: DecodeOptions,
        batch_size: int = 1,
    ) -> None:
        self.model = model
        self.name = name
        self.device = device
        self.compute_type = compute_type
        self.options = options
        self.batch_size = batch_size

    @property
    def model_name(self) -> str:
        return self.name

    def transcribe(
        self, audio: np.ndarray, *, prompt: str | None = None, language: str = "zh"
    ) -> list[RawSegment]:
        import numpy as np

        kwargs = faster_kwargs(self.options, language=language)
        if prompt:
            kwargs["hotwords"] = prompt
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        if self.batch_size > 1:
            from faster_whisper import BatchedInferencePipeline

            # The batched pipeline cuts the audio into windows at pauses found by its VAD
            # (our gate has removed the long ones already), then decodes them together.
            kwargs.update(vad_filter=True, batch_size=self.batch_size)
            segments, _ = BatchedInferencePipeline(self.model).transcribe(audio, **kwargs)
        else:
            segments, _ = self.model.transcribe(audio, **kwargs)
        duration = len(audio) / SAMPLE_RATE
        found: list[RawSegment] = []
        # faster-whisper decodes lazily, one window per step of this loop: a cancelled
        # job stops here between windows.
        for s in segments:
            check_cancelled()
            words = (Word(w.start, w.end, str(w.word)) for w in s.words or ())
            found.append(make_segment(s.start, s.end, str(s.text), words, duration=duration))
        return found


@lru_cache(maxsize=2)
def _cached_model(
    path: str, stamp: tuple[int, int], device: str, compute_type: str, threads: int
) -> Any:
    # ``stamp`` (size, mtime of model.bin) makes a replaced model load afresh.
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(
            path,
            device=device,
            compute_type=compute_type,
            cpu_threads=threads,
            local_files_only=True,
        )
    except (RuntimeError, ValueError, OSError) as exc:
        reason = next((s.strip() for s in str(exc).splitlines() if s.strip()), "")
        reason = (reason or type(exc).__name__)[:160]
        raise CorruptCheckpoint(
            f"CTranslate2 model {path} cannot be loaded ({reason}); convert it again with "
            "`hotline models convert`"
        ) from exc


def faster_whisper_backend(
    settings: TranscribeSettings,
    *,
    model: str | None = None,
    base: Path | None = None,
    extra: Mapping[str, Any] | None = None,
) -> FasterWhisperBackend:
    """The faster-whisper backend for ``settings`` (``model`` overrides ``settings.model``).

    Raises:
        ModelUnavailable: no CTranslate2 model of that name or path here (with how to make one).
        CorruptCheckpoint: the folder cannot be loaded.
        InvalidInput: a device, compute type, thread or batch setting that cannot work.
    """
    options = DecodeOptions.from_settings(settings).with_extra(extra)
    faster_kwargs(options, language=settings.language)  # refuses unknown extras up front
    device = pick_device(settings.device, engine=FASTER)
    compute_type = pick_compute_type(settings.compute_type, device=device)
    threads = pick_threads(settings.threads)
    batch_size = pick_batch_size(settings.batch_size)
    spec = (model or settings.model).strip()
    _, folder = resolve_ct2_model(spec, base=base, prefer=compute_type)
    weights = (folder / "model.bin").stat()
    loaded = _cached_model(
        str(folder), (weights.st_size, weights.st_mtime_ns), device, compute_type, threads
    )
    return FasterWhisperBackend(
        loaded,
        name=spec,
        device=device,
        compute_type=compute_type,
        options=options,
        batch_size=batch_size,
    )
