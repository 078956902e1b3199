"""``DeskTable``: every table of the desk — cells shown as text, columns fitted to the width.

- **Text, never markup.** A cell's value is drawn as typed: DataTable would read a string
  as Rich markup (a title ``[/]`` raised ``MarkupError``; ``[bold red]`` restyled the row).
  Control characters are shown as pictures (``tui.shown``).
- **Columns by display width.** Each column is as wide as its widest value (CJK characters
  take two cells) when the table has room. When it has not, the widest columns give way
  first, down to a floor, and a value that does not fit ends with "…", never cut without a
  sign; the tab shows the whole value for the row under the cursor. Columns marked
  ``keep`` (numbers, dates, statuses) give way only when nothing else can. Widths are
  worked out from the table's own width once it has one, so a resize while the tab is
  hidden never squeezes the columns.
- **Rows read again stay put.** ``show_rows`` puts a list read again (after a change at
  this desk or another) in place: cells that changed are updated where they are, so a
  re-read that changed nothing draws nothing and the cursor and the scroll stay where the
  producer left them; only a list whose rows come and go is rebuilt, cursor on its row.
- **Keys.** j/k (and the arrows) move, g/G go to the first/last row, PgUp/PgDn a page,
  Enter opens the row, in every table.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.console import RenderableType
from rich.text import Text
from textual import events
from textual.binding import BindingType
from textual.coordinate import Coordinate
from textual.widgets._data_table import RowRenderables
from textual.widgets.data_table import RowDoesNotExist

from tui.guard import Guarded
from tui.keys import Key
from tui.shown import lines, one_line
from tui.widgets.steady_table import SteadyTable

MOVE_DOC = "move in a table"
PAGE_DOC = "a page down / up (more rows load as you go)"
ENDS_DOC = "first / last row (`G` on a long list reads the rest of it first)"
OPEN_DOC = "open the row (排期: edit the episode; 检索: the transcript around the hit)"
FLOOR = 4
"""The narrowest a column is squeezed to (the ellipsis and a character or two)."""
_EMPTY = Text("", end="")
Row = tuple[str, Sequence[Any]]
"""A row to show: its key and its cells (``tui.messages.TableRow``)."""


@dataclass(frozen=True)
class Col:
    """One column: its label, and whether it keeps its width when the table is narrow."""

    label: str
    keep: bool = False
    """Numbers, dates and statuses: shrunk only when the other columns are at their floor."""
    width: int | None = None
    """A fixed width in cells (None: as wide as the widest value)."""
    wrap: bool = False
    """Rows as tall as this column's text needs (added with ``height=None``)."""
    floor: int | None = None
    """Cells it keeps however narrow the table (None: ``FLOOR`` or its label's width): the
    column a row is about (a question's text) stays readable at 80 columns."""


def cell_text(value: object, *, wrap: bool = False) -> RenderableType:
    """What a cell shows for ``value``: plain text (a given ``Text`` as it is)."""
    if isinstance(value, Text):
        if not wrap:
            value.no_wrap, value.overflow = True, "ellipsis"
        return value
    if value is None:
        return _EMPTY
    if wrap:
        return Text(lines(value), end="", overflow="fold")
    return Text(one_line(value), no_wrap=True, overflow="ellipsis", end="")


def shrink(naturals: Sequence[int], floors: Sequence[int], room: int) -> list[int]:
    """Widths that fit ``room``: the widest give way first, none below its floor.

    Every width is ``min(natural, cap)`` for the largest cap that fits (raised to its
    floor); when even the floors do not fit, the floors.
    """
    if sum(naturals) <= room:
        return list(naturals)
    low, high = 0, max(naturals)
    while low < high:  # the largest cap whose widths fit
        cap = (low + high + 1) // 2
        if sum(max(f, min(n, cap)) for n, f in zip(naturals, floors, strict=True)) <= room:
            low = cap
        else:
            high = cap - 1
    return [max(f, min(n, low)) for n, f in zip(naturals, floors, strict=True)]


def fit_widths(cols: Sequence[Col], contents: Sequence[int], room: int) -> list[int]:
    """Column widths (without padding) for ``room`` cells, from each column's content width."""
    naturals = [
        c.width if c.width is not None else max(n, 1) for c, n in zip(cols, contents, strict=True)
    ]
    floors = [
        min(n, max(c.floor or FLOOR, cell_len(c.label)))
        for c, n in zip(cols, naturals, strict=True)
    ]
    free = [i for i, c in enumerate(cols) if not c.keep and c.width is None]
    kept = sum(n for i, n in enumerate(naturals) if i not in free)
    if free and kept + sum(floors[i] for i in free) <= room:
        widths = list(naturals)
        fitted = shrink([naturals[i] for i in free], [floors[i] for i in free], room - kept)
        for i, w in zip(free, fitted, strict=True):
            widths[i] = w
        return widths
    return shrink(naturals, floors, room)


