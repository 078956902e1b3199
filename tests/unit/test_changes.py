"""The station tells a watching desk that it changed: two real processes on one station.

One process watches (as a desk's worker thread would); another runs the real CLI. The
watcher must hear of a committed write, on SQLite (``PRAGMA data_version``) and on
PostgreSQL (LISTEN/NOTIFY from the tables' triggers), and of nothing rolled back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from hotline.changes import Change, watch
from hotline.station import Station

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 120  # seconds: a guard against a hung process, not a timing assertion

WATCHER = """
import json, sys
from pathlib import Path
from hotline.changes import watch
from hotline.station import open_station

current = watch(open_station(Path(sys.argv[1])))
print("watching", flush=True)
change = current.wait_for_change(float(sys.argv[2]))
print(json.dumps(None if change is None else sorted(change.tables)), flush=True)
current.close()
"""


def start_watcher(station: Station, wait: float) -> subprocess.Popen[str]:
    watcher = subprocess.Popen(
        [sys.executable, "-c", WATCHER, str(station.root), str(wait)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=os.environ.copy(),
    )
    assert watcher.stdout is not None
    assert watcher.stdout.readline().strip() == "watching", watcher.stderr.read()
    return watcher


def heard(watcher: subprocess.Popen[str]) -> list[str] | None:
    out, err = watcher.communicate(timeout=LIMIT)
    assert watcher.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def hotline(station: Station, *args: str) -> None:
    code = "import sys\nfrom hotline.console import main\nsys.argv[0] = 'hotline'\nmain()"
    done = subprocess.run(
        [sys.executable, "-c", code, "--station", str(station.root), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=LIMIT,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.both_databases
def test_a_question_logged_by_another_process_is_heard(station: Station, database: str) -> None:
    watcher = start_watcher(station, wait=LIMIT)
    hotline(
        station, "questions", "add", "--text", "小区电梯加装补贴怎么申请？", "--channel", "phone"
    )
    tables = heard(watcher)
    assert tables is not None, "the watcher heard nothing of a committed question"
    if database == "postgresql":
        assert "question" in tables
    else:
        assert tables == []  # SQLite cannot say which table: the desk refreshes all


@pytest.mark.both_databases
def test_a_write_rolled_back_is_not_heard(station: Station) -> None:
    watcher = start_watcher(station, wait=3)
    with pytest.raises(RuntimeError), station.session() as session:
        session.execute(
            sa.text(
                "INSERT INTO member (name, sector, level, affiliation, district, contact, "
                "active, created_at) VALUES ('王伟', '教育界', '市', '', '', '', true, "
                "CURRENT_TIMESTAMP)"
            )
        )
        raise RuntimeError("the command fails after its write: nothing is committed")
    assert heard(watcher) is None


@pytest.mark.both_databases
def test_a_watch_reports_each_change_once(station: Station) -> None:
    current = watch(station)
    try:
        assert current.wait_for_change(0.3) is None
        with station.session() as session:
            session.execute(sa.text("UPDATE station SET settings = settings || ' '"))
        change = current.wait_for_change(LIMIT)
        assert change is not None and change.touches("station")
        assert current.wait_for_change(0.3) is None
    finally:
        current.close()


def test_a_change_that_names_no_table_touches_every_view() -> None:
    assert Change().touches("episode")
    assert Change(frozenset({"question"})).touches("question", "call")
    assert not Change(frozenset({"job"})).touches("episode", "booking")
