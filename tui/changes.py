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
from typing import Protocol

from sqlmodel import Session

from hotline.errors import HotlineError, NeedsConfirmation
from hotline.failures import Where, explain
from hotline.logs import record_failure
from tui.wording import in_chinese

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


# What a failure of the database or the machine (``hotline.failures``) means, for the desk.
_FAILURES_ZH = {
    "busy": "数据库正忙：另一操作占着锁，这一步没有改动任何内容，请再试一次",
    "conflict": "另一处同时改了同样的记录，这一步没有改动任何内容，请再试一次",
    "disk-full": "磁盘已满（工作站所在的磁盘或数据库服务器）：腾出空间后再试",
    "read-only": "工作站所在的磁盘或文件夹是只读的，工作台无法写入",
    "permission": "没有权限写入工作站或读取这些记录：请联系工作站管理员",
    "damaged": "数据库 {db} 已损坏：请从备份恢复工作站",
    "io": "磁盘读写出错：请检查磁盘",
    "postgres-unreachable": "连不上数据库服务器 {db}：请确认它在运行；恢复后工作台照常使用",
    "postgres-login": "数据库服务器拒绝了登录（{db}）：请检查用户名和密码",
    "postgres-no-database": "数据库服务器上没有这个数据库（{db}）",
    "postgres": "数据库服务器出错（{db}）",
}


def failure_line(exc: BaseException, *, where: Where, context: str) -> str:
    """Log ``exc`` with its traceback; the one line the desk shows for it (in Chinese).

    A failure of the database or the machine (``hotline.failures``: the server gone, the
    disk full, …) is said as what it means; anything else names the exception.
    """
    logged = record_failure(exc, root=where.root, context=context)
    log = f"详情已写入 {logged}" if logged is not None else "日志也无法写入"
    if isinstance(exc, HotlineError):  # met where no refusal was expected: still its own line
        return f"{describe(exc)}（{log}）。"
    failure = explain(exc, where)
    if failure is not None and failure.kind in _FAILURES_ZH:
        return f"{_FAILURES_ZH[failure.kind].format(db=where.database)}（{log}）。"
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    what = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return f"出错了（{what}）；{log}。工作台仍可继续使用。"


def describe(error: BaseException) -> str:
    """The desk's line for a refusal, in Chinese (``tui.wording``)."""
    return in_chinese(error) if isinstance(error, HotlineError) else str(error)


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
