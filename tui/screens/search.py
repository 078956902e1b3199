"""The 检索 tab: search every transcript as you type, with ``hotline search``'s semantics.

Type-ahead without a debounce: a keystroke searches at once when no search is running;
while one runs, the newest text waits and is searched the moment it finishes (text typed
over meanwhile is never searched, and an answer to a query typed over is not drawn).
Searches run in a thread worker. Results are newest episode first with totals, each with
episode, air date, timestamp and the snippet with the terms highlighted; Enter opens the
transcript around the hit with the questions answered in that episode. Esc leaves the
field for the results (and the number keys switch tabs again).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label

from hotline.errors import HotlineError
from hotline.timeutil import format_offset, local_text
from tui.changes import describe, failure_line
from tui.keys import Key
from tui.messages import SearchDone
from tui.screens.base import HotlinePane
from tui.screens.transcript import HIT_STYLE, TranscriptScreen
from tui.shown import one_line
from tui.widgets.data_label import DataLabel
from tui.widgets.desk_input import DeskInput
from tui.widgets.desk_table import Col, DeskTable
from tui.widgets.paged_table import FIRST_DRAW

LIMIT = 200
"""Results shown (newest first); the totals count every match."""


def snippet_text(snippet: str, spans: list[tuple[int, int]]) -> Text:
    """The snippet as Rich text (never markup) with the matched spans highlighted."""
    text = Text(one_line(snippet), end="")
    for start, end in spans:
        text.stylize(HIT_STYLE, start, end)
    return text


class SearchPane(HotlinePane):
    """检索: transcript search."""

    LABEL = "检索"
    PANE_ID = "search"
    BINDINGS: ClassVar[list[BindingType]] = [
        Key(
            "slash",
            "focus_search",
            "搜索",
            doc="back to the search field (type to search; Enter to the results)",
        ),
        Key(
            "escape",
            "to_results",
            "结果列表",
            show=False,
            doc="from the field to the results; Enter opens the transcript there",
        ),
    ]

    def __init__(self, *, key: str = "") -> None:
        super().__init__(key=key)
        self.generation = 0
        self.running: int | None = None
        """The generation of the search in the worker, if one is running."""
        self.pending = False
        """The field changed while a search ran: search its text when that one is done."""
        self.shown: str | None = None
        """The query whose results the table shows."""
        self.terms: list[str] = []

    def compose_tab(self) -> ComposeResult:
        yield DeskInput(
            placeholder="搜索全部节目文字稿：养老 医保（空格分开的词须同时出现；Esc 到结果）",
            id="search-input",
            classes="filter",
        )
        yield DataLabel("", id="search-summary", classes="search-summary")
        yield DeskTable(
            [
                Col("期号", keep=True),
                Col("播出日期", keep=True),
                Col("时间", keep=True),
                Col("片段"),
            ],
            id="search-table",
        )

    @property
    def table(self) -> DeskTable:
        return self.query_one("#search-table", DeskTable)

    @property
    def field(self) -> Input:
        return self.query_one("#search-input", Input)

    def main_widget(self) -> Widget:
        return self.field

    def activated(self) -> None:
        self.field.focus()

    def count_text(self) -> str:
        return f"显示 {self.table.row_count} 条" if self.table.row_count else ""

    # ------------------------------------------------------------ searching

    @on(Input.Changed, "#search-input")
    def _typed(self) -> None:
        if self.running is not None and self.field.value.strip():
            self.pending = True
        else:
            self.search_now()

    @on(Input.Submitted, "#search-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        event.prevent_default()  # the results get the keyboard, not the field (main widget)
        self.search_now()
        self.table.focus()

    def search_now(self) -> None:
        """Search for what the field holds now (in a worker)."""
        self.pending = False
        self.generation += 1
        generation, query, station = self.generation, self.field.value, self.station
        if not query.strip():
            self.table.clear()
            self.shown = None
            self.query_one("#search-summary", Label).update("")
            return
        self.running = generation

        def work() -> None:
            from transcripts.search import search

            try:
                with station.session() as session:
                    result = search(session=session, query=query, limit=LIMIT)
            except HotlineError as exc:
                self.post_message(SearchDone(generation, error=describe(exc)))
            except Exception as exc:  # logged with its traceback; the desk goes on
                line = failure_line(exc, where=station.where, context="desk: 检索")
                self.post_message(SearchDone(generation, error=line))
            else:
                self.post_message(SearchDone(generation, result))

        self.run_worker(work, thread=True, group="search", exclusive=True)

    def on_search_done(self, message: SearchDone) -> None:
        if message.generation == self.running:
            self.running = None
        if self.pending and self.running is None:
            self.search_now()  # typed over meanwhile: the newest text, not stale results
            return
        if message.generation != self.generation:
            return  # the query was typed over (or cleared) meanwhile
        summary = self.query_one("#search-summary", Label)
        table, tz = self.table, self.station.tz
        table.clear()
        if message.error:
            summary.update(message.error)
            self.hotline.report(message.error, error=True)
            return
        result = message.result
        self.terms = list(result.terms)
        self.shown = result.query
        rows = [
            (
                str(hit.segment_id),
                (
                    str(hit.episode),
                    local_text(hit.air_start, tz, "%Y-%m-%d"),
                    format_offset(hit.landing),  # the matched word when timed
                    snippet_text(hit.snippet, hit.highlights),
                ),
            )
            for hit in result.hits
        ]
        # A screenful first, the rest after that frame: the table measures each new cell.
        self._add_rows(message.generation, rows[:FIRST_DRAW])
        if len(rows) > FIRST_DRAW:
            self.call_after_refresh(self._add_rows, message.generation, rows[FIRST_DRAW:])
        shown = f"，显示最新 {len(result.hits)} 条" if len(result.hits) < result.matches else ""
        summary.update(
            f"{result.matches} 条匹配，{result.episodes} 期{shown}（回车看上下文）", layout=False
        )

    def _add_rows(self, generation: int, rows: list[tuple[str, tuple[object, ...]]]) -> None:
        if generation != self.generation:
            return  # a newer search cleared the table meanwhile
        for key, cells in rows:
            self.table.add_row(*cells, key=key)
        self.hotline.show_count(self.count_text(), pane=self)

    # ------------------------------------------------------------ keys

    @on(DataTable.RowSelected, "#search-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        segment = int(str(event.row_key.value))
        self.app.push_screen(TranscriptScreen(self.station, segment, self.terms))

    def action_focus_search(self) -> None:
        self.field.focus()

    def action_to_results(self) -> None:
        self.table.focus()
