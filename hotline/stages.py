"""The stage contract: what a pipeline stage receives, may raise and is registered as.

A stage is a function ``(StageContext) -> str`` that does one job (master an episode,
transcribe it, publish) and returns the one-line result users see. Whichever engine runs
it (the embedded runner in ``hotline.worker`` today, a procrastinate worker on PostgreSQL
later) gives it a ``StageContext`` and honours the same promises:

- ``ctx.progress(fraction, message)`` reports progress; it raises ``JobAborted`` once the
  job must stop (cancelled, taken over by another worker, the worker shutting down);
- ``ctx.check_cancelled()`` does only the check, for long loops that report nothing, and
  ``check_cancelled()`` does it for code deep inside a stage that has no context at hand;
- ``ctx.save(write)`` records the stage's work in one transaction, waiting while the
  database is away (a server restarting) rather than failing work already done;
- ``ctx.children`` are the job's external processes (``hotline.processes``): each under a
  deadline scaled to its input, all killed the moment the job is stopped;
- a stage that cannot do its work for a reason that is not a failure raises
  ``StageSkipped``: the job ends ``skipped`` with the reason.

Domain packages import this module (and ``hotline.processes``), never the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from hotline.errors import HotlineError

if TYPE_CHECKING:
    from sqlmodel import Session

    from hotline.models import JobKind
    from hotline.processes import ChildProcesses
    from hotline.station import Station


class JobAborted(Exception):
    """The running job must stop now: cancelled, taken over, or its worker is stopping.

    Not a ``HotlineError``: it is not the job's failure, and a stage should let it pass.
    """


class StageSkipped(HotlineError):
    """Raised by a stage that cannot do its work for a reason that is not a failure.

    The job ends ``skipped`` with this message as the reason (a transcription with no
    model on the machine); later stages of the episode go ahead.
    """


_T = TypeVar("_T")


class JobControl(Protocol):
    """What an engine puts behind a ``StageContext``."""

    @property
    def children(self) -> ChildProcesses:
        """The job's external processes."""
        ...

    def report(self, fraction: float, message: str) -> None:
        """Pass progress on (throttled database writes, observers)."""
        ...

    def abort_reason(self) -> str | None:
        """Why the job must stop, or None while it may go on."""
        ...

    def outlast(self, call: Callable[[], _T]) -> _T:
        """``call()`` (which opens its own transactions), tried again while the database
        is away."""
        ...


@dataclass(frozen=True)
class StageContext:
    """What a stage gets: the station, its job, progress, the cancel check, its processes."""

    station: Station
    job_id: int
    kind: str
    episode_id: int | None
    episode_number: int | None
    control: JobControl

    def check_cancelled(self) -> None:
        """Raise ``JobAborted`` if the job must stop; cheap (no database access)."""
        reason = self.control.abort_reason()
        if reason is not None:
            raise JobAborted(f"job {self.job_id}: {reason}")

    def progress(self, fraction: float, message: str = "") -> None:
        """Report ``fraction`` (0–1) done and what is being done; raises ``JobAborted``."""
        self.check_cancelled()
        self.control.report(min(max(float(fraction), 0.0), 1.0), message)
        self.check_cancelled()

    def save(self, write: Callable[[Session], _T]) -> _T:
        """Record the stage's work: ``write`` in one committed transaction. While the
        database is away (its server restarting) the job waits for it and tries again,
        so work already done is not lost; a stopping worker stops waiting."""

        def transaction() -> _T:
            with self.station.session() as session:
                return write(session)

        return self.control.outlast(transaction)

    def outlast(self, call: Callable[[], _T]) -> _T:
        """``call()``, tried again from its start while the database is away (a stopping
        worker stops waiting): for work that is safe to do again, like a whole publish."""
        return self.control.outlast(call)

    @property
    def children(self) -> ChildProcesses:
        return self.control.children


Handler = Callable[[StageContext], str]
"""Runs one job and returns the one-line result shown to users ("master is current")."""

STAGES: dict[str, Handler] = {}
"""Job kind → handler; filled by the composition root (``hotline.pipeline``)."""


def register_stage(kind: JobKind, handler: Handler) -> None:
    """Make ``kind`` jobs runnable (and queued for every ingested episode)."""
    STAGES[kind.value] = handler


_CURRENT: ContextVar[StageContext | None] = ContextVar("hotline_stage", default=None)


def current() -> StageContext | None:
    """The stage running in this thread, if any."""
    return _CURRENT.get()


@contextmanager
def running(ctx: StageContext) -> Iterator[StageContext]:
    """Mark ``ctx`` as the stage running in this thread while the engine runs its handler."""
    token = _CURRENT.set(ctx)
    try:
        yield ctx
    finally:
        _CURRENT.reset(token)


def check_cancelled() -> None:
    """The running stage's cancel check, for code with no context at hand; else a no-op.

    Long computations inside domain code call it between steps (whisper between its
    30-second windows), so a cancelled job stops within one step.
    """
    ctx = _CURRENT.get()
    if ctx is not None:
        ctx.check_cancelled()
