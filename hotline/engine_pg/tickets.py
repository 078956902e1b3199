"""Tickets: the procrastinate job that has a worker run one ``job`` row (PostgreSQL stations).

The ``job`` table stays what producers see and the truth about every stage. On PostgreSQL
each queued row also has a ticket in procrastinate's queue named after the row's kind, so
the engine's workers pick it up at once (LISTEN/NOTIFY), one stage of an episode at a
time and in the order the tickets were deferred (``lock`` = the episode), with at most
one ticket waiting per row (``queueing_lock`` = the row). A worker that takes a ticket
claims the row and runs its stage; a ticket whose row is no longer queued (cancelled,
done, taken by another engine) ends doing nothing.

Tickets are written in the caller's own transaction, through procrastinate's API with the
session's connection, so a row and its ticket are committed (and announced) together.
procrastinate itself is imported only when a ticket is written, never by the everyday
commands that only read.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from hotline.models import Job, JobStatus

if TYPE_CHECKING:
    from procrastinate.manager import JobManager

TASK_NAME = "hotline.run_job"
"""The procrastinate task every ticket names (``hotline.engine_pg.app``)."""
LIVE = ("todo", "doing")
"""Ticket statuses that will still run (or are running) their row."""


def on_postgresql(session: Session) -> bool:
    """True when the session's station runs its jobs on procrastinate."""
    return session.get_bind().dialect.name == "postgresql"


def queueing_lock(job_id: int) -> str:
    """At most one waiting ticket per row."""
    return f"hotline-job-{job_id}"


def episode_lock(episode_id: int | None) -> str | None:
    """One ticket of an episode runs at a time, in deferral order."""
    return f"hotline-episode-{episode_id}" if episode_id is not None else None


def job_id_of(args: dict[str, Any]) -> int | None:
    """The row a ticket's arguments name."""
    value = args.get("job_id")
    return value if isinstance(value, int) else None


@cache
def _manager() -> JobManager:
    """procrastinate's job manager over an unopened connector: it only ever uses the
    connection the caller passes, inside the caller's transaction."""
    from procrastinate.manager import JobManager
    from procrastinate.sync_psycopg_connector import SyncPsycopgConnector

    return JobManager(SyncPsycopgConnector())


def _driver_connection(session: Session) -> Any:
    return session.connection().connection.driver_connection


def live_tickets(session: Session, job_id: int) -> list[tuple[int, str]]:
    """(ticket id, status) of the row's tickets that are waiting or running."""
    rows = session.connection().execute(
        sa.text(
            "SELECT id, status FROM procrastinate_jobs "
            "WHERE queueing_lock = :lock AND status IN ('todo', 'doing') ORDER BY id"
        ),
        {"lock": queueing_lock(job_id)},
    )
    return [(int(ticket), str(status)) for ticket, status in rows]


def _defer_one(session: Session, job: Job, *, priority: int) -> int | None:
    """Defer a ticket for the row; None when one is already waiting."""
    from procrastinate.exceptions import AlreadyEnqueued
    from procrastinate.jobs import Job as Ticket

    assert job.id is not None
    ticket = Ticket(
        queue=job.kind,
        priority=priority,
        lock=episode_lock(job.episode_id),
        queueing_lock=queueing_lock(job.id),
        task_name=TASK_NAME,
        task_kwargs={"job_id": job.id},
    )
    try:
        # A savepoint: another producer deferring the same row at the same moment makes
        # this insert fail, and the caller's transaction must survive it.
        with session.begin_nested():
            deferred = _manager().defer_job(ticket, connection=_driver_connection(session))
    except AlreadyEnqueued:
        return None
    return deferred.id


def _stage_rank(job: Job) -> tuple[int, int]:
    from hotline.jobs import STAGE_ORDER

    kinds = [kind.value for kind in STAGE_ORDER]
    return (kinds.index(job.kind) if job.kind in kinds else len(kinds), job.id or 0)


def _waiting_in_episode(session: Session, episode_id: int) -> list[tuple[int, int, Job]]:
    """(ticket id, priority, row) of the episode's waiting tickets, in the engine's order."""
    rows = (
        session.connection()
        .execute(
            sa.text(
                "SELECT id, priority, args FROM procrastinate_jobs WHERE lock = :lock "
                "AND status = 'todo' AND task_name = :task ORDER BY priority DESC, id"
            ),
            {"lock": episode_lock(episode_id), "task": TASK_NAME},
        )
        .all()
    )
    found = []
    for ticket, priority, args in rows:
        job = session.get(Job, job_id_of(args or {}))
        if job is not None:
            found.append((int(ticket), int(priority), job))
    return found


