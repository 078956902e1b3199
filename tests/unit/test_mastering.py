"""Mastering: loudness and true peak checked with an independent meter, trimming, jingles,
downmixing, bad input, atomic output and the fingerprint."""

from __future__ import annotations

import dataclasses
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import audio_fixtures as fx
import numpy as np
import pyloudnorm
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import resample_poly

from episodes.audio import PASS_ONE_SHARE, MasterResult, master, master_fingerprint
from episodes.loudness import Analyser, Limiter
from hotline.config import AudioSettings
from hotline.errors import InvalidInput
from hotline.ffmpeg import decode_pcm, probe

ROOT = Path(__file__).resolve().parents[2]


def independent(path: Path, channels: int) -> tuple[float, float]:
    """(integrated LUFS by pyloudnorm, true peak dBTP by scipy's 4× resampling)."""
    pcm = decode_pcm(path, sample_rate=44100, channels=channels).astype(np.float64)
    pcm = pcm.reshape(len(pcm), channels)
    loudness = pyloudnorm.Meter(44100).integrated_loudness(pcm)
    peak = np.abs(resample_poly(pcm, 4, 1, axis=0)).max()
    return loudness, 20 * math.log10(peak)


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mastering")
    fx.recording(folder / "录音.flac", 20.0, lead_silence=3.0, tail_silence=4.0, channels=2)
    fx.recording(folder / "quiet.wav", 12.0, level=0.03, seed=2)
    fx.tone(folder / "intro.mp3", 3.0)
    fx.tone(folder / "outro.m4a", 4.0, freq=440.0)
    return folder


@pytest.fixture(scope="module")
def default_master(audio: Path) -> tuple[Path, MasterResult, list[float]]:
    dest = audio / "out" / "0999.mp3"
    dest.parent.mkdir()
    seen: list[float] = []
    result = master(
        source=audio / "录音.flac", dest=dest, settings=AudioSettings(), progress=seen.append
    )
    return dest, result, seen


def test_default_master_meets_the_podcast_target(default_master) -> None:
    dest, result, _ = default_master
    loudness, peak = independent(dest, 1)
    assert loudness == pytest.approx(-16.0, abs=0.5)
    assert peak <= -1.0
    assert result.integrated_lufs == pytest.approx(loudness, abs=0.2)
    assert result.true_peak_db == pytest.approx(peak, abs=0.2)


def test_default_master_is_mono_44k_96kbps(default_master) -> None:
    from mutagen.mp3 import MP3

    dest, result, _ = default_master
    info = probe(dest)
    assert (info.channels, info.sample_rate, info.codec) == (1, 44100, "mp3")
    assert MP3(dest).info.bitrate == 96000
    assert result.bytes == dest.stat().st_size
    assert not list(dest.parent.glob(".*"))  # no temp file left behind


def test_dead_air_is_trimmed_at_both_ends(default_master) -> None:
    _, result, _ = default_master
    assert result.trimmed_start == pytest.approx(2.9, abs=0.1)  # 0.1 s kept before the voice
    # The speech itself may end in a pause of up to 0.9 s, which is dead air too.
    assert 3.8 <= result.trimmed_end <= 4.9
    assert result.seconds == pytest.approx(
        27.0 - result.trimmed_start - result.trimmed_end, abs=0.05
    )


def test_progress_runs_from_analysis_to_one(default_master) -> None:
    _, _, seen = default_master
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert seen[0] <= PASS_ONE_SHARE and len(seen) > 5


def test_short_pauses_are_not_trimmed(tmp_path: Path) -> None:
    source = fx.recording(tmp_path / "a.wav", 8.0, lead_silence=0.5)
    result = master(source=source, dest=tmp_path / "a.mp3", settings=AudioSettings())
    assert result.trimmed_start == 0.0


def test_stereo_at_minus_19(audio: Path, tmp_path: Path) -> None:
    from mutagen.mp3 import MP3

    settings = AudioSettings(channels=2, target_lufs=-19.0, true_peak_db=-1.5)
    dest = tmp_path / "stereo.mp3"
    master(source=audio / "录音.flac", dest=dest, settings=settings)
    loudness, peak = independent(dest, 2)
    assert loudness == pytest.approx(-19.0, abs=0.5)
    assert peak <= -1.5
    assert probe(dest).channels == 2 and MP3(dest).info.bitrate == 128000


