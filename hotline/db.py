"""Engine and session helpers: the URLs we accept, SQLite pragmas and transaction modes,
and the schema-version gate.

Everything SQLite-specific lives here. A write session (``transaction(write=True)``)
begins with ``BEGIN IMMEDIATE`` on SQLite, so it holds the write lock before its first
read; a read session begins with a plain ``BEGIN`` and never waits for a writer (WAL).
The row locks PostgreSQL needs are in ``hotline.locks``. The schema itself comes from
the Alembic migrations in ``hotline/migrations``; alembic is imported only to upgrade,
never on the ordinary command path (it would cost every command its import time).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from hotline import privacy
from hotline.errors import DatabaseUnavailable, SchemaError

privacy.install()  # before any session: contacts load only for users who may read them

# Every revision this version knows, oldest first; the last is the head. A test
# checks this against the migration scripts.
KNOWN_REVISIONS: tuple[str, ...] = (
    "0001",
    "0002",
    "0003",
    "0007",
    "0009",
    "0006",
    "0010",
    "0011",
    "0012",
)
SCHEMA_HEAD = KNOWN_REVISIONS[-1]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


WRITE_OPTION = "hotline_write"
"""Execution option a write session carries: on SQLite its BEGIN takes the write lock."""

POSTGRES_DRIVER = "postgresql+psycopg"
POSTGRES_SCHEMES = ("postgres", "postgresql")


def normalise_url(url: str) -> str:
    """``url`` with ``postgres://`` and a bare ``postgresql://`` meaning psycopg (the driver we
    install); any scheme but SQLite's and PostgreSQL's is refused with one line."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise DatabaseUnavailable(
            f"database URL {url!r} is not scheme://…: use postgresql://USER@HOST/DB "
            "(or unset HOTLINE_DATABASE_URL to use the station's own hotline.db)"
        )
    dialect = scheme.split("+", 1)[0].lower()
    if scheme.lower() in POSTGRES_SCHEMES:
        return f"{POSTGRES_DRIVER}://{rest}"
    if dialect in ("sqlite", "postgresql"):
        return url
    raise DatabaseUnavailable(
        f"database URL scheme {scheme!r} is not supported: use postgresql://USER@HOST/DB "
        "(or unset HOTLINE_DATABASE_URL to use the station's own hotline.db)"
    )


def display_url(url: str) -> str:
    """A database URL as a user may see it: without its password."""
    parsed = sa.make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or url
    if parsed.drivername == POSTGRES_DRIVER:
        parsed = parsed.set(drivername="postgresql")  # as users write it
    return unquote(parsed.render_as_string(hide_password=True))


def sqlite_path(engine: Engine) -> Path | None:
    """The file behind a SQLite engine (None for PostgreSQL or an in-memory database)."""
    name = engine.url.database if is_sqlite(engine) else None
    return Path(name) if name and name != ":memory:" else None


def _refuse_empty_file(_dialect: Any, _record: Any, cargs: Any, _cparams: Any) -> None:
    # Before sqlite3 opens the file: it would write a fresh header into a zero-byte file
    # (ours switches to WAL at once) and so turn lost data into an empty, valid station.
    path = Path(cargs[0]) if cargs and isinstance(cargs[0], str) else None
    if path is not None and path.is_file() and path.stat().st_size == 0:
        raise DatabaseUnavailable(
            f"the database {path} is empty (0 bytes): it is damaged; restore the station "
            "from a backup (hotline will not repair or overwrite it)"
        )


