"""A PostgreSQL server for the tests and benchmarks, and a fresh database on it per test.

Where the server comes from, first that applies:

1. ``HOTLINE_TEST_PG_URL``: a server someone started (``.ci/run`` does), as the URL of a
   superuser's connection to its ``postgres`` database;
2. a throwaway server started here when PostgreSQL's ``initdb`` is installed (on PATH or
   under /usr/lib/postgresql): as root it runs as the ``postgres`` user, otherwise as
   whoever runs the tests; its data and socket live in a temporary folder, no TCP;
3. none: :func:`start_server` returns the reason, for the caller to skip with (or to fail
   with, in CI).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

PG_URL_ENV = "HOTLINE_TEST_PG_URL"
"""The server to use: ``postgresql+psycopg://postgres@/postgres?host=SOCKET_DIR&port=PORT``."""


def pg_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, newest version first, if installed."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return versions[0].parent if versions else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A running server: the URL to its ``postgres`` database, and how to stop it."""

    url: str
    folder: Path | None = None  # set when this process started it
    run_as: Sequence[str] = ()
    bin_dir: Path | None = None

    def stop(self) -> None:
        if self.folder is None or self.bin_dir is None:
            return
        subprocess.run(
            [*self.run_as, str(self.bin_dir / "pg_ctl"), "-D", str(self.folder / "data")]
            + ["-m", "immediate", "-w", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def start_server(*, durable: bool = False) -> Server | str:
    """The server to test against, or why there is none.

    A throwaway server runs without fsync unless ``durable`` (benchmarks want the real cost).
    """
    given = os.environ.get(PG_URL_ENV)
    if given:
        return Server(url=given)
    bin_dir = pg_bin()
    if bin_dir is None:
        return "no PostgreSQL server: initdb is not installed and HOTLINE_TEST_PG_URL is unset"
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        if shutil.which("runuser") is None:
            return "no PostgreSQL server: running as root without runuser to become postgres"
        run_as = ["runuser", "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    if run_as:
        shutil.chown(folder, user="postgres")
    port = free_port()
    data = folder / "data"
    fsync = "" if durable else " -c fsync=off"
    steps = [
        [str(bin_dir / "initdb"), "-D", str(data), "-E", "UTF8", "--locale=C.UTF-8", "-A", "trust"]
        + ["-U", "postgres"],
        [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w"]
        + ["-o", f"-p {port} -k {folder} -c listen_addresses=''{fsync}", "start"],
    ]
    for step in steps:
        done = subprocess.run([*run_as, *step], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return f"no PostgreSQL server: {Path(step[0]).name} failed: {reason[0]}"
    url = f"postgresql+psycopg://postgres@/postgres?host={folder}&port={port}"
    return Server(url=url, folder=folder, run_as=run_as, bin_dir=bin_dir)


def _admin(url: str) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def create_database(
    server_url: str, prefix: str = "hotline_test", *, copy_of: str | None = None
) -> str:
    """A new database on the server, empty or a copy of the database ``copy_of`` (a URL,
    with nobody connected to it); return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    template = sa.make_url(copy_of).database if copy_of else "template0"
    engine = _admin(server_url)
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE "{template}"')
    engine.dispose()
    return sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(database_url: str) -> None:
    """Drop the database behind ``database_url``, closing whatever is still connected."""
    target = sa.make_url(database_url)
    engine = _admin(target.set(database="postgres").render_as_string(hide_password=False))
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    engine.dispose()
