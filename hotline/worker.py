"""The embedded job engine: claim queued jobs from the ``job`` table and run their stages.

It implements the stage contract of ``hotline.stages`` and knows nothing about audio or
transcripts: it gets job kind → handler (``hotline.pipeline.STAGES``) and an observer
(``hotline.runs``; the CLI draws bars, the TUI posts messages). Each job runs on a
thread of its own (``hotline.running``) with short database sessions, so no transaction
stays open while audio is processed. This engine runs the jobs of an embedded (SQLite)
station; on PostgreSQL, ``hotline.engine_pg`` hands them to procrastinate instead.

``run_jobs`` drains the queue and returns (``hotline process``), or with ``daemon`` keeps
serving until stopped (``hotline worker``): it waits for new jobs and, every
``RECOVER_EVERY`` seconds, takes over the jobs of workers that died meanwhile.

A job is stopped, wherever its worker runs, in one of three ways:

- cancelled (``hotline jobs cancel``): the job's heartbeat finds the job no longer its
  own, kills the job's processes and records that it stopped it;
- the worker is told to stop (``stop``: SIGINT or SIGTERM through ``stop_on_signals``,
  the desk closing): every running job's processes are killed and the jobs go back to the
  queue; a stage that does not end within ``STOP_GRACE`` is left behind and its job given
  back by the runner itself, so the worker always exits promptly;
- a process past its time limit (``hotline.processes``) is killed and its job fails.

A job whose end the database cannot take (disk full) is left ``running`` with no more
heartbeats, so the next worker finds its worker gone and takes it over; the run stops
taking jobs and says so (a daemon tries again after ``HALT_PAUSE``). A run that cannot
take even its first job (a read-only station) raises what the database said instead, so
``hotline process`` fails in one line as any other command does.
"""

from __future__ import annotations

import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager

from hotline import jobs, logs
from hotline.errors import InvalidInput
from hotline.models import Job
from hotline.running import (
    RunningJob,
    Unrecorded,
    episode_number,
    record,
    run_one,
    waiting_outcomes,
)
from hotline.runs import JobOutcome, JobView, Observer, RunSummary
from hotline.stages import Handler
from hotline.station import Station

STOP_GRACE = 3.0
"""Seconds a stopping worker waits for its stages to end before it gives their jobs back
to the queue itself."""
WAIT_STEP = 0.2
"""Seconds the runner waits for a job to end before it looks at the stop request again."""
POLL_EVERY = 1.0
"""Seconds a daemon waits before it looks for new jobs again when none was runnable."""
RECOVER_EVERY = 5.0
"""Seconds between two looks of a daemon for jobs whose worker died."""
HALT_PAUSE = 10.0
"""Seconds a daemon waits before it tries again to take jobs after the database refused."""

_Result = tuple[RunningJob, JobOutcome, str]
"""A job's thread to the runner: (the job, its outcome, why its end was not recorded)."""


