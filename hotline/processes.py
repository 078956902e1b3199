"""External processes under control: each with a deadline scaled to its input, all killable.

Every process the station starts (ffmpeg for probing, decoding, encoding) goes through a
``ChildProcesses`` group. A process may run for ``jobs.timeout_floor`` seconds plus
``jobs.timeout_factor`` seconds per second of audio it handles: the audio known in advance
(``audio_seconds``) or, for a stream whose length is not known, the audio that has passed
through so far (``Child.advance``), so a process that keeps working keeps its time and one
that hangs is killed. One watchdog thread per process enforces the deadlines.

A running job has its own group (``StageContext.children``): cancelling the job kills
every process in it at once and refuses new ones. Outside a job, ``current()`` gives a
fresh group under the limits set by ``limits(settings)`` (the defaults otherwise).

Processes start in their own session, so a Ctrl-C at the terminal reaches the worker,
which decides what happens to them, and a kill takes the whole process group (a wrapper
script and the program it runs).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import Any

from hotline import stages
from hotline.config import JobSettings
from hotline.errors import HotlineError
from hotline.stages import JobAborted

CHECK_EVERY = 0.2
"""Seconds between two looks of the watchdog at the deadlines."""


class ProcessTimeout(HotlineError):
    """An external process ran past its time limit and was killed."""


def _seconds(value: float) -> str:
    """Seconds as people read them: 0.5, 12, 3600."""
    return f"{value:.1f}".removesuffix(".0") if value < 10 else f"{value:.0f}"


class Child:
    """One started process, its deadline and, once killed, why."""

    def __init__(
        self, proc: subprocess.Popen[bytes], *, what: str, audio_seconds: float, limits: JobSettings
    ) -> None:
        self.proc = proc
        self.what = what
        self.limits = limits
        self.expected = max(float(audio_seconds), 0.0)
        self.handled = 0.0
        self.started = time.monotonic()
        self.killed: str | None = None
        self.timed_out = False

    def advance(self, audio_seconds: float) -> None:
        """The process has handled this much audio so far: its deadline grows with it."""
        self.handled = max(self.handled, float(audio_seconds))

    def limit(self) -> float:
        """Seconds this process may run, given the audio it handles."""
        audio = max(self.expected, self.handled)
        return self.limits.timeout_floor + self.limits.timeout_factor * audio

    def overdue(self, now: float) -> bool:
        return now - self.started > self.limit()

    def kill(self, reason: str, *, timed_out: bool = False) -> None:
        """Kill the process and its group (idempotent); ``reason`` is what ``check`` says."""
        if self.killed is None:
            self.killed, self.timed_out = reason, timed_out
        if self.proc.poll() is None:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with suppress(ProcessLookupError):
                self.proc.kill()

    def timeout_reason(self) -> str:
        audio = max(self.expected, self.handled)
        elapsed = time.monotonic() - self.started
        return (
            f"{self.what} was stopped after {_seconds(elapsed)} s: over its limit of "
            f"{_seconds(self.limit())} s (jobs.timeout_floor {self.limits.timeout_floor:g} s "
            f"+ jobs.timeout_factor {self.limits.timeout_factor:g} × {_seconds(audio)} s of audio)"
        )

    def check(self) -> None:
        """Raise why the process was killed, if it was: ``ProcessTimeout`` or ``JobAborted``."""
        if self.killed is None:
            return
        if self.timed_out:
            raise ProcessTimeout(self.killed)
        raise JobAborted(self.killed)


class _Watchdog:
    """The thread that kills processes past their deadline; runs while any is watched."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._children: set[Child] = set()
        self._thread: threading.Thread | None = None

    def watch(self, child: Child) -> None:
        with self._lock:
            self._children.add(child)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="hotline-process-watchdog", daemon=True
                )
                self._thread.start()

    def forget(self, child: Child) -> None:
        with self._lock:
            self._children.discard(child)

    def _run(self) -> None:
        while True:
            time.sleep(CHECK_EVERY)
            with self._lock:
                if not self._children:
                    self._thread = None
                    return
                watched = list(self._children)
            now = time.monotonic()
            for child in watched:
                if child.killed is None and child.proc.poll() is None and child.overdue(now):
                    child.kill(child.timeout_reason(), timed_out=True)


