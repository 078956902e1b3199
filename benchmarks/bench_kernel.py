"""Everyday commands on a large station: wall time over the import floor, and no heavy imports.

Builds a station of 1200 weekly episodes, 3000 members, 10 000 bookings and 50 000
listener questions (10 000 of them referred to 60 departments) with bulk inserts
(SQLAlchemy core, not the CLI), then times each
command as a fresh process, as the median of N runs, next to the floor measured in the
same runs: ``python -c "import sqlmodel, typer"``. Target: each command within 100 ms of
the floor. The console script pauses the cyclic collector while its modules load
(hotline/console.py), so a second floor, the same imports with the collector paused,
shows what our own code adds. It also checks that ``hotline --help`` and these commands load neither
torch, whisper nor textual.

    python benchmarks/bench_kernel.py [--runs 5] [--keep]

Prints a markdown table and writes benchmarks/results/kernel.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from big_station import FRESH, QUESTION_STATUS_WEIGHTS, BuiltStation, build_station
from common import Timed, markdown_table, median, time_command, venv_script, write_result

TARGET_OVER_FLOOR_MS = 100.0
HEAVY_MODULES = ("torch", "whisper", "textual")


@dataclass
class Command:
    label: str
    argv: Callable[[int], list[str]]  # run index → arguments after `hotline`
    status: str = "ok"  # ok | missing | failed
    detail: str = ""
    samples: list[float] = field(default_factory=list)  # wall ms
    over: list[float] = field(default_factory=list)  # wall ms over the floor run just before
    over_paused: list[float] = field(default_factory=list)  # … over the paused-collector floor
    cpu: list[float] = field(default_factory=list)  # CPU ms (user + system)


def commands(built: BuiltStation) -> list[Command]:
    pairs = list(zip(built.fresh_episodes, built.fresh_members, strict=True))
    return [
        Command("hotline --help", lambda _: ["--help"]),
        Command("hotline episodes list --json", lambda _: ["episodes", "list", "--json"]),
        Command(
            "hotline bookings add N MEMBER",
            lambda i: ["bookings", "add", str(pairs[i][0]), str(pairs[i][1])],
        ),
        Command(
            "hotline questions list --status new --json",
            lambda _: ["questions", "list", "--status", "new", "--json"],
        ),
        Command("hotline report sectors", lambda _: ["report", "sectors"]),
        Command(
            "hotline referrals list --overdue",
            lambda _: ["referrals", "list", "--overdue"],
        ),
        Command("hotline report departments", lambda _: ["report", "departments"]),
    ]


def _help_words(argv: Sequence[str]) -> list[str]:
    words = [w for w in argv if not w.startswith("-") and not w.isdigit()]
    return [*words, "--help"]


def check_present(command: Command, env: dict[str, str]) -> None:
    """Mark ``command`` missing when ``hotline <words> --help`` fails (not built yet)."""
    probe = time_command([venv_script("hotline"), *_help_words(command.argv(0))], env=env)
    if not probe.ok:
        command.status = "missing"
        command.detail = probe.last_error_line()


IMPORT_PROBE = """
import atexit, sys
heavy = {heavy!r}
def report():
    loaded = ",".join(m for m in heavy if m in sys.modules)
    sys.stderr.write("\\nHEAVY:" + loaded + "\\n")
