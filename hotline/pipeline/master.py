"""The master stage: loudness-normalised, tagged MP3 of an episode, skipped when current.

A master whose audio is current but whose tags are not (a new title, description,
answered question or cover) is re-tagged without being encoded again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session

from episodes.chapters import Answer, answers_by_episode, chapter_marks
from episodes.lifecycle import set_status
from episodes.lookup import get_episode
from episodes.master_tags import cover_art, episode_tags, numbered_title, tags_fingerprint
from episodes.public_text import Redactor, station_redactor
from episodes.tags import EpisodeTags
from hotline.errors import InvalidInput, NotFound
from hotline.files import replace_durably, sha256_file
from hotline.models import Episode, EpisodeStatus
from hotline.stages import StageContext
from hotline.station import Station
from hotline.timeutil import local_text, utcnow

__all__ = ["master_stage", "master_tags", "numbered_title"]


@dataclass(frozen=True)
class MasterPlan:
    """Everything the master stage reads from the database, read in one short session."""

    number: int
    source: Path
    source_sha256: str
    fingerprint_current: str | None
    audio_bytes: int | None
    audio_seconds: float | None
    master_offset: float | None
    tags_current: str | None
    title: str
    date: str
    description: str
    answers: list[Answer]
    redact: Redactor


def _jingle(station: Station, setting: str, relative: str) -> tuple[Path | None, str | None]:
    if not relative:
        return None, None
    path = station.path_inside(relative, what=f"jingle audio.{setting}")
    if not path.is_file():
        raise InvalidInput(f"jingle {relative} (audio.{setting}) does not exist")
    return path, sha256_file(path)


def _plan(station: Station, session: Session, episode_id: int | None) -> MasterPlan:
    episode = session.get(Episode, episode_id) if episode_id is not None else None
    if episode is None:
        raise NotFound(f"the episode of this job (id {episode_id}) no longer exists")
    if not episode.raw_path or not episode.raw_sha256:
        raise InvalidInput(
            f"episode {episode.number} has no recording; run `hotline ingest {episode.number} FILE`"
        )
    source = station.path_inside(episode.raw_path, what="raw recording")
    if not source.is_file():
        raise NotFound(f"raw recording {episode.raw_path} of episode {episode.number} is missing")
    return MasterPlan(
        number=episode.number,
        source=source,
        source_sha256=episode.raw_sha256,
        fingerprint_current=episode.master_fingerprint,
        audio_bytes=episode.audio_bytes,
        audio_seconds=episode.audio_seconds,
        master_offset=episode.master_offset,
        tags_current=episode.tags_fingerprint,
        title=episode.title,
        date=local_text(episode.air_start, station.tz, "%Y-%m-%d"),
        description=episode.description,
        answers=answers_by_episode(session, [episode.id]).get(episode.id or 0, []),
        redact=station_redactor(session),
    )


def _cover(station: Station) -> tuple[bytes, str] | None:
    relative = station.settings.show.cover
    if not relative:
        return None
    return cover_art(station.path_inside(relative, what="cover art show.cover"), relative)


def _clean_leftovers(folder: Path, number: int) -> None:
    """Remove temporary files a killed run left for this episode's master."""
    # Ours are ".0999-<random>.mp3"; episodes.audio writes ".<dest name>.partial" next to them.
    for leftover in folder.glob(f".*{number:04d}*"):
        if leftover.is_file():
            leftover.unlink(missing_ok=True)


