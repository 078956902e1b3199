"""The demo station: ``build_demo`` makes a station with 26 years of realistic, seeded history.

The build is a sequence of steps (``DEMO_STEPS``). Each step takes the shared
``DemoContext``, draws from its own seeded generator (so adding a step never changes what
the earlier ones make) and bulk-inserts its rows into the build's single transaction.
Later features (audio, transcripts, feeds) extend the demo by adding steps here.

Everything is a function of the seed and ``today``: episode 1000 is always Saturday
2022-08-13 11:00 Asia/Shanghai, the numbering runs back to 2000 and forward to today
over the blackout calendar of ``hotline.demo_data``, then 52 episodes are scheduled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, func, select

from hotline import db, identity
from hotline.config import Settings, load_settings, save_settings
from hotline.demo_data import blackout_calendar
from hotline.demo_inbox import add_inbox
from hotline.demo_publish import make_demo_cover
from hotline.demo_questions import add_questions
from hotline.demo_recording import DemoRecording, record_newest_episode
from hotline.demo_referrals import add_referrals
from hotline.demo_steps import (
    ANCHOR_DAY,
    ANCHOR_NUMBER,
    DemoContext,
    DemoStep,
    add_bookings,
    add_episodes,
    add_members,
)
from hotline.demo_transcripts import add_transcripts
from hotline.errors import Conflict
from hotline.models import (
    Booking,
    BookingStatus,
    Department,
    Episode,
    EpisodeStatus,
    Member,
    Question,
    QuestionStatus,
    Referral,
    ReferralStatus,
    history_table,
)
from hotline.station import (
    DATABASE_FILE,
    SETTINGS_FILE,
    Station,
    database_url,
    init_station,
    is_station,
    open_station,
)
from hotline.timeutil import local_iso, zone

MARKER_FILE = ".hotline-demo"

DEMO_STEPS: tuple[DemoStep, ...] = (
    add_episodes,
    add_members,
    add_bookings,
    add_questions,
    add_referrals,
    add_transcripts,
    add_inbox,
    make_demo_cover,
)


# ---------------------------------------------------------------- the build


def demo_settings() -> Settings:
    """Default settings plus the demo's blackout calendar, so `episodes generate` skips it."""
    settings = Settings()
    settings.schedule.blackout = [d.isoformat() for d in blackout_calendar(ANCHOR_DAY.weekday())]
    return settings


def local_today(settings: Settings) -> date:
    return datetime.now(zone(settings.show.timezone)).date()


def build_demo(
    root: Path,
    *,
    today: date | None = None,
    force: bool = False,
    steps: Sequence[DemoStep] = DEMO_STEPS,
    record: bool = True,
) -> DemoSummary:
    """Create the demo station in ``root`` and fill it; return what it holds.

    An existing demo station is left as it is (``created`` is False) unless ``force``,
    which replaces its database. A folder that holds anything else is refused.
    """
    root = Path(root)
    settings = demo_settings()
    today = today or local_today(settings)
    if is_station(root):
        if not (root / MARKER_FILE).is_file():
            raise Conflict(
                f"{root} is a station but not a demo station (no {MARKER_FILE}); "
                "`hotline demo` does not touch it"
            )
        if force:
            station = _reset_station(root.resolve(), settings)
        else:
            station = open_station(root.resolve())
            if _has_episodes(station):
                return summarize(station, today=today, created=False)
            # A build that failed rolled back and left the database empty: fill it now.
    else:
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise Conflict(
                f"{root} exists and is not a demo station; give `hotline demo` a new folder"
            )
        station, _ = init_station(root, settings)
        _write_marker(station.root)
    with station.session() as session:
        context = DemoContext(station=station, session=session, today=today)
        for step in steps:
            step(context)
    recording = None
    aired = [e.number for e in context.episodes if e.aired]
    if record and aired:
        # After the commit: the pipeline's stages open transactions of their own.
        recording = record_newest_episode(station, aired[-1])
    # The settings the demo set up (its cover, the feed guid its publish kept) are the
    # station's: a folder attached to its database later starts from them.
    station.settings = load_settings(station.settings_path)  # as its stages left them
    identity.push_settings(station)
    return replace(summarize(station, today=today, created=True), recording=recording)


