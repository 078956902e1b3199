"""``hotline tui``: open the producers' desk (the Textual app) on the current station.

Textual is imported inside the command, so every other command starts without it.
``open_tui(station)`` is what bare ``hotline`` calls from the root callback.
"""

from __future__ import annotations

import typer

from hotline.cli.common import station_from
from hotline.station import Station


def open_tui(station: Station) -> None:
    """Run the desk on ``station`` in this terminal until the user quits."""
    from tui.app import make_app  # textual loads only when the desk opens

    make_app(station).run()


def tui(ctx: typer.Context) -> None:
    """Open the producers' desk: 排期 嘉宾 听众 … in one keyboard-driven app."""
    open_tui(station_from(ctx))


def register(app: typer.Typer) -> None:
    """Add ``hotline tui`` to the root app."""
    app.command("tui")(tui)
