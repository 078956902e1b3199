"""What a failure of the database or the machine means to a user, in one line.

:func:`explain` reads an exception (and the exceptions it wraps: SQLAlchemy's ``orig``,
``__cause__``, ``__context__``) and says what failed and what to do about it: the
database was busy past the timeout, the disk is full, the folder is read-only or not
ours, the database file is damaged, the PostgreSQL server cannot be reached or refused
us. The CLI and the TUI show that line; the traceback goes to the station's log
(``hotline.logs``). An exception that is none of these is a bug, and says so.
"""

from __future__ import annotations

import errno
import io
import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import sqlalchemy as sa


@dataclass(frozen=True)
class Failure:
    """A failure explained: its kind (``busy``, ``disk-full``, …) and the line a user reads."""

    kind: str
    line: str


@dataclass(frozen=True)
class Where:
    """What the explanation may name: the station folder, its database, the lock timeout,
    and the folder outside the station the command writes to (a backup, an export)."""

    root: Path | None = None
    database_url: str | None = None
    busy_timeout: float | None = None
    target: Path | None = None

    def in_station(self, place: str | Path) -> bool:
        """Whether ``place`` is the station's own (inside its folder, not the target)."""
        if self.root is None:
            return False
        path = Path(place).absolute()
        if self.target is not None and path.is_relative_to(self.target.absolute()):
            return False
        return path.is_relative_to(self.root.absolute())

    @property
    def database(self) -> str:
        """The database as a user knows it: the file, or the server URL without password."""
        if not self.database_url:
            return str(self.root / "hotline.db") if self.root else "the station database"
        url = sa.make_url(self.database_url)
        if url.get_backend_name() == "sqlite":
            return url.database or "the station database"
        return unquote(url.render_as_string(hide_password=True))

    @property
    def database_name(self) -> str:
        """The PostgreSQL database's name (empty for SQLite)."""
        if not self.database_url:
            return ""
        url = sa.make_url(self.database_url)
        return "" if url.get_backend_name() == "sqlite" else url.database or ""


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything behind it, outermost first, each once."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        for inner in (orig, current.__cause__, current.__context__):
            if isinstance(inner, BaseException):
                todo.append(inner)


# SQLite's primary result codes (https://sqlite.org/rescode.html).
SQLITE_PERM, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY = 3, 5, 6, 8
SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN = 10, 11, 13, 14
SQLITE_AUTH, SQLITE_NOTADB = 23, 26
LOW_SPACE = 1 << 20
"""Below this many free bytes, an I/O error on the database is taken for a full disk."""


def _read_only_fs(path: Path) -> bool:
    """Whether ``path`` (or the nearest folder above it that exists) is on a read-only mount."""
    for folder in (path, *path.parents):
        try:
            return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
        except OSError:
            continue
    return False


def _may_write(path: Path) -> bool:
    """Whether this user may read and write the database file and its WAL companions."""
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    if not all(os.access(f, os.R_OK | os.W_OK) for f in files if f.exists()):
        return False
    return os.access(path.parent, os.W_OK | os.X_OK)


def _nearly_full(path: Path) -> bool:
    """Whether the disk holding ``path`` has (almost) no space left: SQLite reports some
    writes that fail for lack of space as I/O errors (growing its shared-memory file)."""
    for folder in (path, *path.parents):
        try:
            stat = os.statvfs(folder)
        except OSError:
            continue
        return stat.f_bavail * stat.f_frsize < LOW_SPACE
    return False


def _busy(where: Where) -> Failure:
    waited = f" for {where.busy_timeout:g} s" if where.busy_timeout else ""
    return Failure(
        "busy",
        f"the database is busy: another command held its lock{waited} and this one gave up "
        "without changing anything; run it again (database.busy_timeout_seconds sets the wait)",
    )


def _full(place: str) -> Failure:
    return Failure(
        "disk-full",
        f"the disk holding {place} is full: free some space there, then run the command again",
    )


def _read_only(place: str, *, station: bool) -> Failure:
    if not station:  # the command's own target (a backup, an export): not the station
        return Failure(
            "read-only",
            f"{place} is on a read-only disk or folder: mount it read-write, "
            "or choose a folder on a writable disk",
        )
    return Failure(
        "read-only",
        f"{place} is on a read-only disk or folder: hotline must write to the station; "
        "mount it read-write (or copy the station somewhere writable)",
    )


