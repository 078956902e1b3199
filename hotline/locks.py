"""The locks a check-then-write command takes before its first read, on either database.

A domain function that checks a rule and then writes (a guest limit, an overlap, a
lifecycle move) calls these first, so no other command can change what it checked
before it commits:

- SQLite: a write session already holds the database's write lock from its BEGIN
  (``hotline.db``: BEGIN IMMEDIATE), so nothing more is needed; SQLite compiles
  ``FOR UPDATE`` to nothing and :func:`lock_schedule` does nothing.
- PostgreSQL: ``SELECT … FOR UPDATE`` locks the rows whose rules are checked (the
  episode for its guest limit, the member for overlaps across episodes, the question
  or call for its lifecycle), and a transaction-scoped advisory lock stands for the
  schedule, whose rules (unique numbers, no overlapping air times) are about rows that
  another command may be about to insert.

Locks are taken in one order everywhere, so two commands never wait for each other:
the schedule, then episodes, then members, then questions and calls, each by id.
Waiting is bounded by the station's busy timeout (PostgreSQL's ``lock_timeout``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select
from sqlmodel.sql.expression import SelectOfScalar

T = TypeVar("T")
Row = TypeVar("Row", bound=SQLModel)

SCHEDULE_LOCK = 0x486F746C696E65
"""PostgreSQL advisory lock key for the schedule (the bytes of "Hotline")."""


def for_update(statement: SelectOfScalar[T]) -> SelectOfScalar[T]:
    """``statement`` locking the rows it reads until the transaction ends.

    Rows the session already holds are read again: after waiting for another
    transaction, its committed values are the ones to check.
    """
    return statement.with_for_update().execution_options(populate_existing=True)


def get_for_update(session: Session, model: type[Row], row_id: Any) -> Row | None:
    """``session.get(model, row_id)``, locking the row."""
    return session.get(model, row_id, with_for_update=True, populate_existing=True)


def lock_ids(session: Session, model: type[Row], ids: Iterable[int]) -> list[Row]:
    """Lock the rows of ``model`` with these ids, in id order (the order every command uses)."""
    column: Any = model.id  # type: ignore[attr-defined]
    wanted = sorted(set(ids))
    return list(session.exec(for_update(select(model).where(column.in_(wanted)).order_by(column))))


def lock_schedule(session: Session) -> None:
    """Hold the schedule until the transaction ends: numbers and air times are checked
    against every episode, including one another command is inserting right now."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(SCHEDULE_LOCK)))
