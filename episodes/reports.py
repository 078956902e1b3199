"""The sector report: appearances per sector (界别), so under-represented sectors show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from hotline.errors import InvalidInput
from hotline.models import Booking, BookingStatus, Episode, Member, table_of
from hotline.vocab import sectors


@dataclass
class SectorRow:
    """One sector's members and appearances; ``share`` is of all appearances in the report."""

    sector: str
    members: int
    active_members: int
    appearances: int
    share: float


@dataclass
class SectorReport:
    year: int | None
    total_appearances: int
    rows: list[SectorRow]


def year_bounds(year: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where local ``year`` starts and the next one starts."""
    if not 1900 <= year <= 9998:
        raise InvalidInput(f"year {year} is out of range")
    start = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC)
    return start, end


def sector_report(*, session: Session, tz: ZoneInfo, year: int | None = None) -> SectorReport:
    """Appearances and members for all 31 sectors, least represented first.

    ``year`` limits appearances to episodes whose local air date falls in it. Two
    grouped queries, whatever the number of bookings.
    """
    # Core columns: a report needs no ORM objects, nor the ORM's compile step.
    booking, member, episode = table_of(Booking).c, table_of(Member).c, table_of(Episode).c
    appeared = (
        sa.select(member.sector, sa.func.count())
        .select_from(table_of(Booking).join(table_of(Member), member.id == booking.member_id))
        .where(booking.status == BookingStatus.appeared)
    )
    if year is not None:
        start, end = year_bounds(year, tz)
        appeared = appeared.join(table_of(Episode), episode.id == booking.episode_id).where(
            episode.air_start >= start, episode.air_start < end
        )
    connection = session.connection()
    appearances = dict(connection.execute(appeared.group_by(member.sector)).all())
    members = {
        sector: (int(total), int(active or 0))
        for sector, total, active in connection.execute(
            sa.select(
                member.sector,
                sa.func.count(),
                sa.func.sum(sa.case((member.active, 1), else_=0)),
            ).group_by(member.sector)
        ).all()
    }
    total = sum(appearances.get(s, 0) for s in sectors())
    rows = [
        SectorRow(
            sector=s,
            members=members.get(s, (0, 0))[0],
            active_members=members.get(s, (0, 0))[1],
            appearances=int(appearances.get(s, 0)),
            share=appearances.get(s, 0) / total if total else 0.0,
        )
        for s in sectors()
    ]
    order = {s: i for i, s in enumerate(sectors())}
    rows.sort(key=lambda r: (r.appearances, order[r.sector]))
    return SectorReport(year=year, total_appearances=total, rows=rows)
