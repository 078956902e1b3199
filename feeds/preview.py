"""``hotline publish --dry-run``: what a publish would change, per feed and file; writes nothing.

The preview runs a publish's first two steps (``feeds.publish``: plan, then the checks
of ``check_plan``) and stops: no generation is written, ``public`` is not switched,
and the database is read in a transaction that is rolled back. The plan is made in its
dry-run form (``feeds.plan``): new guids are not stored, stale masters are only named,
transcripts stored only in the database are rendered from a temporary folder.

What it tells: per platform feed, the items that would be added, removed and changed
(and which fields, ``feeds.diff``); the files of ``public/`` that would be added,
changed and removed; and every problem that would stop the publish, the drop guard's
refusal included.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from feeds.diff import FeedDiff, diff_feeds
from feeds.drop import over_limit
from feeds.generations import PublicTree
from feeds.plan import plan_publish
from feeds.platforms import selected_profiles
from feeds.publish import changed_assets, check_plan, new_report, published_base, stale_files
from feeds.urls import check_base_url
from hotline.station import Station
from hotline.timeutil import utcnow


@dataclass
class FeedPreview:
    """One platform's feed: how it would change."""

    profile: str
    label: str
    path: str
    status: str
    """new (no feed yet), changed, unchanged, or failed (its problems would stop the publish)."""
    items: int
    """Items in the feed after the publish."""
    diff: FeedDiff
    problems: list[str] = field(default_factory=list)


@dataclass
class PublishPreview:
    """What ``publish`` would do now."""

    base_url: str
    feeds: list[FeedPreview] = field(default_factory=list)
    files_added: list[str] = field(default_factory=list)
    """Files ``public/`` would gain (paths under it), sorted."""
    files_changed: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Everything that would stop the publish, one line each (feed problems by file)."""
    withdrawn: list[int] = field(default_factory=list)
    """Withdrawn episodes the feeds would leave out (taken out now, or before)."""
    retag: list[int] = field(default_factory=list)
    """Episodes whose master would be re-tagged first (their audio and its length change)."""
    waiting: list[tuple[int, datetime]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def changes_anything(self) -> bool:
        return bool(
            self.files_added
            or self.files_changed
            or self.files_removed
            or any(f.status != "unchanged" for f in self.feeds)
        )


@contextmanager
def _looking(station: Station) -> Iterator[Session]:
    """A transaction that is never committed: whatever a step flushes is rolled back."""
    with Session(station.engine, expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()


def preview_publish(
    *,
    station: Station,
    base_url: str | None = None,
    now: datetime | None = None,
    allow_drop: bool = False,
    withdraw: frozenset[int] = frozenset(),
    reinstate: frozenset[int] = frozenset(),
) -> PublishPreview:
    """What ``feeds.publish.publish`` with these arguments would do now; writes nothing.

    ``withdraw`` and ``reinstate`` preview a withdrawal or reinstatement (``feeds.withdraw``).
    """
    base = check_base_url(base_url or station.settings.feeds.base_url)
    profiles = selected_profiles(list(station.settings.feeds.platforms))
    now = now or utcnow()
    tree = PublicTree(station.root)
    # Under the publish lock, so a publish cannot remove the tree being compared; a
    # station never published has no lock file, and the preview does not create one.
    lock: AbstractContextManager[None] = tree.lock() if tree.store.is_dir() else nullcontext()
    with lock:
        current = tree.current()
        plan = plan_publish(
            station=station,
            base_url=base,
            profiles=profiles,
            now=now,
            sessions=lambda: _looking(station),
            current=current,
            current_is_generation=tree.is_generation(current),
            previous_base=published_base(current, profiles[0]),
            withdraw=withdraw,
            reinstate=reinstate,
            dry_run=True,
        )
        report = new_report(plan, tree)
        checked = check_plan(
            station=station, plan=plan, report=report, sessions=lambda: _looking(station)
        )
        preview = PublishPreview(
            base_url=base,
            withdrawn=sorted(plan.found.withdrawn),
            retag=plan.retagged,
            waiting=plan.found.waiting,
            missing=plan.found.missing,
            notes=plan.notes,
        )
        for feed in checked.feeds:
            old = _read(current / feed.profile.relative_path) if current else None
            outcome = feed.outcome
            status = (
                "failed"
                if outcome.problems
                else "unchanged"
                if feed.unchanged
                else "new"
                if old is None
                else "changed"
            )
            preview.feeds.append(
                FeedPreview(
                    profile=outcome.profile,
                    label=outcome.label,
                    path=outcome.path,
                    status=status,
                    items=outcome.items,
                    diff=FeedDiff() if feed.unchanged else diff_feeds(old, feed.data),
                    problems=list(outcome.problems),
                )
            )
        changed = changed_assets(plan)
        present = {a for a in changed if current is not None and (current / a).exists()}
        preview.files_added = sorted(changed - present)
        # A master re-tagged first changes in place: its link in public/ would change too.
        retagged = {f"audio/{n:04d}.mp3" for n in plan.retagged} & set(plan.assets)
        preview.files_changed = sorted(present | (retagged - set(preview.files_added)))
        preview.files_removed = stale_files(plan)
    preview.problems = report.problems
    dropped = checked.dropped
    limit = station.settings.feeds.max_drop_percent
    if not allow_drop and over_limit(dropped, limit_percent=limit):
        preview.problems.append(
            f"the publish would be refused: it would remove {dropped.count} of the "
            f"{dropped.total} items published now, more than feeds.max_drop_percent = "
            f"{limit:g} %: {dropped.describe()}; `hotline publish --allow-drop` goes ahead"
        )
    return preview


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
