"""``publish``: the public tree a web server serves, switched in one step, one feed per platform.

A publish is four steps, and only the last one is seen from outside:

1. **plan** (``feeds.plan``): read the released episodes (fixing the guids of new ones),
   make their text public, re-tag stale masters, and decide every file of the next tree;
2. **validate**: build each platform's feed (items shared between profiles rendered
   once), check the changed ones against their platform's rules and feedparser (which
   skips what it accepted before, ``feeds.accepted``), and refuse a publish that would
   drop too many published items (``feeds.drop``). Any problem ends the publish here,
   with nothing written;
3. **write** the next generation beside the current one (``feeds.generations``):
   unchanged files are hard links to the current generation's, the rest are written,
   and the whole tree is flushed to disk once;
4. **switch**: one atomic rename makes ``public`` show the new generation, so a reader
   (or a crash) sees every feed and asset old or every one new; the old generation and
   any leftovers of killed runs are removed. The listed episodes are then marked
   published.

When nothing changed, no generation is written and every feed keeps its bytes and its
``lastBuildDate``. A lock keeps two publishes (workers, cron, desks) from interleaving.

A publish may carry a change of which episodes the feeds list (``ListingChange``: an
episode withdrawn or reinstated, ``feeds.withdraw``): it is checked under the lock,
planned as if already made, and recorded in the database just before the switch, so a
refused publish changes nothing and the switch shows the change everywhere at once.
``feeds.preview`` runs the first two steps without writing anything.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from episodes.lifecycle import set_status
from feeds import files
from feeds.accepted import NOTE_NAME, Accepted
from feeds.accepted import load as load_accepted
from feeds.accepted import save as save_accepted
from feeds.drop import Dropped, check_drop, dropped_items, listed_before, published_guids
from feeds.generations import PublicTree, note_of
from feeds.plan import Asset, PublishPlan, Sessions, plan_publish
from feeds.platforms import Profile, selected_profiles
from feeds.rss import RenderedItems, build_feed, gc_paused, newest_first
from feeds.urls import check_base_url, public_url, to_uri
from feeds.validate import validate_feed
from hotline.config import save_settings
from hotline.errors import InvalidInput
from hotline.models import Episode, EpisodeStatus
from hotline.station import Station
from hotline.timeutil import utcnow

_LAST_BUILD = re.compile(rb"<lastBuildDate>[^<]*</lastBuildDate>")
_SELF_LINK = re.compile(rb'<atom:link href="([^"]+)" rel="self"')


@dataclass
class FeedOutcome:
    """What happened to one platform's feed."""

    profile: str
    label: str
    path: str
    url: str
    items: int
    bytes: int
    status: str
    """written, unchanged, failed, or held (good, but the publish stopped: another failed)."""
    problems: list[str] = field(default_factory=list)


