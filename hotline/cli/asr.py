"""``hotline transcribe`` (one episode or the backlog) and ``hotline models list|convert``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer

from hotline.cli.common import (
    JSON_OPTION,
    echo,
    emit_json,
    print_table,
    station_from,
)
from hotline.errors import InvalidInput

models_app = typer.Typer(
    help="Whisper models on this machine: list them, convert checkpoints for faster-whisper.",
    no_args_is_help=True,
)


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
    number: int | None = typer.Argument(None, help="Episode number (or --backlog)."),
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="Model name, checkpoint or CTranslate2 folder (default: settings).",
    ),
    backend: str | None = typer.Option(
        None, "--backend", help="openai-whisper or faster-whisper (default: transcribe.backend)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Start over, even when the transcript is current or imported."
    ),
    backlog: bool = typer.Option(
        False, "--backlog", help="Queue every mastered episode without a complete transcript."
    ),
    newest_first: bool = typer.Option(
        True, "--newest-first/--oldest-first", help="Backlog order (jobs run in queue order)."
    ),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Backlog: at most N episodes."),
    date_from: str | None = typer.Option(None, "--from", help="Backlog: aired on or after."),
    date_to: str | None = typer.Option(None, "--to", help="Backlog: aired on or before."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Transcribe an episode's master (stores, indexes, writes transcripts/NNNN.*), or queue
    the whole backlog with --backlog and an estimate of the machine time it needs."""
    if backlog:
        if number is not None or force:
            raise InvalidInput("--backlog queues many episodes: give no episode number or --force")
        _queue_backlog(ctx, model, backend, newest_first, limit, date_from, date_to, as_json)
        return
    if number is None:
        raise InvalidInput("give an episode number, or --backlog to queue every untranscribed one")
    if limit is not None or date_from or date_to:
        raise InvalidInput("--limit, --from and --to go with --backlog")
    from transcripts.transcribe import transcribe_episode

    station = station_from(ctx)
    progress = None if as_json else _Milestones(number)
    result = transcribe_episode(
        station=station,
        number=number,
        model=model,
        engine=backend,
        force=force,
        progress=progress,
    )
    if as_json:
        emit_json(
            {
                "episode": result.episode,
                "outcome": result.outcome,
                "model": result.model,
                "backend": result.backend,
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


def _queue_backlog(
    ctx: typer.Context,
    model: str | None,
    backend: str | None,
    newest_first: bool,
    limit: int | None,
    date_from: str | None,
    date_to: str | None,
    as_json: bool,
) -> None:
    from transcripts.asr import choose_backend
    from transcripts.backlog import hours, queue_backlog

    if model or backend:
        # A job runs with the station's settings: the choice must be there to apply.
        raise InvalidInput(
            "--model and --backend apply to one episode; for the backlog set transcribe.model "
            "and transcribe.backend in hotline.toml"
        )
    station = station_from(ctx)
    settings = station.settings.transcribe
    spec = settings.model.strip()
    engine = choose_backend(settings, base=station.root)
    with station.session() as session:
        result = queue_backlog(
            session=session,
            tz=station.tz,
            newest_first=newest_first,
            limit=limit,
            date_from=date_from,
            date_to=date_to,
            backend=engine,
            model=spec,
        )
    if as_json:
        emit_json(
            {
                "queued": [
                    {"job": job, "episode": episode, "audio_seconds": round(seconds, 3)}
                    for job, episode, seconds in result.queued
                ],
                "episodes": len(result.queued),
                "audio_seconds": round(result.audio_seconds, 3),
                "not_mastered": result.not_mastered,
                "backend": engine,
                "model": spec,
                "seconds_per_audio_second": (
                    round(result.rate.seconds_per_audio_second, 4) if result.rate else None
                ),
                "estimated_machine_seconds": (
                    round(result.machine_seconds, 1) if result.machine_seconds is not None else None
                ),
            }
        )
        return
    if not result.queued:
        echo("nothing to queue: every mastered episode has a complete transcript")
    else:
        order = "newest first" if newest_first else "oldest first"
        first, last = result.queued[0][1], result.queued[-1][1]
        echo(
            f"queued {len(result.queued)} episode(s), {order} (第{first}期 … 第{last}期): "
            f"{hours(result.audio_seconds)} of audio for {engine} {spec}"
        )
        if result.rate is not None and result.machine_seconds is not None:
            echo(
                f"estimated machine time: {hours(result.machine_seconds)} for one worker "
                f"(at {result.rate.describe()}); `hotline jobs list` updates it as jobs finish"
            )
        else:
            echo(
                "estimated machine time: not yet known; nothing was transcribed on this station "
                "so far, and `hotline jobs list` shows it once the first episode is done"
            )
        echo("run them with `hotline process --kind transcribe` (or a worker on each machine)")
    if result.not_mastered:
        echo(
            f"{result.not_mastered} episode(s) have a recording but no master yet: "
            "`hotline process` masters them first"
        )


@models_app.command("list")
def list_models(
    as_json: bool = JSON_OPTION,
) -> None:
    """Whisper models on this machine, of both kinds, and the backend that runs each
    (nothing is ever downloaded)."""
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
                        "kind": m.kind,
                        "backend": m.backend,
                        "quantization": m.quantization or None,
                    }
                    for m in models
                ],
            }
        )
        return
    echo("searched: " + ", ".join(str(d) for d in cache_dirs()))
    print_table(
        ("模型", "文件", "backend", "状态", "位置"),
        (
            (
                m.name,
                m.file,
                m.backend + (f" ({m.quantization})" if m.quantization else ""),
                f"available, {m.size / 1e6:.0f} MB" if m.size is not None else "not on disk",
                str(m.path) if m.path else "",
            )
            for m in models
        ),
        max_width=80,
    )
    if not any(m.available for m in models):
        echo(f"no whisper model here; to add one: {how_to_provide('small')}")
    elif not any(m.available and m.kind == "ctranslate2" for m in models):
        echo("no CTranslate2 model yet: `hotline models convert CHECKPOINT.pt` makes one offline")


