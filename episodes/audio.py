"""Mastering: raw recording → trimmed, levelled, limited MP3 with optional jingles.

Streaming passes through ffmpeg pipes, so memory stays flat for any length:

1. analyse: decode to the master's rate and channels and keep 20 ms summaries (K-weighted
   energy, power, peak), enough to find the dead air at the ends and the gated loudness of
   what lies between;
2. render: decode again, apply the gain (jingles levelled to the same target and crossfaded
   in), run a look-ahead true-peak limiter and pipe the result into the MP3 encoder, which
   writes a temp file next to ``dest``;
3. check: decode that MP3 as a player would and measure its loudness and true peak. Encoding
   and hard limiting move both a little; when the MP3 misses the target by more than 0.3 LU
   or the ceiling at all, pass 2 runs again with corrected gain and ceiling (normal speech
   needs one round, very peaky audio up to four).

Programmes over five minutes first encode one minute from their middle to learn what the
limiter and encoder do, so the full render is usually right the first time. Passes 2 and 3
live in ``episodes.render``, the meters and the limiter in ``episodes.loudness``. Only a
finished, checked, fsynced temp file replaces ``dest``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from episodes.loudness import Analyser, Summary
from episodes.render import (
    BLOCK_FRAMES,
    Jingle,
    RenderPlan,
    bitrate_kbps,
    calibrate,
    measure,
    render,
    share,
)
from hotline.config import AudioSettings
from hotline.errors import InvalidInput
from hotline.ffmpeg import decode_pcm, iter_pcm, probe
from hotline.files import replace_durably

if TYPE_CHECKING:
    from episodes.tags import EpisodeTags

MASTER_VERSION = 1
"""Bump when a change to this module changes the output, so existing masters are redone."""
EDGE_PAD_SECONDS = 0.1
"""Dead air kept before the first and after the last sound, so onsets are not clipped."""
MAX_RENDERS = 4
PASS_ONE_SHARE = 0.2
"""Share of the progress bar for the analysis pass; the rest is encoding and checking."""
RENDER_SHARE = 0.75
"""Of each encode-and-check round, the share for encoding."""
CALIBRATE_ABOVE_SECONDS = 300.0
"""Long programmes first encode a minute from their middle to learn what the encoder does to
loudness and peaks, so the full render is right the first time (a retry costs a whole encode)."""
MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
# Settings that do not change a master's bytes; everything else goes into the fingerprint.
_NOT_IN_FINGERPRINT = ("intro", "outro", "min_recording_seconds", "max_jingle_seconds")


@dataclass(frozen=True)
class MasterResult:
    seconds: float
    bytes: int
    integrated_lufs: float
    """Of the MP3 as decoded (BS.1770-4, gated)."""
    true_peak_db: float
    """Of the MP3 as decoded, 4× oversampled, in dBTP."""
    trimmed_start: float
    """Seconds of dead air cut from the start."""
    trimmed_end: float
    """Seconds of dead air cut from the end."""


def master_fingerprint(
    *,
    source_sha256: str,
    settings: AudioSettings,
    intro_sha: str | None,
    outro_sha: str | None,
) -> str:
    """A hash of everything that determines the master: equal fingerprints, equal masters."""
    relevant = {k: v for k, v in asdict(settings).items() if k not in _NOT_IN_FINGERPRINT}
    relevant["bitrate_kbps"] = bitrate_kbps(settings)
    facts = {
        "version": MASTER_VERSION,
        "source": source_sha256,
        "intro": intro_sha,
        "outro": outro_sha,
        "settings": relevant,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def master(
    *,
    source: Path,
    dest: Path,
    settings: AudioSettings,
    intro: Path | None = None,
    outro: Path | None = None,
    progress: Callable[[float], None] | None = None,
    tags: EpisodeTags | None = None,
) -> MasterResult:
    """Master ``source`` into the MP3 ``dest``, replacing it atomically.

    Args:
        tags: when given, written into the temp file before it replaces ``dest``, so the
            tagged master appears in one step.

    Raises:
        InvalidInput: unreadable, truncated or all-silent source, a programme shorter than
            ``settings.min_recording_seconds``, a missing or over-long jingle, bad settings.
    """
    _check_settings(settings)
    source, dest = Path(source), Path(dest)
    report = _Progress(progress)
    jingles = [_load_jingle(p, role, settings) for p, role in ((intro, "intro"), (outro, "outro"))]
    info = probe(source)
    expected = info.duration * settings.sample_rate
    summary = _analyse(source, settings, lambda f: report(PASS_ONE_SHARE * share(f, expected)))
    start, stop = _trim(source, summary, settings)
    loudness = summary.loudness(start // summary.window, -(-stop // summary.window))
    if not math.isfinite(loudness):
        raise InvalidInput(f"{source}: too quiet to measure its loudness (−inf LUFS)")
    plan = RenderPlan(
        source=source,
        settings=settings,
        start=start,
        stop=stop,
        gain_db=settings.target_lufs - loudness,
        ceiling_db=settings.true_peak_db - settings.true_peak_margin_db,
        intro=jingles[0],
        outro=jingles[1],
    )
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        if stop - start > CALIBRATE_ABOVE_SECONDS * settings.sample_rate:
            calibrate(plan, partial)
        low = PASS_ONE_SHARE
        for _ in range(MAX_RENDERS):
            # Each round takes 80 % of what is left of the bar, leaving room for a retry.
            high = low + (1 - low) * 0.8
            middle = low + (high - low) * RENDER_SHARE
            render(plan, partial, _span(report, low, middle))
            measured = measure(partial, settings, _span(report, middle, high))
            low = high
            if not plan.adjust(measured):
                break
        if tags is not None:
            from episodes.tags import write_tags_in_place

            write_tags_in_place(partial, tags)
        replace_durably(partial, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    report(1.0)
    return MasterResult(
        seconds=measured.frames / settings.sample_rate,
        bytes=dest.stat().st_size,
        integrated_lufs=round(measured.loudness, 2),
        true_peak_db=round(measured.true_peak_db, 2),
        trimmed_start=start / settings.sample_rate,
        trimmed_end=(summary.frames - stop) / settings.sample_rate,
    )


def _check_settings(settings: AudioSettings) -> None:
    if settings.channels not in (1, 2):
        raise InvalidInput(f"audio.channels must be 1 or 2, not {settings.channels}")
    if settings.sample_rate not in MP3_RATES:
        rates = ", ".join(str(r) for r in MP3_RATES)
        raise InvalidInput(f"audio.sample_rate {settings.sample_rate} is not an MP3 rate ({rates})")
    if not 8 <= bitrate_kbps(settings) <= 320:
        raise InvalidInput(f"audio.bitrate_kbps {settings.bitrate_kbps} is not 8–320")
    if settings.true_peak_db > 0 or settings.target_lufs >= 0:
        raise InvalidInput("audio.true_peak_db and audio.target_lufs must be below 0")


class _Progress:
    """Calls the callback with a value that only ever grows, from 0 to 1."""

    def __init__(self, callback: Callable[[float], None] | None) -> None:
        self._callback = callback
        self._last = -1.0

    def __call__(self, value: float) -> None:
        value = min(1.0, max(0.0, value))
        if self._callback is not None and value > self._last + 1e-4:
            self._last = value
            self._callback(value)


def _span(report: _Progress, low: float, high: float) -> Callable[[float], None]:
    return lambda fraction: report(low + (high - low) * fraction)


def _load_jingle(path: Path | None, role: str, settings: AudioSettings) -> Jingle | None:
    if path is None:
        return None
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"{role} jingle {path}: no such file")
    info = probe(path)
    if info.duration > settings.max_jingle_seconds:
        raise InvalidInput(
            f"{role} jingle {path}: {info.duration:.0f} s long, more than "
            f"audio.max_jingle_seconds ({settings.max_jingle_seconds:.0f} s)"
        )
    pcm = decode_pcm(path, sample_rate=settings.sample_rate, channels=settings.channels)
    pcm = pcm.reshape(len(pcm), settings.channels)
    analyser = Analyser(settings.sample_rate, settings.channels)
    analyser.feed(pcm)
    loudness = analyser.summary().loudness()
    # Jingles are brought to the programme's target so the whole file sits at one level;
    # one too short or quiet to measure keeps its own level.
    gain_db = settings.target_lufs - loudness if math.isfinite(loudness) else 0.0
    return Jingle(path=path, pcm=pcm, gain=10 ** (gain_db / 20))


def _analyse(source: Path, settings: AudioSettings, progress: Callable[[float], None]) -> Summary:
    analyser = Analyser(settings.sample_rate, settings.channels)
    for block in iter_pcm(
        source,
        sample_rate=settings.sample_rate,
        channels=settings.channels,
        block_frames=BLOCK_FRAMES,
    ):
        analyser.feed(block)
        progress(analyser.frames)
    return analyser.summary()


def _trim(source: Path, summary: Summary, settings: AudioSettings) -> tuple[int, int]:
    """Frames [start, stop) of the programme without the dead air at its ends."""
    bounds = summary.sound_bounds(settings.silence_threshold_db)
    if bounds is None:
        raise InvalidInput(
            f"{source}: the recording is silent (nothing above "
            f"{settings.silence_threshold_db:g} dBFS; its loudness is −inf)"
        )
    window, rate = summary.window, summary.sample_rate
    pad = round(EDGE_PAD_SECONDS * rate)
    first, last = bounds[0] * window, bounds[1] * window
    start = max(0, first - pad) if first >= settings.silence_min_seconds * rate else 0
    tail = summary.frames - last
    stop = (
        min(summary.frames, last + pad)
        if tail >= settings.silence_min_seconds * rate
        else summary.frames
    )
    if stop - start < settings.min_recording_seconds * rate:
        raise InvalidInput(
            f"{source}: only {(stop - start) / rate:.1f} s of sound, shorter than "
            f"audio.min_recording_seconds ({settings.min_recording_seconds:g} s)"
        )
    return start, stop
