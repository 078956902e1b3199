"""The station: a folder with settings, a database and the archive, found like git finds a repo."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from hotline import db, identity
from hotline.config import Settings, load_settings, save_settings, without_password
from hotline.errors import InvalidInput, StationNotFound
from hotline.failures import Where
from hotline.timeutil import zone

SETTINGS_FILE = "hotline.toml"
DATABASE_FILE = "hotline.db"
ARCHIVE_DIRS = (
    "audio/raw",
    "audio/master",
    "transcripts",
    "public/feeds",
    "public/audio",
    "public/transcripts",
    "public/chapters",
)


@dataclass
class Station:
    """An opened station: its folder, its settings and its database."""

    root: Path
    settings: Settings = field(default_factory=Settings)
    database_url: str | None = None

    @property
    def settings_path(self) -> Path:
        return self.root / SETTINGS_FILE

    @property
    def url(self) -> str:
        return self.database_url or db.sqlite_url(self.root / DATABASE_FILE)

    @property
    def where(self) -> Where:
        """The station as a failure's one line names it (``hotline.failures``)."""
        return Where(self.root, self.url, self.settings.database.busy_timeout_seconds)

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.settings.show.timezone)

    @property
    def raw_dir(self) -> Path:
        return self.root / "audio" / "raw"

    @property
    def master_dir(self) -> Path:
        return self.root / "audio" / "master"

    @property
    def transcripts_dir(self) -> Path:
        return self.root / "transcripts"

    @property
    def public_dir(self) -> Path:
        return self.root / "public"

    @cached_property
    def engine(self) -> Engine:
        return db.make_engine(self.url, busy_timeout=self.settings.database.busy_timeout_seconds)

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on error.

        A write session (the default) holds its locks before its first read, so a command
        that checks and then writes cannot be overtaken between the two; commands that
        only read pass ``write=False`` and never wait for a writer.
        """
        with db.transaction(self.engine, write=write) as session:
            yield session

    def path_inside(self, relative: str, *, what: str) -> Path:
        """Resolve a path from settings or the database, refusing one that escapes the station."""
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root.resolve()):
            raise InvalidInput(f"{what} {relative!r} is outside the station folder")
        return candidate


def is_station(path: Path) -> bool:
    return (path / SETTINGS_FILE).is_file()


def find_station_root(explicit: Path | None = None, cwd: Path | None = None) -> Path:
    """``--station DIR``, else ``HOTLINE_STATION``, else the nearest ``hotline.toml`` upward."""
    chosen = explicit or (
        Path(os.environ["HOTLINE_STATION"]) if os.environ.get("HOTLINE_STATION") else None
    )
    if chosen is not None:
        if not is_station(chosen):
            raise StationNotFound(_not_a_station(chosen))
        return chosen.resolve()
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if is_station(folder):
            return folder
    raise StationNotFound(
        f"no station here: no {SETTINGS_FILE} in {here} or above; "
        "run `hotline init DIR`, or pass --station DIR"
    )


def _not_a_station(chosen: Path) -> str:
    """Why ``chosen`` is no station, and the way on: init only where nothing is yet."""
    head = f"{chosen} is not a station (no {SETTINGS_FILE})"
    try:
        inside = sorted(p for p in chosen.iterdir() if is_station(p)) if chosen.is_dir() else []
        empty = not chosen.exists() or (chosen.is_dir() and not any(chosen.iterdir()))
    except OSError:
        inside, empty = [], False
    if inside:
        # A shared volume's mount point named instead of the station folder on it.
        names = ", ".join(str(p) for p in inside[:3])
        return f"{head}; the station in it is {names}: pass that folder"
    if empty:
        return f"{head}; to start a new one there: `hotline init {chosen}`"
    return (
        f"{head}; pass the station's folder (the one holding {SETTINGS_FILE}), or "
        f"`hotline init DIR` to start a new station"
    )


DATABASE_URL_ENV = "HOTLINE_DATABASE_URL"


def database_url(settings: Settings) -> str | None:
    """The database a folder uses: ``HOTLINE_DATABASE_URL``, else ``[database] url``, else
    None (the folder's own ``hotline.db``)."""
    return os.environ.get(DATABASE_URL_ENV) or settings.database.url or None


def open_station(root: Path, *, check: bool = True) -> Station:
    """Open the station at ``root``, refusing a database whose schema does not match or
    that belongs to another station (``check=False``: only for upgrades and repairs)."""
    settings = load_settings(root / SETTINGS_FILE)
    station = Station(root=root, settings=settings, database_url=database_url(settings))
    if check:
        check_database(station)
    return station


def check_database(station: Station) -> None:
    """Refuse a database whose schema does not match or that belongs to another station."""
    db.check_schema(station.engine, str(station.root))
    identity.check(station)


def init_station(
    root: Path,
    settings: Settings | None = None,
    *,
    database: str | None = None,
    attach: bool = False,
) -> tuple[Station, bool]:
    """Create the station folder, settings, database and archive; return (station, created).

    ``database`` (else ``HOTLINE_DATABASE_URL``) puts the station on a server database,
    which must be empty; ``attach`` instead joins the station that database already holds,
    taking its id and settings. The URL is written to ``hotline.toml`` without its
    password. An existing station is left untouched (``created`` is False).
    """
    if is_station(root):
        if attach:
            raise StationNotFound(
                f"{root} is already a station: attach a new, empty folder instead"
            )
        return open_station(root.resolve()), False
    if root.exists() and not root.is_dir():
        raise StationNotFound(f"{root} exists and is not a folder")
    url = database or os.environ.get(DATABASE_URL_ENV) or None
    if attach and url is None:
        raise InvalidInput("--attach needs the station's database: --database URL")
    settings = settings or Settings()
    if url is not None:
        settings.database.url = without_password(url)
    made_root = not root.exists()
    if url is None:
        root.mkdir(parents=True, exist_ok=True)  # the database file goes inside
    station = Station(root=root.resolve(), settings=settings, database_url=url)
    try:
        if attach:
            identity.adopt(station)
        else:
            identity.create(station)
    except BaseException:
        station.engine.dispose()
        if made_root:  # a refused init leaves nothing behind
            shutil.rmtree(root, ignore_errors=True)
        raise
    for sub in ARCHIVE_DIRS:
        (root / sub).mkdir(parents=True, exist_ok=True)
    save_settings(station.settings, station.settings_path)
    return station, True


def save_station_settings(station: Station) -> None:
    """Write the station's settings to its ``hotline.toml``."""
    save_settings(station.settings, station.settings_path)