def master_stage(ctx: StageContext) -> str:
    """Master and tag the episode's recording, unless the master is already current."""
    from episodes.audio import PASS_ONE_SHARE, master, master_fingerprint
    from episodes.tags import write_tags_in_place
    from hotline.ffmpeg import probe

    station = ctx.station
    settings = station.settings.audio
    with station.session() as session:
        plan = _plan(station, session, ctx.episode_id)
    intro, intro_sha = _jingle(station, "intro", settings.intro)
    outro, outro_sha = _jingle(station, "outro", settings.outro)
    cover = _cover(station)
    fingerprint = master_fingerprint(
        source_sha256=plan.source_sha256,
        settings=settings,
        intro_sha=intro_sha,
        outro_sha=outro_sha,
    )
    dest = station.master_dir / f"{plan.number:04d}.mp3"
    if (
        plan.fingerprint_current == fingerprint
        and plan.master_offset is not None
        and plan.audio_seconds is not None
        and dest.is_file()
        and dest.stat().st_size == plan.audio_bytes
    ):
        return _retag_if_stale(ctx, plan, dest, cover)

    dest.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(dest.parent, plan.number)
    # Master and tag under a temporary name, then rename: the final name only ever
    # holds a complete, tagged master.
    staging = dest.parent / f".{plan.number:04d}-{uuid.uuid4().hex[:8]}.mp3"
    try:
        result = master(
            source=plan.source,
            dest=staging,
            settings=settings,
            intro=intro,
            outro=outro,
            progress=lambda fraction: ctx.progress(
                0.95 * fraction, "analysing" if fraction < PASS_ONE_SHARE else "encoding"
            ),
        )
        ctx.progress(0.96, "writing tags")
        # The staging file is ours alone until the rename, so it is tagged in place:
        # write_tags' copy-and-replace would copy the whole master a second time.
        shift = -result.trimmed_start
        if intro is not None:
            shift += max(probe(intro).duration - settings.crossfade_ms / 1000, 0.0)
        # Offset and length as stored, so publish places the chapters exactly where these are.
        shift = round(shift, 3)
        tags = _episode_tags(station, plan, cover, round(float(result.seconds), 3), shift)
        write_tags_in_place(staging, tags)
        replace_durably(staging, dest)
    finally:
        staging.unlink(missing_ok=True)
    size = dest.stat().st_size

    def record(session: Session) -> None:
        episode = get_episode(session, plan.number)
        episode.audio_path = dest.relative_to(station.root).as_posix()
        episode.audio_bytes = size
        episode.audio_seconds = round(float(result.seconds), 3)
        episode.master_fingerprint = fingerprint
        episode.master_offset = shift
        episode.tags_fingerprint = tags_fingerprint(tags)
        episode.updated_at = utcnow()
        session.add(episode)
        set_status(session, episode, EpisodeStatus.mastered)

    ctx.save(record)  # minutes of encoding are not lost to a server restarting meanwhile
    ctx.progress(1.0, "mastered")
    minutes, seconds = divmod(round(result.seconds), 60)
    return (
        f"mastered {dest.name}: {minutes}:{seconds:02d}, {result.integrated_lufs:.1f} LUFS, "
        f"peak {result.true_peak_db:.1f} dBTP, {size / 1e6:.1f} MB"
    )


def _episode_tags(
    station: Station,
    plan: MasterPlan,
    cover: tuple[bytes, str] | None,
    length: float,
    offset: float,
) -> EpisodeTags:
    """The tags for ``plan``'s master: chapters by ``chapter_marks``, as publish sees them."""
    return episode_tags(
        number=plan.number,
        title=plan.title,
        air_date=plan.date,
        description=plan.description,
        chapters=chapter_marks(plan.answers, offset=offset, length=length),
        show=station.settings.show,
        cover=cover,
        redact=plan.redact,
    )


def _retag_if_stale(
    ctx: StageContext, plan: MasterPlan, dest: Path, cover: tuple[bytes, str] | None
) -> str:
    """The audio is current: re-tag the master if its tags are not, never encoding again."""
    from episodes.master_tags import retag_master

    station = ctx.station
    tags = _episode_tags(
        station, plan, cover, float(plan.audio_seconds or 0.0), float(plan.master_offset or 0.0)
    )
    wanted = tags_fingerprint(tags)
    if wanted == plan.tags_current:
        ctx.progress(1.0, "master is current")
        return f"master is current ({dest.name}); nothing to do"
    ctx.progress(0.5, "writing tags")
    size = retag_master(dest, tags, expected_bytes=plan.audio_bytes)

    def record(session: Session) -> None:
        episode = get_episode(session, plan.number)
        episode.audio_bytes = size
        episode.tags_fingerprint = wanted
        episode.updated_at = utcnow()
        session.add(episode)

    ctx.save(record)
    ctx.progress(1.0, "re-tagged")
    return f"re-tagged {dest.name} (title, description, chapters or cover changed); not re-encoded"


def master_tags(*, station: Station, session: Session, number: int) -> dict[str, Any]:
    """The tags a player sees in the episode's master."""
    from episodes.tags import read_tags

    episode = get_episode(session, number)
    if not episode.audio_path:
        raise NotFound(f"episode {number} has no master yet; run `hotline process`")
    path = station.path_inside(episode.audio_path, what="master")
    if not path.is_file():
        raise NotFound(f"master {episode.audio_path} of episode {number} is missing")
    return read_tags(path)
