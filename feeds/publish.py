"""``publish``: the ``public/`` tree a web server serves, with one validated feed per platform.

Order matters for listeners and for crashes:

1. one transaction reads the released episodes and fixes the guids of new ones, and
   commits, so a guid a feed shows is always the stored one;
2. audio, transcripts, chapters and cover are linked or written atomically, each skipped
   when current (masters are compared by inode, size and mtime, never read);
3. every feed is built, compared with the one on disk (``lastBuildDate`` masked: an
   unchanged feed is not rewritten and keeps its date), validated, and only then
   replaced atomically; a feed that fails keeps the last good one. Items shared by
   several profiles are rendered once; validation checks each distinct item once per
   run, and feedparser parses only items and channels it has not accepted before
   (``feeds.accepted``), so a weekly publish parses one new item, not the archive;
4. a second transaction marks the listed episodes published.

A lock file keeps two publishes (two pipeline workers, a cron job) from interleaving.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from episodes.lifecycle import set_status
from feeds import files
from feeds.accepted import Accepted
from feeds.accepted import load as load_accepted
from feeds.accepted import save as save_accepted
from feeds.chapters import chapter_list, chapters_json
from feeds.collect import Release, collect
from feeds.items import FeedEpisode, ShowInfo, TranscriptLink
from feeds.platforms import Profile, selected_profiles
from feeds.rss import RenderedItems, build_feed, gc_paused, newest_first
from feeds.text import description_html, plain
from feeds.urls import check_base_url, podcast_guid, public_url
from feeds.validate import ArtworkFacts, inspect_artwork, validate_feed
from hotline.config import save_settings
from hotline.models import Episode, EpisodeStatus
from hotline.station import Station
from hotline.timeutil import utcnow

TRANSCRIPT_TYPES = (("vtt", "text/vtt"), ("srt", "application/x-subrip"))
JSON_TRANSCRIPT = "application/json"
_LAST_BUILD = re.compile(rb"<lastBuildDate>[^<]*</lastBuildDate>")

Sessions = Callable[[], AbstractContextManager[Session]]


@dataclass
class FeedOutcome:
    """What happened to one platform's feed."""

    profile: str
    label: str
    path: str
    url: str
    items: int
    bytes: int
    status: str  # written, unchanged or failed
    problems: list[str] = field(default_factory=list)


