"""``hotline demo [DIR]``: build the demo station and say what to try next."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from hotline.cli.common import JSON_OPTION, echo, emit_json, expand_home
from hotline.timeutil import local_text, parse_date

if TYPE_CHECKING:
    from hotline.demo import DemoSummary


def demo(
    directory: Path = typer.Argument(
        Path("demo-station"), help="Folder for the demo station.", callback=expand_home
    ),
    force: bool = typer.Option(
        False, "--force", help="Rebuild the database of an existing demo station."
    ),
    today: str | None = typer.Option(
        None, "--today", help="Build as if today were YYYY-MM-DD (reproducible demos)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a demo station: 26 years of episodes, members, bookings and listener questions."""
    from hotline.demo import build_demo  # the demo's data and steps load only here

    summary = build_demo(
        directory, today=parse_date(today, field="--today") if today else None, force=force
    )
    if as_json:
        emit_json(summary.to_json())
        return
    if summary.created:
        echo(f"built the demo station in {summary.root}")
    else:
        echo(f"{summary.root} is already a demo station; nothing changed (--force rebuilds it)")
    tz = summary.tz
    statuses = " · ".join(f"{status} {n}" for status, n in summary.questions.items())
    echo(
        f"  episodes      {summary.episodes}: {summary.aired} aired since "
        f"{local_text(summary.first_air, tz, '%Y-%m-%d')}, {summary.upcoming} upcoming"
    )
    echo(f"  episode 1000  {local_text(summary.episode_1000_air, tz, '%Y-%m-%d %H:%M %A')}")
    if summary.next_episode is not None:
        echo(f"  next episode  {summary.next_episode} on {local_text(summary.next_air, tz)}")
    echo(f"  members       {summary.members} in {summary.sectors} sectors")
    echo(f"  bookings      {summary.bookings} ({summary.appearances} appearances)")
    echo(f"  questions     {summary.question_total}: {statuses}")
    if summary.departments:
        follow = " · ".join(f"{state} {n}" for state, n in summary.referrals.items())
        echo(f"  referrals     to {summary.departments} departments: {follow}")
    echo(f"  blackout      {summary.blackout_days} days in hotline.toml (春节, 两会, 黄金周)")
    if summary.recording is not None:
        rec = summary.recording
        echo(
            f"  recording     episode {rec.episode}: {rec.seconds:.0f} s of {rec.voice} audio "
            "through the pipeline"
        )
        for outcome in rec.outcomes:
            echo(f"                {outcome}")
    echo(f"  feeds         {summary.root / 'public' / 'feeds'}/*.xml (one per platform)")
    echo()
    echo("what to try next:")
    for command in _next_steps(directory, summary):
        echo(f"  {command}")


def _next_steps(directory: Path, summary: DemoSummary) -> list[str]:
    steps = [
        f"cd {directory}",
        "hotline episodes list --upcoming",
        "hotline episodes show 1000",
        "hotline questions list --status new",
        "hotline referrals remind",
        f"hotline report departments --year {summary.today.year - 1}",
        f"hotline report sectors --year {summary.today.year - 1}",
        "hotline search 养老",
        "hotline jobs list",
        "hotline feeds validate",
        "hotline tui",
    ]
    if summary.busiest_member is not None:
        steps.insert(3, f"hotline members history {summary.busiest_member}")
    if summary.open_booking is not None:
        episode, member = summary.open_booking
        steps.insert(4, f"hotline bookings add {episode} {member} --role guest")
        steps.insert(5, f"hotline bookings ics {episode} {member} --out invitations")
    if summary.overdue_question is not None:
        steps.insert(
            steps.index("hotline referrals remind") + 1,
            f"hotline history question {summary.overdue_question}",
        )
    return steps


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("demo")(demo)