def _sqlite_connect(busy_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy's pysqlite recipe: the driver emits no BEGIN of its own, so
        # ``_sqlite_begin`` decides when a transaction starts and which lock it takes.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


FILE_KEY = "hotline_file"
"""A pooled SQLite connection's ``info`` key: the path and (device, inode) it opened."""


def _remember_file(dbapi_connection: Any, record: Any) -> None:
    row = dbapi_connection.execute("PRAGMA database_list").fetchone()
    name = row[2] if row else ""
    with contextlib.suppress(OSError):
        if name:
            found = Path(name).stat()
            record.info[FILE_KEY] = (Path(name), (found.st_dev, found.st_ino))


def _check_same_file(conn: Connection) -> None:
    """Refuse a transaction on a database file removed or replaced since it was opened.

    A desk keeps its connections open for hours: SQLite would go on reading and writing
    the removed file (or the one a restore moved aside), and every change made there
    would be lost without a word.
    """
    known = conn.connection.info.get(FILE_KEY)
    if known is None:
        return
    path, identity = known
    try:
        found = path.stat()
    except FileNotFoundError:
        found = None
    if found is not None and (found.st_dev, found.st_ino) == identity:
        return
    if found is None:
        # The connection stays: a new one would have SQLite start an empty file there.
        raise DatabaseUnavailable(
            f"the database {path.name} is missing: restore it from a backup "
            "(or run `hotline db upgrade` to start an empty one)",
            zh=f"数据库 {path.name} 不见了：请从备份恢复；这一步没有保存任何内容",
        )
    conn.invalidate()  # the next transaction opens the file at the path now
    raise DatabaseUnavailable(
        f"the database {path} was replaced while hotline had it open: nothing was changed; "
        "run it again",
        zh=f"数据库 {path.name} 在工作台打开期间被替换：这一步没有保存任何内容，请再试一次",
    )


def _sqlite_begin(conn: Connection) -> None:
    # A write session takes the write lock before its first read, so what it checks
    # cannot change before it writes; readers keep a consistent snapshot without it.
    _check_same_file(conn)
    write = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _owner_only(url: str) -> None:
    """Narrow an existing SQLite file (and its -wal/-shm) to its owner: it holds listeners'
    contacts. A file from before this rule gets the same. A missing file is not created
    here: opening a station must never start an empty database (``_narrow_new_file``
    covers a file SQLite creates on the first connection).
    """
    name = sa.engine.make_url(url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(OSError):
            if candidate.stat().st_mode & 0o077:
                candidate.chmod(0o600)


def _narrow_new_file(dbapi_connection: Any, _record: Any) -> None:
    # SQLite created the file with the umask's permissions; its -wal and -shm files take
    # the database file's, so narrowing it before the first write covers all three.
    row = dbapi_connection.execute("PRAGMA database_list").fetchone()
    name = row[2] if row else ""
    if name:
        with contextlib.suppress(OSError):
            path = Path(name)
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)


def make_engine(url: str, *, busy_timeout: float = 10.0) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout.

    ``busy_timeout`` (seconds) is how long a command waits for another one's lock: SQLite's
    busy timeout, PostgreSQL's ``lock_timeout``. Past it the command fails with one line.
    """
    url = normalise_url(url)
    busy_ms = max(1, round(busy_timeout * 1000))
    try:
        if url.startswith("sqlite"):
            _owner_only(url)
            engine = sa.create_engine(url, connect_args={"check_same_thread": False})
            event.listen(engine, "do_connect", _refuse_empty_file)
            event.listen(engine, "connect", _narrow_new_file)
            event.listen(engine, "connect", _remember_file)
            event.listen(engine, "connect", _sqlite_connect(busy_ms))
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        return sa.create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 10, "options": f"-c lock_timeout={busy_ms}"},
        )
    except ImportError as exc:
        module = exc.name or "psycopg"
        raise DatabaseUnavailable(
            f"the database driver {module!r} for {url.partition('://')[0]} is not installed: "
            "install it with `pip install 'psycopg[binary]'` (the hotline[postgres] extra)"
        ) from exc
    except sa.exc.NoSuchModuleError as exc:
        raise DatabaseUnavailable(
            f"database URL scheme {url.partition('://')[0]!r} is not supported: "
            "use postgresql://USER@HOST/DB"
        ) from exc


@contextmanager
def snapshot(engine: Engine) -> Iterator[Session]:
    """A read-only session whose every read sees the database as its first read did.

    For a backup or export of every table: one consistent state, and writers are not held
    up meanwhile. SQLite's deferred transaction is such a snapshot already (WAL);
    PostgreSQL's default, READ COMMITTED, would let each statement see later commits.
    """
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with transaction(engine, write=False) as session:
        yield session


def writer(engine: Engine) -> Engine:
    """``engine`` for write sessions (the same pool): on SQLite they BEGIN IMMEDIATE."""
    return engine.execution_options(**{WRITE_OPTION: True})


def current_revision(engine: Engine) -> str | None:
    """The revision stamped in the database, or None for an empty database."""
    # A read: it must not queue behind a write lock, not even one this process holds.
    with engine.execution_options(**{WRITE_OPTION: False}).connect() as conn:
        return revision_in(conn)


def revision_in(conn: sa.Connection) -> str | None:
    """``current_revision`` as ``conn`` sees it (a snapshot's reads all see one moment)."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def check_schema(engine: Engine, where: str) -> None:
    """Refuse a database whose schema this version cannot work with."""
    path = sqlite_path(engine)
    if path is not None and not path.exists():
        raise DatabaseUnavailable(
            f"{where}: the database {path.name} is missing: restore it from a backup "
            "(or run `hotline db upgrade` to start an empty one)"
        )
    revision = current_revision(engine)
    if revision == SCHEMA_HEAD:
        return
    if revision is None:
        raise SchemaError(f"{where}: the database has no schema; run `hotline db upgrade`")
    if revision not in KNOWN_REVISIONS:
        raise SchemaError(
            f"{where}: the database is at schema {revision}, newer than this hotline "
            f"({SCHEMA_HEAD}); upgrade hotline"
        )
    raise SchemaError(f"{where}: the database is at schema {revision}; run `hotline db upgrade`")


def upgrade(
    engine: Engine, revision: str = "head", *, then: Callable[[Connection], None] | None = None
) -> None:
    """Apply the shipped migrations up to ``revision``, then ``then(connection)``, in one
    transaction (both databases roll DDL back): a failure leaves the database as it was.

    On PostgreSQL the change triggers (``hotline.changes``) are (re)installed on every
    table, so tables that later migrations add notify open desks too.
    """
    from alembic import command
    from alembic.config import Config

    current = current_revision(engine)
    if current is not None and current not in KNOWN_REVISIONS:
        raise SchemaError(f"the database is at schema {current}, newer than this hotline")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with writer(engine).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        if not is_sqlite(engine) and revision == "head":
            from hotline import changes

            changes.install_triggers(connection)
        if then is not None:
            then(connection)


@dataclass(frozen=True)
class StationRow:
    """What a database says of the station it belongs to."""

    id: str
    moved_to: str


def station_row(engine: Engine) -> StationRow | None:
    """The station recorded in the database (None before one is recorded)."""
    with engine.execution_options(**{WRITE_OPTION: False}).connect() as conn:
        row = conn.execute(sa.text("SELECT id, moved_to FROM station")).first()
    return StationRow(row[0], row[1]) if row is not None else None


def table_names(engine: Engine) -> list[str]:
    """The tables the database holds (PostgreSQL: in its default schema)."""
    with engine.execution_options(**{WRITE_OPTION: False}).connect() as conn:
        return sa.inspect(conn).get_table_names()


def tables_lacking(connection: Connection, names: list[str], test: str) -> list[str]:
    """Those of the tables ``names`` (in their order) this PostgreSQL user fails ``test`` on:
    SQL over the table name ``t``, e.g. ``has_table_privilege(t, 'SELECT')``. One round
    trip for every table."""
    query = sa.text(
        "SELECT t FROM unnest(CAST(:names AS text[])) WITH ORDINALITY AS u(t, n) "
        f"WHERE NOT ({test}) ORDER BY n"
    )
    return list(connection.execute(query, {"names": names}).scalars())


@contextmanager
def transaction(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """One session, one transaction: commit when the block ends, roll back on any error.

    A write transaction holds the lock its checks need before its first read (on SQLite
    the database's write lock from BEGIN; on PostgreSQL the domain functions lock the rows
    they check, see ``hotline.locks``). ``write=False`` is for commands that only read.
    """
    with Session(writer(engine) if write else engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