def test_a_peaky_quiet_recording_is_limited_not_clipped(audio: Path, tmp_path: Path) -> None:
    # Quiet speech (about −45 LUFS) with full-scale clicks: +29 dB of gain needs the limiter.
    pcm = decode_pcm(audio / "quiet.wav", sample_rate=44100, channels=1)
    pcm[44100 :: 44100 * 2] = 0.99
    source = fx.write_wav(tmp_path / "clicks.wav", pcm)
    dest = tmp_path / "clicks.mp3"
    master(source=source, dest=dest, settings=AudioSettings())
    loudness, peak = independent(dest, 1)
    assert loudness == pytest.approx(-16.0, abs=0.5)
    assert peak <= -1.0


def test_jingles_are_crossfaded_in(audio: Path, default_master, tmp_path: Path) -> None:
    _, plain, _ = default_master
    dest = tmp_path / "jingles.mp3"
    result = master(
        source=audio / "录音.flac",
        dest=dest,
        settings=AudioSettings(crossfade_ms=500),
        intro=audio / "intro.mp3",
        outro=audio / "outro.m4a",
    )
    assert result.seconds == pytest.approx(plain.seconds + 3.0 + 4.0 - 2 * 0.5, abs=0.05)
    loudness, peak = independent(dest, 1)
    assert loudness == pytest.approx(-16.0, abs=0.5) and peak <= -1.0
    # The intro's tone opens the master, levelled to the programme.
    opening = decode_pcm(dest, sample_rate=44100, channels=1, start=0.5, duration=1.0)
    spectrum = np.abs(np.fft.rfft(opening))
    assert np.argmax(spectrum) == pytest.approx(880, abs=2)


def test_six_channel_recordings_are_downmixed(tmp_path: Path) -> None:
    source = fx.six_channel(tmp_path / "5.1.wav", 8.0)
    dest = tmp_path / "5.1.mp3"
    master(source=source, dest=dest, settings=AudioSettings())
    assert probe(dest).channels == 1
    assert independent(dest, 1)[0] == pytest.approx(-16.0, abs=0.5)


def test_a_phone_line_amr_masters(tmp_path: Path) -> None:
    source = fx.recording(tmp_path / "来电.amr", 8.0)
    dest = tmp_path / "来电.mp3"
    master(source=source, dest=dest, settings=AudioSettings())
    loudness, peak = independent(dest, 1)
    assert loudness == pytest.approx(-16.0, abs=0.5) and peak <= -1.0


