"""The ``hotline`` command: a thin typer layer over the domain functions.

Each command group lives in its own module with a ``register(app)`` function. The
root group loads a module only when one of its commands is invoked (or when help
lists them all), so an everyday command pays for its own imports and no others.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from hotline.cli.common import HotlineGroup, expand_home
from hotline.cli.failures import one_line_failures
from hotline.console import modules_loaded

# Command name → the module under hotline.cli that registers it, in help order.
COMMANDS: dict[str, str] = {
    "init": "station",
    "db": "station",
    "episodes": "episodes",
    "members": "members",
    "bookings": "bookings",
    "report": "reports",
    "questions": "questions",
    "departments": "departments",
    "referrals": "referrals",
    "history": "history",
    "live": "live",
    "ingest": "pipeline",
    "process": "pipeline",
    "worker": "pipeline",
    "jobs": "pipeline",
    "tags": "pipeline",
    "transcribe": "asr",
    "models": "asr",
    "transcripts": "transcripts",
    "search": "search",
    "publish": "feeds",
    "feeds": "feeds",
    "backup": "backup",
    "export": "archive",
    "restore": "archive",
    "demo": "demo",
    "tui": "tui",
}


class RootGroup(HotlineGroup):
    lazy_commands = COMMANDS

    def invoke(self, ctx: typer.Context) -> object:
        # Failures of the database or the machine, and bugs: one line, traceback to the log.
        with one_line_failures(ctx):
            return super().invoke(ctx)


app = typer.Typer(
    cls=RootGroup,
    help="政协热线 Hotline: schedule, bookings, listener questions, audio, transcripts, feeds.",
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
        callback=expand_home,
    ),
) -> None:
    ctx.obj = {"station": station}
    # By now the invoked command's module (and the domain modules it imports) is loaded.
    modules_loaded()
    if ctx.invoked_subcommand is None:
        # Bare `hotline` at a terminal opens the desk; piped or scripted, it prints help
        # rather than starting a full-screen app nobody can see.
        if sys.stdin.isatty() and sys.stdout.isatty():
            from hotline.cli.common import station_from
            from hotline.cli.tui import open_tui

            open_tui(station_from(ctx))
        else:
            typer.echo(ctx.get_help())


def main() -> None:
    """Console-script entry point."""
    app()
