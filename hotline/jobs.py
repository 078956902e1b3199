"""The job queue: enqueue, claim, heartbeat, progress, finish, skip, fail, retry, cancel, recovery.

Jobs live in the ``job`` table, so every process and every worker machine that
shares the database shares the queue. Every state change is a single
``UPDATE … WHERE id = … AND status = …`` whose row count says whether it won, so
two workers can never both claim a job and a worker that lost its job (cancelled,
or recovered by someone else after it stopped beating) finds out instead of
overwriting it. The SQL is plain enough for SQLite and PostgreSQL alike.

On PostgreSQL a queued row also gets a ticket in procrastinate's queue
(``hotline.engine_pg.tickets``), in the same transaction, and a cancel asks the
engine to abort the job; the rows stay what producers see.

Functions take the session as a keyword argument, flush and never commit, like
every domain function; ``claim_next`` is the exception because a claim must be
its own short transaction (see its docstring).
"""

from __future__ import annotations

import os
import socket
import traceback
from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col, select

from hotline.engine_pg import tickets
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.models import Episode, Job, JobKind, JobStatus
from hotline.timeutil import as_utc, utcnow

# Pipeline stages in the order an episode goes through them: a job waits while a
# job of an earlier stage for the same episode is queued, running or failed.
STAGE_ORDER: tuple[JobKind, ...] = (JobKind.master, JobKind.transcribe, JobKind.publish)

# A running job whose heartbeat is older than this is taken to have lost its worker
# (the worker beats every few seconds; this covers workers on other machines, whose
# pid we cannot check).
STALE_AFTER = timedelta(minutes=2)

# A job whose worker died this many times is failed instead of requeued again: a
# recording that kills its worker (out of memory, say) must not loop forever.
MAX_ATTEMPTS = 3

ERROR_LIMIT = 4000  # Job.error column length
MESSAGE_LIMIT = 500  # Job.message column length

_REUSABLE = (JobStatus.queued, JobStatus.failed, JobStatus.cancelled, JobStatus.skipped)
_BLOCKING = (JobStatus.queued, JobStatus.running, JobStatus.failed)

SessionFactory = Callable[[], AbstractContextManager[Session]]
_E = TypeVar("_E", bound=StrEnum)


def worker_name(suffix: str = "") -> str:
    """``host:pid`` (plus ``:suffix`` for a thread), stored on the jobs this process runs."""
    name = f"{socket.gethostname()}:{os.getpid()}"
    return f"{name}:{suffix}" if suffix else name


def worker_place(worker: str) -> str:
    """Where a job's worker runs, ``host:pid``, from its name (``host:pid`` or
    ``host:pid:slot``); "" for a job no worker holds or held."""
    host, _, rest = worker.partition(":")
    pid = rest.partition(":")[0]
    return f"{host}:{pid}" if pid else host


def _vocabulary(enum: type[_E], value: str, what: str) -> _E:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise InvalidInput(f"unknown {what} {value!r}; use one of: {allowed}") from None


def check_kind(kind: str) -> JobKind:
    return _vocabulary(JobKind, kind, "job kind")


def check_status(status: str) -> JobStatus:
    return _vocabulary(JobStatus, status, "job status")


def get_job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} does not exist")
    return job


