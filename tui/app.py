"""The producers' desk: ``make_app(station)`` builds the Textual app the CLI and tests run.

The app is a shell: a header, one tab per module in ``PANES`` (each a ``HotlinePane``
from ``tui/screens/``), a status bar and the footer. Adding a tab is one module and one
line in ``PANES``. Launch builds only the first tab. Once its rows are drawn, the other
tabs are built while hidden, one at a time with a pause between (keys are handled in
between), and those whose rows are a quick read read them: pressing a tab's key, even
the first time, then only shows it. A tab shown before its turn is built at once.

Keys (the footer shows the current tab's; ``ctrl+p`` lists every action):

=============  ===========================================================
Key            Action
=============  ===========================================================
1–8            switch tab: 1 排期 2 嘉宾 3 听众 4 直播台 5 制作 6 检索 7 发布 8 转办
ctrl+p         command palette: every action of the app and of this tab
h              who changed the row under the cursor, and what (修改记录)
q, ctrl+q      quit
j/k, ↑/↓       move in a table; PgUp/PgDn a page (more rows load as you go)
tab            next table or field
/              filter (type; Enter or Esc returns to the table)
Enter          open the row (排期: edit the episode)
**排期**
n              new episode (form checks as you type)
e              edit title, topic, hosts, air time, length, description
c              cancel the episode (asks first; open bookings are cancelled)
r              reschedule (new air time)
g              jump to an episode number
t              generate the next K weekly episodes
s              cycle the status filter
**嘉宾**
b              invite the member onto an episode (number, role)
y / d / x      confirm / decline / cancel the booking under the bookings cursor
a / o          mark appeared / no-show (after airing)
r              sector report (界别出场统计)
**听众**
n              log a question (shows possible duplicates as you type)
v              screen (审核)
a              assign to an episode
w              answered: member, time into the show (MM:SS), episode
f              refer (转办) to a department
c              resolve (办结; a referral closed early asks for the reason)
b              call the listener back (回访) after an answer
x              reject, with a reason
u              mark duplicate of another question
m              reveal / hide the listener's contact for this question
s              cycle the status filter
**直播台**
s              start the show clock for the episode on the desk
e              choose the episode on the desk (default: today's)
n              log a caller: name, district, one-line summary (waiting)
v              screen the caller under the cursor (审核)
o              on air: stamps the show-clock offset and records the question
d / x          end the call / drop the caller
**制作**
i              ingest a recording (file picker or path) for an episode
r              run the job queue in a worker (progress bars stay live)
o              run only the selected job
t / c          retry / cancel the selected job
l              the failed job's log
g              refresh the job list
**检索**
/              back to the search field (type to search; Enter to results)
Esc            from the field to the results; Enter opens the transcript there
**发布**
v              check every platform feed again (validation and problems)
p              publish (asks first): write public/ and each platform feed
**转办**
s              cycle the view: followed, overdue, due soon, all (with closed)
r              record the department's reply
b              call the listener back (回访): closes the question when reached
c              close the question early, with a reason
d              department report (转办统计)
=============  ===========================================================
"""

from __future__ import annotations

import asyncio
import gc
import importlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Header, TabbedContent

from hotline.station import Station
from hotline.timeutil import utcnow
from tui.collector import CollectorPause
from tui.commands import HotlineCommands
from tui.messages import ChangeDone, ChangeRefused, PageLoaded
from tui.screens.base import HotlinePane
from tui.widgets.key_footer import KeyFooter
from tui.widgets.status_bar import StatusBar

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

BUILD_AHEAD_PAUSE = 0.05
"""Seconds between building one hidden tab and the next: keys pressed meanwhile go first."""


def pane_classes(paths: tuple[str, ...] = PANES) -> list[type[HotlinePane]]:
    """Import the pane classes named in ``paths``."""
    classes = []
    for path in paths:
        module, _, name = path.partition(":")
        classes.append(getattr(importlib.import_module(module), name))
    return classes


class HotlineApp(App[None]):
    """政协热线 producers' desk."""

    CSS_PATH = "app.tcss"
    TITLE = "政协热线"
    SUB_TITLE = "制作台"
    COMMANDS: ClassVar[set[Any]] = App.COMMANDS | {HotlineCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "退出"),
        Binding("ctrl+p", "command_palette", "命令", show=False, priority=True),
        *(
            Binding(str(n), f"show_tab({n - 1})", f"切换到第{n}个标签", show=False)
            for n in range(1, len(PANES) + 1)
        ),
        Binding("h", "history", "修改记录", show=False),
    ]

    def __init__(self, station: Station, *, clock: Clock = utcnow) -> None:
        super().__init__()
        self.station = station
        self.now = clock
        self.panes = pane_classes()
        self.sub_title = f"制作台 · {station.root.name}"
        self._building_ahead = False
        self._collector = CollectorPause()
        self._status_bar: StatusBar | None = None

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
        self.active_pane.activated()

    def on_unmount(self) -> None:
        self._collector.release()  # a frame that never came must not leave collection off
        gc.unfreeze()

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
            if not pane.ready:  # chosen with the mouse before it was built
                await pane.build()
                pane.focus_main()
            pane.activated()
            if pane.read_ahead:  # its rows were read while hidden: read them again, drawn
                pane.read_ahead = False
                self.call_after_refresh(pane.reload)
            self.show_count(pane.count_text())

    # ------------------------------------------------------------ building tabs ahead of use

    def on_page_loaded(self, message: PageLoaded) -> None:
        # The first tab's first rows are in (and drawn by the next refresh): the desk is up,
        # build the other tabs while the producer reads it.
        if not self._building_ahead:
            self._building_ahead = True
            self.call_after_refresh(self._collector.release)  # held since the desk started
            self.call_after_refresh(self.run_worker, self.build_tabs_ahead, group="build-ahead")

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
        """Show an outcome in the status bar (and as a notification when refused)."""
        if self.status_bar is not None:
            self.status_bar.say(text, error=error)
        if error:
            self.notify(text, title="未执行", severity="error", markup=False)

    def show_count(self, text: str, *, pane: HotlinePane | None = None) -> None:
        """Show a list's size in the status bar (from ``pane`` only while it is the one shown)."""
        if self.status_bar is not None and (pane is None or pane is self.active_pane):
            self.status_bar.count(text)

    def on_change_done(self, message: ChangeDone) -> None:
        self.report(message.text)

    def on_change_refused(self, message: ChangeRefused) -> None:
        self.report(message.text, error=True)


def make_app(station: Station, *, clock: Clock = utcnow) -> HotlineApp:
    """The desk for ``station``; ``clock`` returns the current UTC time (tests pass their own)."""
    return HotlineApp(station, clock=clock)
