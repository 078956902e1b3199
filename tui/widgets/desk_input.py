"""``DeskInput``: a text field whose editing keys keep their place among the typed ones.

Textual's Input inserts a typed character as soon as the key reaches it, but runs its
bound keys (backspace, ctrl+u, arrows, home, …) only once the key has bubbled up to the
app, a message queue per ancestor later, and then on whichever field has the focus by
that time. Keys that arrive together (a fast typist, an input method committing a
phrase, a terminal under load) were applied out of order: "ab⌫c" became "ab", and a
ctrl+u typed after Tab cleared the next field after what was typed into it. This field
runs its own bindings when the key reaches it, like the characters (Textual issue 6605).
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class DeskInput(Input):
    """An Input whose own key bindings run in the order the keys were typed."""

    async def _on_key(self, event: events.Key) -> None:
        if event.is_printable:
            return  # Input's own handler (called next) inserts it
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            # Priority bindings were run by the app before the key was handed here.
            if not binding.priority and await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()  # nor again by Input's handler or the app
                return
