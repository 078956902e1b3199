"""Stopping jobs: how long a hung job takes to stop after a cancel, SIGINT, SIGTERM or its limit.

One station, one ingested recording, ``hotline process`` as a real process whose ffmpeg
(``HOTLINE_FFMPEG``) hangs. Each scenario runs several times; the figure is the time from
the act (``hotline jobs cancel`` returning, the signal sent) to the worker's exit, and for
the time limit (``jobs.timeout_floor`` 2 s + 0.5 × 2 s of probed audio = 3 s) from the
moment ffmpeg started. Promises: a cancel within 10 s, a signal within 5 s.

    .venv/bin/python benchmarks/bench_stopping.py
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(Path(__file__).resolve().parent)]

import audio_fixtures as fx  # noqa: E402
from common import markdown_table, median, write_result  # noqa: E402
from process_fixtures import (  # noqa: E402
    hotline,
    hotline_run,
    hung_ffmpeg,
    poll,
    recorded_pids,
)

from hotline.config import save_settings  # noqa: E402
from hotline.ffmpeg import FFMPEG_ENV  # noqa: E402
from hotline.models import Job  # noqa: E402
from hotline.station import Station, init_station  # noqa: E402

RUNS = 5
LIMIT = 120.0  # a guard, not a figure


def status(station: Station) -> str:
    with station.session() as session:
        job = session.get(Job, 1)
        assert job is not None
        return job.status


def one_run(station: Station, folder: Path, act: str) -> float:
    """Seconds from the act to the worker's exit (from ffmpeg's start for ``limit``)."""
    script, pids = hung_ffmpeg(folder)
    pids.unlink(missing_ok=True)
    worker = hotline(station.root, "process", "--kind", "master", env={FFMPEG_ENV: str(script)})
    try:
        started = poll(lambda: len(recorded_pids(pids)) == 2, within=LIMIT)
        assert started, worker.communicate()
        since = time.perf_counter()
        if act == "cancel":
            assert hotline_run(station.root, "jobs", "cancel", "1").returncode == 0
            since = time.perf_counter()
        elif act in ("SIGINT", "SIGTERM"):
            worker.send_signal(signal.Signals[act])
        assert poll(lambda: worker.poll() is not None, within=LIMIT)
        return time.perf_counter() - since
    finally:
        worker.kill()
        worker.communicate()
        if status(station) in ("failed", "cancelled"):
            assert hotline_run(station.root, "jobs", "retry", "1").returncode == 0


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        station, _ = init_station(work / "station")
        station.settings.jobs.timeout_floor = 2.0
        station.settings.jobs.timeout_factor = 0.5
        save_settings(station.settings, station.settings_path)
        recording = fx.recording(work / "第999期.wav", 6.0)
        for args in (
            ("episodes", "add", "--number", "999", "--title", "医保改革面对面"),
            ("ingest", "999", str(recording)),
        ):
            assert hotline_run(station.root, *args).returncode == 0
        figures = {}
        for act, promise in (
            ("limit", "3 s limit"),
            ("cancel", "10"),
            ("SIGINT", "5"),
            ("SIGTERM", "5"),
        ):
            if act != "limit":
                station.settings.jobs.timeout_floor = 600.0
                save_settings(station.settings, station.settings_path)
            seconds = [one_run(station, work, act) for _ in range(RUNS)]
            figures[act] = {
                "promise_s": promise,
                "median_s": median(seconds),
                "max_s": max(seconds),
            }
    rows = [
        (act, f["promise_s"], f"{f['median_s']:.2f}", f"{f['max_s']:.2f}")
        for act, f in figures.items()
    ]
    print(markdown_table(("stopped by", "promise (s)", "median (s)", "max (s)"), rows))
    print(f"load average {os.getloadavg()[0]:.1f}")
    write_result("stopping", {"runs": RUNS, "figures": figures})


if __name__ == "__main__":
    main()
