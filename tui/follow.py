"""Following the station: what other desks and workers change reaches this desk unasked.

``follow`` is the loop of the app's one long-lived thread worker. It blocks on the
station's change watch (``hotline.changes``: LISTEN/NOTIFY on PostgreSQL, ``PRAGMA
data_version`` polled on SQLite) and hands each change on (``post``); the app tells
every tab, and a tab that shows one of the changed tables reads itself again
(``HotlinePane.station_changed``).

The watch opens once the desk's first rows are read, so what was committed between that
read and the watch opening is not heard as a change: once open, the watch reports an
unknown change once, and the tab on screen reads itself again (in place, nothing moves
when nothing changed).

It waits at most ``WAIT_SECONDS`` at a time, so that once ``stopped`` is set (the desk
closes) it returns within that and the process can end; between waits it costs nothing.
A lost connection (the server restarted) is reported once and the watch opened again
every ``RETRY_SECONDS``; once it is back, every tab reads itself again, since what
changed meanwhile was not heard.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from hotline.changes import Watch, watch
from hotline.station import Station

WAIT_SECONDS = 0.25
"""The longest one wait for a change: also how long the desk may take to stop watching."""
RETRY_SECONDS = 5.0
"""How often a lost watch is opened again."""


def follow(
    station: Station,
    *,
    post: Callable[[frozenset[str]], None],
    fail: Callable[[BaseException], None],
    stopped: threading.Event,
    recovered: Callable[[], None] = lambda: None,
) -> None:
    """Report ``station``'s changes to ``post`` (the changed tables; empty: unknown) until
    ``stopped`` is set; a failure goes to ``fail``, once until the watch works again, and
    ``recovered`` is called when it does."""
    current: Watch | None = None
    failing = False
    missed = True  # the desk read its first rows before the watch opened
    try:
        while not stopped.is_set():
            try:
                if current is None:
                    current = _open(station)
                    if current is None:
                        return  # an in-memory database: no other program can change it
                    if missed:  # changes made before it opened were not heard
                        post(frozenset())
                        missed = False
                change = current.wait_for_change(WAIT_SECONDS)
            except Exception as exc:  # the server went away, the file is unreadable
                if not failing:
                    failing = True
                    fail(exc)
                missed = True
                if current is not None:
                    _close(current)
                    current = None
                stopped.wait(RETRY_SECONDS)
                continue
            if failing:
                failing = False
                recovered()
            if change is not None and not stopped.is_set():
                post(change.tables)
    finally:
        if current is not None:
            _close(current)


def _open(station: Station) -> Watch | None:
    try:
        return watch(station)
    except ValueError:  # said of a database only this process can see
        return None


def _close(current: Watch) -> None:
    with contextlib.suppress(Exception):  # a connection already broken: nothing to release
        current.close()
