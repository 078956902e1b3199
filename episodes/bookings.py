"""Bookings of members on episodes: the lifecycle and the checks that refuse a bad booking.

Lifecycle: invited → confirmed → appeared; invited/confirmed → declined or cancelled;
confirmed → no_show. Re-adding a declined or cancelled booking invites the member again.
Every check is an indexed query (booking by episode, by member, by the pair), so a
booking costs the same on a station with ten thousand of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from episodes.lookup import get_episode, get_member
from hotline.config import Settings
from hotline.errors import BookingConflict, InvalidInput, InvalidTransition
from hotline.models import Booking, BookingStatus, Episode, EpisodeStatus, Member, Role
from hotline.timeutil import local_text, utcnow, zone

S = BookingStatus
MOVES: dict[str, tuple[str, ...]] = {
    S.invited: (S.confirmed, S.declined, S.cancelled),
    S.confirmed: (S.appeared, S.declined, S.cancelled, S.no_show),
    S.appeared: (),
    S.declined: (),
    S.cancelled: (),
    S.no_show: (),
}
# Statuses that hold a seat on the episode (the guest limit counts them).
SEATED = (S.invited, S.confirmed, S.appeared)
# Statuses a new booking may replace: the member is invited again.
REUSABLE = (S.declined, S.cancelled)
# Moves that record what happened on air; every other move needs an episode still to come.
AFTER_AIRING = (S.appeared, S.no_show)
# Moves that free the member; allowed on a cancelled episode, not once it has aired.
RELEASES = (S.declined, S.cancelled)
STATUS_ZH: dict[str, str] = {
    S.invited: "已邀请",
    S.confirmed: "已确认",
    S.appeared: "已出场",
    S.declined: "已婉拒",
    S.cancelled: "已取消",
    S.no_show: "未到场",
}


@dataclass
class BookingView:
    """A booking with the episode and member facts that lists show."""

    id: int
    episode: int
    air_start: datetime
    title: str
    member_id: int
    name: str
    sector: str
    role: str
    status: str


def check_role(value: str) -> Role:
    """The role named by ``value`` (guest, expert, official)."""
    try:
        return Role(value.strip())
    except ValueError as exc:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput(
            f"unknown role {value!r}: use {allowed}", zh=f"未知角色 {value!r}"
        ) from exc


def _ends(episode: Episode) -> datetime:
    return episode.air_start + timedelta(minutes=episode.duration_minutes)


def _slot(episode: Episode, settings: Settings) -> str:
    tz = zone(settings.show.timezone)
    return f"{local_text(episode.air_start, tz)}–{local_text(_ends(episode), tz, '%H:%M')}"


def _check_episode_open(episode: Episode, move: str, now: datetime) -> None:
    """Refuse a move the episode's state rules out: cancelled, aired, or not aired yet."""
    if episode.status == EpisodeStatus.cancelled:
        if move in RELEASES:
            return  # releasing the guests of a cancelled episode is the desk's cleanup
        raise BookingConflict(
            f"episode {episode.number} is cancelled", zh=f"第{episode.number}期已取消"
        )
    aired = episode.air_start <= now
    if move in AFTER_AIRING and not aired:
        raise BookingConflict(
            f"episode {episode.number} has not aired yet; mark {move} after it airs",
            zh=f"第{episode.number}期尚未播出，播出后才能标记{STATUS_ZH[move]}",
        )
    if move not in AFTER_AIRING and aired:
        raise BookingConflict(
            f"episode {episode.number} has already aired", zh=f"第{episode.number}期已经播出"
        )


def _check_active(member: Member) -> None:
    if not member.active:
        raise BookingConflict(
            f"member #{member.id} {member.name} is inactive",
            zh=f"委员 #{member.id} {member.name} 已离任",
        )


def _check_overlap(session: Session, settings: Settings, episode: Episode, member: Member) -> None:
    """Refuse when the member is confirmed on another episode whose slot overlaps this one."""
    # Indexed on booking.member_id; only earlier-starting episodes can reach into this
    # slot, and the member's few confirmed bookings are checked for their own length.
    candidates = session.exec(
        select(Episode)
        .join(Booking, Booking.episode_id == Episode.id)
        .where(Booking.member_id == member.id)
        .where(Booking.status == S.confirmed)
        .where(Episode.id != episode.id)
        .where(Episode.status != EpisodeStatus.cancelled)
        .where(Episode.air_start < _ends(episode))
        .order_by(Episode.air_start)
    ).all()
    for other in candidates:
        if _ends(other) > episode.air_start:
            raise BookingConflict(
                f"{member.name} (#{member.id}) is already confirmed on episode {other.number} "
                f"({_slot(other, settings)}), which overlaps episode {episode.number} "
                f"({_slot(episode, settings)})",
                zh=f"{member.name}（#{member.id}）已确认参加第{other.number}期"
                f"（{_slot(other, settings)}），与第{episode.number}期"
                f"（{_slot(episode, settings)}）时间冲突",
            )


def _check_guest_limit(session: Session, settings: Settings, episode: Episode) -> None:
    seated = session.exec(
        select(sa.func.count())
        .select_from(Booking)
        .where(Booking.episode_id == episode.id)
        .where(col(Booking.status).in_(SEATED))
    ).one()
    limit = settings.bookings.guest_limit
    if seated >= limit:
        raise BookingConflict(
            f"episode {episode.number} is at its guest limit ({seated} of {limit} booked)",
            zh=f"第{episode.number}期嘉宾已满（已约 {seated} 位，上限 {limit} 位）",
        )


