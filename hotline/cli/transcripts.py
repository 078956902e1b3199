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
    print_table,
    station_from,
)
from hotline.timeutil import format_offset

app = typer.Typer(help="Episode transcripts: 文字稿.", no_args_is_help=True)


@app.command("import")
def import_(
    ctx: typer.Context,
    number: int = EPISODE_ARGUMENT,
    file: Path = typer.Argument(..., help="An SRT, VTT, JSON (ours or whisper's) or TXT file."),
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
    echo(f"episode {number}: imported {count} segments from {file}")


@app.command("show")
def show(
    ctx: typer.Context,
    number: int = EPISODE_ARGUMENT,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show an episode's transcript: each segment's time and text as heard."""
    from transcripts.store import load_transcript

    station = station_from(ctx)
    with station.session() as session:
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
    echo(f"第{number}期 transcript: {len(doc.cues)} segments ({doc.source}{model})")
    print_table(
        ("开始", "结束", "文本"),
        ((format_offset(c.start), format_offset(c.end), c.text) for c in doc.cues),
        max_width=80,
    )


@app.command("export")
def export(
    ctx: typer.Context,
    number: int = EPISODE_ARGUMENT,
    fmt: str = typer.Option("srt", "--format", "-f", help="srt, vtt, txt or json."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here, not stdout."),
) -> None:
    """Write an episode's transcript as SRT, VTT, TXT or JSON."""
    from hotline.files import write_atomic
    from transcripts.store import export_transcript

    station = station_from(ctx)
    with station.session() as session:
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
    echo(f"episode {number}: deleted the transcript ({removed} segments)")


def register(root: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    root.add_typer(app, name="transcripts")
