"""Calendar invitations for booked guests: one iCalendar (RFC 5545) file per booking.

Built with the ``icalendar`` package: the event starts when the guest is asked to arrive
(air start − ``bookings.arrive_minutes``) and ends when the show ends, in the station's
zone with its VTIMEZONE included, at the studio named in settings, with the topic in the
description. Each booking keeps one UID for ever, so a calendar updates the event it
already holds: every change that moves or cancels it (the episode rescheduled, retitled,
cancelled; the booking confirmed or cancelled) raises SEQUENCE, counted from the
station's history. A cancelled episode or booking gives ``METHOD:CANCEL``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlparse

import icalendar
from sqlmodel import Session, select

from episodes.lookup import get_episode, get_member
from hotline.config import Settings
from hotline.errors import Conflict
from hotline.history import read_history
from hotline.models import Booking, BookingStatus, Episode, EpisodeStatus, Member
from hotline.timeutil import utcnow, zone

# Changes that move, retitle or cancel the event a guest holds.
EPISODE_FIELDS = frozenset({"air_start", "duration_minutes", "title", "topic", "status"})
BOOKING_FIELDS = frozenset({"status", "role"})
INVITED = (BookingStatus.invited, BookingStatus.confirmed)
ROLE_ZH = {"guest": "嘉宾", "expert": "专家", "official": "官员"}


@dataclass(frozen=True)
class Invitation:
    """One guest's calendar file."""

    booking_id: int
    member_id: int
    member_name: str
    method: str
    """REQUEST (come to the show) or CANCEL (the episode or the booking is off)."""
    sequence: int
    filename: str
    data: bytes


def booking_uid(booking: Booking, settings: Settings) -> str:
    """The booking's UID: the same in every invitation written for it."""
    host = urlparse(settings.feeds.base_url).hostname or "hotline.invalid"
    return f"booking-{booking.id}@{host}"


def sequence(session: Session, episode: Episode, booking: Booking) -> int:
    """How often the event has changed since the booking was made (history-counted)."""
    count = 0
    for entry in read_history(session, episode_id=episode.id):
        if entry.action != "update":
            continue
        fields = set(entry.changes)
        if (
            entry.entity == "episode"
            and fields & EPISODE_FIELDS
            or (
                entry.entity == "booking"
                and entry.entity_id == booking.id
                and fields & BOOKING_FIELDS
            )
        ):
            count += 1
    return count


def _description(episode: Episode, booking: Booking, arrive: datetime, tz_name: str) -> str:
    tz = zone(tz_name)
    role = ROLE_ZH.get(booking.role, booking.role)
    lines = [
        f"第{episode.number}期《{episode.title}》",
        f"话题：{episode.topic}" if episode.topic else "",
        f"身份：{role}",
        f"请于 {arrive.astimezone(tz):%H:%M} 到达，{episode.air_start.astimezone(tz):%H:%M} 开播，"
        f"时长 {episode.duration_minutes} 分钟。",
    ]
    return "\n".join(line for line in lines if line)


def build_invitation(
    *,
    session: Session,
    settings: Settings,
    episode: Episode,
    booking: Booking,
    member: Member,
    now: datetime | None = None,
) -> Invitation:
    """The iCalendar file of one booking (REQUEST, or CANCEL when the episode or it is off)."""
    tz = zone(settings.show.timezone)
    cancelled = (
        episode.status == EpisodeStatus.cancelled or booking.status == BookingStatus.cancelled
    )
    method = "CANCEL" if cancelled else "REQUEST"
    arrive = episode.air_start - timedelta(minutes=settings.bookings.arrive_minutes)
    ends = episode.air_start + timedelta(minutes=episode.duration_minutes)
    seq = sequence(session, episode, booking)

    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//{settings.show.name}//hotline//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = icalendar.Event()
    event.add("uid", booking_uid(booking, settings))
    event.add("sequence", seq)
    event.add("dtstamp", (now or utcnow()).replace(microsecond=0))
    event.add("dtstart", arrive.astimezone(tz))
    event.add("dtend", ends.astimezone(tz))
    event.add("summary", f"第{episode.number}期 {episode.title}")
    event.add("location", settings.show.studio)
    event.add("description", _description(episode, booking, arrive, settings.show.timezone))
    if cancelled:
        event.add("status", "CANCELLED")
    else:
        event.add(
            "status", "CONFIRMED" if booking.status == BookingStatus.confirmed else "TENTATIVE"
        )
    event.add(
        "organizer", f"mailto:{settings.show.owner_email}", parameters={"CN": settings.show.author}
    )
    if "@" in member.contact:
        # The guest's own address, in the file made for that guest: their calendar needs
        # it to know the invitation is theirs. A phone number is never written.
        partstat = "ACCEPTED" if booking.status == BookingStatus.confirmed else "NEEDS-ACTION"
        event.add(
            "attendee",
            f"mailto:{member.contact}",
            parameters={"CN": member.name, "ROLE": "REQ-PARTICIPANT", "PARTSTAT": partstat},
        )
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return Invitation(
        booking_id=booking.id or 0,
        member_id=member.id or 0,
        member_name=member.name,
        method=method,
        sequence=seq,
        filename=f"{episode.number}-{member.id}-{member.name}.ics",
        data=calendar.to_ical(),
    )


def _refuse(booking: Booking, member: Member, episode: Episode) -> None:
    """A booking no invitation can be written for: declined, or the show has been."""
    if booking.status == BookingStatus.declined:
        raise Conflict(
            f"{member.name} (#{member.id}) declined episode {episode.number}: "
            "there is nothing to invite them to",
            zh=f"{member.name} 已婉拒第{episode.number}期，无需发送日程",
        )
    if booking.status in (BookingStatus.appeared, BookingStatus.no_show):
        raise Conflict(
            f"episode {episode.number} has aired ({member.name} is marked {booking.status}): "
            "no invitation is needed",
            zh=f"第{episode.number}期已播出，无需发送日程",
        )


def invitations(
    *,
    session: Session,
    settings: Settings,
    episode: int,
    member: str | int | None = None,
    now: datetime | None = None,
) -> list[Invitation]:
    """The invitations of episode ``episode``: one member's, or every booked member's.

    Asked for one member, a declined or aired booking is refused with the reason; for the
    whole episode those bookings are left out.
    """
    found = get_episode(session, episode)
    query = select(Booking, Member).join(Member, Member.id == Booking.member_id)
    query = query.where(Booking.episode_id == found.id).order_by(Booking.id)
    if member is not None:
        guest = get_member(session, member)
        pair = session.exec(query.where(Booking.member_id == guest.id)).first()
        if pair is None:
            raise Conflict(f"{guest.name} (#{guest.id}) is not booked on episode {episode}")
        _refuse(pair[0], pair[1], found)
        pairs = [pair]
    else:
        pairs = [
            (b, m)
            for b, m in session.exec(query).all()
            if b.status in (*INVITED, BookingStatus.cancelled)
        ]
        if not pairs:
            raise Conflict(f"episode {episode} has no bookings to invite anyone to")
    return [
        build_invitation(
            session=session, settings=settings, episode=found, booking=b, member=m, now=now
        )
        for b, m in pairs
    ]
