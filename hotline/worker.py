"""The embedded job engine: claim queued jobs, run their stages with heartbeats, stop them, record.

It implements the stage contract of ``hotline.stages`` and knows nothing about audio or
transcripts: it gets job kind → handler (``hotline.pipeline.STAGES``) and an observer
(``hotline.runs``; the CLI draws bars, the TUI posts messages). Each job runs on a
thread of its own with short database sessions, so no transaction stays open while audio
is processed. A job is stopped, wherever its worker runs, in one of three ways:

- cancelled (``hotline jobs cancel``): the heartbeat, every ``HEARTBEAT_EVERY`` seconds,
  finds the job no longer its own, kills the job's processes and records that it stopped
  it; the stage raises ``JobAborted`` at its next check;
- the worker is told to stop (``stop``: SIGINT or SIGTERM through ``stop_on_signals``,
  the desk closing): every running job's processes are killed and the jobs go back to the
  queue; a stage that does not end within ``STOP_GRACE`` is left behind and its job given
  back by the runner itself, so the worker always exits promptly;
- a process past its time limit (``hotline.processes``) is killed and its job fails.

A job whose end the database cannot take (disk full) is left ``running`` with no more
heartbeats, so the next worker finds its worker gone and takes it over; the run stops
taking jobs and says so.
"""

from __future__ import annotations

import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager

from sqlmodel import Session

from hotline import jobs, logs, stages
from hotline.errors import HotlineError, InvalidInput
from hotline.models import Episode, Job, JobStatus
from hotline.processes import ChildProcesses
from hotline.runs import JobOutcome, JobView, Observer, RunSummary
from hotline.stages import Handler, StageContext, StageSkipped
from hotline.station import Station

PROGRESS_EVERY = 0.5
"""Seconds between two progress writes of one job at most."""
HEARTBEAT_EVERY = 2.0
"""Seconds between two heartbeats of a job even when its stage is quiet; a cancel is
noticed within this."""
STOP_GRACE = 3.0
"""Seconds a stopping worker waits for its stages to end before it gives their jobs back
to the queue itself."""
WAIT_STEP = 0.2
"""Seconds the runner waits for a job to end before it looks at the stop request again."""


class _Unrecorded(Exception):
    """The database could not take a job's end (disk full, locked past the timeout)."""


def _record(station: Station, context: str, write: Callable[[Session], bool]) -> bool:
    """Run one recording transaction; a failure is logged and raised as ``_Unrecorded``."""
    try:
        with station.session() as session:
            return write(session)
    except Exception as exc:
        logs.record_failure(exc, root=station.root, context=context)
        # The driver's own words ("database or disk is full"), without SQLAlchemy's wrapping.
        raise _Unrecorded(jobs.error_text(getattr(exc, "orig", None) or exc)[0]) from exc


_Result = tuple["_RunningJob", JobOutcome, str]
"""A job's thread to the runner: (the job, its outcome, why its end was not recorded)."""


class _RunningJob:
    """One claimed job on its thread: progress, heartbeats, stopping, its processes.

    This is the engine's ``JobControl`` behind the job's ``StageContext``.
    """

    def __init__(
        self,
        station: Station,
        view: JobView,
        worker: str,
        observer: Observer,
        stop: threading.Event,
    ) -> None:
        self.station = station
        self.view = view
        self.worker = worker
        self.observer = observer
        self.stop = stop
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
        return "the worker is stopping" if self.stop.is_set() else None

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
        while not self.done.wait(HEARTBEAT_EVERY):
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

    def finish_once(self, outcome: JobOutcome, results: queue.Queue[_Result] | None) -> bool:
        """Report the outcome to the observer and the runner, unless it was reported
        already (by the runner, when the stage did not stop in time)."""
        with self._lock:
            if self._reported:
                return False
            self._reported = True
        try:
            self.observer.finished(outcome)
        finally:
            if results is not None:
                results.put((self, outcome, self.unrecorded))
        return True

    def outcome(self, status: str, message: str) -> JobOutcome:
        view = self.view
        seconds = time.monotonic() - self.started
        return JobOutcome(view.job_id, view.kind, view.episode_number, status, seconds, message)


