"""Engine and session helpers, SQLite pragmas, and the schema-version gate.

Everything SQLite-specific lives here. The schema itself comes from the Alembic
migrations in ``hotline/migrations``; alembic is imported only to upgrade, never on
the ordinary command path (it would cost every command its import time).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from hotline.errors import SchemaError

# Every revision this version knows, oldest first; the last is the head. A test
# checks this against the migration scripts.
KNOWN_REVISIONS: tuple[str, ...] = ("0001", "0002", "0003", "0006")
SCHEMA_HEAD = KNOWN_REVISIONS[-1]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _owner_only(url: str) -> None:
    """Create the SQLite file readable by its owner only (it holds listeners' contacts).

    SQLite gives its -wal and -shm files the database file's permissions, so they follow.
    A file from before this rule is narrowed to the same.
    """
    name = sa.engine.make_url(url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            with contextlib.suppress(OSError):
                if candidate.stat().st_mode & 0o077:
                    candidate.chmod(0o600)
    except OSError:
        return  # a folder we cannot write: SQLite will say so when it opens
    else:
        os.close(fd)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        _owner_only(url)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def current_revision(engine: Engine) -> str | None:
    """The revision stamped in the database, or None for an empty database."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def check_schema(engine: Engine, where: str) -> None:
    """Refuse a database whose schema this version cannot work with."""
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


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the shipped migrations up to ``revision``."""
    from alembic import command
    from alembic.config import Config

    current = current_revision(engine)
    if current is not None and current not in KNOWN_REVISIONS:
        raise SchemaError(f"the database is at schema {current}, newer than this hotline")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One session, one transaction: commit when the block ends, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