@dataclass
class PublishReport:
    """What ``publish`` did, for the CLI, the pipeline stage and the TUI."""

    base_url: str
    feeds: list[FeedOutcome] = field(default_factory=list)
    listed: list[int] = field(default_factory=list)
    """Episode numbers in the feeds ``public`` shows after this publish."""
    newly_published: list[int] = field(default_factory=list)
    waiting: list[tuple[int, datetime]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    files_written: dict[str, int] = field(default_factory=dict)
    retagged: list[int] = field(default_factory=list)
    """Episodes whose master was re-tagged (title, description, chapters or cover changed)."""
    notes: list[str] = field(default_factory=list)
    """What went out without something (an unreadable transcript), one line each."""
    dropped: int = 0
    """Items in the feeds before that this publish removed (withdrawn ones included)."""
    withdrawn: list[int] = field(default_factory=list)
    """Withdrawn episodes the feeds leave out (``hotline episodes withdraw``)."""
    generation: str | None = None
    """The generation ``public`` shows after this publish (None: nothing was published yet)."""
    switched: bool = False
    """True when this publish wrote a new generation and switched to it."""

    @property
    def ok(self) -> bool:
        return all(feed.status != "failed" for feed in self.feeds)

    @property
    def problems(self) -> list[str]:
        """Every problem of the failed feeds, one line each, named by the feeds it is in.

        A problem every feed has (no cover art on a new station) is one line, not five.
        """
        where: dict[str, list[str]] = {}
        for feed in self.feeds:
            for problem in feed.problems:
                where.setdefault(problem, []).append(feed.path)
        return [
            f"{'every feed' if len(paths) == len(self.feeds) > 1 else ', '.join(paths)}: {problem}"
            for problem, paths in where.items()
        ]


@dataclass
class _Feed:
    """A platform's feed as planned: its bytes, its items, and how it compares."""

    profile: Profile
    data: bytes
    numbers: list[int]
    guids: set[str]
    outcome: FeedOutcome
    unchanged: bool


@dataclass
class Checked:
    """A checked plan: the feeds to write, what feedparser accepted, what would leave."""

    feeds: list[_Feed]
    accepted: Accepted | None
    keys: dict[str, list[str]]
    changed: set[str]
    """Assets that differ from the tree shown now."""
    stale: bool
    """The tree shown now holds files the plan does not."""
    dropped: Dropped
    """The published items the planned feeds leave out, and why."""

    @property
    def changes_anything(self) -> bool:
        return bool(self.changed) or self.stale or any(not f.unchanged for f in self.feeds)

    @property
    def listed(self) -> list[int]:
        return sorted(set().union(*(feed.numbers for feed in self.feeds)))


@dataclass(frozen=True)
class ListingChange:
    """Episodes one publish takes out of the feeds or lists again, recorded as it switches.

    ``check`` runs under the publish lock before planning and raises to refuse; the plan
    treats ``withdraw`` as withdrawn and ``reinstate`` as listed; ``record`` writes the
    change in one committed transaction once the new tree is written and before it is
    switched to. A crash between the two leaves the database ahead of ``public``, and
    the next publish catches up.
    """

    check: Callable[[Session], None]
    record: Callable[[Session], None]
    withdraw: frozenset[int] = frozenset()
    reinstate: frozenset[int] = frozenset()


def publish(
    *,
    station: Station,
    base_url: str | None = None,
    now: datetime | None = None,
    sessions: Sessions | None = None,
    allow_drop: bool = False,
    change: ListingChange | None = None,
) -> PublishReport:
    """Publish the station: plan, validate, write a generation, switch (module docstring).

    Args:
        station: the station whose ``public`` tree is published.
        base_url: where ``public/`` is served (default ``feeds.base_url``); https only.
        now: the moment deciding which episodes are released (default: now).
        sessions: opens one committed transaction per call (default ``station.session``;
            the demo build passes its own open transaction).
        allow_drop: publish even when more than ``feeds.max_drop_percent`` of the items
            in the feeds now would go (otherwise ``NeedsConfirmation`` says how many, why).
        change: an episode withdrawn or reinstated by this publish (``ListingChange``);
            it is recorded only when the publish goes ahead.
    """
    base = check_base_url(base_url or station.settings.feeds.base_url)
    profiles = selected_profiles(list(station.settings.feeds.platforms))
    now = now or utcnow()
    sessions = sessions or station.session
    tree = PublicTree(station.root)
    with tree.lock():
        tree.remove_leftovers()
        if change is not None:
            with sessions() as session:
                change.check(session)
        current = tree.current()
        plan = plan_publish(
            station=station,
            base_url=base,
            profiles=profiles,
            now=now,
            sessions=sessions,
            current=current,
            current_is_generation=tree.is_generation(current),
            previous_base=published_base(current, profiles[0]),
            withdraw=change.withdraw if change else frozenset(),
            reinstate=change.reinstate if change else frozenset(),
        )
        report = new_report(plan, tree)
        checked = validate_plan(
            station=station, plan=plan, report=report, sessions=sessions, allow_drop=allow_drop
        )
        if checked is None:
            return report
        generation = None
        if checked.changes_anything:
            generation = tree.new_generation()
            write_generation(generation, plan, checked, report)
        if change is not None:
            try:
                with sessions() as session:
                    change.record(session)
            except BaseException:
                tree.remove_leftovers()  # the generation written for it, never shown
                raise
        if generation is not None:
            tree.switch(generation)
            tree.remove_leftovers()
            report.generation, report.switched = generation.name, True
            _remember_settings(station, plan)
        report.listed = checked.listed
    with sessions() as session:
        report.newly_published = mark_published(session=session, numbers=report.listed, now=now)
    return report


def new_report(plan: PublishPlan, tree: PublicTree) -> PublishReport:
    """The report of a publish of ``plan``, before its feeds are built."""
    return PublishReport(
        base_url=plan.base_url,
        waiting=plan.found.waiting,
        missing=plan.found.missing,
        retagged=plan.retagged,
        notes=plan.notes,
        withdrawn=sorted(plan.found.withdrawn),
        generation=plan.current.name if tree.is_generation(plan.current) else None,
    )


def check_plan(
    *, station: Station, plan: PublishPlan, report: PublishReport, sessions: Sessions
) -> Checked:
    """Build every feed of ``plan``, check each changed one, and find what would leave.

    A feed that fails its checks is marked failed in ``report``; nothing is refused and
    nothing is written here (``validate_plan`` decides, ``feeds.preview`` only shows).
    """
    # Thousands of short-lived objects per episode, no cycles: see ``gc_paused``.
    with gc_paused():
        feeds = _build_feeds(station, plan, report)
    accepted, keys = _validate(plan, feeds, station.public_dir)
    with sessions() as session:
        dropped = dropped_items(
            session=session,
            published=published_guids(plan.current, plan.profiles) or listed_before(session),
            planned=set().union(*(feed.guids for feed in feeds)),
            found=plan.found,
        )
    return Checked(feeds, accepted, keys, changed_assets(plan), bool(stale_files(plan)), dropped)


def validate_plan(
    *,
    station: Station,
    plan: PublishPlan,
    report: PublishReport,
    sessions: Sessions,
    allow_drop: bool,
) -> Checked | None:
    """Build every feed of ``plan`` and check it; None (problems in ``report``) when a feed fails.

    Raises ``NeedsConfirmation`` when the plan drops too many published items and
    ``allow_drop`` is False (withdrawn episodes do not count). Writes nothing.
    """
    checked = check_plan(station=station, plan=plan, report=report, sessions=sessions)
    if not report.ok:
        for feed in checked.feeds:
            if feed.outcome.status == "written":
                feed.outcome.status = "held"
        return None
    dropped = checked.dropped
    check_drop(dropped, limit_percent=station.settings.feeds.max_drop_percent, allow=allow_drop)
    report.dropped = dropped.count + len(dropped.withdrawn)
    return checked


def published_base(current: Path | None, profile: Profile) -> str | None:
    """The base URL the feed shown now was published at (from its self link)."""
    if current is None:
        return None
    path = current / profile.relative_path
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except FileNotFoundError:
        return None
    match = _SELF_LINK.search(head)
    if match is None:
        return None
    url = match.group(1).decode()
    suffix = "/" + profile.relative_path
    if not url.endswith(suffix):
        return None
    try:
        # Feeds written before bases were made ASCII carry the base as typed (热线):
        # the same address, not a move.
        return to_uri(url[: -len(suffix)])
    except InvalidInput:
        return url[: -len(suffix)]


def masked(data: bytes) -> bytes:
    """The feed with its ``lastBuildDate`` blanked: equal masks mean unchanged content."""
    return _LAST_BUILD.sub(b"<lastBuildDate/>", data, count=1)


def _build_feeds(station: Station, plan: PublishPlan, report: PublishReport) -> list[_Feed]:
    """Every profile's feed, compared with the one shown now (``lastBuildDate`` aside)."""
    rendered = RenderedItems()
    feeds = []
    for profile in plan.profiles:
        chosen = newest_first(plan.episodes, profile)
        data = build_feed(
            plan.show,
            chosen,
            profile,
            last_build=plan.now.astimezone(station.tz),
            rendered=rendered,
        )
        old = _read(plan.current / profile.relative_path) if plan.current else None
        unchanged = old is not None and masked(old) == masked(data)
        outcome = FeedOutcome(
            profile=profile.name,
            label=profile.label,
            path=profile.relative_path,
            url=public_url(plan.base_url, profile.relative_path),
            items=len(chosen),
            bytes=len(old) if unchanged and old is not None else len(data),
            status="unchanged" if unchanged else "written",
        )
        report.feeds.append(outcome)
        feeds.append(
            _Feed(
                profile=profile,
                data=old if unchanged and old is not None else data,
                numbers=[e.number for e in chosen],
                guids={e.guid for e in chosen},
                outcome=outcome,
                unchanged=unchanged,
            )
        )
    return feeds


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _validate(
    plan: PublishPlan, feeds: list[_Feed], public_dir: Path
) -> tuple[Accepted | None, dict[str, list[str]]]:
    """Check each changed feed against its platform and feedparser; failures are marked.

    Enclosure sizes come from the plan (the files are not written yet). Returns what
    feedparser accepted (None when no feed changed: nothing was read) and each good
    changed feed's keys, for ``feeds.accepted.save``.
    """
    sizes: dict[str, int | None] = {
        a.relative: a.size for a in plan.assets.values() if a.kind == "audio"
    }
    accepted: Accepted | None = None
    keys: dict[str, list[str]] = {}
    for feed in feeds:
        if feed.unchanged:
            continue
        if accepted is None:
            # Read (and feedparser imported) only once a feed changed: a quiet publish
            # never needs them.
            current = plan.current
            accepted = load_accepted(note_of(current, NOTE_NAME)) if current else Accepted()
        problems, feed_keys = validate_feed(
            feed.data,
            feed.profile,
            public_dir=public_dir,
            base_url=plan.base_url,
            artwork=plan.artwork,
            sizes=sizes,
            accepted=accepted,
        )
        if problems:
            feed.outcome.status = "failed"
            feed.outcome.problems = problems
        else:
            keys[feed.profile.filename] = feed_keys
    return accepted, keys


def _same(asset: Asset, current: Path | None) -> bool:
    """True when the tree shown now already has ``asset`` exactly."""
    if asset.reuse:
        return True
    if current is None:
        return False
    dest = current / asset.relative
    if asset.link is not None:
        return files.same_file(asset.link, dest)
    assert asset.data is not None
    return files.is_current(dest, asset.data)


def changed_assets(plan: PublishPlan) -> set[str]:
    """The assets that differ from (or are missing in) the tree shown now."""
    return {rel for rel, asset in plan.assets.items() if not _same(asset, plan.current)}


def stale_files(plan: PublishPlan) -> list[str]:
    """Files of the tree shown now that the plan leaves out (an item dropped), sorted."""
    if plan.current is None:
        return []
    planned = set(plan.assets) | {profile.relative_path for profile in plan.profiles}
    stale = []
    for folder in ("audio", "transcripts", "chapters", "images", "feeds"):
        try:
            names = os.listdir(plan.current / folder)
        except FileNotFoundError:
            continue
        for name in names:
            if not name.startswith(".") and f"{folder}/{name}" not in planned:
                stale.append(f"{folder}/{name}")
    return sorted(stale)


def write_generation(
    generation: Path, plan: PublishPlan, checked: Checked, report: PublishReport
) -> None:
    """Fill ``generation``: links to what is current, new files for the rest, then flush."""
    for folder in ("audio", "transcripts", "chapters", "images", "feeds"):
        (generation / folder).mkdir()
    current = plan.current
    written: list[Path] = []  # new files; the rest are links to files already durable
    for relative, asset in plan.assets.items():
        dest = generation / relative
        if relative not in checked.changed and current is not None:
            files.link_or_copy(current / relative, dest)
            continue
        report.files_written[asset.kind] = report.files_written.get(asset.kind, 0) + 1
        if asset.link is not None:
            files.link_or_copy(asset.link, dest)
        else:
            assert asset.data is not None
            files.write_new(dest, asset.data, mtime_ns=asset.mtime_ns)
            written.append(dest)
    for feed in checked.feeds:
        dest = generation / feed.profile.relative_path
        if feed.unchanged and current is not None:
            files.link_or_copy(current / feed.profile.relative_path, dest)
        else:
            files.write_new(dest, feed.data)
            written.append(dest)
    note = note_of(generation, NOTE_NAME)
    if checked.accepted is not None:
        save_accepted(note, checked.accepted, checked.keys)
    elif current is not None and note_of(current, NOTE_NAME).is_file():
        files.link_or_copy(note_of(current, NOTE_NAME), note)
    files.flush_tree(generation, written)


def _remember_settings(station: Station, plan: PublishPlan) -> None:
    """Keep the show's podcast:guid from its first publish, and where the feeds moved from."""
    feeds = station.settings.feeds
    changed = False
    if feeds.podcast_guid != plan.show.podcast_guid:
        feeds.podcast_guid = plan.show.podcast_guid
        changed = True
    # Never the address served now: redirects set from it to itself would loop.
    moved_from = [url for url in feeds.moved_from if url != plan.base_url]
    if plan.moved_from and plan.moved_from not in moved_from:
        moved_from.append(plan.moved_from)
    if moved_from != feeds.moved_from:
        feeds.moved_from = moved_from
        changed = True
    if changed:
        save_settings(station.settings, station.settings_path)


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


__all__ = [
    "Checked",
    "Dropped",
    "FeedOutcome",
    "ListingChange",
    "PublishReport",
    "changed_assets",
    "check_plan",
    "mark_published",
    "masked",
    "new_report",
    "publish",
    "stale_files",
    "validate_plan",
    "write_generation",
]
