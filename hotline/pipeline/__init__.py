"""The pipeline's composition root: which stages exist, queueing them, running them.

``STAGES`` (``hotline.stages``) maps a job kind to the handler that runs it; a stage
with no handler is simply not queued. Adding a stage is one line at the bottom of
this module::

    register_stage(JobKind.transcribe, transcribe_stage)

Heavy modules (audio, tags) are imported inside the handlers, so importing this
package stays cheap for the CLI and the TUI.
"""

from __future__ import annotations

import threading

from episodes.lookup import get_episode
from feeds.stage import publish_stage
from hotline import jobs
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
    "register_stage",
]


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

    Setting ``stop`` gives the running jobs back to the queue and returns promptly.
    """
    kinds = [jobs.check_kind(kind).value] if kind else None
    episode_id = None
    if episode is not None:
        with station.session() as session:
            episode_id = get_episode(session, episode).id
    return run_jobs(
        station=station,
        handlers=STAGES,
        observer=observer,
        workers=workers,
        kinds=kinds,
        episode_id=episode_id,
        stop=stop,
    )


register_stage(JobKind.master, master_stage)
register_stage(JobKind.publish, publish_stage)
register_stage(JobKind.transcribe, transcribe_stage)
