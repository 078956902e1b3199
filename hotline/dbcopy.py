"""Copying a station's every row to another, empty database: ``copy_station``.

The tables come from the schema's metadata (every model in ``hotline.models``), so a
table added by any later change is copied without a list to keep. One transaction on
the target: the schema is created by the shipped migrations, every table's rows are
copied in primary-key order while a checksum of them is taken, the target's sequences
are moved past the copied ids, and the target's rows are read back, counted and
checksummed; any difference rolls everything back, leaving the target empty. The
source is read in one transaction that holds off writers (SQLite's write lock,
PostgreSQL table locks), so nothing written meanwhile can be left behind.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hotline import db
from hotline.errors import DatabaseUnavailable, HotlineError
from hotline.models import SQLModel

BATCH = 5000
"""Rows per insert statement batch (and per fetch)."""

NOT_COPIED_PREFIXES = ("procrastinate_",)
"""Tables of the job engine that live beside ours on PostgreSQL: its queue state, not the
station's rows (the ``job`` table, which is copied, is what producers see)."""


class CopyMismatch(HotlineError):
    """The target's rows did not read back as the source's: the copy was rolled back."""


@dataclass(frozen=True)
class TableCopy:
    """One table copied: its name, rows and checksum (the same on both sides)."""

    name: str
    rows: int
    checksum: str


Progress = Callable[[str, int], None]


def tables() -> list[sa.Table]:
    """Every table of the schema, parents before the tables that refer to them."""
    return list(SQLModel.metadata.sorted_tables)


def _canonical_json(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _canonical_bytes(value: Any) -> Any:
    return None if value is None else bytes(value)


def _canonical_forms(table: sa.Table) -> list[Callable[[Any], Any] | None]:
    """Per column, what makes a value read from either database the same Python value
    (None: nothing to do, as for text, numbers, and the aware datetimes ``UTCDateTime``
    gives on both)."""
    forms: list[Callable[[Any], Any] | None] = []
    for column in table.columns:
        kind = column.type
        if isinstance(kind, sa.types.TypeDecorator):
            kind = kind.impl
        if isinstance(kind, sa.JSON):
            forms.append(_canonical_json)  # key order is the database's business
        elif isinstance(kind, sa.LargeBinary):
            forms.append(_canonical_bytes)  # some drivers give memoryview
        else:
            forms.append(None)
    return forms


class _Checksum:
    """An order-free checksum of rows: the sum of their BLAKE2b digests modulo 2**128.

    Order-free because the two databases may sort text keys differently (collations);
    the primary key makes every row distinct, so no two can cancel out.
    """

    def __init__(self, table: sa.Table) -> None:
        forms = _canonical_forms(table)
        self.forms = forms if any(forms) else None
        self.total = 0
        self.rows = 0

    def _text(self, row: Sequence[Any]) -> str:
        if self.forms is None:
            return repr(tuple(row))
        return repr(
            tuple(
                value if form is None else form(value)
                for form, value in zip(self.forms, row, strict=True)
            )
        )

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        total, text, blake = self.total, self._text, hashlib.blake2b
        for row in rows:
            total += int.from_bytes(blake(text(row).encode(), digest_size=16).digest())
        self.total = total % (1 << 128)
        self.rows += len(rows)

    def hexdigest(self) -> str:
        return f"{self.total:032x}"


def _inserter(target: Connection, table: sa.Table) -> Callable[[Sequence[Sequence[Any]]], None]:
    """Writes batches of rows into ``table`` on the target, in the target's transaction.

    PostgreSQL takes them through COPY (tens of times faster than INSERTs for the search
    index's millions of rows), each value first turned into what the column's type binds.
    """
    names = [column.key for column in table.columns]
    if target.dialect.name != "postgresql":

        def insert(rows: Sequence[Sequence[Any]]) -> None:
            target.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in rows])

        return insert
    binds = [column.type._cached_bind_processor(target.dialect) for column in table.columns]
    columns = ", ".join(f'"{column.name}"' for column in table.columns)
    statement = f'COPY "{table.name}" ({columns}) FROM STDIN'
    cursor = target.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    def copy(rows: Sequence[Sequence[Any]]) -> None:
        with cursor.copy(statement) as stream:
            for row in rows:
                stream.write_row(
                    [
                        value if bind is None or value is None else bind(value)
                        for bind, value in zip(binds, row, strict=True)
                    ]
                )

    return copy


def _copy_table(
    source: Connection, target: Connection, table: sa.Table, progress: Progress | None
) -> TableCopy:
    checksum = _Checksum(table)
    result = source.execution_options(yield_per=BATCH).execute(sa.select(*table.columns))
    write = _inserter(target, table)
    for rows in result.partitions(BATCH):
        checksum.add(rows)
        write(rows)
        if progress is not None:
            progress(table.name, checksum.rows)
    return TableCopy(table.name, checksum.rows, checksum.hexdigest())


def _verify(target: Connection, table: sa.Table, expected: TableCopy) -> None:
    checksum = _Checksum(table)
    result = target.execution_options(yield_per=BATCH).execute(sa.select(*table.columns))
    for rows in result.partitions(BATCH):
        checksum.add(rows)
    if checksum.rows != expected.rows or checksum.hexdigest() != expected.checksum:
        raise CopyMismatch(
            f"table {table.name}: the copy read back {checksum.rows} rows (checksum "
            f"{checksum.hexdigest()[:12]}) for {expected.rows} copied "
            f"({expected.checksum[:12]}); nothing was written to the target"
        )


