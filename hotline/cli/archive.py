"""``hotline export`` and ``hotline restore``: the tables to portable files and back; whole backups.

``export`` writes the tables only (for scripts, spreadsheets, moving rows elsewhere);
``hotline backup`` (``hotline.cli.backup``) keeps the whole station. ``restore`` takes
either: a table export into this (empty) station, or a backup as a new station.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from hotline.cli.common import (
    JSON_OPTION,
    echo,
    emit_json,
    expand_home,
    plural,
    print_table,
    station_from,
    writes_to,
)

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
        False,
        "--include-private",
        help="Also export contact details and what listeners said on call-backs.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Export every table of the station, with a manifest.json, for backup or moving."""
    from hotline import db
    from hotline.backup import export_station  # only when exporting: it loads the models

    writes_to(ctx, directory)
    station = station_from(ctx)
    with db.snapshot(station.engine) as session:  # every table as of one moment
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
        echo(
            f"exported to {directory} ({data_format.value}; "
            f"contact details and call-back notes {private})"
        )


RESTORE_HELP = (
    "Restore a backup as a new station (--to DIR), or load a table export into this one."
    "\n\n"
    "A backup folder restores its newest snapshot. When that one is damaged (the restore "
    "refuses it, naming the file), restore an older one by naming it, if that works: "
    "`hotline restore 备份盘/<snapshot> --to DIR`; `hotline backup verify 备份盘` says "
    "which snapshots are whole."
)


def restore(
    ctx: typer.Context,
    directory: Path = typer.Argument(
        ...,
        help="A backup folder (`hotline backup`) or a table export (`hotline export`).",
        callback=expand_home,
    ),
    to: Path | None = typer.Option(
        None, "--to", help="For a backup: the new station's folder (new or empty)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Restore a backup as a new station (--to DIR), or load a table export into this one."""
    from hotline import db
    from hotline.backup import MANIFEST_FILE
    from hotline.backup.snapshots import is_backup, nothing_to_restore
    from hotline.station import DATABASE_FILE, DATABASE_URL_ENV

    if is_backup(directory):
        if to is not None:
            writes_to(ctx, to)
            # The database it makes is the new station's, not the one of the folder the
            # command runs in: a failure of it (a full disk) is said of that one.
            ctx.find_root().obj["database_url"] = os.environ.get(DATABASE_URL_ENV) or db.sqlite_url(
                to.expanduser().absolute() / DATABASE_FILE
            )
        _restore_backup(directory, to, as_json)
        return
    if to is not None:
        if not (directory / MANIFEST_FILE).is_file():
            raise nothing_to_restore(directory)
        raise typer.BadParameter(
            f"{directory} is a table export: it loads into an existing empty station "
            "(--station DIR), not --to"
        )
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
            echo("note: the export left out contact details and call-back notes; they are empty")


def _restore_backup(directory: Path, to: Path | None, as_json: bool) -> None:
    from hotline import db
    from hotline.backup.station_restore import restore_backup
    from hotline.errors import InvalidInput

    if to is None:
        raise InvalidInput(
            f"{directory} is a whole-station backup: name the new station's folder with --to DIR"
        )
    report = restore_backup(source=directory, target=to)
    if as_json:
        emit_json(
            {
                "station": str(report.target),
                "snapshot": report.snapshot,
                "files": report.files,
                "bytes": report.bytes,
                "tables": report.tables,
                "include_private": report.include_private,
                "database": report.database or None,
                "seconds": round(report.seconds, 3),
            }
        )
        return
    echo(
        f"restored backup {report.snapshot} as {report.target}: {plural(report.files, 'file')}, "
        f"{plural(sum(report.tables.values()), 'row')}, in {report.seconds:.1f} s"
    )
    database = db.display_url(report.database) if report.database else "its own hotline.db"
    echo(f"its database: {database} (named in its hotline.toml)")
    if not report.include_private:
        echo("note: the backup left out contact details and call-back notes; they are empty")
    echo(f"next: cd {report.target} && hotline publish")


def register(app: typer.Typer) -> None:
    """Add ``export`` and ``restore`` to the root app."""
    app.command("export")(export)
    app.command("restore", help=RESTORE_HELP)(restore)
