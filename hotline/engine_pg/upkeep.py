"""Taking over the jobs of dead workers, and tickets for rows that lack one (PostgreSQL).

Every running worker does this every ``UPKEEP_EVERY`` seconds, and ``hotline process``
once before it starts, whichever machine it runs on (each step is a guarded update, so
several workers doing it at once do no harm):

1. tickets whose worker stopped beating for ``STALLED_AFTER`` seconds (procrastinate's
   heartbeats, so a worker on another machine counts): their rows go back to the queue
   (or fail after ``jobs.MAX_ATTEMPTS`` deaths) and the tickets are retried in place, so
   a surviving worker takes the job without any restart;
2. rows whose worker was a process of this host that is gone (found at once, without
   waiting for heartbeats), or whose own heartbeat stopped ``jobs.STALE_AFTER`` ago: the
   same, their running ticket retried when its worker is that dead process;
3. queued rows that could run but have no ticket get one (``tickets.ensure``).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session, select

from hotline import jobs
from hotline.engine_pg import tickets
from hotline.models import Job, JobStatus
from hotline.station import Station
from hotline.timeutil import as_utc, utcnow

HEARTBEAT_EVERY = 2.0
"""Seconds between two heartbeats of a procrastinate worker."""
STALLED_AFTER = 15.0
"""Seconds without a heartbeat after which a worker is taken for dead."""
UPKEEP_EVERY = 5.0
"""Seconds between two rounds of upkeep in a running worker."""


@dataclass
class Round:
    """What one round of upkeep did."""

    recovered: list[int] = field(default_factory=list)
    """Rows whose worker died, queued again (or failed after too many deaths)."""
    ticketed: list[int] = field(default_factory=list)
    """Queued rows that had no ticket and got one."""


def _silent(job: Job, seconds: float) -> bool:
    """True when the running row's own heartbeat is older than ``seconds``."""
    beat = as_utc(job.heartbeat_at) if job.heartbeat_at else None
    return beat is None or utcnow() - beat > timedelta(seconds=seconds)


def _server_up_for(session: Session) -> float:
    """Seconds since the PostgreSQL server started: no worker could beat before that."""
    seconds = (
        session.connection()
        .exec_driver_sql("SELECT EXTRACT(EPOCH FROM now() - pg_postmaster_start_time())")
        .scalar()
    )
    return float(seconds) if seconds is not None else math.inf


def _stalled_tickets(session: Session, done: Round, ours: Collection[int]) -> None:
    for ticket, job_id in tickets.stalled(session, seconds=STALLED_AFTER):
        if job_id in ours:
            continue  # its engine lost the database, but its job runs here still
        row = session.get(Job, job_id) if job_id is not None else None
        # The row's own heartbeat must have stopped too: a row some live worker still
        # runs (another engine, a duplicate ticket) is left alone.
        if row is not None and row.status == JobStatus.running and _silent(row, STALLED_AFTER):
            taken = jobs.take_back(session=session, job=row)
            if taken is not None and taken.id is not None:
                done.recovered.append(taken.id)
        tickets.retry(session, ticket)


def _dead_rows(
    session: Session, done: Round, ours: Collection[int], stale_after: timedelta
) -> None:
    running = session.exec(select(Job).where(Job.status == JobStatus.running)).all()
    dead_here = {job.id for job in running if jobs.died_here(job)}
    for job in jobs.recover_stale(
        session=session, stale_after=stale_after, ours_is_dead=False, alive=ours
    ):
        assert job.id is not None
        done.recovered.append(job.id)
        if job.id in dead_here:  # its ticket's worker was that very process
            for ticket, status in tickets.live_tickets(session, job.id):
                if status == "doing":
                    tickets.retry(session, ticket)


def upkeep(
    station: Station, *, ours: Collection[int] = (), answering_for: float = math.inf
) -> Round:
    """One round: take over dead workers' jobs, give runnable rows their tickets.

    ``ours``: the rows this process runs. They are alive whatever their heartbeats say:
    after the database was away, their last beat is old, and their tickets' worker (the
    engine that lost the database) is gone, yet the job goes on and records its end.

    ``answering_for``: seconds since this process found the database answering again
    after it was away. Silence counts only from then (and from the server's start): while
    the database was away nobody could beat, so a worker that is alive would be taken for
    dead by whichever worker got through first. A dead process of this host is found at
    once all the same.
    """
    done = Round()
    with station.session() as session:
        # A silence is judged over the time the database answered, no longer.
        answering = min(answering_for, _server_up_for(session))
        if answering >= STALLED_AFTER:
            _stalled_tickets(session, done, ours)
    stale_after = jobs.STALE_AFTER
    if answering < jobs.STALE_AFTER.total_seconds():
        stale_after = timedelta.max  # by its process only, not by its heartbeat
    with station.session() as session:
        _dead_rows(session, done, ours, stale_after)
    with station.session() as session:
        done.ticketed = tickets.ensure(session)
    return done
