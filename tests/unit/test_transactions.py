"""Write sessions lock before their first read; read sessions never wait; URLs we accept."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
from sqlmodel import select

from episodes.members import add_member
from hotline import db
from hotline.config import without_password
from hotline.errors import DatabaseUnavailable
from hotline.failures import Where, explain
from hotline.models import Member
from hotline.station import Station, open_station

sqlite_only = pytest.mark.parametrize("database", ["sqlite"])  # the file's own locks


@pytest.mark.sqlite_only("SQLite's write lock and WAL readers")
@sqlite_only
def test_a_write_session_holds_the_write_lock_from_its_first_read(station: Station) -> None:
    with station.session() as session:
        session.exec(select(Member)).all()  # only a read so far
        other = sqlite3.connect(station.root / "hotline.db", timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


@pytest.mark.sqlite_only("SQLite's write lock and WAL readers")
@sqlite_only
def test_a_read_session_reads_while_another_process_writes(station: Station) -> None:
    with station.session() as session:
        add_member(session=session, name="王伟", sector="教育界")
    writer = sqlite3.connect(station.root / "hotline.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE member SET name = '李娜'")
    try:
        with station.session(write=False) as session:
            assert [m.name for m in session.exec(select(Member))] == ["王伟"]  # last commit
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@pytest.mark.sqlite_only("SQLite's write lock and WAL readers")
@sqlite_only
def test_a_writer_waits_out_the_busy_timeout_then_fails_as_busy(station: Station) -> None:
    station.settings.database.busy_timeout_seconds = 0.2
    impatient = Station(root=station.root, settings=station.settings)
    holder = sqlite3.connect(station.root / "hotline.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sa.exc.OperationalError) as caught, impatient.session() as session:
            session.exec(select(Member)).all()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    failure = explain(caught.value, Where(station.root, None, 0.2))
    assert failure is not None and failure.kind == "busy" and "0.2 s" in failure.line


def test_a_snapshot_session_sees_one_moment_while_others_commit(station: Station) -> None:
    """What backups and exports read through: every table as of the first read, on both
    databases (PostgreSQL's default would show the second read a later commit)."""
    with station.session() as session:
        add_member(session=session, name="王伟", sector="教育界")
    with db.snapshot(station.engine) as snap:
        assert [m.name for m in snap.exec(select(Member))] == ["王伟"]
        with station.session() as session:  # a desk adds a member meanwhile
            add_member(session=session, name="李娜", sector="医药卫生界")
        assert [m.name for m in snap.exec(select(Member))] == ["王伟"]
    with station.session(write=False) as session:
        assert sorted(m.name for m in session.exec(select(Member))) == ["李娜", "王伟"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgres://staff@db.example.cn/hotline",
            "postgresql+psycopg://staff@db.example.cn/hotline",
        ),
        (
            "postgresql://staff@/hotline?host=/run/pg",
            "postgresql+psycopg://staff@/hotline?host=/run/pg",
        ),
        ("postgresql+psycopg://staff@/hotline", "postgresql+psycopg://staff@/hotline"),
        ("sqlite:////srv/电台/hotline.db", "sqlite:////srv/电台/hotline.db"),
    ],
)
def test_database_urls_we_accept(url: str, expected: str) -> None:
    assert db.normalise_url(url) == expected


@pytest.mark.parametrize("url", ["mysql://hotline@db/hotline", "hotline.db", "oracle+cx://x/y"])
def test_database_urls_we_refuse_in_one_line(url: str) -> None:
    with pytest.raises(DatabaseUnavailable, match="not supported|is not scheme://") as caught:
        db.make_engine(url)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        # A Unix socket has no host: the URL must keep its "//" (urlunsplit drops it).
        ("postgresql:///hotline?host=/run/postgresql&port=5433",) * 2,
        ("postgresql://hotline@dbhost/hotline",) * 2,
        (
            "postgresql://hotline:秘密@dbhost:5432/hotline",
            "postgresql://hotline@dbhost:5432/hotline",
        ),
        ("postgresql:///hotline?host=/run/pg&password=s3", "postgresql:///hotline?host=/run/pg"),
        ("postgresql://staff:pw@/hotline?host=/run/pg", "postgresql://staff@/hotline?host=/run/pg"),
    ],
)
def test_a_url_written_to_hotline_toml_loses_its_password_and_nothing_else(
    given: str, kept: str
) -> None:
    assert without_password(given) == kept
    assert db.normalise_url(kept).startswith("postgresql+psycopg://")


@pytest.mark.sqlite_only("the database file")
@sqlite_only
def test_a_missing_database_file_is_named_and_not_created(station: Station) -> None:
    station.engine.dispose()
    (station.root / "hotline.db").unlink()
    with pytest.raises(DatabaseUnavailable, match="hotline.db is missing: restore it"):
        open_station(station.root)
    assert not (station.root / "hotline.db").exists()


def test_postgresql_failures_by_sqlstate() -> None:
    import psycopg.errors as pg

    where = Where(None, "postgresql+psycopg://staff:秘密@db.example.cn/hotline", 10.0)
    cases = {
        pg.LockNotAvailable("lock timeout"): "busy",
        pg.DeadlockDetected("deadlock"): "conflict",
        pg.SerializationFailure("could not serialize"): "conflict",
        pg.DiskFull("no space"): "disk-full",
        pg.InvalidPassword("bad password"): "postgres-login",
        pg.InvalidCatalogName("no db"): "postgres-no-database",
        pg.ReadOnlySqlTransaction("read-only"): "read-only",
    }
    for error, kind in cases.items():
        failure = explain(sa.exc.OperationalError("SELECT 1", {}, error), where)
        assert failure is not None and failure.kind == kind, (error, failure)
        assert "秘密" not in failure.line  # the password is never shown


@pytest.mark.parametrize(
    "said",
    [
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is not yet accepting connections",
        "the database system is in recovery mode",
    ],
)
def test_a_server_stopping_or_starting_is_said_like_one_that_is_down(said: str) -> None:
    # `pg_ctl stop -m fast` under a running command: a worker said "PostgreSQL failed
    # (connection failed: …FATAL: …shutting down)" before the line it says for a server
    # that is away, as if these were two different troubles.
    import psycopg

    where = Where(None, "postgresql+psycopg://热线@/hotline?host=/run/pg&port=5432", 10.0)
    error = psycopg.OperationalError(
        'connection failed: connection to server on socket "/run/pg/.s.PGSQL.5432" '
        f"failed: FATAL:  {said}"
    )
    failure = explain(sa.exc.OperationalError("SELECT 1", {}, error), where)
    assert failure is not None and failure.kind == "postgres-unreachable", failure
    assert failure.line.startswith("cannot reach the PostgreSQL server of "), failure.line


def test_an_unexpected_error_is_not_explained_away() -> None:
    assert explain(KeyError("episode"), Where()) is None
