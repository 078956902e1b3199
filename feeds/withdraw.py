"""Withdraw an episode from every feed, or reinstate it, in one publish.

``withdraw_episode`` checks that the episode can go (``episodes.withdrawal``: a feed
listed it, it is not withdrawn already), then publishes with it left out: its item
leaves every platform's feed and its audio, transcript and chapter files leave
``public/``, all in that publish's one switch. The withdrawal (when, why; the history
adds who) is recorded as the publish switches (``feeds.publish.ListingChange``), so a
publish that is refused — a feed failing its platform's rules, or other items leaving
past the drop guard, which does not count a withdrawn episode but still guards the
rest — leaves the station exactly as it was. The guid stays on the episode.

Later publishes, the pipeline's included, leave a withdrawn episode out (``feeds.collect``)
until ``reinstate_episode`` lists it again, the same way, with the same guid.

``public_copy`` names what of an episode ``public/`` shows now, and ``reinstatement_preview``
what a reinstatement would bring back: the desk names them before asking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from episodes.withdrawal import (
    record_reinstatement,
    record_withdrawal,
    reinstatable,
    withdrawable,
    withdrawal_reason,
)
from feeds.drop import published_guids
from feeds.generations import PublicTree
from feeds.platforms import selected_profiles
from feeds.preview import preview_publish
from feeds.public_transcripts import FORMATS
from feeds.publish import ListingChange, PublishReport, publish
from hotline.errors import Conflict
from hotline.station import Station


@dataclass(frozen=True)
class PublicCopy:
    """What of one episode the public tree shows: the feeds listing it and its files."""

    feeds: tuple[str, ...] = ()
    """The platform feeds (their labels) that list it."""
    files: tuple[str, ...] = ()
    """Its files, as paths under ``public/`` (audio, transcripts, chapters)."""

    @property
    def empty(self) -> bool:
        return not self.feeds and not self.files


@dataclass(frozen=True)
class ListingOutcome:
    """What a withdrawal or a reinstatement did."""

    number: int
    title: str
    guid: str
    reason: str
    before: PublicCopy
    """What ``public/`` showed of the episode before."""
    after: PublicCopy
    """What it shows now."""
    report: PublishReport


def episode_files(number: int) -> tuple[str, ...]:
    """Every file a publish may put in ``public/`` for episode ``number``."""
    stem = f"{number:04d}"
    transcripts = tuple(f"transcripts/{stem}.{ext}" for ext, _ in FORMATS)
    return (f"audio/{stem}.mp3", *transcripts, f"chapters/{stem}.json")


def public_copy(*, station: Station, number: int, guid: str | None) -> PublicCopy:
    """What the public tree shown now holds of episode ``number`` (item ``guid``)."""
    current = PublicTree(station.root).current()
    if current is None:
        return PublicCopy()
    profiles = selected_profiles(list(station.settings.feeds.platforms))
    feeds = tuple(
        p.label for p in profiles if guid is not None and guid in published_guids(current, [p])
    )
    files = tuple(f for f in episode_files(number) if (current / f).is_file())
    return PublicCopy(feeds, files)


def _refused(number: int, verb: str, report: PublishReport) -> Conflict:
    problems = "; ".join(report.problems)
    return Conflict(
        f"episode {number} is not {verb}: the publish was refused "
        f"({len(report.problems)} problems: {problems}); every feed stays as it was",
        zh=f"第{number}期未能{'撤下' if verb == 'withdrawn' else '恢复'}："
        f"发布被拒绝（{len(report.problems)} 个问题），订阅源保持原样",
    )


def withdraw_episode(
    *,
    station: Station,
    number: int,
    reason: str,
    now: datetime | None = None,
    allow_drop: bool = False,
) -> ListingOutcome:
    """Take episode ``number`` out of every feed and ``public/`` in one publish (docstring).

    Args:
        reason: why, for the history (required, one line).
        now: the moment of the publish (which episodes are released) and of the withdrawal.
        allow_drop: let the publish go ahead even if other items would leave past
            ``feeds.max_drop_percent`` (the withdrawn one never counts).
    """
    reason = withdrawal_reason(reason, required=True)
    facts: dict[str, object] = {}

    def check(session: Session) -> None:
        episode = withdrawable(session, number)
        facts.update(title=episode.title, guid=episode.guid)
        facts["before"] = public_copy(station=station, number=number, guid=episode.guid)

    def record(session: Session) -> None:
        record_withdrawal(session=session, number=number, reason=reason, now=now)

    change = ListingChange(check, record, withdraw=frozenset({number}))
    report = publish(station=station, now=now, allow_drop=allow_drop, change=change)
    if not report.ok:
        raise _refused(number, "withdrawn", report)
    return _outcome(station, number, reason, facts, report)


def reinstate_episode(
    *,
    station: Station,
    number: int,
    reason: str = "",
    now: datetime | None = None,
    allow_drop: bool = False,
) -> ListingOutcome:
    """List withdrawn episode ``number`` again, with its guid, in one publish (docstring)."""
    reason = withdrawal_reason(reason, required=False)
    facts: dict[str, object] = {}

    def check(session: Session) -> None:
        episode = reinstatable(session, number)
        facts.update(title=episode.title, guid=episode.guid)
        facts["before"] = public_copy(station=station, number=number, guid=episode.guid)

    def record(session: Session) -> None:
        record_reinstatement(session=session, number=number, reason=reason, now=now)

    change = ListingChange(check, record, reinstate=frozenset({number}))
    report = publish(station=station, now=now, allow_drop=allow_drop, change=change)
    if not report.ok:
        raise _refused(number, "reinstated", report)
    return _outcome(station, number, reason, facts, report)


def _outcome(
    station: Station, number: int, reason: str, facts: dict[str, object], report: PublishReport
) -> ListingOutcome:
    guid = str(facts["guid"] or "")
    before = facts["before"]
    assert isinstance(before, PublicCopy)
    return ListingOutcome(
        number=number,
        title=str(facts["title"]),
        guid=guid,
        reason=reason,
        before=before,
        after=public_copy(station=station, number=number, guid=guid),
        report=report,
    )


@dataclass(frozen=True)
class ListingPreview:
    """What a withdrawal would take away, or a reinstatement bring back, named for asking."""

    number: int
    title: str
    reason: str
    """The reason the episode was withdrawn (reinstatement), or empty."""
    feeds: tuple[str, ...]
    files: tuple[str, ...]
    problems: tuple[str, ...] = ()
    """What would stop the publish that carries it out."""


def withdrawal_preview(*, station: Station, number: int) -> ListingPreview:
    """What withdrawing episode ``number`` would take out of ``public/`` (refused as the
    withdrawal would be)."""
    with station.session(write=False) as session:
        episode = withdrawable(session, number)
        title, guid = episode.title, episode.guid
    copy = public_copy(station=station, number=number, guid=guid)
    return ListingPreview(number, title, "", copy.feeds, copy.files)


def reinstatement_preview(
    *, station: Station, number: int, now: datetime | None = None
) -> ListingPreview:
    """What reinstating episode ``number`` would bring back: a dry run of that publish."""
    with station.session(write=False) as session:
        episode = reinstatable(session, number)
        title, guid, reason = episode.title, episode.guid, episode.withdrawal_reason
    preview = preview_publish(station=station, now=now, reinstate=frozenset({number}))
    feeds = tuple(f.label for f in preview.feeds if any(i.guid == guid for i in f.diff.added))
    mine = set(episode_files(number))
    files = tuple(f for f in preview.files_added if f in mine)
    return ListingPreview(number, title, reason, feeds, files, tuple(preview.problems))
