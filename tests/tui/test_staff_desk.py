"""The desk's read-only tabs as staff: a real PostgreSQL login that may not read contacts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from station_data import hotline
from test_search_tab import SIZE, TRANSCRIPTS, key_of, wait_for_search
from textual.widgets import DataTable, Label, TabbedContent

from hotline.models import Call, Episode, Job
from hotline.station import Station
from transcripts.formats import Cue
from transcripts.store import save_transcript
from tui.app import make_app
from tui.screens.search import SearchPane

NOW = datetime(2025, 6, 4, 2, 0, tzinfo=UTC)  # the desk fixtures' clock (tui/conftest.py)


@pytest.fixture
def station(pg_station: Station) -> Station:
    """The desk's station, on PostgreSQL whatever HOTLINE_TEST_DB says."""
    return pg_station


@pytest.fixture
def staff(desk: Station) -> Iterator[Station]:
    """The filled desk station, opened as a staff role's login."""
    with desk.session() as session:
        for number, texts in TRANSCRIPTS.items():
            cues = [Cue(float(i * 10), float(i * 10 + 8), t) for i, t in enumerate(texts)]
            save_transcript(session=session, episode=number, segments=cues, source="import")
    role = f"员工_{uuid.uuid4().hex[:6]}"
    code, _, err = hotline("-s", desk.root, "db", "grant", role, "--as", "staff")
    assert code == 0, err
    url = sa.make_url(desk.url).set(username=role).render_as_string(False)
    as_staff = Station(root=desk.root, settings=desk.settings, database_url=url)
    yield as_staff
    as_staff.engine.dispose()
    with desk.engine.begin() as conn:
        conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
        conn.exec_driver_sql(f'DROP ROLE "{role}"')


async def test_staff_see_the_schedule_the_inbox_without_contacts_and_search(
    staff: Station, settle, type_text
) -> None:
    app = make_app(staff, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        schedule = app.query_one("#schedule-table", DataTable)
        numbers = [str(schedule.get_row_at(i)[0]) for i in range(schedule.row_count)]
        assert "1000" in numbers

        await pilot.press(key_of(app, "questions"))
        await settle(pilot)
        inbox = app.query_one("#questions-table", DataTable)
        rows = [" ".join(map(str, inbox.get_row_at(i))) for i in range(inbox.row_count)]
        assert len(rows) == 5 and any("托管" in row for row in rows)
        assert not any("1381" in row or "****" in row for row in rows)  # no contact at all

        await pilot.press(key_of(app, "search"))
        await settle(pilot)
        assert app.query_one(TabbedContent).active == "search"
        pane = app.query_one(SearchPane)
        before = pane.generation
        await type_text(pilot, "医保")
        await wait_for_search(pilot, settle, before)
        table = app.query_one("#search-table", DataTable)
        assert table.row_count == 1
        assert table.get_row_at(0)[0] == "999"


async def test_staff_open_every_tab_the_live_desk_and_production_included(
    staff: Station, desk: Station, settle
) -> None:
    with desk.session() as session:  # as the owner: a caller waiting and a queued job
        episode = session.exec(sa.select(Episode).where(Episode.number == 1000)).scalar_one()
        session.add(Call(episode_id=episode.id, caller_name="李阿姨", summary="老旧小区加装电梯"))
        session.add(Job(kind="master", episode_id=episode.id))
    app = make_app(staff, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for pane in app.panes:  # by the tab bar: the number keys reach only the first nine
            app.query_one(TabbedContent).active = pane.PANE_ID
            await settle(pilot)
            message = str(app.query_one("#status-message", Label).content)
            assert "没有权限" not in message, (pane.PANE_ID, message)
        live = app.query_one("#live-table", DataTable)
        assert any(
            "李阿姨" in " ".join(map(str, live.get_row_at(i))) for i in range(live.row_count)
        )
        assert app.query_one("#jobs-table", DataTable).row_count == 1
    assert not app.failures, app.failures