atexit.register(report)
sys.argv = ["hotline", *{args!r}]
from hotline.console import main
main()
"""


def heavy_imports(args: list[str], env: dict[str, str]) -> tuple[list[str] | None, Timed]:
    """Run ``hotline ARGS`` in-process and list the heavy modules it left in sys.modules."""
    code = IMPORT_PROBE.format(heavy=HEAVY_MODULES, args=args)
    run = time_command([sys.executable, "-c", code], env=env)
    for line in reversed(run.stderr.splitlines()):
        if line.startswith("HEAVY:"):
            return [m for m in line.removeprefix("HEAVY:").split(",") if m], run
    return None, run


FLOOR_CODE = "import sqlmodel, typer"
# The console script pauses the cyclic collector while modules load (hotline/console.py);
# the same imports under the same setting show what our own code adds.
PAUSED_FLOOR_CODE = "import gc; gc.disable(); import sqlmodel, typer"


def measure(
    built: BuiltStation, runs: int
) -> tuple[list[Command], list[Timed], list[Timed], list[dict]]:
    env = {**os.environ, "HOTLINE_STATION": str(built.station.root)}
    env.pop("HOTLINE_DATABASE_URL", None)
    hotline = venv_script("hotline")
    floor_argv = [sys.executable, "-c", FLOOR_CODE]
    paused_argv = [sys.executable, "-c", PAUSED_FLOOR_CODE]
    todo = commands(built)
    for command in todo:
        check_present(command, env)
    floors: list[Timed] = []
    paused_floors: list[Timed] = []
    # Run 0 warms the disk cache and is not counted. Each command is timed right after a
    # floor run of its own, so both see the same load on the machine.
    for run in range(runs + 1):
        for command in todo:
            if command.status != "ok":
                continue
            floor = time_command(floor_argv, env=env)
            paused = time_command(paused_argv, env=env)
            timed = time_command([hotline, *command.argv(run)], env=env)
            if not timed.ok:
                command.status, command.detail = "failed", timed.last_error_line()
            elif run:
                floors.append(floor)
                paused_floors.append(paused)
                command.samples.append(timed.ms)
                command.over.append(timed.ms - floor.ms)
                command.over_paused.append(timed.ms - paused.ms)
                command.cpu.append(timed.cpu_ms)
    imports = []
    for index, command in enumerate(todo):
        if command.status == "missing":
            imports.append({"command": command.label, "status": "missing"})
            continue
        loaded, probe = heavy_imports(command.argv(runs + 1 + index), env)
        imports.append(
            {
                "command": command.label,
                "status": "ok" if probe.ok else "failed",
                "heavy_loaded": loaded,
                "clean": loaded == [],
            }
        )
    return todo, floors, paused_floors, imports


def report(
    built: BuiltStation,
    todo: list[Command],
    floors: list[Timed],
    paused_floors: list[Timed],
    imports: list[dict],
) -> list[dict]:
    floor_ms = median([f.ms for f in floors])
    paused_ms = median([f.ms for f in paused_floors])
    rows, results = [], []
    for command in todo:
        over = median(command.over)
        verdict = (
            command.status
            if command.status != "ok"
            else ("pass" if over <= TARGET_OVER_FLOOR_MS else "fail")
        )
        cpu = median(command.cpu)
        over_paused = median(command.over_paused)
        rows.append(
            (
                command.label,
                median(command.samples),
                floor_ms,
                over,
                "≤ 100",
                verdict,
                cpu,
                paused_ms,
                over_paused,
            )
        )
        results.append(
            {
                "command": command.label,
                "status": command.status,
                "detail": command.detail,
                "samples_ms": [round(s, 1) for s in command.samples],
                "median_ms": round(median(command.samples), 1) if command.samples else None,
                "floor_ms": round(floor_ms, 1),
                "over_floor_ms": round(over, 1) if command.over else None,
                "paused_floor_ms": round(paused_ms, 1),
                "over_paused_floor_ms": round(over_paused, 1) if command.over_paused else None,
                "cpu_median_ms": round(median(command.cpu), 1) if command.cpu else None,
                "target_over_floor_ms": TARGET_OVER_FLOOR_MS,
                "pass": verdict == "pass",
            }
        )
    headers = [
        "command",
        "median ms",
        "floor ms",
        "over floor ms",
        "target",
        "result",
        "CPU ms",
        "paused-gc floor ms",
        "over it ms",
    ]
    print(f"\nStation: {built.counts} (built in {built.seconds:.1f} s)")
    floor_cpu = median([f.cpu_ms for f in floors])
    print(
        f'Floor: python -c "import sqlmodel, typer", median {floor_ms:.0f} ms '
        f"(CPU {floor_cpu:.0f} ms); load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs\n"
    )
    print(markdown_table(headers, rows))
    print("\nHeavy modules (torch, whisper, textual) loaded:\n")
    print(
        markdown_table(
            ["command", "heavy modules loaded", "result"],
            [
                (
                    i["command"],
                    ", ".join(i.get("heavy_loaded") or [])
                    or ("—" if i["status"] == "missing" else "none"),
                    i["status"] if i["status"] != "ok" else ("pass" if i["clean"] else "fail"),
                )
                for i in imports
            ],
        )
    )
    for command in todo:
        if command.detail:
            print(f"\n{command.label}: {command.status}: {command.detail}")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command (median)")
    parser.add_argument("--keep", action="store_true", help="keep the station and print its path")
    args = parser.parse_args(argv)
    # Each run, the warm-up and each import probe books one fresh episode/member pair.
    if args.runs + 1 + 5 > FRESH:
        parser.error(f"at most {FRESH - 6} runs: the fresh episodes and members run out")
    folder = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    try:
        built = build_station(folder / "station")
        print(f"built {built.counts} in {built.seconds:.1f} s")
        todo, floors, paused_floors, imports = measure(built, args.runs)
        results = report(built, todo, floors, paused_floors, imports)
        path = write_result(
            "kernel",
            {
                "runs": args.runs,
                "station": built.counts,
                "build_seconds": round(built.seconds, 2),
                "floor_command": f'python -c "{FLOOR_CODE}"',
                "paused_floor_command": f'python -c "{PAUSED_FLOOR_CODE}"',
                "paused_floor_ms": round(median([f.ms for f in paused_floors]), 1),
                "floor_ms": round(median([f.ms for f in floors]), 1),
                "floor_cpu_ms": round(median([f.cpu_ms for f in floors]), 1),
                "floor_samples_ms": [round(f.ms, 1) for f in floors],
                "question_status_weights": QUESTION_STATUS_WEIGHTS,
                "commands": results,
                "heavy_imports": imports,
            },
        )
        print(f"\nwrote {path}")
    finally:
        if args.keep:
            print(f"station kept in {folder / 'station'}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
