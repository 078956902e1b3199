"""Shared fixtures: a fresh temporary station (SQLite or PostgreSQL) and a runner for the CLI.

Which database a ``station`` uses:

- ``HOTLINE_TEST_DB`` (``sqlite``, the default, or ``postgresql``) for every test, so the
  whole suite can run on PostgreSQL with one switch;
- ``@pytest.mark.both_databases`` on a test runs it once on each, whatever the switch;
- the ``pg_station`` fixture asks for PostgreSQL explicitly;
- ``@pytest.mark.sqlite_only`` marks a test about SQLite by nature (WAL, query plans, the
  file on disk): the PostgreSQL pass skips it, saying so.

``.ci/run`` runs the suite twice, once per value of ``HOTLINE_TEST_DB``. Every report of
a failure names the database it ran on and the command that repeats it. The second pass
sets ``HOTLINE_TEST_SECOND_PASS``: it then runs only the tests whose station follows the
switch, and skips, saying so, those the first pass ran exactly as this one would (no
station, or a database the test names itself: ``pg_station``, ``sqlite_station``,
``both_databases``).

A PostgreSQL station gets a new database on the server of ``tests/pg_server.py``
(``HOTLINE_TEST_PG_URL``, or a throwaway server started for the session), dropped after
the test: a copy of one new station's database made once per session (``pg_template``),
given an id of its own and attached to the test's folder, since copying a database takes
a tenth of the time of creating and migrating one. The station folder names it in its
``hotline.toml`` (``[database] url``), so the CLI and subprocesses started by the test use
it too. ``HOTLINE_DATABASE_URL`` is unset, so another station a test makes itself
(``init_station``) is an embedded one. Without a server such tests are skipped with the
reason, except in CI (``CI`` set), where that fails the run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pg_server
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from hotline import identity
from hotline.cli import app
from hotline.station import Station, init_station

TEST_DB_ENV = "HOTLINE_TEST_DB"
SECOND_PASS_ENV = "HOTLINE_TEST_SECOND_PASS"
DATABASES = ("sqlite", "postgresql")


def chosen_database() -> str:
    """``HOTLINE_TEST_DB``, checked: ``sqlite`` (the default) or ``postgresql``."""
    chosen = os.environ.get(TEST_DB_ENV, "sqlite").strip().lower() or "sqlite"
    if chosen not in DATABASES:
        raise pytest.UsageError(f"{TEST_DB_ENV}={chosen!r}: use one of {', '.join(DATABASES)}")
    return chosen


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_databases: run the test on a SQLite and on a PostgreSQL station"
    )
    config.addinivalue_line(
        "markers",
        "sqlite_only(reason): about SQLite by nature (WAL, query plans, the file); "
        "skipped when HOTLINE_TEST_DB=postgresql",
    )
    chosen_database()  # a misspelt switch stops the run before any test


def pytest_report_header(config: pytest.Config) -> str:
    return f"station database: {chosen_database()} ({TEST_DB_ENV})"


def follows_the_switch(item: pytest.Item) -> bool:
    """True when ``HOTLINE_TEST_DB`` decides the database of the test's station: it uses the
    ``database`` fixture (through ``station`` or any fixture built on it) without naming
    the database itself."""
    callspec = getattr(item, "callspec", None)
    named = callspec is not None and "database" in callspec.params
    return "database" in getattr(item, "fixturenames", ()) and not named


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if chosen_database() != "postgresql":
        return
    second_pass = bool(os.environ.get(SECOND_PASS_ENV))
    for item in items:
        if second_pass and not follows_the_switch(item):
            item.add_marker(
                pytest.mark.skip(reason=f"the same on any {TEST_DB_ENV}: the first pass ran it")
            )
            continue
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            why = marker.args[0] if marker.args else marker.kwargs.get("reason", "SQLite itself")
            item.add_marker(
                pytest.mark.skip(reason=f"SQLite by nature ({why}): the SQLite pass runs it")
            )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        # Which database the failing test's station was on, and how to run it again there.
        funcargs = getattr(item, "funcargs", {})
        used = funcargs.get("database") or (
            "postgresql"
            if "pg_station" in funcargs
            else "sqlite"
            if "sqlite_station" in funcargs
            else None
        )
        ran = f"its station was on {used}" if used else "it asked for no `station` fixture"
        report.sections.append(
            (
                "station database",
                f"{TEST_DB_ENV}={chosen_database()}; {ran}. Again: {TEST_DB_ENV}="
                f"{chosen_database()} .venv/bin/python -m pytest '{item.nodeid}'",
            )
        )
    return report


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "both_databases"
    ):
        metafunc.parametrize("database", DATABASES)


@pytest.fixture
def database() -> str:
    """The database a ``station`` uses: ``HOTLINE_TEST_DB``, else SQLite."""
    return chosen_database()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server's ``postgres`` database; skips (fails in CI) without one."""
    server = pg_server.start_server()
    if isinstance(server, str):
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL: {server}", pytrace=False)
        pytest.skip(server)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_template(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a database holding a new, empty station, to copy for each test."""
    url = pg_server.create_database(postgres_server, prefix="hotline_template")
    made, _ = init_station(tmp_path_factory.mktemp("pg-template") / "station", database=url)
    made.engine.dispose()  # nobody may be connected to a database that is copied
    try:
        yield url
    finally:
        pg_server.drop_database(url)


def _make_station(
    database: str, root: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Station:
    monkeypatch.delenv("HOTLINE_STATION", raising=False)
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    if database != "postgresql":
        created, _ = init_station(root)
        request.addfinalizer(created.engine.dispose)
        return created
    template = request.getfixturevalue("pg_template")
    url = pg_server.create_database(request.getfixturevalue("postgres_server"), copy_of=template)
    request.addfinalizer(lambda: pg_server.drop_database(url))
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:  # every test's station is a station of its own
        conn.execute(sa.text("UPDATE station SET id = :id"), {"id": identity.new_id()})
    engine.dispose()
    # The folder names its database in hotline.toml, so the CLI and subprocesses find it;
    # a second station a test makes with init_station is a station of its own (SQLite).
    created, _ = init_station(root, database=url, attach=True)
    request.addfinalizer(created.engine.dispose)
    return created


@pytest.fixture
def station(
    database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Station:
    """An empty station in a temporary folder, default settings, on ``database``."""
    return _make_station(database, tmp_path / "station", monkeypatch, request)


@pytest.fixture
def pg_station(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Station:
    """An empty station on a fresh PostgreSQL database (dropped after the test)."""
    return _make_station("postgresql", tmp_path / "pg-station", monkeypatch, request)


@pytest.fixture
def sqlite_station(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Station:
    """An empty embedded station (its own hotline.db), whatever ``HOTLINE_TEST_DB`` says."""
    return _make_station("sqlite", tmp_path / "sqlite-station", monkeypatch, request)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture
def cli(station: Station) -> Callable[..., CliResult]:
    """Run ``hotline --station <temp station> ARGS…`` through typer's CliRunner."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> CliResult:
        result = runner.invoke(
            app,
            ["--station", str(station.root), *map(str, args)],
            input=input,
            catch_exceptions=False,
        )
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return run
