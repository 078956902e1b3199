"""The installed ``hotline`` script: the CLI it runs, and the collector left as it should be."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

from hotline.station import Station

# Runs the console script's main() in a fresh interpreter, then reports the collector's state.
PROBE = """
import atexit, gc, sys
def report():
    sys.stderr.write(f"\\nGC enabled={gc.isenabled()} frozen={gc.get_freeze_count()}\\n")
atexit.register(report)
sys.argv = ["hotline", *sys.argv[1:]]
from hotline.console import main
main()
"""


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120
    )


def test_the_hotline_script_is_the_console_entry_point() -> None:
    (script,) = [ep for ep in entry_points(group="console_scripts") if ep.name == "hotline"]
    assert script.value == "hotline.console:main"


def test_a_command_runs_and_leaves_the_collector_on(station: Station) -> None:
    run = run_script("--station", str(station.root), "episodes", "list", "--json")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
    # The modules loaded at start-up are frozen out of collection; collection is back on.
    state = run.stderr.strip().splitlines()[-1]
    assert state.startswith("GC enabled=True frozen=")
    assert int(state.rsplit("=", 1)[1]) > 10_000


def test_help_and_errors_leave_the_collector_on(tmp_path: Path) -> None:
    helped = run_script("--help")
    assert helped.returncode == 0
    assert "episodes" in helped.stdout
    assert "GC enabled=True" in helped.stderr
    failed = run_script("--station", str(tmp_path / "无此电台"), "episodes", "list")
    assert failed.returncode == 1
    assert "is not a station" in failed.stderr
    assert "GC enabled=True" in failed.stderr


def test_the_collector_is_untouched_when_the_cli_runs_inside_a_program(station: Station) -> None:
    code = (
        "import gc, sys\n"
        f"sys.argv = ['hotline', '--station', {str(station.root)!r}, 'episodes', 'list']\n"
        "from hotline.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(gc.isenabled(), gc.get_freeze_count())\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.stdout.split()[-2:] == ["True", "0"]