def _find(session: Session, episode: Episode, member: Member) -> Booking | None:
    return session.exec(
        select(Booking)
        .where(Booking.episode_id == episode.id)
        .where(Booking.member_id == member.id)
    ).first()


def add_booking(
    *,
    session: Session,
    settings: Settings,
    episode: int,
    member: str | int,
    role: str = Role.guest,
    now: datetime | None = None,
) -> Booking:
    """Invite ``member`` to episode number ``episode``; refuse with the reason when it cannot be.

    A declined or cancelled booking of the same pair is invited again.
    """
    chosen_role = check_role(role)
    target = get_episode(session, episode, lock=True)  # guest limit, then overlaps
    guest = get_member(session, member, lock=True)
    _check_episode_open(target, S.invited, now or utcnow())
    _check_active(guest)
    booking = _find(session, target, guest)
    if booking is not None and booking.status not in REUSABLE:
        raise BookingConflict(
            f"{guest.name} (#{guest.id}) is already booked on episode {target.number} "
            f"({booking.status})",
            zh=f"{guest.name}（#{guest.id}）已在第{target.number}期的嘉宾名单上"
            f"（{STATUS_ZH[booking.status]}）",
        )
    _check_guest_limit(session, settings, target)
    _check_overlap(session, settings, target, guest)
    if booking is None:
        booking = Booking(episode_id=target.id, member_id=guest.id)
    booking.role = chosen_role
    booking.status = S.invited
    booking.updated_at = utcnow()
    session.add(booking)
    session.flush()
    return booking


def move_booking(
    *,
    session: Session,
    settings: Settings,
    episode: int,
    member: str | int,
    to: str,
    now: datetime | None = None,
) -> Booking:
    """Move the booking of ``member`` on episode ``episode`` to status ``to``."""
    target = get_episode(session, episode, lock=True)  # guest limit, then overlaps
    guest = get_member(session, member, lock=True)
    booking = _find(session, target, guest)
    if booking is None:
        raise BookingConflict(
            f"{guest.name} (#{guest.id}) is not booked on episode {episode}",
            zh=f"{guest.name}（#{guest.id}）不在第{episode}期的嘉宾名单上",
        )
    allowed = MOVES[booking.status]
    if to not in allowed:
        moves = ", ".join(allowed) if allowed else "none"
        hint = "; add the booking again to re-invite" if booking.status in REUSABLE else ""
        hint_zh = "；如需再次邀请，请重新邀请" if booking.status in REUSABLE else ""
        raise InvalidTransition(
            f"booking of {guest.name} on episode {episode} is {booking.status}: cannot move to "
            f"{to} (allowed: {moves}){hint}",
            zh=f"{guest.name}在第{episode}期的邀请{STATUS_ZH[booking.status]}，"
            f"不能改为{STATUS_ZH[to]}{hint_zh}",
        )
    _check_episode_open(target, to, now or utcnow())
    if to == S.confirmed:
        _check_active(guest)
        _check_overlap(session, settings, target, guest)
    booking.status = to
    booking.updated_at = utcnow()
    session.add(booking)
    session.flush()
    return booking


def confirm_booking(**kwargs: Any) -> Booking:
    """The member accepted: invited → confirmed (checked again for overlaps)."""
    return move_booking(to=S.confirmed, **kwargs)


def decline_booking(**kwargs: Any) -> Booking:
    """The member said no: invited/confirmed → declined."""
    return move_booking(to=S.declined, **kwargs)


def cancel_booking(**kwargs: Any) -> Booking:
    """The desk withdrew the invitation: invited/confirmed → cancelled."""
    return move_booking(to=S.cancelled, **kwargs)


def mark_appeared(**kwargs: Any) -> Booking:
    """After airing: confirmed → appeared."""
    return move_booking(to=S.appeared, **kwargs)


def mark_no_show(**kwargs: Any) -> Booking:
    """After airing: confirmed → no_show."""
    return move_booking(to=S.no_show, **kwargs)


def _view_query() -> Any:
    return (
        select(
            Booking.id,
            Episode.number,
            Episode.air_start,
            Episode.title,
            Member.id,
            Member.name,
            Member.sector,
            Booking.role,
            Booking.status,
        )
        .join(Episode, Episode.id == Booking.episode_id)
        .join(Member, Member.id == Booking.member_id)
    )


def describe_booking(*, session: Session, booking: Booking) -> BookingView:
    """The booking with its episode number and member name, for messages."""
    row = session.exec(_view_query().where(Booking.id == booking.id)).one()
    return BookingView(*row)


def list_bookings(
    *,
    session: Session,
    episode: int | None = None,
    member: str | int | None = None,
    status: str | None = None,
) -> list[BookingView]:
    """Bookings of one episode, of one member, or all; oldest episode first."""
    query = _view_query()
    if episode is not None:
        query = query.where(Booking.episode_id == get_episode(session, episode).id)
    if member is not None:
        query = query.where(Booking.member_id == get_member(session, member).id)
    if status is not None:
        if status not in MOVES:
            raise InvalidInput(f"unknown booking status {status!r}: use {', '.join(MOVES)}")
        query = query.where(Booking.status == status)
    rows = session.exec(query.order_by(Episode.air_start, Booking.id)).all()
    return [BookingView(*row) for row in rows]
