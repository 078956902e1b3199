"""Feeds benchmark: 1200 published episodes, every platform profile, next to plain feedgen.

A station with 1200 mastered episodes (small fake MP3s of known size), each with SRT/VTT/
JSON transcripts, answered questions (chapters) and 3 guests who appeared, bulk-inserted.
Measures what publish does for the feeds (build every profile, lxml checks, feedparser,
write) phase by phase in two scenarios: a first publish (feedparser parses every distinct
item) and a steady-state publish of one new episode (feedparser remembers what it
accepted); whole ``publish`` runs (first, unchanged, one new episode); feed sizes; and our
generic feed built from scratch against plain feedgen with only its podcast extension,
alternating, medians.

    .venv/bin/python benchmarks/bench_feeds.py
"""

from __future__ import annotations

import gzip
import os
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(Path(__file__).resolve().parent)]

import sqlalchemy as sa  # noqa: E402
from common import markdown_table, median, write_result  # noqa: E402
from feeds_fixtures import fake_mp3, use_cover, write_transcripts  # noqa: E402

from feeds import accepted as accepted_module  # noqa: E402
from feeds.accepted import Accepted  # noqa: E402
from feeds.items import FeedEpisode, ShowInfo  # noqa: E402
from feeds.plan import plan_publish  # noqa: E402
from feeds.platforms import PROFILES, Profile, selected_profiles  # noqa: E402
from feeds.publish import publish  # noqa: E402
from feeds.rss import RenderedItems, build_feed, gc_paused, newest_first  # noqa: E402
from feeds.validate import validate_feed  # noqa: E402
from hotline.files import write_atomic  # noqa: E402
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
    """The same items with feedgen and only its own podcast extension (no Podcasting 2.0).

    Item for item what our generic feed holds (title, description, guid, pubDate,
    enclosure, iTunes tags) and the same channel, without the Podcasting 2.0 tags.
    """
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.title(show.title)
    fg.link(href=f"{BASE}/feeds/generic.xml", rel="self", type="application/rss+xml")
    fg.link(href=show.website, rel="alternate")
    fg.description(show.description)
    fg.language(show.language)
    fg.generator("政协热线 Hotline")
    fg.copyright(show.owner_name)
    fg.lastBuildDate(NOW)
    if show.image_url:
        fg.image(url=show.image_url, title=show.title, link=show.website)
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


class FeedparserClock:
    """Times validation's feedparser runs (through ``feeds.accepted``), the wait for a
    forked child that parses half of a large batch included."""

    def __init__(self) -> None:
        self.ms = 0.0
        self.items = 0
        self.real = accepted_module._parse_all

    def __call__(self, docs: list[bytes]) -> list[str]:
        started = time.perf_counter()
        try:
            return self.real(docs)
        finally:
            self.ms += (time.perf_counter() - started) * 1000
            self.items += sum(doc.count(b"<item>") for doc in docs)


def feeds_pass(
    profiles: list[Profile],
    show: ShowInfo,
    episodes: list[FeedEpisode],
    station: Station,
    artwork: Any,
    accepted: Accepted,
    out_dir: Path,
) -> tuple[dict[str, dict[str, float]], dict[str, bytes], int]:
    """What publish does for the feeds, phase by phase: build every profile (items
    rendered once), validate (lxml rules, then feedparser on what ``accepted`` has not
    seen), write. Returns per-profile timings, the feeds, and items feedparser parsed."""
    clock = FeedparserClock()
    accepted_module._parse_all = clock
    rendered = RenderedItems()
    sizes: dict[str, int | None] = {}
    phases: dict[str, dict[str, float]] = {}
    out: dict[str, bytes] = {}
    try:
        for profile in profiles:
            chosen = newest_first(episodes, profile)
            started = time.perf_counter()
            data = build_feed(show, chosen, profile, last_build=NOW, rendered=rendered)
            built = time.perf_counter()
            before = clock.ms
            problems, _ = validate_feed(
                data,
                profile,
                public_dir=station.public_dir,
                base_url=BASE,
                artwork=artwork,
                sizes=sizes,
                accepted=accepted,
            )
            checked = time.perf_counter()
            assert problems == [], problems[:3]
            write_atomic(out_dir / profile.filename, data)
            written = time.perf_counter()
            parse = clock.ms - before
            phases[profile.name] = {
                "build_ms": (built - started) * 1000,
                "check_ms": (checked - built) * 1000 - parse,
                "feedparser_ms": parse,
                "write_ms": (written - checked) * 1000,
            }
            out[profile.name] = data
    finally:
        accepted_module._parse_all = clock.real
    return phases, out, clock.items


