"""The energy gate: speech regions, chunk cuts at pauses, packing and offsets back to the source."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whisper_fixtures import tone_and_silence

from hotline.config import TranscribeSettings
from hotline.errors import InvalidInput
from transcripts.asr import RawSegment
from transcripts.transcribe import transcribe_audio
from transcripts.vad import (
    LevelMeter,
    frame_levels,
    pack,
    plan_chunks,
    speech_regions,
)

RATE = 16_000


def regions_of(audio: np.ndarray, **kwargs: float) -> list[tuple[float, float]]:
    options = {"min_silence": 0.5, "pad": 0.15, **kwargs}
    return speech_regions(frame_levels(audio), duration=len(audio) / RATE, **options)


def test_tones_between_silences_are_found_with_their_pads() -> None:
    audio = tone_and_silence([("silence", 2), ("tone", 3), ("silence", 4), ("noise", 2)])
    found = regions_of(audio)
    assert len(found) == 2
    (a0, a1), (b0, b1) = found
    assert a0 == pytest.approx(2 - 0.15, abs=0.03) and a1 == pytest.approx(5 + 0.15, abs=0.03)
    assert b0 == pytest.approx(9 - 0.15, abs=0.03) and b1 == pytest.approx(11.0, abs=0.03)


def test_short_pauses_stay_inside_a_region() -> None:
    audio = tone_and_silence([("tone", 2), ("silence", 0.3), ("tone", 2), ("silence", 1)])
    assert regions_of(audio) == [(0.0, pytest.approx(4.45, abs=0.03))]


def test_silence_and_digital_zero_have_no_speech() -> None:
    assert regions_of(tone_and_silence([("silence", 5)])) == []
    assert regions_of(np.zeros(RATE * 3, dtype=np.float32)) == []


def test_continuous_sound_is_never_gated() -> None:
    audio = tone_and_silence([("tone", 4), ("noise", 4), ("tone", 4)])
    assert regions_of(audio) == [(0.0, 12.0)]


def test_level_meter_fed_in_blocks_equals_whole_array() -> None:
    audio = tone_and_silence([("tone", 1.01), ("silence", 0.5), ("noise", 0.77)])
    meter = LevelMeter()
    for start in range(0, len(audio), 4099):
        meter.feed(audio[start : start + 4099])
    np.testing.assert_allclose(meter.finish(), frame_levels(audio))
    assert meter.duration == pytest.approx(len(audio) / RATE)


def test_chunks_are_cut_in_the_pause_nearest_the_target() -> None:
    pattern = [("tone", 28), ("silence", 2), ("tone", 5), ("silence", 2), ("tone", 40)]
    audio = tone_and_silence(pattern)
    levels = frame_levels(audio)
    found = regions_of(audio)
    chunks = plan_chunks(levels, found, duration=len(audio) / RATE, chunk_seconds=30)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert chunks[0].start == 0.0 and chunks[-1].end == pytest.approx(77.0)
    assert chunks[1].start == pytest.approx(29.0, abs=0.05)  # middle of the first pause
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert before.end == after.start
    # Every second of speech belongs to exactly one chunk.
    assert sum(c.speech_seconds for c in chunks) == pytest.approx(sum(e - s for s, e in found))


def test_talk_without_pauses_is_cut_at_its_quietest_moment() -> None:
    audio = tone_and_silence([("tone", 25), ("noise", 10), ("tone", 30)])
    audio[round(31.5 * RATE) : round(31.8 * RATE)] *= 0.05  # a breath
    levels = frame_levels(audio)
    chunks = plan_chunks(levels, [(0.0, 65.0)], duration=65.0, chunk_seconds=30)
    assert len(chunks) == 2
    assert 31.3 <= chunks[1].start <= 32.0


def test_chunk_length_below_a_window_is_refused() -> None:
    with pytest.raises(InvalidInput, match="chunk_seconds"):
        plan_chunks(np.zeros(10), [], duration=0.2, chunk_seconds=5)


def test_pack_and_map_back() -> None:
    audio = np.arange(10 * RATE, dtype=np.float32)
    packed, timemap = pack(audio, [(11.0, 12.0), (15.0, 17.5)], offset=10.0)
    assert len(packed) == round(3.5 * RATE)
    assert packed[0] == audio[RATE] and packed[RATE] == audio[5 * RATE]
    assert timemap.to_source(0.0) == 11.0
    assert timemap.to_source(0.5) == 11.5
    assert timemap.to_source(1.0) == 15.0  # a start on the seam begins the next piece
    assert timemap.to_source(1.0, end=True) == 12.0  # an end on the seam ends the piece before
    assert timemap.to_source(3.5, end=True) == 17.5
    assert timemap.to_source(99.0) == 17.5  # whisper's overshoot is clamped


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.05, 5.0), st.floats(0.05, 5.0)), min_size=1, max_size=8),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20),
)
def test_time_map_lands_inside_the_regions_and_keeps_order(
    pieces: list[tuple[float, float]], fractions: list[float]
) -> None:
    regions, cursor = [], 0.0
    for gap, length in pieces:
        regions.append((round(cursor + gap, 3), round(cursor + gap + length, 3)))
        cursor += gap + length
    _, timemap = pack(np.zeros(round(cursor * RATE) + 1, dtype=np.float32), regions, offset=0.0)
    total = sum(timemap.lengths)
    times = sorted(f * total for f in fractions)
    mapped = [timemap.to_source(t) for t in times]
    assert mapped == sorted(mapped)
    for value in mapped:
        assert any(s - 1e-6 <= value <= e + 1e-6 for s, e in regions)


def longest_quiet_run(audio: np.ndarray) -> float:
    longest = run = 0
    for quiet in frame_levels(audio) < -40:
        run = run + 1 if quiet else 0
        longest = max(longest, run)
    return longest * 0.02


class RecordingBackend:
    """Records what it is given; says one segment per loud run of the audio it hears."""

    model_name = "fake"

    def __init__(self) -> None:
        self.received: list[np.ndarray] = []

    def transcribe(
        self, audio: np.ndarray, *, prompt: str | None = None, language: str = "zh"
    ) -> list[RawSegment]:
        self.received.append(audio.copy())
        loud = frame_levels(audio) > -40
        edges = np.flatnonzero(np.diff(np.concatenate(([0], loud.astype(np.int8), [0]))))
        return [
            RawSegment(s * 0.02, e * 0.02, f"第{i}句")
            for i, (s, e) in enumerate(zip(edges[::2], edges[1::2], strict=True))
        ]


def test_silent_stretches_never_reach_the_backend_and_offsets_stay_right() -> None:
    pattern = [
        ("silence", 6), ("tone", 4), ("silence", 9), ("noise", 3), ("silence", 20),
        ("tone", 5), ("silence", 3),
    ]  # fmt: skip
    audio = tone_and_silence(pattern)
    backend = RecordingBackend()
    settings = TranscribeSettings(chunk_seconds=30.0)
    segments = transcribe_audio(audio, backend=backend, settings=settings)
    heard = sum(len(a) for a in backend.received) / RATE
    pad = settings.speech_pad_seconds
    assert heard == pytest.approx(4 + 3 + 5 + 6 * pad, abs=0.1)  # speech and pads only
    for received in backend.received:  # no pause longer than two pads in what it heard
        assert longest_quiet_run(received) <= 2 * pad + 0.03
    spans = [(round(s.start, 1), round(s.end, 1)) for s in segments]
    assert spans == [(6.0, 10.0), (19.0, 22.0), (42.0, 47.0)]


def test_without_the_gate_everything_is_heard() -> None:
    audio = tone_and_silence([("silence", 6), ("tone", 4), ("silence", 5)])
    backend = RecordingBackend()
    settings = TranscribeSettings(chunk_seconds=30.0, skip_silence=False)
    segments = transcribe_audio(audio, backend=backend, settings=settings)
    assert sum(len(a) for a in backend.received) == len(audio)
    assert [(round(s.start, 1), round(s.end, 1)) for s in segments] == [(6.0, 10.0)]


def test_all_silence_calls_no_backend_at_all() -> None:
    backend = RecordingBackend()
    settings = TranscribeSettings(chunk_seconds=30.0)
    audio = tone_and_silence([("silence", 40)])
    assert transcribe_audio(audio, backend=backend, settings=settings) == []
    assert backend.received == []