def _episode_number(station: Station, episode_id: int | None) -> int | None:
    if episode_id is None:
        return None
    with station.session(write=False) as session:  # also called inside a write session
        episode = session.get(Episode, episode_id)
        return episode.number if episode else None


_Ending = tuple[str, str, BaseException | None]  # (done|skipped|failed, message, error)


def _run_stage(running: _RunningJob, handler: Handler | None, job: Job) -> _Ending:
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


def _record_ending(running: _RunningJob, ending: _Ending) -> JobOutcome:
    """Write how the job ended; the outcome to report."""
    station, job_id, worker = running.station, running.view.job_id, running.worker
    status, message, error = ending
    stopped = running.abort_reason()
    if status != "done" and stopped is not None:
        # Whatever the stage raised, it was stopped (its ffmpeg killed, JobAborted).
        if running.stop.is_set() and stopped == "the worker is stopping":
            _record(
                station,
                f"requeueing job {job_id}",
                lambda s: jobs.release(
                    session=s, job_id=job_id, worker=worker, message="interrupted"
                ),
            )
            return running.outcome("requeued", "interrupted; queued again")
        return running.outcome("cancelled", f"{stopped} while running")
    if status == "done":
        mine = _record(
            station,
            f"finishing job {job_id}",
            lambda s: jobs.finish(session=s, job_id=job_id, worker=worker, message=message),
        )
        if not mine:
            return running.outcome(
                "cancelled", "finished, but the job had been cancelled meanwhile"
            )
        return running.outcome("done", message)
    if status == "skipped":
        _record(
            station,
            f"skipping job {job_id}",
            lambda s: jobs.skip(session=s, job_id=job_id, worker=worker, reason=message),
        )
        return running.outcome("skipped", message)
    _record(
        station,
        f"failing job {job_id}",
        lambda s: jobs.fail(session=s, job_id=job_id, worker=worker, error=error or message),
    )
    return running.outcome("failed", message)


def _run_one(
    running: _RunningJob, handler: Handler | None, job: Job, results: queue.Queue[_Result]
) -> None:
    """The body of a job's thread: run, record, report, hand the outcome to the runner.

    The runner always gets an outcome, whatever goes wrong here, so it never waits forever.
    """
    outcome = running.outcome("failed", "the worker failed before the job ended")
    try:
        running.observer.started(running.view)
        ending = _run_stage(running, handler, job)
        try:
            outcome = _record_ending(running, ending)
        except _Unrecorded as exc:
            running.unrecorded = str(exc)
            outcome = running.outcome(
                "failed",
                f"{ending[1]}; this could not be recorded ({exc}): the job stays running "
                "until the next worker takes it over",
            )
    finally:
        running.finish_once(outcome, results)


def _waiting(station: Station, kinds: list[str] | None, episode_id: int | None) -> list[JobOutcome]:
    """Queued jobs left behind because an earlier stage of their episode is not done."""
    waiting = []
    with station.session() as session:
        for job in jobs.waiting_jobs(session=session, kinds=kinds, episode_id=episode_id):
            assert job.id is not None
            before = jobs.blocker(session, job)
            if before is None:
                continue
            number = _episode_number(station, job.episode_id)
            reason = f"waiting for {before.kind} job {before.id} ({before.status})"
            waiting.append(JobOutcome(job.id, job.kind, number, "waiting", 0.0, reason))
    return waiting


