"""The transcription backlog: queue every episode still without a transcript, and the estimate.

``queue_backlog`` queues a transcribe job for every episode that has a master and no
complete transcript, newest or oldest first (jobs run in the order they were queued, so
with several workers the queue spreads across them in that order). The estimate of
machine time comes from runs measured on this station: each finished transcript keeps its
timings (``Transcript.settings["timings"]``), and the rate is the median of the recent
runs' wall seconds per second of audio, for the same backend and model when there are
such runs. It moves as jobs finish, so ``hotline jobs list`` shows it afresh each time.
"""

from __future__ import annotations

import socket
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, or_, select

from hotline import jobs
from hotline.errors import InvalidInput
from hotline.models import Episode, EpisodeStatus, Job, JobKind, JobStatus, Transcript
from hotline.timeutil import parse_date

# What transcripts.transcribe accepts; spelled out here so that ``jobs list`` (which shows
# the estimate) does not import the transcription machinery and numpy with it.
TRANSCRIBABLE = (EpisodeStatus.mastered, EpisodeStatus.transcribed, EpisodeStatus.published)
RECENT_RUNS = 20
"""Runs the rate is the median of."""


@dataclass(frozen=True)
class Rate:
    """Machine seconds per second of audio, as measured here."""

    seconds_per_audio_second: float
    runs: int
    backend: str
    model: str
    host: str
    """The machine the runs were on ("" when they were on several)."""

    def describe(self) -> str:
        where = f" on {self.host}" if self.host else ""
        return (
            f"{self.seconds_per_audio_second:.3f} s per audio second, the median of "
            f"{self.runs} run(s) of {self.backend} {self.model}{where}"
        )


@dataclass
class Backlog:
    """What ``queue_backlog`` queued and what it will cost."""

    queued: list[tuple[int, int, float]] = field(default_factory=list)
    """(job id, episode number, audio seconds) in run order."""
    not_mastered: int = 0
    """Episodes with a recording but no master yet (their master job comes first)."""
    rate: Rate | None = None

    @property
    def audio_seconds(self) -> float:
        return sum(seconds for _, _, seconds in self.queued)

    @property
    def machine_seconds(self) -> float | None:
        return self.audio_seconds * self.rate.seconds_per_audio_second if self.rate else None


@dataclass(frozen=True)
class Estimate:
    """The transcribe jobs still to run and the machine time they need."""

    jobs: int
    audio_seconds: float
    """The audio still to transcribe, of the jobs whose length is known."""
    rate: Rate | None
    remaining: dict[int, float]
    """Job id → estimated machine seconds still to go (running jobs count what is left);
    a job whose length is not known yet has none."""
    unknown: int = 0
    """Jobs whose length is not known yet: their episode is not mastered (a recording just
    ingested: mastering measures it)."""

    @property
    def machine_seconds(self) -> float | None:
        """The machine time of the jobs of known length (None: no rate, or no such job)."""
        return sum(self.remaining.values()) if self.rate and self.remaining else None


def measured_rate(*, session: Session, backend: str = "", model: str = "") -> Rate | None:
    """The median rate of recent finished runs: this host's of the same backend and model
    first, then any host's of them, then any run's (None when nothing was measured yet)."""
    rows = session.exec(
        select(Transcript.settings, Transcript.model)
        .where(col(Transcript.complete).is_(True))
        .order_by(col(Transcript.id).desc())
        .limit(RECENT_RUNS * 10)
    ).all()
    runs = []
    for settings, name in rows:
        timings = (settings or {}).get("timings") or {}
        covered, total = timings.get("seconds_this_run"), timings.get("total")
        if isinstance(covered, int | float) and isinstance(total, int | float) and covered > 0:
            runs.append((total / covered, str(timings.get("backend", "")), name, timings))
    here = socket.gethostname()
    choices = (
        lambda r: r[1] == backend and r[2] == model and r[3].get("host") == here,
        lambda r: r[1] == backend and r[2] == model,
        lambda r: True,
    )
    for keep in choices:
        chosen = [r for r in runs if keep(r)][:RECENT_RUNS]
        if chosen:
            hosts = {str(r[3].get("host", "")) for r in chosen}
            return Rate(
                seconds_per_audio_second=statistics.median(r[0] for r in chosen),
                runs=len(chosen),
                backend=chosen[0][1] if len({r[1] for r in chosen}) == 1 else "mixed",
                model=chosen[0][2] if len({r[2] for r in chosen}) == 1 else "mixed models",
                host=hosts.pop() if len(hosts) == 1 else "",
            )
    return None