class _Runner:
    """One ``run_jobs`` call: the jobs it started and what became of them."""

    def __init__(
        self,
        station: Station,
        handlers: Mapping[str, Handler],
        observer: Observer,
        stop: threading.Event,
        *,
        daemon: bool = False,
    ) -> None:
        self.station = station
        self.handlers = handlers
        self.observer = observer
        self.stop = stop
        self.daemon = daemon
        self.summary = RunSummary()
        self.active: dict[int, RunningJob] = {}
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
            number = episode_number(self.station, job.episode_id) if job else None
        except Exception as exc:  # a job claimed but not started is taken over later
            if not self.daemon and not self.active and not self.summary.outcomes:
                # Nothing done yet (a read-only station, say): the command fails as any
                # other does, in one line with the traceback in the log.
                raise
            logs.record_failure(exc, root=self.station.root, context="claiming a job")
            reason = jobs.error_text(getattr(exc, "orig", None) or exc)[0]
            self.summary.halted = f"could not take the next job: {reason}"
            return False
        if job is None:
            return False
        self._launch(job, name, number)
        return True

    def _launch(self, job: Job, name: str, number: int | None) -> None:
        assert job.id is not None
        view = JobView(job.id, job.kind, number, job.attempts)
        running = RunningJob(self.station, view, name, self.observer, self.stop)
        thread = threading.Thread(
            target=run_one,
            args=(running, self.handlers.get(job.kind), job, self._deliver),
            name=f"hotline-job-{job.id}",
            daemon=True,  # a stage that ignores a stop must not keep the process alive
        )
        self.active[job.id] = running
        thread.start()

    def _deliver(self, running: RunningJob, outcome: JobOutcome, unrecorded: str) -> None:
        self.results.put((running, outcome, unrecorded))

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
                record(
                    self.station,
                    f"requeueing job {job_id}",
                    lambda s, j=job_id, w=running.worker: jobs.release(
                        session=s, job_id=j, worker=w, message="interrupted"
                    ),
                )
            except Unrecorded as exc:
                self.summary.unrecorded.append(job_id)
                self.summary.halted = self.summary.halted or str(exc)
            del self.active[job_id]
            if running.finish_once(outcome, None):
                self.summary.outcomes.append(outcome)

    def recover(self, *, at_start: bool) -> list[int]:
        """Queue again the jobs whose worker died; their ids (none when the database refused).

        At the start no job of this process runs yet, so a job naming this process's pid
        belongs to a dead process whose pid was reused; later, this process's jobs are alive.
        """
        try:
            with self.station.session() as session:
                found = jobs.recover_stale(session=session, ours_is_dead=at_start)
        except Exception as exc:  # the next look tries again
            logs.record_failure(exc, root=self.station.root, context="recovering jobs")
            return []
        recovered = [job.id for job in found if job.id is not None]
        self.summary.recovered.extend(recovered)
        return recovered


def run_jobs(
    *,
    station: Station,
    handlers: Mapping[str, Handler],
    observer: Observer,
    workers: int = 1,
    kinds: Iterable[str] | None = None,
    episode_id: int | None = None,
    stop: threading.Event | None = None,
    daemon: bool = False,
    announce: Callable[[str], None] | None = None,
) -> RunSummary:
    """Recover jobs whose worker died, then run queued jobs until none is runnable.

    Args:
        handlers: job kind → handler; only these kinds are claimed.
        workers: how many jobs run at the same time (threads).
        kinds, episode_id: run only these kinds / this episode's jobs.
        stop: set it to stop: running jobs go back to the queue, and the call returns
            within about ``STOP_GRACE`` seconds.
        daemon: keep serving until ``stop`` is set: wait for new jobs, and take over the
            jobs of workers that die meanwhile.
        announce: told, in one line, what a daemon does beside running jobs (jobs taken
            over, the database refusing).
    """
    if workers < 1:
        raise InvalidInput("--workers must be at least 1")
    stop = stop or threading.Event()
    say = announce or (lambda line: None)
    wanted = [k for k in (kinds if kinds is not None else handlers) if k in handlers]
    runner = _Runner(station, handlers, observer, stop, daemon=daemon)
    with station.session() as session:
        runner.summary.recovered = [j.id for j in jobs.recover_stale(session=session) if j.id]
    for job_id in runner.summary.recovered:
        say(f"job {job_id}: its worker died; queued again")
    next_look = next_recovery = time.monotonic()
    try:
        while True:
            now = time.monotonic()
            if daemon and now >= next_recovery:
                next_recovery = now + RECOVER_EVERY
                for job_id in runner.recover(at_start=False):
                    say(f"job {job_id}: its worker died; queued again")
            if daemon and runner.summary.halted and now >= next_look:
                say(f"stopped taking jobs for {HALT_PAUSE:g} s: {runner.summary.halted}")
                runner.summary.halted = ""
                next_look = now + HALT_PAUSE
            while (
                len(runner.active) < workers
                and now >= next_look
                and not stop.is_set()
                and not runner.summary.halted
            ):
                if not runner.start(kinds=wanted, episode_id=episode_id):
                    next_look = now + POLL_EVERY  # a daemon looks again later
                    break
            if stop.is_set():
                runner.stop_all()
                return runner.summary
            if not runner.active and not daemon:
                break
            if runner.collect(WAIT_STEP):
                next_look = min(next_look, time.monotonic())  # a slot is free: look now
    except KeyboardInterrupt:
        stop.set()
        runner.stop_all()
        raise
    runner.summary.outcomes.extend(waiting_outcomes(station, wanted, episode_id))
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