def _write_marker(root: Path) -> None:
    (root / MARKER_FILE).write_text(
        "This station was made by `hotline demo`; `hotline demo --force` may replace its "
        "database.\n",
        encoding="utf-8",
    )


def _has_episodes(station: Station) -> bool:
    with station.session() as session:
        return session.exec(select(Episode.id).limit(1)).first() is not None


def _reset_station(root: Path, settings: Settings) -> Station:
    """Replace the demo's database with an empty one: only files inside ``root`` go."""
    # The folder keeps its identity and the database it names.
    kept = load_settings(root / SETTINGS_FILE)
    settings.station, settings.database = kept.station, kept.database
    station = Station(root=root, settings=settings, database_url=database_url(settings))
    if station.database_url is None:
        created = identity.created_at(station)
        station.engine.dispose()
        for name in (DATABASE_FILE, f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm"):
            (root / name).unlink(missing_ok=True)
        identity.create(station, created=created)
    else:
        # A server database is not ours to drop: empty its tables instead. The history
        # refuses DELETE (it is append-only); TRUNCATE is the owner's way to empty it.
        db.upgrade(station.engine)
        with station.session() as session:
            for table in reversed(SQLModel.metadata.sorted_tables):
                if table is history_table:
                    session.execute(sa.text(f"TRUNCATE {table.name}"))
                elif table.name != "station":  # which station this is stays recorded
                    session.execute(table.delete())
    save_settings(settings, station.settings_path)
    _write_marker(root)
    return station


# ---------------------------------------------------------------- the summary


@dataclass(frozen=True)
class DemoSummary:
    """What the demo station holds, for the summary the CLI prints."""

    root: Path
    created: bool
    today: date
    tz: ZoneInfo
    episodes: int
    aired: int
    upcoming: int
    first_air: datetime | None
    last_aired: int | None
    episode_1000_air: datetime | None
    next_episode: int | None
    next_air: datetime | None
    members: int
    sectors: int
    bookings: int
    appearances: int
    questions: dict[str, int]
    blackout_days: int
    busiest_member: int | None
    open_booking: tuple[int, int] | None
    """An upcoming episode with room for a guest and an active member not booked on it."""
    referrals: dict[str, int] = field(default_factory=dict)
    """Referrals (转办) by state as seen on ``today``: open, overdue, replied, closed."""
    departments: int = 0
    overdue_question: int | None = None
    """A question whose referral is overdue, for the tour."""
    recording: DemoRecording | None = None
    """The generated recording of the newest aired episode and how its pipeline went."""

    @property
    def question_total(self) -> int:
        return sum(self.questions.values())

    def to_json(self) -> dict[str, Any]:
        """The summary with stable keys and ISO 8601 local times, for ``--json``."""
        return {
            "root": str(self.root),
            "created": self.created,
            "today": self.today.isoformat(),
            "episodes": self.episodes,
            "aired": self.aired,
            "upcoming": self.upcoming,
            "first_air": local_iso(self.first_air, self.tz),
            "last_aired": self.last_aired,
            "episode_1000_air": local_iso(self.episode_1000_air, self.tz),
            "next_episode": self.next_episode,
            "next_air": local_iso(self.next_air, self.tz),
            "members": self.members,
            "sectors": self.sectors,
            "bookings": self.bookings,
            "appearances": self.appearances,
            "questions": self.questions,
            "departments": self.departments,
            "referrals": self.referrals,
            "blackout_days": self.blackout_days,
            "recording": None
            if self.recording is None
            else {
                "episode": self.recording.episode,
                "seconds": round(self.recording.seconds, 1),
                "voice": self.recording.voice,
                "pipeline": self.recording.outcomes,
            },
            "feed": str(self.root / "public" / "feeds" / "generic.xml"),
        }


def summarize(station: Station, *, today: date, created: bool) -> DemoSummary:
    """Count what the station holds, as seen on ``today``."""
    cut = datetime.combine(today, time(0, 0), tzinfo=station.tz).astimezone(UTC)
    live = Episode.status != EpisodeStatus.cancelled
    with station.session() as s:

        def count(statement: Any) -> int:
            return s.exec(statement).one()

        aired = select(Episode).where(live, Episode.air_start < cut)
        upcoming = select(Episode).where(live, Episode.air_start >= cut)
        last = s.exec(aired.order_by(Episode.number.desc()).limit(1)).first()
        following = s.exec(upcoming.order_by(Episode.air_start).limit(1)).first()
        first = s.exec(select(Episode).order_by(Episode.number).limit(1)).first()
        anchor = s.exec(select(Episode).where(Episode.number == ANCHOR_NUMBER)).first()
        busiest = s.exec(
            select(Booking.member_id)
            .where(Booking.status == BookingStatus.appeared)
            .group_by(Booking.member_id)
            .order_by(func.count().desc(), Booking.member_id)
            .limit(1)
        ).first()
        statuses = {
            status: n
            for status, n in s.exec(select(Question.status, func.count()).group_by(Question.status))
        }
        return DemoSummary(
            root=station.root,
            created=created,
            today=today,
            tz=station.tz,
            episodes=count(select(func.count()).select_from(Episode)),
            aired=count(select(func.count()).select_from(aired.subquery())),
            upcoming=count(select(func.count()).select_from(upcoming.subquery())),
            first_air=first.air_start if first else None,
            last_aired=last.number if last else None,
            episode_1000_air=anchor.air_start if anchor else None,
            next_episode=following.number if following else None,
            next_air=following.air_start if following else None,
            members=count(select(func.count()).select_from(Member)),
            sectors=count(select(func.count(func.distinct(Member.sector)))),
            bookings=count(select(func.count()).select_from(Booking)),
            appearances=count(select(func.count()).where(Booking.status == BookingStatus.appeared)),
            questions={q.value: statuses.get(q.value, 0) for q in QuestionStatus},
            blackout_days=len(station.settings.schedule.blackout),
            busiest_member=busiest,
            open_booking=_open_booking(s, cut, station.settings.bookings.guest_limit),
            **_follow_through(s, cut),
        )


def _follow_through(session: Session, cut: datetime) -> dict[str, Any]:
    """Referrals by state on the day that starts at ``cut``, and an overdue one's question."""
    late = (Referral.status == ReferralStatus.open) & (Referral.due_at <= cut)
    counts = {state.value: 0 for state in ReferralStatus} | {"overdue": 0}
    for status, overdue, n in session.exec(
        select(Referral.status, late, func.count()).group_by(Referral.status, late)
    ):
        counts["overdue" if overdue else status] += n
    overdue_question = session.exec(
        select(Referral.question_id).where(late).order_by(Referral.due_at.desc()).limit(1)
    ).first()
    return {
        "referrals": counts,
        "departments": session.exec(select(func.count()).select_from(Department)).one(),
        "overdue_question": overdue_question,
    }


def _open_booking(session: Session, cut: datetime, limit: int) -> tuple[int, int] | None:
    held = (BookingStatus.invited, BookingStatus.confirmed)
    coming = session.exec(
        select(Episode)
        .where(Episode.air_start >= cut, Episode.status != EpisodeStatus.cancelled)
        .order_by(Episode.air_start)
        .limit(12)
    ).all()
    for episode in coming:
        booked = session.exec(
            select(Booking.member_id, Booking.status).where(Booking.episode_id == episode.id)
        ).all()
        if sum(status in held for _, status in booked) >= limit:
            continue
        taken = {member_id for member_id, _ in booked}
        member = session.exec(
            select(Member.id).where(Member.active, Member.id.not_in(taken)).order_by(Member.id)
        ).first()
        if member is not None:
            return episode.number, member
    return None
