"""Waiting for what a desk shows without a key pressed: another desk's or program's change.

``until`` lets the desk run until the outcome holds, for ``LIMIT`` seconds at most; tests
assert the outcome, never how long it took (the README's figures are measured, not tested).
"""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

LIMIT = 10.0
"""Seconds a test waits for another desk's change to show: a guard, not a timing claim."""


async def until(pilot: Pilot, outcome: Callable[[], bool], limit: float = LIMIT) -> bool:
    """Let the desk run (no key pressed) until ``outcome()`` holds, for ``limit`` at most."""
    for _ in range(int(limit / 0.1)):
        if outcome():
            return True
        await pilot.pause(0.1)
    return outcome()