def _reset_sequences(target: Connection) -> None:
    """Move each serial primary key's sequence past the copied ids (PostgreSQL)."""
    if target.dialect.name != "postgresql":
        return  # SQLite's rowid follows the largest id by itself
    for table in tables():
        column = table.autoincrement_column
        if column is None:
            continue
        target.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f'COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 0) + 1, false)'
            ),
            {"table": table.name, "column": column.name},
        )


def _hold_writers(source: Connection, names: list[str]) -> None:
    # SQLite: the engine's write option made BEGIN IMMEDIATE. PostgreSQL: EXCLUSIVE
    # still lets desks read while the copy runs, but no one write.
    if source.dialect.name == "postgresql":
        quoted = ", ".join(f'"{name}"' for name in names)
        source.exec_driver_sql(f"LOCK TABLE {quoted} IN EXCLUSIVE MODE")


def _some(names: list[str]) -> str:
    """The first three of ``names``, and "…" when there are more."""
    return ", ".join(names[:3]) + ("…" if len(names) > 3 else "")


def refuse_unless_empty(target: Engine, where: str) -> None:
    """Refuse a target database that holds any table."""
    path = db.sqlite_path(target)
    if path is not None and path.exists() and not path.is_file():
        raise DatabaseUnavailable(f"the target {where} is not a file")
    held = db.table_names(target)
    if held:
        raise DatabaseUnavailable(
            f"the target database {where} is not empty (it holds {len(held)} tables, "
            f"{_some(sorted(held))}): "
            "copy into a new, empty database"
        )


def refuse_unless_readable(source: Engine, where: str) -> None:
    """Refuse a source whose database user may not read and hold every table (PostgreSQL).

    A copy takes every row, contacts included, and keeps writers off the source meanwhile:
    only the station's owner or a producer may. Said before anything is written, naming the
    server (the failure would otherwise come mid-copy, as the target's).
    """
    if source.dialect.name != "postgresql":
        return
    names = [table.name for table in tables()]
    with source.connect() as conn:
        role = conn.exec_driver_sql("SELECT current_user").scalar()
        lacking = db.tables_lacking(
            conn, names, "has_table_privilege(t, 'SELECT') AND has_table_privilege(t, 'UPDATE')"
        )
    if lacking:
        raise DatabaseUnavailable(
            f"the PostgreSQL role {role} may not read every row of the station's server "
            f"{where} ({_some(lacking)}): "
            "copy as the station's owner or a producer"
        )


def refuse_unless_creatable(target: Engine, where: str) -> None:
    """Refuse a PostgreSQL target where this user may not create the station's tables."""
    if target.dialect.name != "postgresql":
        return
    with target.connect() as conn:
        role = conn.exec_driver_sql("SELECT current_user").scalar()
        allowed = conn.exec_driver_sql("SELECT has_schema_privilege('public', 'CREATE')").scalar()
    if not allowed:
        raise DatabaseUnavailable(
            f"the PostgreSQL role {role} may not create tables in {where}: copy into a "
            f"database it owns (`createdb --owner {role} …`), or have the database's owner "
            f"run `GRANT CREATE ON SCHEMA public TO {role}` there"
        )


def copy_station(
    source: Engine, target: Engine, *, progress: Progress | None = None
) -> list[TableCopy]:
    """Copy every row of ``source`` (at the schema head) into the empty ``target``.

    Returns what was copied, table by table. Raises ``CopyMismatch`` (nothing written)
    when a table does not read back identical, ``DatabaseUnavailable`` when the target
    is not empty or the source holds tables the schema does not know.
    """
    where = db.display_url(target.url.render_as_string(hide_password=False))
    source_where = db.display_url(source.url.render_as_string(hide_password=False))
    db.check_schema(source, source_where)
    refuse_unless_readable(source, source_where)
    refuse_unless_empty(target, where)
    refuse_unless_creatable(target, where)
    known = {table.name for table in tables()} | {"alembic_version"}
    strangers = [
        name
        for name in db.table_names(source)
        if name not in known and not name.startswith(NOT_COPIED_PREFIXES)
    ]
    if strangers:
        raise DatabaseUnavailable(
            f"the source holds tables this hotline does not know ({', '.join(strangers)}): "
            "upgrade hotline before copying, so that nothing is left behind"
        )
    copied: list[TableCopy] = []
    with db.writer(source).connect() as read, read.begin():

        def fill(write: Connection) -> None:
            _hold_writers(read, [table.name for table in tables()])
            for table in tables():
                copied.append(_copy_table(read, write, table, progress))
            _reset_sequences(write)
            for table, expected in zip(tables(), copied, strict=True):
                _verify(write, table, expected)

        db.upgrade(target, then=fill)
    if target.dialect.name == "postgresql":
        with target.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")  # plans for the new rows, before the first query
    return copied


def sqlite_target(url: str) -> Path | None:
    """The file a ``sqlite:///PATH`` URL names (None for any other URL)."""
    parsed = sa.make_url(db.normalise_url(url))
    if parsed.get_backend_name() != "sqlite":
        return None
    return Path(parsed.database) if parsed.database else None
