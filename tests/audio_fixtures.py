"""Generated test audio: speech-like programmes, silence, 6-channel, broken files, every format.

Speech-like means phrases of voiced syllables (a gliding fundamental with harmonics, about five
syllables a second) and fricative noise bursts, separated by pauses, over a faint noise floor:
enough for loudness gating, silence trimming and codecs to behave as they do on a real show.
Long files are generated and written in chunks, so a two-hour WAV never sits in memory.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
from scipy import signal

from hotline.ffmpeg import transcode

RATE = 44100
CHUNK_SECONDS = 30.0


def speech_like(
    seconds: float,
    *,
    sample_rate: int = RATE,
    channels: int = 1,
    seed: int = 0,
    level: float = 0.25,
) -> np.ndarray:
    """Speech-like float32 audio of shape (frames, channels), peaks around ``level``·1.5."""
    frames = round(seconds * sample_rate)
    out = np.zeros(frames, dtype=np.float64)
    rng = np.random.default_rng(seed)
    pos = 0
    while pos < frames:
        phrase = int(rng.uniform(1.2, 3.5) * sample_rate)
        pause = int(rng.uniform(0.25, 0.9) * sample_rate)
        n = min(phrase, frames - pos)
        out[pos : pos + n] = _phrase(n, sample_rate, rng) * level
        pos += n + pause
    floor = rng.normal(0.0, 10 ** (-70 / 20), size=frames)  # a −70 dBFS hiss, not digital zero
    mono = (out + floor).astype(np.float32)
    if channels == 1:
        return mono[:, None]
    # Other channels: the same voice a little quieter, as a two-mic studio would give.
    gains = np.linspace(1.0, 0.7, channels, dtype=np.float32)
    return mono[:, None] * gains[None, :]


def _phrase(frames: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(frames) / sample_rate
    f0 = rng.uniform(110, 210) * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.3, 0.8) * t))
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 9))
    syllable_rate = rng.uniform(4.0, 6.0)
    envelope = np.clip(np.sin(np.pi * syllable_rate * t), 0, None) ** 1.5
    envelope *= (
        0.6
        + 0.4 * rng.uniform(size=1 + int(t[-1] * syllable_rate))[(t * syllable_rate).astype(int)]
    )
    # Fricatives: noise in the 2.5–7 kHz band, as /s/ and /sh/ have, not white to Nyquist.
    band = signal.butter(2, [2500, 7000], btype="bandpass", fs=sample_rate, output="sos")
    hiss = signal.sosfilt(band, rng.normal(0, 0.8, size=frames))
    noise = hiss * np.clip((np.sin(np.pi * syllable_rate * t + 1.3) - 0.85) / 0.15, 0, 1)
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.02)  # no clicks at phrase edges
    return (voiced * envelope + noise) * fade / 2.2


def write_wav(path: Path, pcm: np.ndarray, *, sample_rate: int = RATE) -> Path:
    """Write float PCM (frames,) or (frames, channels) as 16-bit WAV."""
    pcm = pcm if pcm.ndim == 2 else pcm[:, None]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(pcm.shape[1])
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(_int16(pcm))
    return path


def _int16(pcm: np.ndarray) -> bytes:
    return (np.clip(pcm, -1.0, 1.0) * 32767).round().astype("<i2").tobytes()


def write_speech_wav(
    path: Path,
    seconds: float,
    *,
    sample_rate: int = RATE,
    channels: int = 2,
    level: float = 0.25,
    seed: int = 0,
) -> Path:
    """Write a long speech-like WAV chunk by chunk: memory stays at one chunk."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        done, index = 0.0, 0
        while done < seconds:
            part = min(CHUNK_SECONDS, seconds - done)
            pcm = speech_like(
                part, sample_rate=sample_rate, channels=channels, seed=seed + index, level=level
            )
            out.writeframes(_int16(pcm))
            done += part
            index += 1
    return path


def recording(
    path: Path,
    seconds: float = 8.0,
    *,
    lead_silence: float = 0.0,
    tail_silence: float = 0.0,
    channels: int = 1,
    sample_rate: int = RATE,
    level: float = 0.25,
    seed: int = 0,
) -> Path:
    """A speech-like recording with dead air at the ends, in the format of ``path``'s suffix."""
    speech = speech_like(
        seconds, sample_rate=sample_rate, channels=channels, seed=seed, level=level
    )
    lead = np.zeros((round(lead_silence * sample_rate), channels), dtype=np.float32)
    tail = np.zeros((round(tail_silence * sample_rate), channels), dtype=np.float32)
    return _write(path, np.concatenate([lead, speech, tail]), sample_rate)


def tone(path: Path, seconds: float, *, freq: float = 880.0, level: float = 0.3) -> Path:
    """A plain sine (a stand-in jingle), in the format of ``path``'s suffix."""
    t = np.arange(round(seconds * RATE)) / RATE
    return _write(path, (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)[:, None], RATE)


def silence(path: Path, seconds: float = 10.0, *, channels: int = 1) -> Path:
    """Digital silence."""
    return _write(path, np.zeros((round(seconds * RATE), channels), dtype=np.float32), RATE)


def six_channel(path: Path, seconds: float = 8.0) -> Path:
    """5.1 audio: the voice in the centre channel, quieter in the fronts, nothing elsewhere."""
    voice = speech_like(seconds)[:, 0]
    pcm = np.zeros((voice.size, 6), dtype=np.float32)
    pcm[:, 0] = pcm[:, 1] = 0.5 * voice
    pcm[:, 2] = voice
    return _write(path, pcm, RATE)


def truncated_mp3(path: Path, seconds: float = 20.0) -> Path:
    """An MP3 cut off at 40 % of its bytes, as an interrupted upload leaves it."""
    recording(path, seconds)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.4)])
    return path


def text_as_mp3(path: Path) -> Path:
    """A text file with an .mp3 name."""
    path.write_text("这不是音频文件，只是改了扩展名的文本。\n" * 20, encoding="utf-8")
    return path


def empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def _write(path: Path, pcm: np.ndarray, sample_rate: int) -> Path:
    path = Path(path)
    if path.suffix.lower() == ".wav":
        return write_wav(path, pcm, sample_rate=sample_rate)
    wav = path.with_name(path.name + ".src.wav")
    write_wav(wav, pcm, sample_rate=sample_rate)
    try:
        transcode(wav, path)
    finally:
        wav.unlink()
    return path
