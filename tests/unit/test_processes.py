"""External processes under control: deadlines scaled to the audio, kills that take the group.

Real processes throughout: a shell that starts ``sleep`` as its own child stands for a
hung ffmpeg (a wrapper script and the program it runs), so a kill that missed the
grandchild would leave the pipe open and the test hanging.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import audio_fixtures as fx
import numpy as np
import pytest
from process_fixtures import all_gone, hung_ffmpeg, recorded_pids

from hotline import processes
from hotline.config import JobSettings
from hotline.ffmpeg import FFMPEG_ENV, Encoder, iter_pcm, probe
from hotline.processes import ChildProcesses, ProcessTimeout
from hotline.stages import JobAborted

QUICK = JobSettings(timeout_floor=0.5, timeout_factor=0.0)


def test_the_limit_is_the_floor_plus_the_factor_times_the_audio() -> None:
    group = ChildProcesses(JobSettings(timeout_floor=60.0, timeout_factor=0.5))
    with group.start(["sleep", "30"], what="sleep", audio_seconds=3600.0) as known:
        assert known.limit() == 60.0 + 0.5 * 3600.0
    with group.start(["sleep", "30"], what="sleep") as stream:
        assert stream.limit() == 60.0  # nothing known yet: the floor
        stream.advance(600.0)  # ten minutes of audio came through
        assert stream.limit() == 60.0 + 0.5 * 600.0
        stream.advance(100.0)  # never shrinks
        assert stream.limit() == 60.0 + 0.5 * 600.0


def test_a_hung_process_and_its_children_are_killed_at_the_limit(tmp_path: Path) -> None:
    script, pids = hung_ffmpeg(tmp_path)
    group = ChildProcesses(QUICK)
    with pytest.raises(ProcessTimeout) as caught:
        group.run([str(script)], what="ffmpeg 解码 第999期.wav", audio_seconds=4.0)
    message = str(caught.value)
    assert message.startswith("ffmpeg 解码 第999期.wav was stopped after ")
    assert "over its limit of 0.5 s" in message
    assert "jobs.timeout_floor 0.5 s + jobs.timeout_factor 0 × 4 s of audio" in message
    assert len(recorded_pids(pids)) == 2
    assert all_gone(recorded_pids(pids))
    assert group.live() == 0


def test_kill_all_stops_the_live_processes_and_refuses_new_ones(tmp_path: Path) -> None:
    group = ChildProcesses(JobSettings(timeout_floor=600.0))
    with group.start(["sleep", "600"], what="sleep") as child:
        assert group.live() == 1
        assert group.kill_all("job 7 cancelled") == 1
        child.proc.wait()
        with pytest.raises(JobAborted, match="job 7 cancelled"):
            child.check()
    with pytest.raises(JobAborted, match="job 7 cancelled"):
        group.popen(["sleep", "600"], what="sleep")
    assert group.kill_all("again") == 0


def test_outside_a_job_processes_take_the_limits_in_force() -> None:
    assert processes.current().limits == JobSettings()
    with processes.limits(QUICK):
        assert processes.current().limits == QUICK
    assert processes.current().limits == JobSettings()


def test_a_hung_decoder_says_it_timed_out_not_that_decoding_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = fx.recording(tmp_path / "第999期.wav", 6.0)
    script, pids = hung_ffmpeg(tmp_path)
    monkeypatch.setenv(FFMPEG_ENV, str(script))
    with (
        processes.limits(QUICK),
        pytest.raises(ProcessTimeout, match="ffmpeg decoding 第999期.wav"),
    ):
        list(iter_pcm(recording, sample_rate=16_000, channels=1))
    with processes.limits(QUICK), pytest.raises(ProcessTimeout, match="ffmpeg probing 第999期.wav"):
        probe(recording)
    assert all_gone(recorded_pids(pids))


def test_an_encoder_that_stops_reading_is_killed_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script, pids = hung_ffmpeg(tmp_path)  # never reads its input: the pipe fills up
    monkeypatch.setenv(FFMPEG_ENV, str(script))
    block = np.zeros((44_100, 1), dtype=np.float32)  # 176 kB, more than a pipe holds
    dest = tmp_path / "0999.mp3"
    encoding = pytest.raises(ProcessTimeout, match="ffmpeg encoding 0999.mp3")
    with (
        processes.limits(QUICK),
        encoding,
        Encoder(dest, sample_rate=44_100, channels=1, bitrate_kbps=96) as encoder,
    ):
        for _ in range(20):
            encoder.write(block)
    assert all_gone(recorded_pids(pids))


def test_a_normal_ffmpeg_is_untouched_by_a_tight_floor(tmp_path: Path) -> None:
    """Decoding keeps its time as audio comes through: only the floor is small here."""
    recording = fx.recording(tmp_path / "正常.wav", 6.0)
    with processes.limits(JobSettings(timeout_floor=30.0, timeout_factor=0.5)):
        frames = sum(len(b) for b in iter_pcm(recording, sample_rate=8000, channels=1))
    assert abs(frames / 8000 - 6.0) < 0.1


def test_processes_start_in_their_own_session(tmp_path: Path) -> None:
    """A Ctrl-C at the terminal reaches the worker, not ffmpeg behind its back."""
    group = ChildProcesses()
    code, out, _ = group.run(
        [sys.executable, "-c", "import os; print(os.getsid(0))"], what="python"
    )
    assert code == 0
    assert int(out) != os.getsid(0)
