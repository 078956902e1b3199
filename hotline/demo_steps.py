"""The build context of the demo station and its first steps: schedule, members, bookings.

Each step takes the ``DemoContext`` of the build, draws from its own seeded generator
and bulk-inserts its rows (one batch per table) into the build's transaction.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from hotline import demo_data as data
from hotline.demo_data import blackout_calendar, hosts_for, topic_named, topics, weekly
from hotline.errors import Conflict
from hotline.models import (
    Booking,
    BookingStatus,
    Episode,
    EpisodeStatus,
    Member,
    Role,
)
from hotline.station import Station
from hotline.vocab import sectors

SEED = "政协热线 demo station"
ANCHOR_NUMBER = 1000
ANCHOR_DAY = date(2022, 8, 13)
UPCOMING_EPISODES = 52
# Upcoming episodes this close are confirmed; later ones are still being planned.
CONFIRMED_AHEAD = 4


@dataclass
class DemoEpisode:
    """What later steps need to know about an episode the schedule step made."""

    id: int
    number: int
    day: date
    air_start: datetime
    topic: str
    aired: bool


@dataclass
class DemoContext:
    """Shared by the steps of one build: the open transaction and what earlier steps made."""

    station: Station
    session: Session
    today: date
    episodes: list[DemoEpisode] = field(default_factory=list)
    members: list[DemoMember] = field(default_factory=list)
    # episode number → ids of the members who appeared on it (or are booked, if upcoming)
    guests: dict[int, list[int]] = field(default_factory=dict)

    def rng(self, step: str) -> random.Random:
        """The seeded generator of ``step``: independent of every other step's draws."""
        return random.Random(f"{SEED}:{step}")

    def at(self, day: date, clock: time) -> datetime:
        """``day`` at ``clock`` in the station's zone, as aware UTC."""
        return datetime.combine(day, clock, tzinfo=self.station.tz).astimezone(UTC)

    @property
    def day_start(self) -> datetime:
        """Midnight starting ``today``: everything the demo records happened before it."""
        return self.at(self.today, time(0, 0))


DemoStep = Callable[[DemoContext], None]


