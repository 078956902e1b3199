"""The command palette's provider: every action of the app and of the tab on screen.

Actions are read from the bindings (app-wide ones, then the active tab's), so a tab's
actions reach the palette by being declared in its ``BINDINGS`` with a description.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui.app import HotlineApp


class HotlineCommands(Provider):
    """Lists 切换到 … and the active tab's actions, with their keys as help."""

    def _commands(self) -> Iterator[tuple[str, str, Any]]:
        app: HotlineApp = self.app  # type: ignore[assignment]
        for title, key, action, namespace in app.palette_actions():
            yield title, f"按键 {key}", partial(app.run_action, action, namespace)

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, text=title, help=help_text)
