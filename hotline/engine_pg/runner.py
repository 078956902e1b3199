"""A procrastinate worker for a PostgreSQL station: serving until stopped, or draining the queue.

``serve`` runs procrastinate's ``Worker`` on an event loop of its own thread, so the
calling thread stays free to watch the stop request (signals, the desk closing) and to do
the upkeep (``hotline.engine_pg.upkeep``) every few seconds. Each ticket the engine hands
over runs its row through ``hotline.running`` exactly as the embedded runner would: the
same heartbeats on the ``job`` row, the same progress for observers, the same ways to
stop. What the engine adds: it picks the ticket up the moment it is deferred
(LISTEN/NOTIFY), serialises one episode's stages (its ``lock``), notices dead workers by
their heartbeats, and carries a cancel to the worker at once (its abort).

``burst`` drains: the worker stops once no ticket is left for it, and ``serve`` starts it
again while the last pass ran something (a finished stage makes the episode's next one
runnable). Stopping (``stop`` set) kills the running jobs' processes and gives their
rows back to the queue; the engine retries their tickets in place. A stage that ignores
the stop for ``STOP_GRACE`` seconds is left behind and its job given back by ``serve``
itself, so the worker always ends promptly.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from procrastinate.exceptions import JobAborted as TicketAborted
from procrastinate.worker import Worker

from hotline import jobs, logs
from hotline.engine_pg import tickets
from hotline.engine_pg.app import (
    RUNNER_KEY,
    Interrupted,
    StageFailed,
    make_app,
    quiet_engine_logs,
)
from hotline.engine_pg.upkeep import (
    HEARTBEAT_EVERY,
    STALLED_AFTER,
    UPKEEP_EVERY,
    Round,
    upkeep,
)
from hotline.errors import InvalidInput
from hotline.failures import database_gone, explain
from hotline.models import Job, JobStatus
from hotline.running import RunningJob, Unrecorded, episode_number, release, run_one
from hotline.running import waiting_outcomes as waiting
from hotline.runs import JobOutcome, JobView, Observer, RunSummary
from hotline.stages import Handler
from hotline.station import Station

STOP_GRACE = 3.0
"""Seconds a stopping worker waits for its stages to end before it gives their jobs back
to the queue itself."""
WAIT_STEP = 0.2
"""Seconds between two looks of the calling thread at the stop request."""
FETCH_EVERY = 1.0
"""Seconds between two looks at the queue beside LISTEN/NOTIFY (a ticket retried after
its worker died is not announced)."""
ABORT_POLL_EVERY = 2.0
"""Seconds between two looks for aborted tickets beside LISTEN/NOTIFY."""
RESTART_PAUSE = 5.0
"""Seconds a serving worker waits before it starts the engine again after it ended."""


class _Tickets:
    """The ``TicketRunner`` of one ``serve`` call: the jobs it runs and what became of them."""

    def __init__(
        self,
        station: Station,
        handlers: Mapping[str, Handler],
        observer: Observer,
        stop: threading.Event,
        episode_id: int | None,
    ) -> None:
        self.station = station
        self.handlers = handlers
        self.observer = observer
        self.stop = stop
        self.episode_id = episode_id
        self.summary = RunSummary()
        self.lock = threading.Lock()
        self.active: dict[int, tuple[RunningJob, int]] = {}
        """Row id → (the running job, its ticket id)."""
        self.slots = itertools.count(1)
        self.handled = 0
        """Tickets taken and not given back, over all passes."""
        self.leave = threading.Event()
        """Set when the run wants no more tickets (another episode's came up)."""
        self.engine: Worker | None = None

    def running(self) -> list[int]:
        """The rows this worker runs now."""
        with self.lock:
            return list(self.active)

    # ------------------------------------------------------------ one ticket (engine thread)

    def run_ticket(self, job_id: int, *, ticket_id: int, should_abort: Callable[[], bool]) -> str:
        if self.stop.is_set() or self.leave.is_set():
            raise Interrupted(f"job {job_id}: the worker is stopping")
        name = jobs.worker_name(str(next(self.slots)))
        job = self._claim(job_id, name)
        if job is None:
            with self.lock:
                self.handled += 1
            return f"job {job_id} is not waiting to run here"
        assert job.id is not None
        view = JobView(job.id, job.kind, episode_number(self.station, job.episode_id), job.attempts)
        running = RunningJob(
            self.station, view, name, self.observer, self.stop, engine_abort=should_abort
        )
        with self.lock:
            self.handled += 1
            self.active[job.id] = (running, ticket_id)
        ended: list[JobOutcome] = []
        run_one(running, self.handlers.get(job.kind), job, self._deliver(ended))
        self._next_stages(job)
        outcome = ended[0] if ended else running.outcome("requeued", "given back by the worker")
        if outcome.status == "requeued":
            raise Interrupted(outcome.message)
        if outcome.status == "cancelled":
            raise TicketAborted(outcome.message)
        if outcome.status == "failed":
            raise StageFailed(outcome.message)
        return outcome.message

    def _claim(self, job_id: int, name: str) -> Job | None:
        """The ticket's row, claimed for this worker; None when it is not to run now."""
        with self.station.session() as session:
            job = session.get(Job, job_id)
            if job is None or job.status != JobStatus.queued:
                return None
            if self.episode_id is not None and job.episode_id != self.episode_id:
                # This run serves one episode, whose tickets come first: none is left.
                self.leave.set()
                if self.engine is not None:
                    self.engine.stop()
                raise Interrupted(f"job {job_id} belongs to another episode")
            if jobs.blocker(session, job) is not None:
                return None  # the next stage's end gives it a ticket again
        with self.station.session() as session:
            if jobs.try_claim(session=session, job_id=job_id, worker=name):
                return jobs.get_job(session, job_id)
        return None

    def _deliver(self, ended: list[JobOutcome]) -> Callable[[RunningJob, JobOutcome, str], None]:
        def deliver(running: RunningJob, outcome: JobOutcome, unrecorded: str) -> None:
            ended.append(outcome)
            with self.lock:
                if self.active.pop(running.view.job_id, None) is None:
                    return  # given back by ``give_back_stuck`` already
                self.summary.outcomes.append(outcome)
                if unrecorded:
                    self.summary.unrecorded.append(outcome.job_id)
                    self.summary.halted = self.summary.halted or unrecorded

        return deliver

    def _next_stages(self, job: Job) -> None:
        """Tickets for the episode's stages that this one's end made runnable."""
        try:
            with self.station.session() as session:
                tickets.ensure(session, episode_id=job.episode_id)
        except Exception as exc:  # the upkeep's next round does it instead
            logs.record_failure(exc, root=self.station.root, context="queueing the next stage")

    # ------------------------------------------------------------ stopping (calling thread)

    def stop_all(self, ended: threading.Event) -> None:
        """Kill the running jobs' processes, stop the engine, give back what did not end."""
        self.summary.interrupted = True
        with self.lock:
            running_now = [running for running, _ in self.active.values()]
        for running in running_now:
            running.children.kill_all(f"job {running.view.job_id}: the worker is stopping")
        # The engine waits STOP_GRACE for its jobs itself, then aborts them and unregisters.
        # Asked again until it ends: a worker still starting forgets a stop asked before.
        deadline = time.monotonic() + STOP_GRACE + 2.0
        while not ended.wait(WAIT_STEP) and time.monotonic() < deadline:
            if self.engine is not None:
                self.engine.stop()
        with self.lock:
            stuck = list(self.active.items())
            self.active.clear()
        for job_id, (running, ticket_id) in stuck:
            outcome = running.outcome("requeued", "interrupted; its stage did not stop in time")
            try:
                release(running, "interrupted")
                with self.station.session() as session:
                    tickets.retry(session, ticket_id)
            except (Unrecorded, Exception) as exc:
                logs.record_failure(exc, root=self.station.root, context=f"job {job_id}")
                self.summary.unrecorded.append(job_id)
            if running.finish_once(outcome, None):
                self.summary.outcomes.append(outcome)

    # ------------------------------------------------------------ the engine

    def run_engine(
        self,
        *,
        queues: list[str],
        concurrency: int,
        wait: bool,
        between: Callable[[], None],
    ) -> None:
        """Run procrastinate's worker on its own thread until it ends (or ``stop``)."""
        app = make_app(self.station, pool_size=concurrency + 2)
        ended = threading.Event()
        crash: list[BaseException] = []
        name = f"hotline {socket.gethostname()}"

        async def main() -> None:
            # Stages are synchronous: each runs on a thread of this pool.
            asyncio.get_running_loop().set_default_executor(_DaemonThreads("hotline-job"))
            async with app.open_async():
                self.engine = Worker(
                    app=app,
                    queues=queues,
                    name=name,
                    concurrency=concurrency,
                    wait=wait,
                    fetch_job_polling_interval=FETCH_EVERY,
                    abort_job_polling_interval=ABORT_POLL_EVERY,
                    shutdown_graceful_timeout=STOP_GRACE,
                    listen_notify=True,
                    delete_jobs="successful",
                    additional_context={RUNNER_KEY: self},
                    install_signal_handlers=False,  # the calling thread owns the signals
                    update_heartbeat_interval=HEARTBEAT_EVERY,
                    stalled_worker_timeout=STALLED_AFTER,
                )
                await self.engine.run()

        def loop() -> None:
            try:
                asyncio.run(main())
            except BaseException as exc:  # reported by the calling thread
                crash.append(exc)
            finally:
                ended.set()

        thread = threading.Thread(target=loop, name="hotline-engine", daemon=True)
        thread.start()
        while not ended.wait(WAIT_STEP):
            if self.stop.is_set():
                self.stop_all(ended)
                return
            between()
        self.engine = None
        if crash:
            exc = crash[0]
            logs.record_failure(exc, root=self.station.root, context="running the job engine")
            reason = jobs.error_text(getattr(exc, "__cause__", None) or exc)[0]
            self.summary.halted = f"the job engine stopped: {reason}"


_T = TypeVar("_T")


class _DaemonThreads(ThreadPoolExecutor):
    """Each call on a daemon thread of its own. A ThreadPoolExecutor's own threads are
    joined when the process exits: a stage that does not stop when told (a long model
    call) kept a stopped worker alive until it ended, though its job was already given
    back. (asyncio takes only a ThreadPoolExecutor as its default executor; none of the
    pool's threads is ever started.)"""

    def __init__(self, name: str) -> None:
        super().__init__(max_workers=1, thread_name_prefix=name)
        self.name = name
        self.count = itertools.count(1)

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        future: Future[_T] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to whoever awaits the future
                future.set_exception(exc)
            else:
                future.set_result(result)

        name = f"{self.name}_{next(self.count)}"
        threading.Thread(target=run, name=name, daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to wait for: a call still running ends with the process."""


def serve(
    *,
    station: Station,
    handlers: Mapping[str, Handler],
    observer: Observer,
    queues: list[str],
    concurrency: int = 1,
    stop: threading.Event | None = None,
    burst: bool = False,
    episode_id: int | None = None,
    announce: Callable[[str], None] | None = None,
    check: Callable[[], None] | None = None,
) -> RunSummary:
    """Run the station's jobs of ``queues`` with procrastinate.

    Args:
        handlers: job kind → handler.
        queues: the job kinds this worker takes.
        concurrency: how many jobs run at the same time.
        stop: set it to stop: running jobs go back to the queue, and the call returns
            within a few seconds.
        burst: drain the queue and return (``hotline process``) instead of serving until
            ``stop`` (``hotline worker``).
        episode_id: run only this episode's jobs (with ``burst``).
        announce: told, in one line, what the worker does beside running jobs.
        check: run first, once the database answers (a worker started while it is away
            waits for it, saying so once): the station's own checks of its database.
    """
    if concurrency < 1:
        raise InvalidInput("--concurrency must be at least 1")
    stop = stop or threading.Event()
    say = announce or (lambda line: None)
    quiet_engine_logs(station)
    runner = _Tickets(station, handlers, observer, stop, episode_id)
    keeper = _Upkeep(station, say, runner.running)
    if check is not None and not keeper.wait_for(check, stop):
        return runner.summary  # stopped before the database answered
    # A drain is one command: a database gone at its start fails it, in one line. A worker
    # serving until stopped rides it out, saying so.
    runner.summary.recovered = keeper.round(ride_out=not burst)
    if episode_id is not None:
        with station.session() as session:
            tickets.prioritise(session, episode_id)
    if burst:
        while not stop.is_set():
            before = runner.handled
            runner.leave.clear()
            runner.run_engine(
                queues=queues, concurrency=concurrency, wait=False, between=lambda: None
            )
            if runner.handled == before or runner.summary.halted:
                break
        if not runner.summary.interrupted:
            runner.summary.outcomes.extend(waiting(station, queues, episode_id))
        return runner.summary

    next_round = time.monotonic() + UPKEEP_EVERY

    def between() -> None:
        nonlocal next_round
        if time.monotonic() >= next_round:
            next_round = time.monotonic() + UPKEEP_EVERY
            keeper.round(ride_out=True)

    said = ""  # why the engine last ended, as said: a restart failing again is not news
    while True:
        started = time.monotonic()
        runner.run_engine(queues=queues, concurrency=concurrency, wait=True, between=between)
        if stop.is_set():
            return runner.summary
        # The engine ended by itself (the database went away): a worker serves until stopped.
        why = runner.summary.halted or "the job engine stopped"
        if why != said or time.monotonic() - started > 2 * RESTART_PAUSE:
            said = why
            say(f"{why}; starting again in {RESTART_PAUSE:g} s (the station's log has the details)")
        runner.summary.halted = ""
        stop.wait(RESTART_PAUSE)


class _Upkeep:
    """A worker's rounds of upkeep, and what it says of them: the dead workers' jobs queued
    again, and once (not every round) that the database is gone, then that it is back."""

    def __init__(
        self, station: Station, say: Callable[[str], None], ours: Callable[[], list[int]]
    ) -> None:
        self.station = station
        self.say = say
        self.ours = ours
        """The rows this worker runs: alive, however old their heartbeats."""
        self.said = ""
        """What was said of the database gone; "" while it answers."""
        self.back_at = -math.inf
        """When (``time.monotonic()``) the database last answered again after it was away."""

    def wait_for(self, call: Callable[[], None], stop: threading.Event) -> bool:
        """``call()`` once the database answers; False when ``stop`` came first. Any
        failure other than the database being away is raised."""
        while True:
            try:
                call()
            except Exception as exc:
                if not database_gone(exc):
                    raise
                self._gone(exc)
                if stop.wait(UPKEEP_EVERY):
                    return False
                continue
            self._back()
            return True

    def _gone(self, exc: BaseException) -> None:
        # Tried again later; the station's log keeps each failure.
        logs.record_failure(exc, root=self.station.root, context="job engine upkeep")
        line = f"{_unreachable(self.station, exc)}; jobs wait until it answers"
        if line != self.said:
            self.said = line
            self.say(f"{line} (details in the station's log)")

    def _back(self) -> None:
        if self.said:
            self.said = ""
            self.back_at = time.monotonic()
            self.say("the database answers again; taking jobs")

    def round(self, *, ride_out: bool) -> list[int]:
        """One round; the jobs it queued again. ``ride_out``: a failure is said, not raised."""
        try:
            # Gone until now: this round is the first to find it answering.
            answering = 0.0 if self.said else time.monotonic() - self.back_at
            done: Round = upkeep(self.station, ours=self.ours(), answering_for=answering)
        except Exception as exc:
            if not ride_out:
                raise
            self._gone(exc)  # the next round tries again
            return []
        self._back()
        for job_id in done.recovered:
            self.say(f"job {job_id}: its worker died; queued again")
        return done.recovered


def _unreachable(station: Station, exc: BaseException) -> str:
    """One line on why the database did not answer ``exc``."""
    failure = explain(exc, station.where)
    return failure.line if failure is not None else jobs.error_text(exc)[0]
