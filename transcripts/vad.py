"""An energy gate for ASR: where the speech is, chunks cut at pauses, silence packed away.

Whisper hallucinates on silence and spends a full 30-second window on it, so pauses longer
than ``min_silence`` are cut out before the audio reaches the model (``pad`` seconds of each
pause are kept, so word onsets survive and whisper still hears a break). The speech that is
left is packed end to end; ``TimeMap`` takes times in the packed audio back to the source.

Levels are computed per 20 ms frame and can be fed block by block (``LevelMeter``), so a
three-hour recording never has to sit in memory to be planned.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from hotline.errors import InvalidInput

SAMPLE_RATE = 16_000
FRAME_SECONDS = 0.02
ABSOLUTE_FLOOR_DB = -60.0
"""Nothing quieter than this is ever speech."""
QUIET_MARGIN_DB = 15.0
"""Speech is at least this much louder than the quietest stretches …"""
LOUD_MARGIN_DB = 30.0
"""… but a threshold never sits more than this below the loud passages."""
CUT_SMOOTHING_SECONDS = 0.5

Region = tuple[float, float]
"""(start, end) in seconds of the source."""


class LevelMeter:
    """Frame levels in dBFS (mean power of each 20 ms frame) of audio fed in blocks."""

    def __init__(self, *, rate: int = SAMPLE_RATE, frame: float = FRAME_SECONDS) -> None:
        self.rate = rate
        self.size = max(round(rate * frame), 1)
        self.samples = 0
        self._pending = np.zeros(0, dtype=np.float32)
        self._levels: list[np.ndarray] = []

    def feed(self, block: np.ndarray) -> None:
        block = np.asarray(block, dtype=np.float32).reshape(-1)
        self.samples += len(block)
        data = np.concatenate((self._pending, block)) if len(self._pending) else block
        whole = len(data) // self.size * self.size
        if whole:
            frames = data[:whole].astype(np.float64).reshape(-1, self.size)
            self._levels.append(_db(np.mean(frames * frames, axis=1)))
        self._pending = data[whole:].copy()

    def finish(self) -> np.ndarray:
        """The levels of everything fed (a last short frame included)."""
        if len(self._pending):
            tail = self._pending.astype(np.float64)
            self._levels.append(_db(np.array([np.mean(tail * tail)])))
            self._pending = np.zeros(0, dtype=np.float32)
        return np.concatenate(self._levels) if self._levels else np.zeros(0)

    @property
    def duration(self) -> float:
        return self.samples / self.rate


def _db(power: np.ndarray) -> np.ndarray:
    return 10.0 * np.log10(power + 1e-12)


def frame_levels(audio: np.ndarray, *, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Levels of a whole array (see ``LevelMeter``)."""
    meter = LevelMeter(rate=rate)
    meter.feed(audio)
    return meter.finish()


def speech_threshold(levels: np.ndarray) -> float:
    """The level above which a frame counts as speech, adapted to the recording.

    Well above the quiet stretches (noise floor, room tone), never far below the loud
    passages (so continuous talk is never gated), never below ``ABSOLUTE_FLOOR_DB``.
    """
    if len(levels) == 0:
        return ABSOLUTE_FLOOR_DB
    quiet, loud = np.percentile(levels, [10, 95])
    return float(max(ABSOLUTE_FLOOR_DB, min(quiet + QUIET_MARGIN_DB, loud - LOUD_MARGIN_DB)))


def speech_regions(
    levels: np.ndarray,
    *,
    duration: float,
    min_silence: float,
    pad: float,
    frame: float = FRAME_SECONDS,
    threshold: float | None = None,
) -> list[Region]:
    """Stretches with speech: loud frames, joined across pauses shorter than ``min_silence``
    and widened by ``pad`` on each side (within ``[0, duration]``)."""
    if min_silence < 0 or pad < 0:
        raise InvalidInput("transcribe.min_silence_seconds and speech_pad_seconds must be ≥ 0")
    limit = speech_threshold(levels) if threshold is None else threshold
    loud = np.asarray(levels) > limit
    if not loud.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], loud.astype(np.int8), [0]))))
    joined: list[list[float]] = []
    for first, stop in zip(edges[::2], edges[1::2], strict=True):
        start, end = float(first) * frame, float(stop) * frame
        if joined and start - joined[-1][1] < min_silence:
            joined[-1][1] = end
        else:
            joined.append([start, end])
    regions: list[Region] = []
    for start, end in joined:
        start, end = max(start - pad, 0.0), min(end + pad, duration)
        if regions and start <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(end, regions[-1][1]))
        elif end > start:
            regions.append((start, end))
    return [(round(s, 3), round(e, 3)) for s, e in regions]


