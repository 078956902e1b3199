"""The master stage: loudness-normalised, tagged MP3 of an episode, skipped when current."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from episodes.lifecycle import set_status
from episodes.lookup import get_episode
from hotline.errors import InvalidInput, NotFound
from hotline.files import replace_durably, sha256_file
from hotline.models import Episode, EpisodeStatus, Question, QuestionStatus
from hotline.stages import StageContext
from hotline.station import Station
from hotline.text import clean_text
from hotline.timeutil import local_text, utcnow


@dataclass(frozen=True)
class MasterPlan:
    """Everything the master stage reads from the database, read in one short session."""

    number: int
    source: Path
    source_sha256: str
    fingerprint_current: str | None
    audio_bytes: int | None
    title: str
    date: str
    description: str
    chapters: list[tuple[float, str]]


def _jingle(station: Station, setting: str, relative: str) -> tuple[Path | None, str | None]:
    if not relative:
        return None, None
    path = station.path_inside(relative, what=f"jingle audio.{setting}")
    if not path.is_file():
        raise InvalidInput(f"jingle {relative} (audio.{setting}) does not exist")
    return path, sha256_file(path)


def chapter_marks(session: Session, episode: Episode) -> list[tuple[float, str]]:
    """(offset in the recording, title) of each answered question, in time order."""
    questions = session.exec(
        select(Question)
        .where(Question.episode_id == episode.id, col(Question.answer_offset).is_not(None))
        .where(col(Question.status).not_in([QuestionStatus.rejected, QuestionStatus.duplicate]))
        .order_by(col(Question.answer_offset), col(Question.id))
    ).all()
    marks: list[tuple[float, str]] = []
    for question in questions:
        title = question.topic.strip() or clean_text(question.text, field="text", max_length=2000)
        if len(title) > 30:
            title = title[:29] + "…"
        offset = float(question.answer_offset or 0.0)
        if marks and abs(marks[-1][0] - offset) < 1.0:
            continue
        marks.append((offset, title))
    return marks


def chapters_in_master(
    marks: list[tuple[float, str]], *, shift: float, length: float
) -> list[tuple[float, float, str]]:
    """Chapters of the master: each mark from its (shifted) offset to the next, to the end.

    ``shift`` moves recording offsets to master offsets (intro added, dead air
    trimmed); marks before the start move to it, marks past the end are dropped, and
    an opening chapter covers the time before the first question.
    """
    starts: list[tuple[float, str]] = []
    for offset, title in marks:
        # A question answered in the dead air cut from the start begins the programme.
        start = max(round(offset + shift, 3), 0.0)
        if start >= length - 1:
            continue
        if starts and start <= starts[-1][0]:
            starts[-1] = (starts[-1][0], title)  # same moment: the later question names it
            continue
        starts.append((start, title))
    if not starts:
        return []
    if starts[0][0] > 1.0:
        starts.insert(0, (0.0, "开场"))
    else:
        starts[0] = (0.0, starts[0][1])
    ends = [s for s, _ in starts[1:]] + [length]
    return [(start, end, title) for (start, title), end in zip(starts, ends, strict=True)]


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
        title=numbered_title(episode.number, episode.title),
        date=local_text(episode.air_start, station.tz, "%Y-%m-%d"),
        description=episode.description,
        chapters=chapter_marks(session, episode),
    )


def _cover(station: Station) -> tuple[bytes, str] | None:
    relative = station.settings.show.cover
    if not relative:
        return None
    path = station.path_inside(relative, what="cover art show.cover")
    if not path.is_file():
        raise InvalidInput(f"cover art {relative} (show.cover) does not exist")
    data = path.read_bytes()
    if data.startswith(b"\x89PNG"):
        return data, "image/png"
    if data.startswith(b"\xff\xd8"):
        return data, "image/jpeg"
    raise InvalidInput(f"cover art {relative} (show.cover) is neither JPEG nor PNG")


def _clean_leftovers(folder: Path, number: int) -> None:
    """Remove temporary files a killed run left for this episode's master."""
    # Ours are ".0999-<random>.mp3"; episodes.audio writes ".<dest name>.partial" next to them.
    for leftover in folder.glob(f".*{number:04d}*"):
        if leftover.is_file():
            leftover.unlink(missing_ok=True)


def master_stage(ctx: StageContext) -> str:
    """Master and tag the episode's recording, unless the master is already current."""
    from episodes.audio import PASS_ONE_SHARE, master, master_fingerprint
    from episodes.tags import EpisodeTags, write_tags_in_place
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
        and dest.is_file()
        and dest.stat().st_size == plan.audio_bytes
    ):
        ctx.progress(1.0, "master is current")
        return f"master is current ({dest.name}); nothing to do"

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
        write_tags_in_place(
            staging,
            _episode_tags(EpisodeTags, station, plan, cover, result.seconds, shift),
        )
        replace_durably(staging, dest)
    finally:
        staging.unlink(missing_ok=True)
    size = dest.stat().st_size
    with station.session() as session:
        episode = get_episode(session, plan.number)
        episode.audio_path = dest.relative_to(station.root).as_posix()
        episode.audio_bytes = size
        episode.audio_seconds = round(float(result.seconds), 3)
        episode.master_fingerprint = fingerprint
        episode.updated_at = utcnow()
        session.add(episode)
        set_status(session, episode, EpisodeStatus.mastered)
    ctx.progress(1.0, "mastered")
    minutes, seconds = divmod(round(result.seconds), 60)
    return (
        f"mastered {dest.name}: {minutes}:{seconds:02d}, {result.integrated_lufs:.1f} LUFS, "
        f"peak {result.true_peak_db:.1f} dBTP, {size / 1e6:.1f} MB"
    )


def _episode_tags(
    tags_type: Callable[..., Any],
    station: Station,
    plan: MasterPlan,
    cover: tuple[bytes, str] | None,
    length: float,
    shift: float,
) -> Any:
    show = station.settings.show
    return tags_type(
        title=plan.title,
        show=show.name,
        episode_number=plan.number,
        date=plan.date,
        genre="Podcast",
        language=show.language,
        description=plan.description,
        cover=cover[0] if cover else None,
        cover_mime=cover[1] if cover else None,
        chapters=chapters_in_master(plan.chapters, shift=shift, length=length),
    )


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


def numbered_title(number: int, title: str) -> str:
    """``第999期 title`` for players, without doubling a number the title already has."""
    prefix = f"第{number}期"
    rest = title.removeprefix(prefix).lstrip("：: ")
    return f"{prefix} {rest}".strip()
