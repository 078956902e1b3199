"""The one place that knows ffmpeg: finding the binary, probing files, decoding and encoding PCM.

There is no ffprobe here (imageio-ffmpeg ships ffmpeg only), so probing runs ffmpeg itself: the
header it prints on stderr gives format, codec, duration, channels and tags, and decoding a
little of the head and of the tail proves the file really is audio and is not cut short.

Every ffmpeg runs through ``hotline.processes``: under a deadline scaled to the audio it
handles (``jobs.timeout_*``) and, inside a job, killed when the job is cancelled. A killed
ffmpeg raises why it was killed, never a misleading "decoding failed".
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from hotline import processes
from hotline.errors import HotlineError, InvalidInput

if TYPE_CHECKING:
    import numpy as np

FFMPEG_ENV = "HOTLINE_FFMPEG"

# Encoder per output suffix for transcode(); AMR-NB is what phone lines deliver (8 kHz mono).
_CODECS: dict[str, list[str]] = {
    ".mp3": ["-c:a", "libmp3lame"],
    ".m4a": ["-c:a", "aac"],
    ".aac": ["-c:a", "aac"],
    ".flac": ["-c:a", "flac"],
    ".ogg": ["-c:a", "libopus"],
    ".opus": ["-c:a", "libopus"],
    ".amr": ["-c:a", "libopencore_amrnb", "-ar", "8000", "-ac", "1", "-b:a", "12.2k"],
    ".wav": ["-c:a", "pcm_s16le"],
}


class FfmpegMissing(HotlineError):
    """No usable ffmpeg binary: HOTLINE_FFMPEG is wrong or nothing can be found."""


@dataclass(frozen=True)
class AudioInfo:
    """What ffmpeg says about an audio file (the first audio stream)."""

    path: Path
    duration: float
    """Seconds; 0.0 when the container does not say."""
    channels: int
    sample_rate: int
    codec: str
    format: str
    tags: dict[str, str] = field(default_factory=dict)
    """Container-level metadata, keys lower-cased as ffmpeg prints them."""


def ffmpeg_path() -> str:
    """The ffmpeg to run: ``HOTLINE_FFMPEG``, else ``ffmpeg`` on PATH, else imageio-ffmpeg's."""
    configured = os.environ.get(FFMPEG_ENV, "").strip()
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise FfmpegMissing(f"{FFMPEG_ENV}={configured} is not an executable ffmpeg")
        return found
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path
    try:
        import imageio_ffmpeg  # heavy-ish and optional: only when nothing else is there
    except ImportError as exc:
        raise FfmpegMissing(
            "ffmpeg not found: install it, set HOTLINE_FFMPEG, or install imageio-ffmpeg"
        ) from exc
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:
        raise FfmpegMissing(f"imageio-ffmpeg has no usable ffmpeg: {exc}") from exc


def _input(path: Path) -> str:
    # The file: protocol keeps names like "-x.mp3" or "http:a.mp3" from being read as options
    # or URLs; an absolute path keeps "../" meaningless to ffmpeg.
    return "file:" + str(Path(path).absolute())


def _base() -> list[str]:
    return [ffmpeg_path(), "-hide_banner", "-nostdin"]


def _check_readable(path: Path, what: str = "") -> None:
    label = f"{what} {path}".strip()
    if not path.exists():
        raise InvalidInput(f"{label}: no such file")
    if not path.is_file():
        raise InvalidInput(f"{label}: not a regular file")
    try:
        with path.open("rb") as handle:
            first = handle.read(1)
    except OSError as exc:
        raise InvalidInput(f"{label}: cannot be read ({exc.strerror})") from exc
    if not first:
        raise InvalidInput(f"{label}: the file is empty")


_DURATION = re.compile(r"^\s*Duration: (N/A|(\d+):(\d+):(\d+(?:\.\d+)?))", re.M)
_INPUT = re.compile(r"^Input #0, ([^,]+(?:,[^,]+)*?), from ", re.M)
_AUDIO = re.compile(r"^\s*Stream #0:\d+\S*: Audio: (\w+)[^,]*, (\d+) Hz, ([^,]+)", re.M)
_LAYOUT_CHANNELS = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "5.0": 5, "5.1": 6, "7.1": 8}


