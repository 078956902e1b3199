"""The 制作 tab shows a skipped stage as skipped (已跳过), with its reason, not as done."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select
from textual.widgets import DataTable, Label
from whisper_fixtures import add_mastered_episode, tone_and_silence

from hotline import jobs
from hotline.models import Episode, JobKind
from hotline.station import Station
from transcripts.models_offline import WHISPER_DIR_ENV
from tui.app import HotlineApp

SIZE = (140, 40)


@pytest.fixture(autouse=True)
def no_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(WHISPER_DIR_ENV, str(tmp_path / "models"))


async def test_running_a_transcription_without_a_model_shows_it_skipped(
    app: HotlineApp, desk: Station, settle
) -> None:
    add_mastered_episode(desk, 1003, tone_and_silence([("tone", 6.0)]), title="第1003期：停车难")
    with desk.session() as session:
        episode = session.exec(select(Episode).where(Episode.number == 1003)).one()
        jobs.enqueue(session=session, kind=JobKind.transcribe, episode_id=episode.id)

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(str([p.PANE_ID for p in app.panes].index("pipeline") + 1))
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        table = app.query_one("#jobs-table", DataTable)
        row = table.get_row_at(0)
        assert (row[1], row[2], row[3]) == ("转写", "1003", "已跳过")
        assert str(row[8]).startswith("whisper model 'small' is not available offline")
        assert str(app.query_one("#pipeline-summary", Label).content) == "运行结束：已跳过 1"
