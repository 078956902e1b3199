"""Calendar invitations: parsed back with icalendar, times compared in UTC, UID and SEQUENCE
across a reschedule, METHOD:CANCEL when the episode or the booking is off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from episodes import bookings, schedule
from episodes.calendar_invites import invitations
from episodes.members import add_member
from hotline.errors import Conflict
from hotline.station import Station

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
AIR_UTC = datetime(2026, 12, 12, 3, 0, tzinfo=UTC)  # Saturday 11:00 in Shanghai


@pytest.fixture
def desk(station: Station) -> Station:
    station.settings.show.studio = "人民广播电台 三号直播室"
    with station.session() as s:
        common = {"session": s, "settings": station.settings, "now": NOW}
        schedule.add_episode(
            **common, number=1200, title="养老服务怎么办", topic="社区养老", air="2026-12-12 11:00"
        )
        add_member(session=s, name="王伟", sector="医药卫生界", contact="wangwei@example.cn")
        add_member(session=s, name="李娜", sector="教育界", contact="13900002222")
        add_member(session=s, name="陈静", sector="社会福利和社会保障界")
        bookings.add_booking(**common, episode=1200, member="王伟")
        bookings.confirm_booking(**common, episode=1200, member="王伟")
        bookings.add_booking(**common, episode=1200, member="李娜", role="expert")
        bookings.add_booking(**common, episode=1200, member="陈静")
        bookings.decline_booking(**common, episode=1200, member="陈静")
    return station


def invite(station: Station, member: str | None = None) -> list[tuple[str, icalendar.Calendar]]:
    with station.session() as s:
        made = invitations(
            session=s, settings=station.settings, episode=1200, member=member, now=NOW
        )
    return [(i.member_name, icalendar.Calendar.from_ical(i.data)) for i in made]


def event_of(calendar: icalendar.Calendar) -> icalendar.Event:
    (event,) = calendar.walk("VEVENT")
    return event


def test_the_invitation_carries_arrival_air_time_studio_and_topic(desk: Station) -> None:
    (name, calendar), (other, _) = invite(desk)
    assert (name, other) == ("王伟", "李娜")  # 陈静 declined: no invitation
    event = event_of(calendar)
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert start.astimezone(UTC) == AIR_UTC - timedelta(minutes=30)  # bookings.arrive_minutes
    assert end.astimezone(UTC) == AIR_UTC + timedelta(minutes=60)
    assert str(event["dtstart"].params["TZID"]) == "Asia/Shanghai"
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["tzid"]) == "Asia/Shanghai"
    assert str(event["summary"]) == "第1200期 养老服务怎么办"
    assert str(event["location"]) == "人民广播电台 三号直播室"
    description = str(event["description"])
    assert "话题：社区养老" in description and "请于 10:30 到达，11:00 开播" in description
    assert str(calendar["method"]) == "REQUEST"
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["attendee"]) == "mailto:wangwei@example.cn"


def test_a_phone_number_never_goes_into_the_file(desk: Station) -> None:
    with desk.session() as s:
        (made,) = invitations(session=s, settings=desk.settings, episode=1200, member="李娜")
    assert b"13900002222" not in made.data
    event = event_of(icalendar.Calendar.from_ical(made.data))
    assert "attendee" not in event and str(event["status"]) == "TENTATIVE"


def test_a_reschedule_keeps_the_uid_and_raises_the_sequence(desk: Station) -> None:
    (_, before), _ = invite(desk)
    with desk.session() as s:
        schedule.reschedule_episode(
            session=s, settings=desk.settings, number=1200, air="2026-12-12 14:00", now=NOW
        )
    (_, after), _ = invite(desk)
    first, second = event_of(before), event_of(after)
    assert str(first["uid"]) == str(second["uid"])
    assert int(second["sequence"]) > int(first["sequence"])
    moved = AIR_UTC + timedelta(hours=3)
    assert second.decoded("dtstart").astimezone(UTC) == moved - timedelta(minutes=30)


def test_cancelling_the_booking_or_the_episode_writes_a_cancellation(desk: Station) -> None:
    (_, invited), _ = invite(desk)
    with desk.session() as s:
        bookings.cancel_booking(
            session=s, settings=desk.settings, episode=1200, member="李娜", now=NOW
        )
    ((_, booking_off),) = invite(desk, "李娜")
    assert str(booking_off["method"]) == "CANCEL"
    assert str(event_of(booking_off)["status"]) == "CANCELLED"
    with desk.session() as s:
        schedule.cancel_episode(session=s, number=1200)
    ((_, episode_off),) = invite(desk, "王伟")
    assert str(episode_off["method"]) == "CANCEL"
    assert str(event_of(episode_off)["uid"]) == str(event_of(invited)["uid"])
    assert int(event_of(episode_off)["sequence"]) > int(event_of(invited)["sequence"])


def test_a_declined_booking_gets_no_invitation(desk: Station) -> None:
    with pytest.raises(Conflict, match="陈静 \\(#3\\) declined episode 1200"):
        invite(desk, "陈静")
    with pytest.raises(Conflict, match="is not booked on episode 1200"):
        with desk.session() as s:
            add_member(session=s, name="赵刚", sector="经济界")
        invite(desk, "赵刚")
