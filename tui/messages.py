"""Messages that carry results from workers back to the UI thread (small dataclasses).

Database work runs in thread workers; they never touch widgets, they post one of these
and the widget that handles it updates the screen on the UI thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from textual.message import Message

TableRow = tuple[str, Sequence[Any]]
"""One table row: its key (an id as text) and its cells."""


@dataclass
class PageLoaded(Message):
    """A page of rows for a ``PagedTable``, or the reason it could not be read."""

    generation: int
    offset: int
    rows: list[TableRow]
    total: int
    select: str | None = None
    replace: bool = False
    error: str = ""


@dataclass
class ChangeDone(Message):
    """A domain change committed; ``text`` says what it did (shown in the status bar)."""

    text: str
    select: str | None = None
    """The row key to put the cursor on after the reload, if any."""
    change: Any = None
    """The ``tui.changes.Change`` that was run (its form closes now)."""


@dataclass
class ChangeRefused(Message):
    """A change (or a read) refused or failed; ``text`` is the one line the desk shows."""

    text: str
    error: BaseException | None = None
    """The domain error (or the unexpected exception, already logged)."""
    change: Any = None
    """The ``tui.changes.Change`` refused: its form stays open; a confirmation repeats it."""


@dataclass
class StationChanged(Message):
    """Someone (another desk, a worker, this desk) committed a change to the station.

    ``tables`` names the changed tables; empty when the database cannot say (SQLite):
    then every tab may be out of date.
    """

    tables: frozenset[str] = frozenset()


@dataclass
class FollowFailed(Message):
    """The desk could not watch the station for changes (it tries again meanwhile)."""

    error: BaseException


class FollowRecovered(Message):
    """The desk watches the station again after a failure (the database answers again)."""


@dataclass
class DetailLoaded(Message):
    """Text for a pane's detail panel, read in a worker."""

    key: str
    lines: list[str] = field(default_factory=list)
    rows: list[TableRow] = field(default_factory=list)


# --- the 制作 tab: what the pipeline runner's observer reports from its threads ------------


@dataclass
class JobStarted(Message):
    """A pipeline job was claimed and started."""

    job_id: int
    label: str


@dataclass
class JobProgress(Message):
    """A running job's progress, 0–1, and what it is doing."""

    job_id: int
    fraction: float
    text: str


@dataclass
class JobFinished(Message):
    """A job ended in this run: done, skipped, failed, cancelled, requeued or waiting."""

    job_id: int
    status: str
    text: str


@dataclass
class RunEnded(Message):
    """The runner found nothing more to run (or stopped); ``text`` sums up the run."""

    text: str
    error: bool = False


# --- the 检索 and 发布 tabs -----------------------------------------------------------------


@dataclass
class SearchDone(Message):
    """Results of one search; ``generation`` drops answers to queries typed over since."""

    generation: int
    result: Any = None
    error: str = ""


@dataclass
class FeedsChecked(Message):
    """Each platform's feed with its problems (``feeds.status.FeedFile``), or why not."""

    asked: int
    """Which of the tab's pieces of work this is the outcome of."""
    feeds: list[Any] = field(default_factory=list)
    text: str = ""
    error: bool = False
    quiet: bool = False
    """A re-read for a change made elsewhere: nothing said unless it failed."""
    report: Any = None
    """The publish this check followed (``feeds.publish.PublishReport``), if one."""
