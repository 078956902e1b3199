"""``hotline live …``: the live desk from the command line (show clock and caller queue).

The same domain functions as the TUI's 直播台 tab; each command is one transaction, so
the desk's state is in the database the moment a command returns. ``--episode``
defaults to the episode airing today in the station's time zone.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import typer
from sqlmodel import Session

from episodes import live_desk as desk
from episodes.questions import offset_text
from hotline.cli.common import (
    JSON_OPTION,
    YES_OPTION,
    confirmed,
    echo,
    emit_json,
    print_table,
    station_from,
)
from hotline.models import Call, Episode, Member, ShowClock
from hotline.timeutil import local_iso, local_text

live_app = typer.Typer(
    help="Live desk (直播台): start the show clock, queue callers, put them on air.",
    no_args_is_help=True,
)

EPISODE_OPTION = typer.Option(None, "--episode", "-e", help="Episode number (default: today's).")
CALL_ARGUMENT = typer.Argument(..., help="Call id (see `hotline live queue`).")


def _episode(session: Session, tz: ZoneInfo, episode: int | None) -> int:
    if episode is not None:
        return episode
    return desk.todays_episode(session=session, tz=tz).number


def call_json(session: Session, call: Call, tz: ZoneInfo) -> dict[str, Any]:
    """Stable keys for one call."""
    episode = session.get(Episode, call.episode_id)
    member = session.get(Member, call.member_id) if call.member_id else None
    return {
        "id": call.id,
        "episode": episode.number if episode else None,
        "caller_name": call.caller_name,
        "district": call.district,
        "summary": call.summary,
        "status": call.status,
        "member": {"id": member.id, "name": member.name} if member else None,
        "question": call.question_id,
        "on_air_offset": call.on_air_offset,
        "on_air_at": offset_text(call.on_air_offset),
        "created_at": local_iso(call.created_at, tz),
    }


@live_app.command("start")
def start(
    ctx: typer.Context,
    episode: int = EPISODE_OPTION,
    restart: bool = typer.Option(
        False, "--restart", help="Start a running clock again (stamps already made stay)."
    ),
    yes: bool = YES_OPTION,
) -> None:
    """Start the show clock (offsets of calls put on air are measured from it).

    Asks first when the slot is more than ``live.start_window_minutes`` away, or when a
    restart follows calls already stamped.
    """
    station = station_from(ctx)

    def run(confirm: bool) -> tuple[Episode, ShowClock]:
        with station.session() as session:
            return desk.start_clock(
                session=session,
                tz=station.tz,
                episode=episode,
                restart=restart,
                window_minutes=station.settings.live.start_window_minutes,
                confirm=confirm,
            )

    target, clock = confirmed(run, yes=yes)
    echo(
        f"show clock for episode {target.number} started at "
        f"{local_text(clock.started_at, station.tz, '%H:%M:%S')}"
    )


@live_app.command("add")
def add(
    ctx: typer.Context,
    summary: str = typer.Option(..., "--summary", help="One line: what the caller asks."),
    name: str = typer.Option("", "--name", help="Caller's name."),
    district: str = typer.Option("", "--district", help="Caller's district (区县)."),
    episode: int = EPISODE_OPTION,
) -> None:
    """Put a caller in the queue (waiting)."""
    station = station_from(ctx)
    with station.session() as session:
        call = desk.add_caller(
            session=session,
            episode=_episode(session, station.tz, episode),
            name=name,
            district=district,
            summary=summary,
        )
    echo(f"added call {call.id} (waiting)")


def _move(ctx: typer.Context, call: int, action: Any, **kwargs: Any) -> Call:
    station = station_from(ctx)
    with station.session() as session:
        return action(session=session, call=call, **kwargs)


@live_app.command("screen")
def screen(ctx: typer.Context, call: int = CALL_ARGUMENT) -> None:
    """Mark a waiting caller as screened (ready for air)."""
    _move(ctx, call, desk.screen_caller)
    echo(f"call {call} screened")


@live_app.command("on-air")
def on_air(
    ctx: typer.Context,
    call: int = CALL_ARGUMENT,
    member: str = typer.Option("", "--member", "-m", help="Answering member (id or name)."),
) -> None:
    """Put a screened caller on air: stamps the offset and logs the answered question."""
    lines = station_from(ctx).settings.live.lines
    done = _move(ctx, call, desk.put_on_air, member=member or None, lines=lines)
    echo(
        f"call {call} on air at {offset_text(done.on_air_offset)}; "
        f"question {done.question_id} answered"
    )


@live_app.command("done")
def done(ctx: typer.Context, call: int = CALL_ARGUMENT) -> None:
    """The caller is off air."""
    _move(ctx, call, desk.finish_call)
    echo(f"call {call} done")


@live_app.command("drop")
def drop(ctx: typer.Context, call: int = CALL_ARGUMENT) -> None:
    """Drop a waiting or screened caller."""
    _move(ctx, call, desk.drop_call)
    echo(f"call {call} dropped")


@live_app.command("queue")
def queue(
    ctx: typer.Context,
    episode: int = EPISODE_OPTION,
    active: bool = typer.Option(False, "--active", help="Only waiting, screened and on air."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The callers of the episode: on air, screened, waiting, then done and dropped."""
    station = station_from(ctx)
    tz = station.tz
    with station.session(write=False) as session:
        number = _episode(session, tz, episode)
        calls = desk.queue(session=session, episode=number, active_only=active)
        rows = [call_json(session, c, tz) for c in calls]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        echo(f"no callers for episode {number}")
        return
    print_table(
        ("id", "status", "name", "district", "on air", "member", "summary"),
        (
            (
                r["id"],
                r["status"],
                r["caller_name"],
                r["district"],
                r["on_air_at"] or "",
                r["member"]["name"] if r["member"] else "",
                r["summary"],
            )
            for r in rows
        ),
    )


def register(app: typer.Typer) -> None:
    """Add ``hotline live …`` to the root app."""
    app.add_typer(live_app, name="live")
