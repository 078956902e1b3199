"""Text from the data is shown as text: markup in a title, a name, a question or a transcript
segment appears literally, control characters and wide characters included, on every tab;
the desk never raises.

The rows are written straight into the database (as an import or another program might
leave them), past the domain's own cleaning, so the desk meets what the domain refuses.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from desk_data import fill as small_station
from desk_workers import workers_done
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select
from textual.widgets import DataTable, Label

from hotline.models import Episode, Member, Question, Segment
from hotline.station import Station, init_station
from transcripts.formats import Cue
from transcripts.store import save_transcript
from tui.app import make_app
from tui.shown import lines, one_line
from tui.widgets.desk_table import DeskTable

MARKUP = ["[/]", "[bold red]", "[@click=app.quit]退出[/]", "[b]粗", "[link=x]", "\\[", "[[/]]"]
ODD = ["\x1b[31m", "\x07", "\x00", "\t", "\r\n", "\u202e", "\x9b", "🎙", "ｆｕｌｌ", "\u3000"]
PIECES = st.sampled_from([*MARKUP, *ODD, "第1000期", "养老", "医保", "[", "]", "@", "="])
DATA = st.lists(PIECES | st.text(max_size=4), min_size=1, max_size=6).map("".join)


def fill(station: Station, title: str, name: str, question: str, segment: str) -> None:
    """One episode, member, question and transcript segment carrying the given text."""
    small_station(station)
    with station.session() as session:
        episode = session.exec(select(Episode).where(Episode.number == 999)).one()
        episode.title = title or "x"
        episode.topic = segment
        member = session.exec(select(Member).where(Member.id == 2)).one()
        member.name, member.affiliation = name or "x", title
        asked = session.get(Question, 4)
        asked.text, asked.listener_name, asked.topic = question or "x", name, title
        session.add_all([episode, member, asked])
        session.flush()
        save_transcript(
            session=session,
            episode=999,
            segments=[Cue(0.0, 5.0, "医保开场"), Cue(6.0, 9.0, "医保 " + segment)],
            source="import",
        )
        # as another program might leave it: the normalised text too
        for row in session.exec(select(Segment)).all():
            row.text_norm = row.text
            session.add(row)


def drawn_cell(table: DataTable, key: str, column: int) -> str:
    """What the cell shows (the renderable DataTable draws), as plain text."""
    index = table.get_row_index(key)
    return table._get_row_renderables(index).cells[column].plain


async def drive(station: Station, title: str, name: str, question: str) -> list[BaseException]:
    app = make_app(station)
    async with app.run_test(size=(120, 36)) as pilot:
        for key in ("1", "2", "3", "4", "5", "7", "6"):
            await pilot.press(key)
            await pilot.pause()
            await workers_done(app)
            await pilot.pause()
            for table in app.active_pane.query(DeskTable):
                table.action_cursor_down()
                await pilot.pause()
            if key == "1":
                schedule = app.query_one("#schedule-table", DataTable)
                assert drawn_cell(schedule, "999", 3) == one_line(title or "x")
                schedule.move_cursor(row=schedule.get_row_index("999"))
                await pilot.pause()
                detail = str(app.query_one("#schedule-detail", Label).content)
                assert lines(title or "x") in detail
                await pilot.press("e")  # the edit form, the title in its field
                await pilot.pause()
                await pilot.press("escape")
            if key == "3":
                inbox = app.query_one("#questions-table", DataTable)
                assert drawn_cell(inbox, "4", 5) == one_line(name)
        app.query_one("#search-input").value = "医保"
        await workers_done(app)
        await pilot.pause()
        await pilot.pause()
        await pilot.press("escape", "enter")  # to the results, and open the transcript
        await workers_done(app)
        await pilot.pause()
        await pilot.press("escape")
        app.report(title)  # an outcome that quotes the data
        app.notify(title, markup=False)
        await pilot.pause()
        assert app.is_running
        return list(app.failures)


@settings(
    max_examples=int(os.environ.get("HOTLINE_TUI_EXAMPLES", "8")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(title=DATA, name=DATA, question=DATA, segment=DATA)
def test_the_desk_shows_any_text_as_text(
    title: str, name: str, question: str, segment: str
) -> None:
    # Hypothesis runs this many times in one test: each example's station goes when it ends.
    with tempfile.TemporaryDirectory(prefix="tui-text-") as folder:
        station, _ = init_station(Path(folder) / "station")
        fill(station, title, name, question, segment)
        failures = asyncio.run(drive(station, title, name, question))
    assert failures == []


def test_a_title_of_markup_is_shown_as_typed(tmp_path: Path) -> None:
    station, _ = init_station(tmp_path / "station")
    title = "[/] [bold red]红[@click=app.quit]退出[/]"
    fill(station, title, "[b]王伟", "\x1b[31m问题", "[/]文字稿")
    assert asyncio.run(drive(station, title, "[b]王伟", "\x1b[31m问题")) == []
