"""hotline.ffmpeg: finding the binary, probing every delivery format, refusing broken files."""

from __future__ import annotations

import os
from pathlib import Path

import audio_fixtures as fx
import numpy as np
import pytest

from hotline import ffmpeg
from hotline.errors import InvalidInput

FORMATS = {
    # suffix: (codec ffmpeg reports, sample rate, channels of the fixture)
    "wav": ("pcm_s16le", 44100, 2),
    "mp3": ("mp3", 44100, 2),
    "m4a": ("aac", 44100, 2),
    "flac": ("flac", 44100, 2),
    "ogg": ("opus", 48000, 2),
    "amr": ("amr_nb", 8000, 1),
}


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ffmpeg")
    for suffix in FORMATS:
        fx.recording(folder / f"录音 {suffix}.{suffix}", 6.0, channels=2)
    return folder


def bundled() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def test_hotline_ffmpeg_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_FFMPEG", bundled())
    assert ffmpeg.ffmpeg_path() == bundled()


def test_a_wrong_hotline_ffmpeg_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_FFMPEG", "/nonexistent/ffmpeg")
    with pytest.raises(ffmpeg.FfmpegMissing, match="HOTLINE_FFMPEG=/nonexistent/ffmpeg"):
        ffmpeg.ffmpeg_path()


def test_ffmpeg_on_path_comes_before_the_bundled_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\nexec true\n")
    fake.chmod(0o755)
    monkeypatch.delenv("HOTLINE_FFMPEG", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert ffmpeg.ffmpeg_path() == str(fake)


def test_without_system_ffmpeg_the_bundled_binary_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, audio: Path
) -> None:
    monkeypatch.delenv("HOTLINE_FFMPEG", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no ffmpeg anywhere on PATH
    assert ffmpeg.ffmpeg_path() == bundled()
    assert ffmpeg.probe(audio / "录音 mp3.mp3").codec == "mp3"


@pytest.mark.parametrize("suffix", list(FORMATS))
def test_every_delivery_format_probes_and_decodes(audio: Path, suffix: str) -> None:
    codec, rate, channels = FORMATS[suffix]
    info = ffmpeg.probe(audio / f"录音 {suffix}.{suffix}")
    assert (info.codec, info.sample_rate, info.channels) == (codec, rate, channels)
    assert info.duration == pytest.approx(6.0, abs=0.4)
    pcm = ffmpeg.decode_pcm(info.path, sample_rate=16000, channels=1)
    assert pcm.dtype == np.float32 and pcm.ndim == 1
    assert len(pcm) / 16000 == pytest.approx(6.0, abs=0.1)
    assert 0.05 < np.abs(pcm).max() <= 1.0


def test_decode_pcm_keeps_channels_and_can_cut(audio: Path) -> None:
    pcm = ffmpeg.decode_pcm(
        audio / "录音 flac.flac", sample_rate=44100, channels=2, start=1.0, duration=2.0
    )
    assert pcm.shape == (88200, 2)


def test_iter_pcm_streams_blocks_of_the_asked_size(audio: Path) -> None:
    blocks = list(
        ffmpeg.iter_pcm(audio / "录音 wav.wav", sample_rate=8000, channels=1, block_frames=1000)
    )
    assert all(len(b) == 1000 for b in blocks[:-1]) and 0 < len(blocks[-1]) <= 1000
    assert sum(len(b) for b in blocks) == 48000


def test_six_channels_downmix(tmp_path: Path) -> None:
    six = fx.six_channel(tmp_path / "5.1.wav", 3.0)
    assert ffmpeg.probe(six).channels == 6
    pcm = ffmpeg.decode_pcm(six, sample_rate=44100, channels=1)
    assert pcm.ndim == 1 and np.abs(pcm).max() > 0.05


def test_probe_reads_container_tags(tmp_path: Path) -> None:
    from mutagen.id3 import ID3, TIT2

    path = fx.recording(tmp_path / "tagged.mp3", 4.0)
    tag = ID3()
    tag.add(TIT2(encoding=3, text="第12期 老城区改造"))
    tag.save(path)
    assert ffmpeg.probe(path).tags["title"] == "第12期 老城区改造"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda d: fx.empty_file(d / "空.mp3"), "the file is empty"),
        (lambda d: fx.text_as_mp3(d / "文本.mp3"), "not an audio file"),
        (lambda d: fx.truncated_mp3(d / "半截.mp3"), "truncated: .* copy it again from the"),
        (lambda d: d / "不存在.mp3", "no such file"),
        (lambda d: d, "not a regular file"),
    ],
    ids=["empty", "text", "truncated", "missing", "folder"],
)
def test_broken_files_are_refused_with_name_and_reason(
    tmp_path: Path, make: object, reason: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(InvalidInput, match=reason) as caught:
        ffmpeg.probe(path)
    assert str(path) in str(caught.value)
    assert "Output file is empty" not in str(caught.value)  # ffmpeg's words say nothing here


def test_an_image_is_not_audio(tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "cover.mp3"
    Image.new("RGB", (16, 16), "red").save(path, format="PNG")
    with pytest.raises(InvalidInput, match="audio"):
        ffmpeg.probe(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    path = fx.recording(tmp_path / "locked.wav", 2.0)
    path.chmod(0)
    with pytest.raises(InvalidInput, match="cannot be read"):
        ffmpeg.probe(path)


def test_odd_file_names_are_just_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "a b" / "子目录"
    folder.mkdir(parents=True)
    fx.recording(tmp_path / "a b" / "-第 1 期 (终版).wav", 3.0)
    monkeypatch.chdir(folder)
    info = ffmpeg.probe(Path("../-第 1 期 (终版).wav"))
    assert info.duration == pytest.approx(3.0, abs=0.05)


def test_transcode_refuses_unknown_suffixes(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=".xyz"):
        ffmpeg.transcode(tmp_path / "a.wav", tmp_path / "a.xyz")