def _air_window(
    tz: ZoneInfo, date_from: str | None, date_to: str | None
) -> tuple[datetime | None, datetime | None]:
    """UTC bounds [from, before) for local air dates, ``date_to`` inclusive."""
    start = parse_date(date_from, field="--from date") if date_from else None
    end = parse_date(date_to, field="--to date") if date_to else None
    if start and end and start > end:
        raise InvalidInput(f"--from {start} is after --to {end}")

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)

    return (
        midnight(start) if start else None,
        midnight(end + timedelta(days=1)) if end else None,
    )


def queue_backlog(
    *,
    session: Session,
    tz: ZoneInfo,
    newest_first: bool = True,
    limit: int | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    backend: str = "",
    model: str = "",
) -> Backlog:
    """Queue a transcribe job for every mastered episode with no complete transcript.

    Dates are local air dates (``date_to`` inclusive). An episode whose transcribe job is
    already waiting keeps it (and its place in the queue). Episodes with a recording but no
    master are counted, not queued: ``hotline process`` masters them first (and ingest
    queued their transcription with it).
    """
    air_from, air_before = _air_window(tz, date_from, date_to)
    complete = select(Transcript.episode_id).where(col(Transcript.complete).is_(True))
    has_audio = or_(col(Episode.audio_path).is_not(None), col(Episode.raw_path).is_not(None))
    query = select(
        Episode.id, Episode.number, Episode.audio_seconds, Episode.status, Episode.audio_path
    ).where(col(Episode.id).not_in(complete), has_audio)
    if air_from is not None:
        query = query.where(Episode.air_start >= air_from)
    if air_before is not None:
        query = query.where(Episode.air_start < air_before)
    order = col(Episode.air_start).desc() if newest_first else col(Episode.air_start)
    backlog = Backlog(rate=measured_rate(session=session, backend=backend, model=model))
    for episode_id, number, seconds, status, master in session.exec(query.order_by(order)).all():
        if limit is not None and len(backlog.queued) >= limit:
            break
        if master is None:
            backlog.not_mastered += 1
            continue
        if status not in TRANSCRIBABLE:  # a cancelled episode keeps its audio, not its place
            continue
        job = jobs.enqueue(session=session, kind=JobKind.transcribe, episode_id=episode_id)
        assert job.id is not None
        backlog.queued.append((job.id, number, float(seconds or 0.0)))
    return backlog


def backlog_estimate(*, session: Session, backend: str = "", model: str = "") -> Estimate:
    """Machine time still needed by the queued and running transcribe jobs."""
    rows = session.exec(
        select(Job.id, Job.status, Job.progress, Episode.audio_seconds)
        .join(Episode, col(Episode.id) == col(Job.episode_id))
        .where(Job.kind == JobKind.transcribe)
        .where(col(Job.status).in_([JobStatus.queued, JobStatus.running]))
    ).all()
    rate = measured_rate(session=session, backend=backend, model=model)
    remaining: dict[int, float] = {}
    audio = 0.0
    unknown = 0
    for job_id, status, progress, seconds in rows:
        if not seconds:  # not mastered yet: its length is measured then, not zero
            unknown += 1
            continue
        left = float(seconds) * (1.0 - (progress if status == JobStatus.running else 0.0))
        audio += left
        if rate is not None and job_id is not None:
            remaining[job_id] = left * rate.seconds_per_audio_second
    return Estimate(
        jobs=len(rows), audio_seconds=audio, rate=rate, remaining=remaining, unknown=unknown
    )


def hours(seconds: float) -> str:
    """``12.5 h``, ``57 min`` below an hour, ``18 s`` below a minute (never "0 min")."""
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 59.5 else f"{seconds:.0f} s"
