"""Holding Python's cyclic garbage collector back while the desk draws a frame a key asked for.

Drawing a tab allocates tens of thousands of small containers (segments, strips and
their caches, styles), nearly all freed again by reference counting. The cyclic
collector does not know that: it runs a young-generation pass every 700 allocations,
about forty of them during one tab switch, and every so often a full pass over the
whole heap, a fifth of the switch or more. Textual pauses the collector the same way
while it scrolls (``App.PAUSE_GC_ON_SCROLL``). Here a key that switches tabs pauses it
until that frame is drawn; collection then resumes, and its one pass over what survived
runs after the frame, while the producer reads the new tab.
"""

from __future__ import annotations

import gc


class CollectorPause:
    """Pauses cyclic collection until released; a no-op if something else paused it."""

    def __init__(self) -> None:
        self.held = False
        """True while this pause holds the collector back."""

    def hold(self) -> bool:
        """Pause collection unless it is paused already; True if this call paused it."""
        if self.held or not gc.isenabled():
            return False
        gc.disable()
        self.held = True
        return True

    def release(self) -> None:
        """Resume collection if this pause holds it back."""
        if self.held:
            self.held = False
            gc.enable()
