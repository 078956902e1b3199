"""Feeds benchmark: 1200 published episodes, every platform profile, next to plain feedgen.

A station with 1200 mastered episodes (small fake MP3s of known size), each with SRT/VTT/
JSON transcripts, answered questions (chapters) and 3 guests who appeared, bulk-inserted.
Measures building, validating and writing every profile (feedparser reported on its own),
whole ``publish`` runs (first, unchanged, one new episode), feed sizes, and plain feedgen
with only its podcast extension building the same items.

    .venv/bin/python benchmarks/bench_feeds.py
"""

from __future__ import annotations

import gzip
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(Path(__file__).resolve().parent)]

import sqlalchemy as sa  # noqa: E402
from common import markdown_table, write_result  # noqa: E402
from feeds_fixtures import fake_mp3, use_cover, write_transcripts  # noqa: E402

from feeds import files  # noqa: E402
from feeds.collect import collect  # noqa: E402
from feeds.items import FeedEpisode, ShowInfo  # noqa: E402
from feeds.platforms import selected_profiles  # noqa: E402
from feeds.publish import PublishReport, feed_items, publish, show_info  # noqa: E402
from feeds.rss import build_feed, newest_first  # noqa: E402
from feeds.validate import check_feed, feedparser_problems  # noqa: E402
from hotline.models import (  # noqa: E402
    Booking,
    Episode,
    Member,
    Question,
    Transcript,
)
from hotline.station import Station, init_station  # noqa: E402

EPISODES = 1200
GUESTS = 3
QUESTIONS = 5
FIRST_AIR = datetime(2000, 1, 1, 3, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 27, tzinfo=UTC)
BASE = "https://hotline.example.cn"
# A 304 Not Modified answer with its headers, roughly, over HTTP/1.1.
NOT_MODIFIED_BYTES = 300


