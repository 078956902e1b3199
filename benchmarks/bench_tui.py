"""The producers' desk on a large station: launch to first screen, tab switch, search keystroke.

Builds the benchmark station (1200 episodes, 3000 members, 10 000 bookings, 50 000
questions; ``big_station.py``) plus ``TRANSCRIBED`` transcripts of ``SEGMENTS`` segments
of Chinese speech, and drives the app headless with ``App.run_test`` at 140×40,
animations off (they only add waiting). Each figure is the median over N runs, timed to
the first frame the app *draws* that shows the result (a hook on the app's display
call), not to the end of the test pilot's idle waits (each of those sleeps 20 ms or more):

- launch: ``make_app`` to the first frame with the schedule's rows, its table focused;
- tab switch, first visit: 3 then 2 after launch, each to the first frame with that
  tab's table filled and focused. The desk builds the other tabs (hidden) and reads
  their first page in a worker once the first screen is up; like every step here this
  press comes once the workers are done, so it times showing a built tab for the first
  time (a press during that build waits for at most the one tab being built);
- tab switch: number keys between tabs already opened, each to the first frame with
  that tab's table focused and filled;
- filter keystroke: one character typed in 听众's filter to the first frame with the
  50 000-question list re-read (its first rows; the rest of the page follows);
- search keystroke: in 检索, the keystroke that completes a query (the query's last
  character, typed after the rest has been searched) to the first frame with its results;
- search typed fast: a whole query typed at once to the frame with its results (a search
  still running when a key arrives finishes first, then the newest text is searched);
- open the new-episode form: ``n`` on 排期 to the first frame with the form drawn, its
  first field focused and its buttons on screen;
- save it: ``ctrl+s`` on the filled form to the first frame with the form closed and the
  status bar saying what was added (the episode is written in a worker; the list is read
  again after that frame).

The tab searches as you type with no debounce (``debounce ms`` in the table says so).
Between measured steps the app settles (workers done, CPU idle), so steps don't overlap.

    python benchmarks/bench_tui.py [--runs 5] [--keep DIR]

Prints a markdown table and writes benchmarks/results/tui.json.
Targets: first screen < 1000 ms, tab switch < 100 ms, search keystroke < 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
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

TRANSCRIBED = 200
"""Aired episodes given a transcript, newest first, so the search figure reads a real index."""
SEGMENTS = 60
PHRASES = (
    "各位听众朋友，大家好，欢迎收听政协热线。",
    "今天我们来聊一聊社区{kw}服务的问题。",
    "这位听众反映，小区附近的{kw}设施还不够完善。",
    "我们界别的委员专门就{kw}做过调研，提交了提案。",
    "有关部门已经作了答复，明年会在街道增设服务窗口。",
    "家里有老人的听众都知道，养老服务离不开社区的支持。",
    "医保报销的流程还可以再简化一些，让群众少跑腿。",
    "感谢各位听众的来信来电，我们下周同一时间再见。",
)
TOPICS = ("养老", "医保", "教育", "住房", "交通", "就业", "环境", "物业")


def add_transcripts(station: Station, count: int = TRANSCRIBED) -> int:
    """Store ``count`` generated Chinese transcripts of ``SEGMENTS`` segments; returns how many."""
    import random

    from sqlmodel import col, select

    from hotline.models import Episode
    from hotline.timeutil import utcnow
    from transcripts.formats import Cue
    from transcripts.store import save_transcript

    rng = random.Random(7)
    with station.session() as session:
        numbers = session.exec(
            select(Episode.number)
            .where(col(Episode.air_start) < utcnow())
            .order_by(col(Episode.number).desc())
            .limit(count)
        ).all()
        for number in numbers:
            kw = rng.choice(TOPICS)
            cues = [
                Cue(i * 30.0, i * 30.0 + 25.0, rng.choice(PHRASES).format(kw=kw))
                for i in range(SEGMENTS)
            ]
            save_transcript(session=session, episode=number, segments=cues, model="bench")
    return len(numbers)


SIZE = (140, 40)
SEARCH_DEBOUNCE_MS = 0  # tui/screens/search.py searches at once; see its module docstring
TARGETS_MS = {
    "launch": 1000.0,
    "tab switch": 100.0,
    "search keystroke": 150.0,
    "open the new-episode form": 100.0,
    "save it": 100.0,
}
FORMS = 3
"""New-episode forms opened and saved per run."""


class Frames:
    """Records when the app first draws a frame in which ``done()`` holds."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.done: Callable[[], bool] = lambda: False
        self.drawn_at: float | None = None
        display = app._display  # the one call each drawn frame goes through

        def record(screen, update) -> None:  # noqa: ANN001
            display(screen, update)
            if self.drawn_at is None and self.done():
                self.drawn_at = time.perf_counter()

        app._display = record

    def expect(self, done: Callable[[], bool]) -> None:
        self.done, self.drawn_at = done, None

    async def wait(self, pilot, started: float, limit: float = 30.0) -> float:  # noqa: ANN001
        """Milliseconds from ``started`` to the frame drawn; then let the app settle."""
        from tui.app import FOLLOW_GROUP  # (imported by now: the launch step times that)

        deadline = time.perf_counter() + limit
        busy = lambda: any(  # noqa: E731 - the station's watch lives as long as the app
            w.is_running and w.group != FOLLOW_GROUP for w in pilot.app.workers
        )
        while self.drawn_at is None or busy():
            if time.perf_counter() > deadline:
                raise TimeoutError("the desk did not draw the expected screen")
            await pilot.pause()
        return (self.drawn_at - started) * 1000


