"""The producers' desk on a large station: launch to first screen, tab switch, search keystroke.

Builds the benchmark station (1200 episodes, 3000 members, 10 000 bookings, 50 000
questions; ``big_station.py``) and drives the app headless with ``App.run_test`` at
140×40, animations off (they only add waiting). Each figure is the median of N runs:

- launch: ``make_app`` to the schedule drawn with its rows (the next episode selected);
- tab switch: a number key to the new tab's table filled and focused (first visit loads
  its first page; later visits only switch);
- filter keystroke: one character typed in 听众's filter to the 50 000-question list
  re-read and drawn;
- search keystroke: one character in 检索 to results drawn (``tui/screens/search.py``,
  if present; else "n/a"). The benchmark station has no transcripts, so this measures
  the tab's own overhead, not the search index (``bench_search.py`` does that).

    python benchmarks/bench_tui.py [--runs 5] [--keep DIR]

Prints a markdown table and writes benchmarks/results/tui.json.
Targets: first screen < 1000 ms, tab switch < 100 ms, search keystroke < 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from big_station import build_station  # noqa: E402
from common import markdown_table, median, write_result  # noqa: E402

from hotline.station import Station, open_station  # noqa: E402

SIZE = (140, 40)
TARGETS_MS = {"launch": 1000.0, "tab switch": 100.0, "search keystroke": 150.0}


async def _until(pilot, done: Callable[[], bool], limit: float = 30.0) -> None:  # noqa: ANN001
    """Let the app run until ``done()`` holds and no worker is running."""
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        await pilot.pause()
        if done() and not any(w.is_running for w in pilot.app.workers):
            return
    raise TimeoutError("the desk did not settle")


def _table_ready(app, table_id: str) -> Callable[[], bool]:  # noqa: ANN001
    def ready() -> bool:
        found = app.query(f"#{table_id}")
        return bool(found) and found.first().row_count > 0 and app.focused is found.first()

    return ready


async def one_run(station: Station) -> dict[str, list[float]]:
    from textual.widgets import Input

    from tui.app import make_app

    samples: dict[str, list[float]] = {k: [] for k in ("launch", "tab switch", "filter keystroke")}
    seen: list[str] = []
    started = time.perf_counter()
    app = make_app(station)
    async with app.run_test(
        size=SIZE, message_hook=lambda m: seen.append(type(m).__name__)
    ) as pilot:
        await _until(pilot, _table_ready(app, "schedule-table"))
        samples["launch"].append((time.perf_counter() - started) * 1000)
        for key, table in (
            ("2", "members-table"),
            ("3", "questions-table"),
            ("1", "schedule-table"),
            ("3", "questions-table"),
        ):
            t0 = time.perf_counter()
            await pilot.press(key)
            await _until(pilot, _table_ready(app, table))
            samples["tab switch"].append((time.perf_counter() - t0) * 1000)
        await pilot.press("slash")
        for ch in "小区":
            t0 = time.perf_counter()
            await pilot.press(ch)
            await _until(pilot, lambda: app.query_one("#questions-table").row_count > 0)
            samples["filter keystroke"].append((time.perf_counter() - t0) * 1000)
        search = next((p for p in app.panes if p.PANE_ID == "search"), None)
        if search is not None:
            samples["search keystroke"] = []
            await pilot.press("escape", str(app.panes.index(search) + 1))
            await pilot.pause()
            field = app.query_one("#search-input", Input)
            field.focus()
            for ch in "养老":
                seen.clear()
                t0 = time.perf_counter()
                await pilot.press(ch)
                # Results are drawn when the tab has handled its SearchDone message.
                await _until(pilot, lambda: "SearchDone" in seen, limit=10)
                samples["search keystroke"].append((time.perf_counter() - t0) * 1000)
    return samples


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="Build (or reuse) the station in this folder.")
    args = parser.parse_args(argv)

    scratch = None
    if args.keep is not None and (args.keep / "hotline.toml").is_file():
        station = open_station(args.keep)
    else:
        root = args.keep or Path(tempfile.mkdtemp(prefix="bench-tui-")) / "station"
        scratch = None if args.keep else root.parent
        station = build_station(root).station
    try:
        runs = [asyncio.run(one_run(station)) for _ in range(args.runs)]
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    names = ["launch", "tab switch", "filter keystroke", "search keystroke"]
    figures = {}
    for name in names:
        values = [v for run in runs for v in run.get(name, [])]
        figures[name] = {"median_ms": median(values) if values else None, "samples": values}
    rows = []
    for name in names:
        value = figures[name]["median_ms"]
        target = TARGETS_MS.get(name)
        shown = "n/a" if value is None else round(value)
        verdict = "n/a" if value is None or target is None else ("ok" if value < target else "over")
        rows.append([name, shown, f"< {target:.0f}" if target else "—", verdict])
    print(markdown_table(["measure", "median ms", "target ms", ""], rows))
    path = write_result(
        "tui",
        {
            "station": {"episodes": 1200, "members": 3000, "questions": 50_000},
            "runs": args.runs,
            "size": list(SIZE),
            "figures": figures,
            "targets_ms": TARGETS_MS,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
