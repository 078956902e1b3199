"""Stations ready to publish, for the feeds tests and benchmark: episodes with masters, guests,
answered questions, transcript files and a cover generated with Pillow."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from hotline.config import save_settings
from hotline.models import (
    Booking,
    BookingStatus,
    Episode,
    EpisodeStatus,
    Member,
    Question,
    QuestionStatus,
)
from hotline.station import Station

FIRST_AIR = datetime(2024, 1, 6, 3, 0, tzinfo=UTC)  # Saturday 11:00 in Shanghai
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def make_cover(path: Path, size: int = 1400, fmt: str = "PNG", height: int | None = None) -> Path:
    """A cover image of ``size``×``height`` px (square by default)."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (size, height or size), (180, 30, 40)).save(path, format=fmt)
    return path


def use_cover(station: Station, size: int = 1400, fmt: str = "PNG") -> None:
    """Give the station a generated cover (show.cover) and save its settings."""
    ext = "jpg" if fmt == "JPEG" else fmt.lower()
    make_cover(station.root / f"art/cover.{ext}", size, fmt)
    station.settings.show.cover = f"art/cover.{ext}"
    save_settings(station.settings, station.settings_path)


def fake_mp3(path: Path, size: int) -> Path:
    """A stand-in master: an ID3 header and ``size`` bytes in all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    head = b"ID3\x04\x00\x00\x00\x00\x00\x00"
    path.write_bytes(head + bytes((i * 7) % 251 for i in range(size - len(head))))
    return path


def write_transcripts(station: Station, number: int, lines: Sequence[str]) -> None:
    """Transcript files as the transcripts package writes them: ours JSON, SRT and VTT."""
    folder = station.transcripts_dir
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{number:04d}"
    cues = [(i * 10.0, i * 10.0 + 9.0, text) for i, text in enumerate(lines)]
    doc = {
        "format": "hotline-transcript",
        "version": 1,
        "episode": number,
        "language": "zh",
        "segments": [{"start": s, "end": e, "text": t, "text_norm": t} for s, e, t in cues],
    }
    (folder / f"{stem}.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")

    def stamp(seconds: float, sep: str) -> str:
        whole = int(seconds)
        return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}{sep}000"

    srt = "".join(
        f"{i}\n{stamp(s, ',')} --> {stamp(e, ',')}\n{t}\n\n" for i, (s, e, t) in enumerate(cues, 1)
    )
    vtt = "WEBVTT\n\n" + "".join(
        f"{stamp(s, '.')} --> {stamp(e, '.')}\n{t}\n\n" for s, e, t in cues
    )
    (folder / f"{stem}.srt").write_text(srt, encoding="utf-8")
    (folder / f"{stem}.vtt").write_text(vtt, encoding="utf-8")


def add_episode(
    station: Station,
    session: Session,
    number: int,
    *,
    title: str | None = None,
    description: str = "委员与听众面对面。",
    topic: str = "医疗保障",
    audio_bytes: int = 4096,
    guests: Sequence[str] = ("张委员", "李委员"),
    questions: Sequence[tuple[float, str]] = ((120.0, "医保报销比例"), (900.0, "异地就医结算")),
    transcripts: bool = True,
    status: str = EpisodeStatus.mastered,
    air: datetime | None = None,
    master: bool = True,
) -> Episode:
    """A mastered, aired episode with guests who appeared and answered questions."""
    air = air or FIRST_AIR + timedelta(days=7 * (number - 1))
    episode = Episode(
        number=number,
        title=title if title is not None else f"第{number}期：医保政策问答",
        topic=topic,
        description=description,
        air_start=air,
        status=status,
        hosts=["李明", "王芳"],
        audio_seconds=3600.0,
    )
    if master:
        path = fake_mp3(station.master_dir / f"{number:04d}.mp3", audio_bytes)
        episode.audio_path = path.relative_to(station.root).as_posix()
        episode.audio_bytes = audio_bytes
    session.add(episode)
    session.flush()
    for name in guests:
        member = Member(name=name, sector="医药卫生界")
        session.add(member)
        session.flush()
        session.add(
            Booking(episode_id=episode.id, member_id=member.id, status=BookingStatus.appeared)
        )
    for offset, text in questions:
        session.add(
            Question(
                channel="phone",
                text=text,
                topic=text,
                status=QuestionStatus.answered,
                episode_id=episode.id,
                answer_offset=offset,
                listener_name="王先生",
                listener_contact="13812345678",
            )
        )
    session.flush()
    if transcripts:
        write_transcripts(station, number, ["主持人：欢迎收听政协热线。", "委员：谢谢大家。"])
    return episode
