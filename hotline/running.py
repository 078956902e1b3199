"""One claimed job on its thread: its stage context, heartbeats, stopping, how its end is recorded.

Both job engines run a job the same way once they hold it: the embedded runner
(``hotline.worker``) after claiming the row itself, the procrastinate worker
(``hotline.engine_pg``) after the engine handed it a ticket. A ``RunningJob`` is the
engine's ``JobControl`` behind the job's ``StageContext``: it writes progress and
heartbeats to the ``job`` row, notices when the row is no longer its own (cancelled,
taken over), kills the job's processes and records how the stage ended.

A job is stopped in one of three ways, whichever engine runs it:

- cancelled (``hotline jobs cancel``): the heartbeat, every ``HEARTBEAT_EVERY`` seconds,
  finds the row no longer its own, or the engine says it was asked to abort the job
  (``engine_abort``); the job's processes are killed and the stage raises ``JobAborted``
  at its next check;
- its worker is told to stop (the shared ``stop`` event): the job goes back to the queue;
- a process past its time limit (``hotline.processes``) is killed and the job fails.

A job whose work ends while the PostgreSQL server is away (stopped, restarting) waits for
it: the stage's record of its work (``StageContext.save``) and the job's end are tried
again until the server answers, for up to ``OUTAGE_PATIENCE`` seconds or until the worker
is told to stop. Work done is recorded once, not failed and done again.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session

from hotline import jobs, logs, stages
from hotline.errors import HotlineError
from hotline.failures import database_gone
from hotline.models import Episode, Job, JobStatus
from hotline.processes import ChildProcesses
from hotline.runs import JobOutcome, JobView, Observer
from hotline.stages import Handler, StageContext, StageSkipped
from hotline.station import Station

PROGRESS_EVERY = 0.5
"""Seconds between two progress writes of one job at most."""
HEARTBEAT_EVERY = 2.0
"""Seconds between two heartbeats of a job even when its stage is quiet; a cancel is
noticed within this."""
ABORT_CHECK_EVERY = 0.5
"""Seconds between two looks at the engine's own abort request (no database access)."""
STOPPING = "the worker is stopping"
"""The abort reason of a job whose worker was told to stop: the job goes back to the queue."""


OUTAGE_PATIENCE = 1800.0
"""Seconds a job whose work is done waits for its database to answer again, to record it."""
RETRY_EVERY = 1.0
"""Seconds between two tries to record while the database is away."""

_T = TypeVar("_T")


class Unrecorded(Exception):
    """The database could not take a job's end (disk full, locked past the timeout)."""


def outlast(
    call: Callable[[], _T], *, stop: threading.Event, patience: float = OUTAGE_PATIENCE
) -> _T:
    """``call()``, tried again while the database is away (``database_gone``), until it
    answers, ``stop`` is set or ``patience`` seconds pass; any other failure is raised."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return call()
        except Exception as exc:
            if not database_gone(exc) or stop.is_set() or time.monotonic() >= deadline:
                raise
        stop.wait(RETRY_EVERY)


def _in_session(station: Station, write: Callable[[Session], _T]) -> Callable[[], _T]:
    def call() -> _T:
        with station.session() as session:
            return write(session)

    return call


def record(
    station: Station,
    context: str,
    write: Callable[[Session], bool],
    *,
    stop: threading.Event | None = None,
) -> bool:
    """Run one recording transaction; a failure is logged and raised as ``Unrecorded``.

    With ``stop``, a database that is away is waited for (``outlast``) until ``stop``.
    """
    try:
        if stop is None:
            return _in_session(station, write)()
        return outlast(_in_session(station, write), stop=stop)
    except Exception as exc:
        logs.record_failure(exc, root=station.root, context=context)
        # The driver's own words ("database or disk is full"), without SQLAlchemy's wrapping.
        raise Unrecorded(jobs.error_text(getattr(exc, "orig", None) or exc)[0]) from exc


Deliver = Callable[["RunningJob", JobOutcome, str], None]
"""Hands a job's end to its engine: (the job, its outcome, why its end was not recorded)."""


