"""The pipeline's composition root: which stages exist, queueing them, running them.

Jobs run on the station's engine: the embedded runner (``hotline.worker``) on SQLite,
procrastinate (``hotline.engine_pg``, imported only there) on PostgreSQL.

``STAGES`` (``hotline.stages``) maps a job kind to the handler that runs it; a stage
with no handler is simply not queued. Adding a stage is one line at the bottom of
this module::

    register_stage(JobKind.transcribe, transcribe_stage)

Heavy modules (audio, tags) are imported inside the handlers, so importing this
package stays cheap for the CLI and the TUI.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from episodes.lookup import get_episode
from feeds.stage import publish_stage
from hotline import db, jobs
from hotline.models import JobKind
from hotline.pipeline.ingest import IngestResult, ingest
from hotline.pipeline.master import master_stage, master_tags
from hotline.pipeline.registry import queue_pipeline
from hotline.pipeline.transcribe import transcribe_stage
from hotline.runs import Observer, RunSummary
from hotline.stages import STAGES, register_stage
from hotline.station import Station
from hotline.worker import run_jobs

__all__ = [
    "STAGES",
    "IngestResult",
    "ingest",
    "master_stage",
    "master_tags",
    "process",
    "queue_pipeline",
    "work",
    "register_stage",
]


def _on_postgresql(station: Station) -> bool:
    """On a PostgreSQL station procrastinate runs the jobs (``hotline.engine_pg``)."""
    return not db.is_sqlite(station.engine)


def process(
    *,
    station: Station,
    observer: Observer,
    workers: int = 1,
    kind: str | None = None,
    episode: int | None = None,
    stop: threading.Event | None = None,
) -> RunSummary:
    """Run the queued jobs (of one kind / one episode) with the registered handlers.

    On PostgreSQL this is a procrastinate worker in burst mode: it drains the queue and
    returns. Setting ``stop`` gives the running jobs back to the queue and returns promptly.
    """
    kinds = [jobs.check_kind(kind).value] if kind else None
    episode_id = None
    if episode is not None:
        with station.session() as session:
            episode_id = get_episode(session, episode).id
    if _on_postgresql(station):
        from hotline.engine_pg.runner import serve

        return serve(
            station=station,
            handlers=STAGES,
            observer=observer,
            queues=[k for k in (kinds or STAGES) if k in STAGES],
            concurrency=workers,
            stop=stop,
            burst=True,
            episode_id=episode_id,
        )
    return run_jobs(
        station=station,
        handlers=STAGES,
        observer=observer,
        workers=workers,
        kinds=kinds,
        episode_id=episode_id,
        stop=stop,
    )


def work(
    *,
    station: Station,
    observer: Observer,
    queues: list[str],
    concurrency: int,
    stop: threading.Event,
    announce: Callable[[str], None],
    check: Callable[[], None] | None = None,
) -> RunSummary:
    """Serve the ``queues`` until ``stop`` is set (``hotline worker``).

    On PostgreSQL a procrastinate worker; on an embedded station the embedded runner as
    a daemon. Either takes over the jobs of workers that die while it runs. ``check``:
    the station's checks of its database, not yet done because its server was away
    (PostgreSQL): the worker waits for it, then checks.
    """
    if _on_postgresql(station):
        from hotline.engine_pg.runner import serve

        return serve(
            station=station,
            handlers=STAGES,
            observer=observer,
            queues=queues,
            concurrency=concurrency,
            stop=stop,
            announce=announce,
            check=check,
        )
    return run_jobs(
        station=station,
        handlers=STAGES,
        observer=observer,
        workers=concurrency,
        kinds=queues,
        stop=stop,
        daemon=True,
        announce=announce,
    )


register_stage(JobKind.master, master_stage)
register_stage(JobKind.publish, publish_stage)
register_stage(JobKind.transcribe, transcribe_stage)
