"""Private columns (contacts) on the ORM path: loaded only for a database user who may read them.

On a station server, staff log in with a role that may not read members' and listeners'
contacts (``hotline db grant``): the server refuses any query that names those columns.
So the ORM never selects a private column by default (it is a deferred attribute), and
:func:`install` adds it back to every ORM query whose database user may read it, which
on SQLite, or for a producer, is always: their code sees every attribute as before. For
staff the attribute stays unloaded; :func:`shown` gives None for it instead of a query
the server would refuse. Core queries list their columns and never touch these.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Load, ORMExecuteState, Session

from hotline.errors import PrivateRefused
from hotline.models import SQLModel, private_columns

GROUP = "private"
"""The deferred group every private column belongs to."""

_READABLE = "hotline_private_readable"
_installed = False


def _private() -> list[tuple[str, str]]:
    return [
        (table.name, column.name)
        for table in SQLModel.metadata.sorted_tables
        for column in private_columns(table)
    ]


def may_read_private(connection: Connection) -> bool:
    """Whether the database user behind ``connection`` may read every private column."""
    if connection.dialect.name != "postgresql":
        return True  # an embedded database: whoever opens the file reads all of it
    cached = connection.info.get(_READABLE)
    if cached is None:
        checks = " AND ".join(
            f"has_column_privilege('{table}', '{column}', 'SELECT')" for table, column in _private()
        )
        cached = bool(connection.exec_driver_sql(f"SELECT {checks or 'true'}").scalar())
        connection.info[_READABLE] = cached  # per connection: one role per connection
    return cached


def _load_private(state: ORMExecuteState) -> None:
    if not state.is_select or state.is_column_load:
        return
    options = []
    # A UNION of selects (CompoundSelect) names no entity to undefer: its columns are
    # whatever it selects, private ones included only when asked for by name.
    for description in getattr(state.statement, "column_descriptions", ()):
        expr = description.get("expr")
        inspected = sa.inspect(expr, raiseerr=False)
        mapper = getattr(inspected, "mapper", None)
        is_entity = getattr(inspected, "is_mapper", False) or getattr(
            inspected, "is_aliased_class", False
        )
        if is_entity and mapper is not None and private_columns(mapper.local_table):
            options.append(Load(expr).undefer_group(GROUP))
    if options and may_read_private(state.session.connection()):
        state.statement = state.statement.options(*options)


def install() -> None:
    """Defer every private column and load it back for users who may read it (once)."""
    global _installed
    if _installed:
        return
    for mapper in SQLModel._sa_registry.mappers:
        for column in private_columns(mapper.local_table):
            mapper.add_property(column.key, sa.orm.deferred(column, group=GROUP))
    event.listen(Session, "do_orm_execute", _load_private)
    _installed = True


def shown(row: Any, name: str) -> str | None:
    """A private attribute of an ORM row if it was loaded (None when this user may not)."""
    if name in sa.inspect(row).unloaded:
        return None
    return getattr(row, name)


def require_private(session: Session) -> None:
    """Refuse, before anything is shown, a database user who may not read the private columns
    (the server would refuse their query anyway, naming whichever table it met first)."""
    connection = session.connection()
    if may_read_private(connection):
        return
    role = connection.exec_driver_sql("SELECT current_user").scalar()
    raise PrivateRefused(
        f"contacts are not readable for the PostgreSQL role {role}: leave out "
        f"--include-private, or ask the station's admin for a producer role "
        f"(`hotline db grant {role} --as producer`)"
    )