@dataclass(frozen=True)
class Chunk:
    """A stretch of the source transcribed (and stored) as one unit, with its speech."""

    index: int
    start: float
    end: float
    regions: tuple[Region, ...]

    @property
    def speech_seconds(self) -> float:
        return sum(e - s for s, e in self.regions)


def plan_chunks(
    levels: np.ndarray,
    regions: list[Region],
    *,
    duration: float,
    chunk_seconds: float,
    frame: float = FRAME_SECONDS,
) -> list[Chunk]:
    """Cut the source into chunks of about ``chunk_seconds``, at pauses.

    A cut goes in the middle of the skipped pause nearest the target length; where the talk
    never pauses that long, at the quietest half second near it. The last chunk may run a
    quarter longer than ``chunk_seconds`` rather than leave a stub.
    """
    if chunk_seconds < 30:
        raise InvalidInput("transcribe.chunk_seconds must be at least 30 (one whisper window)")
    cuts = [0.0]
    while duration - cuts[-1] > chunk_seconds * 1.25:
        target = cuts[-1] + chunk_seconds
        cuts.append(_best_cut(levels, regions, target, chunk_seconds * 0.25, frame))
    cuts.append(duration)
    chunks = []
    for index, (start, end) in enumerate(pairwise(cuts)):
        inside = tuple((max(s, start), min(e, end)) for s, e in regions if e > start and s < end)
        chunks.append(Chunk(index, round(float(start), 3), round(float(end), 3), inside))
    return chunks


def _best_cut(
    levels: np.ndarray, regions: list[Region], target: float, window: float, frame: float
) -> float:
    gaps = [(end + start) / 2 for (_, end), (start, _) in pairwise(regions)]
    near = [g for g in gaps if abs(g - target) <= window]
    if near:
        return round(float(min(near, key=lambda g: abs(g - target))), 3)
    lo = max(int((target - window) / frame), 0)
    hi = min(int((target + window) / frame), len(levels))
    if hi - lo < 2:
        return round(target, 3)
    power = 10.0 ** (np.asarray(levels[lo:hi]) / 10.0)
    width = max(int(CUT_SMOOTHING_SECONDS / frame), 1)
    smooth = np.convolve(power, np.ones(width) / width, mode="same")
    return round(float(lo + int(np.argmin(smooth))) * frame, 3)


@dataclass(frozen=True)
class TimeMap:
    """Packed-audio time → source time, for audio made of pieces cut from the source."""

    packed_starts: tuple[float, ...]
    source_starts: tuple[float, ...]
    lengths: tuple[float, ...]

    def to_source(self, t: float, *, end: bool = False) -> float:
        """The source time of packed time ``t``; an ``end`` on a seam stays in the piece before."""
        if not self.packed_starts:
            return 0.0
        find = bisect_left if end else bisect_right
        i = max(find(self.packed_starts, t) - 1, 0)
        inside = min(max(t - self.packed_starts[i], 0.0), self.lengths[i])
        return self.source_starts[i] + inside


def pack(
    audio: np.ndarray,
    regions: tuple[Region, ...] | list[Region],
    *,
    offset: float,
    rate: int = SAMPLE_RATE,
) -> tuple[np.ndarray, TimeMap]:
    """The ``regions`` of ``audio`` (which starts at source time ``offset``) end to end."""
    pieces: list[np.ndarray] = []
    packed_starts: list[float] = []
    source_starts: list[float] = []
    lengths: list[float] = []
    position = 0
    for start, end in regions:
        a = max(round((start - offset) * rate), 0)
        b = min(round((end - offset) * rate), len(audio))
        if b <= a:
            continue
        pieces.append(audio[a:b])
        packed_starts.append(position / rate)
        source_starts.append(offset + a / rate)
        lengths.append((b - a) / rate)
        position += b - a
    packed = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    timemap = TimeMap(tuple(packed_starts), tuple(source_starts), tuple(lengths))
    return packed.astype(np.float32, copy=False), timemap
