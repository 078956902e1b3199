"""Keeping the station: whole-station backups, and table exports for scripting.

``hotline backup`` (``station_backup``, ``verify``, ``station_restore``, laid out by
``snapshots``) keeps everything a station needs to come back: rows, settings, art,
audio, transcripts and the published feeds, in checksummed, incremental snapshots.
``export_station`` and ``restore_station`` move the tables alone to portable files and
back (``codec`` knows how each kind of column is written, ``manifest`` what an export
holds); backups store their tables the same way.
"""

from hotline.backup.export import export_station
from hotline.backup.manifest import MANIFEST_FILE, PRIVATE_COLUMNS, Manifest, TableEntry
from hotline.backup.restore import restore_station

__all__ = [
    "MANIFEST_FILE",
    "PRIVATE_COLUMNS",
    "Manifest",
    "TableEntry",
    "export_station",
    "restore_station",
]
