"""The ``hotline`` command: a thin typer layer over the domain functions.

Each command group lives in its own module and is registered here. Heavy modules
(audio, whisper, feeds, textual) are imported inside the commands that need them,
so ``hotline --help`` and the everyday commands start fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

from hotline.cli import (
    archive,
    bookings,
    demo,
    episodes,
    feeds,
    members,
    pipeline,
    questions,
    reports,
    search,
    station,
    transcripts,
)
from hotline.cli.common import HotlineGroup

app = typer.Typer(
    cls=HotlineGroup,
    help="政协热线 Hotline: schedule, bookings, listener questions, audio, transcripts, feeds.",
    no_args_is_help=False,
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    station: Path | None = typer.Option(
        None,
        "--station",
        "-s",
        help="Station folder (default: $HOTLINE_STATION or the nearest hotline.toml).",
    ),
) -> None:
    ctx.obj = {"station": station}
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())


for group in (
    station,
    episodes,
    members,
    bookings,
    reports,
    questions,
    archive,
    demo,
    pipeline,
    transcripts,
    search,
    feeds,
):
    group.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
