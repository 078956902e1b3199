"""``HotlinePane``: what every tab of the app shares — a station, workers for reads and
changes, a filter line, and the list of its actions for the footer and the command palette.

A tab is one subclass in its own module under ``tui/screens/`` with a ``LABEL`` (Chinese
tab title), a ``PANE_ID``, ``BINDINGS`` whose descriptions are its actions, its widgets in
``compose_tab`` (built after launch, while the app is idle, or when first shown if that
comes first), their setup in ``tab_built``, and optionally ``preload`` to read its rows
while still hidden; adding it to ``tui.app.PANES`` is the one line that puts it in the app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlmodel import Session
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Input, TabPane

from hotline.errors import HotlineError
from hotline.station import Station
from tui.messages import ChangeDone, ChangeRefused, PageLoaded
from tui.widgets.paged_table import PagedTable

if TYPE_CHECKING:
    from tui.app import HotlineApp


class HotlinePane(TabPane):
    """A tab of the producers' desk. Subclasses set ``LABEL``, ``PANE_ID`` and ``BINDINGS``."""

    LABEL: ClassVar[str] = ""
    PANE_ID: ClassVar[str] = ""

    def __init__(self, *, key: str = "") -> None:
        title = f"{key} {self.LABEL}" if key else self.LABEL
        super().__init__(title, id=self.PANE_ID)
        self.built = True
        """False until the tab's widgets are asked for: the app builds the other tabs later."""
        self._building = asyncio.Lock()
        self.read_ahead = False
        """Its rows were read by ``preload``, before it was shown: read again when shown."""

    # ------------------------------------------------------------ building on first show

    def compose(self) -> ComposeResult:
        # A tab not yet shown is an empty pane: launching builds one tab, not seven, and
        # Textual restyles and lays out only the tabs a producer has opened.
        if self.built:
            yield from self.compose_tab()

    def compose_tab(self) -> ComposeResult:
        """The tab's widgets (subclasses)."""
        yield from ()

    def tab_built(self) -> None:
        """Called once the tab's widgets are mounted (subclasses: columns, timers)."""

    def on_mount(self) -> None:
        if self.built:
            self.tab_built()

    async def build(self) -> None:
        """Mount the tab's widgets if it has none yet; returns once they are mounted."""
        async with self._building:  # a build already under way (ahead of use) finishes first
            if not self.built:
                self.built = True
                await self.recompose()
                self.tab_built()

    @property
    def ready(self) -> bool:
        """The tab's widgets are mounted (built, and not still being built)."""
        return self.built and not self._building.locked()

    # ------------------------------------------------------------ shared facts

    @property
    def hotline(self) -> HotlineApp:
        return self.app  # type: ignore[return-value]

    @property
    def station(self) -> Station:
        return self.hotline.station

    def now(self) -> datetime:
        return self.hotline.now()

    def actions(self) -> list[Binding]:
        """This tab's actions (the bindings with a description), for the command palette."""
        return [b for b in self._bindings_list() if b.description]

    def _bindings_list(self) -> list[Binding]:
        return [b for b in self.BINDINGS if isinstance(b, Binding)]

    # ------------------------------------------------------------ the tab's life

    def activated(self) -> None:
        """Called when the tab is chosen: subclasses start loading their rows here."""

    def preload(self) -> None:
        """Called once the tab is built ahead of use, still hidden (subclasses).

        A tab whose rows are one quick read starts it here and sets ``read_ahead``, so that
        its first showing has rows to draw at once; the app reads them again (``reload``)
        once that showing is drawn, so the tab ends up as fresh as if read then.
        """

    def on_show(self) -> None:
        # Focus once the pane is laid out: a widget in a hidden pane cannot take it.
        self.call_after_refresh(self._focus_if_shown)

    def _focus_if_shown(self) -> None:
        # Unless another tab was chosen meanwhile (a key pressed while the desk starts): the
        # keyboard stays there, and focusing this tab's table would bring this tab back.
        if self.hotline.tabs.active == self.id:
            self.focus_now()

    def main_widget(self) -> Widget | None:
        """The widget the keyboard goes to when the tab is shown (its first table)."""
        tables = self.query(PagedTable)
        return tables.first() if tables else None

    def focus_now(self) -> None:
        """Focus the main widget at once, in the frame that shows the tab (not deferred)."""
        widget = self.main_widget()
        if widget is not None:
            self.screen.set_focus(widget)

    def focus_main(self) -> None:
        """Put the keyboard on the tab's main widget."""
        widget = self.main_widget()
        if widget is not None:
            widget.focus()

    def reload(self, select: str | None = None) -> None:
        """Read the tab's lists again after a change (subclasses)."""

    def count_text(self) -> str:
        """The size of the tab's main list for the status bar."""
        tables = self.query(PagedTable)
        if not tables:
            return ""
        table = tables.first()
        return f"已载入 {table.row_count} / 共 {table.total} 条"

    # ------------------------------------------------------------ database work off the UI thread

    def change(
        self, work: Callable[[Session], str | tuple[str, str]], *, select: str | None = None
    ) -> None:
        """Run ``work`` (one domain change) in one transaction in a thread worker.

        ``work`` returns what it did, in words (or words and the row key to select); a
        ``HotlineError`` rolls the transaction back and its message is reported as the
        refusal, exactly as the CLI prints it.
        """
        station = self.station

        def run() -> None:
            try:
                with station.session() as session:
                    done = work(session)
            except HotlineError as exc:
                self.post_message(ChangeRefused(str(exc)))
            else:
                text, chosen = done if isinstance(done, tuple) else (done, select)
                self.post_message(ChangeDone(text, chosen))

        self.run_worker(run, thread=True, group="change")

    def read(self, work: Callable[[Session], Any], then: Callable[[Any], None]) -> None:
        """Run a read in a thread worker and hand its result to ``then`` on the UI thread."""
        station = self.station

        def run() -> None:
            try:
                with station.session() as session:
                    result = work(session)
            except HotlineError as exc:
                self.post_message(ChangeRefused(str(exc)))
            else:
                self.app.call_from_thread(then, result)

        self.run_worker(run, thread=True, group="read")

    def on_change_done(self, message: ChangeDone) -> None:
        self.reload(message.select)  # the message bubbles on to the app's status bar

    def on_page_loaded(self, message: PageLoaded) -> None:
        if message.error:
            self.post_message(ChangeRefused(message.error))
        self.hotline.show_count(self.count_text(), pane=self)

    # ------------------------------------------------------------ keys every tab shares

    def focus_filter(self) -> None:
        filters = self.query("Input.filter")
        if filters:
            filters.first().focus()

    def action_filter(self) -> None:
        self.focus_filter()

    def action_back_to_table(self) -> None:
        self.focus_main()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.has_class("filter"):
            self.focus_main()


def cursor_key(table: DataTable) -> str | None:
    """The row key under ``table``'s cursor, or None for an empty table."""
    if table.row_count == 0:
        return None
    return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
