"""``hotline bookings …``: invite members to episodes and follow each booking to air."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from episodes import bookings as domain
from hotline.cli.calendar_invites import ics
from hotline.cli.common import (
    EPISODE_ARGUMENT,
    JSON_OPTION,
    echo,
    emit_json,
    plural,
    print_table,
    station_from,
)
from hotline.models import Booking
from hotline.timeutil import local_iso, local_text

bookings_app = typer.Typer(help="Bookings of members on episodes.", no_args_is_help=True)

MEMBER_ARGUMENT = typer.Argument(..., help="Member id (42 or #42) or unique name.")


def _done(ctx: typer.Context, action: Callable[..., Booking], **kwargs: Any) -> None:
    """Run one booking action in one transaction and say what it did."""
    station = station_from(ctx)
    with station.session() as session:
        booking = action(session=session, settings=station.settings, **kwargs)
        view = domain.describe_booking(session=session, booking=booking)
    echo(
        f"episode {view.episode} ({local_text(view.air_start, station.tz)}): "
        f"{view.name} #{view.member_id} as {view.role}: {view.status}"
    )


@bookings_app.command("add")
def add(
    ctx: typer.Context,
    episode: int = EPISODE_ARGUMENT,
    member: str = MEMBER_ARGUMENT,
    role: str = typer.Option("guest", "--role", help="guest, expert or official."),
) -> None:
    """Invite a member to an episode (refused on overlap, guest limit, inactive, aired)."""
    _done(ctx, domain.add_booking, episode=episode, member=member, role=role)


def _move_command(action: Callable[..., Booking], doc: str) -> Callable[..., None]:
    """A command that moves one booking along its lifecycle with ``action``."""

    def command(
        ctx: typer.Context, episode: int = EPISODE_ARGUMENT, member: str = MEMBER_ARGUMENT
    ) -> None:
        _done(ctx, action, episode=episode, member=member)

    command.__doc__ = doc
    return command


MOVES = (
    ("confirm", domain.confirm_booking, "The member accepted: invited → confirmed."),
    ("decline", domain.decline_booking, "The member said no: → declined."),
    ("cancel", domain.cancel_booking, "Withdraw the invitation: → cancelled."),
    ("appeared", domain.mark_appeared, "After airing: the confirmed member was on the show."),
    ("no-show", domain.mark_no_show, "After airing: the confirmed member did not come."),
)
for _name, _action, _doc in MOVES:
    bookings_app.command(_name)(_move_command(_action, _doc))
bookings_app.command("ics")(ics)


@bookings_app.command("list")
def list_(
    ctx: typer.Context,
    episode: int | None = typer.Option(None, "--episode", help="Only this episode."),
    member: str | None = typer.Option(None, "--member", help="Only this member."),
    status: str | None = typer.Option(None, "--status", help="Only this status."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List bookings, oldest episode first."""
    station = station_from(ctx)
    tz = station.tz
    with station.session(write=False) as session:
        rows = domain.list_bookings(session=session, episode=episode, member=member, status=status)
    if as_json:
        emit_json(
            [
                {
                    "id": r.id,
                    "episode": r.episode,
                    "air_start": local_iso(r.air_start, tz),
                    "title": r.title,
                    "member_id": r.member_id,
                    "name": r.name,
                    "sector": r.sector,
                    "role": r.role,
                    "status": r.status,
                }
                for r in rows
            ]
        )
        return
    print_table(
        ["期", "播出", "标题", "委员", "界别", "角色", "状态"],
        [
            [
                r.episode,
                local_text(r.air_start, tz),
                r.title,
                f"{r.name} #{r.member_id}",
                r.sector,
                r.role,
                r.status,
            ]
            for r in rows
        ],
        max_width=24,
    )
    echo(plural(len(rows), "booking"))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(bookings_app, name="bookings")
