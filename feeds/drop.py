"""The drop guard: a publish must not empty the feeds subscribers already have by accident.

Items leave a feed for good reasons (a withdrawn episode) and for bad ones: masters
missing after a move or a partial restore, a release time set by mistake. Apps drop
what leaves the feed, so a publish that would remove more than ``feeds.max_drop_percent``
of the items published now is refused, saying how many and why, unless the caller
allows it (``hotline publish --allow-drop``). Episodes a producer withdrew
(``hotline episodes withdraw``) leave deliberately: they are reported, never counted.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from feeds.collect import MASTERED, Collected
from feeds.platforms import Profile
from hotline.errors import NeedsConfirmation
from hotline.models import Episode, table_of

_GUID = re.compile(rb"<guid isPermaLink=\"false\">([^<]+)</guid>")


def published_guids(folder: Path | None, profiles: Iterable[Profile]) -> set[str]:
    """Every item guid in the feeds of ``folder`` (the public tree now shown)."""
    found: set[str] = set()
    if folder is None:
        return found
    for profile in profiles:
        path = folder / profile.relative_path
        if path.is_file():
            found.update(g.decode() for g in _GUID.findall(path.read_bytes()))
    return found


def listed_before(session: Session) -> set[str]:
    """The guids of every episode a feed listed before (by the database's account).

    What counts as published when ``public/`` has no feeds yet: a station restored from a
    table export, or moved without its public tree, must not start with empty feeds.
    """
    episode = table_of(Episode)
    rows = session.execute(
        sa.select(episode.c.guid).where(
            episode.c.guid.is_not(None), episode.c.published_at.is_not(None)
        )
    )
    return {guid for (guid,) in rows}


@dataclass(frozen=True)
class Dropped:
    """Items a publish would remove, grouped by why."""

    total: int
    """Items published now."""
    reasons: dict[str, list[int | None]]
    """Why → the episode numbers (None: no longer in the database)."""
    withdrawn: tuple[int, ...] = ()
    """Episodes leaving because a producer withdrew them: deliberate, not counted."""

    @property
    def count(self) -> int:
        """Items leaving by accident, perhaps: what the guard counts."""
        return sum(len(numbers) for numbers in self.reasons.values())

    def describe(self) -> str:
        parts = []
        for reason, numbers in sorted(self.reasons.items(), key=lambda kv: -len(kv[1])):
            shown = sorted(n for n in numbers if n is not None)[:10]
            more = "" if len(numbers) <= 10 else ", …"
            episodes = f" (episodes {', '.join(map(str, shown))}{more})" if shown else ""
            parts.append(f"{len(numbers)} {reason}{episodes}")
        return "; ".join(parts)


def dropped_items(
    *, session: Session, published: set[str], planned: set[str], found: Collected
) -> Dropped:
    """Which published items the planned feeds leave out, and why."""
    gone = published - planned
    missing = found.missing_numbers
    waiting = {number for number, _ in found.waiting}
    episode = table_of(Episode)
    rows = {
        guid: (number, status)
        for guid, number, status in session.execute(
            sa.select(episode.c.guid, episode.c.number, episode.c.status).where(
                episode.c.guid.in_(sorted(gone))
            )
        )
    }
    reasons: dict[str, list[int | None]] = defaultdict(list)
    withdrawn: list[int] = []
    for guid in sorted(gone):
        if guid not in rows:
            reasons["no longer in the database"].append(None)
            continue
        number, status = rows[guid]
        if number in found.withdrawn:
            withdrawn.append(number)
        elif number in found.damaged_numbers:
            reasons["whose master file is damaged"].append(number)
        elif number in missing:
            reasons["whose master file is missing"].append(number)
        elif number in waiting:
            reasons["whose release time is ahead again"].append(number)
        elif status not in MASTERED:
            reasons[f"now {status}"].append(number)
        else:
            reasons["beyond a platform's item limit"].append(number)
    return Dropped(len(published), dict(reasons), tuple(sorted(withdrawn)))


def over_limit(dropped: Dropped, *, limit_percent: float) -> bool:
    """True when more than ``limit_percent`` of the items published now would leave."""
    return bool(dropped.total) and dropped.count * 100 > limit_percent * dropped.total


def check_drop(dropped: Dropped, *, limit_percent: float, allow: bool) -> None:
    """Refuse (``NeedsConfirmation``) when ``dropped`` is over the limit and not allowed."""
    if allow or not over_limit(dropped, limit_percent=limit_percent):
        return
    share = dropped.count * 100 / dropped.total
    raise NeedsConfirmation(
        f"this publish would remove {dropped.count} of the {dropped.total} items published now "
        f"({share:.0f} %, more than feeds.max_drop_percent = {limit_percent:g} %): "
        f"{dropped.describe()}; nothing was published; pass --allow-drop if that is intended",
        zh=(
            f"本次发布将从订阅源删除 {dropped.count}/{dropped.total} 期节目"
            f"（{share:.0f}%，超过上限 {limit_percent:g}%）：{dropped.describe()}；未发布"
        ),
    )
