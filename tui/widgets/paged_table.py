"""``PagedTable``: a DataTable over a large list that loads a page at a time in a thread worker.

The table is given a *source*, ``source(offset, limit) -> (rows, total)``, which runs off
the UI thread (it opens its own database session). The first page is read on ``load``;
the next one when the cursor comes within a quarter page of the last loaded row, so a
table over 50 000 questions holds a few hundred rows until the user scrolls. ``jump``
reads up to a far row in one query. A newer ``load`` makes older pages stale: their
results are dropped by generation number. A re-read that brings exactly the rows the table
holds leaves them as they are: nothing is measured or drawn again; one that brings the same
rows with some cells changed (another desk's edit) updates those cells where they are.
A re-read asked for while a load that is to put the cursor on a row is still under way
puts it on that row too (a desk's own change, then the echo of it from the station).
A move the user makes while a load is under way stands: the rows it brings keep the
cursor on the row the user went to (a refresh never pulls the cursor back).
``G`` reads the rest of the list and goes to its last row.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist
from textual.worker import get_current_worker

from hotline.errors import HotlineError
from tui.messages import PageLoaded, TableRow
from tui.widgets.desk_table import Col, DeskTable

Source = Callable[[int, int], tuple[list[TableRow], int]]
"""Reads ``limit`` rows from ``offset``; returns them and the total that match."""
FIRST_DRAW = 50
"""Rows of a page added before the first frame; the rest follow right after it."""


class PagedTable(DeskTable):
    """A row-cursor table whose rows come from a ``Source`` one page at a time."""

    def __init__(self, columns: Sequence[Col], *, page_size: int = 100, **kwargs: Any) -> None:
        super().__init__(columns, **kwargs)
        self.page_size = page_size
        self.total = 0
        self.fetching = False
        self.shown = 0
        """The generation (count of ``load`` calls) whose rows the table holds."""
        self._source: Source | None = None
        self._generation = 0
        self._rows: list[TableRow] | None = []
        """The rows as read, in table order (None once a cell was changed in place)."""
        self._to_end = False
        """``G`` was pressed: once the rest of the list is in, the cursor goes to its end."""
        self._selecting: str | None = None
        """The row the load under way is to put the cursor on."""
        self._cursor_asked: str | None = None
        """The row the cursor was on when the load under way was asked for."""

    def load(self, source: Source, *, at_least: int = 0, select: str | None = None) -> None:
        """Replace the rows with the first page of ``source`` (or up to row ``at_least``)."""
        self._source = source
        self._generation += 1
        self._selecting = select
        self._cursor_asked = self.selected_key
        self._fetch(0, max(self.page_size, at_least + 1), select=select, replace=True)

    def reload(self, *, select: str | None = None) -> None:
        """Read the loaded rows again (after a change), keeping the cursor on ``select``."""
        if self._source is not None:
            self.load(
                self._source,
                at_least=max(self.row_count - 1, 0),
                select=select or self._selecting or self.selected_key,
            )

    def jump(self, index: int, key: str) -> None:
        """Put the cursor on row ``index`` (key ``key``), reading up to it if needed."""
        if index < self.row_count:
            self.move_cursor(row=index)
        elif self._source is not None:
            self._fetch(self.row_count, index - self.row_count + self.page_size, select=key)

    def action_scroll_bottom(self) -> None:
        if self.row_count < self.total and self._source is not None:
            self._to_end = True
            self._fetch(self.row_count, self.total - self.row_count, select=None)
        else:
            super().action_scroll_bottom()

    def _fetch(self, offset: int, limit: int, *, select: str | None, replace: bool = False) -> None:
        source, generation = self._source, self._generation
        assert source is not None
        self.fetching = True

        def read() -> None:
            try:
                rows, total = source(offset, limit)
                message = PageLoaded(generation, offset, rows, total, select, replace)
            except HotlineError as exc:
                message = PageLoaded(generation, offset, [], 0, None, replace, str(exc))
            if not get_current_worker().is_cancelled:
                self.post_message(message)

        self.run_worker(read, thread=True, group="page", exclusive=replace)

    def on_page_loaded(self, message: PageLoaded) -> None:
        if message.generation != self._generation:
            message.stop()  # a newer load replaced this one
            return
        self.fetching = False
        select = message.select
        if message.replace:
            self._selecting = None
            if self.selected_key != self._cursor_asked:
                select = self.selected_key  # the user moved meanwhile: that move stands
        if message.error:
            return  # the pane shows the reason
        rows = list(message.rows)
        if message.replace and message.total == self.total and self._in_place(rows):
            self.shown = message.generation
            self._add_rows([], select)  # the same rows: only the cursor may move
            return
        if message.replace:
            self.clear()
            self._rows = []
        elif message.offset != self.row_count:
            message.stop()  # a duplicate request for rows already here
            return
        self.total, self.shown = message.total, message.generation
        # A screenful (up to the row to select) first, the rest after that frame is drawn:
        # the table measures every new cell before drawing, so fewer rows show sooner.
        keys = [key for key, _ in rows]
        upto = keys.index(select) + 1 if select in keys else 0
        first = max(FIRST_DRAW, upto + FIRST_DRAW // 2)
        self._add_rows(rows[:first], select)
        if len(rows) > first:
            self.fetching = True  # no next page until these rows are in
            after = (self._generation, self.row_count)
            self.call_after_refresh(self._add_rest, after, rows[first:])
        else:
            self._all_in()

    def _holds(self, rows: list[TableRow]) -> bool:
        """The table shows exactly ``rows`` (all of them loaded, none changed in place)."""
        return (
            self._rows is not None
            and len(self._rows) == self.row_count
            and self._rows == [(key, tuple(cells)) for key, cells in rows]
        )

    def _in_place(self, rows: list[TableRow]) -> bool:
        """The table shows ``rows`` now: it held them already, or the same rows whose changed
        cells were updated where they are (False: the rows must be added again)."""
        if self._holds(rows):
            return True
        if self._rows is not None and len(self._rows) != self.row_count:
            return False  # the rest of a page is still to come
        if not self.update_rows(rows):
            return False
        self._rows = [(key, tuple(cells)) for key, cells in rows]
        return True

    def _add_rows(self, rows: list[TableRow], select: str | None) -> None:
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if self._rows is not None:
            self._rows.extend((key, tuple(cells)) for key, cells in rows)
        if select is not None:
            # The row may be gone (filtered out): then the cursor stays where it is.
            with contextlib.suppress(RowDoesNotExist):
                self.move_cursor(row=self.get_row_index(select))

    def _add_rest(self, after: tuple[int, int], rows: list[TableRow]) -> None:
        # Unless a newer load replaced the rows, or a jump's page already brought these.
        if after == (self._generation, self.row_count):
            self._add_rows(rows, None)
            self._all_in()

    def _all_in(self) -> None:
        self.fetching = False
        if self._to_end:
            self._to_end = False
            self.move_cursor(row=self.row_count - 1)
        if not self.is_on_screen:  # a tab read ahead of use: ready its first screen meanwhile
            self.read_rows_ahead(FIRST_DRAW)

    def update_cell(self, *args: Any, **kwargs: Any) -> None:
        self._rows = None  # the table no longer shows the rows as read
        super().update_cell(*args, **kwargs)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        near_end = event.cursor_row >= self.row_count - max(self.page_size // 4, 1)
        if near_end and self.row_count < self.total and not self.fetching and self._source:
            self._fetch(self.row_count, self.page_size, select=None)
