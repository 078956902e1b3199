"""``hotline search QUERY``: find what was said, newest first, by episode or by relevance."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from hotline.cli.common import JSON_OPTION, echo, emit_json, plural, print_table, station_from
from hotline.errors import InvalidInput
from hotline.timeutil import format_offset, local_iso, local_text

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from transcripts.search import EpisodeResult, SearchResult

BOLD, RESET = "\x1b[1m", "\x1b[0m"
OPEN, CLOSE = "【", "】"


def search(
    ctx: typer.Context,
    query: list[str] = typer.Argument(
        ..., help='Words to find; all must occur (养老 医保); "a b" is one term, spaces kept.'
    ),
    episodes: str | None = typer.Option(None, "--episodes", help="Episode range: N, A-B, A-, -B."),
    date_from: str | None = typer.Option(None, "--from", help="Aired on or after (YYYY-MM-DD)."),
    date_to: str | None = typer.Option(None, "--to", help="Aired on or before (YYYY-MM-DD)."),
    member: str | None = typer.Option(None, "--member", help="Episodes this member was on."),
    sector: str | None = typer.Option(None, "--sector", help="Episodes with a guest of a 界别."),
    limit: int = typer.Option(20, "--limit", min=0, help="Show at most this many results."),
    by_episode: bool = typer.Option(False, "--by-episode", help="Episodes and match counts."),
    rank: bool = typer.Option(False, "--rank", help="Most relevant first (BM25)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Search every transcript; simplified and traditional script are interchangeable."""
    from transcripts.query import make_filters
    from transcripts.search import search as run_search
    from transcripts.search import search_by_episode

    if by_episode and rank:
        raise InvalidInput("--by-episode and --rank do not combine: choose one")
    station = station_from(ctx)
    tz = station.tz
    text = " ".join(query)
    with station.session(write=False) as session:
        filters = make_filters(
            session=session,
            tz=tz,
            episodes=episodes,
            date_from=date_from,
            date_to=date_to,
            member=member,
            sector=sector,
        )
        if by_episode:
            grouped = search_by_episode(session=session, query=text, filters=filters, limit=limit)
        else:
            result = run_search(
                session=session, query=text, filters=filters, limit=limit, rank=rank
            )
    if by_episode:
        _show_episodes(grouped, tz, as_json)
    else:
        _show_segments(result, tz, as_json)


def _show_segments(result: SearchResult, tz: ZoneInfo, as_json: bool) -> None:
    if as_json:
        emit_json(
            {
                "query": result.query,
                "terms": result.terms,
                "order": result.order,
                "total_matches": result.matches,
                "total_episodes": result.episodes,
                "results": [
                    {
                        "episode": hit.episode,
                        "title": hit.title,
                        "air_date": local_text(hit.air_start, tz, "%Y-%m-%d"),
                        "air_start": local_iso(hit.air_start, tz),
                        "start": hit.start,
                        "end": hit.end,
                        "timestamp": format_offset(hit.start),
                        "at": hit.at,
                        "snippet": hit.snippet,
                        "highlights": [list(span) for span in hit.highlights],
                        "text": hit.text,
                        "score": hit.score,
                    }
                    for hit in result.hits
                ],
            }
        )
        return
    from transcripts.snippets import highlight

    before, after = (BOLD, RESET) if sys.stdout.isatty() else (OPEN, CLOSE)
    for hit in result.hits:
        marked = highlight(hit.snippet, hit.highlights, before=before, after=after)
        date = local_text(hit.air_start, tz, "%Y-%m-%d")
        echo(f"第{hit.episode}期  {date}  {format_offset(hit.landing)}  {marked}")
        if hit.rewritten:
            echo(f"    原文：{hit.text}")
    order = "most relevant first" if result.order == "rank" else "newest first"
    shown = f"; showing {len(result.hits)}, {order}" if result.hits else ""
    echo(f"{_totals(result.matches, result.episodes)}{shown}")


def _show_episodes(grouped: EpisodeResult, tz: ZoneInfo, as_json: bool) -> None:
    if as_json:
        emit_json(
            {
                "query": grouped.query,
                "terms": grouped.terms,
                "total_matches": grouped.matches,
                "total_episodes": grouped.episodes,
                "episodes": [
                    {
                        "episode": row.episode,
                        "title": row.title,
                        "air_date": local_text(row.air_start, tz, "%Y-%m-%d"),
                        "air_start": local_iso(row.air_start, tz),
                        "matches": row.matches,
                    }
                    for row in grouped.rows
                ],
            }
        )
        return
    print_table(
        ("期号", "播出日期", "匹配", "标题"),
        (
            (row.episode, local_text(row.air_start, tz, "%Y-%m-%d"), row.matches, row.title)
            for row in grouped.rows
        ),
    )
    echo(_totals(grouped.matches, grouped.episodes))


def _totals(matches: int, episodes: int) -> str:
    return f"{plural(matches, 'match', 'matches')} in {plural(episodes, 'episode')}"


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("search")(search)
