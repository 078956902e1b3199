"""The transcribe stage: the episode's master to a stored, indexed transcript and its files."""

from __future__ import annotations

from hotline.errors import NotFound
from hotline.stages import StageContext, StageSkipped


def transcribe_stage(ctx: StageContext) -> str:
    """Transcribe the job's episode (resuming a killed run; a no-op when current).

    With no whisper model on this machine the job ends ``skipped`` with the reason and
    how to provide one, rather than failed: a transcript is optional for publishing,
    and a failed stage would hold the episode's feed back. ``hotline transcribe N``
    (or ``hotline jobs retry``) does it later, once a model is there.
    """
    from transcripts.models_offline import ModelUnavailable
    from transcripts.transcribe import transcribe_episode  # whisper loads only when it runs

    if ctx.episode_number is None:
        raise NotFound(f"the episode of job {ctx.job_id} no longer exists")
    try:
        result = transcribe_episode(
            station=ctx.station, number=ctx.episode_number, progress=ctx.progress, save=ctx.save
        )
    except ModelUnavailable as exc:
        raise StageSkipped(str(exc)) from exc
    return result.message
