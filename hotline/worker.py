"""Running queued jobs: claim, run the stage handler with progress and heartbeats, record.

The runner knows nothing about audio or transcripts: it gets a mapping from job
kind to handler (``hotline.pipeline.STAGES``) and an observer that shows progress
(the CLI draws bars, the TUI posts messages). Jobs are claimed in the calling
thread and run on up to ``workers`` threads; each job uses its own short database
sessions, so no transaction stays open while audio is being processed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Protocol

from hotline import jobs
from hotline.errors import HotlineError, InvalidInput
from hotline.models import Episode, Job
from hotline.station import Station

# How often the database hears from a running job at most (progress) and at least
# (heartbeat, even when the handler is quiet for a while).
PROGRESS_EVERY = 0.5
HEARTBEAT_EVERY = 5.0

Progress = Callable[[float, str], None]


class JobAborted(Exception):
    """Raised inside a handler's progress callback when the job was cancelled or lost."""


@dataclass(frozen=True)
class StageContext:
    """What a stage handler gets: the station, the job and a progress callback."""

    station: Station
    job_id: int
    kind: str
    episode_id: int | None
    episode_number: int | None
    progress: Progress


Handler = Callable[[StageContext], str]
"""Runs one job and returns the one-line result shown to users ("master is current")."""


@dataclass(frozen=True)
class JobOutcome:
    """How one job ended in this run."""

    job_id: int
    kind: str
    episode_number: int | None
    status: str  # done, failed, cancelled, requeued or skipped
    seconds: float
    message: str


@dataclass
class RunSummary:
    outcomes: list[JobOutcome] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> bool:
        return self.count("failed") > 0


class Observer(Protocol):
    """Receives what happens to jobs; called from worker threads, so keep it thread-safe."""

    def started(self, job: JobView) -> None: ...

    def progress(self, job: JobView, fraction: float, message: str) -> None: ...

    def finished(self, outcome: JobOutcome) -> None: ...


@dataclass(frozen=True)
class JobView:
    """A claimed job as observers see it."""

    job_id: int
    kind: str
    episode_number: int | None
    attempt: int


class _Beat:
    """The progress callback of one running job: throttled writes, heartbeats, abort."""

    def __init__(
        self,
        station: Station,
        view: JobView,
        worker: str,
        observer: Observer,
        stop: threading.Event,
    ) -> None:
        self.station = station
        self.stop = stop
        self.view = view
        self.worker = worker
        self.observer = observer
        self.lock = threading.Lock()
        self.last_write = 0.0
        self.fraction = 0.0
        self.message = ""
        self.lost = threading.Event()

    def write(self, *, force: bool = False) -> None:
        with self.lock:
            now = time.monotonic()
            if not force and now - self.last_write < PROGRESS_EVERY:
                return
            self.last_write = now
            with self.station.session() as session:
                mine = jobs.heartbeat(
                    session=session,
                    job_id=self.view.job_id,
                    worker=self.worker,
                    progress=self.fraction,
                    message=self.message or None,
                )
            if not mine:
                self.lost.set()

    def __call__(self, fraction: float, message: str = "") -> None:
        if self.lost.is_set() or self.stop.is_set():
            raise JobAborted(f"job {self.view.job_id} was cancelled or taken over")
        self.fraction = min(max(float(fraction), 0.0), 1.0)
        self.message = message or self.message
        self.observer.progress(self.view, self.fraction, self.message)
        self.write(force=self.fraction >= 1.0)
        if self.lost.is_set() or self.stop.is_set():
            raise JobAborted(f"job {self.view.job_id} was cancelled or taken over")


def _episode_number(station: Station, episode_id: int | None) -> int | None:
    if episode_id is None:
        return None
    with station.session(write=False) as session:  # also called inside a write session
        episode = session.get(Episode, episode_id)
        return episode.number if episode else None


