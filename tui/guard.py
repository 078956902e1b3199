"""``Guarded``: a message handler that fails is reported, and the widget lives on.

Textual treats any exception in a handler as the end of the app; failing that, the
widget whose handler raised stops reading its messages for good (its message loop
ends), so the desk would be alive but deaf. The desk's own widgets (the app, the tabs,
the dialogs, the tables) mix this in: an exception escaping one of their handlers is
written to the station's log, named in a toast and in the status bar
(``HotlineApp.failed``), and the next key is handled as usual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from tui.app import HotlineApp


class Guarded:
    """Mixed into a MessagePump (before it): its handlers' exceptions are not fatal."""

    async def _dispatch_message(self, message: Message) -> None:
        try:
            await super()._dispatch_message(message)  # type: ignore[misc]
        except Exception as exc:  # reported and logged; the loop goes on to the next
            app: HotlineApp = self.app  # type: ignore[attr-defined]
            app.failed(exc, context=f"desk: {type(self).__name__} {type(message).__name__}")