@dataclass
class PublishReport:
    """What ``publish`` did, for the CLI, the pipeline stage and the TUI."""

    base_url: str
    feeds: list[FeedOutcome] = field(default_factory=list)
    listed: list[int] = field(default_factory=list)
    """Episode numbers in at least one good feed."""
    newly_published: list[int] = field(default_factory=list)
    waiting: list[tuple[int, datetime]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    files_written: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(feed.status != "failed" for feed in self.feeds)

    @property
    def problems(self) -> list[str]:
        """Every problem of every failed feed, one line each, named by feed file."""
        return [f"{feed.path}: {problem}" for feed in self.feeds for problem in feed.problems]


@contextmanager
def _publish_lock(public_dir: Path) -> Iterator[None]:
    public_dir.mkdir(parents=True, exist_ok=True)
    with (public_dir / ".publish.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def publish(
    *,
    station: Station,
    base_url: str | None = None,
    now: datetime | None = None,
    sessions: Sessions | None = None,
) -> PublishReport:
    """Write the ``public/`` tree and every platform's feed; see the module docstring.

    Args:
        station: the station whose ``public/`` folder is written.
        base_url: where ``public/`` is served (default ``feeds.base_url``); https only.
        now: the moment deciding which episodes are released (default: now).
        sessions: opens one committed transaction per call (default ``station.session``;
            the demo build passes its own open transaction).
    """
    base = check_base_url(base_url or station.settings.feeds.base_url)
    profiles = selected_profiles(list(station.settings.feeds.platforms))
    now = now or utcnow()
    sessions = sessions or station.session
    public = station.public_dir
    with _publish_lock(public):
        with sessions() as session:
            found = collect(session=session, station=station, now=now)
        report = PublishReport(base_url=base, waiting=found.waiting, missing=found.missing)
        for folder in ("audio", "transcripts", "chapters", "images", "feeds"):
            files.remove_leftovers(public / folder)
        show, artwork = show_info(station, base, profiles, report)
        # Thousands of short-lived objects per episode, no cycles: see ``gc_paused``.
        with gc_paused():
            episodes = feed_items(
                station=station, base_url=base, releases=found.releases, report=report
            )
            _write_feeds(station, show, episodes, profiles, artwork, now, report)
        if any(feed.status == "written" for feed in report.feeds):
            _fix_podcast_guid(station, show.podcast_guid)
        with sessions() as session:
            report.newly_published = mark_published(session=session, numbers=report.listed, now=now)
    return report


def show_info(
    station: Station, base: str, profiles: list[Profile], report: PublishReport
) -> tuple[ShowInfo, ArtworkFacts | str | None]:
    """The channel for ``base``, with the cover linked into ``public/images/``."""
    settings = station.settings
    show = settings.show
    feed_url = public_url(base, profiles[0].relative_path)
    image_url, artwork = None, None
    if show.cover:
        source = station.path_inside(show.cover, what="cover art show.cover")
        if source.is_file():
            digest = hashlib.sha256(source.read_bytes()).hexdigest()[:10]
            # A new name for new art: Apple re-fetches artwork only when its URL changes.
            relative = f"images/cover-{digest}{source.suffix.lower()}"
            if files.sync_file(source, station.public_dir / relative):
                report.files_written["images"] = 1
            image_url = public_url(base, relative)
        artwork = inspect_artwork(source, show.cover)
    info = ShowInfo(
        title=plain(show.name) or "政协热线",
        description=plain(show.description, multiline=True) or plain(show.name),
        website=show.website,
        language=show.language,
        author=plain(show.author),
        owner_name=plain(show.owner_name),
        owner_email=show.owner_email.strip(),
        category=settings.feeds.category,
        explicit=settings.feeds.explicit,
        image_url=image_url,
        public_base=base,
        podcast_guid=settings.feeds.podcast_guid or podcast_guid(feed_url),
        hosts=tuple(h for h in (plain(h) for h in show.hosts) if h),
    )
    return info, artwork


def _fix_podcast_guid(station: Station, guid: str) -> None:
    """Store the show's podcast:guid at first publish: it must survive a new base URL."""
    if station.settings.feeds.podcast_guid != guid:
        station.settings.feeds.podcast_guid = guid
        save_settings(station.settings, station.settings_path)


def _count(report: PublishReport, kind: str, changed: bool) -> None:
    if changed:
        report.files_written[kind] = report.files_written.get(kind, 0) + 1


def feed_items(
    *, station: Station, base_url: str, releases: list[Release], report: PublishReport
) -> list[FeedEpisode]:
    """Put each release's files in ``public/`` (counted in ``report``); their feed items.

    Masters are hard-linked at once; the transcript and chapters files that changed are
    written together at the end (``files.write_many``: each atomic and fsynced, the
    folders fsynced once), before any feed can point at them.
    """
    names = set(os.listdir(station.transcripts_dir)) if station.transcripts_dir.is_dir() else set()
    pending: list[tuple[Path, bytes, int | None]] = []
    items = [_assets(station, base_url, release, names, pending, report) for release in releases]
    files.write_many(pending)
    for folder in ("audio", "transcripts"):  # the links' renames
        if (station.public_dir / folder).is_dir():
            files.fsync_dir(station.public_dir / folder)
    return items


def _assets(
    station: Station,
    base: str,
    release: Release,
    transcripts: set[str],
    pending: list[tuple[Path, bytes, int | None]],
    report: PublishReport,
) -> FeedEpisode:
    """Link one episode's audio, queue its transcripts and chapters; its feed item."""
    public = station.public_dir
    stem = f"{release.number:04d}"
    audio = f"audio/{stem}.mp3"
    _count(report, "audio", files.sync_file(release.master, public / audio, durable=False))
    language = release.language or station.settings.show.language
    links = []
    for ext, mime in TRANSCRIPT_TYPES:
        if f"{stem}.{ext}" in transcripts:
            relative = f"transcripts/{stem}.{ext}"
            source = station.transcripts_dir / f"{stem}.{ext}"
            _count(report, "transcripts", files.sync_file(source, public / relative, durable=False))
            links.append(TranscriptLink(public_url(base, relative), mime, language))
    if f"{stem}.json" in transcripts:
        relative = f"transcripts/{stem}.json"
        update = files.json_transcript(station.transcripts_dir / f"{stem}.json", public / relative)
        if not isinstance(update, bool):
            pending.append((public / relative, *update))
            _count(report, "transcripts", True)
        if update is not False:
            links.append(TranscriptLink(public_url(base, relative), JSON_TRANSCRIPT, language))
    chapters_url = None
    chapters = chapter_list(release.questions, release.seconds or float("inf"))
    if chapters:
        relative = f"chapters/{stem}.json"
        data = chapters_json(chapters)
        if not files.is_current(public / relative, data):
            pending.append((public / relative, data, None))
            _count(report, "chapters", True)
        chapters_url = public_url(base, relative)
    return FeedEpisode(
        number=release.number,
        guid=release.guid,
        title=release.title,
        description_html=description_html(
            summary=release.description or release.title,
            topic=release.topic,
            guests=release.guests,
            questions=release.questions,
        ),
        released=release.released.astimezone(station.tz),
        audio_url=public_url(base, audio),
        audio_bytes=(public / audio).stat().st_size,
        audio_path=audio,
        seconds=round(release.seconds),
        hosts=release.hosts,
        guests=release.guests,
        transcripts=tuple(links),
        chapters_url=chapters_url,
    )


def masked(data: bytes) -> bytes:
    """The feed with its ``lastBuildDate`` blanked: equal masks mean unchanged content."""
    return _LAST_BUILD.sub(b"<lastBuildDate/>", data, count=1)


def _write_feeds(
    station: Station,
    show: ShowInfo,
    episodes: list[FeedEpisode],
    profiles: list[Profile],
    artwork: ArtworkFacts | str | None,
    now: datetime,
    report: PublishReport,
) -> None:
    """Build, compare, validate, then write each feed; every feed is checked before any write.

    Items are rendered once for all profiles that list them alike; validation skips what
    another feed of this run passed, and feedparser what an earlier run accepted.
    """
    public = station.public_dir
    feeds_dir = public / "feeds"
    sizes: dict[str, int | None] = {}
    rendered = RenderedItems()
    accepted: Accepted | None = None  # read (and feedparser imported) once a feed changed
    ready: list[tuple[FeedOutcome, bytes]] = []
    keys: dict[str, list[str]] = {}
    listed: set[int] = set()
    for profile in profiles:
        chosen = newest_first(episodes, profile)
        data = build_feed(
            show, chosen, profile, last_build=now.astimezone(station.tz), rendered=rendered
        )
        dest = public / profile.relative_path
        old = dest.read_bytes() if dest.is_file() else None
        outcome = FeedOutcome(
            profile=profile.name,
            label=profile.label,
            path=profile.relative_path,
            url=public_url(report.base_url, profile.relative_path),
            items=len(chosen),
            bytes=len(data),
            status="unchanged",
        )
        report.feeds.append(outcome)
        if old is not None and masked(old) == masked(data):
            outcome.bytes = len(old)
            listed.update(e.number for e in chosen)
            continue
        accepted = accepted or load_accepted(feeds_dir)
        outcome.problems, keys[profile.filename] = validate_feed(
            data,
            profile,
            public_dir=public,
            base_url=report.base_url,
            artwork=artwork,
            sizes=sizes,
            accepted=accepted,
        )
        if outcome.problems:
            outcome.status = "failed"
            del keys[profile.filename]
            continue
        outcome.status = "written"
        listed.update(e.number for e in chosen)
        ready.append((outcome, data))
    for outcome, data in ready:
        files.write_atomic(public / outcome.path, data)
    if accepted is not None and keys:
        save_accepted(feeds_dir, accepted, keys)
    report.listed = sorted(listed)


def mark_published(*, session: Session, numbers: list[int], now: datetime) -> list[int]:
    """Move the listed episodes to published (first listing sets ``published_at``)."""
    if not numbers:
        return []
    changed = []
    # Only those not yet published: a quiet publish of a long archive loads nothing.
    episodes = session.exec(
        select(Episode)
        .where(col(Episode.number).in_(numbers))
        .where(
            (col(Episode.published_at).is_(None))
            | (col(Episode.status) != EpisodeStatus.published.value)
        )
        .order_by(col(Episode.number))
    ).all()
    for episode in episodes:
        first = episode.published_at is None
        if first:
            episode.published_at = now
            session.add(episode)
        if set_status(session, episode, EpisodeStatus.published) or first:
            changed.append(episode.number)
    session.flush()
    return changed
