"""Published transcripts: the station's transcript as heard, contacts masked, in three formats.

``public/transcripts/0999.vtt``, ``.srt`` and ``.json`` (Podcasting 2.0 JSON) are made
from the station's own file in ``transcripts/`` (our JSON first, else SRT, else VTT; the
next one where a file cannot be read), with every cue's text passed through the
publish's redactor: a phone number a caller read out on air is masked in public and kept
in the station's copy. Each published file
takes its source's mtime, so the next publish sees it current without reading it.

A transcript that exists only in the database (imported, restored, made by the demo)
first gets the station's files written out (``write_out_stored``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import partial
from json.encoder import encode_basestring as encode_string
from pathlib import Path

from sqlmodel import Session

from episodes.public_text import Redactor
from feeds import forked
from hotline.errors import InvalidInput
from transcripts.formats import (
    CueColumns,
    read_own_columns,
    read_transcript,
    transcript_paths,
    write_srt_and_vtt,
)
from transcripts.formats import write_transcript_files as write_station_files

FORMATS = (("vtt", "text/vtt"), ("srt", "application/x-subrip"), ("json", "application/json"))
"""Published formats and their MIME types, in the order feeds announce them."""
SOURCES = ("json", "srt", "vtt")
"""The station's files a published transcript is made from, in order of preference."""


@dataclass(frozen=True)
class TranscriptSource:
    """The station file an episode's published transcripts are made from."""

    number: int
    path: Path
    mtime_ns: int
    others: tuple[Path, ...] = ()
    """The episode's other station files, in order of preference, for when ``path`` is
    damaged: one unreadable file must not take a transcript out of the feeds."""

    def relative(self, ext: str) -> str:
        """A published file's path under ``public/``."""
        return f"transcripts/{self.number:04d}.{ext}"


def find_source(folder: Path, names: set[str], number: int) -> TranscriptSource | None:
    """The station's transcript file of episode ``number``, if any (``names``: the folder's)."""
    found = [folder / name for ext in SOURCES if (name := f"{number:04d}.{ext}") in names]
    if not found:
        return None
    return TranscriptSource(number, found[0], found[0].stat().st_mtime_ns, tuple(found[1:]))


def render_public(source: TranscriptSource, redact: Redactor) -> dict[str, bytes]:
    """Each published format's bytes: the source's cues as heard, contacts masked.

    Raises ``InvalidInput`` naming the file when the station's copy cannot be read.
    """
    said = read_own_columns(source.path) if source.path.suffix == ".json" else None
    if said is None:
        said = CueColumns.of(read_transcript(source.path).cues)
    cues = CueColumns(said.starts, said.ends, redact.each(said.texts))
    srt, vtt = write_srt_and_vtt(cues)
    return {"vtt": vtt.encode(), "srt": srt.encode(), "json": podcast_json(cues)}


@dataclass(frozen=True)
class Fallback:
    """A transcript rendered from another station file: the preferred one is unreadable."""

    files: dict[str, bytes]
    used: Path
    unreadable: InvalidInput


RENDER_APART_MIN = 8
"""From this many transcripts to render on, a second CPU renders half of them."""


def render_many(
    sources: list[TranscriptSource], redact: Redactor
) -> list[dict[str, bytes] | Fallback | InvalidInput]:
    """``render_public`` of each source, in order; from the next station file where one is
    unreadable (``Fallback``), the first error where none can be read.

    A first publish renders the whole archive (7 ms per hour of talk): with two CPUs,
    a forked child renders every second transcript (``feeds.forked``).
    """
    if len(sources) < RENDER_APART_MIN or not forked.can_fork():
        return _render_each(sources, redact)
    return forked.map_in_two(partial(_render_each, redact=redact), sources)


def _render_each(
    sources: list[TranscriptSource], redact: Redactor
) -> list[dict[str, bytes] | Fallback | InvalidInput]:
    return [_render_one(source, redact) for source in sources]


def _render_one(
    source: TranscriptSource, redact: Redactor
) -> dict[str, bytes] | Fallback | InvalidInput:
    try:
        return render_public(source, redact)
    except InvalidInput as exc:
        unreadable = exc
    for other in source.others:
        try:
            files = render_public(replace(source, path=other, others=()), redact)
        except InvalidInput:
            continue
        return Fallback(files, other, unreadable)
    return unreadable


def podcast_json(cues: CueColumns) -> bytes:
    """The Podcasting 2.0 JSON transcript: one segment per cue, its text as heard.

    The bytes of ``json.dumps({"version": "1.0.0", "segments": [{"startTime": …,
    "endTime": …, "body": …}, …]}, ensure_ascii=False)``, written segment by segment
    with json's own string encoder (twice as fast for a long transcript); ``json.dumps``
    itself where a time is not a finite float (``Infinity`` is not ``repr``'s).
    """
    times = (*cues.starts, *cues.ends)
    if not all(type(t) is float for t in times) or not math.isfinite(sum(times)):
        segments = [
            {"startTime": start, "endTime": end, "body": text}
            for start, end, text in zip(cues.starts, cues.ends, cues.texts, strict=True)
        ]
        return json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False).encode()
    segments_json = ", ".join(
        [
            f'{{"startTime": {start!r}, "endTime": {end!r}, "body": {encode_string(text)}}}'
            for start, end, text in zip(cues.starts, cues.ends, cues.texts, strict=True)
        ]
    )
    return f'{{"version": "1.0.0", "segments": [{segments_json}]}}'.encode()


def write_out_stored(*, session: Session, folder: Path, numbers: Iterable[int]) -> list[int]:
    """Write the station's transcript files of episodes whose transcript is only stored.

    Returns the episode numbers written. The files are the ones transcription and import
    write (JSON, SRT, VTT, TXT), from the stored segments.
    """
    wanted = list(numbers)
    if not wanted:
        return []
    from transcripts.store import load_transcript  # numpy and the index: only when needed

    written = []
    for number in wanted:
        doc, normalized = load_transcript(session=session, episode=number)
        if not doc.cues:
            continue
        write_station_files(folder, doc, normalized=normalized)
        written.append(number)
    return written


def has_station_files(names: set[str], number: int) -> bool:
    """True when ``transcripts/`` holds any of episode ``number``'s transcript files."""
    paths = transcript_paths(Path(), number)
    return any(path.name in names for path in paths.values())
