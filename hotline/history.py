"""The history of changes: who changed a tracked row, when, and each field before → after.

One mechanism records every change, so domain functions do nothing for it:

- ``after_flush`` on every ORM session reads the attribute history of the tracked models
  (episodes, members, bookings, questions, departments, referrals, call-backs) that the
  flush has just written — rows added, changed or deleted — and appends one
  ``history`` row per changed row, in the same transaction;
- ``do_orm_execute`` catches ORM-enabled bulk ``UPDATE``/``DELETE`` statements on those
  models (``session.execute(sa.update(Booking)…)``: cancelling an episode's bookings,
  re-pointing duplicates), reads the rows they touch before and after, and records them
  the same way.

Not recorded, on purpose: statements on a bare Core ``Table`` or ``Connection`` — the
demo's and the benchmarks' bulk seeding, a restore (which brings its own history rows),
migration backfills, the search index and jobs (not tracked) — and ORM bulk INSERT
statements (``session.execute(insert(Model), rows)``), whose new ids the statement does
not report; no domain function uses one (imports add objects to the session). Rows a
database cascade deletes (a question's referrals) are not recorded one by one: the
deletion of the row that cascaded is. Domain code changes tracked rows through the
session, never through a bare connection.

Who: the operating-system user on SQLite, the database role (``current_user``) on
PostgreSQL; ``acting_as`` overrides both (the demo uses it, to stay reproducible). When:
now, or ``acting_as``'s time. Private fields (contacts) are recorded as changed, never by
value: under the name ``contact``, ``"***"`` when set, ``""`` when empty, so the history
can be exported without ``--include-private`` and names no private column.

The application only ever appends: nothing here updates or deletes a history row, and
migration 0009 adds triggers that refuse both.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import ORMExecuteState, Session

from hotline import privacy  # a module: it is still loading when models imports this
from hotline.models import (
    Booking,
    Callback,
    Department,
    Episode,
    Member,
    Question,
    Referral,
    history_table,
    private_columns,
    table_of,
)
from hotline.timeutil import utcnow

ACTOR_KEY = "hotline.history.actor"
CLOCK_KEY = "hotline.history.at"
_CONNECTION_ACTOR = "hotline.history.actor"
UNRECORDED = frozenset({"id", "created_at", "updated_at"})
"""Fields whose changes say nothing a reader needs (the row's key and its own timestamps)."""
PRIVATE_MARK = "***"
PRIVATE_NAME = "contact"


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded change, as read back."""

    id: int
    at: datetime
    actor: str
    entity: str
    entity_id: int
    action: str
    """insert, update or delete."""
    episode_id: int | None
    member_id: int | None
    question_id: int | None
    department_id: int | None
    changes: dict[str, list[Any]]
    """Field name → [before, after]."""


@dataclass(frozen=True)
class Tracked:
    """How one model's changes are recorded."""

    entity: str
    subjects: tuple[tuple[str, str], ...]
    """(history column, the row's field holding its value): whose history a change is in."""
    private: frozenset[str] = frozenset()
    """Contact fields: recorded as ``contact``, set (***) or empty, never by value."""


TRACKED: dict[type, Tracked] = {
    Episode: Tracked("episode", (("episode_id", "id"),)),
    Member: Tracked("member", (("member_id", "id"),), frozenset({"contact"})),
    Booking: Tracked("booking", (("episode_id", "episode_id"), ("member_id", "member_id"))),
    Question: Tracked("question", (("question_id", "id"),), frozenset({"listener_contact"})),
    Department: Tracked("department", (("department_id", "id"),), frozenset({"contact"})),
    Referral: Tracked(
        "referral", (("question_id", "question_id"), ("department_id", "department_id"))
    ),
    Callback: Tracked("callback", (("question_id", "question_id"),)),
}
"""The models whose every change is recorded."""

SUBJECT_COLUMNS = ("episode_id", "member_id", "question_id", "department_id")
_INSERT = sa.insert(history_table)

SHARED_VIEW = "history_shared"
"""The history as a user who may not read private columns reads it (PostgreSQL): every row,
with the private fields recorded by value (a call-back's note) left out of ``changes``."""


def hidden_fields() -> dict[str, list[str]]:
    """Entity → its private fields that the history records by value (not as ``***``)."""
    hidden: dict[str, list[str]] = {}
    for model, spec in TRACKED.items():
        table = table_of(model)
        fields = [c.key for c in private_columns(table) if c.key not in spec.private]
        if fields:
            hidden[spec.entity] = fields
    return hidden


def shared_view_sql() -> str:
    """``CREATE OR REPLACE VIEW`` for :data:`SHARED_VIEW` (PostgreSQL; run by the table's
    owner, so staff granted the view read the table through it and only through it)."""
    cases = " ".join(
        f"WHEN '{entity}' THEN (changes::jsonb - ARRAY[{', '.join(repr(f) for f in fields)}])::json"
        for entity, fields in hidden_fields().items()
    )
    changes = f"CASE entity {cases} ELSE changes END" if cases else "changes"
    columns = ", ".join(
        f"{changes} AS changes" if c.name == "changes" else f'"{c.name}"'
        for c in history_table.columns
    )
    return f"CREATE OR REPLACE VIEW {SHARED_VIEW} AS SELECT {columns} FROM history"


_shared = sa.Table(
    SHARED_VIEW, sa.MetaData(), *(sa.Column(c.name, c.type) for c in history_table.columns)
)


# ---------------------------------------------------------------- who and when


def os_user() -> str:
    """The operating-system user running this process."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment nor the password file
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def connection_actor(connection: Connection) -> str:
    """Who changes rows on ``connection``: the database role on PostgreSQL, else the OS user.

    Read once per database connection (kept in its ``info``, which outlives checkouts).
    """
    cached = connection.info.get(_CONNECTION_ACTOR)
    if cached is None:
        if connection.dialect.name == "postgresql":
            cached = str(connection.execute(sa.text("SELECT current_user")).scalar())
        else:
            cached = os_user()
        connection.info[_CONNECTION_ACTOR] = cached
    return cached


@contextmanager
def acting_as(session: Session, actor: str, at: datetime | None = None) -> Iterator[None]:
    """Record the changes flushed inside the block as made by ``actor`` (at ``at``)."""
    saved = session.info.get(ACTOR_KEY), session.info.get(CLOCK_KEY)
    session.info[ACTOR_KEY], session.info[CLOCK_KEY] = actor, at
    try:
        yield
    finally:
        session.info[ACTOR_KEY], session.info[CLOCK_KEY] = saved


def current_actor(session: Session) -> str:
    """Who is making this session's changes (as the history will record them)."""
    return session.info.get(ACTOR_KEY) or connection_actor(session.connection())


def _who_and_when(session: Session, connection: Connection) -> tuple[str, datetime]:
    actor = session.info.get(ACTOR_KEY) or connection_actor(connection)
    return actor, session.info.get(CLOCK_KEY) or utcnow()


# ---------------------------------------------------------------- values


def _plain(value: Any) -> Any:
    """A field value as JSON can hold it."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _shown(spec: Tracked, field: str, value: Any) -> Any:
    if field in spec.private:
        return PRIVATE_MARK if value else ""
    return _plain(value)


def _name(spec: Tracked, field: str) -> str:
    # Under one neutral name, so an export without private columns names none of them.
    return PRIVATE_NAME if field in spec.private else field


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _entry(
    spec: Tracked,
    values: Mapping[str, Any],
    action: str,
    changes: dict[str, list[Any]],
    actor: str,
    at: datetime,
) -> dict[str, Any]:
    entry: dict[str, Any] = dict.fromkeys(SUBJECT_COLUMNS)
    for column, field in spec.subjects:
        entry[column] = values.get(field)
    entry.update(
        at=at,
        actor=actor,
        entity=spec.entity,
        entity_id=values["id"],
        action=action,
        changes=changes,
    )
    return entry


def _whole_row(spec: Tracked, values: Mapping[str, Any], *, added: bool) -> dict[str, list[Any]]:
    """A row added (None → value) or deleted (value → None), its empty fields left out."""
    changes = {}
    for field, value in values.items():
        if field in UNRECORDED or _empty(value):
            continue
        shown = _shown(spec, field, value)
        changes[_name(spec, field)] = [None, shown] if added else [shown, None]
    return changes


def _row_changes(
    spec: Tracked, before: Mapping[str, Any], after: Mapping[str, Any]
) -> dict[str, list[Any]]:
    changes = {}
    for field, new in after.items():
        old = before.get(field)
        if field in UNRECORDED or old == new:
            continue
        changes[_name(spec, field)] = [_shown(spec, field, old), _shown(spec, field, new)]
    return changes


# ---------------------------------------------------------------- flushes


_COLUMNS: dict[type, tuple[str, ...]] = {}


def _columns(model: type) -> tuple[str, ...]:
    """The column attributes of a mapped class, in table order (looked up once per class)."""
    found = _COLUMNS.get(model)
    if found is None:
        found = _COLUMNS[model] = tuple(a.key for a in sa.inspect(model).column_attrs)
    return found


def _current(obj: Any, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The row's values (only ``fields`` when given), as the flush left them."""
    state = sa.inspect(obj)
    keys = _columns(type(obj)) if fields is None else fields
    return {key: state.attrs[key].loaded_value for key in keys}


def _flushed_changes(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(before, after) of the fields a flush changed on ``obj``, from attribute history.

    Only the attributes set since the row was loaded (``committed_state``, still in place
    during ``after_flush``) are looked at, not every column.
    """
    state = sa.inspect(obj)
    before, after = {}, {}
    changed = state.committed_state
    for key in (k for k in _columns(type(obj)) if k in changed):  # table order: stable
        history = state.attrs[key].history
        if not history.added and not history.deleted:
            continue
        before[key] = history.deleted[0] if history.deleted else None
        after[key] = history.added[0] if history.added else None
    return before, after


def _subject_values(spec: Tracked, obj: Any) -> dict[str, Any]:
    return _current(obj, {"id", *(field for _, field in spec.subjects)})


def _after_flush(session: Session, _context: Any) -> None:
    # The session's new/dirty/deleted sets and attribute histories still describe the
    # flush just done (they are reset after this event), and new rows have their ids.
    entries: list[dict[str, Any]] = []
    actor_at: tuple[str, datetime] | None = None

    def stamp() -> tuple[str, datetime]:
        nonlocal actor_at
        if actor_at is None:
            actor_at = _who_and_when(session, session.connection())
        return actor_at

    for obj in session.new:
        spec = TRACKED.get(type(obj))
        if spec is not None:
            values = _current(obj)
            entries.append(
                _entry(spec, values, "insert", _whole_row(spec, values, added=True), *stamp())
            )
    for obj in session.dirty:
        spec = TRACKED.get(type(obj))
        if spec is None:
            continue
        before, after = _flushed_changes(obj)
        changes = _row_changes(spec, before, after)
        if changes:
            entries.append(_entry(spec, _subject_values(spec, obj), "update", changes, *stamp()))
    for obj in session.deleted:
        spec = TRACKED.get(type(obj))
        if spec is not None:
            values = _current(obj)
            entries.append(
                _entry(spec, values, "delete", _whole_row(spec, values, added=False), *stamp())
            )
    if entries:
        session.connection().execute(_INSERT, entries)


# ---------------------------------------------------------------- bulk statements


def _affected_ids(connection: Connection, state: ORMExecuteState, table: sa.Table) -> list[Any]:
    key = table.c.id
    if isinstance(state.parameters, list):  # ORM bulk UPDATE by primary key
        return [row.get("id") for row in state.parameters if row.get("id") is not None]
    where = state.statement.whereclause  # type: ignore[attr-defined]
    query = sa.select(key) if where is None else sa.select(key).where(where)
    return list(connection.execute(query, state.parameters or {}).scalars())


def _rows_by_id(connection: Connection, table: sa.Table, ids: list[Any]) -> dict[Any, dict]:
    rows: dict[Any, dict] = {}
    for start in range(0, len(ids), 500):  # bounded IN lists
        chunk = ids[start : start + 500]
        for row in connection.execute(sa.select(table).where(table.c.id.in_(chunk))).mappings():
            rows[row["id"]] = dict(row)
    return rows


def _on_orm_execute(state: ORMExecuteState) -> Any:
    if not (state.is_update or state.is_delete):
        return None
    mapper = state.bind_mapper
    spec = TRACKED.get(mapper.class_) if mapper is not None else None
    if spec is None:
        return None
    table = table_of(mapper.class_)
    connection = state.session.connection()
    ids = _affected_ids(connection, state, table)
    before = _rows_by_id(connection, table, ids)
    result = state.invoke_statement()
    after = _rows_by_id(connection, table, ids) if state.is_update else {}
    actor, at = _who_and_when(state.session, connection)
    entries = []
    for row_id, old in before.items():
        if state.is_delete:
            changes = _whole_row(spec, old, added=False)
            entries.append(_entry(spec, old, "delete", changes, actor, at))
            continue
        new = after.get(row_id)
        changes = _row_changes(spec, old, new) if new is not None else {}
        if changes:
            entries.append(_entry(spec, new, "update", changes, actor, at))
    if entries:
        connection.execute(_INSERT, entries)
    return result


def install() -> None:
    """Record changes for every ORM session of this process (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_orm_execute)


def uninstall() -> None:
    """Stop recording (benchmarks measure what recording costs; nothing else calls this)."""
    if event.contains(Session, "after_flush", _after_flush):
        event.remove(Session, "after_flush", _after_flush)
        event.remove(Session, "do_orm_execute", _on_orm_execute)


install()


# ---------------------------------------------------------------- reading


def read_history(
    session: Session,
    *,
    episode_id: int | None = None,
    member_id: int | None = None,
    question_id: int | None = None,
    department_id: int | None = None,
    limit: int | None = None,
) -> list[HistoryEntry]:
    """The recorded changes in one subject's history, oldest first (the last ``limit``)."""
    connection = session.connection()
    # A user who may not read private columns (staff) may not read the table either: the
    # view shows them every change without the private values.
    table = history_table if privacy.may_read_private(connection) else _shared
    given = {
        "episode_id": episode_id,
        "member_id": member_id,
        "question_id": question_id,
        "department_id": department_id,
    }
    conditions = [table.c[name] == value for name, value in given.items() if value is not None]
    if len(conditions) != 1:
        raise ValueError("read_history takes exactly one subject")
    query = sa.select(table).where(*conditions).order_by(table.c.id.desc())
    if limit:
        query = query.limit(limit)
    rows = connection.execute(query).mappings().all()
    return [HistoryEntry(**row) for row in reversed(rows)]
