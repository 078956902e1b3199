"""``hotline episodes …``: list, show, add, edit, cancel, reschedule, generate, import,
withdraw and reinstate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import typer

from episodes import catalogue, listing, schedule
from hotline.cli.common import (
    EPISODE_ARGUMENT,
    JSON_OPTION,
    YES_OPTION,
    confirmed,
    echo,
    emit_json,
    expand_home,
    plural,
    print_table,
    station_from,
)
from hotline.errors import InvalidInput
from hotline.models import Episode
from hotline.timeutil import local_iso, local_text

if TYPE_CHECKING:
    from feeds.withdraw import ListingOutcome
    from hotline.station import Station

app = typer.Typer(help="The episode schedule: 排期.", no_args_is_help=True)


def _summary(episode: Episode, tz: ZoneInfo) -> str:
    return f"episode {episode.number} {local_text(episode.air_start, tz)} {episode.title}"


@app.command("list")
def list_(
    ctx: typer.Context,
    from_number: int | None = typer.Option(None, "--from", help="First episode number."),
    to_number: int | None = typer.Option(None, "--to", help="Last episode number."),
    upcoming: bool = typer.Option(False, "--upcoming", help="Only episodes still to air."),
    status: str | None = typer.Option(None, "--status", help="Only episodes in this status."),
    limit: int | None = typer.Option(
        None,
        "--limit",
        help="At most this many: the next to air with --upcoming, else the newest; 0 = all.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """List episodes by number with their air time, status, title and booked guests."""
    station = station_from(ctx)
    with station.session(write=False) as session:
        views = listing.list_episodes(
            session=session,
            from_number=from_number,
            to_number=to_number,
            upcoming=upcoming,
            status=status,
            limit=limit,
        )
    tz = station.tz
    if as_json:
        emit_json([view.as_json(tz) for view in views])
        return
    print_table(
        ("期号", "播出时间", "状态", "标题", "嘉宾"),
        (
            (
                v.number,
                local_text(v.air_start, tz),
                v.shown_status,
                v.title,
                "、".join(g.name for g in v.guests),
            )
            for v in views
        ),
    )


@app.command("show")
def show(
    ctx: typer.Context,
    number: int = EPISODE_ARGUMENT,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show one episode: schedule, hosts, bookings, audio and its listener questions."""
    station = station_from(ctx)
    with station.session(write=False) as session:
        detail = listing.episode_detail(session=session, number=number)
    tz = station.tz
    if as_json:
        emit_json(detail.as_json(tz))
        return
    v = detail.episode
    echo(f"第{v.number}期  {v.title}")
    echo(f"播出  {local_text(v.air_start, tz)}（{v.duration_minutes} 分钟）  状态 {v.status}")
    for label, value in (
        ("话题", v.topic),
        ("主持", "、".join(v.hosts or [])),
        ("简介", v.description),
        ("音频", f"{v.audio_path} {v.audio_bytes or 0} bytes" if v.audio_path else ""),
        ("GUID", v.guid or ""),
        ("发布", local_text(v.published_at, tz)),
        (
            "撤下",
            f"{local_text(v.withdrawn_at, tz)}  {v.withdrawal_reason}"
            f"（不在任何订阅源中；hotline episodes reinstate {v.number} 恢复）"
            if v.withdrawn_at
            else "",
        ),
    ):
        if value:
            echo(f"{label}  {value}")
    if detail.bookings:
        echo("嘉宾")
        for b in detail.bookings:
            echo(f"  {b.name}（{b.sector}）{b.role} {b.status}")
    if detail.questions:
        counts = "  ".join(f"{s} {n}" for s, n in detail.questions.items())
        echo(f"听众问题  {counts}")


@app.command("add")
def add(
    ctx: typer.Context,
    title: str = typer.Option(..., "--title", help="Title of the episode."),
    number: int | None = typer.Option(None, "--number", help="Episode number (default: next)."),
    air: str | None = typer.Option(
        None, "--air", help='Local air time "YYYY-MM-DD HH:MM" (default: next free slot).'
    ),
    topic: str = typer.Option("", "--topic", help="Topic (话题)."),
    hosts: list[str] | None = typer.Option(
        None, "--host", help="A host; repeat for several (default: the show's hosts)."
    ),
    description: str = typer.Option("", "--description", help="Description for the feed."),
    duration: int | None = typer.Option(None, "--duration", help="Length in minutes."),
    past: bool = typer.Option(
        False, "--past", help="Enter a back-catalogue episode that has aired (marked aired)."
    ),
) -> None:
    """Schedule a new episode (its air time still to come), or enter one that aired (--past)."""
    station = station_from(ctx)
    with station.session() as session:
        episode = schedule.add_episode(
            session=session,
            settings=station.settings,
            number=number,
            title=title,
            air=air,
            topic=topic,
            hosts=hosts or None,
            description=description,
            duration_minutes=duration,
            past=past,
        )
    aired = " (aired: back catalogue)" if past else ""
    echo(f"added {_summary(episode, station.tz)}{aired}")


