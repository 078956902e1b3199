"""Restore an export into an empty station: every row, with its id, in one transaction.

Rows keep their ids so foreign keys hold. A column that points into its own table
(a question that duplicates another) is filled in after the whole table is loaded, so
the order of rows in the file does not matter. Anything wrong in the export (a broken
line, a wrong type, a truncated file) stops the restore with the file and line named,
and the caller's transaction leaves the station as it was.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session

from hotline import db
from hotline.backup.codec import CONTROL, Kind, column_kind, from_csv_cell, from_json_value
from hotline.backup.manifest import Manifest, TableEntry, tables
from hotline.errors import Conflict, InvalidInput, SchemaError

BATCH = 1000


@dataclass
class TableReader:
    """Reads one table's file of an export into column-value dicts, naming file and line."""

    path: Path
    table: sa.Table
    data_format: str
    formula_prefix: bool = False
    line: int = 0

    def fail(self, message: str) -> InvalidInput:
        return InvalidInput(f"{self.path}: line {self.line}: {message}")

    def _lines(self) -> Iterator[str]:
        # Decoding line by line (not the whole file) names the line of a non-UTF-8 byte.
        with self.path.open("rb") as raw:
            for number, data in enumerate(raw, 1):
                self.line = number
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise self.fail(f"not UTF-8 ({exc.reason} at byte {exc.start})") from exc
                yield text.removeprefix("\ufeff") if number == 1 else text

    def _column(self, name: str) -> sa.Column:
        if name not in self.table.columns:
            raise self.fail(f"table {self.table.name} has no column {name!r}")
        return self.table.columns[name]

    def _check_complete(self, names: set[str]) -> None:
        for column in self.table.columns:
            if column.name in names or column.nullable or column.default is not None:
                continue
            raise self.fail(f"column {column.name!r} is missing")

    def _checked(self, column: sa.Column, value: Any) -> Any:
        """Refuse what the station itself never stores: nulls, over-long text, control codes."""
        if value is None:
            if not column.nullable:
                raise self.fail(f"column {column.name}: must not be null")
            return None
        if isinstance(value, str):
            limit = getattr(column.type, "length", None)
            if limit is not None and len(value) > limit:
                raise self.fail(
                    f"column {column.name}: {len(value)} characters; the limit is {limit}"
                )
            if CONTROL.search(value):
                raise self.fail(f"column {column.name}: control characters in the text")
        return value

    def rows(self) -> Iterator[dict[str, Any]]:
        """The file's rows as {column name: value}, converted and checked."""
        reader = self._csv_rows if self.data_format == "csv" else self._json_rows
        return reader()

    def _csv_rows(self) -> Iterator[dict[str, Any]]:
        records = csv.reader(self._lines(), strict=True)
        try:
            header = next(records, None)
            if header is None:
                self.line = 1
                raise self.fail("empty file: expected a header row")
            columns = [self._column(name) for name in header]
            if len(set(header)) != len(header):
                raise self.fail("a column appears twice in the header")
            self._check_complete(set(header))
            kinds = [column_kind(c) for c in columns]
            previous_end = self.line
            for cells in records:
                # A record may span lines (a newline inside quotes): name its first line.
                self.line, previous_end = previous_end + 1, self.line
                if len(cells) != len(columns):
                    raise self.fail(f"{len(cells)} cells; the header has {len(columns)}")
                row = {}
                for column, kind, cell in zip(columns, kinds, cells, strict=True):
                    try:
                        value = from_csv_cell(kind, cell, formula_prefix=self.formula_prefix)
                    except ValueError as exc:
                        raise self.fail(f"column {column.name}: {exc}") from None
                    row[column.name] = self._checked(column, value)
                yield row
        except csv.Error as exc:
            raise self.fail(f"broken CSV ({exc})") from exc

    def _json_rows(self) -> Iterator[dict[str, Any]]:
        specs: dict[str, tuple[sa.Column, Kind]] | None = None
        for text in self._lines():
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                raise self.fail(f"not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise self.fail("expected one JSON object a line")
            if specs is None:
                specs = {name: (c := self._column(name), column_kind(c)) for name in record}
                self._check_complete(set(specs))
            elif record.keys() != specs.keys():
                raise self.fail("this row has other columns than the first row")
            row = {}
            for name, value in record.items():
                column, kind = specs[name]
                try:
                    converted = from_json_value(kind, value)
                except ValueError as exc:
                    raise self.fail(f"column {name}: {exc}") from None
                row[name] = self._checked(column, converted)
            yield row


def _self_references(table: sa.Table) -> list[sa.Column]:
    return [c for c in table.columns if any(fk.column.table is table for fk in c.foreign_keys)]


def _execute(
    conn: Connection, reader: TableReader, first_line: int, statement: Any, rows: list
) -> None:
    """Run one batch, reporting a row the database refuses with its file and lines.

    A repeated id or a dangling reference in a hand-edited export ends up here.
    """
    try:
        conn.execute(statement, rows)
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        where = f"{reader.path}: lines {first_line}–{reader.line}"
        raise InvalidInput(f"{where}: the database refused a row ({reason})") from exc


def _load_table(conn: Connection, readers: list[TableReader], expected: int) -> int:
    """Load one table from its file (or its parts, in order); returns the rows loaded."""
    table = readers[0].table
    deferred = _self_references(table)
    keys = list(table.primary_key.columns)
    later: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (key values, deferred values)
    count = 0
    for reader in readers:
        batch: list[dict[str, Any]] = []
        first_line = 0
        for row in reader.rows():
            pointers = {c.name: row[c.name] for c in deferred if row.get(c.name) is not None}
            if pointers:
                later.append(({k.name: row[k.name] for k in keys}, pointers))
                row.update(dict.fromkeys(pointers))
            if not batch:
                first_line = reader.line
            batch.append(row)
            count += 1
            if len(batch) >= BATCH:
                _execute(conn, reader, first_line, table.insert(), batch)
                batch = []
        if batch:
            _execute(conn, reader, first_line, table.insert(), batch)
    reader = readers[-1]
    for column in deferred:
        updates = [
            {**{f"restore_key_{k}": v for k, v in key.items()}, "restore_to": pointers[column.name]}
            for key, pointers in later
            if column.name in pointers
        ]
        if updates:
            matches = [k == sa.bindparam(f"restore_key_{k.name}") for k in keys]
            values = {column.name: sa.bindparam("restore_to")}
            _execute(conn, reader, 1, table.update().where(*matches).values(values), updates)
    if count != expected:
        raise InvalidInput(
            f"{reader.path}: {count} rows, but the manifest says {expected} (file cut short?)"
        )
    return count


def _check_empty(conn: Connection) -> None:
    for table in tables():
        if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
            raise Conflict(
                f"the station is not empty: table {table.name} has rows; "
                "restore into a new station (`hotline init DIR`)"
            )


def _check_revision(manifest: Manifest, where: Path) -> None:
    if manifest.schema_revision not in db.KNOWN_REVISIONS:
        raise SchemaError(
            f"{where}: the export is from schema {manifest.schema_revision!r}, newer than this "
            f"hotline ({db.SCHEMA_HEAD}); upgrade hotline to restore it"
        )


def _entries_in_load_order(manifest: Manifest, source: Path) -> list[tuple[sa.Table, TableEntry]]:
    known = {t.name: t for t in tables()}
    by_name: dict[str, TableEntry] = {}
    for entry in manifest.tables:
        if entry.name not in known:
            raise InvalidInput(f"{source}: the export has a table {entry.name!r} hotline lacks")
        for file in entry.files():
            parts = Path(file).parts
            if Path(file).is_absolute() or ".." in parts or len(parts) > 2:
                raise InvalidInput(f"{source}: file {file!r} of table {entry.name} is outside it")
            if not (source / file).is_file():
                raise InvalidInput(f"{source}: file {file!r} of table {entry.name} is missing")
        by_name[entry.name] = entry
    return [(known[name], by_name[name]) for name in known if name in by_name]


def _reset_sequences(conn: Connection) -> None:
    """On PostgreSQL, move each id sequence past the restored ids (SQLite needs nothing)."""
    if conn.dialect.name != "postgresql":
        return
    quote = conn.dialect.identifier_preparer.quote
    for table in tables():
        key = table.autoincrement_column
        if key is None:
            continue
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f"COALESCE(MAX({quote(key.name)}), 1), MAX({quote(key.name)}) IS NOT NULL) "
                f"FROM {quote(table.name)}"
            ),
            {"table": table.name, "column": key.name},
        )


def restore_station(*, session: Session, source: Path) -> Manifest:
    """Load the export in ``source`` into the (empty) station behind ``session``.

    Refuses a station that already has rows, an export from a newer schema, and any
    broken file (naming file and line). Flushes but does not commit: the caller's
    transaction makes it all or nothing. Returns the export's manifest.
    """
    manifest = Manifest.read(source)
    _check_revision(manifest, source)
    plan = _entries_in_load_order(manifest, source)
    conn = session.connection()
    _check_empty(conn)
    for table, entry in plan:
        if not entry.files():  # a folder of parts, with none: no rows
            if entry.rows:
                raise InvalidInput(
                    f"{source / entry.file}: no rows, but the manifest says {entry.rows}"
                )
            continue
        readers = [
            TableReader(source / file, table, manifest.data_format, bool(manifest.formula_prefix))
            for file in entry.files()
        ]
        _load_table(conn, readers, entry.rows)
    _reset_sequences(conn)
    return manifest
