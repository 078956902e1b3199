"""The first step of a publish: everything the next public tree will hold, decided in memory.

``plan_publish`` reads the station (one transaction, which also fixes new guids),
makes every text public (``episodes.public_text``: contacts masked, question titles from
public titles or topics), re-tags masters whose tags went stale, writes out transcripts
that exist only in the database, and lists each file of the tree (``Asset``) with the
feed items that point at them. Nothing under ``public/`` is touched: validation and the
drop guard look at the plan, and only a plan that passes is written (``feeds.publish``).

A plan for a preview (``dry_run``, ``hotline publish --dry-run``) writes nothing at all:
new guids are not stored, stale masters are only named, and transcripts stored only in
the database are rendered from a temporary folder.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from episodes.chapters import chapter_marks
from episodes.public_text import Redactor, station_redactor
from feeds.chapters import answered_questions, chapters_json
from feeds.collect import Collected, Release, collect
from feeds.items import FeedEpisode, ShowInfo, TranscriptLink
from feeds.platforms import Profile
from feeds.public_transcripts import (
    FORMATS,
    Fallback,
    TranscriptSource,
    find_source,
    has_station_files,
    render_many,
    write_out_stored,
)
from feeds.retag import retag_stale
from feeds.text import description_html, plain
from feeds.urls import podcast_guid, public_url
from feeds.validate import ArtworkFacts, inspect_artwork
from hotline.errors import InvalidInput
from hotline.station import Station

Sessions = Callable[[], AbstractContextManager[Session]]


@dataclass
class Asset:
    """One file of the public tree: a link to a station file, or bytes.

    ``kind`` names the folder for the report (audio, transcripts, chapters, images).
    ``reuse`` marks a file taken as it is from the tree shown now (a published
    transcript whose source has not changed).
    """

    relative: str
    kind: str
    link: Path | None = None
    data: bytes | None = None
    mtime_ns: int | None = None
    size: int = 0
    reuse: bool = False


@dataclass
class PublishPlan:
    """What the next public tree holds, and the facts a report gives about it."""

    base_url: str
    profiles: list[Profile]
    now: datetime
    current: Path | None
    """The tree ``public`` shows now (None before the first publish)."""
    current_is_generation: bool
    show: ShowInfo
    artwork: ArtworkFacts | str | None
    found: Collected
    episodes: list[FeedEpisode] = field(default_factory=list)
    assets: dict[str, Asset] = field(default_factory=dict)
    retagged: list[int] = field(default_factory=list)
    written_out: list[int] = field(default_factory=list)
    """Episodes whose stored transcript was written out to ``transcripts/``."""
    notes: list[str] = field(default_factory=list)
    """Things published without, one line each (an unreadable transcript file)."""
    moved_from: str | None = None
    """The base URL the feeds shown now were published at, when it is not this one."""

    def add(self, asset: Asset) -> None:
        self.assets[asset.relative] = asset


def plan_publish(
    *,
    station: Station,
    base_url: str,
    profiles: list[Profile],
    now: datetime,
    sessions: Sessions,
    current: Path | None,
    current_is_generation: bool,
    previous_base: str | None,
    withdraw: frozenset[int] = frozenset(),
    reinstate: frozenset[int] = frozenset(),
    dry_run: bool = False,
) -> PublishPlan:
    """Decide the next public tree; see the module docstring.

    ``withdraw`` and ``reinstate`` are episodes to plan as withdrawn or listed again
    before the database says so (``feeds.publish.ListingChange``).
    """
    with ExitStack() as stack:
        folder = station.transcripts_dir
        if dry_run:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hotline-")))
        return _plan(
            station=station,
            base_url=base_url,
            profiles=profiles,
            now=now,
            sessions=sessions,
            current=current,
            current_is_generation=current_is_generation,
            previous_base=previous_base,
            withdraw=withdraw,
            reinstate=reinstate,
            dry_run=dry_run,
            out_folder=folder,
        )


def _plan(
    *,
    station: Station,
    base_url: str,
    profiles: list[Profile],
    now: datetime,
    sessions: Sessions,
    current: Path | None,
    current_is_generation: bool,
    previous_base: str | None,
    withdraw: frozenset[int],
    reinstate: frozenset[int],
    dry_run: bool,
    out_folder: Path,
) -> PublishPlan:
    """``plan_publish``, stored-only transcripts written out to ``out_folder``."""
    names = set(os.listdir(station.transcripts_dir)) if station.transcripts_dir.is_dir() else set()
    with sessions() as session:
        found = collect(
            session=session,
            station=station,
            now=now,
            withdraw=withdraw,
            reinstate=reinstate,
            assign_guids=not dry_run,
        )
        redact = station_redactor(session)
        only_stored = [
            r.number
            for r in found.releases
            if r.stored_transcript and not has_station_files(names, r.number)
        ]
        written_out = write_out_stored(session=session, folder=out_folder, numbers=only_stored)
    folders = {}
    if written_out:
        if out_folder == station.transcripts_dir:
            names = set(os.listdir(station.transcripts_dir))
        else:
            folders = dict.fromkeys(written_out, out_folder)
            names |= set(os.listdir(out_folder))
    moved = previous_base is not None and previous_base != base_url
    # An address the feeds moved from is never the one they are served at: back at an
    # old address (after a one-off --base-url, say), that entry no longer applies.
    moved_before = [url for url in station.settings.feeds.moved_from if url != base_url]
    show, artwork, cover = show_info(
        station, base_url, profiles, redact, moved=moved or bool(moved_before)
    )
    plan = PublishPlan(
        base_url=base_url,
        profiles=profiles,
        now=now,
        current=current,
        current_is_generation=current_is_generation,
        show=show,
        artwork=artwork,
        found=found,
        written_out=written_out,
        moved_from=previous_base if moved else None,
    )
    if cover is not None:
        plan.add(cover)
    plan.retagged, skipped = retag_stale(
        station=station,
        releases=found.releases,
        redact=redact,
        sessions=sessions,
        dry_run=dry_run,
    )
    plan.notes += skipped
    sources = {}
    for release in found.releases:
        folder = folders.get(release.number, station.transcripts_dir)
        if (source := find_source(folder, names, release.number)) is not None:
            sources[release.number] = source
    published = _transcripts(plan, list(sources.values()), redact)
    for release in found.releases:
        source = sources.get(release.number) if release.number in published else None
        plan.episodes.append(_episode(station, plan, release, source, redact))
    return plan


def show_info(
    station: Station,
    base: str,
    profiles: list[Profile],
    redact: Callable[[str], str],
    *,
    moved: bool = False,
) -> tuple[ShowInfo, ArtworkFacts | str | None, Asset | None]:
    """The channel for ``base``, the cover as Pillow sees it, and the cover's public file."""
    settings = station.settings
    show = settings.show
    feed_url = public_url(base, profiles[0].relative_path)
    image_url, artwork, asset = None, None, None
    if show.cover:
        source = station.path_inside(show.cover, what="cover art show.cover")
        if source.is_file():
            digest = hashlib.sha256(source.read_bytes()).hexdigest()[:10]
            # A new name for new art: Apple re-fetches artwork only when its URL changes.
            relative = f"images/cover-{digest}{source.suffix.lower()}"
            asset = Asset(relative, "images", link=source, size=source.stat().st_size)
            image_url = public_url(base, relative)
        artwork = inspect_artwork(source, show.cover)
    info = ShowInfo(
        title=redact(plain(show.name)) or "政协热线",
        description=redact(plain(show.description, multiline=True)) or redact(plain(show.name)),
        website=show.website,
        language=show.language,
        author=redact(plain(show.author)),
        owner_name=redact(plain(show.owner_name)),
        owner_email=show.owner_email.strip(),
        category=settings.feeds.category,
        explicit=settings.feeds.explicit,
        image_url=image_url,
        public_base=base,
        podcast_guid=settings.feeds.podcast_guid or podcast_guid(feed_url),
        hosts=tuple(h for h in (redact(plain(h)) for h in show.hosts) if h),
        moved=moved,
    )
    return info, artwork, asset


