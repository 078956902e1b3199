"""Before a publish links the masters: re-tag those whose title, description, chapters or cover
changed since they were tagged, so the MP3 says what the feed says (never encoding again).

A master's tags are compared by fingerprint (``Episode.tags_fingerprint``); masters the
master stage did not tag (fingerprint unknown) are left as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

from sqlmodel import Session

from episodes.chapters import chapter_marks
from episodes.lookup import get_episode
from episodes.master_tags import cover_art, episode_tags, retag_master, tags_fingerprint
from feeds.collect import Release
from hotline.errors import HotlineError
from hotline.station import Station
from hotline.timeutil import utcnow

Sessions = Callable[[], AbstractContextManager[Session]]


def retag_stale(
    *,
    station: Station,
    releases: Sequence[Release],
    redact: Callable[[str], str],
    sessions: Sessions,
    dry_run: bool = False,
) -> tuple[list[int], list[str]]:
    """Re-tag the masters of ``releases`` whose tags are stale; return (numbers, notes).

    A master that cannot be re-tagged (replaced on disk meanwhile, unreadable cover) is
    published as it is, with a note saying why. ``dry_run`` only names the stale ones.
    """
    candidates = [r for r in releases if r.tags_fingerprint is not None]
    if not candidates:
        return [], []
    show = station.settings.show
    cover = None
    if show.cover:
        try:
            cover = cover_art(station.path_inside(show.cover, what="cover art"), show.cover)
        except HotlineError as exc:
            # The feeds refuse the cover too (artwork problems): say it once, there.
            return [], [f"masters not re-tagged: {exc}"]
    done: list[int] = []
    notes: list[str] = []
    for release in candidates:
        tags = episode_tags(
            number=release.number,
            title=release.tag_title,
            air_date=release.air_date,
            description=release.tag_description,
            chapters=chapter_marks(
                release.answers, offset=release.master_offset or 0.0, length=release.seconds
            ),
            show=show,
            cover=cover,
            redact=redact,
        )
        wanted = tags_fingerprint(tags)
        if wanted == release.tags_fingerprint:
            continue
        if dry_run:
            done.append(release.number)
            continue
        try:
            size = retag_master(release.master, tags, expected_bytes=release.audio_bytes)
        except HotlineError as exc:
            notes.append(f"episode {release.number}: master not re-tagged ({exc})")
            continue
        with sessions() as session:
            episode = get_episode(session, release.number)
            episode.audio_bytes = size
            episode.tags_fingerprint = wanted
            episode.updated_at = utcnow()
            session.add(episode)
        done.append(release.number)
    return done, notes
