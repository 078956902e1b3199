"""The episode status lifecycle and ``set_status``, the one way to change an episode's status.

::

    planned ⇄ confirmed → aired → recorded → mastered → transcribed → published
    planned, confirmed → cancelled            (cancelled is final)

``aired`` is an episode that went out but whose recording the archive does not hold
(back catalogue entered with ``--past``); ingesting its recording moves it on. Forward
skips the pipeline needs are allowed: planned/confirmed → recorded or mastered (audio
delivered for an episode nobody marked confirmed), mastered → published (no
transcript). Status never moves backwards through the pipeline: asking for a pipeline
stage the episode has already reached or passed (re-mastering a transcribed episode,
re-transcribing a published one, publishing again) is allowed and leaves the status as
it is. Anything else is refused with ``InvalidTransition`` naming the allowed moves.
"""

from __future__ import annotations

from sqlmodel import Session

from hotline.errors import InvalidInput, InvalidTransition
from hotline.models import Episode, EpisodeStatus
from hotline.timeutil import utcnow

S = EpisodeStatus
# The pipeline stages in order; a move to one at or below the current stage is a no-op.
PIPELINE: tuple[EpisodeStatus, ...] = (
    S.aired,
    S.recorded,
    S.mastered,
    S.transcribed,
    S.published,
)
AIRED: tuple[EpisodeStatus, ...] = PIPELINE
"""Statuses of an episode that went out: it can no longer be moved or cancelled."""

STATUS_ZH: dict[EpisodeStatus, str] = {
    S.planned: "计划中",
    S.confirmed: "已确认",
    S.aired: "已播出",
    S.recorded: "已录制",
    S.mastered: "已制作",
    S.transcribed: "已转写",
    S.published: "已发布",
    S.cancelled: "已取消",
}
"""How the desk names each status."""

TRANSITIONS: dict[EpisodeStatus, tuple[EpisodeStatus, ...]] = {
    S.planned: (S.confirmed, S.aired, S.recorded, S.mastered, S.cancelled),
    S.confirmed: (S.planned, S.aired, S.recorded, S.mastered, S.cancelled),
    S.aired: (S.recorded, S.mastered),
    S.recorded: (S.mastered,),
    S.mastered: (S.transcribed, S.published),
    S.transcribed: (S.published,),
    S.published: (),
    S.cancelled: (),
}


def check_status(value: str) -> EpisodeStatus:
    """The status named by ``value``, or ``InvalidInput`` listing the statuses."""
    try:
        return EpisodeStatus(value.strip())
    except ValueError as exc:
        allowed = ", ".join(s.value for s in EpisodeStatus)
        raise InvalidInput(f"unknown episode status {value!r}: use {allowed}") from exc


def may_become(episode: Episode, new_status: str) -> bool:
    """Whether ``set_status`` would change ``episode``; ``InvalidTransition`` if it may not.

    Changes nothing: a command checks with it before long work, then sets the status.
    """
    current, target = check_status(episode.status), check_status(new_status)
    if current == target:
        return False
    if (
        target in PIPELINE
        and current in PIPELINE
        and PIPELINE.index(current) > PIPELINE.index(target)
    ):
        return False
    allowed = TRANSITIONS[current]
    if target not in allowed:
        moves = ", ".join(s.value for s in allowed) or "none (it is final)"
        raise InvalidTransition(
            f"episode {episode.number} is {current.value}: it cannot become {target.value}; "
            f"allowed: {moves}",
            zh=f"第{episode.number}期{STATUS_ZH[current]}，不能改为{STATUS_ZH[target]}",
        )
    return True


def set_status(session: Session, episode: Episode, new_status: str) -> bool:
    """Move ``episode`` to ``new_status`` within the lifecycle; return whether it changed.

    A pipeline stage the episode has already reached (or the status it has) is a no-op
    that returns False, so re-mastering or re-transcribing never moves status backwards.
    """
    if not may_become(episode, new_status):
        return False
    episode.status = check_status(new_status).value
    episode.updated_at = utcnow()
    session.add(episode)
    session.flush()
    return True
