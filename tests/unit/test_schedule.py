"""The episode schedule: adding, editing, cancelling, rescheduling, generating, the lifecycle,
and the two-query listing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlmodel import Session, SQLModel, select

from episodes.lifecycle import set_status
from episodes.listing import episode_detail, list_episodes
from episodes.schedule import (
    add_episode,
    cancel_effects,
    cancel_episode,
    edit_episode,
    generate_episodes,
    reschedule_episode,
)
from hotline.config import Settings
from hotline.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from hotline.models import Booking, Episode, EpisodeStatus, Member, Question, ShowClock
from hotline.station import Station

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)  # a Saturday, 08:00 in Shanghai


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ).astimezone(UTC)


def snapshot(session: Session) -> list[Any]:
    episodes = session.exec(select(Episode).order_by(Episode.id)).all()
    bookings = session.exec(select(Booking).order_by(Booking.id)).all()
    return [e.model_dump() for e in episodes] + [b.model_dump() for b in bookings]


@pytest.fixture
def session(station: Station) -> Session:
    with station.session() as s:
        yield s


def add(session: Session, **kw: Any) -> Episode:
    kw.setdefault("title", "政协委员谈养老")
    return add_episode(session=session, settings=Settings(), now=NOW, **kw)


# ---------------------------------------------------------------- add


def test_add_stores_utc_cleans_text_and_defaults_hosts(session: Session) -> None:
    ep = add(
        session, number=7, title="  医保\x1b[31m改革\x00 ", air="2025-03-08 11:00", topic="医保"
    )
    assert ep.number == 7
    assert ep.title == "医保[31m改革"
    assert ep.air_start == datetime(2025, 3, 8, 3, 0, tzinfo=UTC)
    assert ep.hosts == ["李明", "王芳"]
    assert ep.status == EpisodeStatus.planned
    assert ep.duration_minutes == 60


def test_add_defaults_number_and_air_to_the_next_free_slot(session: Session) -> None:
    add(session, number=5, air="2025-03-08 11:00")
    add(session, number=6, air="2025-09-06 19:30", title="国庆特别节目")  # far ahead
    ep = add(session, title="下一期")
    assert ep.number == 7
    assert ep.air_start == local("2025-03-01 11:00")  # today's slot is still to come
    assert add(session, title="再下一期").air_start == local("2025-03-15 11:00")


def test_add_refuses_a_time_that_has_passed_unless_it_is_back_catalogue(
    session: Session,
) -> None:
    with pytest.raises(InvalidInput, match=r"air time 2019-06-05 15:00 has passed.*--past"):
        add(session, number=3, air="2019-06-05 15:00")
    with pytest.raises(InvalidInput, match="air time 2025-03-01 08:00 has passed"):
        add(session, number=3, air="2025-03-01 08:00")  # NOW itself
    old = add(session, number=3, air="2019-06-05 15:00", past=True)
    assert (old.status, old.air_start) == ("aired", local("2019-06-05 15:00"))
    with pytest.raises(InvalidInput, match="2025-03-08 11:00 is still to come: --past is for"):
        add(session, number=4, air="2025-03-08 11:00", past=True)
    with pytest.raises(InvalidInput, match="needs its air time"):
        add(session, number=4, past=True)
    assert session.exec(select(Episode.number)).all() == [3]


def test_add_accepts_an_aware_datetime(session: Session) -> None:
    ep = add(session, air=datetime(2025, 3, 8, 11, 0, tzinfo=TZ))
    assert ep.air_start == local("2025-03-08 11:00")
    with pytest.raises(InvalidInput, match="no time zone"):
        add(session, number=9, air=datetime(2025, 3, 8, 11, 0))


@pytest.mark.parametrize(
    ("kw", "error", "message"),
    [
        ({"number": 1, "air": "2025-04-05 11:00"}, Conflict, "episode 1 already exists"),
        ({"number": 0}, InvalidInput, "out of range"),
        ({"air": "2025/03/08 11:00"}, InvalidInput, "is not a time: use YYYY-MM-DD HH:MM"),
        ({"air": "2025-03-08"}, InvalidInput, "is not a time"),
        ({"air": "1990-04-15 02:30"}, InvalidInput, "does not exist in Asia/Shanghai"),
        ({"air": "2025-03-01 11:30"}, Conflict, "overlaps episode 1"),
        ({"air": "2025-02-28 11:00"}, InvalidInput, "has passed"),
        ({"title": "　\x07 "}, InvalidInput, "title must not be empty"),
        ({"title": "长" * 201}, InvalidInput, "title is 201 characters long; the limit is 200"),
        ({"duration_minutes": 0}, InvalidInput, "duration 0 minutes"),
    ],
)
def test_add_refuses_bad_input_and_changes_nothing(
    session: Session, kw: dict[str, Any], error: type[Exception], message: str
) -> None:
    add(session, number=1, air="2025-03-01 11:00")
    before = snapshot(session)
    with pytest.raises(error, match=message):
        add(session, **{"air": "2025-05-03 11:00", **kw})
    assert snapshot(session) == before


# ---------------------------------------------------------------- edit, cancel, reschedule


def test_edit_changes_only_what_is_given(session: Session) -> None:
    add(session, number=3, air="2025-03-08 11:00", topic="教育")
    ep = edit_episode(
        session=session, settings=Settings(), number=3, title="双减一年", hosts=["张伟", "张伟"]
    )
    assert (ep.title, ep.topic, ep.hosts) == ("双减一年", "教育", ["张伟"])
    with pytest.raises(NotFound, match="episode 99 does not exist"):
        edit_episode(session=session, settings=Settings(), number=99, title="无")


def test_cancel_cancels_open_bookings_and_refuses_twice(session: Session) -> None:
    ep = add(session, number=3, air="2025-03-08 11:00")
    member = Member(name="陈静", sector="中国共产党")
    session.add(member)
    session.flush()
    session.add(Booking(episode_id=ep.id, member_id=member.id, status="confirmed"))
    session.flush()
    ep, count = cancel_episode(session=session, number=3)
    assert ep.status == "cancelled" and count == 1
    assert session.exec(select(Booking.status)).all() == ["cancelled"]
    with pytest.raises(Conflict, match="already cancelled"):
        cancel_episode(session=session, number=3)


def test_cancel_refuses_an_episode_past_confirmed(session: Session) -> None:
    ep = add(session, number=3, air="2025-03-08 11:00")
    set_status(session, ep, "mastered")
    with pytest.raises(InvalidTransition, match="is mastered: it went on air and cannot be"):
        cancel_episode(session=session, number=3)
    with pytest.raises(InvalidTransition, match="is mastered"):
        cancel_effects(session=session, number=3)


def test_cancel_sends_assigned_questions_back_to_screened(session: Session) -> None:
    ep = add(session, number=3, air="2025-03-08 11:00")
    other = add(session, number=4, air="2025-03-15 11:00")
    texts = ("小区电梯加装补贴怎么申请？", "社区食堂几点开门？", "医保异地结算怎么办？")
    for text, status, where in zip(
        texts, ("assigned", "assigned", "answered"), (ep, ep, ep), strict=True
    ):
        session.add(Question(channel="phone", text=text, status=status, episode_id=where.id))
    session.add(
        Question(channel="sms", text="公交线路调整", status="assigned", episode_id=other.id)
    )
    session.flush()
    effects = cancel_effects(session=session, number=3)
    assert (effects.bookings, effects.questions) == (0, 2)
    cancel_episode(session=session, number=3)
    rows = session.exec(select(Question.status, Question.episode_id).order_by(Question.id)).all()
    assert rows == [
        ("screened", None),
        ("screened", None),
        ("answered", ep.id),  # answered on it before: history stays
        ("assigned", other.id),
    ]


def test_reschedule_moves_and_refuses_with_reasons(session: Session) -> None:
    add(session, number=1, air="2025-02-22 11:00", past=True)  # went out before NOW
    add(session, number=2, air="2025-03-08 11:00")
    add(session, number=3, air="2025-03-15 11:00")

    def move(number: int, air: str) -> Episode:
        return reschedule_episode(
            session=session, settings=Settings(), number=number, air=air, now=NOW
        )

    assert move(2, "2025-03-09 15:00").air_start == local("2025-03-09 15:00")
    with pytest.raises(Conflict, match="episode 1 is already aired: it cannot be rescheduled"):
        move(1, "2025-04-05 11:00")
    with pytest.raises(InvalidInput, match="air time 2020-01-01 11:00 has passed"):
        move(2, "2020-01-01 11:00")  # one wrong year would strand the episode
    assert move(2, "2025-03-09 15:00").air_start == local("2025-03-09 15:00")
    with pytest.raises(Conflict, match="overlaps episode 3"):
        move(2, "2025-03-15 10:30")
    cancel_episode(session=session, number=3)
    with pytest.raises(Conflict, match="episode 3 is cancelled: it cannot be rescheduled"):
        move(3, "2025-04-05 11:00")
    ep2 = session.exec(select(Episode).where(Episode.number == 2)).one()
    set_status(session, ep2, "recorded")
    with pytest.raises(Conflict, match="episode 2 is already recorded"):
        move(2, "2025-04-05 11:00")


# ---------------------------------------------------------------- lifecycle


def test_an_episode_whose_slot_passed_without_airing_can_still_be_moved(
    session: Session,
) -> None:
    add_episode(
        session=session,
        settings=Settings(),
        number=8,
        title="因故顺延",
        air="2025-02-22 11:00",
        now=NOW - timedelta(days=30),
    )
    moved = reschedule_episode(
        session=session, settings=Settings(), number=8, air="2025-03-08 15:00", now=NOW
    )
    assert moved.air_start == local("2025-03-08 15:00")


def test_an_episode_whose_show_clock_started_is_not_moved(session: Session) -> None:
    ep = add(session, number=9, air="2025-03-01 11:00")
    session.add(ShowClock(episode_id=ep.id, started_at=local("2025-03-01 11:00")))
    session.flush()
    with pytest.raises(Conflict, match="episode 9 went on air .show clock started 2025-03-01"):
        reschedule_episode(
            session=session, settings=Settings(), number=9, air="2025-03-08 15:00", now=NOW
        )


@pytest.mark.parametrize(
    ("path", "final"),
    [
        (["confirmed", "recorded", "mastered", "transcribed", "published"], "published"),
        (["mastered", "published"], "published"),  # no transcript
        (["confirmed", "planned", "recorded"], "recorded"),
        (["aired", "recorded", "mastered"], "mastered"),  # back catalogue, audio found later
        (["mastered", "aired"], "mastered"),  # a pipeline stage never moves backwards
        (["mastered", "transcribed", "mastered", "transcribed"], "transcribed"),  # re-runs
        (["mastered", "published", "mastered", "transcribed", "published"], "published"),
    ],
)
def test_lifecycle_moves(session: Session, path: list[str], final: str) -> None:
    ep = add(session, number=1, air="2025-03-08 11:00")
    for status in path:
        set_status(session, ep, status)
    assert ep.status == final


@pytest.mark.parametrize(
    ("path", "bad", "message"),
    [
        ([], "published", "is planned: it cannot become published; allowed: confirmed, air"),
        ([], "transcribed", "allowed: confirmed, aired, recorded, mastered, cancelled"),
        (["aired"], "cancelled", "is aired: it cannot become cancelled; allowed: recorded, "),
        (["cancelled"], "planned", "allowed: none"),
        (["recorded"], "cancelled", "is recorded: it cannot become cancelled; allowed: mastered"),
        (["mastered"], "planned", "allowed: transcribed, published"),
    ],
)
def test_lifecycle_refusals_name_the_allowed_moves(
    session: Session, path: list[str], bad: str, message: str
) -> None:
    ep = add(session, number=1, air="2025-03-08 11:00")
    for status in path:
        set_status(session, ep, status)
    with pytest.raises(InvalidTransition, match=message):
        set_status(session, ep, bad)
    with pytest.raises(InvalidInput, match="unknown episode status 'gone'"):
        set_status(session, ep, "gone")


# ---------------------------------------------------------------- listing


def test_list_filters_and_fetches_guests_in_two_queries(station: Station) -> None:
    with station.session() as s:
        generate_episodes(
            session=s, settings=Settings(), count=30, start="2025-01-01", now=local("2025-01-01")
        )
        members = [Member(name=n, sector="教育界") for n in ("王磊", "赵敏", "孙丽")]
        s.add_all(members)
        s.flush()
        episodes = s.exec(select(Episode).order_by(Episode.number)).all()
        for ep in episodes:
            for m in members[: ep.number % 3 + 1]:
                s.add(Booking(episode_id=ep.id, member_id=m.id, status="confirmed"))
        s.add(Booking(episode_id=episodes[0].id, member_id=members[2].id, status="declined"))
        cancel_episode(session=s, number=30)
    statements: list[str] = []
    sa.event.listen(station.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with station.session() as s:
        views = list_episodes(session=s)
    assert len([q for q in statements if q.lstrip().upper().startswith("SELECT")]) == 2
    assert [v.number for v in views] == list(range(1, 31))
    assert [g.name for g in views[0].guests] == ["王磊", "赵敏"]  # the declined one is left out
    with station.session() as s:
        assert [v.number for v in list_episodes(session=s, from_number=5, to_number=7)] == [5, 6, 7]
        assert [v.number for v in list_episodes(session=s, limit=2)] == [29, 30]  # newest
        assert [v.number for v in list_episodes(session=s, status="cancelled")] == [30]
        upcoming = list_episodes(session=s, upcoming=True, now=local("2025-07-01 00:00"))
        assert [v.number for v in upcoming] == list(range(27, 30))
        soonest = list_episodes(session=s, upcoming=True, limit=2, now=local("2025-07-01 00:00"))
        assert [v.number for v in soonest] == [27, 28]
        with pytest.raises(InvalidInput, match="unknown episode status 'gone'"):
            list_episodes(session=s, status="gone")


def test_detail_has_bookings_and_question_counts(session: Session) -> None:
    ep = add(session, number=12, title="住房公积金", air="2025-03-08 11:00")
    m = Member(name="周涛", sector="社会科学界")
    session.add(m)
    session.flush()
    session.add(Booking(episode_id=ep.id, member_id=m.id, status="declined"))
    for status in ("new", "new", "answered"):
        session.add(
            Question(channel="phone", text="公积金能否异地提取？", status=status, episode_id=ep.id)
        )
    session.flush()
    detail = episode_detail(session=session, number=12)
    assert detail.questions == {"answered": 1, "new": 2}
    assert [b.status for b in detail.bookings] == ["declined"]
    data = detail.as_json(TZ)
    assert data["air_start"] == "2025-03-08T11:00:00+08:00"
    assert data["guests"] == []
    assert data["audio"] == {"path": None, "bytes": None, "seconds": None}


# ---------------------------------------------------------------- generate


def test_generate_skips_blackouts_and_taken_slots(session: Session) -> None:
    cfg = Settings()
    cfg.schedule.blackout = ["2025-03-15"]
    add(session, number=40, air="2025-03-22 11:00")
    made = generate_episodes(session=session, settings=cfg, count=3, start="2025-03-01", now=NOW)
    assert [(e.number, e.air_start) for e in made] == [
        (41, local("2025-03-01 11:00")),
        (42, local("2025-03-08 11:00")),
        (43, local("2025-03-29 11:00")),
    ]


def test_a_special_far_ahead_makes_no_gap(session: Session) -> None:
    add(session, number=1, air="2025-02-22 11:00", past=True)
    add(session, number=2, air="2031-02-01 11:00", title="特别节目")
    made = generate_episodes(session=session, settings=Settings(), count=2, now=NOW)
    assert [(e.number, e.air_start) for e in made] == [
        (3, local("2025-03-01 11:00")),
        (4, local("2025-03-08 11:00")),
    ]


def test_generate_starts_the_week_after_the_last_aired_episode(session: Session) -> None:
    today = add(session, number=1, air="2025-03-01 11:00")
    set_status(session, today, "aired")  # marked aired early: its slot is taken, and done
    made = generate_episodes(session=session, settings=Settings(), count=1, now=NOW)
    assert made[0].air_start == local("2025-03-08 11:00")


def test_generate_refuses_bad_counts_and_dates(session: Session) -> None:
    with pytest.raises(InvalidInput, match="count 0"):
        generate_episodes(session=session, settings=Settings(), count=0, now=NOW)
    with pytest.raises(InvalidInput, match="start date '2025-02-30' is not a date"):
        generate_episodes(
            session=session, settings=Settings(), count=1, start="2025-02-30", now=NOW
        )
    with pytest.raises(InvalidInput, match="start date 2025-02-28 has passed"):
        generate_episodes(
            session=session, settings=Settings(), count=1, start="2025-02-28", now=NOW
        )
    assert session.exec(select(Episode.id)).all() == []


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
AIRED_STATUSES = ("aired", "recorded", "published")


@hsettings(max_examples=60, deadline=None)
@given(
    count=st.integers(1, 25),
    now_day=st.integers(0, 400),
    weekday=st.sampled_from(WEEKDAYS),
    hour=st.integers(0, 23),
    blackout_offsets=st.sets(st.integers(-30, 250), max_size=25),
    existing=st.lists(
        st.tuples(
            st.integers(1, 60),  # number
            st.integers(-120, 3000),  # days from now: history, soon, or a special far ahead
            st.integers(0, 23),  # hour
            st.booleans(),  # cancelled
        ),
        max_size=8,
    ),
    start_offset=st.one_of(st.none(), st.integers(0, 40)),
)
def test_generate_invariants(
    count: int,
    now_day: int,
    weekday: str,
    hour: int,
    blackout_offsets: set[int],
    existing: list[tuple[int, int, int, bool]],
    start_offset: int | None,
) -> None:
    """No gap, no taken slot, no blackout date, nothing before now or the last aired one."""
    now = datetime(2024, 1, 1, 4, 0, tzinfo=UTC) + timedelta(days=now_day)
    today = now.astimezone(TZ).date()
    engine = sa.create_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    cfg = Settings()
    cfg.schedule.weekday, cfg.schedule.time = weekday, f"{hour:02d}:00"
    blackout = {today + timedelta(days=d) for d in blackout_offsets}
    cfg.schedule.blackout = sorted(d.isoformat() for d in blackout)
    with Session(engine) as s:
        rows: dict[int, Episode] = {}
        for number, days, at_hour, cancelled in existing:
            air = datetime.combine(today + timedelta(days=days), datetime.min.time())
            air = air.replace(hour=at_hour, tzinfo=TZ).astimezone(UTC)
            if any(abs(air - e.air_start) < timedelta(hours=1) for e in rows.values()):
                continue  # the schedule never holds overlapping episodes
            status = (
                "cancelled"
                if cancelled
                else AIRED_STATUSES[number % 3]
                if air <= now
                else "planned"
            )
            rows[number] = Episode(
                number=number, title=f"节目{number}", air_start=air, status=status
            )
        s.add_all(rows.values())
        s.flush()
        before = {e.number: (e.air_start, e.status) for e in s.exec(select(Episode))}
        start = today + timedelta(days=start_offset) if start_offset is not None else None
        made = generate_episodes(session=s, settings=cfg, count=count, start=start, now=now)

        highest = max(before, default=0)
        assert [e.number for e in made] == list(range(highest + 1, highest + count + 1))
        aired = [t for t, status in before.values() if status in AIRED_STATUSES]
        floor = max([now, *aired])
        busy = [t for t, status in before.values() if status != "cancelled"]
        for ep in made:
            at = ep.air_start.astimezone(TZ)
            assert ep.air_start > floor
            assert start is None or at.date() >= start
            assert WEEKDAYS[at.weekday()] == weekday and (at.hour, at.minute) == (hour, 0)
            assert at.date() not in blackout
            assert all(abs(ep.air_start - t) >= timedelta(minutes=60) for t in busy)
            busy.append(ep.air_start)
        # No gap: every weekly slot between the floor and the last one made is taken.
        first_day = start if start is not None else floor.astimezone(TZ).date()
        day = first_day
        while made and day <= made[-1].air_start.astimezone(TZ).date():
            slot = datetime.combine(day, datetime.min.time()).replace(hour=hour, tzinfo=TZ)
            slot = slot.astimezone(UTC)
            if WEEKDAYS[day.weekday()] == weekday and day not in blackout and slot > floor:
                assert any(abs(slot - t) < timedelta(minutes=60) for t in busy), slot
            day += timedelta(days=1)
        after = {e.number: (e.air_start, e.status) for e in s.exec(select(Episode))}
        assert {n: v for n, v in after.items() if n in before} == before