class RunningJob:
    """One claimed job on its thread: progress, heartbeats, stopping, its processes."""

    def __init__(
        self,
        station: Station,
        view: JobView,
        worker: str,
        observer: Observer,
        stop: threading.Event,
        *,
        engine_abort: Callable[[], bool] | None = None,
    ) -> None:
        self.station = station
        self.view = view
        self.worker = worker
        self.observer = observer
        self.stop = stop
        self.engine_abort = engine_abort
        """True once the engine was asked to abort this job (procrastinate's abort)."""
        self.children = ChildProcesses(station.settings.jobs)
        self.started = time.monotonic()
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._last_write = 0.0
        self._fraction = 0.0
        self._message = ""
        self._aborted: str | None = None
        self._reported = False
        self.unrecorded = ""
        """Why the database could not take the job's end ("" when it could)."""

    # ---------------------------------------------------------------- JobControl

    def report(self, fraction: float, message: str) -> None:
        self._fraction = fraction
        self._message = message or self._message
        self.observer.progress(self.view, self._fraction, self._message)
        self.beat(force=fraction >= 1.0)

    def abort_reason(self) -> str | None:
        if self._aborted is not None:
            return self._aborted
        return STOPPING if self.stop.is_set() else None

    def outlast(self, call: Callable[[], _T]) -> _T:
        return outlast(call, stop=self.stop)

    # ---------------------------------------------------------------- heartbeats

    def beat(self, *, force: bool = False) -> None:
        """Write progress and heartbeat (throttled unless ``force``); notice a lost job."""
        with self._lock:
            now = time.monotonic()
            if not force and now - self._last_write < PROGRESS_EVERY:
                return
            self._last_write = now
            try:
                with self.station.session() as session:
                    mine = jobs.heartbeat(
                        session=session,
                        job_id=self.view.job_id,
                        worker=self.worker,
                        progress=self._fraction,
                        message=self._message or None,
                    )
            except Exception:
                # The database did not take it (locked past the timeout, disk full): the
                # stage goes on. Should the writes keep failing, another worker takes the
                # job over once the heartbeat is stale, and the next beat that gets through
                # finds the job gone.
                return
        if not mine:
            self._lost()

    def pulse(self) -> None:
        """The heartbeat thread: beat until the stage ends, so a quiet stage is not taken
        for dead and a cancel is noticed even while the stage waits on a process."""
        last_beat = time.monotonic()
        while not self.done.wait(ABORT_CHECK_EVERY):
            if self.engine_abort is not None and self.engine_abort():
                self._lost()
            if time.monotonic() - last_beat >= HEARTBEAT_EVERY:
                last_beat = time.monotonic()
                self.beat(force=True)

    def _lost(self) -> None:
        """The job is no longer this worker's: find out why and stop it."""
        with self._lock:
            if self._aborted is not None:
                return
            self._aborted = "stopping"  # claimed; the real reason follows
        status = None
        try:
            with self.station.session() as session:
                job = session.get(Job, self.view.job_id)
                status = job.status if job is not None else None
        except Exception:
            pass  # the reason stays vague; the job stops all the same
        cancelled = status in (JobStatus.cancelled, None)
        reason = "cancelled" if cancelled else "taken over by another worker"
        killed = self.abort(reason)
        if cancelled:
            seconds = time.monotonic() - self.started
            processes = f", killing {killed} process{'es' * (killed != 1)}" if killed else ""
            message = f"cancelled; worker {self.worker} stopped it after {seconds:.0f} s{processes}"
            try:
                with self.station.session() as session:
                    jobs.note_stopped(
                        session=session,
                        job_id=self.view.job_id,
                        worker=self.worker,
                        message=message,
                    )
            except Exception:
                pass  # the job is cancelled either way; only the note is missing

    def abort(self, reason: str) -> int:
        """Stop the job: the stage's next check raises, its processes are killed now.

        Returns how many processes were killed.
        """
        self._aborted = reason
        return self.children.kill_all(f"job {self.view.job_id} {reason}")

    # ---------------------------------------------------------------- the end

    def finish_once(self, outcome: JobOutcome, deliver: Deliver | None) -> bool:
        """Report the outcome to the observer and the engine, unless it was reported
        already (by the engine, when the stage did not stop in time)."""
        with self._lock:
            if self._reported:
                return False
            self._reported = True
        try:
            self.observer.finished(outcome)
        finally:
            if deliver is not None:
                deliver(self, outcome, self.unrecorded)
        return True

    def outcome(self, status: str, message: str) -> JobOutcome:
        view = self.view
        seconds = time.monotonic() - self.started
        return JobOutcome(view.job_id, view.kind, view.episode_number, status, seconds, message)


def episode_number(station: Station, episode_id: int | None) -> int | None:
    if episode_id is None:
        return None
    with station.session(write=False) as session:  # also called inside a write session
        episode = session.get(Episode, episode_id)
        return episode.number if episode else None


_Ending = tuple[str, str, BaseException | None]  # (done|skipped|failed, message, error)


