"""`hotline bookings …` and `hotline report sectors` through the real CLI.

Every refusal is shown to the user as one line and leaves the bookings as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hotline.config import save_settings
from hotline.models import Booking, Episode, Member
from hotline.station import Station
from hotline.timeutil import local_text, utcnow

Cli = Callable[..., Any]
# Well ahead, at a whole hour, so the local slot text is predictable.
SOON = (utcnow() + timedelta(days=30)).replace(minute=0, second=0, microsecond=0)


def bookings_table(station: Station) -> list[tuple[Any, ...]]:
    with station.engine.connect() as conn:
        rows = conn.execute(sa.select(Booking.__table__).order_by("id"))
        return [tuple(r) for r in rows]


def add_episode(
    station: Station, number: int, air_start: datetime, *, status: str = "planned"
) -> None:
    with station.session() as session:
        session.add(
            Episode(number=number, title=f"第{number}期", air_start=air_start, status=status)
        )


def refused(cli: Cli, station: Station, args: tuple[str, ...], *needles: str) -> str:
    before = bookings_table(station)
    result = cli(*args)
    assert result.exit_code == 1, result.stdout
    assert result.stderr.startswith("hotline: error: ")
    assert result.stderr.count("\n") == 1
    for needle in needles:
        assert needle in result.stderr, result.stderr
    assert bookings_table(station) == before
    return result.stderr


@pytest.fixture
def desk(cli: Cli, station: Station) -> Cli:
    """Members 王伟 (经济界), 李娜 (医药卫生界), 张强 (inactive) and episodes 1001–1003."""
    cli("members", "add", "--name", "王伟", "--sector", "经济界")
    cli("members", "add", "--name", "李娜", "--sector", "医药卫生界")
    cli("members", "add", "--name", "张强", "--sector", "教育界", "--inactive")
    add_episode(station, 1001, SOON)
    add_episode(station, 1002, SOON + timedelta(minutes=30))  # overlaps 1001
    add_episode(station, 1003, SOON + timedelta(days=7))
    return cli


def test_lifecycle_through_the_cli(desk: Cli, station: Station) -> None:
    added = desk("bookings", "add", "1001", "王伟", "--role", "expert")
    assert added.exit_code == 0, added.stderr
    slot = local_text(SOON, station.tz)
    assert added.stdout.strip() == f"episode 1001 ({slot}): 王伟 #1 as expert: invited"
    assert "confirmed" in desk("bookings", "confirm", "1001", "王伟").stdout
    desk("bookings", "add", "1003", "#2")
    assert "declined" in desk("bookings", "decline", "1003", "李娜").stdout
    assert "invited" in desk("bookings", "add", "1003", "李娜").stdout  # re-invited
    assert "cancelled" in desk("bookings", "cancel", "1003", "2").stdout

    rows = desk("bookings", "list", "--json").json()
    assert [(r["episode"], r["name"], r["role"], r["status"]) for r in rows] == [
        (1001, "王伟", "expert", "confirmed"),
        (1003, "李娜", "guest", "cancelled"),
    ]
    assert rows[0]["air_start"] == SOON.astimezone(station.tz).isoformat()
    assert set(rows[0]) == {
        "id", "episode", "air_start", "title", "member_id", "name", "sector", "role", "status",
    }  # fmt: skip
    assert [r["name"] for r in desk("bookings", "list", "--episode", "1003", "--json").json()] == [
        "李娜"
    ]
    assert [
        r["episode"] for r in desk("bookings", "list", "--member", "王伟", "--json").json()
    ] == [1001]
    table = desk("bookings", "list").stdout
    assert "王伟 #1" in table and "2 bookings" in table


def test_every_refusal_is_shown_and_changes_nothing(desk: Cli, station: Station) -> None:
    desk("bookings", "add", "1001", "王伟")
    desk("bookings", "add", "1002", "王伟")
    desk("bookings", "confirm", "1001", "王伟")
    tz = station.tz
    slot = f"{local_text(SOON, tz)}–{local_text(SOON + timedelta(hours=1), tz, '%H:%M')}"
    overlap = (
        f"王伟 (#1) is already confirmed on episode 1001 ({slot}), which overlaps episode 1002"
    )
    refused(desk, station, ("bookings", "confirm", "1002", "王伟"), overlap)
    desk("bookings", "cancel", "1002", "王伟")
    refused(desk, station, ("bookings", "add", "1002", "王伟"), overlap)
    refused(desk, station, ("bookings", "add", "1001", "王伟"), "already booked on episode 1001")
    refused(desk, station, ("bookings", "add", "1001", "张强"), "member #3 张强 is inactive")
    refused(desk, station, ("bookings", "add", "1001", "赵六"), "no member named '赵六'")
    refused(desk, station, ("bookings", "add", "999", "王伟"), "episode 999 does not exist")
    refused(desk, station, ("bookings", "add", "1003", "王伟", "--role", "host"),
            "unknown role 'host': use guest, expert, official")  # fmt: skip
    refused(desk, station, ("bookings", "appeared", "1001", "王伟"),
            "episode 1001 has not aired yet; mark appeared after it airs")  # fmt: skip
    desk("bookings", "add", "1003", "王伟")
    refused(
        desk,
        station,
        ("bookings", "no-show", "1003", "王伟"),
        "is invited: cannot move to no_show (allowed: confirmed, declined, cancelled)",
    )
    refused(desk, station, ("bookings", "confirm", "1003", "李娜"), "not booked on episode 1003")


def test_guest_limit(desk: Cli, station: Station) -> None:
    station.settings.bookings.guest_limit = 2
    save_settings(station.settings, station.settings_path)  # the database's url stays
    desk("members", "add", "--name", "陈静", "--sector", "农业界")
    desk("bookings", "add", "1003", "王伟")
    desk("bookings", "add", "1003", "李娜")
    refused(desk, station, ("bookings", "add", "1003", "陈静"),
            "episode 1003 is at its guest limit (2 of 2 booked)")  # fmt: skip
    desk("bookings", "decline", "1003", "李娜")
    assert desk("bookings", "add", "1003", "陈静").exit_code == 0


def test_cancelled_and_aired_episodes(desk: Cli, station: Station) -> None:
    add_episode(station, 990, SOON, status="cancelled")
    add_episode(station, 999, utcnow() - timedelta(days=1))
    refused(desk, station, ("bookings", "add", "990", "王伟"), "episode 990 is cancelled")
    refused(desk, station, ("bookings", "add", "999", "王伟"), "episode 999 has already aired")
    # Recording what happened on an aired episode is allowed.
    with station.session() as session:
        aired = session.exec(sa.select(Episode.id).where(Episode.number == 999)).scalar_one()
        session.add(Booking(episode_id=aired, member_id=1, status="confirmed"))
    assert "appeared" in desk("bookings", "appeared", "999", "王伟").stdout
    refused(desk, station, ("bookings", "cancel", "999", "王伟"),
            "is appeared: cannot move to cancelled (allowed: none)")  # fmt: skip


def test_ambiguous_name(desk: Cli, station: Station) -> None:
    desk("members", "add", "--name", "王伟", "--sector", "教育界")
    refused(desk, station, ("bookings", "add", "1003", "王伟"),
            "2 members are named '王伟' (#1 经济界, #4 教育界): give the id")  # fmt: skip
    assert "#4" in desk("bookings", "add", "1003", "4").stdout


def test_sector_report(desk: Cli, station: Station) -> None:
    with station.session() as session:
        aired = Episode(number=900, title="往期", air_start=datetime(2023, 12, 31, 17, tzinfo=UTC))
        older = Episode(number=800, title="往期", air_start=datetime(2021, 5, 1, 3, tzinfo=UTC))
        session.add_all([aired, older])
        session.flush()
        session.add(Booking(episode_id=aired.id, member_id=1, status="appeared"))
        session.add(Booking(episode_id=older.id, member_id=1, status="appeared"))
        session.add(Booking(episode_id=older.id, member_id=2, status="appeared"))
        session.add(Member(name="孙丽", sector="宗教界"))
    report = desk("report", "sectors", "--json").json()
    assert report["year"] is None and report["total_appearances"] == 3
    assert len(report["sectors"]) == 31
    assert report["sectors"][-1] == {
        "sector": "经济界", "members": 1, "active_members": 1, "appearances": 2, "share": 0.6667,
    }  # fmt: skip
    religion = next(r for r in report["sectors"] if r["sector"] == "宗教界")
    assert (religion["members"], religion["appearances"]) == (1, 0)
    in_2024 = desk("report", "sectors", "--year", "2024", "--json").json()  # 01:00 local
    assert in_2024["total_appearances"] == 1
    text = desk("report", "sectors").stdout
    assert text.splitlines()[0].split() == ["界别", "委员", "在任", "出场", "占比"]
    assert "66.7%" in text and "3 appearances in all years; least represented first" in text
    bad = desk("report", "sectors", "--year", "0")
    assert bad.exit_code == 1 and "year 0 is out of range" in bad.stderr
