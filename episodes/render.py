"""Pass 2 of mastering and its check: the timeline, limiter and encoder, then the MP3 measured.

``render`` streams the programme (gain applied, jingles crossfaded in) through the true-peak
limiter into the MP3 encoder; ``measure`` decodes the result as a player would; a
``RenderPlan`` corrects itself from that measurement when encoding or hard limiting moved
loudness or peaks off target. ``calibrate`` learns the same from one minute before a long
render, so the full render is usually right the first time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from episodes.loudness import Analyser, Limiter, TruePeakMeter
from hotline.config import AudioSettings
from hotline.errors import InvalidInput
from hotline.ffmpeg import Encoder, decode_pcm, iter_pcm, probe

BLOCK_FRAMES = 1 << 16
LOUDNESS_TOLERANCE = 0.3
"""A render whose MP3 misses the target by more than this (LU) is redone."""
CALIBRATION_SECONDS = 60.0


def bitrate_kbps(settings: AudioSettings) -> int:
    """The MP3 bitrate: the setting, or 96 kbps mono / 128 kbps stereo."""
    if settings.bitrate_kbps:
        return settings.bitrate_kbps
    return 96 if settings.channels == 1 else 128


def share(done: float, expected: float) -> float:
    return min(1.0, done / expected) if expected > 0 else 0.0


def _encoder(path: Path, settings: AudioSettings) -> Encoder:
    return Encoder(
        path,
        sample_rate=settings.sample_rate,
        channels=settings.channels,
        bitrate_kbps=bitrate_kbps(settings),
    )


@dataclass
class Jingle:
    path: Path
    pcm: np.ndarray
    gain: float


@dataclass
class Measured:
    frames: int
    loudness: float
    true_peak_db: float


@dataclass
class RenderPlan:
    """What pass 2 does; ``adjust`` corrects it from a measurement of the encoded result."""

    source: Path
    settings: AudioSettings
    start: int
    stop: int
    gain_db: float
    ceiling_db: float
    intro: Jingle | None
    outro: Jingle | None

    tried: list[tuple[float, float]] = field(default_factory=list)
    """(gain dB, measured LUFS) of each render so far."""

    def adjust(self, measured: Measured) -> bool:
        """Correct gain and ceiling for what encoding and limiting did; False if on target.

        Loudness grows less than 1 LU per dB of gain once the limiter works hard, so after two
        renders the next gain comes from the slope between them (the secant method).
        """
        target, limit = self.settings.target_lufs, self.settings.true_peak_db
        miss = target - measured.loudness
        over = measured.true_peak_db - limit
        if not math.isfinite(miss) or (abs(miss) <= LOUDNESS_TOLERANCE and over <= 0):
            return False
        self.tried.append((self.gain_db, measured.loudness))
        if abs(miss) > LOUDNESS_TOLERANCE:
            slope = 1.0
            if len(self.tried) >= 2:
                (g0, l0), (g1, l1) = self.tried[-2:]
                if g1 != g0:
                    slope = min(1.0, max(0.1, (l1 - l0) / (g1 - g0)))
            self.gain_db += miss / slope
        if over > 0:
            self.ceiling_db -= over + 0.3
        return True


def calibrate(plan: RenderPlan, partial: Path) -> None:
    """Correct gain and ceiling by what limiter and encoder do to a minute of the programme."""
    settings = plan.settings
    rate, channels = settings.sample_rate, settings.channels
    middle = (plan.start + plan.stop) / 2 / rate
    begin = max(plan.start / rate, middle - CALIBRATION_SECONDS / 2)
    excerpt = decode_pcm(
        plan.source, sample_rate=rate, channels=channels, start=begin, duration=CALIBRATION_SECONDS
    ).reshape(-1, channels)
    analyser = Analyser(rate, channels)
    analyser.feed(excerpt)
    expected = analyser.summary().loudness() + plan.gain_db
    gain = np.float32(10 ** (plan.gain_db / 20))
    limiter = Limiter(rate, channels, plan.ceiling_db)
    trial = partial.with_name(partial.name + ".trial")
    try:
        with _encoder(trial, settings) as encoder:
            for at in range(0, len(excerpt), BLOCK_FRAMES):
                encoder.write(limiter.process(excerpt[at : at + BLOCK_FRAMES] * gain))
            encoder.write(limiter.flush())
        after = measure(trial, settings, lambda fraction: None)
    finally:
        trial.unlink(missing_ok=True)
    # Loudness the limiter and the encoder take away is put back in the gain.
    lost = expected - after.loudness
    if math.isfinite(lost):
        plan.gain_db += lost
    rise = after.true_peak_db - plan.ceiling_db
    if math.isfinite(rise) and rise > settings.true_peak_margin_db:
        plan.ceiling_db = settings.true_peak_db - rise - 0.2


def render(plan: RenderPlan, partial: Path, progress: Callable[[float], None]) -> None:
    """Pass 2: timeline → limiter → MP3 encoder writing ``partial``."""
    settings = plan.settings
    rate, channels = settings.sample_rate, settings.channels
    limiter = Limiter(rate, channels, plan.ceiling_db)
    total, written = plan.stop - plan.start, 0
    with _encoder(partial, settings) as encoder:
        for block in _timeline(plan):
            out = limiter.process(block)
            encoder.write(out)
            written += len(out)
            progress(share(written, total))
        encoder.write(limiter.flush())


def measure(path: Path, settings: AudioSettings, progress: Callable[[float], None]) -> Measured:
    """Loudness and true peak of the encoded file, decoded as a player would."""
    rate, channels = settings.sample_rate, settings.channels
    loudness = Analyser(rate, channels)
    peak = TruePeakMeter(channels, floor_db=settings.true_peak_db - settings.true_peak_margin_db)
    info = probe(path)
    for block in iter_pcm(path, sample_rate=rate, channels=channels, block_frames=BLOCK_FRAMES):
        loudness.feed(block)
        peak.feed(block)
        progress(share(loudness.frames, info.duration * rate))
    return Measured(
        frames=loudness.frames,
        loudness=loudness.summary().loudness(),
        true_peak_db=peak.db,
    )


def _timeline(plan: RenderPlan) -> Iterator[np.ndarray]:
    """The programme with gain applied and the jingles crossfaded in, in blocks."""
    settings = plan.settings
    gain = np.float32(10 ** (plan.gain_db / 20))
    frames = _Frames(block * gain for block in _programme(plan))
    length = plan.stop - plan.start
    fade = round(settings.crossfade_ms / 1000 * settings.sample_rate)
    head = min(fade, len(plan.intro.pcm), length // 2) if plan.intro else 0
    tail = min(fade, len(plan.outro.pcm), length // 2) if plan.outro else 0
    if plan.intro is not None:
        intro = plan.intro.pcm * np.float32(plan.intro.gain)
        yield intro[: len(intro) - head]
        yield _crossfade(intro[len(intro) - head :], frames.take(head))
    yield from frames.stream(length - head - tail, BLOCK_FRAMES)
    if plan.outro is not None:
        outro = plan.outro.pcm * np.float32(plan.outro.gain)
        yield _crossfade(frames.take(tail), outro[:tail])
        yield outro[tail:]


def _programme(plan: RenderPlan) -> Iterator[np.ndarray]:
    """Frames [start, stop) of the decoded source."""
    settings, position = plan.settings, 0
    for block in iter_pcm(
        plan.source,
        sample_rate=settings.sample_rate,
        channels=settings.channels,
        block_frames=BLOCK_FRAMES,
    ):
        a, b = max(plan.start - position, 0), min(plan.stop - position, len(block))
        position += len(block)
        if a < b:
            yield block[a:b]
        if position >= plan.stop:
            return
    raise InvalidInput(f"{plan.source}: changed while it was being mastered")


def _crossfade(leaving: np.ndarray, arriving: np.ndarray) -> np.ndarray:
    """Equal-power crossfade of two equally long pieces."""
    n = min(len(leaving), len(arriving))
    if n == 0:
        return np.zeros((0, leaving.shape[1]), dtype=np.float32)
    angle = (np.arange(n, dtype=np.float32) + 0.5) / n * np.float32(np.pi / 2)
    return leaving[:n] * np.cos(angle)[:, None] + arriving[:n] * np.sin(angle)[:, None]


class _Frames:
    """Exact frame counts pulled from an iterator of blocks."""

    def __init__(self, blocks: Iterator[np.ndarray]) -> None:
        self._blocks = iter(blocks)
        self._pending: np.ndarray | None = None

    def take(self, n: int) -> np.ndarray:
        parts, need = [], n
        while need > 0:
            block = self._pending if self._pending is not None else next(self._blocks, None)
            self._pending = None
            if block is None:
                break
            parts.append(block[:need])
            if len(block) > need:
                self._pending = block[need:]
            need -= min(need, len(block))
        return np.concatenate(parts) if parts else np.zeros((0, 1), dtype=np.float32)

    def stream(self, n: int, size: int) -> Iterator[np.ndarray]:
        while n > 0:
            piece = self.take(min(n, size))
            if len(piece) == 0:
                return
            n -= len(piece)
            yield piece
