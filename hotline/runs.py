"""What a job engine reports while it runs jobs: the observer protocol and a run's summary.

The CLI draws progress bars from these events and the TUI posts them as messages; neither
needs to know which engine runs the jobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

OUTCOMES = ("done", "skipped", "failed", "cancelled", "requeued", "waiting")
"""How a job can end in a run, in the order summaries list them. ``requeued``: given back
to the queue (the worker stopped); ``waiting``: not run, an earlier stage is not done."""


@dataclass(frozen=True)
class JobView:
    """A claimed job as observers see it."""

    job_id: int
    kind: str
    episode_number: int | None
    attempt: int


@dataclass(frozen=True)
class JobOutcome:
    """How one job ended in this run."""

    job_id: int
    kind: str
    episode_number: int | None
    status: str
    """One of ``OUTCOMES``."""
    seconds: float
    message: str


@dataclass
class RunSummary:
    """Everything one run did."""

    outcomes: list[JobOutcome] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)
    """Jobs found running under a dead worker and queued again (or failed) before the run."""
    unrecorded: list[int] = field(default_factory=list)
    """Jobs whose end could not be written to the database (disk full, say): they stay
    ``running`` until the next worker finds their worker gone and takes them over."""
    halted: str = ""
    """Why the run stopped taking jobs before the queue was empty ("" when it did not): the
    database's complaint."""
    interrupted: bool = False
    """The run was stopped (Ctrl-C, SIGTERM, the desk closing); running jobs were requeued."""

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> bool:
        return self.count("failed") > 0 or bool(self.unrecorded or self.halted)


class Observer(Protocol):
    """Receives what happens to jobs; called from worker threads, so keep it thread-safe."""

    def started(self, job: JobView) -> None: ...

    def progress(self, job: JobView, fraction: float, message: str) -> None: ...

    def finished(self, outcome: JobOutcome) -> None: ...
