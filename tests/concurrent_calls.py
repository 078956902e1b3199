"""Run domain commands from several processes at once: the worker script and its launcher.

``python tests/concurrent_calls.py READY GATE STATION OPS_JSON`` opens the station,
touches READY, waits for GATE to appear (so every process starts its commands at the
same moment), then runs each op in its own write transaction, as the CLI does, and
prints one JSON line per op: its outcome (``ok``, ``refused`` with the domain's line,
a failure kind from ``hotline.failures``, or ``traceback``) and its time in ms.

:func:`run_at_once` starts any commands (this script, or the real ``hotline`` CLI via
:data:`GATED_CLI`) the same way and returns what each printed. The tests and
``benchmarks/bench_concurrency.py`` share it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
WAIT_LIMIT = 300.0  # a guard against a process that never gets ready, not a timing check

GATED_CLI = """
import os, sys, time
ready, gate = sys.argv[1], sys.argv[2]
sys.argv = ["hotline", *sys.argv[3:]]
# What the commands load, loaded before the gate so that they all start together.
import hotline.cli, hotline.cli.bookings, hotline.cli.episodes, hotline.cli.questions
open(ready, "w").close()
while not os.path.exists(gate):
    time.sleep(0.002)
from hotline.console import main
main()
"""
"""The real ``hotline`` console script, held at a start gate: argv is READY GATE ARGS…"""


@dataclass
class Finished:
    """One process: its exit status and what it printed."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    def results(self) -> list[dict[str, Any]]:
        """The JSON lines a worker of this module printed."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]


READY, GATE = "{ready}", "{gate}"
"""Placeholders in an argv that :func:`run_at_once` replaces with its files."""


def cli_argv(station: Path, *args: Any) -> list[str]:
    """A gated ``hotline --station STATION ARGS…``."""
    return [sys.executable, "-c", GATED_CLI, READY, GATE, "--station", str(station)] + [
        str(a) for a in args
    ]


def calls_argv(station: Path, ops: Sequence[Mapping[str, Any]]) -> list[str]:
    """A gated worker running ``ops`` (dicts with ``op`` and its arguments) in order."""
    return [sys.executable, str(HERE), READY, GATE, str(station), json.dumps(list(ops))]


def run_at_once(
    commands: Sequence[Sequence[str]], *, env: Mapping[str, str] | None = None
) -> list[Finished]:
    """Start every command, wait until all are ready, open the gate, collect the results."""
    folder = Path(tempfile.mkdtemp(prefix="hotline-gate-"))
    gate = folder / "go"
    procs = []
    for n, argv in enumerate(commands):
        ready = folder / f"ready-{n}"
        names = {READY: str(ready), GATE: str(gate)}
        full = [names.get(a, a) for a in argv]
        procs.append(
            (
                full,
                ready,
                subprocess.Popen(
                    full,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    cwd=ROOT,
                    env=dict(env) if env is not None else None,
                ),
            )
        )
    deadline = time.monotonic() + WAIT_LIMIT
    while not all(r.exists() or p.poll() is not None for _, r, p in procs):
        if time.monotonic() > deadline:
            for _, _, p in procs:
                p.kill()
            raise TimeoutError("processes never got ready")
        time.sleep(0.01)
    gate.touch()
    finished = []
    for full, _, proc in procs:
        out, err = proc.communicate(timeout=WAIT_LIMIT)
        finished.append(Finished(full, proc.returncode, out, err))
    shutil.rmtree(folder, ignore_errors=True)
    return finished


# ---------------------------------------------------------------- the rules that must hold


def violations(station: Any) -> list[str]:
    """Every broken rule of the station's data, as lines (empty when all hold)."""
    from sqlmodel import select

    from hotline.models import Booking, BookingStatus, Episode, EpisodeStatus, Question

    found: list[str] = []
    limit = station.settings.bookings.guest_limit
    seated = (BookingStatus.invited, BookingStatus.confirmed, BookingStatus.appeared)
    with station.session(write=False) as session:
        episodes = {e.id: e for e in session.exec(select(Episode))}
        bookings = list(session.exec(select(Booking)))
        questions = {q.id: q for q in session.exec(select(Question))}
    numbers = [e.number for e in episodes.values()]
    if len(numbers) != len(set(numbers)):
        found.append(f"episode numbers repeat: {sorted(numbers)}")
    live = sorted(
        (e for e in episodes.values() if e.status != EpisodeStatus.cancelled),
        key=lambda e: e.air_start,
    )

    def end(e: Any) -> Any:
        return e.air_start + timedelta(minutes=e.duration_minutes)

    for a, b in zip(live, live[1:], strict=False):
        if end(a) > b.air_start:
            found.append(f"episodes {a.number} and {b.number} overlap")
    for episode_id in {b.episode_id for b in bookings}:
        count = sum(1 for b in bookings if b.episode_id == episode_id and b.status in seated)
        if count > limit:
            found.append(f"episode {episodes[episode_id].number}: {count} guests, limit {limit}")
    confirmed: dict[int, list[Any]] = {}
    for b in bookings:
        if b.status == BookingStatus.confirmed:
            confirmed.setdefault(b.member_id, []).append(episodes[b.episode_id])
    for member_id, eps in confirmed.items():
        eps = sorted(
            (e for e in eps if e.status != EpisodeStatus.cancelled), key=lambda e: e.air_start
        )
        for a, b in zip(eps, eps[1:], strict=False):
            if end(a) > b.air_start:
                found.append(f"member {member_id} confirmed on overlapping {a.number}, {b.number}")
    for q in questions.values():
        found.extend(f"question {q.id} ({q.status}): {p}" for p in _question_problems(q, questions))
    return found


