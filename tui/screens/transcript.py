"""``TranscriptScreen``: a search hit in its context, and the questions answered that episode.

Pushed by the 检索 tab; Escape goes back to the results. The text is read in a thread
worker; the hit's line is marked and under the cursor, the search terms highlighted.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label

from hotline.errors import HotlineError
from hotline.station import Station
from hotline.timeutil import format_offset, local_text
from transcripts.around import TranscriptWindow, transcript_window
from transcripts.snippets import match_spans

HIT_STYLE = "bold black on yellow"


def highlighted(text: str, terms: list[str]) -> Text:
    """``text`` with every occurrence of every term highlighted."""
    shown = Text(text)
    for start, end in match_spans(text, terms):
        shown.stylize(HIT_STYLE, start, end)
    return shown


class TranscriptScreen(Screen[None]):
    """The transcript around one segment."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "返回检索结果")]

    def __init__(self, station: Station, segment_id: int, terms: list[str]) -> None:
        super().__init__()
        self.station = station
        self.segment_id = segment_id
        self.terms = terms
        self.window: TranscriptWindow | None = None

    def compose(self) -> ComposeResult:
        yield Label("读取中…", id="transcript-title", classes="section-title", markup=False)
        yield DataTable(id="transcript-table", cursor_type="row")
        yield Label("本期回答的听众问题", classes="section-title")
        yield DataTable(id="transcript-questions", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#transcript-table", DataTable).add_columns("时间", "内容")
        self.query_one("#transcript-questions", DataTable).add_columns(
            "时间", "听众", "回答委员", "问题"
        )
        station, segment_id = self.station, self.segment_id

        def read() -> None:
            try:
                with station.session() as session:
                    window = transcript_window(session=session, segment_id=segment_id)
            except HotlineError as exc:
                self.app.call_from_thread(self.show_error, str(exc))
            else:
                self.app.call_from_thread(self.show, window)

        self.run_worker(read, thread=True, group="transcript")

    def show_error(self, text: str) -> None:
        self.query_one("#transcript-title", Label).update(text)

    def show(self, window: TranscriptWindow) -> None:
        self.window = window
        date = local_text(window.air_start, self.station.tz, "%Y-%m-%d")
        self.query_one("#transcript-title", Label).update(
            f"第{window.episode}期 {date} {window.title}"
        )
        lines = self.query_one("#transcript-table", DataTable)
        for i, line in enumerate(window.lines):
            text = highlighted(line.text, self.terms)
            if i == window.hit:
                text.stylize("bold")
            lines.add_row(format_offset(line.start), text, key=str(line.segment_id))
        lines.move_cursor(row=window.hit)
        lines.focus()
        questions = self.query_one("#transcript-questions", DataTable)
        for q in window.questions:
            # The stamp snapped to the first word said after it, when words are timed.
            moment = q.aligned if q.aligned is not None else q.offset
            questions.add_row(format_offset(moment), q.listener, q.member, q.text)
        if not window.questions:
            questions.add_row("", "", "", "（本期没有记录回答的问题）")

    def action_back(self) -> None:
        self.dismiss(None)
