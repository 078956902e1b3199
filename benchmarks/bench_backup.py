"""Backup benchmark: a station with 200 hours of generated audio backed up, verified, restored;
publishing with the generation switch against the publish this tree started from.

The station: 200 one-hour episodes, each with a raw recording and a master (MP3, 32 kbps
mono: the cheapest honest audio to generate at this size, 14.4 MB an hour; a backup's cost
is its bytes, so the MB/s figures carry over to 96 kbps), four transcript files and 720
segments each, guests and answered questions. Measured, each in a fresh process:

- the first backup, and a second one of the unchanged station into the same folder
  (target: under 5 % of the first's time and bytes written), median of five such;
- ``backup verify`` (every file read again) and ``restore`` into a new folder (the search
  index rebuilt), then a publish there, which must give byte-identical feeds;
- ``publish`` (first, nothing changed, one episode edited) with this tree against the
  tree it started from (``git merge-base HEAD main``), alternating, medians of five,
  on the 200-hour station and on a 1200-episode one with small masters (the generation
  switch's cost is per file, not per byte). Target: within 20 %.

    .venv/bin/python benchmarks/bench_backup.py [HOURS]

``BENCH_BASELINE=<commit>`` names the older tree instead of the merge base (on ``main``,
where the merge base is ``HEAD`` itself).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT), str(HERE)]

from common import markdown_table, median, write_result  # noqa: E402

from hotline.ffmpeg import ffmpeg_path  # noqa: E402

HOURS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
SMALL_EPISODES = int(os.environ.get("BENCH_SMALL_EPISODES", "1200"))
RUNS = 5
BITRATE = "32k"
CUES_PER_HOUR = 720  # one segment every five seconds

PUBLISH_TIMER = """
import json, shutil, sys, time
from datetime import UTC, datetime
from pathlib import Path
import sqlalchemy as sa
from feeds.publish import publish
from hotline.station import open_station

root, scenario = Path(sys.argv[1]), sys.argv[2]
if scenario == "first":
    public = root / "public"
    public.unlink() if public.is_symlink() else shutil.rmtree(public, ignore_errors=True)
    shutil.rmtree(root / ".public", ignore_errors=True)
    (root / "public").mkdir()
    with open_station(root).engine.begin() as conn:
        conn.execute(sa.text("UPDATE episode SET guid = NULL, published_at = NULL"))
station = open_station(root)
if scenario == "edited":
    with station.engine.begin() as conn:
        conn.execute(sa.text("UPDATE episode SET title = title || '（修订）' WHERE number = 2"))