def test_the_bundled_ffmpeg_masters_without_system_ffmpeg(
    audio: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.delenv("HOTLINE_FFMPEG", raising=False)
    monkeypatch.setenv("PATH", str(empty))
    source = fx.recording(tmp_path / "a.wav", 6.0)
    result = master(source=source, dest=tmp_path / "a.mp3", settings=AudioSettings())
    assert result.seconds == pytest.approx(6.0, abs=0.1)


BAD = {
    "silent": (lambda d: fx.silence(d / "静音.wav", 10.0), "silent.*−inf"),
    "too short": (lambda d: fx.recording(d / "短.wav", 3.0), "shorter than"),
    "empty": (lambda d: fx.empty_file(d / "空.mp3"), "empty"),
    "truncated": (lambda d: fx.truncated_mp3(d / "半截.mp3"), "truncated"),
    "text": (lambda d: fx.text_as_mp3(d / "文本.mp3"), "not an audio file"),
    "missing": (lambda d: d / "没有.wav", "no such file"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_sources_are_refused_and_leave_dest_alone(tmp_path: Path, case: str) -> None:
    make, reason = BAD[case]
    source = make(tmp_path)
    dest = tmp_path / "out" / "0999.mp3"
    dest.parent.mkdir()
    dest.write_bytes(b"the previous master")
    with pytest.raises(InvalidInput, match=reason) as caught:
        master(source=source, dest=dest, settings=AudioSettings())
    assert str(source) in str(caught.value)
    assert dest.read_bytes() == b"the previous master"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["0999.mp3"]


def test_a_missing_jingle_is_named(audio: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="outro jingle .*片尾.mp3: no such file"):
        master(
            source=audio / "quiet.wav",
            dest=tmp_path / "x.mp3",
            settings=AudioSettings(),
            outro=tmp_path / "片尾.mp3",
        )
    assert not (tmp_path / "x.mp3").exists()


def test_impossible_settings_are_refused(audio: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="audio.channels"):
        master(
            source=audio / "quiet.wav", dest=tmp_path / "x.mp3", settings=AudioSettings(channels=6)
        )


def test_sigkill_never_leaves_a_half_written_master(audio: Path, tmp_path: Path) -> None:
    source = fx.recording(tmp_path / "long.wav", 30.0)
    dest = tmp_path / "out" / "0999.mp3"
    dest.parent.mkdir()
    dest.write_bytes(b"the previous master")
    code = (
        "import sys; from pathlib import Path; from episodes.audio import master;"
        "from hotline.config import AudioSettings;"
        "master(source=Path(sys.argv[1]), dest=Path(sys.argv[2]), settings=AudioSettings())"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(source), str(dest)], cwd=ROOT)
    partial = dest.with_name(".0999.mp3.partial")
    deadline = time.monotonic() + 120
    while not (partial.exists() and partial.stat().st_size > 0) and time.monotonic() < deadline:
        assert proc.poll() is None, "mastering ended before it could be killed"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert dest.read_bytes() == b"the previous master"
    # Running again completes and replaces the leftover temp file.
    master(source=source, dest=dest, settings=AudioSettings())
    assert probe(dest).duration == pytest.approx(30.0, abs=1.0)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["0999.mp3"]


def test_the_fingerprint_follows_what_shapes_the_master() -> None:
    base = AudioSettings()

    def fingerprint(settings: AudioSettings = base, **shas: str | None) -> str:
        facts = {"source_sha256": "a" * 64, "intro_sha": None, "outro_sha": None} | shas
        return master_fingerprint(settings=settings, **facts)  # type: ignore[arg-type]

    assert fingerprint() == fingerprint(AudioSettings())
    assert fingerprint() != fingerprint(dataclasses.replace(base, target_lufs=-19.0))
    assert fingerprint() != fingerprint(dataclasses.replace(base, channels=2))
    assert fingerprint() != fingerprint(intro_sha="b" * 64)
    assert fingerprint() != fingerprint(source_sha256="c" * 64)
    # Settings that do not change the output do not force a re-master.
    assert fingerprint() == fingerprint(dataclasses.replace(base, min_recording_seconds=30.0))
    assert fingerprint() == fingerprint(dataclasses.replace(base, intro="jingles/新片头.mp3"))


@settings(max_examples=12, deadline=None)
@given(
    level=st.floats(0.01, 0.9),
    channels=st.sampled_from([1, 2]),
    seed=st.integers(0, 1000),
    block=st.integers(500, 30000),
)
def test_streaming_meter_agrees_with_pyloudnorm(
    level: float, channels: int, seed: int, block: int
) -> None:
    pcm = fx.speech_like(4.0, channels=channels, seed=seed, level=level)
    analyser = Analyser(44100, channels)
    for start in range(0, len(pcm), block):
        analyser.feed(pcm[start : start + block])
    expected = pyloudnorm.Meter(44100).integrated_loudness(pcm.astype(np.float64))
    assert analyser.summary().loudness() == pytest.approx(expected, abs=0.1)


@settings(max_examples=12, deadline=None)
@given(gain_db=st.floats(0, 30), seed=st.integers(0, 1000), block=st.integers(300, 20000))
def test_the_limiter_keeps_length_and_the_ceiling(gain_db: float, seed: int, block: int) -> None:
    pcm = fx.speech_like(2.0, seed=seed) * np.float32(10 ** (gain_db / 20))
    limiter = Limiter(44100, 1, -2.0)
    parts = [limiter.process(pcm[i : i + block]) for i in range(0, len(pcm), block)]
    out = np.concatenate([*parts, limiter.flush()])
    assert out.shape == pcm.shape
    peak = 20 * math.log10(np.abs(resample_poly(out[:, 0].astype(np.float64), 4, 1)).max())
    assert peak <= -2.0 + 0.1
    if gain_db == 0:
        assert np.array_equal(out, pcm)  # below the ceiling nothing is touched
