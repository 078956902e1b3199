"""An archive-sized station for bench_backup: episodes with raw and master audio, transcripts
(files and rows), guests and answered questions.

Run as a script in a subprocess, so the same builder makes the station with this tree's
code or with an older tree's (``PYTHONPATH``) for a like-for-like comparison::

    python archive_station.py ROOT COUNT MASTER_BASE RAW_BASE CUES

Every master is ``MASTER_BASE``'s bytes behind an ID3 header of its own (so no two files
are equal), every raw recording likewise from ``RAW_BASE``. Only APIs that older trees
have too are used here.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from hotline.models import Booking, Episode, Member, Question, Segment, Transcript
from hotline.station import init_station
from transcripts.formats import Cue, TranscriptDoc, write_transcript_files

FIRST_AIR = datetime(2022, 1, 1, 3, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 27, tzinfo=UTC)
GUESTS = 3
QUESTIONS = 5


def unique_copy(base: bytes, dest: Path, label: str) -> int:
    """``base`` behind a 256-byte ID3v2 header naming ``label``; returns the size."""
    text = label.encode()[:200].ljust(246, b"\x00")
    header = b"ID3\x04\x00\x00" + bytes([0, 0, 1, 118]) + text  # tag size 246, syncsafe
    with dest.open("wb") as out:
        out.write(header)
        out.write(base)
    return len(header) + len(base)


def build(root: Path, count: int, master_base: Path, raw_base: Path, cues: int) -> None:
    from PIL import Image

    station, _ = init_station(root)
    (root / "art").mkdir(exist_ok=True)
    Image.new("RGB", (1400, 1400), (178, 34, 34)).save(root / "art/cover.png")
    station.settings.show.cover = "art/cover.png"
    from hotline.config import save_settings

    save_settings(station.settings, station.settings_path)
    master_bytes, raw_bytes = master_base.read_bytes(), raw_base.read_bytes()
    seconds = 3600.0 if cues >= 100 else 3540.0
    episodes, bookings, questions, transcripts, segments = [], [], [], [], []
    segment_id = 0
    for n in range(1, count + 1):
        master = station.master_dir / f"{n:04d}.mp3"
        size = unique_copy(master_bytes, master, f"master {n}")
        raw = station.raw_dir / f"{n:04d}-{n:08x}.mp3"
        unique_copy(raw_bytes, raw, f"raw {n}")
        lines = [f"第{n}期第{i}句：委员回答听众关于医保和养老服务的问题。" for i in range(cues)]
        step = seconds / cues
        doc = TranscriptDoc(
            cues=[Cue(i * step, (i + 1) * step, text) for i, text in enumerate(lines)],
            episode=n,
            source="whisper",
            model="small",
        )
        write_transcript_files(station.transcripts_dir, doc, normalized=lines)
        episodes.append(
            {
                "id": n,
                "number": n,
                "title": f"第{n}期：医保报销、养老服务与社区治理",
                "topic": "民生综合",
                "air_start": FIRST_AIR + timedelta(days=7 * (n - 1)),
                "duration_minutes": 60,
                "status": "transcribed",
                "hosts": ["李明", "王芳"],
                "description": "政协委员走进直播间，回答听众的来信来电。" * 3,
                "raw_path": raw.relative_to(root).as_posix(),
                "raw_sha256": f"{n:064x}",
                "audio_path": master.relative_to(root).as_posix(),
                "audio_bytes": size,
                "audio_seconds": seconds,
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
        transcripts.append(
            {
                "id": n,
                "episode_id": n,
                "language": "zh",
                "complete": True,
                "source": "whisper",
                "model": "small",
                "settings": {},
                "chunks_done": 1,
                "chunks_total": 1,
                "created_at": NOW,
            }
        )
        for i, text in enumerate(lines):
            segment_id += 1
            segments.append(
                {
                    "id": segment_id,
                    "transcript_id": n,
                    "episode_id": n,
                    "start": i * step,
                    "end": (i + 1) * step,
                    "text": text,
                    "text_norm": text,
                }
            )
        for g in range(GUESTS):
            bookings.append(
                {
                    "episode_id": n,
                    "member_id": (n * GUESTS + g) % 300 + 1,
                    "role": "guest",
                    "status": "appeared",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
        for q in range(QUESTIONS):
            questions.append(
                {
                    "received_at": NOW,
                    "channel": "phone",
                    "text": f"听众问题{q}：异地就医如何直接结算？我的电话1380000{n:04d}",
                    "topic": f"异地就医结算问题{q}",
                    "listener_contact": f"1390000{n:04d}",
                    "status": "answered",
                    "episode_id": n,
                    "answer_offset": 300.0 + 600 * q,
                    "updated_at": NOW,
                }
            )
    members = [
        {
            "id": m,
            "name": f"委员{m:03d}",
            "sector": "医药卫生界",
            "level": "市",
            "contact": f"1370000{m:04d}",
            "created_at": NOW,
            "active": True,
        }
        for m in range(1, 301)
    ]
    with station.session() as session:
        for model, rows in (
            (Episode, episodes),
            (Member, members),
            (Booking, bookings),
            (Question, questions),
            (Transcript, transcripts),
            (Segment, segments),
        ):
            for start in range(0, len(rows), 5000):
                session.execute(sa.insert(model.__table__), rows[start : start + 5000])  # type: ignore[attr-defined]


if __name__ == "__main__":
    build(
        Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5])
    )
