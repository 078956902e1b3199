"""Transcript storage: save, append (chunked ASR), read and delete, keeping the index in step.

Every function here flushes and never commits: the caller's transaction decides. Chunked
transcription calls ``start_transcript`` once, ``append_segments`` after each chunk (in its
own transaction, so a killed worker keeps finished chunks), then ``finish_transcript``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from episodes.lookup import get_episode
from hotline.errors import InvalidInput, NotFound
from hotline.models import Episode, Segment, Transcript
from hotline.text import clean_text
from hotline.timeutil import format_offset
from transcripts import index
from transcripts.formats import (
    FORMATS,
    MAX_CUE_CHARS,
    Cue,
    TranscriptDoc,
    read_transcript,
    remove_transcript_files,
    render,
    write_transcript_files,
)
from transcripts.normalize import normalize
from transcripts.words import decode, store_words

SOURCES = ("whisper", "import")


def _clean_cues(cues: Iterable[Cue], *, episode: int) -> list[Cue]:
    """Validated cues in time order; cues with no text after cleaning are dropped."""
    out = []
    for cue in cues:
        if not (math.isfinite(cue.start) and math.isfinite(cue.end)) or cue.start < 0:
            raise InvalidInput(f"episode {episode}: segment with broken time {cue.start!r}")
        where = f"episode {episode}, segment at {format_offset(cue.start)}"
        if cue.end < cue.start:
            raise InvalidInput(f"{where}: ends before it starts")
        try:
            text = clean_text(cue.text, field="text", max_length=MAX_CUE_CHARS)
        except InvalidInput as exc:
            raise InvalidInput(f"{where}: {exc}") from exc
        if text:
            out.append(Cue(float(cue.start), float(cue.end), text, cue.words))
    out.sort(key=lambda c: (c.start, c.end))
    return out


def find_transcript(*, session: Session, episode: int) -> Transcript | None:
    """The transcript of episode ``episode`` (its number), or None."""
    row = get_episode(session, episode)
    return session.exec(select(Transcript).where(Transcript.episode_id == row.id)).first()


def _remove(session: Session, ep: Episode) -> int:
    """Drop ``ep``'s transcript, segments and postings; returns the segments removed."""
    index.unindex_episode(session=session, episode_id=ep.id)
    conn = session.connection()
    removed = conn.execute(
        sa.text("DELETE FROM segment WHERE episode_id = :e"), {"e": ep.id}
    ).rowcount
    conn.execute(sa.text("DELETE FROM transcript WHERE episode_id = :e"), {"e": ep.id})
    return removed or 0


def start_transcript(
    *,
    session: Session,
    episode: int,
    model: str = "",
    settings: dict[str, Any] | None = None,
    source: str = "whisper",
    language: str = "zh",
    chunks_total: int = 0,
) -> Transcript:
    """Replace any transcript of ``episode`` with an empty, incomplete one."""
    if source not in SOURCES:
        raise InvalidInput(f"transcript source {source!r}: use one of {', '.join(SOURCES)}")
    ep = get_episode(session, episode)
    session.flush()
    _remove(session, ep)
    session.expire_all()
    transcript = Transcript(
        episode_id=ep.id,
        source=source,
        model=clean_text(model, field="model", max_length=200),
        settings=dict(settings or {}),
        language=clean_text(language, field="language", max_length=10) or "zh",
        chunks_total=chunks_total,
    )
    session.add(transcript)
    session.flush()
    return transcript


def append_segments(
    *,
    session: Session,
    episode: int,
    segments: Iterable[Cue],
    chunks_done: int | None = None,
) -> int:
    """Store and index ``segments`` after those already stored; returns how many were stored.

    Segments must not start before the last stored one (chunks arrive in time order).
    """
    ep = get_episode(session, episode)
    transcript = session.exec(select(Transcript).where(Transcript.episode_id == ep.id)).first()
    if transcript is None:
        raise NotFound(f"episode {episode} has no transcript started")
    cues = _clean_cues(segments, episode=episode)
    conn = session.connection()
    last = conn.execute(
        sa.text("SELECT MAX(start) FROM segment WHERE episode_id = :e"), {"e": ep.id}
    ).scalar()
    if cues and last is not None and cues[0].start < last:
        raise InvalidInput(
            f"episode {episode}: segment at {format_offset(cues[0].start)} starts before the "
            f"last stored one ({format_offset(last)})"
        )
    if cues:
        rows = [
            {
                "transcript_id": transcript.id,
                "episode_id": ep.id,
                "start": c.start,
                "end": c.end,
                "text": c.text,
                "text_norm": normalize(c.text),
                "words": store_words(c.words, text=c.text, segment_start=c.start),
            }
            for c in cues
        ]
        statement = sa.insert(Segment).returning(Segment.id, sort_by_parameter_order=True)
        ids = list(session.scalars(statement, rows))
        index.index_segments(
            session=session,
            episode_id=ep.id,
            number=ep.number,
            segments=[(i, r["text_norm"]) for i, r in zip(ids, rows, strict=True)],
        )
    if chunks_done is not None:
        transcript.chunks_done = chunks_done
        session.add(transcript)
    session.flush()
    return len(cues)


