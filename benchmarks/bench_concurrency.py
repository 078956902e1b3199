"""Many writers at once: 8 processes × 50 mixed writes on one station, SQLite and PostgreSQL.

Each writer is a process (``tests/concurrent_calls.py``) that runs its commands in one
write transaction each, as the CLI and the desk do: bookings (invite, confirm,
decline), listener questions (log, screen, assign, reject, mark duplicate, refer) and
episode edits and additions, drawn at random over a small schedule so that writers
collide on the same episodes and questions. All writers start together at a gate.

Reported per database and number of writers: operations per second, p95 latency, the
outcomes by kind (done, refused by a rule, busy past the timeout, any other failure,
tracebacks) and the station's rules checked afterwards; per command at 8 writers, p50
and p95. Then the cost of the stricter transactions on a single writer: the same
workload against this tree and against the code before them (``--baseline``, default
the commit before this work, unpacked with ``git archive`` into a temporary folder and
put first on PYTHONPATH), alternating, medians of the rounds.

PostgreSQL: ``HOTLINE_TEST_PG_URL``, else a throwaway server with fsync on, started
and stopped here (``tests/pg_server.py``).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the shared worker and server helpers

import pg_server  # noqa: E402
from common import markdown_table, median, write_result  # noqa: E402
from concurrent_calls import calls_argv, run_at_once, violations  # noqa: E402

BASELINE = "dec7aab"
"""The last commit before write sessions took their locks at BEGIN (issue 10)."""

EPISODES, BOOKED_EPISODES, MEMBERS, QUESTIONS = 40, 10, 60, 200
SECTORS = ("教育界", "医药卫生界", "经济界", "农业界", "科学技术界", "文化艺术界")
MIX = (
    ("add_booking", 30),
    ("confirm_booking", 10),
    ("decline_booking", 3),
    ("add_question", 20),
    ("screen_question", 8),
    ("assign_question", 6),
    ("reject_question", 4),
    ("duplicate_question", 4),
    ("refer_question", 3),
    ("edit_episode", 9),
    ("add_episode", 3),
)


def plan(writer: int, count: int) -> list[dict[str, Any]]:
    """``count`` mixed writes for one writer, the same every run (seeded by the writer)."""
    rng = random.Random(1000 + writer)
    names, weights = zip(*MIX, strict=True)
    ops = []
    for n in range(count):
        op = rng.choices(names, weights)[0]
        episode = rng.randint(1, BOOKED_EPISODES)
        member = str(rng.randint(1, MEMBERS))
        question = rng.randint(1, QUESTIONS)
        args: dict[str, Any] = {
            "add_booking": {"episode": episode, "member": member},
            "confirm_booking": {"episode": episode, "member": member},
            "decline_booking": {"episode": episode, "member": member},
            "add_question": {"text": f"写者{writer}第{n}问：医保异地结算", "channel": "wechat"},
            "screen_question": {"question": question},
            "assign_question": {"question": question, "episode": episode},
            "reject_question": {"question": question, "reason": "不属于本节目"},
            "duplicate_question": {"question": question, "of": rng.randint(1, QUESTIONS)},
            "refer_question": {"question": question, "department": "市住建局"},
            "edit_episode": {"number": rng.randint(1, EPISODES), "title": f"第{n}次修改"},
            "add_episode": {"title": f"加开节目{writer}-{n}"},
        }[op]
        ops.append({"op": op, **args})
    return ops


# ---------------------------------------------------------------- stations


def seed(root: Path) -> None:
    """A station with the schedule, the members and the inbox every run starts from."""
    from episodes.members import add_member
    from episodes.questions import add_question
    from episodes.schedule import generate_episodes
    from hotline.station import init_station

    station, _ = init_station(root)
    with station.session() as session:
        generate_episodes(session=session, settings=station.settings, count=EPISODES)
        for n in range(MEMBERS):
            add_member(session=session, name=f"委员{n:02d}", sector=SECTORS[n % len(SECTORS)])
        for n in range(QUESTIONS):
            add_question(session=session, text=f"第{n}个来电：小区加装电梯补贴", channel="phone")
    station.engine.dispose()
    # Defaults only, so the code before this work (which knows no [database] table) reads it.
    (root / "hotline.toml").write_text("", encoding="utf-8")


@dataclass
class Stations:
    """Fresh copies of one seeded station, on SQLite or on a PostgreSQL server."""

    database: str
    work: Path
    server: str | None = None
    template: Path = field(init=False)
    template_url: str | None = field(init=False, default=None)
    copies: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.template = self.work / f"template-{self.database}"
        env_url = os.environ.pop("HOTLINE_DATABASE_URL", None)
        try:
            if self.database == "postgresql":
                assert self.server is not None
                self.template_url = pg_server.create_database(self.server, "hotline_bench")
                os.environ["HOTLINE_DATABASE_URL"] = self.template_url
            seed(self.template)
        finally:
            os.environ.pop("HOTLINE_DATABASE_URL", None)
            if env_url is not None:
                os.environ["HOTLINE_DATABASE_URL"] = env_url

    def fresh(self) -> tuple[Path, dict[str, str]]:
        """A new copy of the seeded station and the environment its processes need."""
        self.copies += 1
        root = self.work / f"run-{self.database}-{self.copies}"
        shutil.copytree(self.template, root)
        env = {k: v for k, v in os.environ.items() if k != "HOTLINE_DATABASE_URL"}
        if self.database == "postgresql":
            assert self.server is not None and self.template_url is not None
            env["HOTLINE_DATABASE_URL"] = clone_database(self.server, self.template_url)
        return root, env


def clone_database(server: str, template_url: str) -> str:
    import sqlalchemy as sa

    name = f"hotline_bench_run_{time.monotonic_ns()}"
    template = sa.make_url(template_url).database
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    engine.dispose()
    return sa.make_url(template_url).set(database=name).render_as_string(hide_password=False)


def open_copy(root: Path, env: dict[str, str]) -> Any:
    from hotline.station import open_station

    previous = os.environ.get("HOTLINE_DATABASE_URL")
    os.environ.pop("HOTLINE_DATABASE_URL", None)
    if "HOTLINE_DATABASE_URL" in env:
        os.environ["HOTLINE_DATABASE_URL"] = env["HOTLINE_DATABASE_URL"]
    try:
        return open_station(root)
    finally:
        os.environ.pop("HOTLINE_DATABASE_URL", None)
        if previous is not None:
            os.environ["HOTLINE_DATABASE_URL"] = previous


# ---------------------------------------------------------------- runs


@dataclass
class Run:
    """One round: every op's outcome and time, the wall time, the rules broken after."""

    results: list[dict[str, Any]]
    wall_s: float
    broken: list[str]
    crashed: int  # processes that exited non-zero (a worker itself failing)

    @property
    def ops_per_s(self) -> float:
        return len(self.results) / self.wall_s if self.wall_s > 0 else float("nan")

    def p95(self, op: str | None = None) -> float:
        return p95([r["ms"] for r in self.results if op is None or r["op"] == op])

    def outcomes(self) -> Counter[str]:
        return Counter(r["outcome"] for r in self.results)