def build_station(root: Path) -> Station:
    station, _ = init_station(root)
    use_cover(station, size=1400)
    episodes, members, bookings, questions, transcripts = [], [], [], [], []
    for n in range(1, EPISODES + 1):
        size = 20_000 + n
        path = fake_mp3(station.master_dir / f"{n:04d}.mp3", size)
        write_transcripts(
            station, n, [f"第{n}期第{i}句：委员回答听众关于医保的问题。" for i in range(8)]
        )
        episodes.append(
            {
                "id": n,
                "number": n,
                "title": f"第{n}期：医保报销、养老服务与“一老一小” & 社区治理",
                "topic": "民生综合",
                "air_start": FIRST_AIR + timedelta(days=7 * (n - 1)),
                "duration_minutes": 60,
                "status": "transcribed",
                "hosts": ["李明", "王芳"],
                "description": "政协委员走进直播间，回答听众的来信来电。" * 3,
                "audio_path": path.relative_to(station.root).as_posix(),
                "audio_bytes": size,
                "audio_seconds": 3540.0,
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
        transcripts.append({"episode_id": n, "language": "zh", "complete": True, "created_at": NOW})
        for g in range(GUESTS):
            member_id = (n * GUESTS + g) % 300 + 1
            bookings.append(
                {
                    "episode_id": n,
                    "member_id": member_id,
                    "role": "guest",
                    "status": "appeared",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
        for q in range(QUESTIONS):
            questions.append(
                {
                    "received_at": NOW,
                    "channel": "phone",
                    "text": f"听众问题{q}：异地就医如何直接结算？",
                    "topic": f"异地就医结算问题{q}",
                    "status": "answered",
                    "episode_id": n,
                    "answer_offset": 300.0 + 600 * q,
                    "updated_at": NOW,
                }
            )
    for m in range(1, 301):
        members.append(
            {
                "id": m,
                "name": f"委员{m:03d}",
                "sector": "医药卫生界",
                "level": "市",
                "created_at": NOW,
                "active": True,
            }
        )
    with station.session() as session:
        for model, rows in (
            (Episode, episodes),
            (Member, members),
            (Booking, bookings),
            (Question, questions),
            (Transcript, transcripts),
        ):
            session.execute(sa.insert(model.__table__), rows)  # type: ignore[attr-defined]
    return station


def plain_feedgen(show: ShowInfo, episodes: list[FeedEpisode]) -> bytes:
    """The same items with feedgen and only its own podcast extension (no Podcasting 2.0)."""
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.title(show.title)
    fg.link(href=f"{BASE}/feeds/generic.xml", rel="self")
    fg.link(href=show.website, rel="alternate")
    fg.description(show.description)
    fg.language(show.language)
    fg.lastBuildDate(NOW)
    fg.podcast.itunes_image(show.image_url or "")
    fg.podcast.itunes_author(show.author)
    fg.podcast.itunes_owner(name=show.owner_name, email=show.owner_email)
    fg.podcast.itunes_category("Government")
    fg.podcast.itunes_explicit("no")
    fg.podcast.itunes_type("episodic")
    for episode in episodes:
        entry = fg.add_entry(order="append")
        entry.title(episode.title)
        entry.guid(episode.guid, permalink=False)
        entry.pubDate(episode.released)
        entry.enclosure(episode.audio_url, str(episode.audio_bytes), "audio/mpeg")
        entry.content(episode.description_html, type="CDATA")
        entry.podcast.itunes_duration(episode.seconds)
        entry.podcast.itunes_episode(episode.number)
        entry.podcast.itunes_episode_type("full")
        entry.podcast.itunes_explicit("no")
    return fg.rss_str()


def best_of(runs: int, fn: Any) -> tuple[float, Any]:
    best, value = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - started)
    return best * 1000, value


def measure_profile(
    profile: Any,
    show: ShowInfo,
    episodes: list[FeedEpisode],
    station: Station,
    artwork: Any,
    known: set[bytes],
    out_dir: Path,
) -> tuple[dict[str, float], bytes]:
    """Build (best of 3), check, feedparser and write one profile's feed, timing each."""
    chosen = newest_first(episodes, profile)
    build, data = best_of(3, lambda: build_feed(show, chosen, profile, last_build=NOW))
    check, problems = best_of(
        1,
        lambda: check_feed(
            data, profile, public_dir=station.public_dir, base_url=BASE, artwork=artwork
        ),
    )
    assert problems == [], problems[:3]
    parse, fp = best_of(1, lambda: feedparser_problems(data, known_items=known))
    assert fp == [], fp
    write, _ = best_of(1, lambda: files.write_atomic(out_dir / profile.filename, data))
    timings = {"build_ms": build, "check_ms": check, "feedparser_ms": parse, "write_ms": write}
    return timings, data


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        station = build_station(Path(folder) / "station")
        setup_s = time.perf_counter() - started
        profiles = selected_profiles(list(station.settings.feeds.platforms))

        started = time.perf_counter()
        first = publish(station=station, now=NOW)
        first_ms = (time.perf_counter() - started) * 1000
        assert first.ok, first.problems[:5]
        unchanged_ms, again = best_of(1, lambda: publish(station=station, now=NOW))
        assert {f.status for f in again.feeds} == {"unchanged"}

        # The same items publish builds, for timing the phases one by one.
        report = PublishReport(base_url=BASE)
        show, artwork = show_info(station, BASE, profiles, report)
        with station.session() as session:
            releases = collect(session=session, station=station, now=NOW).releases
        episodes = feed_items(station=station, base_url=BASE, releases=releases, report=report)

        phases: dict[str, dict[str, float]] = {}
        feeds_out: dict[str, bytes] = {}
        known: set[bytes] = set()
        out_dir = Path(folder) / "bench-out"
        for profile in profiles:
            phases[profile.name], feeds_out[profile.name] = measure_profile(
                profile, show, episodes, station, artwork, known, out_dir
            )
        plain_ms, plain = best_of(3, lambda: plain_feedgen(show, episodes))
        full_fp_ms, _ = best_of(1, lambda: feedparser_problems(feeds_out["generic"]))

        # One new episode: what a weekly publish costs.
        with station.session() as session:
            n = EPISODES + 1
            path = fake_mp3(station.master_dir / f"{n:04d}.mp3", 20_000)
            session.add(
                Episode(
                    number=n,
                    title=f"第{n}期：新的一期",
                    air_start=NOW - timedelta(days=1),
                    status="transcribed",
                    audio_path=path.relative_to(station.root).as_posix(),
                    audio_bytes=20_000,
                    audio_seconds=3540.0,
                )
            )
        started = time.perf_counter()
        incremental = publish(station=station, now=NOW)
        incremental_ms = (time.perf_counter() - started) * 1000
        assert incremental.ok and incremental.newly_published == [n]

    total = {k: sum(p[k] for p in phases.values()) for k in next(iter(phases.values()))}
    all_profiles_ms = total["build_ms"] + total["check_ms"] + total["write_ms"]
    generic = feeds_out["generic"]
    per_episode = len(generic) / EPISODES
    gz = len(gzip.compress(generic, 6))
    day_plain = 24 * len(generic)
    # With conditional requests an app gets a 304 each hour and the feed once a week.
    day_conditional = 24 * NOT_MODIFIED_BYTES + len(generic) / 7
    rows = [
        [
            name,
            len(feeds_out[name]),
            round(p["build_ms"]),
            round(p["check_ms"]),
            round(p["feedparser_ms"]),
            round(p["write_ms"]),
        ]
        for name, p in phases.items()
    ]
    print(f"setup: {EPISODES} episodes in {setup_s:.1f} s")
    print(
        markdown_table(
            ("profile", "bytes", "build ms", "check ms", "feedparser ms", "write ms"), rows
        )
    )
    summary = [
        ["all profiles: build + check + write", round(all_profiles_ms), "< 2000 ms"],
        ["all profiles: feedparser (items deduplicated)", round(total["feedparser_ms"]), ""],
        ["feedparser on the whole generic feed", round(full_fp_ms), ""],
        ["plain feedgen, same items, podcast ext only", round(plain_ms), ""],
        ["our generic build", round(phases["generic"]["build_ms"]), ""],
        [
            "ratio generic build / plain feedgen",
            f"{phases['generic']['build_ms'] / plain_ms:.2f}×",
            "≤ 1.5×",
        ],
        ["publish: first run (1200 episodes, all files)", round(first_ms), ""],
        ["publish: nothing changed", round(unchanged_ms), ""],
        ["publish: one new episode", round(incremental_ms), ""],
    ]
    print()
    print(markdown_table(("measure", "ms", "target"), summary))
    print()
    print(
        f"generic feed: {len(generic):,} bytes ({per_episode:.0f} bytes/episode), "
        f"{gz:,} gzipped; plain feedgen {len(plain):,} bytes"
    )
    print(
        f"an app fetching hourly: {day_plain / 1e6:.1f} MB/day without conditional requests "
        f"({24 * gz / 1e6:.2f} MB gzipped), {day_conditional / 1e3:.0f} kB/day with "
        "If-None-Match/If-Modified-Since (304s, one full fetch a week)"
    )
    path = write_result(
        "feeds",
        {
            "episodes": EPISODES,
            "profiles": phases,
            "feed_bytes": {k: len(v) for k, v in feeds_out.items()},
            "all_profiles_build_check_write_ms": all_profiles_ms,
            "all_profiles_feedparser_ms": total["feedparser_ms"],
            "generic_full_feedparser_ms": full_fp_ms,
            "plain_feedgen_ms": plain_ms,
            "plain_feedgen_bytes": len(plain),
            "generic_build_ratio": phases["generic"]["build_ms"] / plain_ms,
            "publish_first_ms": first_ms,
            "publish_unchanged_ms": unchanged_ms,
            "publish_one_new_episode_ms": incremental_ms,
            "generic_bytes_per_episode": per_episode,
            "generic_gzip_bytes": gz,
            "hourly_fetch_bytes_per_day": day_plain,
            "hourly_fetch_gzip_bytes_per_day": 24 * gz,
            "hourly_conditional_bytes_per_day": day_conditional,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