def finish_transcript(
    *, session: Session, episode: int, timings: dict[str, Any] | None = None
) -> Transcript:
    """Mark ``episode``'s transcript complete (with what the run measured, if given)."""
    transcript = find_transcript(session=session, episode=episode)
    if transcript is None:
        raise NotFound(f"episode {episode} has no transcript")
    if timings is not None:
        transcript.settings = {**(transcript.settings or {}), "timings": dict(timings)}
    transcript.complete = True
    transcript.chunks_done = max(transcript.chunks_done, transcript.chunks_total)
    session.add(transcript)
    session.flush()
    return transcript


def save_transcript(
    *,
    session: Session,
    episode: int,
    segments: Iterable[Cue],
    model: str = "",
    settings: dict[str, Any] | None = None,
    source: str = "whisper",
    language: str = "zh",
) -> Transcript:
    """Store a whole transcript for ``episode``, replacing any previous one, and index it."""
    cues = _clean_cues(segments, episode=episode)
    if not cues:
        raise InvalidInput(f"episode {episode}: the transcript has no segments with text")
    start_transcript(
        session=session,
        episode=episode,
        model=model,
        settings=settings,
        source=source,
        language=language,
    )
    append_segments(session=session, episode=episode, segments=cues)
    return finish_transcript(session=session, episode=episode)


def delete_transcript(*, session: Session, episode: int, folder: Path | None = None) -> int:
    """Delete ``episode``'s transcript, its segments and their postings; returns segments.

    With ``folder`` (the station's transcripts folder) its files go too.
    """
    ep = get_episode(session, episode)
    if find_transcript(session=session, episode=episode) is None:
        raise NotFound(f"episode {episode} has no transcript")
    session.flush()
    removed = _remove(session, ep)
    session.expire_all()
    if folder is not None:
        remove_transcript_files(folder, episode)
    return removed


def import_transcript(
    *,
    session: Session,
    episode: int,
    path: Path,
    folder: Path | None = None,
    encoding: str | None = None,
) -> int:
    """Load an SRT, VTT, JSON or TXT file as ``episode``'s transcript; returns segments.

    Replaces any previous transcript; with ``folder`` also writes the four transcript files.
    The file's encoding is detected unless ``encoding`` names it.
    """
    doc = read_transcript(path, encoding=encoding)
    save_transcript(
        session=session,
        episode=episode,
        segments=doc.cues,
        model=doc.model,
        settings=doc.settings,
        source="import",
        language=doc.language,
    )
    if folder is not None:
        stored, normalized = load_transcript(session=session, episode=episode)
        write_transcript_files(folder, stored, normalized=normalized)
    return len(doc.cues)


def export_transcript(*, session: Session, episode: int, fmt: str) -> str:
    """``episode``'s stored transcript as SRT, VTT, TXT or our JSON."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown transcript format {fmt!r}: use one of {', '.join(FORMATS)}")
    doc, normalized = load_transcript(session=session, episode=episode)
    return render(doc, fmt, normalized=normalized)


def load_transcript(*, session: Session, episode: int) -> tuple[TranscriptDoc, list[str]]:
    """The stored transcript as a document, with each segment's normalised text."""
    transcript = find_transcript(session=session, episode=episode)
    if transcript is None:
        raise NotFound(f"episode {episode} has no transcript")
    segments: Sequence[Segment] = session.exec(
        select(Segment)
        .where(Segment.transcript_id == transcript.id)
        .order_by(Segment.start, Segment.id)
    ).all()
    settings = dict(transcript.settings or {})
    timings = settings.pop("timings", None)
    doc = TranscriptDoc(
        cues=[
            Cue(s.start, s.end, s.text, tuple(decode(s.words, text=s.text, segment_start=s.start)))
            for s in segments
        ],
        model=transcript.model,
        settings=settings,
        language=transcript.language,
        source=transcript.source,
        episode=episode,
        timings=timings if isinstance(timings, dict) else {},
    )
    return doc, [s.text_norm for s in segments]