def _redefer(session: Session, waiting: list[tuple[int, int, Job]], priority: int) -> int:
    """Withdraw these waiting tickets and defer them again in stage order (the engine runs
    one episode's tickets in the order they were deferred); how many."""
    manager = _manager()
    for ticket, _, _ in waiting:
        manager.cancel_job_by_id(ticket, connection=_driver_connection(session))
    ordered = sorted((job for _, _, job in waiting), key=_stage_rank)
    return sum(_defer_one(session, job, priority=priority) is not None for job in ordered)


def defer(session: Session, job: Job) -> int | None:
    """Give the queued row a waiting ticket unless it has one; the new ticket's id.

    The episode's waiting tickets then run in stage order: a master queued again goes
    ahead of the transcription and publication still waiting from the first time.
    """
    assert job.id is not None
    if any(status == "todo" for _, status in live_tickets(session, job.id)):
        return None
    deferred = _defer_one(session, job, priority=0)
    if deferred is not None and job.episode_id is not None:
        waiting = _waiting_in_episode(session, job.episode_id)
        ranks = [_stage_rank(row) for _, _, row in waiting]  # in the engine's order
        if ranks != sorted(ranks):
            _redefer(session, waiting, priority=max((p for _, p, _ in waiting), default=0))
    return deferred


def abort(session: Session, job_id: int) -> int:
    """Withdraw the row's waiting ticket and ask the worker running it to abort.

    Returns how many tickets were withdrawn or asked to abort. The worker hears of it at
    once (NOTIFY, on commit) and stops the job's processes.
    """
    manager = _manager()
    count = 0
    for ticket, _status in live_tickets(session, job_id):
        count += manager.cancel_job_by_id(
            ticket, abort=True, connection=_driver_connection(session)
        )
    return count


def stalled(session: Session, *, seconds: float) -> list[tuple[int, int | None]]:
    """(ticket id, row id) of running tickets whose worker has not beaten for ``seconds``
    (procrastinate's own query: its worker died, or lost the database)."""
    from procrastinate import sql

    rows = _manager().connector.execute_query_all_with_connection(
        _driver_connection(session),
        query=sql.queries["select_stalled_jobs_by_heartbeat"],
        queue=None,
        task_name=TASK_NAME,
        seconds_since_heartbeat=seconds,
    )
    return [(int(row["id"]), job_id_of(row["args"] or {})) for row in rows]


def retry(session: Session, ticket_id: int) -> bool:
    """Put a running ticket back in the queue, in its place; False if it no longer runs."""
    from procrastinate import sql
    from procrastinate.exceptions import ConnectorException

    from hotline.timeutil import utcnow

    try:
        with session.begin_nested():  # a ticket that ended meanwhile must not spoil the rest
            _manager().connector.execute_query_one_with_connection(
                _driver_connection(session),
                query=sql.queries["retry_job"],
                job_id=ticket_id,
                retry_at=utcnow(),
                new_priority=None,
                new_queue_name=None,
                new_lock=None,
            )
    except ConnectorException:
        return False
    return True


def prioritise(session: Session, episode_id: int) -> int:
    """Put the episode's waiting tickets ahead of every other episode's; how many.

    They are withdrawn and deferred again, in stage order, with a higher priority (the
    engine has no call that changes a waiting ticket's priority).
    """
    highest = session.connection().execute(
        sa.text("SELECT COALESCE(MAX(priority), 0) FROM procrastinate_jobs WHERE status = 'todo'")
    )
    return _redefer(
        session, _waiting_in_episode(session, episode_id), priority=highest.scalar() + 1
    )


def runnable_without_ticket(session: Session, *, episode_id: int | None = None) -> list[Job]:
    """Queued rows that could run now but have no ticket that will run them."""
    from hotline import jobs  # the queue's rules; jobs imports this module lazily too

    query = select(Job).where(Job.status == JobStatus.queued)
    if episode_id is not None:
        query = query.where(Job.episode_id == episode_id)
    queued = list(session.exec(query.order_by(col(Job.id))).all())
    if not queued:
        return []
    ticketed = {
        lock
        for (lock,) in session.connection().execute(
            sa.text(
                "SELECT queueing_lock FROM procrastinate_jobs "
                "WHERE status IN ('todo', 'doing') AND task_name = :task"
            ),
            {"task": TASK_NAME},
        )
    }
    return [
        job
        for job in queued
        if job.id is not None
        and queueing_lock(job.id) not in ticketed
        and jobs.blocker(session, job) is None
    ]


def ensure(session: Session, *, episode_id: int | None = None) -> list[int]:
    """Defer a ticket for every runnable queued row that has none; the rows' ids.

    A row loses its ticket when the ticket ran while an earlier stage held the episode
    back, or when the row was queued by something that does not write tickets (a copy
    from an embedded station, the embedded runner giving a job back).
    """
    done = []
    for job in runnable_without_ticket(session, episode_id=episode_id):
        assert job.id is not None
        if defer(session, job) is not None:
            done.append(job.id)
    return done
