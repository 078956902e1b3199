"""Work shared with a second CPU: half of a list done in a forked child, half here.

A first publish parses the whole archive's feeds and renders every transcript; on two
CPUs a forked child takes every second item and answers through a pipe. The child only
computes (no database, no files written), so nothing it inherits can be left half done.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def can_fork() -> bool:
    """A forked child can take half the work: a second CPU, and no other thread whose
    locks the child could inherit held (the CLI and the pipeline; not the TUI)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    return hasattr(os, "fork") and cpus > 1 and threading.active_count() == 1


def map_in_two(work: Callable[[list[Item]], list[Result]], items: list[Item]) -> list[Result]:
    """``work(items)``: one result per item, in order, the odd items done in a forked child.

    ``work`` must return what pickle can carry. A child that dies without answering
    costs time, not results: its half is done here.
    """
    if len(items) < 2:
        return work(items)
    mine, theirs = items[::2], items[1::2]
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(work, theirs, send), daemon=True)
    child.start()
    send.close()
    done_here = work(mine)
    try:
        done_there = receive.recv()
    except EOFError:
        done_there = work(theirs)
    finally:
        receive.close()
        child.join()
    results: list[Result] = [None] * len(items)  # type: ignore[list-item]
    results[::2], results[1::2] = done_here, done_there
    return results


def _child(work: Callable[[list[Any]], list[Any]], items: list[Any], send: Any) -> None:
    send.send(work(items))
    send.close()
