"""Export a station to portable files (JSON Lines or CSV) and restore them into an empty station.

``export_station`` and ``restore_station`` are the two entry points; ``codec`` knows
how each kind of column is written, ``manifest`` what an export holds.
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