def _table_ready(app, table_id: str) -> Callable[[], bool]:  # noqa: ANN001
    def ready() -> bool:
        found = app.query(f"#{table_id}")
        return bool(found) and found.first().row_count > 0 and app.focused is found.first()

    return ready


def _searched(app, query: str) -> Callable[[], bool]:  # noqa: ANN001
    def done() -> bool:
        pane = app.query_one("#search")
        return pane.shown == query and app.query_one("#search-table").row_count > 0

    return done


def _form_ready(app) -> Callable[[], bool]:  # noqa: ANN001
    def ready() -> bool:
        from tui.dialogs.episode_form import EpisodeForm

        form = app.screen
        if not isinstance(form, EpisodeForm) or not form.is_attached:
            return False
        buttons = form.query("#ok")
        return (
            bool(buttons)
            and app.focused is form.input("number")
            and buttons.first().region.bottom <= app.size.height - 1
            and buttons.first().region.height > 0
        )

    return ready


def _saved(app, title: str) -> Callable[[], bool]:  # noqa: ANN001
    def done() -> bool:
        from tui.dialogs.episode_form import EpisodeForm

        bar = app.status_bar
        return (
            not isinstance(app.screen, EpisodeForm)
            and bar is not None
            and bar.message.startswith("已新建")
            and bar.message.endswith(title)
        )

    return done


NAMES = (
    "launch",
    "tab switch, first visit",
    "tab switch",
    "filter keystroke",
    "search keystroke",
    "search typed fast",
    "open the new-episode form",
    "save it",
)


async def one_run(station: Station) -> dict[str, list[float]]:
    from textual import events
    from textual.widgets import Input

    from tui.app import make_app

    names = NAMES
    samples: dict[str, list[float]] = {k: [] for k in names}
    started = time.perf_counter()
    app = make_app(station)
    async with app.run_test(size=SIZE) as pilot:
        frames = Frames(app)
        frames.expect(_table_ready(app, "schedule-table"))
        samples["launch"].append(await frames.wait(pilot, started))
        for key, table in (("3", "questions-table"), ("2", "members-table")):
            frames.expect(_table_ready(app, table))
            t0 = time.perf_counter()
            await pilot.press(key)
            samples["tab switch, first visit"].append(await frames.wait(pilot, t0))
        for key, table in (
            ("1", "schedule-table"),
            ("3", "questions-table"),
            ("2", "members-table"),
            ("1", "schedule-table"),
            ("3", "questions-table"),
        ):
            frames.expect(_table_ready(app, table))
            t0 = time.perf_counter()
            await pilot.press(key)
            samples["tab switch"].append(await frames.wait(pilot, t0))
        await pilot.press("3", "slash")
        await frames.wait(pilot, time.perf_counter())
        table = app.query_one("#questions-table")
        for ch in "小区":
            loads = table.shown  # each filter change is a new load of the list
            frames.expect(lambda n=loads: table.shown > n)
            t0 = time.perf_counter()
            await pilot.press(ch)
            samples["filter keystroke"].append(await frames.wait(pilot, t0))
        await pilot.press("escape", "6")
        field = app.query_one("#search-input", Input)
        for query in ("养老", "医保", "服务窗口"):
            field.value = ""
            field.focus()
            *first, last = query
            frames.expect(_searched(app, query[:-1]))
            await pilot.press(*first)
            await frames.wait(pilot, time.perf_counter())
            frames.expect(_searched(app, query))
            t0 = time.perf_counter()
            await pilot.press(last)
            samples["search keystroke"].append(await frames.wait(pilot, t0))
        for query in ("老人", "提交了提案"):
            field.value = ""
            await pilot.pause()
            frames.expect(_searched(app, query))
            # Keys straight to the driver, no waiting between them (the pilot would idle).
            for ch in query:
                app._driver.send_message(events.Key(ch, ch))
            t0 = time.perf_counter()
            samples["search typed fast"].append(await frames.wait(pilot, t0))
        await pilot.press("escape", "1")
        await frames.wait(pilot, time.perf_counter())
        for n in range(FORMS):
            frames.expect(_form_ready(app))
            t0 = time.perf_counter()
            await pilot.press("n")
            samples["open the new-episode form"].append(await frames.wait(pilot, t0))
            form = app.screen
            form.input("title").value = f"基准测试节目 {n}"  # number and air: the next free
            await pilot.pause()
            frames.expect(_saved(app, f"基准测试节目 {n}"))
            t0 = time.perf_counter()
            await pilot.press("ctrl+s")
            samples["save it"].append(await frames.wait(pilot, t0))
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
        add_transcripts(station)
    load_before = os.getloadavg()
    try:
        runs = []
        for _ in range(args.runs):
            gc.collect()  # each run starts as a fresh process would, not on the last's garbage
            runs.append(asyncio.run(one_run(station)))
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    names = list(NAMES)
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
    rows.append(["search debounce", SEARCH_DEBOUNCE_MS, "—", "none: searches as you type"])
    print(markdown_table(["measure", "median ms", "target ms", ""], rows))
    path = write_result(
        "tui",
        {
            "station": {"episodes": 1200, "members": 3000, "questions": 50_000},
            "runs": args.runs,
            "size": list(SIZE),
            "figures": figures,
            "targets_ms": TARGETS_MS,
            "search_debounce_ms": SEARCH_DEBOUNCE_MS,
            "transcripts": {"episodes": TRANSCRIBED, "segments_each": SEGMENTS},
            "load_average_before": load_before,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