class _Runner:
    """One ``run_jobs`` call: the jobs it started and what became of them."""

    def __init__(
        self,
        station: Station,
        handlers: Mapping[str, Handler],
        observer: Observer,
        stop: threading.Event,
    ) -> None:
        self.station = station
        self.handlers = handlers
        self.observer = observer
        self.stop = stop
        self.summary = RunSummary()
        self.active: dict[int, _RunningJob] = {}
        self.results: queue.Queue[_Result] = queue.Queue()
        self.slot = 0

    def start(self, *, kinds: list[str], episode_id: int | None) -> bool:
        """Claim and start one job; False when none is runnable (or none can be claimed)."""
        self.slot += 1
        name = jobs.worker_name(str(self.slot))
        try:
            job = jobs.claim_next(
                self.station.session, worker=name, kinds=kinds, episode_id=episode_id
            )
            number = _episode_number(self.station, job.episode_id) if job else None
        except Exception as exc:  # a job claimed but not started is taken over later
            logs.record_failure(exc, root=self.station.root, context="claiming a job")
            reason = jobs.error_text(getattr(exc, "orig", None) or exc)[0]
            self.summary.halted = f"could not take the next job: {reason}"
            return False
        if job is None:
            return False
        assert job.id is not None
        view = JobView(job.id, job.kind, number, job.attempts)
        running = _RunningJob(self.station, view, name, self.observer, self.stop)
        thread = threading.Thread(
            target=_run_one,
            args=(running, self.handlers.get(job.kind), job, self.results),
            name=f"hotline-job-{job.id}",
            daemon=True,  # a stage that ignores a stop must not keep the process alive
        )
        self.active[job.id] = running
        thread.start()
        return True

    def collect(self, timeout: float) -> bool:
        """Take one ended job's outcome, waiting up to ``timeout``; False if none ended."""
        try:
            running, outcome, unrecorded = self.results.get(timeout=timeout)
        except queue.Empty:
            return False
        if running.view.job_id not in self.active:
            return True  # given back by ``stop_all`` already
        self.active.pop(running.view.job_id, None)
        self.summary.outcomes.append(outcome)
        if unrecorded:
            self.summary.unrecorded.append(outcome.job_id)
            self.summary.halted = self.summary.halted or unrecorded
        return True

    def stop_all(self) -> None:
        """Kill every running job's processes, wait a little, give back what did not end."""
        self.summary.interrupted = True
        for running in self.active.values():
            running.children.kill_all(f"job {running.view.job_id}: the worker is stopping")
        deadline = time.monotonic() + STOP_GRACE
        while self.active and time.monotonic() < deadline:
            self.collect(min(WAIT_STEP, max(deadline - time.monotonic(), 0.0)))
        for job_id, running in list(self.active.items()):
            outcome = running.outcome("requeued", "interrupted; its stage did not stop in time")
            try:
                _record(
                    self.station,
                    f"requeueing job {job_id}",
                    lambda s, j=job_id, w=running.worker: jobs.release(
                        session=s, job_id=j, worker=w, message="interrupted"
                    ),
                )
            except _Unrecorded as exc:
                self.summary.unrecorded.append(job_id)
                self.summary.halted = self.summary.halted or str(exc)
            del self.active[job_id]
            if running.finish_once(outcome, None):
                self.summary.outcomes.append(outcome)


def run_jobs(
    *,
    station: Station,
    handlers: Mapping[str, Handler],
    observer: Observer,
    workers: int = 1,
    kinds: Iterable[str] | None = None,
    episode_id: int | None = None,
    stop: threading.Event | None = None,
) -> RunSummary:
    """Recover jobs whose worker died, then run queued jobs until none is runnable.

    Args:
        handlers: job kind → handler; only these kinds are claimed.
        workers: how many jobs run at the same time (threads).
        kinds, episode_id: run only these kinds / this episode's jobs.
        stop: set it to stop: running jobs go back to the queue, and the call returns
            within about ``STOP_GRACE`` seconds.
    """
    if workers < 1:
        raise InvalidInput("--workers must be at least 1")
    stop = stop or threading.Event()
    wanted = [k for k in (kinds if kinds is not None else handlers) if k in handlers]
    runner = _Runner(station, handlers, observer, stop)
    with station.session() as session:
        runner.summary.recovered = [j.id for j in jobs.recover_stale(session=session) if j.id]
    try:
        while True:
            while (
                len(runner.active) < workers
                and not stop.is_set()
                and not runner.summary.halted
                and runner.start(kinds=wanted, episode_id=episode_id)
            ):
                pass
            if stop.is_set():
                runner.stop_all()
                return runner.summary
            if not runner.active:
                break
            runner.collect(WAIT_STEP)
    except KeyboardInterrupt:
        stop.set()
        runner.stop_all()
        raise
    runner.summary.outcomes.extend(_waiting(station, wanted, episode_id))
    return runner.summary


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[list[int]]:
    """While inside, SIGINT and SIGTERM set ``stop`` instead of ending the process.

    Yields the list of signals received. Only the main thread can take signals; in
    any other thread this does nothing.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handle(signum: int, frame: object) -> None:
        received.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
