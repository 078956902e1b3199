"""``hotline transcripts …``: import, show, export and delete an episode's transcript."""

from __future__ import annotations

import bisect
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import typer

from hotline.cli.common import (
    EPISODE_ARGUMENT,
    JSON_OPTION,
    echo,
    emit_json,
    expand_home,
    plural,
    station_from,
)
from hotline.timeutil import format_offset, parse_offset

app = typer.Typer(help="Episode transcripts: 文字稿.", no_args_is_help=True)

AROUND = 5
"""Segments shown on either side of the one at ``--around``."""


class _Timed(Protocol):
    start: float
    end: float


def window_around(cues: Sequence[_Timed], seconds: float, *, context: int = AROUND) -> range:
    """Indices of the segment at ``seconds`` (or the first after it) and ``context`` on
    either side of it."""
    starts = [cue.start for cue in cues]
    at = max(bisect.bisect_right(starts, seconds) - 1, 0)
    if at + 1 < len(cues) and cues[at].end <= seconds:
        at += 1  # in a pause: the next segment is the one about to be heard
    return range(max(at - context, 0), min(at + context + 1, len(cues)))


@app.command("import")
def import_(
    ctx: typer.Context,
    number: int = EPISODE_ARGUMENT,
    file: Path = typer.Argument(
        ..., help="An SRT, VTT, JSON (ours or whisper's) or TXT file.", callback=expand_home
    ),
) -> None:
    """Load a transcript made elsewhere, replacing any stored one, and index it for search."""
    from transcripts.store import import_transcript

    station = station_from(ctx)
    with station.session() as session:
        count = import_transcript(
            session=session, episode=number, path=file, folder=station.transcripts_dir
        )
    echo(f"episode {number}: imported {plural(count, 'segment')} from {file}")


@app.command("show")
def show(
    ctx: typer.Context,
    number: int = EPISODE_ARGUMENT,
    around: str | None = typer.Option(
        None, "--around", help=f"Only the segment at MM:SS and {AROUND} on either side of it."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show an episode's transcript: each segment's times and its whole text as heard."""
    from transcripts.store import load_transcript

    station = station_from(ctx)
    seconds = parse_offset(around, field="--around") if around is not None else None
    with station.session(write=False) as session:
        doc, normalized = load_transcript(session=session, episode=number)
    total = len(doc.cues)
    shown = window_around(doc.cues, seconds) if seconds is not None else range(total)
    cues = [doc.cues[i] for i in shown]
    norms = [normalized[i] for i in shown]
    if as_json:
        emit_json(
            {
                "episode": number,
                "source": doc.source,
                "model": doc.model,
                "settings": doc.settings,
                "language": doc.language,
                "segments": [
                    {
                        "start": cue.start,
                        "end": cue.end,
                        "timestamp": format_offset(cue.start),
                        "text": cue.text,
                        "text_norm": norm,
                    }
                    for cue, norm in zip(cues, norms, strict=True)
                ],
            }
        )
        return
    model = f", {doc.model}" if doc.model else ""
    part = (
        f"; segments {shown.start + 1}–{shown.stop} around {format_offset(seconds)}"
        if seconds is not None and cues
        else ""
    )
    echo(f"第{number}期 transcript: {plural(total, 'segment')} ({doc.source}{model}){part}")
    # Whole segments, one a line: a reader (or grep) never gets a cut sentence.
    for cue in cues:
        text = " ".join(cue.text.split())
        echo(f"{format_offset(cue.start)}–{format_offset(cue.end)}  {text}")


@app.command("export")
def export(
    ctx: typer.Context,
    number: int = EPISODE_ARGUMENT,
    fmt: str = typer.Option("srt", "--format", "-f", help="srt, vtt, txt or json."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write here, not stdout.", callback=expand_home
    ),
) -> None:
    """Write an episode's transcript as SRT, VTT, TXT or JSON."""
    from hotline.files import write_atomic
    from transcripts.store import export_transcript

    station = station_from(ctx)
    with station.session(write=False) as session:
        text = export_transcript(session=session, episode=number, fmt=fmt.lower())
    if output is None:
        sys.stdout.write(text)
        return
    write_atomic(output, text)
    echo(f"episode {number}: wrote {output}")


@app.command("delete")
def delete(
    ctx: typer.Context,
    number: int = EPISODE_ARGUMENT,
) -> None:
    """Delete an episode's transcript, its files and its search index entries."""
    from transcripts.store import delete_transcript

    station = station_from(ctx)
    with station.session() as session:
        removed = delete_transcript(session=session, episode=number, folder=station.transcripts_dir)
    echo(f"episode {number}: deleted the transcript ({plural(removed, 'segment')})")


def register(root: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    root.add_typer(app, name="transcripts")
