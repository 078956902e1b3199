"""``TranscriptScreen``: a search hit in its context, and the questions answered that episode.

Pushed by the 检索 tab; Esc goes back to the results. The text is read in a thread
worker; the hit's line is marked and under the cursor, the search terms highlighted.
Each line is shown whole, wrapped to the screen's width, as transcribed (the original
script and punctuation, not the normalised text search matches on).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Footer, Label

from hotline.errors import HotlineError
from hotline.station import Station
from hotline.timeutil import format_offset, local_text
from transcripts.around import Line, TranscriptWindow, transcript_window
from transcripts.snippets import match_spans
from tui.changes import describe, failure_line
from tui.guard import Guarded
from tui.keys import Key
from tui.shown import lines as shown_lines
from tui.widgets.data_label import DataLabel
from tui.widgets.desk_table import Col, DeskTable

HIT_STYLE = "bold black on yellow"


def highlighted(text: str, terms: list[str], *, matched_in: str | None = None) -> Text:
    """``text`` with every occurrence of every term highlighted.

    ``matched_in`` is the normalised form the terms are found in; its offsets are used
    on ``text`` when the two line up character for character (as OpenCC's conversion
    does), else the terms are looked for in ``text`` itself.
    """
    shown = Text(shown_lines(text), end="")
    source = matched_in if matched_in is not None and len(matched_in) == len(text) else text
    for start, end in match_spans(source, terms):
        shown.stylize(HIT_STYLE, start, end)
    return shown


def line_text(line: Line, terms: list[str]) -> Text:
    """What the screen shows for one segment: as heard, the terms highlighted."""
    return highlighted(line.heard or line.text, terms, matched_in=line.text)


class TranscriptScreen(Guarded, Screen[None]):
    """The transcript around one segment."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Key("escape", "back", "返回检索结果", doc="back to the search results")
    ]

    def __init__(self, station: Station, segment_id: int, terms: list[str]) -> None:
        super().__init__()
        self.station = station
        self.segment_id = segment_id
        self.terms = terms
        self.window: TranscriptWindow | None = None

    def compose(self) -> ComposeResult:
        yield DataLabel("读取中…", id="transcript-title", classes="section-title")
        yield DeskTable(
            [Col("时间", keep=True), Col("内容", wrap=True)],
            id="transcript-table",
            zebra_stripes=False,
        )
        yield Label("本期回答的听众问题", classes="section-title")
        yield DeskTable(
            [Col("时间", keep=True), Col("听众"), Col("回答委员"), Col("问题")],
            id="transcript-questions",
        )
        yield Footer()

    def on_mount(self) -> None:
        station, segment_id = self.station, self.segment_id

        def read() -> None:
            try:
                with station.session() as session:
                    window = transcript_window(session=session, segment_id=segment_id)
            except HotlineError as exc:
                self.app.call_from_thread(self.show_error, describe(exc))
            except Exception as exc:  # logged with its traceback; the desk goes on
                line = failure_line(exc, where=station.where, context="desk: 文字稿")
                self.app.call_from_thread(self.show_error, line)
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
        table = self.query_one("#transcript-table", DeskTable)
        for i, line in enumerate(window.lines):
            text = line_text(line, self.terms)
            if i == window.hit:
                text.stylize("bold")
            table.add_row(format_offset(line.start), text, key=str(line.segment_id))
        table.move_cursor(row=window.hit)
        table.focus()
        questions = self.query_one("#transcript-questions", DeskTable)
        for q in window.questions:
            # The stamp snapped to the first word said after it, when words are timed.
            moment = q.aligned if q.aligned is not None else q.offset
            questions.add_row(format_offset(moment), q.listener, q.member, q.text)
        if not window.questions:
            questions.add_row("", "", "", "（本期没有记录回答的问题）")

    def action_back(self) -> None:
        self.dismiss(None)
