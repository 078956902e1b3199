"""``hotline bookings ics N [MEMBER]``: calendar invitations (.ics) for an episode's guests."""

from __future__ import annotations

from pathlib import Path

import typer

from hotline.cli.common import EPISODE_ARGUMENT, echo, station_from, writes_to
from hotline.errors import InvalidInput
from hotline.files import write_atomic


def ics(
    ctx: typer.Context,
    episode: int = EPISODE_ARGUMENT,
    member: str | None = typer.Argument(
        None, help="Member id (42 or #42) or unique name (default: every booked guest)."
    ),
    out: Path = typer.Option(Path("."), "--out", help="Folder to write the .ics files into."),
) -> None:
    """Write an iCalendar invitation per booking: arrival, air time, studio, topic.

    Written again after a reschedule, a file keeps its UID with a higher SEQUENCE, so the
    guest's calendar moves the event; a cancelled episode or booking writes METHOD:CANCEL.
    """
    from episodes.calendar_invites import invitations  # icalendar loads only here

    if out.exists() and not out.is_dir():
        raise InvalidInput(f"--out {out} exists and is not a folder")
    writes_to(ctx, out)
    station = station_from(ctx)
    with station.session() as session:
        made = invitations(
            session=session, settings=station.settings, episode=episode, member=member
        )
    for invitation in made:
        path = out / invitation.filename
        write_atomic(path, invitation.data)
        what = "cancellation" if invitation.method == "CANCEL" else "invitation"
        echo(f"{path}: {what} for {invitation.member_name} (sequence {invitation.sequence})")