def _run_stage(running: RunningJob, handler: Handler | None, job: Job) -> _Ending:
    """Run the handler with heartbeats; how it ended, before anything is recorded."""
    context = StageContext(
        station=running.station,
        job_id=running.view.job_id,
        kind=running.view.kind,
        episode_id=job.episode_id,
        episode_number=running.view.episode_number,
        control=running,
    )
    pulser = threading.Thread(
        target=running.pulse, name=f"heartbeat-{running.view.job_id}", daemon=True
    )
    pulser.start()
    try:
        if handler is None:
            raise HotlineError(f"no handler for {job.kind} jobs in this version")
        with stages.running(context):
            return "done", handler(context) or "done", None
    except StageSkipped as exc:
        return "skipped", str(exc), None
    except Exception as exc:  # a stage's failure is the job's, never the runner's
        return "failed", jobs.error_text(exc)[0], exc
    finally:
        running.done.set()
        pulser.join()
        running.children.kill_all("the stage ended")  # no process outlives its stage


def release(running: RunningJob, message: str) -> None:
    """Give the running job back to the queue (its worker is stopping)."""
    job_id, worker = running.view.job_id, running.worker
    record(
        running.station,
        f"requeueing job {job_id}",
        lambda s: jobs.release(session=s, job_id=job_id, worker=worker, message=message),
    )


def _record_ending(running: RunningJob, ending: _Ending) -> JobOutcome:
    """Write how the job ended; the outcome to report."""
    station, job_id, worker = running.station, running.view.job_id, running.worker
    status, message, error = ending
    stopped = running.abort_reason()
    if status != "done" and stopped is not None:
        # Whatever the stage raised, it was stopped (its ffmpeg killed, JobAborted).
        if running.stop.is_set() and stopped == STOPPING:
            release(running, "interrupted")
            return running.outcome("requeued", "interrupted; queued again")
        return running.outcome("cancelled", f"{stopped} while running")
    if status == "failed" and error is not None and database_gone(error):
        # Not the job's failure: the database went away under it. It runs again.
        job_id, worker = running.view.job_id, running.worker
        record(
            station,
            f"requeueing job {job_id}",
            lambda s: jobs.release(
                session=s, job_id=job_id, worker=worker, message="the database was away"
            ),
            stop=running.stop,
        )
        return running.outcome("requeued", "the database was away; queued again")
    if status == "done":
        mine = record(
            station,
            f"finishing job {job_id}",
            lambda s: jobs.finish(session=s, job_id=job_id, worker=worker, message=message),
            stop=running.stop,
        )
        if not mine:
            return running.outcome(
                "cancelled", "finished, but the job had been cancelled meanwhile"
            )
        return running.outcome("done", message)
    if status == "skipped":
        record(
            station,
            f"skipping job {job_id}",
            lambda s: jobs.skip(session=s, job_id=job_id, worker=worker, reason=message),
            stop=running.stop,
        )
        return running.outcome("skipped", message)
    record(
        station,
        f"failing job {job_id}",
        lambda s: jobs.fail(session=s, job_id=job_id, worker=worker, error=error or message),
        stop=running.stop,
    )
    return running.outcome("failed", message)


def run_one(running: RunningJob, handler: Handler | None, job: Job, deliver: Deliver) -> None:
    """The body of a job's thread: run, record, report, hand the outcome to the engine.

    The engine always gets an outcome, whatever goes wrong here, so it never waits forever.
    """
    outcome = running.outcome("failed", "the worker failed before the job ended")
    try:
        running.observer.started(running.view)
        ending = _run_stage(running, handler, job)
        try:
            outcome = _record_ending(running, ending)
        except Unrecorded as exc:
            running.unrecorded = str(exc)
            outcome = running.outcome(
                "failed",
                f"{ending[1]}; this could not be recorded ({exc}): the job stays running "
                "until the next worker takes it over",
            )
    finally:
        running.finish_once(outcome, deliver)


def waiting_outcomes(
    station: Station, kinds: list[str] | None, episode_id: int | None
) -> list[JobOutcome]:
    """Queued jobs left behind because an earlier stage of their episode is not done."""
    waiting = []
    with station.session() as session:
        for job in jobs.waiting_jobs(session=session, kinds=kinds, episode_id=episode_id):
            assert job.id is not None
            before = jobs.blocker(session, job)
            if before is None:
                continue
            number = episode_number(station, job.episode_id)
            reason = f"waiting for {before.kind} job {before.id} ({before.status})"
            waiting.append(JobOutcome(job.id, job.kind, number, "waiting", 0.0, reason))
    return waiting


JOB_THREADS = "hotline-job"
"""The name every job's thread starts with (both engines)."""


def leave_abandoned_stages(code: int) -> None:
    """End the process now with ``code`` if a stage that did not stop when told still runs
    on its thread (its job already given back); else return.

    The interpreter's normal exit would tear that thread down under native code (a model
    call in torch), which aborts the process ("terminate called without an active
    exception"), or wait for it (a ThreadPoolExecutor's threads) for as long as it runs.
    """
    if not any(
        thread.name.startswith(JOB_THREADS) and thread.is_alive()
        for thread in threading.enumerate()
    ):
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)
