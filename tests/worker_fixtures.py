"""Real ``hotline worker`` processes for the tests: started, read, stopped; the job rows they move.

A worker can be started as if on another machine: in a UTS namespace of its own with
another host name (``unshare --uts``, root only), so that no other process can tell
from its pid that it died and only the engine's heartbeats can.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from process_fixtures import ROOT, WAIT_LIMIT, poll

from hotline.models import Job
from hotline.station import Station


def other_machine_possible() -> bool:
    """True when a process can be given a host name of its own here."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--uts", "sh", "-c", "hostname probe-host && hostname"],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.returncode == 0 and probe.stdout.strip() == "probe-host"


def start_worker(
    station: Station, *args: str, env: dict[str, str] | None = None, host: str | None = None
) -> subprocess.Popen[str]:
    """``hotline worker ARGS…`` as a real process in its own process group (on ``host``)."""
    command = [sys.executable, "-c", "from hotline.cli import main; main()"]
    command += ["--station", str(station.root), "worker", *args]
    if host is not None:
        # exec keeps the pid: a SIGKILL to the process kills the worker itself.
        command = ["unshare", "--uts", "sh", "-c", f'hostname {host} && exec "$@"', "sh", *command]
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )


def first_line(worker: subprocess.Popen[str]) -> str:
    """The worker's first line (which queues it takes); '' if it ended without one."""
    assert worker.stdout is not None
    return worker.stdout.readline().rstrip("\n")


def read_until(worker: subprocess.Popen[str], text: str, *, within: float = WAIT_LIMIT) -> str:
    """The worker's output from here up to a line holding ``text`` (what came, if it never
    did within ``within`` seconds or the worker ended).

    Reads the pipe's bytes itself, so use it instead of ``first_line``, not after it.
    """
    assert worker.stdout is not None
    fd, decoder, seen = worker.stdout.fileno(), codecs.getincrementaldecoder("utf-8")(), ""
    deadline = time.monotonic() + within
    while text not in seen and (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        chunk = os.read(fd, 65536) if ready else b""
        if not chunk:
            break
        seen += decoder.decode(chunk)
    return seen


def stop_worker(worker: subprocess.Popen[str], signum: int = signal.SIGTERM) -> tuple[str, str]:
    """Signal the worker, wait for it; (the rest of its stdout, its stderr)."""
    with contextlib.suppress(ProcessLookupError):
        worker.send_signal(signum)
    try:
        return worker.communicate(timeout=WAIT_LIMIT)
    finally:
        kill_group(worker)


def kill_group(worker: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)


def allow_connections(server_url: str, station: Station, allowed: bool) -> None:
    """Let the station's database take connections again, or refuse them and end every
    session, as a server going down does (other databases on the server are untouched)."""
    name = sa.make_url(station.url).database
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {allowed}')
            if not allowed:
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
    finally:
        admin.dispose()
    if allowed:
        station.engine.dispose()  # the test's own sessions ended too


def job(station: Station, job_id: int) -> Job:
    with station.session(write=False) as session:
        found = session.get(Job, job_id)
        assert found is not None
        return found


def all_jobs(station: Station) -> list[Job]:
    with station.session(write=False) as session:
        return list(session.exec(sa.select(Job).order_by(Job.id)).scalars())


def wait_for(condition: object, what: str) -> None:
    assert poll(condition, within=WAIT_LIMIT), f"never happened: {what}"  # type: ignore[arg-type]


def ticket_statuses(station: Station, job_id: int) -> list[str]:
    """The statuses of the procrastinate tickets of a row, oldest first (PostgreSQL)."""
    with station.session(write=False) as session:
        rows = session.connection().execute(
            sa.text(
                "SELECT status FROM procrastinate_jobs WHERE queueing_lock = :lock ORDER BY id"
            ),
            {"lock": f"hotline-job-{job_id}"},
        )
        return [str(status) for (status,) in rows]


def model_dirs(tmp_path: Path) -> dict[str, str]:
    """An environment in which the machine's own whisper models are out of sight."""
    return {
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "HOTLINE_WHISPER_DIR": str(tmp_path / "models"),
    }