_WATCHDOG = _Watchdog()


class ChildProcesses:
    """The external processes of one job (or one command): started, watched, killed together."""

    def __init__(self, limits: JobSettings | None = None) -> None:
        self.limits = limits or JobSettings()
        self._lock = threading.Lock()
        self._live: set[Child] = set()
        self.stopped: str | None = None

    def popen(
        self, cmd: Sequence[str], *, what: str, audio_seconds: float = 0.0, **popen: Any
    ) -> Child:
        """Start ``cmd`` in its own session under a deadline; pair with ``release``.

        Raises:
            JobAborted: the group was stopped (the job is cancelled): nothing starts.
        """
        if self.stopped is not None:
            raise JobAborted(self.stopped)
        proc = subprocess.Popen(list(cmd), start_new_session=True, **popen)
        child = Child(proc, what=what, audio_seconds=audio_seconds, limits=self.limits)
        with self._lock:
            self._live.add(child)
            stopped = self.stopped
        _WATCHDOG.watch(child)
        if stopped is not None:  # stopped while it was starting
            child.kill(stopped)
        return child

    def release(self, child: Child) -> None:
        """Kill ``child`` if it still runs, reap it and stop watching it."""
        try:
            if child.proc.poll() is None:
                child.kill(child.killed or f"{child.what} was no longer needed")
            child.proc.wait()
            for pipe in (child.proc.stdin, child.proc.stdout, child.proc.stderr):
                if pipe is not None:
                    with suppress(OSError):
                        pipe.close()
        finally:
            _WATCHDOG.forget(child)
            with self._lock:
                self._live.discard(child)

    @contextmanager
    def start(
        self, cmd: Sequence[str], *, what: str, audio_seconds: float = 0.0, **popen: Any
    ) -> Iterator[Child]:
        """``popen`` for the length of a ``with`` block; the process never outlives it."""
        child = self.popen(cmd, what=what, audio_seconds=audio_seconds, **popen)
        try:
            yield child
        finally:
            self.release(child)

    def run(
        self, cmd: Sequence[str], *, what: str, audio_seconds: float = 0.0
    ) -> tuple[int, bytes, bytes]:
        """Run ``cmd`` to its end; (exit code, stdout, stderr).

        Raises:
            ProcessTimeout: it ran past its deadline (and was killed).
            JobAborted: the job was stopped while it ran.
        """
        with self.start(
            cmd,
            what=what,
            audio_seconds=audio_seconds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as child:
            out, err = child.proc.communicate()
        child.check()
        return child.proc.returncode, out, err

    def kill_all(self, reason: str) -> int:
        """Kill every live process of the group and refuse new ones; how many were running."""
        with self._lock:
            if self.stopped is None:
                self.stopped = reason
            live = [child for child in self._live if child.proc.poll() is None]
        for child in live:
            child.kill(reason)
        return len(live)

    def live(self) -> int:
        """How many processes of the group are running."""
        with self._lock:
            return sum(1 for child in self._live if child.proc.poll() is None)


_LIMITS: ContextVar[JobSettings | None] = ContextVar("hotline_process_limits", default=None)


@contextmanager
def limits(settings: JobSettings) -> Iterator[None]:
    """Use the station's ``[jobs]`` limits for processes started outside a job."""
    token = _LIMITS.set(settings)
    try:
        yield
    finally:
        _LIMITS.reset(token)


def current() -> ChildProcesses:
    """The running job's process group, or a fresh one under the current limits."""
    ctx = stages.current()
    if ctx is not None:
        return ctx.children
    return ChildProcesses(_LIMITS.get())