def p95(samples: Sequence[float]) -> float:
    if len(samples) < 2:
        return samples[0] if samples else float("nan")
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def run_round(stations: Stations, writers: int, ops: int, *, pythonpath: Path | None = None) -> Run:
    root, env = stations.fresh()
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    finished = run_at_once([calls_argv(root, plan(w, ops)) for w in range(writers)], env=env)
    results = [r for f in finished for r in f.results()]
    wall = max(r["end"] for r in results) - min(r["start"] for r in results) if results else 0.0
    station = open_copy(root, env)
    broken = violations(station)
    station.engine.dispose()
    shutil.rmtree(root, ignore_errors=True)
    if "HOTLINE_DATABASE_URL" in env:
        pg_server.drop_database(env["HOTLINE_DATABASE_URL"])
    return Run(results, wall, broken, sum(1 for f in finished if f.returncode != 0))


@contextmanager
def postgres() -> Iterator[str | None]:
    server = pg_server.start_server(durable=True)
    if isinstance(server, str):
        print(f"PostgreSQL skipped: {server}", file=sys.stderr)
        yield None
        return
    try:
        yield server.url
    finally:
        server.stop()


def baseline_tree(revision: str, work: Path) -> Path:
    """The code of ``revision``, unpacked (no git worktree is created)."""
    tree = work / f"baseline-{revision}"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