def _episode(
    station: Station,
    plan: PublishPlan,
    release: Release,
    transcript: TranscriptSource | None,
    redact: Redactor,
) -> FeedEpisode:
    """One release's assets (added to ``plan``; its transcripts are, from ``transcript``)
    and its feed item."""
    base = plan.base_url
    stem = f"{release.number:04d}"
    audio = f"audio/{stem}.mp3"
    size = release.master.stat().st_size
    plan.add(Asset(audio, "audio", link=release.master, size=size))
    language = release.language or station.settings.show.language
    links: list[TranscriptLink] = []
    if transcript is not None:
        links = [
            TranscriptLink(public_url(base, transcript.relative(ext)), mime, language)
            for ext, mime in FORMATS
        ]
    length = release.seconds if release.seconds > 0 else math.inf
    chapters = chapter_marks(release.answers, offset=release.master_offset or 0.0, length=length)
    chapters_url = None
    if chapters:
        relative = f"chapters/{stem}.json"
        data = chapters_json(chapters, redact)
        plan.add(Asset(relative, "chapters", data=data, size=len(data)))
        chapters_url = public_url(base, relative)
    guests = tuple(g for g in (redact(name) for name in release.guests) if g)
    return FeedEpisode(
        number=release.number,
        guid=release.guid,
        title=redact(release.title),
        description_html=description_html(
            summary=redact(release.description or release.title),
            topic=redact(release.topic),
            guests=guests,
            questions=answered_questions(chapters, redact),
        ),
        released=release.released.astimezone(station.tz),
        audio_url=public_url(base, audio),
        audio_bytes=size,
        audio_path=audio,
        seconds=round(release.seconds),
        hosts=tuple(h for h in (redact(h) for h in release.hosts) if h),
        guests=guests,
        transcripts=tuple(links),
        chapters_url=chapters_url,
    )