class DeskTable(Guarded, SteadyTable):
    """A row-cursor table of plain-text cells whose columns fit its width."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # (DataTable binds the arrows, PgUp/PgDn and Enter too: listed for the README.)
        Key("j,down", "cursor_down", "下移", show=False, doc=MOVE_DOC),
        Key("k,up", "cursor_up", "上移", show=False, doc=MOVE_DOC),
        Key("pagedown", "page_down", "下一页", show=False, doc=PAGE_DOC),
        Key("pageup", "page_up", "上一页", show=False, doc=PAGE_DOC),
        Key("g", "scroll_top", "第一行", show=False, doc=ENDS_DOC),
        Key("G", "scroll_bottom", "最后一行", show=False, doc=ENDS_DOC),
        Key("enter", "select_cursor", "打开", show=False, doc=OPEN_DOC),
    ]

    def __init__(self, columns: Sequence[Col] = (), **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self.cols = list(columns)
        self._fitted_for: tuple[int, tuple[int, ...]] | None = None
        self._shown_height = 0

    def on_mount(self) -> None:
        for col in self.cols:
            self.add_column(Text(col.label), width=col.width)

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor, if there is one."""
        if self.row_count == 0:
            return None
        row = min(self.cursor_row, self.row_count - 1)
        return self.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value

    @property
    def wraps(self) -> bool:
        """Some column wraps: rows are added with ``height=None``."""
        return any(c.wrap for c in self.cols)

    def add_row(self, *cells: Any, height: int | None = 1, **kwargs: Any) -> Any:
        return super().add_row(*cells, height=None if self.wraps else height, **kwargs)

    # ------------------------------------------------------------ rows read again

    def row_keys(self) -> list[str]:
        """The rows' keys, top to bottom."""
        return [str(row.key.value) for row in self.ordered_rows]

    def show_rows(self, rows: Sequence[Row], select: str | None = None) -> None:
        """Show ``rows`` (key, cells), the cursor on ``select`` or else on the row it is on.

        The same rows in the same order are updated cell by cell where they differ (nothing
        at all when none does); otherwise the table is filled again.
        """
        keep = select or self.selected_key
        if not self.update_rows(rows):
            self.clear()
            for key, cells in rows:
                self.add_row(*cells, key=key)
        if keep is not None:
            # The row may be gone (or filtered out): then the cursor stays where it is.
            with contextlib.suppress(RowDoesNotExist):
                index = self.get_row_index(keep)
                if index != self.cursor_row:
                    self.move_cursor(row=index)

    def update_rows(self, rows: Sequence[Row]) -> bool:
        """Update the cells of ``rows`` in place, if the table holds exactly those rows in
        that order (and none wraps, whose height could change); False if it could not.

        When the row under the cursor changed, its ``RowHighlighted`` is posted again, so
        the tab's detail for it is written again too.
        """
        if self.wraps or [key for key, _ in rows] != self.row_keys():
            return False
        columns, current = self.ordered_columns, self.selected_key
        for key, cells in rows:
            old = self.get_row(key)
            changed = False
            for column, before, after in zip(columns, old, cells, strict=False):
                if before != after:
                    self.update_cell(key, column.key, after, update_width=True)
                    changed = True
            if changed and key == current:
                row_key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key
                self.post_message(self.RowHighlighted(self, self.cursor_row, row_key))
        return True

    # ------------------------------------------------------------ cells as text

    def _compute_row_renderables(self, row_index: int) -> RowRenderables:
        if row_index == -1:
            return super()._compute_row_renderables(row_index)
        row_key = self._row_locations.get_key(row_index)
        if row_key is None or row_key not in self.rows:
            return RowRenderables(None, [])
        values = self.get_row_at(row_index)
        wraps = [c.wrap for c in self.cols]
        cells = [
            cell_text(value, wrap=bool(wrap))
            for value, wrap, _ in zip_longest(values, wraps, range(len(self.columns)))
        ]
        return RowRenderables(None, cells)

    # ------------------------------------------------------------ columns fitted to the width

    def _update_dimensions(self, new_rows: Any) -> None:
        super()._update_dimensions(new_rows)  # measures the new rows' content widths
        self.fit_columns()

    def _on_resize(self, event: events.Resize) -> None:
        # (Textual calls each class's handler in turn: SteadyTable's runs after this one.)
        self.fit_columns()
        if self.row_count and event.size.height != self._shown_height:
            # Shorter now (the lines under it grew): keep the cursor's row in sight.
            self.call_after_refresh(self._scroll_cursor_into_view)
        self._shown_height = event.size.height

    def fit_columns(self) -> None:
        """Set each column's width for the table's width (nothing while it has none)."""
        width = self.size.width
        columns = self.ordered_columns
        if width <= 0 or not columns or len(columns) != len(self.cols):
            return
        room = width - self.styles.scrollbar_size_vertical - 2 * self.cell_padding * len(columns)
        contents = tuple(c.content_width for c in columns)
        if self._fitted_for == (room, contents):
            return
        self._fitted_for = (room, contents)
        widths = fit_widths(self.cols, contents, room)
        changed = False
        for column, new in zip(columns, widths, strict=True):
            if column.auto_width or column.width != new:
                column.auto_width, column.width = False, new
                changed = True
        if not changed:
            return
        # Drawn cells were cut for the old widths; what the cells show (their Text) stays.
        for cache in (self._cell_render_cache, self._row_render_cache, self._line_cache):
            cache.clear()
        self._require_update_dimensions = True
        if self.wraps:  # rows as tall as their text at the new width
            self._new_rows.update(self.rows)
        self.refresh()
