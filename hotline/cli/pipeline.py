"""``hotline ingest``, ``process``, ``worker``, ``jobs …`` and ``tags show``.

``hotline.pipeline`` pulls in the audio stack, so it is imported inside the
commands that need it; ``hotline jobs`` works on the queue alone.
"""

from __future__ import annotations

import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import typer

from hotline import jobs
from hotline.cli.common import (
    EPISODE_ARGUMENT,
    JSON_OPTION,
    echo,
    emit_json,
    expand_home,
    plural,
    print_table,
    station_from,
)
from hotline.errors import InvalidInput
from hotline.runs import OUTCOMES, JobOutcome, JobView, RunSummary
from hotline.station import Station
from hotline.text import display_width
from hotline.timeutil import format_offset, local_iso, local_text

if TYPE_CHECKING:
    from transcripts.backlog import Estimate

BAR_WIDTH = 20

jobs_app = typer.Typer(help="Pipeline jobs: list, show, retry, cancel.", no_args_is_help=True)
tags_app = typer.Typer(help="ID3 tags of mastered episodes.", no_args_is_help=True)


# ------------------------------------------------------------------ ingest and process


def ingest(
    ctx: typer.Context,
    number: int = EPISODE_ARGUMENT,
    file: Path = typer.Argument(
        ..., help="The studio recording (any format ffmpeg reads).", callback=expand_home
    ),
    use_tags: bool = typer.Option(
        False, "--use-tags", help="Take title and description from the file's own tags."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check a recording, copy it into audio/raw/ and queue the episode's pipeline."""
    from hotline.pipeline import ingest as ingest_recording

    station = station_from(ctx)
    with station.session() as session:
        result = ingest_recording(
            station=station, session=session, number=number, source=file, use_tags=use_tags
        )
    if as_json:
        emit_json(
            {
                "episode": result.episode,
                "raw_path": result.raw_path,
                "sha256": result.sha256,
                "seconds": round(result.seconds, 3),
                "format": result.format,
                "copied": result.copied,
                "tags": result.tags,
                "applied": result.applied,
                "queued": [{"id": job_id, "kind": kind} for job_id, kind in result.queued],
                "also_of": result.also_of,
                "leftovers_removed": result.leftovers,
            }
        )
        return
    already = "" if result.copied else " (already in the archive)"
    echo(
        f"episode {result.episode}: {file} → {result.raw_path}{already}, "
        f"{format_offset(result.seconds)}, {result.format}"
    )
    if result.tags:
        found = ", ".join(f"{key} {value}" for key, value in result.tags.items())
        echo(f"tags found: {found}")
        if result.applied:
            echo(f"applied to the episode: {', '.join(result.applied)}")
        else:
            echo("  (--use-tags takes the title and description from them)")
    if result.queued:
        echo("queued: " + ", ".join(f"{kind} (job {job_id})" for job_id, kind in result.queued))
    if result.also_of:
        others = ", ".join(map(str, result.also_of))
        typer.echo(
            f"hotline: warning: {file} is also the recording of episode {others}: "
            "check it is this episode's before it is published",
            err=True,
        )
    if result.leftovers:
        parts = plural(result.leftovers, "unfinished copy", "unfinished copies")
        echo(f"removed from audio/raw/: {parts} left by an ingest that was killed")


def _clip(text: str, columns: int) -> str:
    """``text`` cut to fit ``columns`` terminal columns (CJK characters take two)."""
    out, used = [], 0
    for char in text:
        used += display_width(char)
        if used > columns:
            break
        out.append(char)
    return "".join(out)


class TerminalProgress:
    """Progress of running jobs: a redrawn bar line on a terminal, milestones otherwise."""

    def __init__(self, tty: bool | None = None) -> None:
        self.tty = sys.stdout.isatty() if tty is None else tty
        self.lock = threading.Lock()
        self.active: dict[int, tuple[str, float, str]] = {}
        self.milestones: dict[int, int] = {}
        self.last_draw = 0.0
        self.drawn = 0

    @staticmethod
    def label(kind: str, number: int | None) -> str:
        return f"{kind} 第{number}期" if number is not None else kind

    def _write(self, text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    def _clear(self) -> None:
        if self.tty and self.drawn:
            self._write("\r" + " " * self.drawn + "\r")
            self.drawn = 0

    def _draw(self) -> None:
        # One line for all running jobs; with several, each gets a shorter bar and no message.
        several = len(self.active) > 1
        width = BAR_WIDTH // 2 if several else BAR_WIDTH
        parts = []
        for job_id, (label, fraction, message) in self.active.items():
            filled = int(fraction * width)
            bar = f"[{'#' * filled}{'-' * (width - filled)}] {fraction:4.0%}"
            parts.append(f"job {job_id} {label} {bar}" + ("" if several else f" {message}"))
        line = _clip(" | ".join(parts), shutil.get_terminal_size((100, 20)).columns - 1)
        self._clear()
        self._write(line)
        self.drawn = display_width(line)
        self.last_draw = time.monotonic()

    def started(self, job: JobView) -> None:
        with self.lock:
            label = self.label(job.kind, job.episode_number)
            self.active[job.job_id] = (label, 0.0, "started")
            self.milestones[job.job_id] = 0
            if self.tty:
                self._draw()
            else:
                self._write(f"job {job.job_id} {label}: started (attempt {job.attempt})\n")

    def progress(self, job: JobView, fraction: float, message: str) -> None:
        with self.lock:
            if job.job_id not in self.active:
                return
            label = self.active[job.job_id][0]
            self.active[job.job_id] = (label, fraction, message)
            if self.tty:
                if time.monotonic() - self.last_draw >= 0.1 or fraction >= 1.0:
                    self._draw()
                return
            quarter = int(fraction * 4)  # a line at 25 %, 50 %, 75 %, 100 %
            if quarter > self.milestones.get(job.job_id, 0):
                self.milestones[job.job_id] = quarter
                self._write(f"job {job.job_id} {label}: {fraction:.0%} {message}\n")

    def finished(self, outcome: JobOutcome) -> None:
        with self.lock:
            self.active.pop(outcome.job_id, None)
            self._clear()
            label = self.label(outcome.kind, outcome.episode_number)
            self._write(
                f"job {outcome.job_id} {label}: {outcome.status} in {outcome.seconds:.1f} s: "
                f"{outcome.message}\n"
            )
            if self.tty and self.active:
                self._draw()

    def say(self, line: str) -> None:
        """A line of the worker's own (a job taken over), between the bars."""
        with self.lock:
            self._clear()
            self._write(line + "\n")
            if self.tty and self.active:
                self._draw()


def _print_summary(summary: RunSummary) -> None:
    if summary.recovered:
        ids = ", ".join(str(i) for i in summary.recovered)
        echo(f"picked up again after their worker died: job {ids}")
    if not summary.outcomes:
        echo("no queued jobs to run")
        return
    echo("")
    print_table(
        ("job", "kind", "期号", "result", "time", "message"),
        (
            (o.job_id, o.kind, o.episode_number or "", o.status, f"{o.seconds:.1f} s", o.message)
            for o in summary.outcomes
        ),
        max_width=70,
    )
    counts = [f"{summary.count(status)} {status}" for status in OUTCOMES if summary.count(status)]
    echo(", ".join(counts))


def _print_trouble(summary: RunSummary) -> None:
    """What went wrong with the run itself, one line each, on stderr."""
    if summary.unrecorded:
        ids = ", ".join(str(i) for i in summary.unrecorded)
        typer.echo(
            f"hotline: error: the database could not record the end of job {ids} "
            f"({summary.halted}); it shows as running until the next `hotline process` "
            "finds its worker gone and runs it again",
            err=True,
        )
    elif summary.halted:
        typer.echo(f"hotline: error: stopped taking jobs: {summary.halted}", err=True)


def process(
    ctx: typer.Context,
    episode: int | None = typer.Option(None, "--episode", help="Only this episode's jobs."),
    kind: str | None = typer.Option(None, "--kind", help="Only jobs of this kind (master, …)."),
    workers: int = typer.Option(1, "--workers", min=1, max=16, help="Jobs run in parallel."),
) -> None:
    """Run queued pipeline jobs with a progress bar each; exit 1 if any job failed.

    Ctrl-C or SIGTERM stops the running jobs' processes, puts the jobs back in the queue
    and exits (status 128 + the signal's number).
    """
    from hotline.pipeline import process as run_pipeline
    from hotline.worker import stop_on_signals

    station = station_from(ctx)
    stop = threading.Event()
    with stop_on_signals(stop) as received:
        summary = run_pipeline(
            station=station,
            observer=TerminalProgress(),
            workers=workers,
            kind=kind,
            episode=episode,
            stop=stop,
        )
    _print_summary(summary)
    _print_trouble(summary)
    if received:
        name = signal.Signals(received[0]).name
        typer.echo(f"hotline: stopped by {name}; running jobs are queued again", err=True)
        raise typer.Exit(128 + received[0])
    if summary.failed:
        raise typer.Exit(1)


def _engine_name(station: Station) -> str:
    from hotline import db

    return "embedded runner" if db.is_sqlite(station.engine) else "PostgreSQL, procrastinate"


def _station_or_its_outage(ctx: typer.Context) -> tuple[Station, Callable[[], None] | None]:
    """The worker's station, and the checks of its database still to do when its server
    was away (a machine booting before its database): the worker waits for it."""
    from hotline.failures import database_gone
    from hotline.station import check_database, find_station_root, open_station

    try:
        return station_from(ctx), None
    except Exception as exc:
        if not database_gone(exc):
            raise
    station = open_station(find_station_root(ctx.find_root().obj.get("station")), check=False)
    ctx.find_root().obj["station_obj"] = station
    return station, lambda: check_database(station)


def worker(
    ctx: typer.Context,
    queues: str | None = typer.Option(
        None,
        "--queues",
        help="Job kinds to take, comma-separated: master,transcribe,publish "
        "(default: every one this machine can serve).",
    ),
    concurrency: int = typer.Option(
        1, "--concurrency", min=1, max=16, help="Jobs run at the same time."
    ),
) -> None:
    """Run pipeline jobs until stopped, on this machine or any other sharing the station.

    The worker takes only the queues this machine can serve (the archive folders
    readable and writable, ffmpeg, a whisper model for transcribe) and says so in its
    first line. It takes over the jobs of workers that die while it runs. Ctrl-C or
    SIGTERM stops it: its running jobs go back to the queue for another worker.
    """
    from hotline.pipeline import STAGES, work
    from hotline.pipeline.readiness import check_queues, parse_queues
    from hotline.worker import stop_on_signals

    station, check = _station_or_its_outage(ctx)
    registered = [kind.value for kind in jobs.STAGE_ORDER if kind.value in STAGES]
    checks = check_queues(station, parse_queues(queues, registered))
    serving = [check.kind for check in checks if check.ok]
    refused = "; ".join(f"not {check.kind}: {check.problem}" for check in checks if not check.ok)
    if not serving:
        raise InvalidInput(f"this machine can take none of the queues asked for: {refused}")
    progress = TerminalProgress()
    name = jobs.worker_name()
    progress.say(
        f"worker {name} ({_engine_name(station)}) takes {', '.join(serving)}"
        + (f"; {refused}" if refused else "")
    )
    stop = threading.Event()
    with stop_on_signals(stop) as received:
        summary = work(
            station=station,
            observer=progress,
            queues=serving,
            concurrency=concurrency,
            stop=stop,
            announce=progress.say,
            check=check,
        )
    _print_trouble(summary)
    counts = [f"{summary.count(status)} {status}" for status in OUTCOMES if summary.count(status)]
    why = f" by {signal.Signals(received[0]).name}" if received else ""
    progress.say(
        f"worker {name} stopped{why}: {', '.join(counts) or 'no jobs run'}"
        + ("; its running jobs are queued again" if summary.count("requeued") else "")
    )
    from hotline.running import leave_abandoned_stages

    leave_abandoned_stages(1 if summary.unrecorded else 0)
    if summary.unrecorded:  # said by _print_trouble: jobs left for the next worker
        raise typer.Exit(1)


# ---------------------------------------------------------------------------- jobs


def _job_json(row: jobs.JobRow, tz: ZoneInfo, *, full: bool) -> dict[str, Any]:
    job = row.job
    data: dict[str, Any] = {
        "id": job.id,
        "kind": job.kind,
        "episode": row.episode_number,
        "status": job.status,
        "progress": round(job.progress, 4),
        "message": job.message,
        "attempts": job.attempts,
        "worker": job.worker,
        "error": job.error if full else job.error.split("\n", 1)[0],
        "created_at": local_iso(job.created_at, tz),
        "started_at": local_iso(job.started_at, tz),
        "heartbeat_at": local_iso(job.heartbeat_at, tz),
        "finished_at": local_iso(job.finished_at, tz),
    }
    if full:
        data["waiting_for"] = row.waiting_for.id if row.waiting_for else None
        data["worker_gone"] = row.worker_gone
    return data


@jobs_app.command("list")
def jobs_list(
    ctx: typer.Context,
    status: str | None = typer.Option(
        None, "--status", help="queued, running, done, skipped, failed or cancelled."
    ),
    kind: str | None = typer.Option(None, "--kind", help="master, transcribe, publish."),
    episode: int | None = typer.Option(None, "--episode", help="Only this episode's jobs."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many jobs."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List jobs, newest first."""
    from transcripts.asr import choose_backend
    from transcripts.backlog import backlog_estimate

    station = station_from(ctx)
    settings = station.settings.transcribe
    with station.session(write=False) as session:
        rows = jobs.list_jobs(
            session=session, status=status, kind=kind, episode=episode, limit=limit
        )
        estimate = backlog_estimate(
            session=session,
            backend=choose_backend(settings, base=station.root),
            model=settings.model.strip(),
        )
    tz = station.tz
    if as_json:
        listed = [_job_json(row, tz, full=False) for row in rows]
        for data in listed:
            if data["id"] in estimate.remaining:
                data["estimated_seconds"] = round(estimate.remaining[data["id"]], 1)
        emit_json(listed)
        return
    print_table(
        ("job", "kind", "期号", "status", "progress", "tries", "worker", "created", "message"),
        (
            (
                r.job.id,
                r.job.kind,
                r.episode_number or "",
                f"{r.job.status} (worker gone)" if r.worker_gone else r.job.status,
                f"{r.job.progress:.0%}",
                r.job.attempts,
                jobs.worker_place(r.job.worker),
                local_text(r.job.created_at, tz),
                r.job.message,
            )
            for r in rows
        ),
        max_width=60,
    )
    if estimate.jobs:
        echo(_backlog_line(estimate))


def _backlog_line(estimate: Estimate) -> str:
    """What the transcribe jobs still to run come to: their audio and machine time.

    A job whose episode is not mastered yet has no length: it is named as such, never
    counted as "0 min" of audio.
    """
    from transcripts.backlog import hours

    unknown = estimate.unknown
    known = estimate.jobs - unknown
    if not known:
        audio = "length not known until mastered"
    elif unknown:
        audio = (
            f"{hours(estimate.audio_seconds)} of audio, and {unknown} whose length is "
            "not known until mastered"
        )
    else:
        audio = f"{hours(estimate.audio_seconds)} of audio"
    if estimate.rate and estimate.machine_seconds is not None:
        part = " for those of known length" if unknown else ""
        cost = (
            f"about {hours(estimate.machine_seconds)} of machine time for one worker{part} "
            f"(at {estimate.rate.describe()})"
        )
    elif estimate.rate:
        cost = "machine time known once they are mastered"
    else:
        cost = "machine time not yet known (nothing transcribed on this station so far)"
    return f"transcription still to do: {estimate.jobs} job(s), {audio}; {cost}"


@jobs_app.command("show")
def jobs_show(
    ctx: typer.Context,
    job_id: int = typer.Argument(..., help="Job id."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show one job, with the full error of a failed one."""
    station = station_from(ctx)
    with station.session(write=False) as session:
        row = jobs.job_detail(session=session, job_id=job_id)
    tz = station.tz
    data = _job_json(row, tz, full=True)
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        if key == "worker_gone":
            if value:
                echo(
                    "worker_gone: its worker is dead; a running `hotline worker` or the next "
                    "`hotline process` takes it over"
                )
        elif key != "error" and value not in (None, ""):
            echo(f"{key}: {value}")
    if data["error"]:
        echo("error:")
        echo(data["error"].rstrip())


@jobs_app.command("retry")
def jobs_retry(ctx: typer.Context, job_id: int = typer.Argument(..., help="Job id.")) -> None:
    """Queue a failed, cancelled or skipped job again: a running `hotline worker` takes it,
    else `hotline process` runs it.

    The later stages cancelled along with it are queued again too.
    """
    station = station_from(ctx)
    with station.session() as session:
        change = jobs.retry(session=session, job_id=job_id)
    job = change.job
    # Whether a worker serves its queue is not known here (on SQLite no worker registers):
    # say both ways it runs, so a producer with a worker up does not run it twice over.
    echo(
        f"job {job.id} ({job.kind}) queued again{_with_later(change)}; "
        "a running `hotline worker` takes it, or run `hotline process`"
    )


@jobs_app.command("cancel")
def jobs_cancel(ctx: typer.Context, job_id: int = typer.Argument(..., help="Job id.")) -> None:
    """Cancel a queued, running or failed job and the episode's later stages still queued.

    A running job's worker stops it within seconds, wherever it runs: it notices at its
    next heartbeat and kills the job's processes.
    """
    station = station_from(ctx)
    with station.session() as session:
        change = jobs.cancel(session=session, job_id=job_id)
    job = change.job
    running = " (its worker stops it at its next heartbeat)" if change.was == "running" else ""
    echo(f"job {job.id} ({job.kind}) cancelled{running}{_with_later(change)}")


def _with_later(change: jobs.Change) -> str:
    """ ", and with it: transcribe (job 2), publish (job 3)" for the later stages."""
    if not change.later:
        return ""
    return "; with it: " + ", ".join(f"{other.kind} (job {other.id})" for other in change.later)


# ---------------------------------------------------------------------------- tags


def _print_value(key: str, value: Any, indent: str = "") -> None:
    if isinstance(value, dict):
        echo(f"{indent}{key}:")
        for sub_key, sub_value in value.items():
            _print_value(str(sub_key), sub_value, indent + "  ")
    elif isinstance(value, list):
        echo(f"{indent}{key}: {len(value)}")
        for item in value:
            if isinstance(item, dict):
                echo(indent + "  - " + ", ".join(f"{k} {v}" for k, v in item.items()))
            else:
                echo(f"{indent}  - {item}")
    else:
        echo(f"{indent}{key}: {value}")


@tags_app.command("show")
def tags_show(
    ctx: typer.Context,
    number: int = EPISODE_ARGUMENT,
    as_json: bool = JSON_OPTION,
) -> None:
    """Print the ID3 tags of the episode's master as a player sees them."""
    from hotline.pipeline import master_tags

    station = station_from(ctx)
    with station.session(write=False) as session:
        tags = master_tags(station=station, session=session, number=number)
    if as_json:
        emit_json(tags)
        return
    for key, value in tags.items():
        if value is not None:
            _print_value(str(key), value)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("ingest")(ingest)
    app.command("process")(process)
    app.command("worker")(worker)
    app.add_typer(jobs_app, name="jobs")
    app.add_typer(tags_app, name="tags")