def _transcripts(plan: PublishPlan, sources: list[TranscriptSource], redact: Redactor) -> set[int]:
    """Add the published transcripts of ``sources`` to ``plan``; the episodes that have them.

    Files of the tree shown now whose mtime is their source's are current and reused
    unread; the others are rendered (``render_many``: on two CPUs, in two processes). A
    source that cannot be read is noted: the episode's next station file is published, or
    the episode goes out without.
    """
    fresh = [source for source in sources if not _reused(plan, source)]
    published = {source.number for source in sources}
    for source, rendered in zip(fresh, render_many(fresh, redact), strict=True):
        if isinstance(rendered, InvalidInput):
            plan.notes.append(
                f"episode {source.number}: published without its transcript ({rendered})"
            )
            published.discard(source.number)
            continue
        if isinstance(rendered, Fallback):
            plan.notes.append(
                f"episode {source.number}: transcript published from {rendered.used.name} "
                f"({rendered.unreadable})"
            )
            rendered = rendered.files
        for ext, _ in FORMATS:
            data = rendered[ext]
            plan.add(
                Asset(
                    source.relative(ext),
                    "transcripts",
                    data=data,
                    mtime_ns=source.mtime_ns,
                    size=len(data),
                )
            )
    return published


def _reused(plan: PublishPlan, source: TranscriptSource) -> bool:
    """Add a source's published files from the tree shown now when they are current."""
    if plan.current is None or not plan.current_is_generation:
        return False
    relatives = [source.relative(ext) for ext, _ in FORMATS]
    sizes = []
    for relative in relatives:
        try:
            stat = (plan.current / relative).stat()
        except FileNotFoundError:
            return False
        if stat.st_mtime_ns != source.mtime_ns:
            return False
        sizes.append(stat.st_size)
    for relative, size in zip(relatives, sizes, strict=True):
        plan.add(Asset(relative, "transcripts", size=size, reuse=True))
    return True
