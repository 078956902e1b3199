"""Telling an open desk that the station changed: ``watch(station)``.

A desk holds a :class:`Watch` and calls :meth:`Watch.wait_for_change` in a loop from a
worker thread; it returns a :class:`Change` soon after another program (or this one)
commits a write, or None when ``timeout`` passes without one.

- **PostgreSQL**: every table has a statement-level trigger that calls ``pg_notify`` with
  the table's name on ``CHANNEL``; the server delivers notifications only when the writing
  transaction commits (never for one rolled back) and folds repeats of one table within a
  transaction into one. Triggers rather than a NOTIFY in our session's commit: they catch
  every writer (the CLI, the desk, workers, the job engine, someone in psql) without code
  on any write path, and ``db.upgrade`` installs them on every table of the schema, so a
  table added by a later migration notifies without anyone remembering to.
- **SQLite**: ``PRAGMA data_version`` on a connection of our own changes whenever another
  connection commits; it is polled every ``POLL_SECONDS``. It cannot say which tables
  changed, so such a change names none (``Change.tables`` is empty: refresh everything).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hotline import db

if TYPE_CHECKING:
    from hotline.station import Station

CHANNEL = "hotline_changes"
"""The PostgreSQL notification channel; the payload is the changed table's name."""

POLL_SECONDS = 0.25
"""How often a SQLite watch reads ``data_version``: a change shows within this."""

FUNCTION = "hotline_notify_change"
TRIGGER = "hotline_notify_change"


@dataclass(frozen=True)
class Change:
    """The station changed. ``tables`` names what changed; empty means it is not known."""

    tables: frozenset[str] = frozenset()

    def touches(self, *names: str) -> bool:
        """Whether a view of ``names`` may need a refresh (always, when nothing is named)."""
        return not self.tables or bool(self.tables.intersection(names))


class Watch(Protocol):
    """An open watch on one station's database."""

    def wait_for_change(self, timeout: float) -> Change | None:
        """Block up to ``timeout`` seconds; the change seen since the last call, or None."""
        ...

    def close(self) -> None:
        """Release the watch's connection."""
        ...


def install_triggers(connection: Connection) -> None:
    """(Re)install the notify function and a trigger on every table (PostgreSQL)."""
    connection.exec_driver_sql(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME); RETURN NULL; END $$"
    )
    for table in sa.inspect(connection).get_table_names():
        if table == "alembic_version":
            continue
        connection.exec_driver_sql(
            f"CREATE OR REPLACE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f'ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()'
        )


class _PostgresWatch:
    def __init__(self, engine: sa.Engine) -> None:
        import psycopg

        args, kwargs = engine.dialect.create_connect_args(engine.url)
        self._conn: Any = psycopg.connect(*args, **kwargs, autocommit=True)
        self._conn.execute(f"LISTEN {CHANNEL}")

    def wait_for_change(self, timeout: float) -> Change | None:
        tables: set[str] = set()
        for note in self._conn.notifies(timeout=timeout, stop_after=1):
            tables.add(note.payload)
        if not tables:
            return None
        # Whatever else arrived with it belongs to the same change.
        for note in self._conn.notifies(timeout=0.01):
            tables.add(note.payload)
        return Change(frozenset(tables))

    def close(self) -> None:
        self._conn.close()


class _SQLiteWatch:
    def __init__(self, path: str) -> None:
        # Its own connection: data_version moves only for commits by other connections.
        self._conn = sqlite3.connect(path, check_same_thread=False)
        self._seen = self._version()

    def _version(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def wait_for_change(self, timeout: float) -> Change | None:
        deadline = time.monotonic() + timeout
        while True:
            version = self._version()
            if version != self._seen:
                self._seen = version
                return Change()
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            time.sleep(min(POLL_SECONDS, left))

    def close(self) -> None:
        self._conn.close()


def watch(station: Station) -> Watch:
    """Start watching ``station``'s database; changes committed from now on are reported.

    Use from a worker thread (``wait_for_change`` blocks) and close it when done; or use
    :func:`changes` for a loop.
    """
    engine = station.engine
    path = db.sqlite_path(engine)
    if db.is_sqlite(engine):
        if path is None:
            raise ValueError("an in-memory SQLite database cannot be watched")
        return _SQLiteWatch(str(path))
    return _PostgresWatch(engine)


def changes(station: Station, *, poll: float = 1.0) -> Iterator[Change | None]:
    """Changes as they come, with a None every ``poll`` seconds without one, so the loop
    can check whether it should stop; the watch closes when the loop ends."""
    current = watch(station)
    try:
        while True:
            yield current.wait_for_change(poll)
    finally:
        current.close()
