"""``HotlinePane``: what every tab of the app shares — a station, workers for reads and
changes, a filter line, and the list of its actions for the footer and the command palette.

A tab is one subclass in its own module under ``tui/screens/`` with a ``LABEL`` (Chinese
tab title), a ``PANE_ID``, ``BINDINGS`` whose descriptions are its actions, its widgets in
``compose_tab`` (built after launch, while the app is idle, or when first shown if that
comes first), their setup in ``tab_built``, and optionally ``preload`` to read its rows
while still hidden; adding it to ``tui.app.PANES`` is the one line that puts it in the app.

What the row under the cursor allows decides which actions are offered: a tab says in
``why_not(action)`` why an action does not apply (in Chinese), and such an action leaves
the footer and the command palette; its key, pressed anyway, says why in the status bar
instead of opening a form that would be refused once filled. Changes go through
``change``/``run_change`` (``tui.changes``): a form stays open until its change is done,
a domain question (``NeedsConfirmation``) is asked and the change repeated on yes.

A tab names the tables its rows come from in ``TABLES``; when another desk or a worker
changes one (``station_changed``), the tab reads itself again if it is on screen (under a
dialog too: the dialog keeps its input and the focus), else when it is next shown. A
burst of changes (a job's progress) is one read per ``FOLLOW_EVERY`` at most, and a read
just done (after this desk's own change) counts, so the echo of the desk's own write is
one quiet re-read that finds the rows as they are and leaves them and the cursor alone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlmodel import Session
from textual import events
from textual.actions import parse
from textual.app import ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Input, TabPane

from hotline.errors import HotlineError, NeedsConfirmation
from hotline.station import Station
from tui.changes import Change, Form, Outcome, describe, failure_line
from tui.dialogs.confirm import ConfirmDialog
from tui.guard import Guarded
from tui.messages import ChangeDone, ChangeRefused, PageLoaded
from tui.widgets.paged_table import PagedTable

if TYPE_CHECKING:
    from tui.app import HotlineApp


NOT_DONE = "未执行：选择了“否”"
FOLLOW_EVERY = 0.5
"""Seconds between two reads of a tab for changes made elsewhere (a burst is one read)."""


class HotlinePane(Guarded, TabPane):
    """A tab of the producers' desk. Subclasses set ``LABEL``, ``PANE_ID`` and ``BINDINGS``."""

    LABEL: ClassVar[str] = ""
    PANE_ID: ClassVar[str] = ""
    TABLES: ClassVar[frozenset[str]] = frozenset()
    """The tables the tab shows rows of: a change to one elsewhere reads it again."""

    def __init__(self, *, key: str = "") -> None:
        title = f"{key} {self.LABEL}" if key else self.LABEL
        super().__init__(title, id=self.PANE_ID)
        self.built = True
        """False until the tab's widgets are asked for: the app builds the other tabs later."""
        self._building = asyncio.Lock()
        self.read_ahead = False
        """Its rows were read by ``preload``, before it was shown: read again when shown."""
        self.loaded = False
        """Its rows were read (or asked for) at least once."""
        self.stale = False
        """The station changed what it shows since it last read it: read again when shown."""
        self._read_at = float("-inf")
        self._follow_timer: Timer | None = None

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
        """This tab's actions that apply now (bindings with a description), for the palette."""
        return [
            b
            for b in self._bindings_list()
            if b.description and self.why_not(*_action_and_parameters(b.action)) is None
        ]

    def _bindings_list(self) -> list[Binding]:
        return [b for b in self.BINDINGS if isinstance(b, Binding)]

    # ------------------------------------------------------------ what the row allows

    def why_not(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        """Why ``action`` does not apply to the row under the cursor now (None: it does).

        Subclasses answer for their own actions, in Chinese, for the status bar.
        """
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.why_not(action, parameters) is None

    def state_changed(self) -> None:
        """The row under the cursor (or what it allows) changed: offer the right keys."""
        self.refresh_bindings()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.state_changed()

    def on_key(self, event: events.Key) -> None:
        # A key of this tab none of whose actions applies to the row: say why, do nothing.
        # (A key may carry two actions, one for each state of the row: ``m`` shows or hides.)
        reasons = [
            self.why_not(*_action_and_parameters(binding.action))
            for binding in self._bindings_list()
            if event.key in binding.key.split(",")
        ]
        if reasons and None not in reasons:
            event.stop()
            self.hotline.report(reasons[0] or "", error=True)

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

    # ------------------------------------------------------------ changes made elsewhere

    def station_changed(self, tables: frozenset[str]) -> None:
        """The station changed ``tables`` (none named: any): read again if they are ours."""
        if not self.TABLES or not self.loaded or (tables and not tables & self.TABLES):
            return
        self.stale = True
        if self.showing:
            self.follow()

    @property
    def showing(self) -> bool:
        """The tab is the one shown (a dialog may be on top of it)."""
        return self.hotline.tabs.active == self.id

    def follow(self) -> None:
        """Read the tab again for changes made elsewhere: now, or once ``FOLLOW_EVERY``
        has passed since its last read."""
        if self._follow_timer is not None:
            return  # a read is due already: it will see this change too
        wait = self._read_at + FOLLOW_EVERY - time.monotonic()
        if wait > 0:
            self._follow_timer = self.set_timer(wait, self._follow_now)
        else:
            self._follow_now()

    def _follow_now(self) -> None:
        self._follow_timer = None
        if self.stale and self.showing:  # (hidden meanwhile: read when shown again)
            self.stale = False
            self._read_at = time.monotonic()
            self.reload()

    def count_text(self) -> str:
        """The size of the tab's main list for the status bar."""
        tables = self.query(PagedTable)
        if not tables:
            return ""
        table = tables.first()
        return f"已载入 {table.row_count} / 共 {table.total} 条"

    # ------------------------------------------------------------ database work off the UI thread

    def change(
        self,
        work: Callable[..., Outcome],
        *,
        select: str | None = None,
        form: Form | None = None,
        own_transactions: bool = False,
    ) -> None:
        """Run ``work`` (one domain change) in one transaction in a thread worker.

        ``work(session)`` returns what it did, in words (or words and the row key to
        select); a ``HotlineError`` rolls the transaction back and is reported as the
        refusal, in the desk's words (``describe``). ``form``, if given, stays open until
        the change is done (see ``tui.changes``). ``own_transactions``: ``work`` opens
        its own (a publish does) and is given no session.
        """
        self.run_change(Change(work, select, form, own_transactions=own_transactions))

    def run_change(self, change: Change) -> None:
        """Run ``change`` in a thread worker; its outcome comes back as a message."""
        station = self.station

        def run() -> None:
            try:
                if change.own_transactions:
                    text, chosen = change.run(None)
                else:
                    with station.session() as session:
                        text, chosen = change.run(session)
            except HotlineError as exc:
                self.post_message(ChangeRefused(describe(exc), exc, change))
            except Exception as exc:  # a bug, the disk, the database: logged, one line
                line = failure_line(exc, where=station.where, context=f"desk: {self.LABEL}")
                self.post_message(ChangeRefused(line, exc, change))
            else:
                self.post_message(ChangeDone(text, chosen, change))

        self.run_worker(run, thread=True, group="change")

    def read(
        self,
        work: Callable[[Session], Any],
        then: Callable[[Any], None],
        *,
        form: Form | None = None,
    ) -> None:
        """Run a read in a thread worker and hand its result to ``then`` on the UI thread.

        A refusal goes to the status bar, and to ``form`` (which stays open) if given.
        """
        station = self.station

        def refuse(text: str, exc: BaseException) -> None:
            self.post_message(ChangeRefused(text, exc))
            if form is not None:
                self.app.call_from_thread(form.refused, exc, text)

        def run() -> None:
            try:
                with station.session() as session:
                    result = work(session)
            except HotlineError as exc:
                refuse(describe(exc), exc)
            except Exception as exc:
                refuse(
                    failure_line(exc, where=station.where, context=f"desk: {self.LABEL}"),
                    exc,
                )
            else:
                self.app.call_from_thread(then, result)

        self.run_worker(run, thread=True, group="read")

    def on_change_done(self, message: ChangeDone) -> None:
        # Said here, not when the message has bubbled up to the app: the status line and
        # the closing form then reach the screen in the same frame.
        message.stop()
        self.hotline.outcome(message)
        change = message.change
        if isinstance(change, Change) and change.form is not None:
            change.form.saved()
        self._read_at = time.monotonic()  # the echo of this change need not be read at once
        self.reload(message.select)

    def on_change_refused(self, message: ChangeRefused) -> None:
        message.stop()
        change, error = message.change, message.error
        if not isinstance(change, Change):
            self.hotline.outcome(message)  # a read
            return
        if isinstance(error, NeedsConfirmation) and change.confirmable and not change.confirmed:
            form = change.form  # a question, not a refusal

            def declined() -> None:
                if form is not None:
                    form.refused(None, NOT_DONE)

            self.confirm(describe(error), lambda: self.run_change(change.approved()), declined)
            return
        self.hotline.outcome(message)
        if change.form is not None:
            change.form.refused(error, message.text)

    def confirm(
        self,
        question: str,
        then: Callable[[], object],
        otherwise: Callable[[], object] | None = None,
        *,
        yes: str = "是",
    ) -> None:
        """Ask ``question`` (the whole text, in a dialog); run ``then`` on yes."""

        def answered(approved: bool | None) -> None:
            if approved:
                then()
                return
            self.hotline.report(NOT_DONE)
            if otherwise is not None:
                otherwise()

        self.app.push_screen(ConfirmDialog(question, yes=yes), answered)

    def on_page_loaded(self, message: PageLoaded) -> None:
        if message.error:
            self.post_message(ChangeRefused(message.error))
        self.hotline.show_count(self.count_text(), pane=self)
        self.state_changed()

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


def _action_and_parameters(action: str) -> tuple[str, tuple[object, ...]]:
    """``"move('confirm')"`` → ``("move", ("confirm",))`` (a binding's action string)."""
    _, name, parameters = parse(action)
    return name, parameters