def build_ratio(show: ShowInfo, episodes: list[FeedEpisode], runs: int = 7) -> dict[str, Any]:
    """Our generic feed built from scratch (nothing reused) against plain feedgen with only
    its podcast extension, alternating in this process; medians of ``runs`` each."""
    generic = PROFILES["generic"]
    newest = newest_first(episodes, generic)
    ours, plain, plain_paused, ours_cpu, plain_cpu = [], [], [], [], []
    for _ in range(runs):
        for samples, cpu, fn in (
            (plain, plain_cpu, lambda: plain_feedgen(show, newest)),
            (ours, ours_cpu, lambda: build_feed(show, episodes, generic, last_build=NOW)),
        ):
            wall, clock = time.perf_counter(), time.process_time()
            fn()
            samples.append((time.perf_counter() - wall) * 1000)
            cpu.append((time.process_time() - clock) * 1000)
        with gc_paused():
            started = time.perf_counter()
            plain_feedgen(show, newest)
            plain_paused.append((time.perf_counter() - started) * 1000)
    return {
        "runs": runs,
        "ours_ms": median(ours),
        "plain_ms": median(plain),
        "ratio": median(ours) / median(plain),
        "ours_cpu_ms": median(ours_cpu),
        "plain_cpu_ms": median(plain_cpu),
        "ratio_cpu": median(ours_cpu) / median(plain_cpu),
        "plain_gc_paused_ms": median(plain_paused),
        "ratio_gc_paused_both": median(ours) / median(plain_paused),
        "ours_samples_ms": ours,
        "plain_samples_ms": plain,
    }


def timed_publish(station: Station) -> tuple[float, Any]:
    started = time.perf_counter()
    report = publish(station=station, now=NOW)
    return (time.perf_counter() - started) * 1000, report


def add_new_episode(station: Station) -> int:
    """One more released episode with transcripts, chapters and guests: a weekly publish."""
    n = EPISODES + 1
    path = fake_mp3(station.master_dir / f"{n:04d}.mp3", 20_000)
    write_transcripts(station, n, [f"第{n}期第{i}句：新的一期。" for i in range(8)])
    with station.session() as session:
        episode = Episode(
            number=n,
            title=f"第{n}期：新的一期",
            air_start=NOW - timedelta(days=1),
            status="transcribed",
            audio_path=path.relative_to(station.root).as_posix(),
            audio_bytes=20_000,
            audio_seconds=3540.0,
            hosts=["李明", "王芳"],
        )
        session.add(episode)
        session.flush()
        for member_id in (1, 2, 3):
            session.add(Booking(episode_id=episode.id, member_id=member_id, status="appeared"))
        session.add(
            Question(
                channel="phone",
                text="新问题",
                topic="新问题",
                status="answered",
                episode_id=episode.id,
                answer_offset=600.0,
            )
        )
    return n


def phase_rows(title: str, phases: dict[str, dict[str, float]], feeds: dict[str, bytes]) -> str:
    rows = [
        [
            name,
            len(feeds[name]),
            round(p["build_ms"]),
            round(p["check_ms"]),
            round(p["feedparser_ms"]),
            round(p["write_ms"]),
        ]
        for name, p in phases.items()
    ]
    total = {k: sum(p[k] for p in phases.values()) for k in next(iter(phases.values()))}
    rows.append(["**all**", sum(len(v) for v in feeds.values()), *map(round, total.values())])
    head = ("profile", "bytes", "build ms", "lxml check ms", "feedparser ms", "write ms")
    return f"{title}\n\n" + markdown_table(head, rows)


def totals(phases: dict[str, dict[str, float]]) -> dict[str, float]:
    total = {k: sum(p[k] for p in phases.values()) for k in next(iter(phases.values()))}
    return {**total, "all_ms": sum(total.values())}