def insert_rows(session: Session, model: type[SQLModel], rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` into ``model``'s table in one batch; return their new ids in order.

    One ``executemany`` without RETURNING (SQLite would send ordered RETURNING inserts one
    row at a time); the build is the only writer, so new ids ascend in insertion order.
    """
    if not rows:
        return []
    table = model.__table__  # type: ignore[attr-defined]
    before = session.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
    session.execute(sa.insert(table), rows)
    ids = session.execute(
        sa.select(table.c.id).where(table.c.id > before).order_by(table.c.id)
    ).scalars()
    return list(ids)


# ---------------------------------------------------------------- step: the schedule


def plan_schedule(
    today: date, blackout: set[date], upcoming: int = UPCOMING_EPISODES
) -> list[tuple[int, date]]:
    """Numbered slot days: episode 1 to the last before ``today``, then ``upcoming`` more.

    The numbering is pinned to episode 1000 on 2022-08-13 and counts weekly slots back
    and forward from it, skipping ``blackout`` days.
    """
    if ANCHOR_DAY in blackout:
        raise Conflict(f"episode {ANCHOR_NUMBER}'s day {ANCHOR_DAY} is a blackout day")
    first, number = ANCHOR_DAY, ANCHOR_NUMBER
    while number > 1:
        first -= timedelta(days=7)
        if first not in blackout:
            number -= 1
    plan: list[tuple[int, date]] = []
    left = upcoming
    for day in weekly(first, date.max - timedelta(days=7), first.weekday()):
        if day in blackout:
            continue
        if day >= today:
            if left == 0:
                break
            left -= 1
        plan.append((len(plan) + 1, day))
    return plan


def add_episodes(ctx: DemoContext) -> None:
    """The back catalogue (published) and the coming year (confirmed, then planned)."""
    rng = ctx.rng("episodes")
    schedule = ctx.station.settings.schedule
    plan = plan_schedule(ctx.today, set(blackout_calendar(ANCHOR_DAY.weekday())))
    special = {
        1: (topic_named("民生综合"), "政协热线开播——委员与你面对面"),
        ANCHOR_NUMBER: (topic_named("民生综合"), "千期特别节目——倾听民声二十二年"),
    }
    rows: list[dict[str, Any]] = []
    previous = ""
    ahead = 0
    for number, day in plan:
        if number in special:
            topic, phrase = special[number]
        else:
            topic = rng.choice([t for t in topics() if t.name != previous])
            phrase = rng.choice(topic.titles)
        previous = topic.name
        air = ctx.at(day, schedule.start_time())
        aired = day < ctx.today
        if aired:
            status = EpisodeStatus.published
        else:
            status = EpisodeStatus.confirmed if ahead < CONFIRMED_AHEAD else EpisodeStatus.planned
            ahead += 1
        created = min(air - timedelta(days=21), ctx.day_start)
        published = air + timedelta(hours=2) if aired else None
        rows.append(
            {
                "number": number,
                "title": phrase,  # the number is shown beside it, not in it
                "topic": topic.name,
                "air_start": air,
                "duration_minutes": schedule.duration_minutes,
                "status": status.value,
                "hosts": hosts_for(day.year, ctx.station.settings.show.hosts),
                "description": f"围绕“{phrase}”，政协委员走进直播间，回答听众的来信来电。",
                "published_at": published,
                "created_at": created,
                "updated_at": published or created,
            }
        )
    ids = insert_rows(ctx.session, Episode, rows)
    ctx.episodes = [
        DemoEpisode(
            id=episode_id,
            number=row["number"],
            day=day,
            air_start=row["air_start"],
            topic=row["topic"],
            aired=day < ctx.today,
        )
        for episode_id, row, (_, day) in zip(ids, rows, plan, strict=True)
    ]


# ---------------------------------------------------------------- step: members

MEMBER_COUNT = 320
# Every sector gets this many members before the rest are shared out.
MEMBERS_PER_SECTOR = 4
# Sectors with more seats on a committee than the others.
LARGE_SECTORS = ("中国共产党", "经济界", "教育界", "医药卫生界", "科学技术界", "无党派人士")
TERM_YEARS = 5


@dataclass
class DemoMember:
    """A member as the later steps see it: who, which sector, and the years of service."""

    id: int
    name: str
    sector: str
    first_year: int
    last_year: int
    weight: int
    """How often producers invite this member, relative to the others."""

    def serves(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year


def add_members(ctx: DemoContext) -> None:
    """Members across all 31 sectors, each serving one to four five-year terms."""
    rng = ctx.rng("members")
    names = sectors()
    weights = [3 if s in LARGE_SECTORS else 1 for s in names]
    # Each sector's first seats are staggered so that it always has someone serving;
    # the other seats start in any year.
    seats: list[tuple[str, int | None]] = [
        (sector, seat) for seat in range(MEMBERS_PER_SECTOR) for sector in names
    ]
    extra = rng.choices(names, weights=weights, k=MEMBER_COUNT - len(seats))
    seats += [(sector, None) for sector in extra]
    rng.shuffle(seats)
    levels = list(data.LEVEL_WEIGHTS)
    rows: list[dict[str, Any]] = []
    terms: list[tuple[int, int, int]] = []
    for sector, seat in seats:
        district = rng.choice(data.DISTRICTS)
        if seat is None:
            first_year = rng.randrange(1996, ctx.today.year)
            served = rng.choice((1, 1, 2, 2, 3, 4))
        else:
            first_year = 1996 + 7 * seat + rng.randrange(3)
            served = 4 if seat == MEMBERS_PER_SECTOR - 1 else rng.choice((2, 3))
        last_year = first_year + TERM_YEARS * served - 1
        terms.append((first_year, last_year, rng.choice((1, 1, 1, 2, 2, 3, 5, 8))))
        rows.append(
            {
                "name": data.person_name(rng),
                "sector": sector,
                "level": rng.choices(levels, weights=list(data.LEVEL_WEIGHTS.values()))[0],
                "affiliation": data.affiliation(rng, sector, district),
                "district": district,
                "contact": data.mobile(rng) if rng.random() < 0.85 else data.email(rng),
                "active": last_year >= ctx.today.year,
                "created_at": ctx.at(date(first_year, 1, 15), time(9, 0)),
            }
        )
    # Two members share the commonest name, as on any real committee: lookups by name
    # must then ask for the id.
    for index in (17, 203):
        rows[index]["name"] = "王伟"
    ids = insert_rows(ctx.session, Member, rows)
    ctx.members = [
        DemoMember(member_id, row["name"], row["sector"], first, last, weight)
        for member_id, row, (first, last, weight) in zip(ids, rows, terms, strict=True)
    ]


# ---------------------------------------------------------------- step: bookings


def _pick_guests(
    rng: random.Random,
    pool: Sequence[DemoMember],
    cumulative: Sequence[int],
    preferred_sectors: Sequence[str],
    count: int,
) -> list[DemoMember]:
    """``count`` different members, usually one from a sector that knows the topic."""
    chosen: list[DemoMember] = []
    experts = [m for m in pool if m.sector in preferred_sectors]
    if experts and rng.random() < 0.8:
        chosen.append(rng.choice(experts))
    while len(chosen) < count:
        member = rng.choices(pool, cum_weights=cumulative)[0]
        if member not in chosen:
            chosen.append(member)
    return chosen


def add_bookings(ctx: DemoContext) -> None:
    """Two or three guests an episode: appearances in the past, invitations ahead."""
    rng = ctx.rng("bookings")
    limit = ctx.station.settings.bookings.guest_limit
    pools: dict[int, tuple[list[DemoMember], list[int]]] = {}
    rows: list[dict[str, Any]] = []
    ahead = 0
    for episode in ctx.episodes:
        year = episode.day.year
        if year not in pools:
            pool = [m for m in ctx.members if m.serves(year)]
            pools[year] = (pool, list(accumulate(m.weight for m in pool)))
        pool, cumulative = pools[year]
        count = min(limit, 3 if rng.random() < 0.4 else 2)
        # One more member is sometimes asked and declines.
        declined = 1 if rng.random() < 0.08 else 0
        preferred = topic_named(episode.topic).sectors
        chosen = _pick_guests(rng, pool, cumulative, preferred, count + declined)
        confirm_odds = 0.85 if ahead < 4 else 0.25
        ahead += 0 if episode.aired else 1
        guests: list[int] = []
        for position, member in enumerate(chosen):
            if position == count:
                status = BookingStatus.declined
            elif episode.aired:
                status = BookingStatus.appeared if rng.random() < 0.96 else BookingStatus.no_show
            else:
                confirmed = rng.random() < confirm_odds
                status = BookingStatus.confirmed if confirmed else BookingStatus.invited
            if status in (BookingStatus.appeared, BookingStatus.confirmed, BookingStatus.invited):
                guests.append(member.id)
            role = rng.choices(list(Role), weights=(80, 15, 5))[0]
            created = min(episode.air_start - timedelta(days=rng.randint(7, 28)), ctx.day_start)
            updated = episode.air_start + timedelta(hours=1) if episode.aired else created
            rows.append(
                {
                    "episode_id": episode.id,
                    "member_id": member.id,
                    "role": role.value,
                    "status": status.value,
                    "created_at": created,
                    "updated_at": updated,
                }
            )
        ctx.guests[episode.number] = guests
    insert_rows(ctx.session, Booking, rows)