def _channels(layout: str) -> int:
    layout = layout.strip()
    if layout in _LAYOUT_CHANNELS:
        return _LAYOUT_CHANNELS[layout]
    match = re.match(r"(\d+) channels", layout)
    if match:
        return int(match.group(1))
    base = layout.split("(")[0]
    return _LAYOUT_CHANNELS.get(base, 2)


def _parse_tags(stderr: str) -> dict[str, str]:
    """The input's container metadata block, as ffmpeg prints it under ``Input #0``."""
    tags: dict[str, str] = {}
    lines = stderr.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("Input #0"))
    except StopIteration:
        return tags
    if start + 1 >= len(lines) or lines[start + 1].strip() != "Metadata:":
        return tags
    last = ""
    for line in lines[start + 2 :]:
        if not line.startswith("    ") or ":" not in line:
            break
        key, _, value = line.strip().partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "" and last:  # continuation line of a multi-line value
            tags[last] += "\n" + value
            continue
        tags[key], last = value, key
    return tags


def _reason(stderr: str) -> str:
    """The last meaningful line of ffmpeg's complaint, without its ``[x @ 0x…]`` prefix."""
    for line in reversed(stderr.strip().splitlines()):
        line = re.sub(r"^\[[^\]]*\]\s*", "", line).strip()
        if line and not line.startswith(("Error opening input file", "size=")):
            return line.removeprefix("Error opening input files: ").removeprefix(
                "Error opening input: "
            )
    return "ffmpeg failed"


def _decode_bytes(path: Path, *, start: float | None, seconds: float) -> tuple[int, str, int]:
    """Decode ``seconds`` of the first audio stream at 8 kHz mono; (bytes, stderr, exit code)."""
    cmd = _base()
    if start is not None:
        cmd += ["-ss", f"{start:.3f}"]
    cmd += ["-i", _input(path), "-map", "0:a:0", "-t", f"{seconds:.3f}"]
    cmd += ["-ac", "1", "-ar", "8000", "-f", "s16le", "pipe:1"]
    code, out, err = processes.current().run(
        cmd, what=f"ffmpeg probing {path.name}", audio_seconds=seconds
    )
    return len(out), err.decode("utf-8", "replace"), code


def probe(path: Path) -> AudioInfo:
    """Check that ``path`` is decodable audio and describe it.

    Raises:
        InvalidInput: naming the file and why: missing, unreadable, empty, not audio, no audio
            stream, or truncated (the header promises more audio than the file holds).
    """
    path = Path(path)
    _check_readable(path)
    size, stderr, code = _decode_bytes(path, start=None, seconds=2.0)
    if "Input #0" not in stderr:
        raise InvalidInput(f"{path}: not an audio file ffmpeg can read ({_reason(stderr)})")
    audio = _AUDIO.search(stderr)
    if audio is None:
        raise InvalidInput(f"{path}: has no audio stream")
    if code != 0 or size == 0:
        raise InvalidInput(f"{path}: no audio could be decoded ({_reason(stderr)})")
    duration = 0.0
    match = _DURATION.search(stderr)
    if match and match.group(1) != "N/A":
        hours, minutes, seconds = match.group(2, 3, 4)
        duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    fmt = _INPUT.search(stderr)
    info = AudioInfo(
        path=path,
        duration=duration,
        channels=_channels(audio.group(3)),
        sample_rate=int(audio.group(2)),
        codec=audio.group(1),
        format=fmt.group(1) if fmt else "",
        tags=_parse_tags(stderr),
    )
    if duration > 3.0:
        # A cut-off file still carries the full duration in its header (Xing frame count,
        # container index): decoding near the promised end then yields nothing.
        # (ffmpeg's own words here only say it decoded nothing: left out.)
        tail, _, _ = _decode_bytes(path, start=duration - 2.5, seconds=1.0)
        if tail == 0:
            raise InvalidInput(
                f"{path}: truncated: the header promises {duration:.1f} s of audio "
                "but the file ends before that; copy it again from the recorder"
            )
    return info


