"""Queueing an episode's registered stages (the registry itself is ``hotline.stages.STAGES``)."""

from __future__ import annotations

from sqlmodel import Session

from hotline import jobs, stages
from hotline.models import Episode, Job


def queue_pipeline(*, session: Session, episode: Episode) -> list[Job]:
    """Queue every registered stage for the episode, in stage order."""
    return [
        jobs.enqueue(session=session, kind=kind, episode_id=episode.id)
        for kind in jobs.STAGE_ORDER
        if kind.value in stages.STAGES
    ]
