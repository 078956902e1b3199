"""``hotline transcribe N`` and ``hotline models list``: speech to text with whisper, offline."""

from __future__ import annotations

import sys
import time

import typer

from hotline.cli.common import (
    EPISODE_ARGUMENT,
    JSON_OPTION,
    echo,
    emit_json,
    print_table,
    station_from,
)

models_app = typer.Typer(help="Whisper models available on this machine.", no_args_is_help=True)


class _Milestones:
    """Progress on stderr: one line whenever the stage changes (a chunk, writing files).

    Nothing is printed before the first chunk, so a run refused up front (no master, no
    model) says only its one-line error.
    """

    def __init__(self, number: int) -> None:
        self.number = number
        self.last = ""
        self.started = time.monotonic()

    def __call__(self, fraction: float, message: str) -> None:
        if not self.last and not message.startswith("chunk"):
            return
        if message and message != self.last:
            self.last = message
            elapsed = time.monotonic() - self.started
            sys.stderr.write(f"第{self.number}期 {fraction:4.0%} {message} ({elapsed:.0f} s)\n")
            sys.stderr.flush()


def transcribe(
    ctx: typer.Context,
    number: int = EPISODE_ARGUMENT,
    model: str | None = typer.Option(
        None, "--model", "-m", help="Whisper model name or checkpoint path (default: settings)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Start over, even when the transcript is current or imported."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Transcribe an episode's master: stores and indexes segments, writes transcripts/NNNN.*"""
    from transcripts.transcribe import transcribe_episode

    station = station_from(ctx)
    progress = None if as_json else _Milestones(number)
    result = transcribe_episode(
        station=station, number=number, model=model, force=force, progress=progress
    )
    if as_json:
        emit_json(
            {
                "episode": result.episode,
                "outcome": result.outcome,
                "model": result.model,
                "segments": result.segments,
                "chunks": result.chunks,
                "resumed_from_chunk": result.resumed_from,
                "audio_seconds": round(result.seconds, 3),
                "speech_seconds": round(result.speech_seconds, 3),
                "timings": result.timings,
                "files": [p.relative_to(station.root).as_posix() for p in result.files],
            }
        )
        return
    echo(result.message)
    for path in result.files:
        echo(f"  {path.relative_to(station.root).as_posix()}")


@models_app.command("list")
def list_models(
    as_json: bool = JSON_OPTION,
) -> None:
    """Which whisper models are on this machine and where (nothing is ever downloaded)."""
    from transcripts.models_offline import cache_dirs, how_to_provide, list_models

    models = list_models()
    if as_json:
        emit_json(
            {
                "searched": [str(d) for d in cache_dirs()],
                "models": [
                    {
                        "name": m.name,
                        "file": m.file,
                        "available": m.available,
                        "path": str(m.path) if m.path else None,
                        "bytes": m.size,
                    }
                    for m in models
                ],
            }
        )
        return
    echo("searched: " + ", ".join(str(d) for d in cache_dirs()))
    print_table(
        ("模型", "文件", "状态", "位置"),
        (
            (
                m.name,
                m.file,
                f"available, {m.size / 1e6:.0f} MB" if m.size is not None else "not on disk",
                str(m.path) if m.path else "",
            )
            for m in models
        ),
        max_width=80,
    )
    if not any(m.available for m in models):
        echo(f"no whisper model here; to add one: {how_to_provide('small')}")


def register(app: typer.Typer) -> None:
    """Add ``transcribe`` and the ``models`` group to the root app."""
    app.command("transcribe")(transcribe)
    app.add_typer(models_app, name="models")
