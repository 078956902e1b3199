"""The demo's recording: a generated programme for the newest aired episode, run through
the real pipeline (ingest → master → transcribe → publish).

The programme is speech-like audio made with numpy: voiced syllables (a harmonic
tone with a falling pitch and a syllable envelope) and fricative noise bursts, grouped
into phrases with pauses, and a little dead air at both ends for the trimmer. When
Debian's ``espeak-ng`` is installed it speaks the episode's questions in Mandarin
instead. Either way it is a few minutes long, so the demo stays quick.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlmodel import select

from hotline.models import Episode, Question, QuestionStatus
from hotline.station import Station

RATE = 44100
PROGRAMME_SECONDS = 180.0
LEAD_IN, TAIL = 1.5, 3.0  # dead air the mastering trims


@dataclass(frozen=True)
class DemoRecording:
    """What the recording step did, for the demo summary."""

    episode: int
    seconds: float
    voice: str  # "espeak-ng" or "synthetic"
    outcomes: list[str]


def _syllable(rng: random.Random, pitch: float) -> np.ndarray:
    length = int(RATE * rng.uniform(0.12, 0.26))
    t = np.arange(length) / RATE
    f0 = pitch * np.linspace(1.08, 0.92, length)
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    voiced = sum(np.sin(k * phase) / k for k in range(1, 6))
    envelope = np.sin(np.pi * t / t[-1]) ** 2
    sound = voiced * envelope * 0.35
    if rng.random() < 0.3:  # a fricative onset
        burst = int(RATE * 0.04)
        noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 0.08, burst)
        sound[:burst] += noise
    return sound.astype(np.float32)


def _phrases(seed: str, seconds: float) -> Iterator[np.ndarray]:
    rng = random.Random(seed)
    produced = 0.0
    yield np.zeros(int(RATE * LEAD_IN), np.float32)
    while produced < seconds:
        pitch = rng.uniform(95, 230)  # host and guests take turns
        for _ in range(rng.randint(4, 14)):
            piece = _syllable(rng, pitch)
            gap = np.zeros(int(RATE * rng.uniform(0.02, 0.08)), np.float32)
            produced += (len(piece) + len(gap)) / RATE
            yield np.concatenate([piece, gap])
        pause = rng.uniform(0.25, 1.1)
        produced += pause
        yield np.zeros(int(RATE * pause), np.float32)
    yield np.zeros(int(RATE * TAIL), np.float32)


def write_wav(path: Path, blocks: Iterator[np.ndarray]) -> float:
    """Write mono 16-bit blocks to ``path`` as they come; return the length in seconds."""
    frames = 0
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        for block in blocks:
            out.writeframes((np.clip(block, -1, 1) * 32767).astype("<i2").tobytes())
            frames += len(block)
    return frames / RATE


def _espeak_blocks(lines: list[str], folder: Path) -> Iterator[np.ndarray]:
    yield np.zeros(int(RATE * LEAD_IN), np.float32)
    for i, line in enumerate(lines):
        spoken = folder / f"line{i}.wav"
        subprocess.run(
            ["espeak-ng", "-v", "cmn", "-s", "150", "-w", str(spoken), line],
            check=True,
            capture_output=True,
        )
        with wave.open(str(spoken)) as clip:
            pcm = np.frombuffer(clip.readframes(clip.getnframes()), "<i2")
            rate = clip.getframerate()
        samples = pcm.astype(np.float32) / 32768
        # espeak speaks at 22.05 kHz: linear resampling is plenty for a demo voice.
        positions = np.arange(0, len(samples), rate / RATE)
        yield np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)
        yield np.zeros(int(RATE * 0.8), np.float32)
    yield np.zeros(int(RATE * TAIL), np.float32)


def make_recording(path: Path, *, seed: str, lines: list[str]) -> tuple[float, str]:
    """Write the programme to ``path``; Mandarin speech when espeak-ng is present."""
    if shutil.which("espeak-ng") and lines:
        with tempfile.TemporaryDirectory() as folder:
            return write_wav(path, _espeak_blocks(lines, Path(folder))), "espeak-ng"
    return write_wav(path, _phrases(seed, PROGRAMME_SECONDS)), "synthetic"


class _QuietObserver:
    def started(self, job: object) -> None: ...

    def progress(self, job: object, fraction: float, message: str) -> None: ...

    def finished(self, outcome: object) -> None: ...


def record_newest_episode(station: Station, number: int) -> DemoRecording:
    """Give episode ``number`` a generated recording and run its whole pipeline."""
    from hotline.pipeline import ingest, process

    with station.session() as session:
        episode = session.exec(select(Episode).where(Episode.number == number)).one()
        answered = session.exec(
            select(Question)
            .where(Question.episode_id == episode.id)
            .where(Question.status.in_([QuestionStatus.answered, QuestionStatus.resolved]))
            .order_by(Question.answer_offset)
        ).all()
        lines = [f"第{number}期，{episode.title}。"] + [q.text for q in answered]
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / f"第{number}期 录音.wav"
        seconds, voice = make_recording(source, seed=f"demo recording {number}", lines=lines)
        with station.session() as session:
            # The demo's answers were logged against an hour-long show; place them in
            # this short recording so they become chapters inside it.
            for i, question in enumerate(answered):
                question.answer_offset = round((i + 1) * seconds / (len(answered) + 1), 1)
                session.add(question)
            ingest(station=station, session=session, number=number, source=source)
    summary = process(station=station, observer=_QuietObserver(), episode=number)
    outcomes = [
        f"{o.kind}: {o.message}" if o.status == "done" else f"{o.kind}: {o.status}: {o.message}"
        for o in summary.outcomes
    ]
    return DemoRecording(episode=number, seconds=seconds, voice=voice, outcomes=outcomes)