def _stderr_text(handle: IO[bytes]) -> str:
    handle.seek(0)
    return handle.read().decode("utf-8", "replace")


def _pcm_command(
    path: Path, *, sample_rate: int, channels: int, start: float | None, duration: float | None
) -> list[str]:
    cmd = _base() + ["-v", "error"]
    if start:
        cmd += ["-ss", f"{start:.6f}"]
    cmd += ["-i", _input(path), "-map", "0:a:0", "-vn", "-sn", "-dn"]
    if duration is not None:
        cmd += ["-t", f"{duration:.6f}"]
    # -ac downmixes with ffmpeg's standard matrix (5.1: centre and surrounds at −3 dB, LFE
    # dropped); -ar resamples with swresample.
    cmd += ["-ac", str(channels), "-ar", str(sample_rate), "-f", "f32le", "pipe:1"]
    return cmd


def iter_pcm(
    path: Path,
    *,
    sample_rate: int,
    channels: int,
    block_frames: int = 1 << 16,
    start: float | None = None,
    duration: float | None = None,
) -> Iterator[np.ndarray]:
    """Stream the first audio stream as float32 blocks of shape (frames, channels).

    Memory stays at one block whatever the file's length. Blocks are ``block_frames`` long
    except the last. Closing the iterator early stops ffmpeg.

    Raises:
        InvalidInput: when ffmpeg cannot decode the file (naming it and ffmpeg's reason).
    """
    import numpy as np

    path = Path(path)
    _check_readable(path)
    cmd = _pcm_command(
        path, sample_rate=sample_rate, channels=channels, start=start, duration=duration
    )
    frame_bytes = 4 * channels
    # stderr is spooled to a temp file: a pipe could fill up and deadlock.
    with (
        tempfile.TemporaryFile() as errors,
        processes.current().start(
            cmd,
            what=f"ffmpeg decoding {path.name}",
            audio_seconds=duration or 0.0,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
        ) as child,
    ):
        stdout = child.proc.stdout
        assert stdout is not None
        pending, frames = b"", 0
        while True:
            chunk = stdout.read(block_frames * frame_bytes - len(pending))
            if not chunk:
                break
            pending += chunk
            if len(pending) == block_frames * frame_bytes:
                frames += block_frames
                child.advance(frames / sample_rate)
                yield np.frombuffer(pending, dtype="<f4").reshape(-1, channels)
                pending = b""
        code = child.proc.wait()
        stdout.close()
        child.check()  # killed (time limit, cancelled): say so, not "decoding failed"
        whole = len(pending) - len(pending) % frame_bytes
        if whole:
            yield np.frombuffer(pending[:whole], dtype="<f4").reshape(-1, channels)
        if code != 0:
            raise InvalidInput(f"{path}: decoding failed ({_reason(_stderr_text(errors))})")


def decode_pcm(
    path: Path,
    *,
    sample_rate: int,
    channels: int,
    start: float | None = None,
    duration: float | None = None,
) -> np.ndarray:
    """Decode (part of) a file into one float32 array, for short pieces (jingles, ASR chunks).

    Returns shape (frames,) for mono and (frames, channels) otherwise, as soundfile does: a
    mono array can go straight to whisper.
    """
    import numpy as np

    blocks = list(
        iter_pcm(path, sample_rate=sample_rate, channels=channels, start=start, duration=duration)
    )
    pcm = np.concatenate(blocks) if blocks else np.zeros((0, channels), dtype=np.float32)
    return pcm[:, 0].copy() if channels == 1 else pcm


