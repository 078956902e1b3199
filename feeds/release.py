"""Explicit release times: an episode goes out at a chosen time instead of after it airs."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from episodes.lookup import get_episode
from hotline.errors import Conflict
from hotline.models import Episode, EpisodeStatus
from hotline.timeutil import utcnow


def set_release(*, session: Session, number: int, at: datetime | None) -> Episode:
    """Set (or with None, clear) episode ``number``'s release time; a later publish uses it.

    A cancelled episode has nothing to release; an episode already published keeps its
    guid and stays in the feeds, and the new time only changes its pubDate.
    """
    episode = get_episode(session, number)
    if episode.status == EpisodeStatus.cancelled:
        raise Conflict(f"episode {number} is cancelled: it cannot be released")
    episode.release_at = at
    episode.updated_at = utcnow()
    session.add(episode)
    session.flush()
    return episode
