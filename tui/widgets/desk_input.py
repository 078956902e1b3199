"""``DeskInput``: a text field whose bound keys keep their place among the typed ones.

Textual's Input inserts a typed character as soon as the key reaches it, but a bound key
(backspace, ctrl+u, arrows, the form's ctrl+s, …) runs only once the key has bubbled up
to the app, a message queue per ancestor later, and then from whichever field has the
focus by that time. Keys that arrive together (a fast typist, an input method committing
a phrase, a terminal under load) were applied out of order: "ab⌫c" became "ab", a ctrl+u
typed after Tab cleared the next field after what was typed into it, and keys typed
after ctrl+s went into the text saved. This field looks the key's binding up when the key
reaches it, as the app would (Textual issue 6605), so every key acts in typing order.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class DeskInput(Input):
    """An Input whose keys' bindings run in the order the keys were typed."""

    async def _on_key(self, event: events.Key) -> None:
        if event.is_printable:
            return  # Input's own handler (called next) inserts it
        # The bindings from this field up to the app, as the app looks them up when the key
        # gets there (priority ones ran before the key was handed here), but from this
        # field: by then the focus may have moved on (a Tab typed after this key).
        for node in self.ancestors_with_self:
            for binding in node._bindings.key_to_bindings.get(event.key, ()):
                if not binding.priority and await self.app.run_action(binding.action, node):
                    event.stop()
                    event.prevent_default()  # nor again by Input's handler or the app
                    return
