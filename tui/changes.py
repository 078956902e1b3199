"""``Change``: one domain change asked for at the desk, and what the desk says when it fails.

A change is a function of a database session (``work``) that calls one domain function and
returns, in words, what it did (and optionally the row key to put the cursor on). The
pane runs it in a thread worker (``HotlinePane.run_change``); the outcome comes back as a
``ChangeDone`` or ``ChangeRefused`` message carrying the change, so that:

- a form the change came from stays open until it is done, and on a refusal shows the
  reason at the field it concerns, with everything typed still there;
- a move the domain wants approved (``NeedsConfirmation``) is asked about once, with the
  domain's own words, and the very same work is run again with ``confirm=True`` on yes.
  A work that can be confirmed takes ``confirm`` as a keyword (``def work(session, *,
  confirm=False)``) and passes it to the domain function.

Anything else that goes wrong (a bug, the disk, the database) is written to the station's
log with its traceback and reported in one line naming the log.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from sqlmodel import Session

from hotline.errors import HotlineError, NeedsConfirmation
from hotline.logs import record_failure

Outcome = str | tuple[str, str]
"""What a change did, in words; or the words and the row key to select afterwards."""


class Form(Protocol):
    """The dialog a change was asked for in (``tui.dialogs.prompt.PromptDialog``)."""

    def saved(self) -> None:
        """The change is done: close."""

    def refused(self, error: BaseException | None, text: str) -> None:
        """The change was refused (``text`` says why): show it at its field, stay open."""


class FieldRefused(HotlineError):
    """A refusal of the value typed in one field of a form (``in_field``)."""

    def __init__(self, field: str, error: HotlineError) -> None:
        super().__init__(str(error), zh=error.zh)
        self.field = field


@contextmanager
def in_field(name: str) -> Iterator[None]:
    """A refusal raised inside is about the form's field ``name`` (confirmations pass as is)."""
    try:
        yield
    except NeedsConfirmation:
        raise
    except FieldRefused:
        raise
    except HotlineError as exc:
        raise FieldRefused(name, exc) from exc


@dataclass(frozen=True)
class Change:
    """One domain change: its work, the row to select after it, the form it came from."""

    work: Callable[..., Outcome]
    select: str | None = None
    form: Form | None = None
    confirmed: bool = False
    """Run with ``confirm=True``: the producer said yes to the domain's question."""
    own_transactions: bool = False
    """The work opens its own transactions (a publish: ``feeds.withdraw``), so it is run
    with no session (``None``) and never waits on a transaction the desk holds open."""

    @property
    def confirmable(self) -> bool:
        """The work takes ``confirm``: a ``NeedsConfirmation`` can be asked about."""
        try:
            return "confirm" in inspect.signature(self.work).parameters
        except (TypeError, ValueError):
            return False

    def approved(self) -> Change:
        """The same change, to run again with ``confirm=True``."""
        return replace(self, confirmed=True)

    def run(self, session: Session | None) -> tuple[str, str | None]:
        """Do the work in ``session``; returns (what was done, the row key to select)."""
        done = self.work(session, confirm=True) if self.confirmed else self.work(session)
        return done if isinstance(done, tuple) else (done, self.select)


def failure_line(exc: BaseException, *, root: Path | None, context: str) -> str:
    """Log ``exc`` with its traceback; the one line the desk shows for it (in Chinese)."""
    where = record_failure(exc, root=root, context=context)
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    what = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    log = f"详情已写入 {where}" if where is not None else "日志也无法写入"
    return f"出错了（{what}）；{log}。工作台仍可继续使用。"


def describe(error: BaseException) -> str:
    """The desk's line for a refusal: the domain's Chinese line where it has one."""
    return error.for_desk if isinstance(error, HotlineError) else str(error)


def blame(error: BaseException, subjects: dict[str, tuple[str, ...]]) -> str | None:
    """Which field a refusal is about: tagged by ``in_field``, else the first whose subject
    words (``subjects``: field name → words) the message names."""
    if isinstance(error, FieldRefused):
        return error.field
    text = str(error).lower()
    for name, words in subjects.items():
        if any(word.lower() in text for word in words):
            return name
    return None


def confirmed(confirm: bool) -> dict[str, bool]:
    """``confirm=True`` for a domain call on the approved retry, nothing on the first try.

    The first call is exactly what the CLI makes without ``--yes``: a domain function that
    asks nothing need not take ``confirm`` at all.
    """
    return {"confirm": True} if confirm else {}
