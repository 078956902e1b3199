"""One set of chapter marks: the master's CHAP frames, the chapters JSON and the description agree,
and land where the answer is in the audio (dead air trimmed, intro jingle added). A metadata
change re-tags the master without encoding it again."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from lxml import etree
from sqlmodel import select

from hotline import jobs
from hotline.config import save_settings
from hotline.ffmpeg import decode_pcm
from hotline.models import Episode, JobKind, Question, QuestionStatus
from hotline.station import Station
from hotline.timeutil import format_offset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import audio_fixtures as fx  # noqa: E402
from feeds_fixtures import use_cover  # noqa: E402

RATE = fx.RATE
LEAD = 4.0  # dead air before the programme, trimmed by mastering
SPEECH = 30.0
MARK_AT = 14.0  # recording time of the answer whose start a tone marks
TONE_HZ = 1500.0
INTRO = 3.0


def _recording(path: Path) -> Path:
    """Dead air, then speech with a short loud tone exactly where question 1 is answered."""
    speech = fx.speech_like(SPEECH, seed=3)[:, 0]
    start = round((MARK_AT - LEAD) * RATE)
    t = np.arange(round(0.3 * RATE)) / RATE
    speech[start : start + t.size] = 0.6 * np.sin(2 * np.pi * TONE_HZ * t)
    pcm = np.concatenate([np.zeros(round(LEAD * RATE), dtype=np.float32), speech])
    return fx.write_wav(path, pcm.astype(np.float32))


def _tone_onset(master: Path) -> float:
    """Where the marker tone starts in the master (10 ms frames, Goertzel power)."""
    pcm = decode_pcm(master, sample_rate=RATE, channels=1)
    frame = RATE // 100
    frames = pcm[: len(pcm) // frame * frame].reshape(-1, frame)
    t = np.arange(frame) / RATE
    probe = np.exp(-2j * np.pi * TONE_HZ * t)
    power = np.abs(frames @ probe)
    first = int(np.argmax(power > 0.5 * power.max()))
    return first * frame / RATE


@pytest.fixture
def recorded(station: Station, tmp_path: Path) -> Path:
    use_cover(station)
    (station.root / "jingles").mkdir()
    fx.tone(station.root / "jingles/片头.wav", INTRO, freq=440.0)
    station.settings.audio.intro = "jingles/片头.wav"
    save_settings(station.settings, station.settings_path)
    with station.session() as session:
        episode = Episode(
            number=999, title="养老服务进社区", air_start=datetime(2022, 8, 6, 3, tzinfo=UTC)
        )
        session.add(episode)
        session.flush()
        for offset, topic, title in (
            (MARK_AT, "养老", "社区食堂怎么办"),
            (2.0, "医保", ""),  # answered in the dead air: the programme opens with it
            (SPEECH + LEAD + 30.0, "教育", ""),  # past the end of the audio: no chapter
        ):
            session.add(
                Question(
                    channel="phone",
                    text=f"我的电话13700001234，问{topic}",
                    topic=topic,
                    public_title=title,
                    status=QuestionStatus.answered,
                    episode_id=episode.id,
                    answer_offset=offset,
                )
            )
    return _recording(tmp_path / "第999期.wav")


def test_frames_json_and_description_share_one_set_of_marks_where_the_audio_is(
    station: Station, recorded: Path, cli: Callable[..., Any]
) -> None:
    assert cli("ingest", "999", recorded).exit_code == 0
    r = cli("process")
    assert r.exit_code == 0, r.stdout + r.stderr
    tags = cli("tags", "show", "999", "--json").json()
    frames = [(c["start"], c["title"]) for c in tags["chapters"]]
    assert [title for _, title in frames] == ["医保", "社区食堂怎么办"]  # none past the end
    assert frames[0][0] == 0.0
    master = station.master_dir / "0999.mp3"
    onset = _tone_onset(master)
    # The mark is where the tone is: shifted by the intro (less its crossfade) and the
    # trimmed dead air, not at the recording's 14.0 s.
    assert abs(frames[1][0] - onset) < 0.06, (frames, onset)
    assert abs(frames[1][0] - MARK_AT) > 0.5

    chapters = json.loads((station.public_dir / "chapters/0999.json").read_text("utf-8"))
    assert [(c["startTime"], c["title"]) for c in chapters["chapters"]] == [
        (pytest.approx(start, abs=0.001), title) for start, title in frames
    ]
    item = etree.fromstring((station.public_dir / "feeds/generic.xml").read_bytes())
    description = item.xpath("string(//item/description)")
    for start, title in frames:
        assert f"[{format_offset(start)}] {title}" in description
    assert "教育" not in description and "13700001234" not in description


def _audio_frames(path: Path) -> bytes:
    """The MP3 after its ID3v2 tag: the encoded audio itself."""
    data = path.read_bytes()
    assert data[:3] == b"ID3"
    size = 0
    for byte in data[6:10]:
        size = size << 7 | byte
    return data[10 + size :]


def test_a_new_title_or_public_title_re_tags_the_master_without_encoding_it(
    station: Station, recorded: Path, cli: Callable[..., Any]
) -> None:
    assert cli("ingest", "999", recorded).exit_code == 0
    assert cli("process").exit_code == 0
    master = station.master_dir / "0999.mp3"
    audio = _audio_frames(master)
    assert cli("episodes", "edit", "999", "--title", "养老服务进社区（重播）").exit_code == 0
    assert cli("questions", "edit", "1", "--public-title", "社区长者食堂").exit_code == 0

    r = cli("publish", "--json")  # publish re-tags before it links the master
    assert r.exit_code == 0, r.stderr
    assert r.json()["retagged"] == [999]
    tags = cli("tags", "show", "999", "--json").json()
    assert tags["title"] == "第999期 养老服务进社区（重播）"
    assert [c["title"] for c in tags["chapters"]] == ["医保", "社区长者食堂"]
    assert _audio_frames(master) == audio  # the same encoded audio, byte for byte
    size = master.stat().st_size
    item = etree.fromstring((station.public_dir / "feeds/apple.xml").read_bytes())
    assert item.xpath("string(//enclosure/@length)") == str(size)
    assert (station.public_dir / "audio/0999.mp3").stat().st_ino == master.stat().st_ino

    # The master stage does the same when a job runs after an edit.
    assert cli("questions", "edit", "2", "--public-title", "异地就医").exit_code == 0
    _queue_master(station)
    r = cli("process", "--kind", "master")
    assert r.exit_code == 0
    assert "re-tagged 0999.mp3" in r.stdout and "not re-encoded" in r.stdout
    assert [c["title"] for c in cli("tags", "show", "999", "--json").json()["chapters"]] == [
        "异地就医",
        "社区长者食堂",
    ]
    assert _audio_frames(master) == audio
    _queue_master(station)
    assert "master is current" in cli("process", "--kind", "master").stdout


def _queue_master(station: Station) -> None:
    with station.session() as session:
        episode = session.exec(select(Episode)).one()
        jobs.enqueue(session=session, kind=JobKind.master, episode_id=episode.id)
