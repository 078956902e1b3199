"""Transcribing an episode: decode, gate silence, chunk, recognise, clean, store, write files.

The master is decoded to 16 kHz mono once to measure its levels (streamed, so length does
not matter), the speech regions and the chunk cuts are planned from those levels, then each
chunk is decoded, packed (silence out), recognised, mapped back to episode time, cleaned
and stored in its own transaction. A run that dies keeps its finished chunks: the next run
with the same audio and settings resumes at ``Transcript.chunks_done``.

``hotline transcribe`` and the pipeline's ``transcribe`` stage both call
``transcribe_episode``; the benchmark and tests use ``transcribe_audio`` on arrays.
"""

from __future__ import annotations

import hashlib
import json
import socket
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from episodes.lifecycle import set_status
from episodes.lookup import get_episode
from hotline.config import TranscribeSettings
from hotline.errors import InvalidInput, NotFound
from hotline.files import sha256_file
from hotline.models import EpisodeStatus
from hotline.station import Station
from transcripts.asr import SAMPLE_RATE, AsrBackend, RawSegment
from transcripts.filters import clean_segments
from transcripts.formats import Cue, write_transcript_files
from transcripts.models_offline import FASTER, OPENAI
from transcripts.prompt import episode_prompt
from transcripts.store import (
    append_segments,
    find_transcript,
    finish_transcript,
    load_transcript,
    start_transcript,
)
from transcripts.vad import Chunk, LevelMeter, frame_levels, pack, plan_chunks, speech_regions
from transcripts.words import Word

if TYPE_CHECKING:
    import numpy as np

Progress = Callable[[float, str], None]
Sessions = Callable[[], AbstractContextManager[Session]]
Save = Callable[[Callable[[Session], Any]], Any]
"""Makes one write: calls it with a session and commits (a stage's ``save`` tries it again
while the database is away)."""

KEEP_IN_MEMORY_SECONDS = 20 * 60
"""Masters up to this long are decoded once; longer ones are decoded again chunk by chunk."""
TRANSCRIBABLE = (EpisodeStatus.mastered, EpisodeStatus.transcribed, EpisodeStatus.published)


def _quiet(fraction: float, message: str) -> None:
    pass


# ------------------------------------------------------------------ the array core


def plan_audio(levels: np.ndarray, *, duration: float, settings: TranscribeSettings) -> list[Chunk]:
    """Speech regions and chunk cuts for audio with these frame levels."""
    if settings.skip_silence:
        regions = speech_regions(
            levels,
            duration=duration,
            min_silence=settings.min_silence_seconds,
            pad=settings.speech_pad_seconds,
        )
    else:
        regions = [(0.0, duration)] if duration > 0 else []
    return plan_chunks(levels, regions, duration=duration, chunk_seconds=settings.chunk_seconds)


def transcribe_chunk(
    audio: np.ndarray,
    chunk: Chunk,
    *,
    backend: AsrBackend,
    prompt: str | None,
    language: str,
) -> list[RawSegment]:
    """Recognise the speech of ``chunk`` (``audio`` starts at ``chunk.start``).

    Only the chunk's speech regions reach the backend; segment times come back in episode
    time, clamped to the chunk, and cleaned of hallucinations and loops.
    """
    packed, timemap = pack(audio, chunk.regions, offset=chunk.start)
    if len(packed) == 0:
        return []

    def source(t: float, *, floor: float, end: bool = False) -> float:
        at = timemap.to_source(t, end=end) if end else timemap.to_source(t)
        return round(min(max(at, floor), chunk.end), 3)

    mapped = []
    for segment in backend.transcribe(packed, prompt=prompt, language=language):
        start = source(segment.start, floor=chunk.start)
        end = source(segment.end, floor=start, end=True)
        words = []
        for word in segment.words:
            word_start = source(word.start, floor=chunk.start)
            words.append(Word(word_start, source(word.end, floor=word_start, end=True), word.text))
        mapped.append(RawSegment(start, end, segment.text, tuple(words)))
    return clean_segments(mapped)


def transcribe_audio(
    audio: np.ndarray,
    *,
    backend: AsrBackend,
    settings: TranscribeSettings,
    prompt: str | None = None,
) -> list[RawSegment]:
    """Transcribe a whole 16 kHz mono array the way episodes are (for tests and benchmarks)."""
    levels = frame_levels(audio)
    chunks = plan_audio(levels, duration=len(audio) / SAMPLE_RATE, settings=settings)
    segments: list[RawSegment] = []
    for chunk in chunks:
        piece = audio[round(chunk.start * SAMPLE_RATE) : round(chunk.end * SAMPLE_RATE)]
        segments += transcribe_chunk(
            piece, chunk, backend=backend, prompt=prompt, language=settings.language
        )
    return segments


# ------------------------------------------------------------------ episodes


@dataclass(frozen=True)
class _Plan:
    number: int
    source: Path
    prompt: str
    existing: dict[str, Any] | None
    """source, complete, chunks_done, chunks_total, fingerprint of a stored transcript."""