@app.command("edit")
def edit(
    ctx: typer.Context,
    number: int = EPISODE_ARGUMENT,
    title: str | None = typer.Option(None, "--title"),
    topic: str | None = typer.Option(None, "--topic"),
    hosts: list[str] | None = typer.Option(None, "--host", help="Replaces the hosts; repeat."),
    description: str | None = typer.Option(None, "--description"),
    duration: int | None = typer.Option(None, "--duration", help="Length in minutes."),
) -> None:
    """Change an episode's title, topic, hosts, description or length."""
    if title is None and topic is None and not hosts and description is None and duration is None:
        raise InvalidInput("nothing to change: give --title, --topic, --host, --description")
    station = station_from(ctx)
    with station.session() as session:
        episode = schedule.edit_episode(
            session=session,
            settings=station.settings,
            number=number,
            title=title,
            topic=topic,
            hosts=hosts or None,
            description=description,
            duration_minutes=duration,
        )
    echo(f"edited {_summary(episode, station.tz)}")


@app.command("cancel")
def cancel(ctx: typer.Context, number: int = EPISODE_ARGUMENT) -> None:
    """Cancel a planned or confirmed episode: its open bookings are cancelled too and its
    assigned questions go back to screened."""
    station = station_from(ctx)
    with station.session() as session:
        effects = schedule.cancel_effects(session=session, number=number)
        episode, bookings = schedule.cancel_episode(session=session, number=number)
    echo(
        f"cancelled {_summary(episode, station.tz)}; {plural(bookings, 'booking')} cancelled, "
        f"{plural(effects.questions, 'question')} back to screened"
    )


@app.command("reschedule")
def reschedule(
    ctx: typer.Context,
    number: int = EPISODE_ARGUMENT,
    air: str = typer.Option(..., "--air", help='New local air time "YYYY-MM-DD HH:MM".'),
) -> None:
    """Move an episode that has not gone on air to another air time still to come."""
    station = station_from(ctx)
    with station.session() as session:
        episode = schedule.reschedule_episode(
            session=session, settings=station.settings, number=number, air=air
        )
    echo(f"rescheduled {_summary(episode, station.tz)}")