def main() -> None:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        station = build_station(Path(folder) / "station")
        setup_s = time.perf_counter() - started
        profiles = selected_profiles(list(station.settings.feeds.platforms))

        first_ms, first = timed_publish(station)
        assert first.ok, first.problems[:5]
        unchanged_ms, again = timed_publish(station)
        assert {f.status for f in again.feeds} == {"unchanged"}

        # The items publish builds, for timing the feed phases one by one.
        plan = plan_publish(
            station=station,
            base_url=BASE,
            profiles=profiles,
            now=NOW,
            sessions=station.session,
            current=station.public_dir.resolve(),
            current_is_generation=True,
            previous_base=BASE,
        )
        show, artwork, episodes = plan.show, plan.artwork, plan.episodes
        out_dir = Path(folder) / "bench-out"

        # First publish: nothing accepted before, feedparser parses every distinct item.
        accepted = Accepted()
        cold, feeds_out, cold_items = feeds_pass(
            profiles, show, episodes, station, artwork, accepted, out_dir
        )
        # Steady state: one new episode; feedparser remembers what it accepted.
        newer = replace(
            episodes[-1],
            number=EPISODES + 1,
            guid="bench-new-episode",
            title="第1201期：新的一期",
            released=episodes[-1].released + timedelta(days=7),
        )
        remembered = Accepted(parsed=set(accepted.parsed))
        warm, _, warm_items = feeds_pass(
            profiles, show, [*episodes, newer], station, artwork, remembered, out_dir
        )
        whole = feeds_out["generic"]
        full_fp_ms, _ = best_of(1, lambda: accepted_module.feedparser_problems(whole))
        ratio = build_ratio(show, episodes)

        n = add_new_episode(station)
        incremental_ms, incremental = timed_publish(station)
        assert incremental.ok and incremental.newly_published == [n]
        unchanged_after_ms, _ = timed_publish(station)
    load_after = os.getloadavg()

    generic = feeds_out["generic"]
    per_episode = len(generic) / EPISODES
    gz = len(gzip.compress(generic, 6))
    day_plain = 24 * len(generic)
    # With conditional requests an app gets a 304 each hour and the feed once a week.
    day_conditional = 24 * NOT_MODIFIED_BYTES + len(generic) / 7
    cold_total, warm_total = totals(cold), totals(warm)
    print(
        f"setup: {EPISODES} episodes in {setup_s:.1f} s; load average (1/5/15 min) "
        f"{'/'.join(f'{x:.2f}' for x in load_before)} before, "
        f"{'/'.join(f'{x:.2f}' for x in load_after)} after, {os.cpu_count()} CPUs"
    )
    print()
    print(
        phase_rows(
            f"First publish (feedparser parses all {cold_items} distinct items)", cold, feeds_out
        )
    )
    print()
    print(
        phase_rows(
            f"Steady state, one new episode (feedparser parses {warm_items} new items + channels)",
            warm,
            feeds_out,
        )
    )
    summary = [
        [
            "all profiles, first publish: build + lxml check + write",
            round(cold_total["all_ms"] - cold_total["feedparser_ms"]),
            "",
        ],
        [
            "all profiles, first publish: build + lxml + feedparser + write",
            round(cold_total["all_ms"]),
            "< 2000 ms",
        ],
        [
            "all profiles, steady state: build + lxml + feedparser + write",
            round(warm_total["all_ms"]),
            "< 2000 ms",
        ],
        ["feedparser on the whole generic feed (reference)", round(full_fp_ms), ""],
        [
            f"plain feedgen, same items, podcast ext only (median of {ratio['runs']})",
            round(ratio["plain_ms"]),
            "",
        ],
        [
            f"our generic build from scratch (median of {ratio['runs']}, alternating)",
            round(ratio["ours_ms"]),
            "",
        ],
        ["ratio generic build / plain feedgen (wall)", f"{ratio['ratio']:.2f}×", "≤ 1.5×"],
        ["ratio generic build / plain feedgen (CPU time)", f"{ratio['ratio_cpu']:.2f}×", "≤ 1.5×"],
        ["ratio with plain feedgen also GC-paused", f"{ratio['ratio_gc_paused_both']:.2f}×", ""],
        ["publish: first run (1200 episodes, all files)", round(first_ms), ""],
        ["publish: nothing changed", round(unchanged_ms), ""],
        ["publish: one new episode", round(incremental_ms), ""],
        ["publish: nothing changed (after it)", round(unchanged_after_ms), ""],
    ]
    print()
    print(markdown_table(("measure", "ms", "target"), summary))
    print()
    print(f"generic feed: {len(generic):,} bytes ({per_episode:.0f} bytes/episode), {gz:,} gzipped")
    print(
        f"an app fetching hourly: {day_plain / 1e6:.1f} MB/day without conditional requests "
        f"({24 * gz / 1e6:.2f} MB gzipped), {day_conditional / 1e3:.0f} kB/day with "
        "If-None-Match/If-Modified-Since (304s, one full fetch a week)"
    )
    path = write_result(
        "feeds",
        {
            "episodes": EPISODES,
            "load_average_before": list(load_before),
            "load_average_after": list(load_after),
            "first_publish_profiles": cold,
            "first_publish_feedparser_items": cold_items,
            "steady_state_profiles": warm,
            "steady_state_feedparser_items": warm_items,
            "feed_bytes": {k: len(v) for k, v in feeds_out.items()},
            "all_profiles_first_publish_ms": cold_total["all_ms"],
            "all_profiles_first_publish_without_feedparser_ms": cold_total["all_ms"]
            - cold_total["feedparser_ms"],
            "all_profiles_steady_state_ms": warm_total["all_ms"],
            "generic_full_feedparser_ms": full_fp_ms,
            "build_ratio": ratio,
            "publish_first_ms": first_ms,
            "publish_unchanged_ms": unchanged_ms,
            "publish_one_new_episode_ms": incremental_ms,
            "publish_unchanged_after_new_ms": unchanged_after_ms,
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
