"""Withdrawing an episode from every feed, and reinstating it: the database's side.

A producer withdraws a published episode (a guest's misstatement, a complaint) with a
reason; it stays in the archive with its guid, and no publish lists it until it is
reinstated, with the same guid, so apps see the same item come back. The publish that
carries either change out is ``feeds.withdraw``'s; this module checks that the move makes
sense and records it on the episode (``withdrawn_at``, ``withdrawal_reason``), where the
history (``hotline.history``) picks it up with who and when.

Only an episode a feed has listed can be withdrawn: ``published_at`` is set by the first
publish that listed it (and its guid fixed then).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from episodes.lookup import get_episode
from hotline.errors import Conflict
from hotline.models import Episode
from hotline.text import clean_text
from hotline.timeutil import utcnow

REASON_LIMIT = 500


def withdrawal_reason(text: str | None, *, required: bool) -> str:
    """``text`` cleaned as a withdrawal's or reinstatement's reason (one line, ≤ 500 chars)."""
    return clean_text(text, field="reason", max_length=REASON_LIMIT, required=required)


def withdrawable(session: Session, number: int, *, lock: bool = False) -> Episode:
    """Episode ``number`` if it can be withdrawn now; otherwise the one-line refusal.

    Refused: an episode no feed ever listed, and one already withdrawn.
    """
    episode = get_episode(session, number, lock=lock)
    if episode.withdrawn_at is not None:
        raise Conflict(
            f"episode {number} is already withdrawn ({episode.withdrawal_reason}); "
            f"`hotline episodes reinstate {number}` brings it back",
            zh=f"第{number}期已撤下（{episode.withdrawal_reason}）",
        )
    if episode.published_at is None or episode.guid is None:
        raise Conflict(
            f"episode {number} was never published: no feed lists it, there is nothing to withdraw",
            zh=f"第{number}期从未发布，没有可撤下的内容",
        )
    return episode


def reinstatable(session: Session, number: int, *, lock: bool = False) -> Episode:
    """Episode ``number`` if it is withdrawn; otherwise the one-line refusal."""
    episode = get_episode(session, number, lock=lock)
    if episode.withdrawn_at is None:
        raise Conflict(
            f"episode {number} is not withdrawn: there is nothing to reinstate",
            zh=f"第{number}期没有撤下，无需恢复",
        )
    return episode


def record_withdrawal(
    *, session: Session, number: int, reason: str, now: datetime | None = None
) -> Episode:
    """Mark episode ``number`` withdrawn (checked again, its row locked) with ``reason``."""
    episode = withdrawable(session, number, lock=True)
    when = now or utcnow()
    episode.withdrawn_at = when
    episode.withdrawal_reason = withdrawal_reason(reason, required=True)
    episode.updated_at = when
    session.add(episode)
    session.flush()
    return episode


def record_reinstatement(
    *, session: Session, number: int, reason: str = "", now: datetime | None = None
) -> Episode:
    """Mark episode ``number`` listed again; ``reason`` (may be empty) replaces the old one."""
    episode = reinstatable(session, number, lock=True)
    episode.withdrawn_at = None
    episode.withdrawal_reason = withdrawal_reason(reason, required=False)
    episode.updated_at = now or utcnow()
    session.add(episode)
    session.flush()
    return episode
