"""Which station a database belongs to: recorded when a station is made, checked at every open.

A station has an id (a UUID) in two places: the ``station`` row of its database and
``[station] id`` in each folder's ``hotline.toml``. Every command compares them, so a
folder that points at another station's database is refused with one line rather than
working on (or worse, writing into) the wrong station. The row also keeps the station's
shared settings (every section but the folder's own ``[station]`` and ``[database]``):
a folder attached with ``hotline init DIR --attach`` starts from them, and
``hotline db push-settings`` stores a folder's edited settings there for the next one.

A folder from before ids (no ``[station] id``) claims no station and keeps working with
the database it names; ``hotline db upgrade`` records the station and writes its id.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hotline import db
from hotline.config import dump_settings, parse_settings
from hotline.errors import DatabaseUnavailable, InvalidInput
from hotline.models import StationRecord, table_of
from hotline.timeutil import utcnow

if TYPE_CHECKING:
    from hotline.station import Station

_station = table_of(StationRecord)


def new_id() -> str:
    return str(uuid.uuid4())


def _database(station: Station) -> str:
    return db.display_url(station.url)


def _mismatch(station: Station, recorded: str) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"{station.root}: this folder belongs to station {station.settings.station.id}, but "
        f"its database {_database(station)} holds station {recorded}: check [database] url "
        "in hotline.toml and HOTLINE_DATABASE_URL"
    )


def check(station: Station) -> None:
    """Refuse a database that is not this folder's station (or is a moved station's old copy)."""
    row = db.station_row(station.engine)
    folder = station.settings.station.id
    if row is None:
        if folder:
            raise DatabaseUnavailable(
                f"{station.root}: the database {_database(station)} records no station; "
                "run `hotline db upgrade` to record this one"
            )
        return
    if row.moved_to:
        raise DatabaseUnavailable(
            f"{station.root}: {_database(station)} is an old copy: the station moved to "
            f"{row.moved_to}; set [database] url in hotline.toml to that URL"
        )
    if not folder:
        return  # a folder from before ids claims no station (`hotline db upgrade` gives it one)
    if folder != row.id:
        raise _mismatch(station, row.id)


def _record(connection: Connection, station: Station, created_at: datetime | None = None) -> None:
    connection.execute(
        sa.insert(_station).values(
            id=station.settings.station.id,
            settings=dump_settings(station.settings, shared_only=True),
            created_at=created_at or utcnow(),
            moved_to="",
        )
    )


def created_at(station: Station) -> datetime | None:
    """When the station's database recorded it (None when it cannot be read)."""
    try:
        with station.engine.connect() as conn:
            return conn.execute(sa.select(_station.c.created_at)).scalar()
    except (sa.exc.SQLAlchemyError, DatabaseUnavailable):
        return None  # no database, a damaged one, or one from before station ids


def create(station: Station, *, created: datetime | None = None) -> None:
    """Make ``station``'s database: schema and station row, on an empty database
    (``created``: when the station was first made, for a database made again)."""
    tables = db.table_names(station.engine)
    if tables:
        held = "a hotline station" if "station" in tables else f"{len(tables)} tables"
        raise DatabaseUnavailable(
            f"the database {_database(station)} is not empty (it holds {held}): give "
            "`hotline init` an empty database, or add --attach to join the station it holds"
        )
    station.settings.station.id = station.settings.station.id or new_id()
    db.upgrade(station.engine, then=lambda connection: _record(connection, station, created))


def adopt(station: Station) -> None:
    """Give ``station`` (a new folder) the id and settings of the station its database holds."""
    where = _database(station)
    if "station" not in db.table_names(station.engine):
        raise DatabaseUnavailable(
            f"the database {where} holds no station to attach to: "
            "run `hotline init DIR --database URL` without --attach to create one"
        )
    db.check_schema(station.engine, where)
    with station.engine.connect() as conn:
        row = conn.execute(sa.select(_station.c.id, _station.c.settings)).first()
    if row is None:
        raise DatabaseUnavailable(f"the database {where} records no station to attach to")
    try:
        shared = parse_settings(row.settings, f"the settings stored in {where}")
    except InvalidInput as exc:
        raise DatabaseUnavailable(str(exc)) from exc
    shared.station.id = row.id
    shared.database = station.settings.database
    station.settings = shared


def claim(connection: Connection, station: Station) -> bool:
    """Record the station in its database where it is not yet (``hotline db upgrade``);
    True when the folder's id was set here and ``hotline.toml`` must be saved."""
    row = connection.execute(sa.select(_station.c.id)).first()
    folder = station.settings.station.id
    if row is None:
        station.settings.station.id = folder or new_id()
        _record(connection, station)
        return not folder
    if folder:
        if folder != row.id:
            raise _mismatch(station, row.id)
        return False
    station.settings.station.id = row.id
    return True


def push_settings(station: Station, engine: Engine | None = None) -> None:
    """Store the folder's shared settings as the station's (what ``--attach`` gives).

    Into ``engine`` when given (the database a station is being copied to), else into
    the station's own.
    """
    with (engine or station.engine).begin() as connection:
        connection.execute(
            sa.update(_station)
            .where(_station.c.id == station.settings.station.id)
            .values(settings=dump_settings(station.settings, shared_only=True))
        )


def mark_moved(station: Station, to_url: str) -> None:
    """Mark the station's (embedded) database as an old copy of one now at ``to_url``."""
    with station.session() as session:
        session.execute(sa.update(_station).values(moved_to=db.display_url(to_url)))
