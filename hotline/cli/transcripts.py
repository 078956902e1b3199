"""``hotline transcripts …``: import, show, export and delete an episode's transcript."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from hotline.cli.common import (
    EPISODE_ARGUMENT,
    JSON_OPTION,
    echo,
    emit_json,
    expand_home,
    plural,
    station_from,
    writes_to,
)
from hotline.timeutil import format_offset, parse_offset

app = typer.Typer(help="Episode transcripts: 文字稿.", no_args_is_help=True)


@app.command("import")
def import_(
    ctx: typer.Context,
    number: int = EPISODE_ARGUMENT,
    file: Path = typer.Argument(
        ..., help="An SRT, VTT, JSON (ours or whisper's) or TXT file.", callback=expand_home
    ),
    encoding: str | None = typer.Option(
        None,
        "--encoding",
        help="The file's encoding (gb18030, big5, utf-16, …); detected when not given.",
    ),
) -> None:
    """Load a transcript made elsewhere, replacing any stored one, and index it for search."""
    from transcripts.store import import_transcript

    station = station_from(ctx)
    with station.session() as session:
        count = import_transcript(
            session=session,
            episode=number,
            path=file,
            folder=station.transcripts_dir,
            encoding=encoding,
        )
    echo(f"episode {number}: imported {plural(count, 'segment')} from {file}")


@app.command("show")
def show(
    ctx: typer.Context,
    number: int = EPISODE_ARGUMENT,
    around: str | None = typer.Option(
        None, "--around", help="Only the lines around this moment (MM:SS), on the word said then."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show an episode's transcript: each segment's times and its whole text as heard."""
    from transcripts.store import load_transcript

    if around is not None:
        _show_around(ctx, number, parse_offset(around, field="--around"), as_json)
        return
    station = station_from(ctx)
    with station.session(write=False) as session:
        doc, normalized = load_transcript(session=session, episode=number)
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
                    for cue, norm in zip(doc.cues, normalized, strict=True)
                ],
            }
        )
        return
    model = f", {doc.model}" if doc.model else ""
    echo(f"第{number}期 transcript: {plural(len(doc.cues), 'segment')} ({doc.source}{model})")
    # Whole segments, one a line: a reader (or grep) never gets a cut sentence.
    for cue in doc.cues:
        text = " ".join(cue.text.split())
        echo(f"{format_offset(cue.start)}–{format_offset(cue.end)}  {text}")


def _show_around(ctx: typer.Context, number: int, moment: float, as_json: bool) -> None:
    from transcripts.around import window_at

    station = station_from(ctx)
    with station.session(write=False) as session:
        landing = window_at(session=session, episode=number, moment=moment)
    window, word = landing.window, landing.word
    if as_json:
        emit_json(
            {
                "episode": number,
                "moment": moment,
                "word": (
                    {"start": word.start, "end": word.end, "text": word.text} if word else None
                ),
                "at": word.start if word else window.lines[window.hit].start,
                "segments": [
                    {
                        "start": line.start,
                        "end": line.end,
                        "timestamp": format_offset(line.start),
                        "text": line.heard or line.text,
                        "hit": i == window.hit,
                    }
                    for i, line in enumerate(window.lines)
                ],
                "questions": [
                    {"id": q.question_id, "offset": q.offset, "aligned": q.aligned, "text": q.text}
                    for q in window.questions
                ],
            }
        )
        return
    landed = (
        f"the word 【{word.text.strip()}】 at {format_offset(word.start)} ({word.start:.2f} s)"
        if word
        else "no word timings stored: the segment said then"
    )
    echo(f"第{number}期 around {format_offset(moment)}: {landed}")
    for i, line in enumerate(window.lines):
        text = line.heard or line.text  # as said; the word's span is in that text
        if i == window.hit and landing.span is not None:
            a, b = landing.span
            text = f"{text[:a]}【{text[a:b]}】{text[b:]}"
        mark = "→" if i == window.hit else " "
        echo(f"{mark} {format_offset(line.start)}  {text}")
    for q in window.questions:
        said = f" (first word at {format_offset(q.aligned)})" if q.aligned is not None else ""
        echo(f"  问题 {q.question_id} 回答于 {format_offset(q.offset)}{said}: {q.text}")


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
    writes_to(ctx, output)
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
