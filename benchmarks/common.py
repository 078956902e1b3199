"""What every benchmark shares: timing a subprocess, medians, a markdown table, a JSON result.

Benchmarks are scripts (``python benchmarks/bench_X.py``), so this module is imported
as ``common`` from the benchmarks folder. Results go to ``benchmarks/results/<name>.json``.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().with_name("results")

# Time what an installed station runs: Python caches our modules' bytecode after their
# first import. A shell that sets PYTHONDONTWRITEBYTECODE (this project's machine does)
# would have every timed process compile them again (20–40 ms of each command's start).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False


@dataclass
class Timed:
    """One run of a command: its wall time, its CPU time (user + system) and what it said."""

    ms: float
    returncode: int
    stdout: str
    stderr: str
    cpu_ms: float = float("nan")

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def last_error_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else f"exit {self.returncode}"


def venv_script(name: str) -> str:
    """The console script ``name`` next to this interpreter (the venv's ``bin``)."""
    # Not resolved: .venv/bin/python is a symlink to the base interpreter.
    return str(Path(sys.executable).parent / name)


def time_command(
    argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Timed:
    """Run ``argv`` to completion and return its wall time, process start included.

    CPU time comes from the children's resource usage, so it is exact only when no other
    child of this process ends meanwhile (benchmarks run one command at a time).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        list(argv),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return Timed(elapsed, done.returncode, done.stdout, done.stderr, cpu)


def median(samples: Sequence[float]) -> float:
    """The median of ``samples`` (NaN when there are none)."""
    return statistics.median(samples) if samples else float("nan")


def median_of(runs: int, argv: Sequence[str], **kwargs: Any) -> tuple[float, list[Timed]]:
    """Run ``argv`` ``runs`` times; return the median wall time in ms and every run."""
    timed = [time_command(argv, **kwargs) for _ in range(runs)]
    return median([t.ms for t in timed]), timed


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        # Other work on the machine skews every figure; the load says how much there was.
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def write_result(name: str, data: Mapping[str, Any]) -> Path:
    """Write ``data`` (plus time and machine) to ``benchmarks/results/<name>.json``."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    document = {
        "benchmark": name,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **data,
    }
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured markdown table; numbers right-aligned."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "—" if value != value else f"{value:.0f}"  # NaN: not measured
        return str(value).replace("|", "\\|")

    numeric = [
        bool(rows) and all(isinstance(r[i], int | float) for r in rows) for i in range(len(headers))
    ]
    align = ["---:" if n else "---" for n in numeric]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
