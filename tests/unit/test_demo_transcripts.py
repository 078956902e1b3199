"""The demo's transcript step: searchable back catalogue, and whisper on the demo recording."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import col, select
from whisper_fixtures import (
    tiny_whisper_fixture,  # noqa: F401 (the tiny_whisper fixture)
)

from hotline.demo import build_demo
from hotline.demo_publish import make_demo_cover
from hotline.demo_steps import DemoContext, add_bookings, add_episodes, add_members
from hotline.demo_transcripts import TRANSCRIBED_EPISODES, add_transcripts
from hotline.models import Episode, Transcript
from hotline.station import open_station
from transcripts.models_offline import WHISPER_DIR_ENV
from transcripts.search import search

TODAY = date(2024, 3, 1)


@pytest.fixture(autouse=True)
def no_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(WHISPER_DIR_ENV, str(tmp_path / "models"))


def test_back_catalogue_is_searchable(tmp_path: Path) -> None:
    steps = (add_episodes, add_members, add_bookings, add_transcripts)
    build_demo(tmp_path / "demo", today=TODAY, steps=steps, record=False)
    station = open_station((tmp_path / "demo").resolve())
    with station.session() as session:
        transcripts = session.exec(select(Transcript)).all()
        assert len(transcripts) == TRANSCRIBED_EPISODES
        assert {t.source for t in transcripts} == {"import"}
        found = search(session=session, query="養老", limit=5)
        assert found.matches >= 50 and found.episodes >= 20


def test_the_demo_recording_goes_through_the_whole_pipeline_with_a_model(
    tmp_path: Path, tiny_whisper: Path
) -> None:
    def use_tiny_model(ctx: DemoContext) -> None:
        settings = ctx.station.settings.transcribe
        settings.model, settings.beam_size, settings.temperatures = str(tiny_whisper), 0, [0.0]
        settings.max_window_tokens = 8

    steps = (
        add_episodes,
        add_members,
        add_bookings,
        use_tiny_model,
        add_transcripts,
        make_demo_cover,
    )
    summary = build_demo(tmp_path / "demo", today=TODAY, steps=steps)
    assert summary.recording is not None
    outcomes = " | ".join(summary.recording.outcomes)
    assert "transcribed episode" in outcomes, outcomes
    station = open_station((tmp_path / "demo").resolve())
    with station.session() as session:
        episode = session.exec(select(Episode).where(col(Episode.audio_path).is_not(None))).one()
        transcript = session.exec(
            select(Transcript).where(Transcript.episode_id == episode.id)
        ).one()
    assert episode.number == summary.recording.episode
    assert transcript.source == "whisper" and transcript.complete
    assert episode.status == "published"  # demo episodes are published; status never goes back
    assert (station.transcripts_dir / f"{episode.number:04d}.json").is_file()
    feed = (station.public_dir / "feeds" / "generic.xml").read_text(encoding="utf-8")
    assert feed.count("<item>") == 1