class Encoder:
    """An ffmpeg process turning float32 PCM written to it into an MP3 file.

    Use as a context manager: ``write`` blocks while ffmpeg is busy; leaving the block normally
    waits for ffmpeg and raises ``HotlineError`` if encoding failed; leaving it by an exception
    kills ffmpeg.
    """

    def __init__(
        self,
        dest: Path,
        *,
        sample_rate: int,
        channels: int,
        bitrate_kbps: int,
        cutoff_hz: int | None = None,
    ) -> None:
        self.dest = Path(dest)
        cmd = _base() + ["-v", "error", "-y"]
        cmd += ["-f", "f32le", "-ar", str(sample_rate), "-ac", str(channels), "-i", "pipe:0"]
        cmd += ["-c:a", "libmp3lame", "-b:a", f"{bitrate_kbps}k"]
        if cutoff_hz:
            cmd += ["-cutoff", str(cutoff_hz)]  # LAME's lowpass, instead of its own choice
        # No ID3 from ffmpeg (tags.py writes them), no encoder stamp, but a Xing/LAME header
        # so players know the exact duration and the encoder delay.
        cmd += ["-map_metadata", "-1", "-fflags", "+bitexact", "-id3v2_version", "0"]
        cmd += ["-write_id3v1", "0", "-f", "mp3", _output(self.dest)]
        self._rate = sample_rate
        self._frames = 0
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close/abort)
        self._group = processes.current()
        try:
            # The deadline grows with the audio written: the encoder lives as long as the
            # render does.
            self._child = self._group.popen(
                cmd,
                what=f"ffmpeg encoding {self.dest.name}",
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=self._errors,
            )
        except BaseException:
            self._errors.close()
            raise
        self._proc = self._child.proc

    def _failed(self) -> HotlineError:
        self._child.check()  # killed (time limit, cancelled): say so instead
        return HotlineError(f"encoding {self.dest} failed ({_reason(_stderr_text(self._errors))})")

    def write(self, pcm: np.ndarray) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(pcm.astype("<f4", copy=False).tobytes())
        except (BrokenPipeError, ValueError) as exc:  # ValueError: killed, pipe closed
            self._proc.wait()
            raise self._failed() from exc
        self._frames += len(pcm)
        self._child.advance(self._frames / self._rate)

    def close(self) -> None:
        assert self._proc.stdin is not None
        try:
            with contextlib.suppress(BrokenPipeError):
                self._proc.stdin.close()
            if self._proc.wait() != 0:
                raise self._failed()
            self._child.check()
        finally:
            self._group.release(self._child)
            self._errors.close()

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._proc.stdin.close()  # type: ignore[union-attr]
        self._group.release(self._child)
        self._errors.close()

    def __enter__(self) -> Encoder:
        return self

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def _output(path: Path) -> str:
    return "file:" + str(Path(path).absolute())


def transcode(
    source: Path,
    dest: Path,
    *,
    sample_rate: int | None = None,
    channels: int | None = None,
    bitrate_kbps: int | None = None,
) -> None:
    """Convert ``source`` to ``dest``, the codec chosen by dest's suffix (mp3, m4a, flac, …)."""
    suffix = Path(dest).suffix.lower()
    if suffix not in _CODECS:
        raise InvalidInput(f"{dest}: cannot write {suffix or 'files without a suffix'}")
    cmd = _base() + ["-v", "error", "-y", "-i", _input(source), "-map", "0:a:0"]
    if sample_rate and suffix != ".amr":
        cmd += ["-ar", str(sample_rate)]
    if channels and suffix != ".amr":
        cmd += ["-ac", str(channels)]
    if bitrate_kbps and suffix != ".amr":
        cmd += ["-b:a", f"{bitrate_kbps}k"]
    cmd += _CODECS[suffix] + [_output(dest)]
    code, _, err = processes.current().run(
        cmd, what=f"ffmpeg converting {Path(source).name}", audio_seconds=probe(source).duration
    )
    if code != 0:
        reason = _reason(err.decode("utf-8", "replace"))
        raise HotlineError(f"converting {source} to {dest} failed ({reason})")
