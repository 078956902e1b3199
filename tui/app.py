"""The producers' desk: ``make_app(station)`` builds the Textual app the CLI and tests run.

The app is a shell: a header, one tab per module in ``PANES`` (each a ``HotlinePane``
from ``tui/screens/``), a status bar and the footer. Adding a tab is one module and one
line in ``PANES``. Tabs load their rows lazily, in thread workers, the first time they
are shown.

Keys (the footer shows the current tab's; ``ctrl+p`` lists every action):

=============  ===========================================================
Key            Action
=============  ===========================================================
1–9            switch tab: 1 排期  2 嘉宾  3 听众  (4 直播台 5 制作 6 检索 7 发布)
ctrl+p         command palette: every action of the app and of this tab
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
c              resolve (办结)
x              reject, with a reason
u              mark duplicate of another question
m              reveal / hide the listener's contact for this question
s              cycle the status filter
=============  ===========================================================
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Footer, Header, TabbedContent

from hotline.station import Station
from hotline.timeutil import utcnow
from tui.commands import HotlineCommands
from tui.messages import ChangeDone, ChangeRefused
from tui.screens.base import HotlinePane
from tui.widgets.status_bar import StatusBar

PANES: tuple[str, ...] = (
    "tui.screens.schedule:SchedulePane",
    "tui.screens.members:MembersPane",
    "tui.screens.questions:QuestionsPane",
    "tui.screens.live_desk:LiveDeskPane",
    "tui.screens.pipeline:PipelinePane",
    "tui.screens.search:SearchPane",
    "tui.screens.publish:PublishPane",
)
"""The tabs, in order (keys 1, 2, 3, …): ``module:class`` of a ``HotlinePane``."""

Clock = Callable[[], datetime]


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
            for n in range(1, 8)
        ),
    ]

    def __init__(self, station: Station, *, clock: Clock = utcnow) -> None:
        super().__init__()
        self.station = station
        self.now = clock
        self.panes = pane_classes()
        self.sub_title = f"制作台 · {station.root.name}"

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="tabs"):
            for n, pane in enumerate(self.panes, start=1):
                yield pane(key=str(n))
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.active_pane.activated()

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
        # Tab keys belong to the desk, not to a dialog on top of it.
        return not (action == "show_tab" and isinstance(self.screen, ModalScreen))

    def action_show_tab(self, index: int) -> None:
        if 0 <= index < len(self.panes) and self.tabs.active != self.panes[index].PANE_ID:
            # Drop focus first: otherwise hiding the old tab hands it to a widget beside
            # it, which pulls the old tab back to the front. The new tab focuses on show.
            self.screen.set_focus(None)
            self.tabs.active = self.panes[index].PANE_ID

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        pane = event.pane
        if isinstance(pane, HotlinePane):
            pane.activated()
            self.show_count(pane.count_text())

    def palette_actions(self) -> Iterator[tuple[str, str, str, Any]]:
        """(title, key, action, namespace) for every action the palette offers."""
        for n, pane in enumerate(self.panes, start=1):
            yield f"切换到 {pane.LABEL}", str(n), f"show_tab({n - 1})", self
        active = self.active_pane
        for binding in active.actions():
            key = "/" if binding.key == "slash" else binding.key
            yield f"{active.LABEL}：{binding.description}", key, binding.action, active
        yield "退出", "q", "quit", self

    # ------------------------------------------------------------ outcomes

    @property
    def status_bar(self) -> StatusBar | None:
        # The desk's own screen (a dialog may be on top); None while it is being built.
        found = self.screen_stack[0].query(StatusBar) if self.screen_stack else None
        return found.first() if found else None

    def report(self, text: str, *, error: bool = False) -> None:
        """Show an outcome in the status bar (and as a notification when refused)."""
        if self.status_bar is not None:
            self.status_bar.say(text, error=error)
        if error:
            self.notify(text, title="未执行", severity="error", markup=False)

    def show_count(self, text: str) -> None:
        if self.status_bar is not None:
            self.status_bar.count(text)

    def on_change_done(self, message: ChangeDone) -> None:
        self.report(message.text)

    def on_change_refused(self, message: ChangeRefused) -> None:
        self.report(message.text, error=True)


def make_app(station: Station, *, clock: Clock = utcnow) -> HotlineApp:
    """The desk for ``station``; ``clock`` returns the current UTC time (tests pass their own)."""
    return HotlineApp(station, clock=clock)