def _question_problems(q: Any, questions: Mapping[int, Any]) -> list[str]:
    problems = []
    if (q.status == "duplicate") != (q.duplicate_of is not None):
        problems.append(f"duplicate_of={q.duplicate_of}")
    if q.duplicate_of is not None and questions[q.duplicate_of].status == "duplicate":
        problems.append(f"points at duplicate {q.duplicate_of}")
    if (q.status == "rejected") != bool(q.reject_reason):
        problems.append(f"reject_reason={q.reject_reason!r}")
    if q.status == "referred" and not q.referral_department:
        problems.append("referred without a department")
    if q.referral_department and q.status not in ("referred", "resolved"):
        problems.append(f"referral_department={q.referral_department!r}")
    if q.status in ("assigned", "answered") and q.episode_id is None:
        problems.append("no episode")
    if q.status == "answered" and q.member_id is None:
        problems.append("answered by nobody")
    return problems


# ---------------------------------------------------------------- the worker side


def _ops() -> dict[str, Callable[..., Any]]:
    from episodes import bookings, questions, schedule

    def settings_op(fn: Callable[..., Any]) -> Callable[..., Any]:
        return lambda session, station, **kw: fn(session=session, settings=station.settings, **kw)

    def plain(fn: Callable[..., Any]) -> Callable[..., Any]:
        return lambda session, station, **kw: fn(session=session, **kw)

    return {
        "add_booking": settings_op(bookings.add_booking),
        "confirm_booking": settings_op(bookings.confirm_booking),
        "decline_booking": settings_op(bookings.decline_booking),
        "add_episode": settings_op(schedule.add_episode),
        "edit_episode": settings_op(schedule.edit_episode),
        "reschedule_episode": settings_op(schedule.reschedule_episode),
        "add_question": plain(questions.add_question),
        "screen_question": plain(questions.screen),
        "assign_question": plain(questions.assign),
        "reject_question": plain(questions.reject),
        "duplicate_question": plain(questions.mark_duplicate),
        "refer_question": plain(questions.refer),
    }


def _run_one(station: Any, run: Callable[..., Any], args: dict[str, Any]) -> tuple[str, str]:
    from hotline.errors import HotlineError

    try:
        with station.session() as session:
            run(session, station, **args)
        return "ok", ""
    except HotlineError as exc:
        return "refused", str(exc)
    except Exception as exc:
        failure = _explained(station, exc)
        if failure is None:
            return "traceback", "".join(traceback.format_exception(exc))
        return failure


def _explained(station: Any, exc: Exception) -> tuple[str, str] | None:
    """The failure's kind and line, by ``hotline.failures``; a benchmark of the code before
    that module existed counts ``database is locked`` by its text."""
    try:
        from hotline.failures import Where, explain
    except ImportError:
        return ("busy", str(exc)) if "database is locked" in str(exc) else None
    timeout = station.settings.database.busy_timeout_seconds
    failure = explain(exc, Where(station.root, station.url, timeout))
    return (failure.kind, failure.line) if failure else None


def main(argv: Sequence[str]) -> None:
    ready, gate, station_dir, ops_json = argv
    from hotline.station import open_station

    station = open_station(Path(station_dir))
    table = _ops()
    ops = json.loads(ops_json)
    Path(ready).touch()
    while not os.path.exists(gate):
        time.sleep(0.002)
    for op in ops:
        args = {k: v for k, v in op.items() if k != "op"}
        start, started = time.time(), time.perf_counter()
        outcome, message = _run_one(station, table[op["op"]], args)
        ms = (time.perf_counter() - started) * 1000
        line = {"op": op["op"], "outcome": outcome, "message": message, "ms": ms}
        print(json.dumps(line | {"start": start, "end": time.time()}, ensure_ascii=False))
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
