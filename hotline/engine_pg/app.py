"""The procrastinate app of a PostgreSQL station, and the one task that runs a ticket's row.

The task does not know about stages: it hands the ticket's row to the worker that fetched
it (``TicketRunner``, in the job context) and turns how the row ended into how the
ticket ends, so procrastinate's own view agrees with the ``job`` table:

- done or skipped: the ticket succeeds;
- failed: the ticket fails (``StageFailed``; the row holds the error);
- cancelled: the ticket is aborted (procrastinate's ``JobAborted``);
- given back because the worker stops (``Interrupted``): procrastinate retries the ticket,
  keeping its place among the episode's tickets, and another worker takes it.

procrastinate and psycopg's connection pool log through the standard ``logging`` module;
their warnings and errors go to the station's log (``hotline.logs``), never to the
terminal a user reads (a worker says in one line when the database is lost and back).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy
from procrastinate.job_context import AbortReason

from hotline import logs
from hotline.engine_pg.tickets import TASK_NAME
from hotline.station import Station

if TYPE_CHECKING:
    from collections.abc import Callable


class Interrupted(Exception):
    """The worker is stopping (or the run wants other jobs): the ticket goes back to the queue."""


class StageFailed(Exception):
    """The row's stage failed; the row holds the error."""


class TicketRunner(Protocol):
    """Runs the row a ticket names on this worker (``hotline.engine_pg.runner``)."""

    def run_ticket(
        self, job_id: int, *, ticket_id: int, should_abort: Callable[[], bool]
    ) -> str: ...


RUNNER_KEY = "hotline_runner"
"""Where the worker's ``TicketRunner`` sits in procrastinate's job context."""


def run_job(context: JobContext, job_id: int) -> str:
    """The task of every ticket: run the row ``job_id`` on the worker that fetched it."""
    runner: TicketRunner = context.additional_context[RUNNER_KEY]
    assert context.job.id is not None
    return runner.run_ticket(
        job_id,
        ticket_id=context.job.id,
        should_abort=lambda: context.abort_reason() == AbortReason.USER_REQUEST,
    )


def conninfo(station: Station) -> str:
    """libpq connection parameters for the station's database (its SQLAlchemy URL)."""
    from psycopg.conninfo import make_conninfo

    url: sa.URL = station.engine.url
    params: dict[str, Any] = {
        key: value
        for key, value in url.translate_connect_args(username="user", database="dbname").items()
        if value not in (None, "")
    }
    params.update({key: value for key, value in url.query.items() if isinstance(value, str)})
    return make_conninfo(**{key: str(value) for key, value in params.items()})


class _StationLog(logging.Handler):
    """procrastinate's warnings and errors, appended to the station's log."""

    def __init__(self, root: Any) -> None:
        super().__init__(level=logging.WARNING)
        self.root = root

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, StageFailed):
            return  # the stage's failure is the job's, and its row holds the error
        if error is None:
            error = RuntimeError(record.getMessage())
        logs.record_failure(error, root=self.root, context=f"job engine: {record.getMessage()}")


ENGINE_LOGGERS = ("procrastinate", "psycopg")
"""The job engine's loggers, and its connection pool's (``psycopg.pool``), which warns
of every failed reconnection while the server is down."""


def quiet_engine_logs(station: Station) -> None:
    """Send the job engine's log to the station's log instead of stderr."""
    for name in ENGINE_LOGGERS:
        engine_log = logging.getLogger(name)
        for handler in list(engine_log.handlers):
            if isinstance(handler, _StationLog):
                engine_log.removeHandler(handler)
        engine_log.addHandler(_StationLog(station.root))
        engine_log.setLevel(logging.WARNING)
        engine_log.propagate = False


def make_app(station: Station, *, pool_size: int) -> App:
    """The procrastinate app for the station's database, with the ``run_job`` task."""
    connector = PsycopgConnector(
        conninfo=conninfo(station),
        min_size=1,
        max_size=max(2, pool_size),
    )
    app = App(connector=connector)
    app.task(
        name=TASK_NAME,
        pass_context=True,
        # Only a ticket given back is retried; a failed stage is retried by a person.
        retry=RetryStrategy(retry_exceptions={Interrupted}),
    )(run_job)
    return app
