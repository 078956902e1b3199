"""What the change history costs a write: p50 and p95 of write commands with and without it.

On the benchmark station (big_station.py: 50 000 questions, 10 000 referrals), runs the
bodies of everyday write commands — each in its own transaction, committed, as the CLI
runs them — in the same process, alternating one round with the history recorder
installed and one with it removed (``hotline.history.uninstall``), so both see the same
machine load. The concurrency benchmark's write mix will measure it again under
contention; this is the single-writer figure.

    python benchmarks/bench_history.py [--rounds 150]

Prints a markdown table and writes benchmarks/results/history.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from itertools import count
from pathlib import Path

from big_station import BuiltStation, build_station
from common import markdown_table, median, write_result
from sqlmodel import Session

from episodes import bookings, questions, schedule
from hotline import history
from hotline.station import Station
from hotline.timeutil import utcnow

Write = Callable[[Session, int], None]


def writes(built: BuiltStation) -> dict[str, Write]:
    station = built.station
    episode, member = built.fresh_episodes[0], built.fresh_members[0]
    numbers = count()

    def add_question(session: Session, n: int) -> None:
        questions.add_question(
            session=session, text=f"第{n}次来信：小区加装电梯补贴怎么申请？", channel="phone"
        )

    def screen_and_refer(session: Session, n: int) -> None:
        question, _ = questions.add_question(
            session=session, text=f"路灯坏了第{n}天", channel="web"
        )
        questions.screen(session=session, question=question.id)
        questions.refer(
            session=session,
            settings=station.settings,
            question=question.id,
            department=1 + next(numbers) % 60,
            due=(utcnow() + timedelta(days=7)).astimezone(station.tz).date(),
        )

    def edit_title(session: Session, n: int) -> None:
        schedule.edit_episode(
            session=session, settings=station.settings, number=episode, title=f"养老服务（{n}）"
        )

    def book_and_cancel(session: Session, n: int) -> None:
        common = {"session": session, "settings": station.settings}
        bookings.add_booking(**common, episode=episode, member=member)
        bookings.cancel_booking(**common, episode=episode, member=member)

    return {
        "questions add": add_question,
        "questions add + screen + refer": screen_and_refer,
        "episodes edit --title": edit_title,
        "bookings add + cancel": book_and_cancel,
    }


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(station: Station, write: Write, n: int) -> float:
    started = time.perf_counter()
    with station.session() as session:
        write(session, n)
    return (time.perf_counter() - started) * 1000


def measure(built: BuiltStation, rounds: int) -> dict[str, dict[str, list[float]]]:
    samples: dict[str, dict[str, list[float]]] = {}
    todo = writes(built)
    for name in todo:
        samples[name] = {"with": [], "without": []}
    n = 0
    for round_ in range(rounds + 5):  # five warm-up rounds, not counted
        order = ("with", "without") if round_ % 2 else ("without", "with")
        for variant in order:
            history.install() if variant == "with" else history.uninstall()
            for name, write in todo.items():
                n += 1
                ms = timed(built.station, write, n)
                if round_ >= 5:
                    samples[name][variant].append(ms)
    history.install()
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=150, help="rounds per variant")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="hotline-bench-history-"))
    try:
        built = build_station(folder / "station")
        print(f"built {built.counts} in {built.seconds:.1f} s")
        load_before = os.getloadavg()[0]
        samples = measure(built, args.rounds)
        load_after = os.getloadavg()[0]
        rows, results = [], []
        for name, by in samples.items():
            with_, without = by["with"], by["without"]
            row = {
                "write": name,
                "p50_without_ms": round(median(without), 2),
                "p50_with_ms": round(median(with_), 2),
                "p95_without_ms": round(p95(without), 2),
                "p95_with_ms": round(p95(with_), 2),
                "p95_ratio": round(p95(with_) / p95(without), 3),
                "samples": len(with_),
            }
            results.append(row)
            rows.append(
                (
                    name,
                    row["p50_without_ms"],
                    row["p50_with_ms"],
                    row["p95_without_ms"],
                    row["p95_with_ms"],
                    f"{(row['p95_ratio'] - 1) * 100:+.1f} %",
                )
            )
        print(
            f"\n{args.rounds} rounds per variant, alternating; load average "
            f"{load_before:.1f} → {load_after:.1f}, {os.cpu_count()} CPUs\n"
        )
        headers = [
            "write (one transaction)",
            "p50 without",
            "p50 with",
            "p95 without",
            "p95 with",
            "p95 change",
        ]
        print(markdown_table(headers, rows))
        path = write_result(
            "history",
            {
                "rounds": args.rounds,
                "station": built.counts,
                "load_average": [round(load_before, 2), round(load_after, 2)],
                "writes": results,
            },
        )
        print(f"\nwrote {path}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