def _one_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    line = next((part.strip() for part in str(text).splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _update(session: Session, job_id: int, where: Sequence[Any], **values: Any) -> bool:
    """One guarded UPDATE of one job; True when it changed the row."""
    statement = (
        sa.update(Job)
        .where(col(Job.id) == job_id, *where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    result = session.exec(statement)
    session.flush()
    changed = result.rowcount == 1
    if changed:
        # Keep the object this session may hold for the row in step with it.
        session.get(Job, job_id, populate_existing=True)
    return changed


def enqueue(*, session: Session, kind: JobKind, episode_id: int | None) -> Job:
    """Queue a ``kind`` job for the episode, or return the one already waiting.

    A queued job is reused; a failed, cancelled or skipped one is put back in the
    queue (so an episode has at most one waiting job per stage); a running or done
    one is left alone and a new job is queued, because the inputs may have changed.
    """
    existing = session.exec(
        select(Job)
        .where(Job.kind == kind, Job.episode_id == episode_id)
        .where(col(Job.status).in_(_REUSABLE))
        .order_by(col(Job.id).desc())
    ).first()
    if existing is not None:
        if existing.status != JobStatus.queued:
            _requeue(session, existing, message="queued again")
        return existing
    job = Job(kind=kind, episode_id=episode_id, status=JobStatus.queued, message="queued")
    session.add(job)
    session.flush()
    _ticket(session, job)
    return job


def _ticket(session: Session, job: Job) -> None:
    """On PostgreSQL, the queued row's ticket: procrastinate's workers run the job."""
    if tickets.on_postgresql(session):
        tickets.defer(session, job)


def _requeue(session: Session, job: Job, *, message: str) -> None:
    job.status = JobStatus.queued
    job.progress = 0.0
    job.message = message
    job.error = ""
    job.worker = ""
    job.started_at = job.heartbeat_at = job.finished_at = None
    session.add(job)
    session.flush()
    _ticket(session, job)


def blocker(session: Session, job: Job) -> Job | None:
    """The job of the same episode that ``job`` must wait for, if any.

    That is an earlier stage not yet done (queued, running or failed), or another
    job of the same stage still running (two masters must not write one file).
    """
    if job.episode_id is None or job.kind not in STAGE_ORDER:
        return None
    earlier = STAGE_ORDER[: STAGE_ORDER.index(JobKind(job.kind))]
    same_episode = select(Job).where(Job.episode_id == job.episode_id, col(Job.id) != job.id)
    before = session.exec(
        same_episode.where(col(Job.kind).in_(earlier), col(Job.status).in_(_BLOCKING)).order_by(
            col(Job.id)
        )
    ).first()
    if before is not None:
        return before
    return session.exec(
        same_episode.where(Job.kind == job.kind, Job.status == JobStatus.running)
    ).first()


def waiting_jobs(
    *, session: Session, kinds: Iterable[str] | None = None, episode_id: int | None = None
) -> list[Job]:
    """Queued jobs matching the filters, oldest first."""
    query = select(Job).where(Job.status == JobStatus.queued)
    if kinds is not None:
        query = query.where(col(Job.kind).in_(list(kinds)))
    if episode_id is not None:
        query = query.where(Job.episode_id == episode_id)
    return list(session.exec(query.order_by(col(Job.id))).all())


def try_claim(*, session: Session, job_id: int, worker: str) -> bool:
    """Take the queued job for ``worker``; False when another worker got it first."""
    now = utcnow()
    return _update(
        session,
        job_id,
        [col(Job.status) == JobStatus.queued],
        status=JobStatus.running,
        worker=worker[:100],
        attempts=col(Job.attempts) + 1,
        progress=0.0,
        message="started",
        started_at=now,
        heartbeat_at=now,
        finished_at=None,
    )


def claim_next(
    sessions: SessionFactory,
    *,
    worker: str,
    kinds: Iterable[str] | None = None,
    episode_id: int | None = None,
) -> Job | None:
    """Claim the oldest runnable queued job and return it (detached), or None.

    ``sessions`` opens one committed transaction per call (``station.session``).
    The candidates are read in one transaction and each claim is a separate one:
    on SQLite a read transaction that later tries to write fails at once if another
    process wrote in between, whereas a transaction that starts with its UPDATE
    simply waits its turn.
    """
    kinds = list(kinds) if kinds is not None else None
    with sessions() as session:
        candidates = [
            job.id
            for job in waiting_jobs(session=session, kinds=kinds, episode_id=episode_id)
            if blocker(session, job) is None
        ]
    for job_id in candidates:
        assert job_id is not None
        with sessions() as session:
            if try_claim(session=session, job_id=job_id, worker=worker):
                return get_job(session, job_id)
    return None


def heartbeat(
    *,
    session: Session,
    job_id: int,
    worker: str,
    progress: float | None = None,
    message: str | None = None,
) -> bool:
    """Record that ``worker`` is alive on the job (and its progress).

    False means the job is no longer this worker's: cancelled, or recovered by
    another process after missed heartbeats. The worker should stop.
    """
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = min(max(float(progress), 0.0), 1.0)
    if message is not None:
        values["message"] = _one_line(message)
    where = [col(Job.status) == JobStatus.running, col(Job.worker) == worker[:100]]
    return _update(session, job_id, where, **values)


def finish(*, session: Session, job_id: int, worker: str, message: str = "done") -> bool:
    """Mark the worker's job done; False when the job was no longer its own."""
    where = [col(Job.status) == JobStatus.running, col(Job.worker) == worker[:100]]
    values = {"status": JobStatus.done, "progress": 1.0, "finished_at": utcnow()}
    return _update(session, job_id, where, message=_one_line(message), error="", **values)


def skip(*, session: Session, job_id: int, worker: str, reason: str) -> bool:
    """Mark the worker's job skipped with the reason; False when it was no longer its own."""
    where = [col(Job.status) == JobStatus.running, col(Job.worker) == worker[:100]]
    values = {"status": JobStatus.skipped, "finished_at": utcnow(), "error": ""}
    return _update(session, job_id, where, message=_one_line(reason), **values)


def note_stopped(*, session: Session, job_id: int, worker: str, message: str) -> bool:
    """The worker of a cancelled job records that it stopped it (killed its processes)."""
    where = [col(Job.status) == JobStatus.cancelled, col(Job.worker) == worker[:100]]
    return _update(session, job_id, where, message=_one_line(message), finished_at=utcnow())


def error_text(exc: BaseException) -> tuple[str, str]:
    """(one line for users, full text with traceback for ``Job.error``)."""
    line = _one_line(str(exc)) or type(exc).__name__
    trace = "".join(traceback.format_exception(exc))
    full = f"{line}\n\n{trace}"
    if len(full) > ERROR_LIMIT:
        # Keep the user line and the end of the traceback, where the cause is.
        tail = trace[-(ERROR_LIMIT - len(line) - 10) :]
        full = f"{line}\n\n…{tail}"
    return line, full


def fail(*, session: Session, job_id: int, worker: str, error: BaseException | str) -> bool:
    """Mark the worker's job failed with the error; False when it was no longer its own."""
    if isinstance(error, BaseException):
        line, full = error_text(error)
    else:
        line, full = _one_line(error), str(error)[:ERROR_LIMIT]
    where = [col(Job.status) == JobStatus.running, col(Job.worker) == worker[:100]]
    return _update(
        session,
        job_id,
        where,
        status=JobStatus.failed,
        message=line,
        error=full,
        finished_at=utcnow(),
    )


def release(*, session: Session, job_id: int, worker: str, message: str) -> bool:
    """Give an unfinished job back to the queue (the worker was interrupted)."""
    where = [col(Job.status) == JobStatus.running, col(Job.worker) == worker[:100]]
    return _update(
        session,
        job_id,
        where,
        status=JobStatus.queued,
        worker="",
        progress=0.0,
        message=_one_line(message),
        heartbeat_at=None,
    )


@dataclass(frozen=True)
class Change:
    """A job changed by ``retry`` or ``cancel``, and the later stages that followed it."""

    job: Job
    later: list[Job]
    was: str
    """The job's status before the change."""


def _later_stages(session: Session, job: Job, status: JobStatus) -> list[Job]:
    """Jobs of the same episode, in ``status``, for the stages after ``job``'s."""
    if job.episode_id is None or job.kind not in STAGE_ORDER:
        return []
    later = STAGE_ORDER[STAGE_ORDER.index(JobKind(job.kind)) + 1 :]
    return list(
        session.exec(
            select(Job)
            .where(Job.episode_id == job.episode_id, col(Job.kind).in_(later))
            .where(Job.status == status)
            .order_by(col(Job.id))
        ).all()
    )


def _cancelled_with(job: Job) -> str:
    return f"cancelled with {job.kind} job {job.id}"


def retry(*, session: Session, job_id: int) -> Change:
    """Put a failed, cancelled or skipped job back in the queue.

    The later stages that were cancelled along with it are queued again too.
    """
    job = get_job(session, job_id)
    if job.status not in (JobStatus.failed, JobStatus.cancelled, JobStatus.skipped):
        raise Conflict(
            f"job {job_id} is {job.status}; only failed, cancelled or skipped jobs can be retried"
        )
    with_it = [
        other
        for other in _later_stages(session, job, JobStatus.cancelled)
        if other.message == _cancelled_with(job)
    ]
    was = job.status
    _requeue(session, job, message="retry requested")
    for other in with_it:
        _requeue(session, other, message=f"queued again with {job.kind} job {job.id}")
    return Change(job, with_it, was)


def cancel(*, session: Session, job_id: int) -> Change:
    """Cancel a queued, running or failed job and the episode's later stages still queued.

    A running job's worker notices at its next heartbeat (on PostgreSQL at once, through
    the engine's abort), kills the job's processes and records that it stopped. The later
    stages would only fail for want of this one's output (a transcription with no
    master); ``retry`` queues them again with it.
    """
    job = get_job(session, job_id)
    if job.status == JobStatus.done:
        raise Conflict(f"job {job_id} is done; a finished job cannot be cancelled")
    if job.status == JobStatus.skipped:
        raise Conflict(f"job {job_id} was skipped; there is nothing left to cancel")
    was = job.status
    if job.status != JobStatus.cancelled:
        job.status = JobStatus.cancelled
        job.message = "cancelled"
        job.finished_at = utcnow()
        session.add(job)
    later = _later_stages(session, job, JobStatus.queued)
    for other in later:
        other.status = JobStatus.cancelled
        other.message = _cancelled_with(job)
        other.finished_at = utcnow()
        session.add(other)
    session.flush()
    if tickets.on_postgresql(session):
        # The engine's abort: the worker running the job hears of it at once.
        for stopped in (job, *later):
            assert stopped.id is not None
            tickets.abort(session, stopped.id)
    return Change(job, later, was)


def _pid_gone(worker: str, host: str, *, ours_is_dead: bool = True) -> bool:
    """True when ``worker`` ran on this host and its process no longer exists."""
    parts = worker.split(":")
    if len(parts) < 2 or parts[0] != host or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        # Recovery runs before this process claims anything, so a job that names
        # our pid belongs to a dead process whose pid was reused.
        return ours_is_dead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def died_here(job: Job) -> bool:
    """True when the job's worker ran in another process of this host that is gone."""
    return _pid_gone(job.worker, socket.gethostname(), ours_is_dead=False)


def worker_gone(
    job: Job,
    *,
    now: datetime | None = None,
    stale_after: timedelta = STALE_AFTER,
    ours_is_dead: bool = True,
) -> bool:
    """True when the running ``job``'s worker is dead: silent for ``stale_after``, or a
    process of this host that no longer exists. The next worker takes such a job over."""
    if job.status != JobStatus.running:
        return False
    beat = as_utc(job.heartbeat_at) if job.heartbeat_at else None
    if beat is None or (now or utcnow()) - beat > stale_after:
        return True
    return _pid_gone(job.worker, socket.gethostname(), ours_is_dead=ours_is_dead)


def recover_stale(
    *,
    session: Session,
    stale_after: timedelta = STALE_AFTER,
    now: datetime | None = None,
    ours_is_dead: bool = True,
    alive: Collection[int] = (),
) -> list[Job]:
    """Requeue running jobs whose worker died (or fail them after ``MAX_ATTEMPTS`` deaths).

    A worker is dead when its heartbeat is older than ``stale_after``, or at once
    when it ran on this host and its process is gone. ``ours_is_dead``: a job naming
    this process is a dead one's whose pid was reused (true before this process runs
    any job; a long-running worker passes False). ``alive``: jobs the caller runs itself,
    left alone whatever their heartbeat says.
    """
    now = now or utcnow()
    recovered: list[Job] = []
    running = session.exec(select(Job).where(Job.status == JobStatus.running)).all()
    for job in running:
        if job.id in alive:
            continue
        if not worker_gone(job, now=now, stale_after=stale_after, ours_is_dead=ours_is_dead):
            continue
        taken = take_back(session=session, job=job, now=now)
        if taken is not None:
            recovered.append(taken)
    return recovered


def take_back(*, session: Session, job: Job, now: datetime | None = None) -> Job | None:
    """Requeue the running ``job`` whose worker died (or fail it after ``MAX_ATTEMPTS``
    deaths); None when it changed meanwhile (finished, or taken back by someone else)."""
    now = now or utcnow()
    where = [col(Job.status) == JobStatus.running, col(Job.worker) == job.worker]
    job_id = job.id
    assert job_id is not None
    reason = f"worker {job.worker} stopped during attempt {job.attempts}"
    if job.attempts >= MAX_ATTEMPTS:
        changed = _update(
            session,
            job_id,
            where,
            status=JobStatus.failed,
            message=_one_line(f"{reason}; giving up after {job.attempts} attempts"),
            error=f"{reason}; giving up after {job.attempts} attempts",
            finished_at=now,
        )
    else:
        changed = _update(
            session,
            job_id,
            where,
            status=JobStatus.queued,
            worker="",
            progress=0.0,
            message=_one_line(f"requeued: {reason}"),
            heartbeat_at=None,
        )
    return get_job(session, job_id) if changed else None


@dataclass(frozen=True)
class JobRow:
    """A job with its episode number, as lists and the TUI show it."""

    job: Job
    episode_number: int | None
    waiting_for: Job | None = None
    worker_gone: bool = False
    """Shown ``running``, but its worker is dead: the next worker takes the job over."""


def job_detail(*, session: Session, job_id: int) -> JobRow:
    """One job with its episode number and, when queued, the job it waits for."""
    job = get_job(session, job_id)
    episode = session.get(Episode, job.episode_id) if job.episode_id is not None else None
    waiting = blocker(session, job) if job.status == JobStatus.queued else None
    gone = worker_gone(job, ours_is_dead=False)
    return JobRow(job, episode.number if episode else None, waiting, gone)


def list_jobs(
    *,
    session: Session,
    status: str | None = None,
    kind: str | None = None,
    episode: int | None = None,
    limit: int | None = None,
) -> list[JobRow]:
    """Jobs, newest first, with their episode numbers (``episode`` is a number)."""
    query = select(Job, Episode.number).join(
        Episode, col(Episode.id) == col(Job.episode_id), isouter=True
    )
    if status is not None:
        query = query.where(Job.status == check_status(status))
    if kind is not None:
        query = query.where(Job.kind == check_kind(kind))
    if episode is not None:
        query = query.where(Episode.number == episode)
    query = query.order_by(col(Job.id).desc())
    if limit is not None:
        query = query.limit(limit)
    now = utcnow()
    return [
        JobRow(job, number, worker_gone=worker_gone(job, now=now, ours_is_dead=False))
        for job, number in session.exec(query).all()
    ]