def _denied(place: str, *, station: bool) -> Failure:
    if not station:
        return Failure(
            "permission",
            f"permission denied on {place}: give this user write access there, "
            "or choose a folder this user may write to",
        )
    return Failure(
        "permission",
        f"permission denied on {place}: run hotline as the station's owner, "
        "or give this user write access to the station folder",
    )


def _damaged(where: Where) -> Failure:
    return Failure(
        "damaged",
        f"the database {where.database} is damaged: restore the station from a backup "
        "(hotline will not repair or overwrite it)",
    )


def _from_sqlite(error: sqlite3.Error, where: Where) -> Failure | None:
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return None
    primary = code & 0xFF
    database = where.database
    if primary in (SQLITE_BUSY, SQLITE_LOCKED):
        return _busy(where)
    if primary == SQLITE_FULL or (primary == SQLITE_IOERR and _nearly_full(Path(database))):
        return _full(database)
    if primary in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return _damaged(where)
    if primary in (SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH, SQLITE_IOERR):
        path = Path(database)
        if _read_only_fs(path):
            return _read_only(str(where.root or path.parent), station=True)
        if primary != SQLITE_IOERR and not _may_write(path):
            return _denied(database, station=True)
        if primary == SQLITE_IOERR:
            return Failure(
                "io",
                f"the disk failed while reading or writing {database} ({error}): check the "
                "disk; if the database is damaged, restore the station from a backup",
            )
        return Failure(
            "cannot-open",
            f"cannot open the database {database} ({error}): check that the file and its "
            "folder are there and belong to this user",
        )
    return None


def _file_being_written(error: BaseException) -> str | None:
    """The innermost open file for writing in the traceback: ``write()`` names no file."""
    found = None
    tb = error.__traceback__
    while tb is not None:
        for value in tb.tb_frame.f_locals.values():
            name, mode = getattr(value, "name", None), getattr(value, "mode", "")
            # Closed by then, often: the failing flush is the one at close.
            if isinstance(value, io.IOBase) and isinstance(name, str) and set(mode) & set("wax+"):
                found = name
        tb = tb.tb_next
    return found


def _from_os(error: OSError, where: Where) -> Failure | None:
    # A copy names its source first and its target second; the target is the one that failed.
    named = error.filename2 if error.errno == errno.ENOSPC and error.filename2 else error.filename
    # Unnamed (a write to a descriptor): the command's target, where it writes outside the
    # station, else the station; never the station for what a backup or export writes.
    found = os.fsdecode(named) if isinstance(named, bytes) else named
    found = found or _file_being_written(error) or where.target or where.root
    place = str(found or "the station folder")
    station = found is None or where.in_station(found)
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return _full(place)
    if error.errno == errno.EROFS:
        return _read_only(place, station=station)
    if error.errno in (errno.EACCES, errno.EPERM):
        return _denied(place, station=station)
    if error.errno == errno.EIO:
        return Failure("io", f"the disk failed while reading or writing {place}: check the disk")
    return None


_PG_CONNECT = (
    (
        "postgres-login",
        re.compile(r"password authentication failed|no password supplied|role .* does not exist"),
        "PostgreSQL refused the login to {db}: check the user name and the password "
        "(PGPASSWORD or ~/.pgpass)",
    ),
    (
        "postgres-no-database",
        re.compile(r'database ".*" does not exist'),
        "PostgreSQL has no database {name!r} ({db}): create it (`createdb {name}`), "
        "then run `hotline db upgrade`",
    ),
    (
        "postgres-unreachable",
        re.compile(
            r"Connection refused|No such file or directory|failed to resolve host|"
            r"could not translate host name|timeout expired|Network is unreachable|"
            r"server closed the connection|connection is bad|terminating connection|"
            # A server being stopped or started (pg_ctl): away for now, like one that is down.
            r"the database system is (?:shutting down|starting up|not yet accepting "
            r"connections|in recovery mode)"
        ),
        "cannot reach the PostgreSQL server of {db}: check that it is running and that "
        "[database] url in hotline.toml (or HOTLINE_DATABASE_URL) names it",
    ),
)


