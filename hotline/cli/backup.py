"""``hotline backup DIR`` and ``hotline backup verify DIR``: the whole station, kept safe.

``hotline restore`` (``hotline.cli.archive``) takes a backup folder as well as a table
export.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from hotline.cli.common import JSON_OPTION, echo, emit_json, plural, station_from, writes_to


def size_text(n: float) -> str:
    """Bytes for people: 8.6 GB, 412.0 MB, 3.1 kB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} B"


class DefaultCreate(TyperGroup):
    """``hotline backup DIR`` runs ``create``; ``hotline backup verify DIR`` runs ``verify``."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["create", *args]
        return super().parse_args(ctx, args)


backup_app = typer.Typer(
    cls=DefaultCreate,
    help="Back up the whole station (rows, settings, art, audio, transcripts); verify backups.",
    no_args_is_help=True,
)


@backup_app.command("create")
def create(
    ctx: typer.Context,
    directory: Path = typer.Argument(
        ..., help="Backup folder: new, or one holding earlier backups (then only changes copy)."
    ),
    include_private: bool = typer.Option(
        False,
        "--include-private",
        help="Also back up contact details and call-back notes (files then 0600).",
    ),
    data_format: str = typer.Option("json", "--format", help="Tables as json or csv."),
    keep: int = typer.Option(2, "--keep", help="Complete backups kept in the folder."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Back up the station into DIR (the default: `hotline backup DIR`)."""
    from hotline.backup.station_backup import backup_station

    writes_to(ctx, directory)
    station = station_from(ctx)
    report = backup_station(
        station=station,
        target=directory,
        include_private=include_private,
        data_format=data_format,
        keep=keep,
    )
    if as_json:
        emit_json(
            {
                "folder": str(report.folder),
                "snapshot": report.snapshot,
                "files": report.files,
                "copied": report.copied,
                "unchanged": report.linked,
                "bytes_written": report.bytes_written,
                "bytes": report.total_bytes,
                "seconds": round(report.seconds, 3),
                "tables": report.tables,
                "include_private": report.include_private,
                "pruned": report.pruned,
            }
        )
        return
    echo(
        f"backed up {station.root} to {report.folder / report.snapshot}: "
        f"{plural(report.files, 'file')}, {size_text(report.total_bytes)}"
    )
    echo(
        f"copied {report.copied}, unchanged {report.linked} (linked to the previous backup); "
        f"{size_text(report.bytes_written)} written in {report.seconds:.1f} s"
    )
    rows = sum(report.tables.values())
    private = "included (files readable by you only)" if include_private else "left out"
    echo(
        f"tables: {plural(rows, 'row')} in {plural(len(report.tables), 'table')}; "
        f"contact details and call-back notes {private}"
    )
    if report.pruned:
        echo(f"removed {plural(len(report.pruned), 'older backup')}: {', '.join(report.pruned)}")


@backup_app.command("verify")
def verify(
    directory: Path = typer.Argument(..., help="A backup folder (or one snapshot in it)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Read every file of every backup in DIR again and compare it with its sha256."""
    from hotline.backup.verify import verify_backup

    report = verify_backup(directory)
    problems = [p for s in report.snapshots for p in s.problems]
    if as_json:
        data: dict[str, Any] = {
            "ok": report.ok,
            "folder": str(report.folder),
            "snapshots": [
                {"name": s.name, "files": s.files, "bytes": s.bytes, "problems": s.problems}
                for s in report.snapshots
            ],
            "unfinished": report.unfinished,
            "bytes_read": report.bytes_read,
            "seconds": round(report.seconds, 3),
        }
        emit_json(data)
    else:
        for check in report.snapshots:
            verdict = plural(len(check.problems), "problem") if check.problems else "ok"
            files = plural(check.files, "file")
            echo(f"{check.name}: {files}, {size_text(check.bytes)}: {verdict}")
        for name in report.unfinished:
            echo(f"{name}: unfinished (a backup was interrupted; the next one removes it)")
        echo(f"read {size_text(report.bytes_read)} in {report.seconds:.1f} s")
    if problems:
        for problem in problems:
            typer.echo(f"hotline: error: {problem}", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``hotline backup`` to the root app."""
    app.add_typer(backup_app, name="backup")
