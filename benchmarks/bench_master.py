"""Mastering long programmes: speed against two-pass ffmpeg loudnorm, peak memory, accuracy.

Generates 60- and 120-minute stereo 44.1 kHz speech-like WAVs (streamed to disk in a temp
folder), then for each file:

- masters it with ``episodes.audio.master`` (default settings: mono, −16 LUFS, −1 dBTP,
  96 kbps) in a fresh process under ``/usr/bin/time``: wall time as a multiple of real time,
  peak RSS of the Python process and of its ffmpeg children;
- runs the common baseline on the same file: ffmpeg ``loudnorm`` measuring pass, then
  ``loudnorm`` with the measured values and ``linear=true`` into the same MP3 encoder;
- measures both MP3s with an independent meter, streamed: pyloudnorm's K-weighting filters
  and BS.1770-4 gating (rewritten here blockwise, since pyloudnorm wants the whole signal in
  memory) and true peak from scipy's ``resample_poly`` 4× oversampling.

Targets: peak RSS < 400 MB on the 120-minute file, ≥ 1.5× faster than the baseline,
−16 ± 0.5 LUFS and ≤ −1.0 dBTP.

    python benchmarks/bench_master.py [--minutes 60 120] [--runs 1] [--keep DIR]

Prints a markdown table and writes benchmarks/results/master.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import markdown_table, median, write_result

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import audio_fixtures as fx  # noqa: E402

from hotline.ffmpeg import ffmpeg_path, iter_pcm  # noqa: E402

RATE = 44100
TARGET_LUFS, CEILING_DB, BITRATE = -16.0, -1.0, 96
RSS_TARGET_MB, SPEEDUP_TARGET = 400, 1.5

# Runs in a fresh interpreter: master one file, print the result and this process's peak RSS.
MASTER_SCRIPT = """
import json, resource, sys
from dataclasses import asdict
from pathlib import Path
from episodes.audio import master
from hotline.config import AudioSettings
result = master(source=Path(sys.argv[1]), dest=Path(sys.argv[2]), settings=AudioSettings())
print(json.dumps({
    "result": asdict(result),
    "self_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "children_rss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
}))
"""


def timed(argv: list[str], workdir: Path) -> tuple[float, float, float, str, str]:
    """Run under /usr/bin/time: wall s, CPU s (user + sys, children included), peak RSS MB of
    the largest process in the tree, stdout, stderr."""
    report = workdir / "time.txt"
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-o", str(report), "-f", "%M %U %S", *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(argv[:4])} …\n{done.stderr[-2000:]}")
    rss_kb, user, system = report.read_text().split()[-3:]
    return wall, float(user) + float(system), int(rss_kb) / 1024, done.stdout, done.stderr


def run_master(source: Path, dest: Path, workdir: Path) -> dict[str, Any]:
    argv = [sys.executable, "-c", MASTER_SCRIPT, str(source), str(dest)]
    wall, cpu, _, out, _ = timed(argv, workdir)
    facts = json.loads(out.strip().splitlines()[-1])
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "python_rss_mb": facts["self_rss_kb"] / 1024,
        "ffmpeg_rss_mb": facts["children_rss_kb"] / 1024,
        "reported": facts["result"],
    }


def run_loudnorm(source: Path, dest: Path, workdir: Path) -> dict[str, Any]:
    """The baseline: measure with loudnorm, then apply it linearly, encoding the same MP3."""
    ffmpeg = ffmpeg_path()
    # Downmix before measuring, as master() does, so both aim at the loudness of the mono file.
    target = f"I={TARGET_LUFS}:TP={CEILING_DB}:LRA=11"
    measure = [ffmpeg, "-hide_banner", "-nostdin", "-i", str(source)]
    measure += ["-af", f"aformat=channel_layouts=mono,loudnorm={target}:print_format=json"]
    measure += ["-f", "null", "-"]
    wall1, cpu1, rss1, _, err = timed(measure, workdir)
    stats = json.loads(re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", err, re.S).group(0))
    measured = (
        f"measured_I={stats['input_i']}:measured_TP={stats['input_tp']}:"
        f"measured_LRA={stats['input_lra']}:measured_thresh={stats['input_thresh']}:"
        f"offset={stats['target_offset']}:linear=true:print_format=json"
    )
    apply = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-i", str(source)]
    apply += ["-af", f"aformat=channel_layouts=mono,loudnorm={target}:{measured}"]
    apply += ["-ar", str(RATE), "-c:a", "libmp3lame", "-b:a", f"{BITRATE}k", str(dest)]
    wall2, cpu2, rss2, _, err2 = timed(apply, workdir)
    second = json.loads(re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", err2, re.S).group(0))
    return {
        "wall_s": wall1 + wall2,
        "cpu_s": cpu1 + cpu2,
        "rss_mb": max(rss1, rss2),
        "normalization_type": second.get("normalization_type"),
    }


def independent_meter(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of a mono file, streamed block by block.

    K-weighting: pyloudnorm's own filter coefficients, run with scipy's lfilter carrying
    state across blocks; gating: BS.1770-4 (400 ms blocks, 100 ms step, −70 LUFS absolute
    and −10 LU relative gates); true peak: scipy ``resample_poly(x, 4, 1)`` on blocks that
    overlap by 64 samples, so block edges are measured with their neighbours.
    """
    import numpy as np
    import pyloudnorm
    from scipy.signal import lfilter, resample_poly

    meter = pyloudnorm.Meter(RATE)
    filters = [(f.b, f.a) for f in meter._filters.values()]
    states = [np.zeros(max(len(b), len(a)) - 1) for b, a in filters]
    step, context = RATE // 10, 64
    sums, carry, tail, peak = [], np.zeros(0), np.zeros(0), 0.0
    for block in iter_pcm(path, sample_rate=RATE, channels=1, block_frames=RATE * 10):
        x = block[:, 0].astype(np.float64)
        y = x
        for index, (b, a) in enumerate(filters):
            y, states[index] = lfilter(b, a, y, zi=states[index])
        y = np.concatenate([carry, y])
        whole = len(y) // step * step
        sums.append((y[:whole] ** 2).reshape(-1, step).sum(axis=1))
        carry = y[whole:]
        joined = np.concatenate([tail, x])
        up = np.abs(resample_poly(joined, 4, 1))
        # The last `context` samples are measured again, with what follows, in the next block.
        valid = up[4 * (len(tail) // 2) : 4 * (len(joined) - context // 2)]
        peak = max(peak, float(up.max() if len(x) < RATE * 10 else valid.max()))
        tail = joined[-context:]
    steps = np.concatenate(sums)
    running = np.concatenate([[0.0], np.cumsum(steps)])
    blocks = (running[4:] - running[:-4]) / (4 * step)
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10 * np.log10(blocks)
    kept = blocks[levels > -70]
    relative = -0.691 + 10 * math.log10(kept.mean()) - 10
    gated = blocks[(levels > -70) & (levels > relative)]
    return -0.691 + 10 * math.log10(gated.mean()), 20 * math.log10(peak)


def bench_file(minutes: int, runs: int, workdir: Path) -> dict[str, Any]:
    source = workdir / f"speech-{minutes}min.wav"
    started = time.perf_counter()
    fx.write_speech_wav(source, minutes * 60.0, channels=2, seed=minutes)
    print(f"  generated {source.name} in {time.perf_counter() - started:.0f} s", flush=True)
    seconds = minutes * 60.0
    ours, theirs = [], []
    for run in range(runs):
        ours.append(run_master(source, workdir / f"ours-{minutes}.mp3", workdir))
        print(f"  master run {run + 1}: {ours[-1]['wall_s']:.0f} s", flush=True)
        theirs.append(run_loudnorm(source, workdir / f"loudnorm-{minutes}.mp3", workdir))
        print(f"  loudnorm run {run + 1}: {theirs[-1]['wall_s']:.0f} s", flush=True)
    our_lufs, our_tp = independent_meter(workdir / f"ours-{minutes}.mp3")
    base_lufs, base_tp = independent_meter(workdir / f"loudnorm-{minutes}.mp3")
    source.unlink()
    our_wall = median([r["wall_s"] for r in ours])
    base_wall = median([r["wall_s"] for r in theirs])
    our_cpu = median([r["cpu_s"] for r in ours])
    base_cpu = median([r["cpu_s"] for r in theirs])
    return {
        "minutes": minutes,
        "runs": runs,
        "master": {
            "wall_s": our_wall,
            "cpu_s": our_cpu,
            "x_realtime": seconds / our_wall,
            "python_peak_rss_mb": median([r["python_rss_mb"] for r in ours]),
            "ffmpeg_peak_rss_mb": median([r["ffmpeg_rss_mb"] for r in ours]),
            "lufs": our_lufs,
            "true_peak_db": our_tp,
            "reported": ours[-1]["reported"],
        },
        "loudnorm": {
            "wall_s": base_wall,
            "cpu_s": base_cpu,
            "x_realtime": seconds / base_wall,
            "peak_rss_mb": median([r["rss_mb"] for r in theirs]),
            "lufs": base_lufs,
            "true_peak_db": base_tp,
            "normalization_type": theirs[-1]["normalization_type"],
        },
        "speedup": base_wall / our_wall,
        "cpu_speedup": base_cpu / our_cpu,
        "load_average": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, nargs="+", default=[60, 120])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the MP3s")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench-master-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        results = []
        for minutes in args.minutes:
            print(f"{minutes}-minute stereo WAV:", flush=True)
            results.append(bench_file(minutes, args.runs, workdir))
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    rows = []
    for r in results:
        m, b = r["master"], r["loudnorm"]
        rows.append(
            [
                f"{r['minutes']} min",
                f"{m['x_realtime']:.1f}×",
                f"{b['x_realtime']:.1f}×",
                f"{r['speedup']:.1f}× ({r['cpu_speedup']:.1f}×)",
                f"{m['python_peak_rss_mb']:.0f} (+{m['ffmpeg_peak_rss_mb']:.0f})",
                f"{b['peak_rss_mb']:.0f}",
                f"{m['lufs']:.2f} / {m['true_peak_db']:.2f}",
                f"{b['lufs']:.2f} / {b['true_peak_db']:.2f}",
            ]
        )
    headers = [
        "stereo WAV",
        "master ×realtime",
        "loudnorm ×realtime",
        "speed-up wall (CPU)",
        "master peak RSS MB (ffmpeg)",
        "loudnorm peak RSS MB",
        "master LUFS / dBTP",
        "loudnorm LUFS / dBTP",
    ]
    print()
    print(markdown_table(headers, rows))
    print(
        f"\nTargets: RSS < {RSS_TARGET_MB} MB, speed-up ≥ {SPEEDUP_TARGET}×, "
        f"{TARGET_LUFS} ± 0.5 LUFS, ≤ {CEILING_DB} dBTP (independent meter, streamed)."
    )
    path = write_result(
        "master",
        {
            "targets": {
                "peak_rss_mb": RSS_TARGET_MB,
                "speedup": SPEEDUP_TARGET,
                "lufs": [TARGET_LUFS - 0.5, TARGET_LUFS + 0.5],
                "true_peak_db": CEILING_DB,
            },
            "files": results,
        },
    )
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
