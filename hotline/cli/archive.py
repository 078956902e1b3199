"""``hotline export`` and ``hotline restore``: the whole station to portable files and back."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from hotline.cli.common import JSON_OPTION, echo, emit_json, expand_home, print_table, station_from

if TYPE_CHECKING:
    from hotline.backup import Manifest


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"


def _summary(manifest: Manifest, as_json: bool) -> None:
    if as_json:
        emit_json(
            {
                "format": manifest.data_format,
                "include_private": manifest.include_private,
                "schema_revision": manifest.schema_revision,
                "tables": {entry.name: entry.rows for entry in manifest.tables},
            }
        )
        return
    print_table(["table", "rows", "file"], [(e.name, e.rows, e.file) for e in manifest.tables])


def export(
    ctx: typer.Context,
    directory: Path = typer.Argument(
        ..., help="New or empty folder to write the export into.", callback=expand_home
    ),
    data_format: ExportFormat = typer.Option(
        ExportFormat.json,
        "--format",
        help="json: JSON Lines, one row a line; csv: one file a table.",
    ),
    include_private: bool = typer.Option(
        False, "--include-private", help="Also export members' and listeners' contact details."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Export every table of the station, with a manifest.json, for backup or moving."""
    from hotline.backup import export_station  # only when exporting: it loads the models

    station = station_from(ctx)
    with station.session(write=False) as session:
        manifest = export_station(
            session=session,
            target=directory,
            tz=station.tz,
            data_format=data_format.value,
            include_private=include_private,
        )
    _summary(manifest, as_json)
    if not as_json:
        private = "included" if include_private else "left out"
        echo(f"exported to {directory} ({data_format.value}; contact details {private})")


def restore(
    ctx: typer.Context,
    directory: Path = typer.Argument(
        ..., help="A folder written by `hotline export`.", callback=expand_home
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Load an export into this station, which must be empty (`hotline init NEWDIR` first)."""
    from hotline.backup import restore_station
    from transcripts.index import rebuild_index

    station = station_from(ctx)
    with station.session() as session:
        manifest = restore_station(session=session, source=directory)
        rebuild_index(session=session)  # the index is derived data, not in the export
    _summary(manifest, as_json)
    if not as_json:
        echo(f"restored {directory} into {station.root}")
        if not manifest.include_private:
            echo("note: the export left out contact details; members' and listeners' are empty")


def register(app: typer.Typer) -> None:
    """Add ``export`` and ``restore`` to the root app."""
    app.command("export")(export)
    app.command("restore")(restore)
