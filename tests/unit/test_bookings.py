"""Bookings: the lifecycle, every refusal, reactivation, indexed checks and the invariants."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlmodel import Session, SQLModel, select

from episodes.bookings import (
    MOVES,
    add_booking,
    cancel_booking,
    confirm_booking,
    decline_booking,
    list_bookings,
    mark_appeared,
    mark_no_show,
    move_booking,
)
from hotline import db
from hotline.config import Settings
from hotline.errors import BookingConflict, HotlineError, InvalidInput, InvalidTransition, NotFound
from hotline.models import Booking, Episode, Member
from hotline.station import Station

NOW = datetime(2024, 6, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
SETTINGS = Settings()


@pytest.fixture
def session(station: Station) -> Iterator[Session]:
    with Session(station.engine, expire_on_commit=False) as session:
        yield session


def episode(
    session: Session,
    number: int,
    air_start: datetime,
    *,
    minutes: int = 60,
    status: str = "planned",
) -> Episode:
    row = Episode(
        number=number,
        title=f"第{number}期",
        air_start=air_start,
        duration_minutes=minutes,
        status=status,
    )
    session.add(row)
    session.flush()
    return row


def member(session: Session, name: str, *, active: bool = True) -> Member:
    row = Member(name=name, sector="经济界", active=active)
    session.add(row)
    session.flush()
    return row


def snapshot(session: Session) -> list[tuple[Any, ...]]:
    rows = session.exec(sa.select(Booking.__table__)).all()
    return sorted(tuple(r) for r in rows)


def call(action: Any, session: Session, ep: int, who: str | int, **kw: Any) -> Booking:
    return action(session=session, settings=SETTINGS, episode=ep, member=who, now=NOW, **kw)


def test_full_lifecycle(session: Session) -> None:
    episode(session, 1001, NOW + timedelta(days=1))
    member(session, "王伟")
    booking = call(add_booking, session, 1001, "王伟", role="expert")
    assert (booking.status, booking.role) == ("invited", "expert")
    assert call(confirm_booking, session, 1001, "王伟").status == "confirmed"
    later = NOW + timedelta(days=2)
    done = mark_appeared(session=session, settings=SETTINGS, episode=1001, member="王伟", now=later)
    assert done.status == "appeared"
    assert [(v.episode, v.name, v.status) for v in list_bookings(session=session)] == [
        (1001, "王伟", "appeared")
    ]


@pytest.mark.parametrize("start", ["invited", "confirmed", "appeared", "declined", "cancelled"])
@pytest.mark.parametrize("to", ["confirmed", "declined", "cancelled", "appeared", "no_show"])
def test_moves_outside_the_lifecycle_are_refused(session: Session, start: str, to: str) -> None:
    # Air time chosen so the episode-state rule never decides: before airing for moves
    # that need an episode to come, after it for appeared/no_show.
    after = to in ("appeared", "no_show")
    ep = episode(session, 7, NOW + timedelta(days=1))
    guest = member(session, "李娜")
    session.add(Booking(episode_id=ep.id, member_id=guest.id, status=start))
    session.flush()
    when = NOW + timedelta(days=2) if after else NOW
    kwargs = dict(session=session, settings=SETTINGS, episode=7, member="李娜", now=when)
    if to in MOVES[start]:
        assert move_booking(to=to, **kwargs).status == to
        return
    before = snapshot(session)
    with pytest.raises(InvalidTransition) as refused:
        move_booking(to=to, **kwargs)
    allowed = ", ".join(MOVES[start]) or "none"
    assert f"is {start}: cannot move to {to} (allowed: {allowed})" in str(refused.value)
    assert snapshot(session) == before


def test_overlap_is_refused_on_add_and_on_confirm(session: Session) -> None:
    first = NOW + timedelta(days=3)
    episode(session, 1001, first)
    episode(session, 1002, first + timedelta(minutes=30))  # overlaps 1001
    episode(session, 1003, first + timedelta(minutes=60))  # starts as 1001 ends: no overlap
    member(session, "王伟")
    call(add_booking, session, 1001, "王伟")
    call(add_booking, session, 1002, "王伟")  # invited only: no overlap yet
    call(confirm_booking, session, 1001, "王伟")
    before = snapshot(session)
    with pytest.raises(BookingConflict) as refused:
        call(confirm_booking, session, 1002, "王伟")
    assert str(refused.value) == (
        "王伟 (#1) is already confirmed on episode 1001 (2024-06-04 12:00–13:00), "
        "which overlaps episode 1002 (2024-06-04 12:30–13:30)"
    )
    assert snapshot(session) == before
    call(cancel_booking, session, 1002, "王伟")
    before = snapshot(session)
    with pytest.raises(BookingConflict, match="already confirmed on episode 1001"):
        call(add_booking, session, 1002, "王伟")  # re-adding is checked too
    assert snapshot(session) == before
    call(add_booking, session, 1003, "王伟")
    assert call(confirm_booking, session, 1003, "王伟").status == "confirmed"


def test_long_earlier_episode_overlaps(session: Session) -> None:
    start = NOW + timedelta(days=3)
    episode(session, 1, start, minutes=240)
    episode(session, 2, start + timedelta(hours=3))
    member(session, "陈静")
    call(add_booking, session, 1, "陈静")
    call(confirm_booking, session, 1, "陈静")
    with pytest.raises(BookingConflict, match="episode 1 .*overlaps episode 2"):
        call(add_booking, session, 2, "陈静")


def test_cancelled_episode_does_not_block_overlap(session: Session) -> None:
    start = NOW + timedelta(days=3)
    episode(session, 1, start)
    episode(session, 2, start)
    member(session, "陈静")
    call(add_booking, session, 1, "陈静")
    call(confirm_booking, session, 1, "陈静")
    session.exec(sa.update(Episode).where(Episode.number == 1).values(status="cancelled"))
    session.expire_all()
    call(add_booking, session, 2, "陈静")
    assert call(confirm_booking, session, 2, "陈静").status == "confirmed"


def test_guest_limit_counts_invited_confirmed_and_appeared(session: Session) -> None:
    ep = episode(session, 1001, NOW + timedelta(days=1))
    names = ["王伟", "李娜", "张强", "刘洋", "陈静"]
    for name in names:
        member(session, name)
    call(add_booking, session, 1001, "王伟")
    call(add_booking, session, 1001, "李娜")
    call(confirm_booking, session, 1001, "李娜")
    session.add(Booking(episode_id=ep.id, member_id=3, status="appeared"))
    session.add(Booking(episode_id=ep.id, member_id=4, status="declined"))
    session.flush()
    before = snapshot(session)
    with pytest.raises(BookingConflict) as refused:
        call(add_booking, session, 1001, "陈静")
    assert str(refused.value) == "episode 1001 is at its guest limit (3 of 3 booked)"
    assert snapshot(session) == before
    # Re-inviting a declined member needs a free seat as well.
    with pytest.raises(BookingConflict, match="guest limit"):
        call(add_booking, session, 1001, "刘洋")
    call(decline_booking, session, 1001, "王伟")
    assert call(add_booking, session, 1001, "陈静").status == "invited"


def test_inactive_member_is_refused(session: Session) -> None:
    episode(session, 1, NOW + timedelta(days=1))
    member(session, "赵敏", active=False)
    with pytest.raises(BookingConflict, match=r"member #1 赵敏 is inactive"):
        call(add_booking, session, 1, "赵敏")
    assert snapshot(session) == []


def test_member_made_inactive_cannot_confirm(session: Session) -> None:
    episode(session, 1, NOW + timedelta(days=1))
    guest = member(session, "赵敏")
    call(add_booking, session, 1, "赵敏")
    guest.active = False
    with pytest.raises(BookingConflict, match="inactive"):
        call(confirm_booking, session, 1, "赵敏")


def test_cancelled_and_aired_episodes_are_refused(session: Session) -> None:
    episode(session, 1, NOW + timedelta(days=1), status="cancelled")
    episode(session, 2, NOW - timedelta(minutes=1))
    member(session, "孙丽")
    with pytest.raises(BookingConflict, match="^episode 1 is cancelled$"):
        call(add_booking, session, 1, "孙丽")
    with pytest.raises(BookingConflict, match="^episode 2 has already aired$"):
        call(add_booking, session, 2, "孙丽")
    assert snapshot(session) == []


def test_appeared_and_no_show_only_after_airing(session: Session) -> None:
    episode(session, 1, NOW + timedelta(days=1))
    for name in ("孙丽", "周敏", "吴刚"):
        member(session, name)
        call(add_booking, session, 1, name)
        call(confirm_booking, session, 1, name)
    with pytest.raises(BookingConflict, match="has not aired yet; mark appeared after it airs"):
        call(mark_appeared, session, 1, "孙丽")
    later = NOW + timedelta(days=2)
    kwargs = dict(session=session, settings=SETTINGS, episode=1, now=later)
    assert mark_no_show(member="周敏", **kwargs).status == "no_show"
    assert mark_appeared(member="孙丽", **kwargs).status == "appeared"
    with pytest.raises(BookingConflict, match="already aired"):
        move_booking(member="吴刚", to="cancelled", **kwargs)


def test_cancelled_episode_releases_its_guests(session: Session) -> None:
    ep = episode(session, 1, NOW + timedelta(days=1))
    member(session, "孙丽")
    call(add_booking, session, 1, "孙丽")
    call(confirm_booking, session, 1, "孙丽")
    ep.status = "cancelled"
    assert call(cancel_booking, session, 1, "孙丽").status == "cancelled"


def test_duplicate_booking_and_reactivation(session: Session) -> None:
    episode(session, 1001, NOW + timedelta(days=1))
    member(session, "王伟")
    first = call(add_booking, session, 1001, "王伟")
    with pytest.raises(BookingConflict, match=r"王伟 \(#1\) is already booked on episode 1001"):
        call(add_booking, session, 1001, "王伟")
    call(decline_booking, session, 1001, "王伟")
    again = call(add_booking, session, 1001, "王伟", role="official")
    assert again.id == first.id
    assert (again.status, again.role) == ("invited", "official")
    assert len(list_bookings(session=session, episode=1001)) == 1


def test_bad_references(session: Session) -> None:
    episode(session, 1, NOW + timedelta(days=1))
    member(session, "王伟")
    member(session, "王伟")
    with pytest.raises(NotFound, match="episode 9 does not exist"):
        call(add_booking, session, 9, 1)
    with pytest.raises(InvalidInput, match="2 members are named '王伟'"):
        call(add_booking, session, 1, "王伟")
    with pytest.raises(InvalidInput, match="unknown role 'host'"):
        call(add_booking, session, 1, 1, role="host")
    with pytest.raises(BookingConflict, match="is not booked on episode 1"):
        call(confirm_booking, session, 1, 2)
    with pytest.raises(InvalidInput, match="unknown booking status"):
        list_bookings(session=session, status="maybe")


def test_list_bookings_by_episode_and_member(session: Session) -> None:
    episode(session, 2, NOW + timedelta(days=8))
    episode(session, 1, NOW + timedelta(days=1))
    member(session, "王伟")
    member(session, "李娜")
    call(add_booking, session, 2, "王伟")
    call(add_booking, session, 1, "王伟")
    call(add_booking, session, 1, "李娜")
    assert [v.episode for v in list_bookings(session=session, member="王伟")] == [1, 2]
    assert [v.name for v in list_bookings(session=session, episode=1)] == ["王伟", "李娜"]
    assert len(list_bookings(session=session, status="invited")) == 3


@pytest.mark.sqlite_only("query plans")
def test_conflict_checks_use_indexes(session: Session, station: Station) -> None:
    """No full scan of booking or episode while booking and confirming (SQLite query plan)."""
    start = NOW + timedelta(days=1)
    for n in range(1, 6):
        episode(session, n, start + timedelta(days=7 * n))
    member(session, "王伟")
    call(add_booking, session, 1, "王伟")
    call(confirm_booking, session, 1, "王伟")
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, params))

    event.listen(station.engine, "before_cursor_execute", record)
    try:
        call(add_booking, session, 2, "王伟")
        call(confirm_booking, session, 2, "王伟")
    finally:
        event.remove(station.engine, "before_cursor_execute", record)
    assert 4 <= len(statements) <= 16
    connection = session.connection()
    for statement, params in statements:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
        details = " | ".join(str(row[-1]) for row in plan)
        assert "SCAN booking" not in details, (statement, details)
        assert "SCAN episode" not in details, (statement, details)


# --- property: no overlapping confirmations, never above the guest limit ------------------

# "book" is add then confirm in one step, so short sequences already reach the conflicts.
OPS = st.lists(
    st.tuples(
        st.sampled_from(["add", "confirm", "book", "cancel", "decline"]),
        st.integers(0, 3),  # episode index
        st.integers(0, 2),  # member index
    ),
    max_size=30,
)
# Start offsets in minutes and lengths: several of these slots overlap each other.
SLOTS = st.lists(
    st.tuples(st.integers(0, 4).map(lambda k: k * 30), st.sampled_from([30, 60, 90])),
    min_size=4,
    max_size=4,
)


def overlapping_confirmations(session: Session) -> list[tuple[int, int, int]]:
    rows = session.exec(
        select(Booking.member_id, Episode.number, Episode.air_start, Episode.duration_minutes)
        .join(Episode, Episode.id == Booking.episode_id)
        .where(Booking.status == "confirmed")
        .where(Episode.status != "cancelled")
    ).all()
    found = []
    for i, (m1, n1, s1, d1) in enumerate(rows):
        for m2, n2, s2, d2 in rows[i + 1 :]:
            if m1 == m2 and s1 < s2 + timedelta(minutes=d2) and s2 < s1 + timedelta(minutes=d1):
                found.append((m1, n1, n2))
    return found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(slots=SLOTS, ops=OPS, limit=st.integers(1, 3))
def test_bookings_never_overlap_or_exceed_the_limit(
    slots: list[tuple[int, int]], ops: list[tuple[str, int, int]], limit: int
) -> None:
    engine = db.make_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    config = Settings()
    config.bookings.guest_limit = limit
    actions = {
        "add": [add_booking],
        "confirm": [confirm_booking],
        "book": [add_booking, confirm_booking],
        "cancel": [cancel_booking],
        "decline": [decline_booking],
    }
    base = NOW + timedelta(days=1)
    with Session(engine) as session:
        for number, (offset, minutes) in enumerate(slots, start=1):
            episode(session, number, base + timedelta(minutes=offset), minutes=minutes)
        for index in range(3):
            member(session, f"委员{index}")
        for op, ep_index, member_index in ops:
            for action in actions[op]:
                with contextlib.suppress(HotlineError):  # refusals are part of the game
                    action(
                        session=session,
                        settings=config,
                        episode=ep_index + 1,
                        member=member_index + 1,
                        now=NOW,
                    )
            assert overlapping_confirmations(session) == []
            seated = session.exec(
                select(Booking.episode_id, sa.func.count())
                .where(Booking.status.in_(["invited", "confirmed", "appeared"]))
                .group_by(Booking.episode_id)
            ).all()
            assert all(count <= limit for _, count in seated)
    engine.dispose()
