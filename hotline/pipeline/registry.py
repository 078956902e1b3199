"""The stage registry: job kind → handler, and queueing an episode's registered stages."""

from __future__ import annotations

from sqlmodel import Session

from hotline import jobs
from hotline.models import Episode, Job, JobKind
from hotline.worker import Handler

STAGES: dict[str, Handler] = {}
"""Job kind → handler; ``hotline process`` runs only these kinds."""


def register_stage(kind: JobKind, handler: Handler) -> None:
    """Make ``kind`` jobs runnable (and queued by ``queue_pipeline``)."""
    STAGES[kind.value] = handler


def queue_pipeline(*, session: Session, episode: Episode) -> list[Job]:
    """Queue every registered stage for the episode, in stage order."""
    return [
        jobs.enqueue(session=session, kind=kind, episode_id=episode.id)
        for kind in jobs.STAGE_ORDER
        if kind.value in STAGES
    ]
