"""The public tree in generations: a publish builds a whole new tree, then one rename switches.

``public`` in the station is a symbolic link to one generation, a complete folder under
``.public/`` holding every feed and every file the feeds point to. A publish writes the
next generation beside the current one (unchanged files are hard links to the current
generation's, so a generation costs little more than what changed), makes it durable,
and replaces the link with one ``rename``: a web server (or a crash) sees every feed and
asset of the old generation or every one of the new, never a mix. Everything else in
``.public/`` (the previous generation, the half-built one of a killed run) is removed
by the next publish. A generation's own notes (``<generation>.<name>``, beside it in
``.public/``) are never served and go with it.

A station from before generations has ``public`` as a plain folder; its first
generation publish exchanges the folder for the link in one ``renameat2`` call
(``RENAME_EXCHANGE``; two renames where the kernel lacks it) and removes the folder.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from hotline.errors import InvalidInput
from hotline.files import fsync_dir

STORE = ".public"
"""The folder, in the station, holding the generations."""
LOCK_NAME = "publish.lock"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@cache
def _renameat2() -> object | None:
    try:
        return getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    except OSError:
        return None


def _exchange(a: Path, b: Path) -> bool:
    """Swap the names ``a`` and ``b`` atomically; False when the system cannot."""
    function = _renameat2()
    if function is None:
        return False
    result = function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)  # type: ignore[operator]
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, f"cannot exchange {a} and {b}: {os.strerror(err)}")


def note_of(generation: Path, name: str) -> Path:
    """A file of notes about ``generation``, kept beside it: outside what is served."""
    return generation.with_name(f"{generation.name}.{name}")


@dataclass(frozen=True)
class PublicTree:
    """The station's ``public`` link and the generations it can point to."""

    root: Path

    @property
    def public(self) -> Path:
        return self.root / "public"

    @property
    def store(self) -> Path:
        return self.root / STORE

    def current(self) -> Path | None:
        """The folder ``public`` shows now (a generation, or an old-style plain folder)."""
        if self.public.is_symlink():
            target = self.public.resolve()
            if target.parent != self.store.resolve():
                raise InvalidInput(
                    f"{self.public} links to {target}, outside {self.store}; hotline switches "
                    "public/ itself: remove the link and point the web server at public/"
                )
            return target if target.is_dir() else None
        return self.public if self.public.is_dir() else None

    def is_generation(self, folder: Path | None) -> bool:
        """True for a folder a generation publish wrote (not an old-style ``public``)."""
        return folder is not None and folder.parent == self.store.resolve()

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the station's publish lock: one publish at a time (workers, cron, desks)."""
        self.store.mkdir(exist_ok=True)
        with (self.store / LOCK_NAME).open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def new_generation(self) -> Path:
        """A fresh, empty folder for the next generation (sortable by creation time)."""
        self.store.mkdir(exist_ok=True)
        folder = self.store / f"g{time.time_ns():020d}-{uuid.uuid4().hex[:6]}"
        folder.mkdir()
        return folder

    def switch(self, generation: Path) -> None:
        """Make ``public`` show ``generation``, in one atomic step; durable on return."""
        link = self.root / f".public-switch-{uuid.uuid4().hex[:8]}"
        os.symlink(os.path.relpath(generation, self.root), link)
        try:
            if self.public.is_dir() and not self.public.is_symlink():
                self._replace_folder(link)
            else:
                os.replace(link, self.public)
        finally:
            if link.is_symlink():
                link.unlink()
        fsync_dir(self.root)

    def _replace_folder(self, link: Path) -> None:
        """The first switch of an old station: its plain ``public`` folder becomes a link."""
        retired = self.store / f"retired-{uuid.uuid4().hex[:8]}"
        if _exchange(link, self.public):
            os.rename(link, retired)  # the old folder, now under the link's name
        else:
            os.rename(self.public, retired)
            os.replace(link, self.public)

    def remove_leftovers(self, keep: Path | None = None) -> int:
        """Remove every generation but the one ``public`` shows (and ``keep``); return how many.

        Called under the lock, before a publish starts (a killed run's half-built
        generation) and after it switched (the previous generation). Files a web server
        has open stay readable to it until it closes them.
        """
        if not self.store.is_dir():
            return 0
        current = self.current()
        spare = {p.resolve() for p in (current, keep) if p is not None}
        notes = tuple(f"{p.name}." for p in spare)
        removed = 0
        for entry in self.store.iterdir():
            if entry.name == LOCK_NAME or entry.resolve() in spare:
                continue
            if entry.name.startswith(notes) and entry.is_file():
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed += 1
        for stray in self.root.glob(".public-switch-*"):
            if stray.is_dir() and not stray.is_symlink():
                shutil.rmtree(stray, ignore_errors=True)
            else:
                stray.unlink(missing_ok=True)
        return removed
