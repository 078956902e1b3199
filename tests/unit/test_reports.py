"""The sector report: all 31 sectors, zeros included, local years, least represented first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from episodes.reports import SectorReport, sector_report
from hotline.errors import InvalidInput
from hotline.models import Booking, Episode, Member
from hotline.station import Station
from hotline.vocab import sectors

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def session(station: Station) -> Iterator[Session]:
    with Session(station.engine, expire_on_commit=False) as session:
        yield session


def fill(session: Session) -> None:
    # 2023-12-31 17:00 UTC is already 2024-01-01 01:00 in Shanghai.
    starts = {
        1: datetime(2023, 6, 3, 3, 0, tzinfo=UTC),
        2: datetime(2023, 12, 31, 17, 0, tzinfo=UTC),
        3: datetime(2024, 3, 2, 3, 0, tzinfo=UTC),
    }
    episodes = {n: Episode(number=n, title=f"第{n}期", air_start=t) for n, t in starts.items()}
    members = [
        Member(name="王伟", sector="经济界"),
        Member(name="李娜", sector="经济界", active=False),
        Member(name="张强", sector="教育界"),
        Member(name="陈静", sector="宗教界"),
    ]
    session.add_all([*episodes.values(), *members])
    session.flush()
    bookings = [
        (1, members[0], "appeared"),
        (2, members[0], "appeared"),
        (3, members[1], "appeared"),
        (3, members[2], "appeared"),
        (1, members[2], "no_show"),
        (2, members[3], "declined"),
    ]
    for number, member, status in bookings:
        session.add(Booking(episode_id=episodes[number].id, member_id=member.id, status=status))
    session.flush()


def test_all_sectors_with_zeros_least_represented_first(session: Session) -> None:
    fill(session)
    report = sector_report(session=session, tz=TZ)
    assert report.total_appearances == 4
    assert sorted(r.sector for r in report.rows) == sorted(sectors())
    by_sector = {r.sector: r for r in report.rows}
    economy = by_sector["经济界"]
    assert (economy.members, economy.active_members, economy.appearances) == (2, 1, 3)
    assert economy.share == pytest.approx(0.75)
    religion = by_sector["宗教界"]
    assert (religion.members, religion.appearances, religion.share) == (1, 0, 0.0)
    # Least represented first; ties keep protocol order.
    assert [r.appearances for r in report.rows] == sorted(r.appearances for r in report.rows)
    assert report.rows[0].sector == sectors()[0]
    assert report.rows[-1].sector == "经济界"


def appearances(report: SectorReport) -> dict[str, int]:
    return {r.sector: r.appearances for r in report.rows}


def test_year_is_the_local_air_date(session: Session) -> None:
    fill(session)
    in_2023 = appearances(sector_report(session=session, tz=TZ, year=2023))
    in_2024 = appearances(sector_report(session=session, tz=TZ, year=2024))
    assert in_2023["经济界"] == 1
    assert (in_2024["经济界"], in_2024["教育界"]) == (2, 1)
    # Read in UTC, episode 2 falls in 2023.
    utc_2023 = sector_report(session=session, tz=ZoneInfo("UTC"), year=2023)
    assert appearances(utc_2023)["经济界"] == 2


def test_empty_station_and_bad_year(session: Session) -> None:
    report = sector_report(session=session, tz=TZ, year=2020)
    assert report.total_appearances == 0
    assert len(report.rows) == 31
    assert all(r.share == 0.0 and r.members == 0 for r in report.rows)
    with pytest.raises(InvalidInput, match="year 0 is out of range"):
        sector_report(session=session, tz=TZ, year=0)