def _run_one(
    station: Station,
    handlers: Mapping[str, Handler],
    job: Job,
    worker: str,
    observer: Observer,
    stop: threading.Event,
) -> JobOutcome:
    assert job.id is not None
    view = JobView(job.id, job.kind, _episode_number(station, job.episode_id), job.attempts)
    beat = _Beat(station, view, worker, observer, stop)
    observer.started(view)
    started = time.monotonic()

    def outcome(status: str, message: str) -> JobOutcome:
        result = JobOutcome(
            view.job_id, view.kind, view.episode_number, status, time.monotonic() - started, message
        )
        observer.finished(result)
        return result

    # Beat in the background so a handler that is quiet for a while is not taken
    # for dead; a stop request (Ctrl-C) also reaches the handler through the beat.
    done = threading.Event()

    def pulse() -> None:
        while not done.wait(HEARTBEAT_EVERY):
            beat.write(force=True)

    pulser = threading.Thread(target=pulse, name=f"heartbeat-{job.id}", daemon=True)
    pulser.start()
    context = StageContext(
        station=station,
        job_id=view.job_id,
        kind=view.kind,
        episode_id=job.episode_id,
        episode_number=view.episode_number,
        progress=beat,
    )
    try:
        handler = handlers.get(job.kind)
        if handler is None:
            raise HotlineError(f"no handler for {job.kind} jobs in this version")
        message = handler(context) or "done"
    except JobAborted:
        done.set()
        if stop.is_set():
            with station.session() as session:
                jobs.release(
                    session=session, job_id=view.job_id, worker=worker, message="interrupted"
                )
            return outcome("requeued", "interrupted; queued again")
        return outcome("cancelled", "cancelled while running")
    except Exception as exc:  # a handler's failure is the job's, never the runner's
        done.set()
        with station.session() as session:
            jobs.fail(session=session, job_id=view.job_id, worker=worker, error=exc)
        line, _ = jobs.error_text(exc)
        return outcome("failed", line)
    finally:
        done.set()
        pulser.join()
    with station.session() as session:
        mine = jobs.finish(session=session, job_id=view.job_id, worker=worker, message=message)
    if not mine:
        return outcome("cancelled", "finished, but the job had been cancelled meanwhile")
    return outcome("done", message)


def _skipped(station: Station, kinds: list[str] | None, episode_id: int | None) -> list[JobOutcome]:
    """Queued jobs left behind because an earlier stage of their episode is not done."""
    skipped = []
    with station.session() as session:
        for job in jobs.waiting_jobs(session=session, kinds=kinds, episode_id=episode_id):
            assert job.id is not None
            before = jobs.blocker(session, job)
            if before is None:
                continue
            number = _episode_number(station, job.episode_id)
            reason = f"waiting for {before.kind} job {before.id} ({before.status})"
            skipped.append(JobOutcome(job.id, job.kind, number, "skipped", 0.0, reason))
    return skipped


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
        stop: set it to stop early; running jobs go back to the queue.
    """
    if workers < 1:
        raise InvalidInput("--workers must be at least 1")
    stop = stop or threading.Event()
    wanted = [k for k in (kinds if kinds is not None else handlers) if k in handlers]
    summary = RunSummary()
    with station.session() as session:
        summary.recovered = [j.id for j in jobs.recover_stale(session=session) if j.id]
    active: dict[Future[JobOutcome], int] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hotline-job") as pool:
        try:
            slot = 0
            while True:
                while len(active) < workers and not stop.is_set():
                    slot += 1
                    name = jobs.worker_name(str(slot))
                    job = jobs.claim_next(
                        station.session, worker=name, kinds=wanted, episode_id=episode_id
                    )
                    if job is None:
                        break
                    future = pool.submit(_run_one, station, handlers, job, name, observer, stop)
                    active[future] = job.id or 0
                if not active:
                    break
                finished, _ = wait(active, return_when=FIRST_COMPLETED)
                for future in finished:
                    active.pop(future)
                    summary.outcomes.append(future.result())
        except KeyboardInterrupt:
            stop.set()
            for future in active:
                summary.outcomes.append(future.result())
            raise
    summary.outcomes.extend(_skipped(station, wanted, episode_id))
    return summary