@app.command("generate")
def generate(
    ctx: typer.Context,
    count: int = typer.Option(..., "--count", help="How many episodes to schedule."),
    start: str | None = typer.Option(
        None,
        "--start",
        help="First date YYYY-MM-DD (default: the week after the last aired episode).",
    ),
) -> None:
    """Fill the next free weekly slots, skipping blackout dates and slots already taken."""
    station = station_from(ctx)
    with station.session() as session:
        created = schedule.generate_episodes(
            session=session, settings=station.settings, count=count, start=start
        )
    tz = station.tz
    span = (
        f"{created[0].number}, {local_text(created[0].air_start, tz)}"
        if len(created) == 1
        else f"{created[0].number}–{created[-1].number}, "
        f"{local_text(created[0].air_start, tz)} to {local_text(created[-1].air_start, tz)}"
    )
    echo(f"scheduled {plural(len(created), 'episode')}: {span}")


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ..., help="CSV: number, air, title, topic, guests.", callback=expand_home
    ),
    past: bool = typer.Option(
        False, "--past", help="Rows that have aired are back catalogue (marked aired)."
    ),
    encoding: str | None = typer.Option(
        None, "--encoding", help="The file's encoding (default: detected; e.g. gb18030, big5)."
    ),
) -> None:
    """Import episodes from CSV: all rows or none (rows that aired need --past)."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{file}: cannot read: {exc.strerror}") from exc
    station = station_from(ctx)
    with station.session() as session:
        result = catalogue.import_catalogue(
            session=session,
            settings=station.settings,
            data=data,
            source=str(file),
            encoding=encoding,
            past=past,
        )
    if not result.episodes:
        echo(f"{file}: no rows; nothing imported")
        return
    echo(
        f"imported {plural(result.episodes, 'episode')} ({result.first}–{result.last}): "
        f"{result.aired} aired, {result.upcoming} upcoming; "
        f"{plural(result.bookings, 'guest booking')}"
    )


def _outcome_json(outcome: ListingOutcome, station: Station) -> dict[str, Any]:
    report = outcome.report
    return {
        "episode": outcome.number,
        "title": outcome.title,
        "guid": outcome.guid,
        "reason": outcome.reason,
        "before": {"feeds": list(outcome.before.feeds), "files": list(outcome.before.files)},
        "after": {"feeds": list(outcome.after.feeds), "files": list(outcome.after.files)},
        "generation": report.generation,
        "switched": report.switched,
        "newly_published": report.newly_published,
        "missing_masters": report.missing,
        "waiting": [
            {"episode": n, "release_at": local_iso(when, station.tz)} for n, when in report.waiting
        ],
    }


def _files_text(files: tuple[str, ...]) -> str:
    return ", ".join(files) if files else "nothing"


@app.command("withdraw")
def withdraw(
    ctx: typer.Context,
    number: int = EPISODE_ARGUMENT,
    reason: str = typer.Option(..., "--reason", help="Why it is withdrawn (for the history)."),
    allow_drop: bool = typer.Option(
        False,
        "--allow-drop",
        help="Publish even if other items would leave past feeds.max_drop_percent.",
    ),
    yes: bool = YES_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Take a published episode out of every feed and public/ in one publish; its guid stays.

    Asks first, naming the feeds and files that will go (``--yes`` for scripts).
    """
    from feeds.withdraw import withdraw_episode

    station = station_from(ctx)
    outcome = confirmed(
        lambda confirm: withdraw_episode(
            station=station,
            number=number,
            reason=reason,
            allow_drop=allow_drop,
            confirm=confirm,
        ),
        yes=yes,
    )
    if as_json:
        emit_json(_outcome_json(outcome, station))
        return
    gone = outcome.before
    feeds = (
        f"{plural(len(gone.feeds), 'feed')} ({', '.join(gone.feeds)})" if gone.feeds else "no feed"
    )
    echo(
        f"withdrew episode {outcome.number} {outcome.title} from {feeds}; "
        f"removed from public/: {_files_text(gone.files)}"
    )
    echo(f"reason: {outcome.reason}; guid {outcome.guid} kept for `hotline episodes reinstate`")
    _publish_lines(outcome, station)


@app.command("reinstate")
def reinstate(
    ctx: typer.Context,
    number: int = EPISODE_ARGUMENT,
    reason: str = typer.Option("", "--reason", help="Why it comes back (for the history)."),
    allow_drop: bool = typer.Option(
        False,
        "--allow-drop",
        help="Publish even if other items would leave past feeds.max_drop_percent.",
    ),
    yes: bool = YES_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List a withdrawn episode again, with the same guid, in one publish.

    Asks first, naming the feeds and files that will come back (``--yes`` for scripts).
    """
    from feeds.withdraw import reinstate_episode

    station = station_from(ctx)
    outcome = confirmed(
        lambda confirm: reinstate_episode(
            station=station,
            number=number,
            reason=reason,
            allow_drop=allow_drop,
            confirm=confirm,
        ),
        yes=yes,
    )
    if as_json:
        emit_json(_outcome_json(outcome, station))
        return
    back = outcome.after
    if back.feeds:
        echo(
            f"reinstated episode {outcome.number} {outcome.title} in "
            f"{plural(len(back.feeds), 'feed')} ({', '.join(back.feeds)}) with guid "
            f"{outcome.guid}; back in public/: {_files_text(back.files)}"
        )
    else:
        echo(
            f"reinstated episode {outcome.number} {outcome.title}, but no feed lists it yet "
            "(see below); a later `hotline publish` lists it once it can be"
        )
    _publish_lines(outcome, station)


def _publish_lines(outcome: ListingOutcome, station: Station) -> None:
    report = outcome.report
    if report.switched:
        echo(f"public/ now shows generation {report.generation}")
    if report.newly_published:
        echo(f"also newly published: {', '.join(map(str, report.newly_published))}")
    for number, when in report.waiting:
        if number == outcome.number:
            echo(f"episode {number} is released at {local_text(when, station.tz)}")
    for line in report.missing:
        echo(f"not listed: {line}")


def register(root: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    root.add_typer(app, name="episodes")