@models_app.command("convert")
def convert(
    checkpoint: Path = typer.Argument(..., help="An openai-whisper checkpoint (.pt)."),
    quantization: str = typer.Option(
        "int8", "--quantization", "-q", help="int8 (CPU, smallest), float16 (GPU) or float32."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Model folder to write (default: NAME-ct2-QUANT in the model folder)."
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing folder."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Convert an openai-whisper checkpoint into a CTranslate2 model for faster-whisper,
    without network access (tokenizer from the openai-whisper package's own files)."""
    from transcripts.convert import QUANTIZATIONS, convert_checkpoint, default_output
    from transcripts.models_offline import convert_dir

    quantization = quantization.strip().lower()
    if quantization not in QUANTIZATIONS:
        raise InvalidInput(
            f"--quantization {quantization!r}: use one of {', '.join(QUANTIZATIONS)}"
        )
    checkpoint = checkpoint.expanduser()
    target = out.expanduser() if out else default_output(checkpoint, quantization, convert_dir())
    done = convert_checkpoint(checkpoint, out=target, quantization=quantization, force=force)
    if as_json:
        emit_json(
            {
                "checkpoint": str(done.source),
                "path": str(done.path),
                "quantization": done.quantization,
                "bytes": done.bytes,
                "multilingual": done.multilingual,
                "seconds": round(done.seconds, 1),
            }
        )
        return
    echo(
        f"converted {done.source} → {done.path} ({done.quantization}, "
        f"{done.bytes / 1e6:.0f} MB, {done.seconds:.0f} s)"
    )
    from transcripts.models_offline import MODEL_FILES, ct2_model_name, prefers_ct2

    name = ct2_model_name(done.path)
    named = name in MODEL_FILES and prefers_ct2(name, prefer=done.quantization)
    echo(
        f'faster-whisper uses it with transcribe.model = "{name if named else done.path}" '
        "(transcribe.backend auto or faster-whisper)"
    )


def register(app: typer.Typer) -> None:
    """Add ``transcribe`` and the ``models`` group to the root app."""
    app.command("transcribe")(transcribe)
    app.add_typer(models_app, name="models")