# ---------------------------------------------------------------- report


def concurrency_rows(database: str, runs: dict[int, list[Run]]) -> list[list[Any]]:
    rows = []
    for writers, rounds in runs.items():
        counts: Counter[str] = Counter()
        for r in rounds:
            counts += r.outcomes()
        other = sum(v for k, v in counts.items() if k not in ("ok", "refused", "busy"))
        rows.append(
            [
                database,
                writers,
                median([r.ops_per_s for r in rounds]),
                median([r.p95() for r in rounds]),
                counts["ok"],
                counts["refused"],
                counts["busy"],
                other - counts["traceback"],
                counts["traceback"],
                sum(len(r.broken) for r in rounds),
            ]
        )
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=50, help="writes per writer")
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--rounds", type=int, default=3, help="rounds per writer count")
    parser.add_argument("--single-ops", type=int, default=200, help="writes, single-writer cost")
    parser.add_argument("--single-rounds", type=int, default=5)
    parser.add_argument("--baseline", default=BASELINE, help="git revision before the change")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="hotline-bench-concurrency-"))
    load_before = os.getloadavg()[0]
    result: dict[str, Any] = {"ops_per_writer": args.ops, "baseline": args.baseline}
    concurrency: list[list[Any]] = []
    per_command: list[list[Any]] = []
    single: list[list[Any]] = []
    try:
        old = baseline_tree(args.baseline, work)
        with postgres() as server:
            databases = ["sqlite"] + ([] if args.no_postgres or server is None else ["postgresql"])
            for database in databases:
                stations = Stations(database, work, server)
                runs = {
                    w: [run_round(stations, w, args.ops) for _ in range(args.rounds)]
                    for w in args.writers
                }
                concurrency += concurrency_rows(database, runs)
                most = runs[max(args.writers)]
                for op, _ in MIX:
                    samples = [r["ms"] for run in most for r in run.results if r["op"] == op]
                    if samples:
                        per_command.append(
                            [database, op, len(samples), median(samples), p95(samples)]
                        )
                new_p95, old_p95 = [], []
                for _ in range(args.single_rounds):  # alternating, so load drifts hit both
                    new_p95.append(run_round(stations, 1, args.single_ops).p95())
                    old_p95.append(run_round(stations, 1, args.single_ops, pythonpath=old).p95())
                ratio = median(new_p95) / median(old_p95)
                single.append([database, median(old_p95), median(new_p95), f"{ratio:.2f}×"])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    headers = [
        "database",
        "writers",
        "ops/s",
        "p95 ms",
        "done",
        "refused by a rule",
        "busy",
        "other failures",
        "tracebacks",
        "rules broken",
    ]
    print(markdown_table(headers, concurrency))
    print()
    print(markdown_table(["database", "command", "n", "p50 ms", "p95 ms"], per_command))
    print()
    print(
        markdown_table(
            ["database", f"single writer p95 ms, {args.baseline}", "this tree", "ratio"], single
        )
    )
    load_after = os.getloadavg()[0]
    print(f"\nload average {load_before:.1f} → {load_after:.1f}")
    result |= {
        "concurrency": [dict(zip(headers, row, strict=True)) for row in concurrency],
        "per_command": per_command,
        "single_writer": single,
        "load_before": load_before,
        "load_after": load_after,
    }
    print(write_result("concurrency", result))


if __name__ == "__main__":
    main()
