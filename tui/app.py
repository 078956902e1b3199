"""The producers' desk: ``make_app(station)`` builds the Textual app the CLI and tests run.

The app is a shell: a header, one tab per module in ``PANES`` (each a ``HotlinePane``
from ``tui/screens/``), a status bar and the footer. Adding a tab is one module and one
line in ``PANES``. Launch builds only the first tab. Once its rows are drawn, the other
tabs are built while hidden, one at a time with a pause between (keys are handled in
between), and those whose rows are a quick read read them: pressing a tab's key, even
the first time, then only shows it. A tab shown before its turn is built at once.

Under the tabs, a status bar says what the last action did and to which row (in red when
it was refused, in the domain's Chinese words); the key footer is below it and never
covers it. Keys: the footer shows the current tab's (those that apply to the row under
the cursor); ``ctrl+p`` lists them all; the README's key table is written from the
bindings (``scripts/readme_keys.py``).

The desk follows the station: once its first rows are in, one long-lived thread worker
watches it (``tui.follow``), and each change another desk, a worker or this desk commits
reaches every tab as a ``StationChanged``; the tab on screen reads itself again if it
shows a changed table, the others when next shown (``HotlinePane.station_changed``).

An unexpected exception, in a handler, a screen or a worker, does not end the desk: its
traceback goes to the station's log (``hotline.logs``) and an error toast names the log.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.screen import ModalScreen
from textual.widgets import Header, TabbedContent
from textual.worker import Worker, WorkerFailed, get_current_worker

from hotline.errors import HotlineError
from hotline.station import Station
from hotline.timeutil import utcnow
from tui.changes import failure_line
from tui.collector import CollectorPause
from tui.commands import HotlineCommands
from tui.follow import follow
from tui.guard import Guarded
from tui.keys import Key
from tui.messages import (
    ChangeDone,
    ChangeRefused,
    FollowFailed,
    FollowRecovered,
    PageLoaded,
    StationChanged,
)
from tui.screens.base import HotlinePane
from tui.shown import one_line
from tui.widgets.key_footer import KeyFooter
from tui.widgets.status_bar import StatusBar

RECOVERED = "数据库已恢复：工作台照常使用"
"""Said when the station answers again after a failure the desk reported."""

PANES: tuple[str, ...] = (
    "tui.screens.schedule:SchedulePane",
    "tui.screens.members:MembersPane",
    "tui.screens.questions:QuestionsPane",
    "tui.screens.live_desk:LiveDeskPane",
    "tui.screens.pipeline:PipelinePane",
    "tui.screens.search:SearchPane",
    "tui.screens.publish:PublishPane",
    "tui.screens.referrals:ReferralsPane",
)
"""The tabs, in order (keys 1, 2, 3, …): ``module:class`` of a ``HotlinePane``."""

Clock = Callable[[], datetime]
TAB_KEYS_DOC = (
    "switch tab: 1 排期 2 嘉宾 3 听众 4 直播台 5 制作 6 检索 7 发布 8 转办"
    " (in a text field these keys type: Esc first)"
)

FOLLOW_GROUP = "follow"
"""The worker group of the thread that watches the station for changes (lives with the app)."""
BUILD_AHEAD_PAUSE = 0.05
"""Seconds between building one hidden tab and the next: keys pressed meanwhile go first."""


def pane_classes(paths: tuple[str, ...] = PANES) -> list[type[HotlinePane]]:
    """Import the pane classes named in ``paths``."""
    classes = []
    for path in paths:
        module, _, name = path.partition(":")
        classes.append(getattr(importlib.import_module(module), name))
    return classes


class HotlineApp(Guarded, App[None]):
    """政协热线 producers' desk."""

    CSS_PATH = "app.tcss"
    TITLE = "政协热线"
    SUB_TITLE = "制作台"
    COMMANDS: ClassVar[set[Any]] = App.COMMANDS | {HotlineCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Key("q", "quit", "退出", show=False, doc="quit (also `ctrl+q`, even in a text field)"),
        Key(
            "ctrl+p",
            "command_palette",
            "命令",
            show=False,
            priority=True,
            doc="command palette: every action of the app and of this tab that applies now",
        ),
        *(
            Key(str(n), f"show_tab({n - 1})", f"切换到第{n}个标签", show=False, doc=TAB_KEYS_DOC)
            for n in range(1, len(PANES) + 1)
        ),
        Key(
            "h",
            "history",
            "修改记录",
            show=False,
            doc="history of the row under the cursor: who changed what, when (修改记录)",
        ),
    ]

    def __init__(self, station: Station, *, clock: Clock = utcnow) -> None:
        super().__init__()
        self.station = station
        self.now = clock
        self.panes = pane_classes()
        self.sub_title = f"制作台 · {one_line(station.root.name)}"
        self._building_ahead = False
        self._collector = CollectorPause()
        self._status_bar: StatusBar | None = None
        self._follower: Worker[None] | None = None
        self._tab_panes: list[HotlinePane] = []
        self.failures: list[BaseException] = []
        """Unexpected exceptions caught while the desk ran (each logged and toasted)."""
        self._failure_shown: str | None = None
        """The failure last toasted, until the station answers again (not toasted twice)."""

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="tabs"):
            for n, pane_class in enumerate(self.panes, start=1):
                pane = pane_class(key=str(n))
                pane.built = n == 1  # the others are built when first shown
                yield pane
        yield StatusBar()
        yield KeyFooter()

    def on_load(self) -> None:
        # Starting allocates a few hundred thousand objects (styles, widgets, the first rows)
        # and nearly none is garbage: collect once the first screen is drawn, not every 700
        # allocations on the way (see tui.collector; hotline.console does so for the CLI).
        self._collector.hold()

    def on_mount(self) -> None:
        # Everything built so far (modules, styles, widgets) lives as long as the app: keep it
        # out of the garbage collector's full passes, which otherwise walk it all and stall
        # a tab switch for a fifth of a second every few switches.
        gc.freeze()
        self._tab_panes = list(self.query(HotlinePane))
        self.active_pane.activated()

    def on_unmount(self) -> None:
        if self._follower is not None:
            self._follower.cancel()  # its loop sees this within one wait and closes the watch
        self._collector.release()  # a frame that never came must not leave collection off
        gc.unfreeze()

    # ------------------------------------------------------------ following the station

    def _follow(self) -> None:
        """The follower's loop (a thread worker): each change becomes a ``StationChanged``."""
        follow(
            self.station,
            post=lambda tables: self.post_message(StationChanged(tables)),
            fail=lambda exc: self.post_message(FollowFailed(exc)),
            stopped=get_current_worker().cancelled_event,
            recovered=lambda: self.post_message(FollowRecovered()),
        )

    def on_station_changed(self, message: StationChanged) -> None:
        for pane in self._tab_panes:
            pane.station_changed(message.tables)

    def on_follow_failed(self, message: FollowFailed) -> None:
        self.failed(message.error, context="desk: 同步")

    def on_follow_recovered(self, _message: FollowRecovered) -> None:
        # The outage's red line would stay until the next action: say it is over instead.
        if self._failure_shown is not None:
            self._failure_shown = None
            self.report(RECOVERED)
            self.notify(RECOVERED, title="已恢复", markup=False, timeout=6)

    # ------------------------------------------------------------ tabs

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#tabs", TabbedContent)

    @property
    def active_pane(self) -> HotlinePane:
        pane = self.tabs.active_pane
        assert isinstance(pane, HotlinePane)
        return pane

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Tab and history keys belong to the desk, not to a dialog on top of it.
        return not (action in ("show_tab", "history") and isinstance(self.screen, ModalScreen))

    async def action_show_tab(self, index: int) -> None:
        if 0 <= index < len(self.panes) and self.tabs.active != self.panes[index].PANE_ID:
            pane = self.query_one(f"#{self.panes[index].PANE_ID}", HotlinePane)
            self.collect_after_frame()
            await pane.build()  # the first time: its widgets, mounted while still hidden
            # Show the new tab and focus it in the same frame: one restyle and one footer
            # update instead of one for dropping the focus and another for taking it.
            self.tabs.active = pane.PANE_ID
            pane.focus_now()

    def action_history(self) -> None:
        """Who changed the row under the cursor, and what (any tab with such rows)."""
        from tui.dialogs.history_dialog import open_history

        open_history(self.active_pane)

    def collect_after_frame(self) -> None:
        """Hold garbage collection back until the next frame is drawn (see tui.collector)."""
        if self._collector.hold():
            self.call_after_refresh(self._collector.release)

    async def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        pane = event.pane
        if isinstance(pane, HotlinePane):
            self.report("")  # the last tab's outcome is not about this one
            if not pane.ready:  # chosen with the mouse before it was built
                await pane.build()
                pane.focus_main()
            pane.activated()
            if pane.read_ahead:  # its rows were read while hidden: read them again, drawn
                pane.read_ahead = False
                pane.stale = False
                self.call_after_refresh(pane.reload)
            elif pane.stale:  # the station changed while it was hidden
                pane.follow()
            self.show_count(pane.count_text())

    # ------------------------------------------------------------ building tabs ahead of use

    def on_page_loaded(self, message: PageLoaded) -> None:
        # The first tab's first rows are in (and drawn by the next refresh): the desk is up,
        # build the other tabs while the producer reads it.
        if not self._building_ahead:
            self._building_ahead = True
            self.call_after_refresh(self._collector.release)  # held since the desk started
            self.call_after_refresh(self.run_worker, self.build_tabs_ahead, group="build-ahead")
            # Follow the station from now on (once open, the watch has the tab read again for
            # what was committed between its first read and then).
            self._follower = self.run_worker(self._follow, thread=True, group=FOLLOW_GROUP)

    async def build_tabs_ahead(self) -> None:
        """Build each tab not built yet, hidden, and start its read (an async worker)."""
        for pane in list(self.query(HotlinePane)):
            if pane.built:
                continue  # shown already
            await asyncio.sleep(BUILD_AHEAD_PAUSE)  # keys pressed meanwhile go first
            await pane.build()
            if pane is not self.active_pane:  # (unless it was shown while being built)
                pane.preload()
        gc.freeze()  # as in on_mount: the tabs live as long as the app

    def palette_actions(self) -> Iterator[tuple[str, str, str, Any]]:
        """(title, key, action, namespace) for every action the palette offers."""
        for n, pane in enumerate(self.panes, start=1):
            yield f"切换到 {pane.LABEL}", str(n), f"show_tab({n - 1})", self
        active = self.active_pane
        for binding in active.actions():
            key = "/" if binding.key == "slash" else binding.key
            yield f"{active.LABEL}：{binding.description}", key, binding.action, active
        yield "修改记录（光标所在行）", "h", "history", self
        yield "退出", "q", "quit", self

    # ------------------------------------------------------------ outcomes

    @property
    def status_bar(self) -> StatusBar | None:
        # The desk's own screen (a dialog may be on top); None while it is being built.
        # Looked up once: a query walks every tab's widgets, and each switch reports here.
        if self._status_bar is None or not self._status_bar.is_attached:
            found = self.screen_stack[0].query(StatusBar) if self.screen_stack else None
            self._status_bar = found.first() if found else None
        return self._status_bar

    def report(self, text: str, *, error: bool = False) -> None:
        """Show an outcome in the status bar: what was done, or in red why not."""
        if self.status_bar is not None:
            self.status_bar.say(text, error=error)

    def show_count(self, text: str, *, pane: HotlinePane | None = None) -> None:
        """Show a list's size in the status bar (from ``pane`` only while it is the one shown)."""
        if self.status_bar is not None and (pane is None or pane is self.active_pane):
            self.status_bar.count(text)

    def outcome(self, message: ChangeDone | ChangeRefused) -> None:
        """Say what a change did, or why it was refused (a failure gets a toast as well)."""
        if isinstance(message, ChangeDone):
            self.report(message.text)
            return
        self.report(message.text, error=True)
        if message.error is not None and not isinstance(message.error, HotlineError):
            # Not a refusal but a failure (already logged): a toast too, it names the log.
            self.failures.append(message.error)
            self._toast_failure(message.text)

    def on_change_done(self, message: ChangeDone) -> None:
        self.outcome(message)  # from a widget that is not a tab (the tabs say it themselves)

    def on_change_refused(self, message: ChangeRefused) -> None:
        self.outcome(message)

    # ------------------------------------------------------------ what must never end the desk

    def failed(self, exc: BaseException, *, context: str = "desk") -> None:
        """An unexpected exception: log its traceback, name the log in a toast and the
        status bar, and carry on."""
        self.failures.append(exc)
        line = failure_line(exc, where=self.station.where, context=context)
        self.report(line, error=True)
        self._toast_failure(line)

    def _toast_failure(self, line: str) -> None:
        # One outage fails the watch and every tab's read alike: one toast for it, not one
        # per reader, until the desk says it is over (on_follow_recovered).
        if line != self._failure_shown:
            self._failure_shown = line
            self.notify(line, title="出错了", severity="error", markup=False, timeout=15)

    def _handle_exception(self, error: Exception) -> None:
        # Textual's own handler ends the app on an exception in a worker or a timer (the
        # desk's widgets catch their handlers' own: tui.guard). The desk logs it, says
        # where, and goes on: one broken action must not close a producer's desk minutes
        # before air. Before the desk is up there is no desk to go on with.
        cause = error.error if isinstance(error, WorkerFailed) else error
        if not self.is_running or self._exit_renderables or not self.screen_stack:
            super()._handle_exception(error)
            return
        try:
            self.failed(cause)
        except Exception:  # the screen itself is broken: Textual's handler, then
            super()._handle_exception(error)


def make_app(station: Station, *, clock: Clock = utcnow) -> HotlineApp:
    """The desk for ``station``; ``clock`` returns the current UTC time (tests pass their own)."""
    return HotlineApp(station, clock=clock)