@dataclass
class TranscribeResult:
    """What a run did, for the CLI and the job's one-line result."""

    episode: int
    outcome: str
    """transcribed, current (nothing to do) or kept (an imported transcript was kept)."""
    model: str = ""
    backend: str = ""
    segments: int = 0
    chunks: int = 0
    resumed_from: int = 0
    """Chunks already stored when this run started (0: from the beginning)."""
    seconds: float = 0.0
    speech_seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    message: str = ""


def _read_plan(station: Station, session: Session, number: int) -> _Plan:
    episode = get_episode(session, number)
    if not episode.audio_path:
        raise InvalidInput(
            f"episode {number} has no master to transcribe; ingest its recording "
            f"(`hotline ingest {number} FILE`) and run `hotline process` first"
        )
    if episode.status not in TRANSCRIBABLE:
        raise InvalidInput(f"episode {number} is {episode.status}; only mastered episodes")
    source = station.path_inside(episode.audio_path, what="master")
    if not source.is_file():
        raise NotFound(f"master {episode.audio_path} of episode {number} is missing")
    transcript = find_transcript(session=session, episode=number)
    existing = None
    if transcript is not None:
        existing = {
            "source": transcript.source,
            "complete": transcript.complete,
            "chunks_done": transcript.chunks_done,
            "chunks_total": transcript.chunks_total,
            "fingerprint": (transcript.settings or {}).get("fingerprint"),
        }
    return _Plan(number, source, episode_prompt(session=session, number=number), existing)


def run_settings(
    settings: TranscribeSettings,
    *,
    model: str,
    audio_sha256: str,
    prompt: str,
    engine: str = OPENAI,
) -> dict[str, Any]:
    """What the transcript depends on, stored with it; its fingerprint says "same run"."""
    values: dict[str, Any] = {
        "model": model,
        "backend": engine,
        "word_timestamps": settings.word_timestamps,
        "language": settings.language,
        "beam_size": settings.beam_size,
        "temperatures": list(settings.temperatures),
        "condition_on_previous_text": False,
        "skip_silence": settings.skip_silence,
        "min_silence_seconds": settings.min_silence_seconds,
        "speech_pad_seconds": settings.speech_pad_seconds,
        "max_window_tokens": settings.max_window_tokens,
        "chunk_seconds": settings.chunk_seconds,
        "audio_sha256": audio_sha256,
        "prompt": prompt,
    }
    if engine == FASTER:
        values["compute_type"] = settings.compute_type
        values["batch_size"] = settings.batch_size
    text = json.dumps(values, sort_keys=True, ensure_ascii=False)
    values["fingerprint"] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return values


def _saver(sessions: Sessions) -> Save:
    def save(write: Callable[[Session], Any]) -> Any:
        with sessions() as session:
            return write(session)

    return save


def _store_chunk(session: Session, number: int, cues: list[Cue], done: int) -> None:
    transcript = find_transcript(session=session, episode=number)
    if transcript is not None and transcript.chunks_done >= done:
        return  # tried again after a commit whose answer the connection lost: it is stored
    append_segments(session=session, episode=number, segments=cues, chunks_done=done)


def _mark_transcribed(sessions: Sessions, number: int) -> None:
    with sessions() as session:
        set_status(session, get_episode(session, number), EpisodeStatus.transcribed)


