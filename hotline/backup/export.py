"""Export a whole station to a folder: one JSON Lines or CSV file per table, and a manifest.

The export is written into a hidden sibling folder and renamed into place at the end,
so a failed export leaves no half-written folder behind, and the next export removes
what a killed one left. An export with contact details (``include_private``) is
readable by its owner only from the moment each file is created: folders 0700, files
0600. ``write_tables`` is the part ``hotline backup`` shares.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from hotline import db, history, models, privacy
from hotline.backup.access import require_every_table
from hotline.backup.codec import FORMULA_PREFIX, column_kind, json_row, to_csv_cell
from hotline.backup.leftovers import claimed, remove_leftovers
from hotline.backup.manifest import (
    DATA_FORMATS,
    FILE_SUFFIX,
    MANIFEST_FILE,
    Manifest,
    TableEntry,
    exported_columns,
    tables,
)
from hotline.errors import InvalidInput
from hotline.timeutil import local_iso, utcnow

BATCH = 1000


def _write_rows(
    out: IO[str],
    rows: Iterable[Sequence[Any]],
    columns: list[sa.Column],
    data_format: str,
    tz: ZoneInfo,
) -> int:
    kinds = [column_kind(c) for c in columns]
    names = [c.name for c in columns]
    count = 0
    if data_format == "csv":
        writer = csv.writer(out)
        writer.writerow(names)
        for row in rows:
            writer.writerow([to_csv_cell(k, v, tz) for k, v in zip(kinds, row, strict=True)])
            count += 1
        return count
    encode, convert = _ENCODER.encode, json_row(kinds, tz)
    for row in rows:
        out.write(encode(dict(zip(names, convert(row), strict=True))))
        out.write("\n")
        count += 1
    return count


def _without_hidden_changes(
    rows: Iterable[Sequence[Any]], columns: list[sa.Column]
) -> Iterator[Sequence[Any]]:
    """History rows as staff read them (``history.SHARED_VIEW``): the private fields the
    history records by value (a call-back's note) left out of ``changes``."""
    hidden = history.hidden_fields()
    names = [c.name for c in columns]
    entity, changes = names.index("entity"), names.index("changes")
    for row in rows:
        fields = hidden.get(row[entity])
        if fields and isinstance(row[changes], dict):
            kept = {k: v for k, v in row[changes].items() if k not in fields}
            row = (*row[:changes], kept, *row[changes + 1 :])
        yield row


# One encoder for every row: ``json.dumps`` with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False)

Reuse = Callable[[str, str], bool]
"""Called with (part file, key) before a part is written: True when the caller put an
unchanged copy of it there (``hotline backup`` links the previous snapshot's)."""


def _segment_parts(
    conn: sa.Connection,
    folder: Path,
    columns: list[sa.Column],
    data_format: str,
    tz: ZoneInfo,
    private: bool,
    reuse: Reuse | None,
) -> TableEntry:
    """The segment table as one file per transcript: ``segment/<transcript id>.jsonl``.

    A complete transcript's segments never change in place (a new transcript replaces
    the whole row and its segments), so the key (transcript id, creation time, progress,
    rows, highest segment id) names its part's content, and an unchanged part can be
    reused instead of written: the archive's segments are most of its rows.
    """
    transcript, segment = models.Transcript.__table__, models.Segment.__table__
    # Counted from the segment index alone, then matched to the transcripts: joining the
    # two in SQL probes the index once per transcript and took twice as long.
    counted = {
        transcript_id: (rows, highest)
        for transcript_id, rows, highest in conn.execute(
            sa.select(segment.c.transcript_id, sa.func.count(), sa.func.max(segment.c.id)).group_by(
                segment.c.transcript_id
            )
        )
    }
    keys = [
        (transcript_id, created, complete, chunks, *counted.get(transcript_id, (0, None)))
        for transcript_id, created, complete, chunks in conn.execute(
            sa.select(
                transcript.c.id,
                transcript.c.created_at,
                transcript.c.complete,
                transcript.c.chunks_done,
            ).order_by(transcript.c.id)
        )
    ]
    (folder / segment.name).mkdir(mode=0o700 if private else 0o777)
    entry = TableEntry(segment.name, segment.name, 0, [c.name for c in columns])
    for transcript_id, created, complete, chunks, rows, highest in keys:
        if not rows:
            continue
        part = f"{transcript_id}{FILE_SUFFIX[data_format]}"
        key = f"{transcript_id}:{created.isoformat()}:{complete}:{chunks}:{rows}:{highest}"
        entry.parts.append(part)
        entry.part_keys[part] = key
        entry.rows += rows
        if complete and reuse is not None and reuse(f"{segment.name}/{part}", key):
            continue
        query = (
            sa.select(*columns)
            .where(segment.c.transcript_id == transcript_id)
            .order_by(segment.c.id)
        )
        with open_new(folder / segment.name / part, private=private) as out:
            written = _write_rows(out, conn.execute(query), columns, data_format, tz)
        if written != rows:
            raise RuntimeError(f"transcript {transcript_id} changed while it was exported")
    return entry


def _check_target(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise InvalidInput(f"{target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()):
        raise InvalidInput(f"{target} is not empty; export into a new or empty folder")


def open_new(path: Path, *, private: bool) -> IO[str]:
    """A new text file for writing; 0600 from its creation when ``private``."""
    mode = 0o600 if private else 0o666

    def opener(name: str, flags: int) -> int:
        return os.open(name, flags, mode)

    # Opened by name (not from a bare descriptor) so that a full disk is reported with it.
    return open(str(path), "x", encoding="utf-8", newline="", opener=opener)  # noqa: SIM115


def write_tables(
    *,
    session: Session,
    folder: Path,
    tz: ZoneInfo,
    data_format: str = "json",
    include_private: bool = False,
    reuse: Reuse | None = None,
) -> Manifest:
    """Write every table and ``manifest.json`` into ``folder`` (which exists, empty).

    With ``reuse`` (``hotline backup``), the segment table is written in parts, one per
    transcript, and ``reuse`` may supply unchanged parts; without, one file a table.
    """
    if data_format not in DATA_FORMATS:
        raise InvalidInput(f"unknown export format {data_format!r}: use json or csv")
    conn = session.connection()
    manifest = Manifest(
        schema_revision=db.revision_in(conn) or "",
        data_format=data_format,
        include_private=include_private,
        created_at=local_iso(utcnow(), tz) or "",
        timezone=tz.key,
        formula_prefix=FORMULA_PREFIX if data_format == "csv" else "",
    )
    for table in tables():
        columns = exported_columns(table, include_private=include_private)
        if reuse is not None and table.name == models.Segment.__tablename__:
            manifest.tables.append(
                _segment_parts(conn, folder, columns, data_format, tz, include_private, reuse)
            )
            continue
        name = table.name + FILE_SUFFIX[data_format]
        query = sa.select(*columns).order_by(*table.primary_key.columns)
        rows: Iterable[Sequence[Any]] = conn.execution_options(yield_per=BATCH).execute(query)
        if table is models.history_table and not include_private:
            rows = _without_hidden_changes(rows, columns)
        with open_new(folder / name, private=include_private) as out:
            count = _write_rows(out, rows, columns, data_format, tz)
        manifest.tables.append(TableEntry(table.name, name, count, [c.name for c in columns]))
    with open_new(folder / MANIFEST_FILE, private=include_private) as out:
        out.write(manifest.text())
    return manifest


def export_station(
    *,
    session: Session,
    target: Path,
    tz: ZoneInfo,
    data_format: str = "json",
    include_private: bool = False,
) -> Manifest:
    """Write every table to ``target`` (a new or empty folder) and return the manifest.

    Args:
        session: an open session on the station; only read from.
        target: the folder to create.
        tz: the station's zone; times are written in it, with their offset.
        data_format: ``json`` (JSON Lines, one row a line) or ``csv`` (one file a table).
        include_private: also write members' and listeners' contact details.
    """
    if data_format not in DATA_FORMATS:
        raise InvalidInput(f"unknown export format {data_format!r}: use json or csv")
    # Said of the tables and the contacts before any folder is made.
    if include_private:
        privacy.require_private(session)
    require_every_table(session, doing="export")
    target = target.resolve()  # `hotline export .` needs the folder's real name and parent
    _check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Any killed export's, whatever its name (not those still at work).
    remove_leftovers(target.parent, ".*.partial-*")
    staging = target.parent / f".{target.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700 if include_private else 0o777)
    try:
        with claimed(staging):
            manifest = write_tables(
                session=session,
                folder=staging,
                tz=tz,
                data_format=data_format,
                include_private=include_private,
            )
            if target.is_dir():
                target.rmdir()  # empty, checked above
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest
