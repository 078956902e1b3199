"""Which queues this machine can serve: checked when a worker starts, said in one line.

A worker that cannot do a stage's work must never take its jobs: a laptop without the
archive mounted would fail them ("raw recording … is missing"), one without a whisper
model would mark transcriptions skipped. Each queue needs:

- the archive folders its stage reads, readable, and those it writes, writable (a file
  is really created and removed: permissions on a network share can say otherwise);
- ffmpeg, for the stages that decode audio (``master``, ``transcribe``);
- a whisper model on disk, for ``transcribe``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from hotline import jobs
from hotline.errors import HotlineError, InvalidInput
from hotline.models import JobKind
from hotline.station import Station

FOLDERS: dict[str, tuple[tuple[str, bool], ...]] = {
    JobKind.master: (("audio/raw", False), ("audio/master", True)),
    JobKind.transcribe: (("audio/master", False), ("transcripts", True)),
    JobKind.publish: (("audio/master", False), ("transcripts", False), ("public", True)),
}
"""Job kind → the archive folders its stage uses, each with whether it writes there."""
DECODES_AUDIO = (JobKind.master, JobKind.transcribe)


@dataclass(frozen=True)
class QueueCheck:
    """One queue and why this machine cannot serve it ("" when it can)."""

    kind: str
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def parse_queues(text: str | None, registered: list[str]) -> list[str]:
    """The queues named in ``--queues`` (comma-separated), in stage order; all by default.

    Raises:
        InvalidInput: an unknown or unregistered job kind, or none at all.
    """
    if text is None:
        return list(registered)
    named = [part.strip() for part in text.split(",") if part.strip()]
    if not named:
        raise InvalidInput("--queues is empty: name one or more of " + ", ".join(registered))
    for name in named:
        kind = jobs.check_kind(name).value
        if kind not in registered:
            raise InvalidInput(f"--queues: {kind} jobs have no stage in this version")
    return [kind for kind in registered if kind in named]


def _folder_problem(station: Station, relative: str, *, write: bool) -> str:
    path = station.root / relative
    if not path.is_dir():
        return f"the archive folder {relative}/ is missing here (is the station folder mounted?)"
    if not os.access(path, os.R_OK | os.X_OK):
        return f"the archive folder {relative}/ is not readable"
    if write:
        try:
            with tempfile.NamedTemporaryFile(dir=path, prefix=".hotline-worker-check-"):
                pass
        except OSError as exc:
            return f"the archive folder {relative}/ is not writable ({exc.strerror or exc})"
    return ""


def _ffmpeg_problem() -> str:
    from hotline.ffmpeg import ffmpeg_path

    try:
        ffmpeg_path()
    except HotlineError as exc:
        return str(exc)
    return ""


def _model_problem(station: Station) -> str:
    from transcripts.models_offline import resolve_model

    try:
        resolve_model(station.settings.transcribe.model, base=station.root)
    except HotlineError as exc:
        # The reason without the instructions that follow it: one line for the worker.
        return str(exc).split("; ", 1)[0]
    return ""


def check_queue(station: Station, kind: str) -> QueueCheck:
    """Whether this machine can serve ``kind`` jobs, and if not, the first reason."""
    for relative, write in FOLDERS.get(kind, ()):
        problem = _folder_problem(station, relative, write=write)
        if problem:
            return QueueCheck(kind, problem)
    if kind in DECODES_AUDIO and (problem := _ffmpeg_problem()):
        return QueueCheck(kind, problem)
    if kind == JobKind.transcribe and (problem := _model_problem(station)):
        return QueueCheck(kind, problem)
    return QueueCheck(kind)


def check_queues(station: Station, kinds: list[str]) -> list[QueueCheck]:
    """``check_queue`` for each kind, in order."""
    return [check_queue(station, kind) for kind in kinds]
