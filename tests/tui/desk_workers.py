"""A desk's workers in tests: waiting for those that end, not those that live with the app.

The station's change watch (``tui.app.FOLLOW_GROUP``) runs as long as the desk, a file
tree's loader as long as its widget: a test that waits for "every worker" never returns.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import App
from textual.worker import Worker

from tui.app import FOLLOW_GROUP

LONG_LIVED = {"_loader", FOLLOW_GROUP}
"""Worker groups that run as long as their widget or the app: never waited for."""


def passing(app: App, *, besides: Iterable[str] = ()) -> list[Worker]:
    """The app's running workers that end on their own (and are not in ``besides``)."""
    skip = LONG_LIVED | set(besides)
    return [w for w in app.workers if w.is_running and w.group not in skip]


async def workers_done(app: App, *, besides: Iterable[str] = ()) -> None:
    """Wait until the workers running now that end on their own have ended."""
    running = passing(app, besides=besides)
    if running:  # (an empty list would mean "all workers" to wait_for_complete)
        await app.workers.wait_for_complete(running)
