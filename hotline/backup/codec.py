"""Column values to and from export files: JSON Lines values and CSV cells that round-trip exactly.

Every column is one of six kinds, decided from its SQL type. JSON Lines keeps values
native (times become ISO 8601 strings with offset). CSV cells are text, so they need
conventions that lose nothing:

- ``\\N`` is None (PostgreSQL's COPY spelling); an empty cell is the empty string;
- text that starts with a backslash gets one more in front, so ``\\N`` typed by a
  listener stays text;
- text a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
  tab or carriage return) gets an apostrophe in front, as does text that starts with
  an apostrophe itself, so removing one apostrophe on the way back is always exact
  (the manifest records ``formula_prefix``; exports from before it have none);
- floats in Python's shortest exact form (``repr``), booleans ``true``/``false``,
  times ISO 8601 with offset, JSON columns as compact JSON.

Decoders raise ``ValueError`` with a short reason; the reader adds file, line and column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

NULL_CELL = "\\N"
FORMULA_PREFIX = "'"
"""Put before text cells a spreadsheet would otherwise run as a formula (and removed again)."""
# What starts a formula in Excel, LibreOffice and Google Sheets (OWASP's list), and the
# prefix itself, so that one prefix removed on the way back is always the one we added.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", FORMULA_PREFIX)
# What hotline.text.clean_text never lets into the station: C0/C1 controls (tab, newline and
# carriage return aside) and the bidi overrides. A restore refuses text that has any.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_INTEGER = re.compile(r"-?\d+")


class Kind(StrEnum):
    text = "text"
    integer = "integer"
    real = "real"
    boolean = "boolean"
    time = "time"
    json = "json"


# Checked in this order: JSON and Boolean before the broader types.
_KINDS: tuple[tuple[type[sa.types.TypeEngine], Kind], ...] = (
    (sa.JSON, Kind.json),
    (sa.Boolean, Kind.boolean),
    (sa.Integer, Kind.integer),
    (sa.Float, Kind.real),
    (sa.DateTime, Kind.time),
    (sa.String, Kind.text),
)


def column_kind(column: sa.Column) -> Kind:
    """The kind of ``column``, from its SQL type (a decorated type by what it stores)."""
    sql_type = column.type
    if isinstance(sql_type, sa.TypeDecorator):
        sql_type = sql_type.impl_instance
    for sql_class, kind in _KINDS:
        if isinstance(sql_type, sql_class):
            return kind
    raise TypeError(f"column {column} has a type exports do not know: {column.type}")


def _time_out(value: datetime, tz: ZoneInfo) -> str:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(tz).isoformat()


def _time_in(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return moment.astimezone(UTC)


# --- JSON Lines ---------------------------------------------------------------------------


def to_json_value(kind: Kind, value: Any, tz: ZoneInfo) -> Any:
    """A column value as it goes into a JSON Lines row."""
    if value is not None and kind is Kind.time:
        return _time_out(value, tz)
    return value


def json_row(kinds: Sequence[Kind], tz: ZoneInfo) -> Callable[[Sequence[Any]], list[Any]]:
    """``to_json_value`` for a whole row of columns of ``kinds``, touching only the times."""
    times = [i for i, kind in enumerate(kinds) if kind is Kind.time]

    def convert(row: Sequence[Any]) -> list[Any]:
        values = list(row)
        for i in times:
            if values[i] is not None:
                values[i] = _time_out(values[i], tz)
        return values

    return convert


def from_json_value(kind: Kind, value: Any) -> Any:
    """A JSON Lines value back to the column value; refuses a value of the wrong type."""
    if value is None or kind is Kind.json:
        return value
    if kind is Kind.text and isinstance(value, str):
        return value
    if kind is Kind.integer and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is Kind.real and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is Kind.boolean and isinstance(value, bool):
        return value
    if kind is Kind.time and isinstance(value, str):
        return _time_in(value)
    raise ValueError(f"{json.dumps(value, ensure_ascii=False)[:60]} is not a {kind} value")


# --- CSV ----------------------------------------------------------------------------------


def to_csv_cell(kind: Kind, value: Any, tz: ZoneInfo) -> str:
    """A column value as one CSV cell (see the module docstring for the conventions)."""
    if value is None:
        return NULL_CELL
    if kind is Kind.text:
        text = "\\" + value if value.startswith("\\") else value
        return FORMULA_PREFIX + text if text.startswith(_FORMULA_STARTS) else text
    if kind is Kind.boolean:
        return "true" if value else "false"
    if kind is Kind.real:
        return repr(float(value))
    if kind is Kind.time:
        return _time_out(value, tz)
    if kind is Kind.json:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def from_csv_cell(kind: Kind, cell: str, *, formula_prefix: bool = True) -> Any:
    """One CSV cell back to the column value.

    ``formula_prefix`` False reads an export made before text cells were protected.
    """
    if cell == NULL_CELL:
        return None
    if kind is Kind.text:
        if formula_prefix and cell.startswith(FORMULA_PREFIX):
            cell = cell[len(FORMULA_PREFIX) :]
        if cell.startswith("\\\\"):
            return cell[1:]
        if cell.startswith("\\"):
            raise ValueError(f"{cell[:20]!r}: a backslash in front must be doubled")
        return cell
    if kind is Kind.integer:
        if not _INTEGER.fullmatch(cell):
            raise ValueError(f"{cell[:40]!r} is not an integer")
        return int(cell)
    if kind is Kind.real:
        try:
            return float(cell)
        except ValueError:
            raise ValueError(f"{cell[:40]!r} is not a number") from None
    if kind is Kind.boolean:
        if cell not in ("true", "false"):
            raise ValueError(f"{cell[:40]!r} is not true or false")
        return cell == "true"
    if kind is Kind.time:
        return _time_in(cell)
    try:
        return json.loads(cell)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from None