def transcribe_episode(
    *,
    station: Station,
    number: int,
    model: str | None = None,
    engine: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
    backend: AsrBackend | None = None,
    sessions: Sessions | None = None,
    save: Save | None = None,
) -> TranscribeResult:
    """Transcribe episode ``number``'s master; resume a killed run; skip a current transcript.

    ``model`` overrides ``transcribe.model`` and ``engine`` ``transcribe.backend``
    (openai-whisper or faster-whisper); ``force`` starts over and replaces an imported
    transcript. ``backend`` replaces the recogniser (tests); ``sessions`` replaces
    ``station.session`` (the demo build runs inside one transaction); ``save`` makes the
    writes of each chunk and of the end (a stage's wait for a database that is away, so an
    hour of recognition is not lost to a server restarting).

    Raises:
        InvalidInput: no master; a model that is not available offline.
        CorruptCheckpoint: a checkpoint whisper cannot load.
    Nothing is stored before the audio and the model have been checked.
    """
    from transcripts.asr import choose_backend, make_backend

    sessions = sessions or station.session
    save = save or _saver(sessions)
    report = progress or _quiet
    settings = station.settings.transcribe
    spec = (model or settings.model).strip()
    chosen = choose_backend(settings, model=model, backend=engine, base=station.root)
    started = time.perf_counter()
    with sessions() as session:
        plan = _read_plan(station, session, number)
    values = run_settings(
        settings,
        model=spec,
        audio_sha256=sha256_file(plan.source),
        prompt=plan.prompt,
        engine=chosen,
    )
    existing = plan.existing
    same = existing is not None and existing["fingerprint"] == values["fingerprint"]
    if existing and not force and existing["complete"] and (same or existing["source"] == "import"):
        _mark_transcribed(sessions, number)
        report(1.0, "transcript is current")
        kept = existing["source"] == "import"
        message = (
            f"episode {number} has an imported transcript; --force replaces it"
            if kept
            else f"episode {number}: transcript is current; nothing to do"
        )
        return TranscribeResult(number, "kept" if kept else "current", message=message)
    if backend is None:
        report(0.0, "loading model")
        backend = make_backend(settings, model=model, backend=chosen, base=station.root)
    timings: dict[str, float] = {}

    report(0.01, "measuring levels")
    clock = time.perf_counter()
    kept_audio, levels, duration = _measure(plan.source)
    chunks = plan_audio(levels, duration=duration, settings=settings)
    timings["plan"] = time.perf_counter() - clock

    resume = 0
    if not force and same and existing and existing["chunks_total"] == len(chunks):
        resume = min(existing["chunks_done"], len(chunks))
    if resume == 0:
        save(
            lambda session: start_transcript(
                session=session,
                episode=number,
                model=backend.model_name[:200],
                settings=values,
                language=settings.language,
                chunks_total=len(chunks),
            )
        )
    timings["decode"] = timings["asr"] = timings["store"] = 0.0
    done_seconds = sum(c.end - c.start for c in chunks[:resume])
    for chunk in chunks[resume:]:
        label = f"chunk {chunk.index + 1}/{len(chunks)}"
        report(0.02 + 0.96 * done_seconds / max(duration, 1e-9), label)
        clock = time.perf_counter()
        audio = _chunk_audio(plan.source, chunk, kept_audio)
        timings["decode"] += time.perf_counter() - clock
        clock = time.perf_counter()
        segments = transcribe_chunk(
            audio, chunk, backend=backend, prompt=plan.prompt, language=settings.language
        )
        timings["asr"] += time.perf_counter() - clock
        clock = time.perf_counter()
        cues = [Cue(s.start, s.end, s.text, s.words) for s in segments]
        done = chunk.index + 1
        save(lambda session, cues=cues, done=done: _store_chunk(session, number, cues, done))
        timings["store"] += time.perf_counter() - clock
        done_seconds += chunk.end - chunk.start

    report(0.98, "writing files")
    speech = sum(c.speech_seconds for c in chunks)
    timings["total"] = time.perf_counter() - started
    measured: dict[str, Any] = {k: round(v, 3) for k, v in timings.items()}
    measured.update(
        audio_seconds=round(duration, 3),
        speech_seconds=round(speech, 3),
        # What this run covered (a resumed run did not do the first chunks): the backlog's
        # estimate divides ``total`` by it.
        seconds_this_run=round(sum(c.end - c.start for c in chunks[resume:]), 3),
        chunks=len(chunks),
        resumed_from_chunk=resume,
        backend=chosen,
        host=socket.gethostname(),
    )

    def finish(session: Session) -> tuple[str, Any, list[Path]]:
        transcript = finish_transcript(session=session, episode=number, timings=measured)
        doc, normalized = load_transcript(session=session, episode=number)
        files = write_transcript_files(station.transcripts_dir, doc, normalized=normalized)
        set_status(session, get_episode(session, number), EpisodeStatus.transcribed)
        return transcript.model, doc, files

    model_name, doc, files = save(finish)
    report(1.0, "transcribed")
    resumed = f", resumed at chunk {resume + 1}" if resume else ""
    return TranscribeResult(
        episode=number,
        outcome="transcribed",
        model=model_name,
        backend=chosen,
        segments=len(doc.cues),
        chunks=len(chunks),
        resumed_from=resume,
        seconds=duration,
        speech_seconds=speech,
        timings=doc.timings,
        files=files,
        message=(
            f"transcribed episode {number}: {len(doc.cues)} segments in {len(chunks)} "
            f"chunk(s){resumed}, {speech:.0f} s of speech in {duration:.0f} s "
            f"({model_name}, {chosen})"
        ),
    )


def _measure(source: Path) -> tuple[np.ndarray | None, np.ndarray, float]:
    """(the whole decoded audio if short enough to keep, frame levels, duration)."""
    import numpy as np

    from hotline.ffmpeg import iter_pcm

    meter = LevelMeter()
    blocks: list[np.ndarray] | None = []
    for block in iter_pcm(source, sample_rate=SAMPLE_RATE, channels=1):
        mono = block[:, 0]
        meter.feed(mono)
        if blocks is not None:
            blocks.append(mono.copy())
            if meter.duration > KEEP_IN_MEMORY_SECONDS:
                blocks = None  # long: decode chunk by chunk instead
    kept = None
    if blocks is not None:
        kept = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
    return kept, meter.finish(), meter.duration


def _chunk_audio(source: Path, chunk: Chunk, kept: np.ndarray | None) -> np.ndarray:
    if kept is not None:
        return kept[round(chunk.start * SAMPLE_RATE) : round(chunk.end * SAMPLE_RATE)]
    from hotline.ffmpeg import decode_pcm

    return decode_pcm(
        source,
        sample_rate=SAMPLE_RATE,
        channels=1,
        start=chunk.start,
        duration=chunk.end - chunk.start,
    )
