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
from hotline.errors import Conflict, NeedsConfirmation
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


def _listed(feeds: tuple[str, ...]) -> tuple[str, str]:
    """The feeds named in English and in Chinese: ``2 feeds (Apple Podcasts, 小宇宙)``."""
    if not feeds:
        return "no feed", "任何订阅源"
    noun = "feed" if len(feeds) == 1 else "feeds"
    return (
        f"{len(feeds)} {noun} ({', '.join(feeds)})",
        f"{len(feeds)} 个订阅源（{'、'.join(feeds)}）",
    )


def _files(files: tuple[str, ...]) -> tuple[str, str]:
    if not files:
        return "no file", "无文件"
    return ", ".join(files), "、".join(files)


def withdrawal_question(number: int, title: str, copy: PublicCopy | ListingPreview) -> str:
    """What withdrawing episode ``number`` takes away, as the question asking for a yes."""
    feeds, _ = _listed(copy.feeds)
    files, _ = _files(copy.files)
    return (
        f"withdrawing episode {number} {title} takes its item out of {feeds} and removes "
        f"from public/: {files}; its guid is kept for `hotline episodes reinstate {number}`"
    )


def withdrawal_question_zh(number: int, title: str, copy: PublicCopy | ListingPreview) -> str:
    """The desk's Chinese form of ``withdrawal_question``."""
    _, feeds = _listed(copy.feeds)
    _, files = _files(copy.files)
    return (
        f"撤下第{number}期《{title}》：从{feeds}中移除，"
        f"并从 public/ 删除 {files}；GUID 保留，可恢复"
    )


def reinstatement_question(preview: ListingPreview) -> str:
    """What reinstating an episode brings back, as the question asking for a yes."""
    feeds, _ = _listed(preview.feeds)
    files, _ = _files(preview.files)
    return (
        f"reinstating episode {preview.number} {preview.title} (withdrawn: {preview.reason}) "
        f"lists it again in {feeds} with its old guid and puts back in public/: {files}"
    )


def reinstatement_question_zh(preview: ListingPreview) -> str:
    """The desk's Chinese form of ``reinstatement_question``."""
    _, feeds = _listed(preview.feeds)
    _, files = _files(preview.files)
    return (
        f"恢复第{preview.number}期《{preview.title}》（撤下原因：{preview.reason}）："
        f"以原 GUID 重新列入{feeds}，并恢复 public/ 中的 {files}"
    )


def withdraw_episode(
    *,
    station: Station,
    number: int,
    reason: str,
    now: datetime | None = None,
    allow_drop: bool = False,
    confirm: bool = False,
) -> ListingOutcome:
    """Take episode ``number`` out of every feed and ``public/`` in one publish (docstring).

    Args:
        reason: why, for the history (required, one line).
        now: the moment of the publish (which episodes are released) and of the withdrawal.
        allow_drop: let the publish go ahead even if other items would leave past
            ``feeds.max_drop_percent`` (the withdrawn one never counts).
        confirm: False raises ``NeedsConfirmation`` naming the feeds and files that would
            go, before anything is planned or written.
    """
    reason = withdrawal_reason(reason, required=True)
    facts: dict[str, object] = {}

    def check(session: Session) -> None:
        episode = withdrawable(session, number)
        facts.update(title=episode.title, guid=episode.guid)
        before = public_copy(station=station, number=number, guid=episode.guid)
        facts["before"] = before
        if not confirm:
            raise NeedsConfirmation(
                withdrawal_question(number, episode.title, before),
                zh=withdrawal_question_zh(number, episode.title, before),
            )

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
    confirm: bool = False,
) -> ListingOutcome:
    """List withdrawn episode ``number`` again, with its guid, in one publish (docstring).

    ``confirm`` False raises ``NeedsConfirmation`` naming what would come back (a dry run
    of the publish, ``reinstatement_preview``), before anything is written.
    """
    reason = withdrawal_reason(reason, required=False)
    if not confirm:
        preview = reinstatement_preview(station=station, number=number, now=now)
        raise NeedsConfirmation(
            reinstatement_question(preview), zh=reinstatement_question_zh(preview)
        )
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