_LOGIN_USER = re.compile(r'(?:for user|role) "([^"]+)"')


def _pg_connect(index: int, where: Where, said: str = "") -> Failure:
    kind, _, line = _PG_CONNECT[index]
    text = line.format(db=where.database, name=where.database_name)
    user = _LOGIN_USER.search(said)
    if kind == "postgres-login" and user is not None:
        # libpq logs in as PGUSER, else the login name (root under sudo): say which it tried.
        text = text.replace(
            "refused the login to", f"refused the login of user {user.group(1)!r} to", 1
        )
    return Failure(kind, text)


def _from_postgres(error: BaseException, where: Where) -> Failure | None:
    state = getattr(error, "sqlstate", None) or ""
    db = where.database
    if state == "55P03":  # lock_not_available: lock_timeout passed
        return _busy(where)
    if state in ("40P01", "40001"):  # deadlock, serialization failure
        return Failure(
            "conflict",
            "another command changed the same records at the same moment and this one was "
            "stopped without changing anything; run it again",
        )
    if state.startswith("53"):  # insufficient resources: disk full, out of memory
        return Failure(
            "disk-full",
            f"the PostgreSQL server of {db} is out of space or memory ({state}): ask its admin",
        )
    if state.startswith("28"):
        return _pg_connect(0, where, str(error))
    if state == "3D000":
        return _pg_connect(1, where)
    if state == "25006":  # read_only_sql_transaction: a standby or a read-only server
        return Failure(
            "read-only", f"the PostgreSQL server of {db} is read-only: point hotline at the primary"
        )
    if state == "42501":  # insufficient_privilege: a role without rights to what was asked
        said = str(error).strip().splitlines()[0] if str(error).strip() else "permission denied"
        return Failure(
            "permission",
            f"PostgreSQL refused this user ({said}) in {db}: the role lacks the rights this "
            "command needs; ask the station's admin (`hotline db grant ROLE --as …`)",
        )
    if type(error).__name__ == "OperationalError" or state.startswith("08"):
        text = str(error)
        for index, (_, pattern, _) in enumerate(_PG_CONNECT):
            if pattern.search(text):
                return _pg_connect(index, where, text)
        first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
        return Failure("postgres", f"PostgreSQL failed ({first}): check the server of {db}")
    return None


def explain(exc: BaseException, where: Where) -> Failure | None:
    """A failure of the database or the machine explained, or None if ``exc`` is not one."""
    for cause in causes(exc):
        line: Failure | None = None
        if isinstance(cause, sqlite3.Error):
            line = _from_sqlite(cause, where)
        elif isinstance(cause, OSError):
            line = _from_os(cause, where)
        elif type(cause).__module__.startswith("psycopg"):
            line = _from_postgres(cause, where)
        elif isinstance(cause, sa.exc.IntegrityError):
            line = Failure(
                "conflict",
                "another command wrote the same record at the same moment (the database "
                "refused a duplicate); nothing was changed: run the command again",
            )
        if line is not None:
            return line
    return None


_GONE_STATES = ("08", "57P", "55000")
"""SQLSTATEs of a server that is away for a while: a lost connection (class 08), the server
shutting down or starting (57P0x), a database not accepting connections (55000)."""


def database_gone(exc: BaseException) -> bool:
    """True when ``exc`` is the PostgreSQL server not answering (stopped, restarting, the
    connection cut): a failure that passes once it is back, unlike a refusal (disk full,
    a lock timeout, a missing right), which the same request would meet again."""
    for cause in causes(exc):
        if not type(cause).__module__.startswith("psycopg"):
            continue
        import psycopg  # already imported: the cause is one of its errors

        state = getattr(cause, "sqlstate", None) or ""
        if isinstance(cause, psycopg.OperationalError) and (
            not state or state.startswith(_GONE_STATES)
        ):
            return True
    return False


def bug(exc: BaseException) -> Failure:
    """An exception nobody expected: it is a bug; say so, and what it was."""
    text = str(exc).strip().splitlines()
    detail = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return Failure(
        "bug", f"unexpected internal error ({detail[:200]}); please report it with the log"
    )