now = datetime(2026, 11, 27, tzinfo=UTC)
started = time.perf_counter()
report = publish(station=station, now=now)
elapsed = (time.perf_counter() - started) * 1000
assert report.ok, report.problems[:3]
print(json.dumps({"ms": elapsed, "listed": len(report.listed)}))
"""


def run(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    """Run ``argv``; its stdout. ``cwd`` matters for ``python -c``: the tree imported."""
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])}… failed:\n{done.stderr[-3000:]}")
    return done.stdout


def python_env(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = f"{tree}{os.pathsep}{HERE}"
    env.pop("HOTLINE_DATABASE_URL", None)
    return env


def hotline(*args: Any) -> tuple[float, str]:
    """Run ``hotline ARGS`` in a fresh process; (wall seconds, stdout)."""
    started = time.perf_counter()
    out = run([sys.executable, "-m", "hotline.console", *map(str, args)], python_env(ROOT))
    return time.perf_counter() - started, out


def base_mp3(dest: Path, seconds: float, freq: int) -> Path:
    """One generated MP3 of ``seconds`` (a tone over pink noise), every copy's audio."""
    source = (
        f"sine=f={freq}:d={seconds},volume=0.3[a];anoisesrc=d={seconds}:c=pink:a=0.02[b];[a][b]amix"
    )
    run(
        [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y", "-filter_complex", source]
        + ["-ac", "1", "-ar", "44100", "-b:a", BITRATE, str(dest)]
    )
    return dest


def older_tree(folder: Path) -> tuple[Path, str]:
    """The tree this branch started from (or ``BENCH_BASELINE``), unpacked in ``folder``;
    (path, commit)."""
    named = os.environ.get("BENCH_BASELINE")
    if named:
        commit = run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{named}^{{commit}}"])
    else:
        commit = run(["git", "-C", str(ROOT), "merge-base", "HEAD", "main"])
    commit = commit.strip()
    tree = folder / "today"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree, commit[:10]


def build(tree: Path, root: Path, count: int, master: Path, raw: Path, cues: int) -> None:
    run(
        [sys.executable, str(HERE / "archive_station.py"), str(root), str(count)]
        + [str(master), str(raw), str(cues)],
        python_env(tree),
        cwd=tree,
    )


def ours_copy(source: Path, dest: Path) -> None:
    """``source`` (built with the older tree) for this tree: audio hard-linked, the database
    copied and upgraded to this tree's schema."""
    shutil.copytree(source, dest, copy_function=os.link)
    for name in ("hotline.db", "hotline.db-wal", "hotline.db-shm"):
        linked = dest / name
        if linked.exists():
            linked.unlink()
            shutil.copy2(source / name, linked)
    run(
        [
            sys.executable,
            "-c",
            "import sys; from hotline import db; from pathlib import Path; "
            "db.upgrade(db.make_engine(db.sqlite_url(Path(sys.argv[1]) / 'hotline.db')))",
            str(dest),
        ],
        python_env(ROOT),
        cwd=ROOT,
    )


def publish_pair(today: Path, station_today: Path, station_ours: Path) -> dict[str, Any]:
    """publish (first, unchanged, edited) with each tree, alternating; medians of RUNS."""
    samples: dict[str, dict[str, list[float]]] = {
        s: {"today": [], "ours": []} for s in ("first", "unchanged", "edited")
    }
    for _ in range(RUNS):
        for scenario in ("first", "unchanged", "edited"):
            for side, tree, root in (("today", today, station_today), ("ours", ROOT, station_ours)):
                out = run(
                    [sys.executable, "-c", PUBLISH_TIMER, str(root), scenario],
                    python_env(tree),
                    cwd=tree,
                )
                samples[scenario][side].append(json.loads(out.strip().splitlines()[-1])["ms"])
    return {
        scenario: {
            "today_ms": median(sides["today"]),
            "ours_ms": median(sides["ours"]),
            "ratio": median(sides["ours"]) / median(sides["today"]),
            "samples": sides,
        }
        for scenario, sides in samples.items()
    }


def du(folder: Path) -> int:
    seen, total = set(), 0
    for path in folder.rglob("*"):
        stat = path.lstat()
        if path.is_file() and (stat.st_dev, stat.st_ino) not in seen:
            seen.add((stat.st_dev, stat.st_ino))
            total += stat.st_size
    return total


def main() -> None:
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="bench-backup-", dir=os.environ.get("BENCH_DIR")))
    try:
        today, commit = older_tree(work)
        print(f"baseline tree {commit}; generating {HOURS} h of audio in {work}", flush=True)
        master = base_mp3(work / "master-base.mp3", 3600, 440)
        raw = base_mp3(work / "raw-base.mp3", 3600, 330)
        big_today, big = work / "archive-today", work / "archive"
        build(today, big_today, HOURS, master, raw, CUES_PER_HOUR)
        ours_copy(big_today, big)
        station_bytes = du(big)
        print(f"station: {station_bytes / 1e9:.2f} GB", flush=True)
        hotline("--station", big, "publish")  # the feeds a backup keeps

        backup = work / "backup"
        first_s, out = hotline("--station", big, "backup", backup, "--json")
        first = json.loads(out)
        # Each later run is again an unchanged backup (and, from the third on, prunes the
        # oldest snapshot as every nightly backup does): the median of RUNS of them.
        seconds, reports = [], []
        for _ in range(RUNS):
            elapsed, out = hotline("--station", big, "backup", backup, "--json")
            seconds.append(elapsed)
            reports.append(json.loads(out))
        second_s = median(seconds)
        second = dict(reports[-1], seconds=median([r["seconds"] for r in reports]))
        print(f"unchanged backups: {', '.join(f'{s:.2f}' for s in seconds)} s", flush=True)
        verify_s, out = hotline("backup", "verify", backup, "--json")
        verified = json.loads(out)
        assert verified["ok"], verified
        restored = work / "restored"
        restore_s, _ = hotline("restore", backup, "--to", restored)
        _, out = hotline("--station", restored, "publish", "--json")
        identical = all(
            (restored / f"public/feeds/{name}.xml").read_bytes()
            == (big / f"public/feeds/{name}.xml").read_bytes()
            for name in ("generic", "apple", "spotify", "xiaoyuzhou", "ximalaya")
        )
        assert identical, "restored station's feeds differ"
        shutil.rmtree(restored)
        shutil.rmtree(backup)

        print("publish: 200-hour station", flush=True)
        publish_big = publish_pair(today, big_today, big)
        shutil.rmtree(big_today)
        shutil.rmtree(big)

        print(f"publish: {SMALL_EPISODES} episodes with small masters", flush=True)
        small_master = base_mp3(work / "small-master.mp3", 5, 440)
        small_today, small = work / "small-today", work / "small"
        build(today, small_today, SMALL_EPISODES, small_master, small_master, 8)
        ours_copy(small_today, small)
        publish_small = publish_pair(today, small_today, small)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()

    rows = [
        [
            "first backup (whole process / the backup itself)",
            f"{first_s:.1f} s / {first['seconds']:.1f} s",
            f"{first['bytes_written'] / 1e9:.2f} GB",
            f"{first['bytes_written'] / 1e6 / first_s:.0f} MB/s",
        ],
        [
            f"second backup, nothing changed (median of {RUNS})",
            f"{second_s:.1f} s / {second['seconds']:.1f} s "
            f"({100 * second_s / first_s:.1f} % / "
            f"{100 * second['seconds'] / first['seconds']:.1f} %)",
            f"{second['bytes_written'] / 1e6:.1f} MB "
            f"({100 * second['bytes_written'] / first['bytes_written']:.2f} %)",
            "target < 5 % of time and bytes",
        ],
        [
            "backup verify (both snapshots)",
            f"{verify_s:.1f} s",
            f"{verified['bytes_read'] / 1e9:.2f} GB read",
            f"{verified['bytes_read'] / 1e6 / verify_s:.0f} MB/s",
        ],
        [
            "restore into a new folder (index rebuilt)",
            f"{restore_s:.1f} s",
            "",
            "feeds identical after publish",
        ],
    ]
    publish_rows = []
    for label, pair in (
        (f"{HOURS} h station", publish_big),
        (f"{SMALL_EPISODES} episodes", publish_small),
    ):
        for scenario, facts in pair.items():
            publish_rows.append(
                [
                    f"publish, {label}: {scenario}",
                    round(facts["today_ms"]),
                    round(facts["ours_ms"]),
                    f"{facts['ratio']:.2f}×",
                ]
            )
    print()
    print(
        f"Backup: {HOURS} h of audio, station {station_bytes / 1e9:.2f} GB "
        f"(load {load_before[0]:.1f}–{load_after[0]:.1f})"
    )
    print(markdown_table(["measure", "time", "bytes", "note"], rows))
    print()
    print(
        markdown_table(["publish", f"today ({commit}) ms", "generations ms", "ratio"], publish_rows)
    )
    write_result(
        "bench_backup",
        {
            "hours": HOURS,
            "bitrate": BITRATE,
            "station_bytes": station_bytes,
            "baseline_commit": commit,
            "first_backup": {"process_seconds": first_s, **first},
            "second_backup": {"process_seconds": second_s, "runs_s": seconds, **second},
            "verify": {
                "seconds": verify_s,
                **{k: v for k, v in verified.items() if k != "snapshots"},
            },
            "restore_seconds": restore_s,
            "restored_feeds_identical": identical,
            "publish_archive": publish_big,
            "publish_small_masters": publish_small,
            "load_before": load_before,
            "load_after": load_after,
        },
    )


if __name__ == "__main__":
    main()
