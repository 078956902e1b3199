"""The 检索 tab: search as you type, highlighted snippets, the transcript around a hit."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.widgets import DataTable, Input, Label, TabbedContent

from hotline.station import Station
from transcripts.formats import Cue
from transcripts.store import save_transcript
from tui.app import HotlineApp
from tui.screens.search import SearchPane
from tui.screens.transcript import TranscriptScreen

SIZE = (140, 40)
TRANSCRIPTS = {
    998: ["各位听众上午好，今天我们谈老旧小区加装电梯。", "加装电梯需要一楼住户同意。"],
    999: [
        "欢迎收听政协热线。",
        "今天的嘉宾是李娜委员。",
        "退休人员异地就医，醫保怎么结算？",  # traditional 醫: found by 医保 too
        "异地就医备案以后可以直接结算。",
        "下面我们接听听众来电。",
    ],
}


@pytest.fixture
def archive(desk: Station) -> Station:
    with desk.session() as session:
        for number, texts in TRANSCRIPTS.items():
            cues = [Cue(float(i * 10), float(i * 10 + 8), t) for i, t in enumerate(texts)]
            save_transcript(session=session, episode=number, segments=cues, source="import")
    return desk


def key_of(app: HotlineApp, pane_id: str) -> str:
    return str([p.PANE_ID for p in app.panes].index(pane_id) + 1)


async def wait_for_search(pilot, settle, before: int) -> None:  # noqa: ANN001
    """Until the debounced search has started (bounded), then until it is drawn."""
    pane = pilot.app.query_one(SearchPane)
    for _ in range(100):
        if pane.generation > before:
            break
        await pilot.pause(0.05)
    assert pane.generation > before, "the debounced search never ran"
    await settle(pilot)


def summary(app: HotlineApp) -> str:
    return str(app.query_one("#search-summary", Label).content)


async def test_typing_searches_newest_first_with_highlights_and_opens_the_transcript(
    app: HotlineApp, archive: Station, settle, type_text
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(key_of(app, "search"))
        await settle(pilot)
        assert app.query_one(TabbedContent).active == "search"
        assert isinstance(app.focused, Input)

        pane = app.query_one(SearchPane)
        before = pane.generation
        await type_text(pilot, "医保")
        await wait_for_search(pilot, settle, before)
        assert pane.generation - before <= 2  # debounced: not a search per keystroke burst
        table = app.query_one("#search-table", DataTable)
        assert table.row_count == 1
        episode, date, at, snippet = table.get_row_at(0)
        assert (episode, date, at) == ("999", "2025-05-31", "00:00:20")
        assert isinstance(snippet, Text)
        marked = [snippet.plain[span.start : span.end] for span in snippet.spans]
        assert marked == ["医保"]
        assert summary(app).startswith("1 条匹配，1 期")

        before = pane.generation
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "电梯")
        await wait_for_search(pilot, settle, before)
        assert [table.get_row_at(i)[0] for i in range(table.row_count)] == ["998", "998"]

        before = pane.generation
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "异地 结算")  # both terms, in any order
        await pilot.press("enter")  # Enter searches at once and moves to the results
        await settle(pilot)
        assert table.row_count == 2
        assert app.focused is table

        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TranscriptScreen)
        title = str(screen.query_one("#transcript-title", Label).content)
        assert title == "第999期 2025-05-31 第999期：医保异地结算"
        lines = screen.query_one("#transcript-table", DataTable)
        assert lines.row_count == 5
        assert lines.cursor_row == 2  # the hit, with its neighbours around it
        # As transcribed (醫, full-width punctuation), the terms found in it highlighted.
        hit = lines.get_row_at(2)[1]
        assert hit.plain == "退休人员异地就医，醫保怎么结算？"
        marked = [hit.plain[span.start : span.end] for span in hit.spans if span.style != "bold"]
        assert marked == ["异地", "结算"]
        questions = screen.query_one("#transcript-questions", DataTable)
        assert questions.get_row_at(0)[:3] == ["00:12:30", "孙先生", "李娜"]

        await pilot.press("escape")
        await settle(pilot)
        assert app.query_one(TabbedContent).active == "search"
        assert not isinstance(app.screen, TranscriptScreen)


async def test_refused_and_empty_queries(app: HotlineApp, archive: Station, settle) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(key_of(app, "search"))
        await settle(pilot)
        pane = app.query_one(SearchPane)
        before = pane.generation
        pane.field.value = "，，"  # pasted punctuation
        await wait_for_search(pilot, settle, before)
        assert summary(app).startswith("empty query")

        before = pane.generation
        pane.field.value = "火星"
        await wait_for_search(pilot, settle, before)
        assert summary(app).startswith("0 条匹配")
        assert app.query_one("#search-table", DataTable).row_count == 0

        before = pane.generation
        pane.field.value = ""
        await wait_for_search(pilot, settle, before)
        assert summary(app) == ""


async def test_the_transcript_wraps_long_lines_and_shows_them_whole(
    app: HotlineApp, desk: Station, settle
) -> None:
    long = "，".join(f"第{n}句：老旧小区加装电梯要一楼住户同意，补贴按户发放" for n in range(1, 9))
    with desk.session() as session:
        cues = [Cue(0.0, 8.0, "开场。"), Cue(10.0, 60.0, long + "。"), Cue(70.0, 75.0, "再见。")]
        save_transcript(session=session, episode=998, segments=cues, source="import")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(key_of(app, "search"))
        await settle(pilot)
        pane = app.query_one(SearchPane)
        before = pane.generation
        pane.field.value = "补贴"
        await wait_for_search(pilot, settle, before)
        await pilot.press("enter", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TranscriptScreen)
        lines = screen.query_one("#transcript-table", DataTable)
        assert lines.get_row_at(1)[1].plain == long + "。"
        # The row is as tall as its text needs at this width: every character is drawn.
        assert lines.rows[lines.coordinate_to_cell_key((1, 0)).row_key].height >= 5
        drawn = "".join(strip.text.replace(" ", "") for strip in screen._compositor.render_strips())
        assert "第8句：老旧小区加装电梯要一楼住户同意，补贴按户发放。" in drawn.replace("│", "")
