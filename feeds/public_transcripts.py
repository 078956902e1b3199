"""Published transcripts: the station's transcript as heard, contacts masked, in three formats.

``public/transcripts/0999.vtt``, ``.srt`` and ``.json`` (Podcasting 2.0 JSON) are made
from the station's own file in ``transcripts/`` (our JSON first, else SRT, else VTT),
with every cue's text passed through the publish's redactor: a phone number a caller
read out on air is masked in public and kept in the station's copy. Each published file
takes its source's mtime, so the next publish sees it current without reading it.

A transcript that exists only in the database (imported, restored, made by the demo)
first gets the station's files written out (``write_out_stored``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from transcripts.formats import (
    Cue,
    read_own_json,
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

    def relative(self, ext: str) -> str:
        """A published file's path under ``public/``."""
        return f"transcripts/{self.number:04d}.{ext}"


def find_source(folder: Path, names: set[str], number: int) -> TranscriptSource | None:
    """The station's transcript file of episode ``number``, if any (``names``: the folder's)."""
    for ext in SOURCES:
        name = f"{number:04d}.{ext}"
        if name in names:
            path = folder / name
            return TranscriptSource(number, path, path.stat().st_mtime_ns)
    return None


def render_public(source: TranscriptSource, redact: Callable[[str], str]) -> dict[str, bytes]:
    """Each published format's bytes: the source's cues as heard, contacts masked.

    Raises ``InvalidInput`` naming the file when the station's copy cannot be read.
    """
    said = read_own_json(source.path) if source.path.suffix == ".json" else None
    if said is None:
        said = read_transcript(source.path).cues
    cues = [Cue(c.start, c.end, redact(c.text)) for c in said]
    srt, vtt = write_srt_and_vtt(cues)
    return {"vtt": vtt.encode(), "srt": srt.encode(), "json": podcast_json(cues)}


def podcast_json(cues: Iterable[Cue]) -> bytes:
    """The Podcasting 2.0 JSON transcript: one segment per cue, its text as heard."""
    segments = [{"startTime": c.start, "endTime": c.end, "body": c.text} for c in cues]
    return json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False).encode()


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
