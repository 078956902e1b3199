"""Desks in sync: from a commit elsewhere to the row on an open desk, and an idle desk's CPU.

    .venv/bin/python benchmarks/bench_sync.py [--runs 7] [--pg-server URL]

- **latency**: a desk (the real app, headless, under Textual's Pilot) is open on 直播台;
  another session on the same station adds a caller; the time from that commit to the
  caller's row in the desk's table, checked every 5 ms. Median and range of ``--runs``.
  On SQLite the desk polls ``PRAGMA data_version`` every 0.25 s; on PostgreSQL it is told
  by LISTEN/NOTIFY (``--pg-server``: a server URL; a database is made and dropped).
- **idle CPU**: the desk's process CPU time over ``--idle`` seconds of nothing happening,
  with the station watch and without it (the rest of the desk idles the same either way).

Writes benchmarks/results/sync.json and prints a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "tui"))

import sqlalchemy as sa  # noqa: E402
from common import markdown_table, median, write_result  # noqa: E402
from desk_data import NOW, fill  # noqa: E402

from episodes import live_desk  # noqa: E402
from hotline.station import Station, init_station  # noqa: E402
from tui.app import HotlineApp, make_app  # noqa: E402

SIZE = (140, 40)


def callers(app: HotlineApp) -> list[str]:
    table = app.query_one("#live-table")
    return [str(table.get_row_at(i)[2]) for i in range(table.row_count)]


def add_caller(station: Station, name: str) -> float:
    """Add a caller in a session of its own; the moment it committed."""
    with station.session() as session:
        live_desk.add_caller(
            session=session, episode=1000, name=name, district="徐汇区", summary="托管班几点放学"
        )
    return time.perf_counter()


async def latencies(station: Station, runs: int) -> list[float]:
    app = make_app(station, clock=lambda: NOW)
    found: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(1.0)
        await pilot.press("4")
        await pilot.pause(1.0)
        for n in range(runs):
            name = f"听众{n}号"
            committed = await asyncio.to_thread(add_caller, station, name)
            deadline = committed + 30
            while name not in callers(app):
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"{name} never showed")
                await pilot.pause(0.005)
            found.append((time.perf_counter() - committed) * 1000)
            await pilot.pause(0.7)  # apart: each run is a change of its own, not a burst
    return found


async def idle_cpu(station: Station, seconds: float, *, follow: bool) -> float:
    app = make_app(station, clock=lambda: NOW)
    if not follow:
        app._follow = lambda: None  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(3.0)  # the desk up, the other tabs built
        start = time.process_time()
        await asyncio.sleep(seconds)
        used = time.process_time() - start
        await pilot.pause()
    return used / seconds * 100


def measure(station: Station, runs: int, idle: float) -> dict[str, object]:
    samples = asyncio.run(latencies(station, runs))
    with_watch = asyncio.run(idle_cpu(station, idle, follow=True))
    without = asyncio.run(idle_cpu(station, idle, follow=False))
    return {
        "latency_ms": samples,
        "median_ms": median(samples),
        "idle_cpu_percent": with_watch,
        "idle_cpu_percent_without_watch": without,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--idle", type=float, default=20.0, help="Seconds of idle measured.")
    parser.add_argument("--pg-server", help="PostgreSQL server URL (its postgres database).")
    args = parser.parse_args(argv)
    os.environ.pop("HOTLINE_DATABASE_URL", None)
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        station, _ = init_station(Path(tmp) / "sqlite")
        fill(station)
        results["SQLite"] = measure(station, args.runs, args.idle)
        station.engine.dispose()
        if args.pg_server:
            server = sa.create_engine(args.pg_server, isolation_level="AUTOCOMMIT")
            name = f"bench_sync_{uuid.uuid4().hex[:8]}"
            with server.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            try:
                url = server.url.set(database=name).render_as_string(hide_password=False)
                station, _ = init_station(Path(tmp) / "pg", database=url)
                fill(station)
                results["PostgreSQL"] = measure(station, args.runs, args.idle)
                station.engine.dispose()
            finally:
                with server.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
                server.dispose()
    rows = [
        [
            db,
            f"{r['median_ms']:.0f} ms",
            f"{min(r['latency_ms']):.0f}–{max(r['latency_ms']):.0f} ms",  # type: ignore[type-var]
            f"{r['idle_cpu_percent']:.2f} %",
            f"{r['idle_cpu_percent_without_watch']:.2f} %",
        ]
        for db, r in results.items()
    ]
    headers = ["database", "commit → row shown (median)", "range", "idle CPU", "without watch"]
    print(markdown_table(headers, rows))
    print(write_result("sync", {"runs": args.runs, "idle_seconds": args.idle, **results}))


if __name__ == "__main__":
    main()
