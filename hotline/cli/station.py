"""``hotline init`` and ``hotline db …``: create a station and manage its schema."""

from __future__ import annotations

from pathlib import Path

import typer

from hotline import db
from hotline.cli.common import JSON_OPTION, echo, emit_json, expand_home, station_from
from hotline.station import find_station_root, init_station, open_station

db_app = typer.Typer(help="Database schema: upgrade, current revision.", no_args_is_help=True)


def init(
    directory: Path = typer.Argument(
        Path("."), help="Folder for the new station.", callback=expand_home
    ),
) -> None:
    """Create a station: hotline.toml, hotline.db and the archive folders."""
    station, created = init_station(directory)
    if created:
        echo(f"created station in {station.root}")
    else:
        echo(f"{station.root} is already a station; nothing changed")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply the schema migrations shipped with this version."""
    station = open_station(find_station_root(ctx.find_root().obj.get("station")), check=False)
    before = db.current_revision(station.engine)
    db.upgrade(station.engine)
    after = db.current_revision(station.engine)
    echo(
        f"schema {before or 'empty'} → {after}"
        if before != after
        else f"schema {after}: up to date"
    )


@db_app.command("current")
def db_current(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Show the database's schema revision."""
    station = station_from(ctx)
    revision = db.current_revision(station.engine)
    if as_json:
        emit_json({"revision": revision, "head": db.SCHEMA_HEAD, "url": station.url})
    else:
        echo(f"{revision} (head {db.SCHEMA_HEAD})")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(db_app, name="db")
