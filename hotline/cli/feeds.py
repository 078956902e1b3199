"""``hotline publish`` and ``hotline feeds …``: the public tree, the platform feeds, releases."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import typer

from hotline.cli.common import (
    EPISODE_ARGUMENT,
    JSON_OPTION,
    echo,
    emit_json,
    plural,
    print_table,
    station_from,
)
from hotline.timeutil import local_iso, local_text, parse_local_datetime

if TYPE_CHECKING:
    from feeds.publish import PublishReport
    from hotline.station import Station

feeds_app = typer.Typer(help="Podcast feeds: 播客订阅源 for every platform.", no_args_is_help=True)


def _build_time(text: str) -> datetime | None:
    """A feed's lastBuildDate (RFC 822, as RSS writes it) as an aware datetime."""
    try:
        return parsedate_to_datetime(text) if text else None
    except (TypeError, ValueError):
        return None


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def _report_json(report: PublishReport, station: Station) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "base_url": report.base_url,
        "feeds": [
            {
                "platform": f.profile,
                "path": f"public/{f.path}",
                "url": f.url,
                "status": f.status,
                "items": f.items,
                "bytes": f.bytes,
                "problems": f.problems,
            }
            for f in report.feeds
        ],
        "listed": len(report.listed),
        "newly_published": report.newly_published,
        "waiting": [
            {"episode": n, "release_at": local_iso(when, station.tz)} for n, when in report.waiting
        ],
        "missing_masters": report.missing,
        "files_written": report.files_written,
        "retagged": report.retagged,
        "notes": report.notes,
        "dropped": report.dropped,
        "withdrawn": report.withdrawn,
        "generation": report.generation,
        "switched": report.switched,
    }


def publish(
    ctx: typer.Context,
    base_url: str | None = typer.Option(
        None, "--base-url", help="Where public/ is served (https); default feeds.base_url."
    ),
    allow_drop: bool = typer.Option(
        False,
        "--allow-drop",
        help="Publish even if more than feeds.max_drop_percent of the items in the feeds would go.",
    ),
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="Only say what would change, per feed and file, and every problem; write nothing.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Write public/ in one step: audio, transcripts, chapters and a validated feed per platform."""
    from feeds.publish import publish as run_publish

    station = station_from(ctx)
    if dry_run:
        from hotline.cli.preview import show_preview

        show_preview(station, base_url=base_url, allow_drop=allow_drop, as_json=as_json)
        return
    report = run_publish(station=station, base_url=base_url, allow_drop=allow_drop)
    if as_json:
        emit_json(_report_json(report, station))
    else:
        print_table(
            ("平台", "文件", "状态", "节目", "大小"),
            (
                (f.label, f"public/{f.path}", f.status, f.items, _size(f.bytes))
                for f in report.feeds
            ),
        )
        if report.ok:
            written = ", ".join(f"{k} {v}" for k, v in sorted(report.files_written.items()))
            listed = plural(len(report.listed), "episode")
            echo(f"{listed} listed; files written: {written or 'none'}")
        if report.switched:
            dropped = f"; {report.dropped} items left the feeds" if report.dropped else ""
            echo(f"public/ now shows generation {report.generation}{dropped}")
        if report.withdrawn:
            echo(f"withdrawn, not listed: {', '.join(map(str, report.withdrawn))}")
        if report.retagged:
            echo(f"masters re-tagged (not re-encoded): {', '.join(map(str, report.retagged))}")
        if report.newly_published:
            echo(f"newly published: {', '.join(map(str, report.newly_published))}")
        for note in report.notes:
            echo(f"note: {note}")
        for number, when in report.waiting:
            echo(f"episode {number} is released at {local_text(when, station.tz)}")
        for line in report.missing:
            echo(f"not listed: {line}")
        if report.ok and report.feeds:
            echo(f"feed: {station.public_dir / report.feeds[0].path}")
    if not report.ok:
        for problem in report.problems:
            typer.echo(f"hotline: error: {problem}", err=True)
        typer.echo(
            f"hotline: error: {plural(len(report.problems), 'problem')}; nothing was published, "
            "every feed stays as it was",
            err=True,
        )
        raise typer.Exit(1)


@feeds_app.command("validate")
def validate(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Check every platform's feed on disk: XML, feedparser, tags, files, guids, dates, art."""
    from feeds.status import validate_feeds

    station = station_from(ctx)
    feeds = validate_feeds(station=station)
    problems = [f"public/{f.path}: {p}" for f in feeds for p in f.problems]
    if as_json:
        emit_json(
            {
                "ok": not problems,
                "feeds": [
                    {"platform": f.profile, "path": f"public/{f.path}", "problems": f.problems}
                    for f in feeds
                ],
            }
        )
    else:
        for feed in feeds:
            verdict = "ok" if not feed.problems else plural(len(feed.problems), "problem")
            echo(f"public/{feed.path}: {verdict}")
    if problems:
        for problem in problems:
            typer.echo(f"hotline: error: {problem}", err=True)
        raise typer.Exit(1)


@feeds_app.command("list")
def list_(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """The platform feeds on disk: items, size, lastBuildDate and URL."""
    from feeds.status import list_feeds

    station = station_from(ctx)
    feeds = list_feeds(station=station)
    if as_json:
        emit_json(
            [
                {
                    "platform": f.profile,
                    "label": f.label,
                    "path": f"public/{f.path}",
                    "exists": f.exists,
                    "items": f.items,
                    "bytes": f.bytes,
                    "url": f.url,
                    "last_build": local_iso(_build_time(f.last_build), station.tz),
                }
                for f in feeds
            ]
        )
        return
    print_table(
        ("平台", "文件", "节目", "大小", "更新", "URL"),
        (
            (
                f.label,
                f"public/{f.path}",
                f.items if f.exists else "—",
                _size(f.bytes) if f.exists else "not published",
                local_text(_build_time(f.last_build), station.tz),
                f.url,
            )
            for f in feeds
        ),
        max_width=60,
    )


@feeds_app.command("release")
def release(
    ctx: typer.Context,
    number: int = EPISODE_ARGUMENT,
    at: str | None = typer.Option(None, "--at", help='Release time, "YYYY-MM-DD HH:MM" local.'),
    clear: bool = typer.Option(False, "--clear", help="Release after airing again."),
) -> None:
    """Set when an episode goes out in the feeds (a later `hotline publish` picks it up)."""
    from feeds.release import set_release

    station = station_from(ctx)
    if (at is None) == (not clear):
        raise typer.BadParameter("give --at TIME or --clear")
    when = parse_local_datetime(at, station.tz, field="--at") if at else None
    with station.session() as session:
        episode = set_release(session=session, number=number, at=when)
    if when is None:
        echo(f"episode {episode.number} is released after it airs")
    else:
        echo(f"episode {episode.number} is released at {local_text(when, station.tz)}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("publish")(publish)
    app.add_typer(feeds_app, name="feeds")
