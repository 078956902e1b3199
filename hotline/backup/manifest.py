"""The export's manifest.json and what is exported of each table (private columns aside).

The tables are every table of ``hotline.models`` (``SQLModel.metadata``), in an order
where each table comes after the tables its foreign keys point to.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hotline import models
from hotline.errors import InvalidInput

MANIFEST_FILE = "manifest.json"
FORMAT_NAME = "hotline-export"
FORMAT_VERSION = 2
"""2: CSV text cells protected against formula injection (``formula_prefix``)."""
DATA_FORMATS = ("json", "csv")
FILE_SUFFIX = {"json": ".jsonl", "csv": ".csv"}

# Contact details of members, listeners and departments, and what a listener said on a
# call-back (every column marked ``models.PRIVATE``): left out of an export unless asked
# for. The change history never holds the contacts (hotline.history records them as *** or
# ""); a call-back's note it holds by value, and an export without private columns leaves
# it out of the history's changes too (``history.hidden_fields``).
PRIVATE_COLUMNS: frozenset[sa.Column] = frozenset(
    column
    for table in models.SQLModel.metadata.sorted_tables
    for column in models.private_columns(table)
)


# The search index is derived from the segments: left out of exports and rebuilt after
# a restore (by the caller, which may import the transcripts package).
DERIVED_TABLES: frozenset[str] = frozenset(
    {
        models.SearchEpisode.__tablename__,
        models.SearchToken.__tablename__,
        models.SearchPosting.__tablename__,
        models.SearchBitmap.__tablename__,
    }
)


# Which station a database belongs to is the database's own (hotline.identity): a restore
# keeps the target station's identity, so that row is neither exported nor restored.
IDENTITY_TABLE = models.StationRecord.__tablename__


def tables() -> list[sa.Table]:
    """Every table of the schema but the derived ones and the station's identity, each after
    the tables it refers to."""
    return [
        t
        for t in models.SQLModel.metadata.sorted_tables
        if t.name not in DERIVED_TABLES and t.name != IDENTITY_TABLE
    ]


def exported_columns(table: sa.Table, *, include_private: bool) -> list[sa.Column]:
    return [c for c in table.columns if include_private or c not in PRIVATE_COLUMNS]


@dataclass
class TableEntry:
    """One table's file in the export (or its folder of parts, in load order)."""

    name: str
    file: str
    rows: int
    columns: list[str]
    parts: list[str] = field(default_factory=list)
    """Files under ``file`` (a folder) that hold the rows, when the table is split."""
    part_keys: dict[str, str] = field(default_factory=dict)
    """Per part, what it holds (``hotline backup`` reuses a part whose key is unchanged)."""

    def files(self) -> list[str]:
        """The files holding the rows, relative to the export folder, in load order."""
        # A folder of parts has no suffix, and no parts when the table is empty.
        split = bool(self.parts) or not Path(self.file).suffix
        return [f"{self.file}/{part}" for part in self.parts] if split else [self.file]


@dataclass
class Manifest:
    """What an export holds and how it was made."""

    schema_revision: str
    data_format: str
    include_private: bool
    created_at: str
    timezone: str
    tables: list[TableEntry] = field(default_factory=list)
    format: str = FORMAT_NAME
    format_version: int = FORMAT_VERSION
    null_cell: str = "\\N"
    formula_prefix: str = ""
    """CSV only: the apostrophe put before text cells a spreadsheet would run as formulas."""

    def text(self) -> str:
        """``manifest.json``'s contents."""
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        """Read and check ``folder/manifest.json``; refuse anything that is not one of ours."""
        path = folder / MANIFEST_FILE
        if not folder.is_dir():
            raise InvalidInput(f"{folder} is not a folder")
        if not path.is_file():
            raise InvalidInput(f"{folder} is not an export: it has no {MANIFEST_FILE}")
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{path}: not UTF-8 ({exc.reason})") from exc
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
            raise InvalidInput(f"{path} is not a hotline export manifest")
        if (
            not isinstance(data.get("format_version"), int)
            or data["format_version"] > FORMAT_VERSION
        ):
            raise InvalidInput(
                f"{path}: export format version {data.get('format_version')!r} is newer than "
                f"this hotline reads ({FORMAT_VERSION}); upgrade hotline"
            )
        try:
            entries = [TableEntry(**entry) for entry in data.pop("tables")]
            manifest = cls(**data, tables=entries)
        except (TypeError, KeyError) as exc:
            raise InvalidInput(f"{path}: malformed manifest ({exc})") from exc
        if manifest.data_format not in DATA_FORMATS:
            raise InvalidInput(f"{path}: unknown data format {manifest.data_format!r}")
        return manifest
