"""``hotline init`` and ``hotline db …``: create or attach a station, manage its database."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy.engine import Connection

from hotline import db, identity
from hotline.cli.common import JSON_OPTION, echo, emit_json, expand_home, station_from
from hotline.config import url_has_password, without_password
from hotline.errors import DatabaseUnavailable, InvalidInput
from hotline.station import (
    SETTINGS_FILE,
    find_station_root,
    init_station,
    open_station,
    save_station_settings,
)

db_app = typer.Typer(help="The station's database: schema, copies, roles.", no_args_is_help=True)

PASSWORD_NOT_WRITTEN = (
    "the password was not written to hotline.toml: give it through PGPASSWORD or ~/.pgpass "
    "(or HOTLINE_DATABASE_URL) on every machine"
)


def init(
    ctx: typer.Context,
    directory: Path = typer.Argument(
        Path("."), help="Folder for the new station.", callback=expand_home
    ),
    database: str | None = typer.Option(
        None,
        "--database",
        help="Put the station on this (empty) server database: postgresql://USER@HOST/DB.",
    ),
    attach: bool = typer.Option(
        False,
        "--attach",
        help="Join the station the --database already holds (its id and settings).",
    ),
) -> None:
    """Create a station (hotline.toml, its database and the archive folders), or attach a
    folder to an existing one with --attach."""
    ctx.find_root().obj["database_url"] = database  # for the line a failure prints
    station, created = init_station(directory, database=database, attach=attach)
    if not created:
        echo(f"{station.root} is already a station; nothing changed")
        return
    where = db.display_url(station.url)
    if attach:
        echo(f"attached {station.root} to station {station.settings.station.id} on {where}")
    else:
        echo(f"created station {station.settings.station.id} in {station.root} on {where}")
    if database and url_has_password(database):
        echo(PASSWORD_NOT_WRITTEN)


def _root(ctx: typer.Context) -> Path:
    return find_station_root(ctx.find_root().obj.get("station"))


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply the schema migrations shipped with this version (and give a station from
    before station ids its id)."""
    station = open_station(_root(ctx), check=False)
    path = db.sqlite_path(station.engine)
    if station.settings.station.id and path is not None and not path.exists():
        # Never start an empty database under a station that has one somewhere.
        raise DatabaseUnavailable(
            f"{station.root}: the station's database {path.name} is missing: restore it from "
            "a backup, or set [database] url in hotline.toml if the station is on a server"
        )
    before = db.current_revision(station.engine)
    claimed: list[bool] = []
    regranted: dict[str, str] = {}

    def then(connection: Connection) -> None:
        claimed.append(identity.claim(connection, station))
        if connection.dialect.name == "postgresql" and before != db.SCHEMA_HEAD:
            from hotline import roles

            # In the upgrade's transaction: staff and workers never see the new schema
            # without their rights on it.
            regranted.update(roles.grant_again(connection))

    db.upgrade(station.engine, then=then)
    if any(claimed):
        save_station_settings(station)
    after = db.current_revision(station.engine)
    echo(
        f"schema {before or 'empty'} → {after}"
        if before != after
        else f"schema {after}: up to date"
    )
    if any(claimed):
        echo(f"station id {station.settings.station.id} written to {SETTINGS_FILE}")
    if regranted:
        roles = ", ".join(f"{role} ({kind})" for role, kind in regranted.items())
        echo(f"rights given again on the new schema: {roles}")


@db_app.command("current")
def db_current(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Show the database's schema revision."""
    station = station_from(ctx)
    revision = db.current_revision(station.engine)
    if as_json:
        emit_json(
            {
                "revision": revision,
                "head": db.SCHEMA_HEAD,
                "url": db.display_url(station.url),
                "station": station.settings.station.id or None,
            }
        )
    else:
        echo(f"{revision} (head {db.SCHEMA_HEAD})")


@db_app.command("push-settings")
def db_push_settings(ctx: typer.Context) -> None:
    """Store this folder's settings as the station's: what `init --attach` gives a folder."""
    station = station_from(ctx)
    if not station.settings.station.id:
        raise InvalidInput(f"{station.root} has no station id: run `hotline db upgrade` first")
    identity.push_settings(station)
    echo(f"settings of {station.root} stored for station {station.settings.station.id}")


@db_app.command("copy")
def db_copy(
    ctx: typer.Context,
    to: str = typer.Option(
        ...,
        "--to",
        help="An empty database: postgresql://USER@HOST/DB (the station moves there), "
        "or sqlite:///PATH (an offline copy; the station stays where it is).",
    ),
) -> None:
    """Copy every row of the station into an empty database, checked table by table."""
    from hotline import dbcopy

    station = station_from(ctx)
    ctx.find_root().obj["database_url"] = to
    target_path = dbcopy.sqlite_target(to)
    if target_path is not None:
        target_path = target_path.resolve()
        if target_path.exists():
            raise InvalidInput(
                f"the target {target_path} already exists: copy into a new file "
                "(hotline never overwrites a database)"
            )
        if not target_path.parent.is_dir():
            raise InvalidInput(
                f"the folder {target_path.parent} for the copy does not exist "
                "(sqlite:///NAME is relative to this folder, sqlite:////PATH absolute)"
            )
        to = db.sqlite_url(target_path)
    target = db.make_engine(to, busy_timeout=station.settings.database.busy_timeout_seconds)
    try:
        copied = dbcopy.copy_station(station.engine, target)
    except BaseException:
        target.dispose()
        if target_path is not None and target_path.exists():
            target_path.unlink()  # the empty file the attempt made: nothing of ours in it
        raise
    try:
        if target_path is None:
            # The folder moving up is the station: its settings as they are now (a cover
            # set, a feed guid kept since) become the station's, for folders attached later.
            identity.push_settings(station, target)
    finally:
        target.dispose()
    rows = sum(table.rows for table in copied)
    echo(
        f"copied {rows} rows in {len(copied)} tables to {db.display_url(to)}; "
        "row counts and checksums match"
    )
    if target_path is not None:
        echo("an offline copy: this station still uses its own database")
        return
    old = station.url
    station.settings.database.url = without_password(to)
    if db.is_sqlite(station.engine):
        identity.mark_moved(station, to)
    save_station_settings(station)
    echo(
        f"{SETTINGS_FILE} now names {db.display_url(to)}; the old database {db.display_url(old)} "
        "is kept, marked as moved"
    )
    if url_has_password(to):
        echo(PASSWORD_NOT_WRITTEN)


@db_app.command("grant")
def db_grant(
    ctx: typer.Context,
    role: str = typer.Argument(..., help="The PostgreSQL login role to create or update."),
    kind: str = typer.Option(
        ..., "--as", help="producer (everything), staff (reads, no contacts) or worker."
    ),
    password: bool = typer.Option(
        False, "--password", help="Set the role's password (asked for; not echoed)."
    ),
) -> None:
    """Create or update a PostgreSQL role for a producer, a staff member or a worker."""
    from hotline import roles

    try:
        chosen = roles.Kind(kind)
    except ValueError as exc:
        raise InvalidInput(f"--as {kind!r}: use producer, staff or worker") from exc
    station = station_from(ctx)
    secret = (
        typer.prompt(f"password for {role}", hide_input=True, confirmation_prompt=True)
        if password
        else None
    )
    created = roles.grant(station.engine, role, chosen, password=secret)
    echo(f"{'created' if created else 'updated'} role {role} as {chosen}")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(db_app, name="db")
