"""``DeskDialog``: what every dialog of the desk shares — a title, a body that scrolls, buttons
that stay on screen, and a footer with the dialog's own keys.

At 80×24 a form of seven fields does not fit: the body scrolls, the focused field is
scrolled into view, and the buttons stay below it, always visible. Esc closes every
dialog; the footer shows the dialog's keys (Esc, ctrl+s, y/n), not the tab's behind it.
Tab and Shift+Tab go to the next / previous field or button, whatever was typed before.
Titles and texts are data shown as text (``DataLabel``).
"""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Footer

from tui.guard import Guarded
from tui.widgets.data_label import DataLabel

T = TypeVar("T")
FIXED_ROWS = 6
"""Rows around a dialog's body: footer, border (2), a one-line title, the buttons and the
margin above them. ``fit_body`` measures them once drawn (a long title wraps)."""


class DeskDialog(Guarded, ModalScreen[T], Generic[T]):
    """A modal dialog: ``compose_body`` and ``compose_buttons`` fill it; Esc closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "关闭"),
        # Priority: taken when the key arrives, not once the field has handled the keys
        # before it, so what is typed after Tab (in one burst from the terminal, or while
        # the desk catches up) goes to the next field, never on the end of this one.
        Binding("tab", "app.focus_next", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", show=False, priority=True),
    ]
    DIALOG_CLASSES: ClassVar[str] = ""
    """Extra classes of the dialog's frame (``wide``, ``log``: see app.tcss)."""
    SCROLLS: ClassVar[bool] = True
    """The body scrolls as a whole (False: its one widget, a table or text, scrolls itself)."""

    def __init__(self, title: str) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes=f"dialog {self.DIALOG_CLASSES}".strip(), id="dialog"):
            yield DataLabel(self.title_text, classes="dialog-title")
            body = (VerticalScroll if self.SCROLLS else Vertical)(
                classes="dialog-body", id="dialog-body"
            )
            body.can_focus = False  # the keyboard goes to the first field, not the scroller
            if not self.DIALOG_CLASSES:  # its height for a one-line title, in the first frame
                body.styles.max_height = max(self.app.size.height - FIXED_ROWS, 3)
            with body:
                yield from self.compose_body()
            yield from self.compose_notice()
            buttons = list(self.compose_buttons())
            if buttons:
                with Horizontal(classes="dialog-buttons", id="dialog-buttons"):
                    yield from buttons
        yield Footer(compact=True)  # (its keys are compact already: no restyle to undo it)

    def on_mount(self) -> None:
        self.call_after_refresh(self.fit_body)

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self.fit_body)

    def fit_body(self) -> None:
        """Give the body the height the screen leaves once the title and buttons are in.

        (A height that depends on both the screen and the dialog's other parts is more
        than the stylesheet can say: a body of "1fr" in a dialog as tall as its content
        would take the whole screen and push the buttons off it.)
        """
        if not self.is_attached or self.DIALOG_CLASSES:
            return  # a wide dialog has a fixed height, its body takes the rest ("1fr")
        dialog = self.query_one("#dialog", Vertical)
        body = self.query_one("#dialog-body", Widget)
        others = sum(
            child.outer_size.height + child.styles.margin.height
            for child in dialog.children
            if child is not body and child.display
        )
        footer = sum(f.outer_size.height for f in self.query(Footer))
        chrome = dialog.styles.gutter.height  # border and padding
        room = max(self.size.height - footer - chrome - others, 3)
        if body.styles.max_height is None or body.styles.max_height.value != room:
            body.styles.max_height = room

    def compose_body(self) -> ComposeResult:
        """The dialog's content (subclasses)."""
        yield from ()

    def compose_notice(self) -> ComposeResult:
        """A line between the body and the buttons, always on screen (subclasses: why a
        form was not saved), on a line of its own so that it never crowds the buttons."""
        yield from ()

    def compose_buttons(self) -> ComposeResult:
        """The dialog's buttons, kept on screen under the body (subclasses)."""
        yield from ()

    def action_close(self) -> None:
        self.dismiss(None)
