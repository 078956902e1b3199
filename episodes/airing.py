"""Where an episode stands against the clock: still to come, on air, or gone out.

Three questions the show's rules ask, answered in one place:

- *went on air*: the status says it went out (aired or any pipeline stage after it) or
  the live desk started its show clock. Such an episode is history: it is never moved.
- *live or aired*: it went on air, or its slot has begun. Only then can a member have
  answered a question on it.
- *slot over*: its slot has ended (whether or not anyone marked it aired). Routing a
  question to it is unusual enough to ask first.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from episodes.lifecycle import AIRED
from hotline.models import Episode, ShowClock


def slot_end(episode: Episode) -> datetime:
    """When the episode's slot ends."""
    return episode.air_start + timedelta(minutes=episode.duration_minutes)


def clock_start(session: Session, episode: Episode) -> datetime | None:
    """When the live desk started the episode's show clock, or None."""
    return session.exec(
        select(ShowClock.started_at).where(ShowClock.episode_id == episode.id)
    ).first()


def went_on_air(session: Session, episode: Episode) -> bool:
    """The status says it went out, or the live desk started its show clock."""
    return episode.status in AIRED or clock_start(session, episode) is not None


def live_or_aired(session: Session, episode: Episode, now: datetime) -> bool:
    """It went on air, or its slot has begun."""
    return episode.air_start <= now or went_on_air(session, episode)


def slot_over(episode: Episode, now: datetime) -> bool:
    """Its slot has ended, or its status says it went out."""
    return episode.status in AIRED or slot_end(episode) <= now
