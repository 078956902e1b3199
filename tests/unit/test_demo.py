"""The demo station: its calendar, its numbers, its people and questions, and safe reruns."""

from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, SQLModel, select

from hotline.demo import MARKER_FILE, DemoSummary, build_demo
from hotline.demo_data import blackout_calendar, weekly
from hotline.demo_steps import ANCHOR_DAY, UPCOMING_EPISODES, add_episodes, plan_schedule
from hotline.errors import Conflict
from hotline.models import (
    Booking,
    BookingStatus,
    Callback,
    Department,
    Episode,
    EpisodeStatus,
    Member,
    Question,
    QuestionStatus,
    Referral,
    history_table,
)
from hotline.station import Station, init_station, open_station
from hotline.timeutil import zone
from hotline.vocab import sectors

TODAY = date(2026, 11, 27)
SHANGHAI = zone("Asia/Shanghai")
BLACKOUT = set(blackout_calendar())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Station, DemoSummary]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("HOTLINE_DATABASE_URL", raising=False)
        summary = build_demo(tmp_path_factory.mktemp("demo") / "station", today=TODAY, record=False)
        return open_station(summary.root), summary


@pytest.fixture(scope="module")
def session(built: tuple[Station, DemoSummary]) -> Any:
    station, _ = built
    with Session(station.engine) as session:
        yield session


@pytest.fixture(scope="module")
def episodes(session: Session) -> list[Episode]:
    return list(session.exec(select(Episode).order_by(Episode.number)))


def local(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI)


def snapshot(station: Station) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in id order."""
    with station.engine.connect() as conn:
        return {
            table.name: [tuple(row) for row in conn.execute(sa.select(table).order_by(*table.c))]
            for table in SQLModel.metadata.sorted_tables
        }


# ---------------------------------------------------------------- the calendar


def set_aside(built: tuple[Station, DemoSummary]) -> list[int]:
    """The numbers of the late-found register in the demo's inbox (held back by the build)."""
    station, _ = built
    path = station.root / "inbox" / "back-catalogue.csv"
    rows = path.read_text(encoding="utf-8-sig").splitlines()[1:]
    return [int(row.split(",")[0]) for row in rows]


def test_the_late_found_register_is_held_back_for_the_tour(
    built: tuple[Station, DemoSummary], episodes: list[Episode], session: Session
) -> None:
    held = set_aside(built)
    assert len(held) == 12 and held == list(range(held[0], held[0] + 12))
    assert local(episodes[0].air_start).year == 2000 and held[0] > 1
    assert {e.number for e in episodes}.isdisjoint(held)
    station, _ = built
    members = (station.root / "inbox" / "members.csv").read_bytes().decode("gb18030")
    assert members.startswith("name,sector,level") and "欧阳晓东" in members
    assert "欧阳晓东" not in set(session.exec(select(Member.name)))
    assert (station.root / "inbox" / "0800.srt").read_text(encoding="utf-8").startswith("1\n")


def test_episode_1000_airs_on_2022_08_13_at_11_shanghai(episodes: list[Episode]) -> None:
    episode = next(e for e in episodes if e.number == 1000)
    assert episode.number == 1000
    assert local(episode.air_start).isoformat() == "2022-08-13T11:00:00+08:00"
    assert episode.title and not episode.title.startswith("第")  # players add 第N期


def test_episode_1_airs_in_2000(episodes: list[Episode]) -> None:
    assert episodes[0].number == 1
    assert local(episodes[0].air_start).year == 2000


def test_numbers_run_weekly_on_saturdays_skipping_only_blackout_days(
    built: tuple[Station, DemoSummary], episodes: list[Episode]
) -> None:
    held = set_aside(built)
    numbers = [e.number for e in episodes]
    assert numbers == [n for n in range(1, len(episodes) + len(held) + 1) if n not in held]
    days = {e.number: local(e.air_start).date() for e in episodes}
    for episode in episodes:
        start = local(episode.air_start)
        assert (start.strftime("%A"), start.strftime("%H:%M")) == ("Saturday", "11:00")
    assert not BLACKOUT & set(days.values())
    for number in numbers:
        if number + 1 in days:
            before, after = days[number], days[number + 1]
            between = set(weekly(before + timedelta(days=1), after - timedelta(days=1)))
            assert between <= BLACKOUT, (before, after)


def test_blackouts_cover_spring_festival_lianghui_and_golden_week() -> None:
    # 春节 2022 was 1 February; 两会 opened 4 March; 国庆 fell on a Saturday.
    for day in ("2022-01-29", "2022-02-05", "2022-02-12", "2022-03-05", "2022-10-01"):
        assert date.fromisoformat(day) in BLACKOUT
    assert ANCHOR_DAY not in BLACKOUT


def test_the_blackout_days_are_in_the_station_settings(built: tuple[Station, Any]) -> None:
    station, _ = built
    assert station.settings.schedule.blackout_dates() == BLACKOUT


def test_about_1200_aired_then_52_upcoming_from_the_next_saturday(
    episodes: list[Episode],
) -> None:
    aired = [e for e in episodes if local(e.air_start).date() < TODAY]
    upcoming = episodes[len(aired) :]
    assert 1150 <= len(aired) <= 1250
    assert len(upcoming) == UPCOMING_EPISODES
    assert local(upcoming[0].air_start).date() == date(2026, 11, 28)
    for episode in aired:
        assert episode.status == EpisodeStatus.published
        assert episode.guid is None
        assert episode.duration_minutes == 60
    assert {e.status for e in upcoming} == {EpisodeStatus.confirmed, EpisodeStatus.planned}


@settings(max_examples=25, deadline=None)
@given(today=st.dates(min_value=date(2022, 8, 14), max_value=date(2029, 12, 31)))
def test_the_plan_is_pinned_to_episode_1000_whatever_today(today: date) -> None:
    plan = plan_schedule(today, BLACKOUT)
    assert plan[999] == (1000, ANCHOR_DAY)
    assert plan[0][1].year == 2000
    assert [n for n, _ in plan] == list(range(1, len(plan) + 1))
    assert sum(day >= today for _, day in plan) == UPCOMING_EPISODES
    assert all(day.weekday() == 5 and day not in BLACKOUT for _, day in plan)


# ---------------------------------------------------------------- people and bookings


def test_at_least_300_members_in_all_31_sectors(session: Session) -> None:
    members = session.exec(select(Member)).all()
    assert len(members) >= 300
    assert {m.sector for m in members} == set(sectors())
    assert {m.sector for m in members if m.active} == set(sectors())
    levels = defaultdict(int)
    for member in members:
        levels[member.level] += 1
    assert set(levels) == {"全国", "省", "市", "区"}
    assert levels["市"] + levels["区"] > len(members) / 2
    assert sum(m.name == "王伟" for m in members) >= 2
    assert all(m.contact and m.affiliation and m.district for m in members)


def test_two_or_three_guests_an_episode_within_the_limit(
    built: tuple[Station, Any], session: Session, episodes: list[Episode]
) -> None:
    station, _ = built
    booked: dict[int, list[Booking]] = defaultdict(list)
    for booking in session.exec(select(Booking)):
        booked[booking.episode_id].append(booking)
    aired_statuses = {BookingStatus.appeared, BookingStatus.no_show, BookingStatus.declined}
    coming_statuses = {BookingStatus.invited, BookingStatus.confirmed, BookingStatus.declined}
    for episode in episodes:
        guests = [b for b in booked[episode.id] if b.status != BookingStatus.declined]
        assert 2 <= len(guests) <= station.settings.bookings.guest_limit
        statuses = {b.status for b in booked[episode.id]}
        aired = local(episode.air_start).date() < TODAY
        assert statuses <= (aired_statuses if aired else coming_statuses)


def test_upcoming_guests_are_active_members(session: Session) -> None:
    rows = session.exec(
        select(Member.active)
        .join(Booking, Booking.member_id == Member.id)
        .join(Episode, Episode.id == Booking.episode_id)
        .where(Booking.status.in_([BookingStatus.invited, BookingStatus.confirmed]))
    ).all()
    assert rows and all(rows)


def test_no_member_is_confirmed_on_two_overlapping_episodes(session: Session) -> None:
    held = [BookingStatus.confirmed, BookingStatus.appeared]
    rows = session.exec(
        select(Booking.member_id, Episode.air_start, Episode.duration_minutes)
        .join(Episode, Episode.id == Booking.episode_id)
        .where(Booking.status.in_(held))
        .order_by(Booking.member_id, Episode.air_start)
    ).all()
    for (member, start, minutes), (next_member, next_start, _) in zip(rows, rows[1:], strict=False):
        if member == next_member:
            assert start + timedelta(minutes=minutes) <= next_start


# ---------------------------------------------------------------- listener questions


def test_500_questions_in_every_status_with_the_fields_each_needs(session: Session) -> None:
    questions = {q.id: q for q in session.exec(select(Question))}
    assert len(questions) >= 500
    assert {q.status for q in questions.values()} == set(QuestionStatus)
    appeared = {
        (b.episode_id, b.member_id)
        for b in session.exec(select(Booking).where(Booking.status == BookingStatus.appeared))
    }
    for q in questions.values():
        assert q.text and q.channel
        if q.status == QuestionStatus.answered:
            assert (q.episode_id, q.member_id) in appeared
            assert q.answer_offset is not None and 0 < q.answer_offset < 3600
        if q.status == QuestionStatus.referred:
            assert q.referral_department and q.episode_id
        if q.status == QuestionStatus.rejected:
            assert q.reject_reason
        if q.status == QuestionStatus.duplicate:
            original = questions[q.duplicate_of]
            assert original.topic == q.topic
            assert original.received_at < q.received_at
        if q.status in (QuestionStatus.new, QuestionStatus.screened):
            assert q.episode_id is None
    assert len({q.channel for q in questions.values()}) >= 6


def test_questions_arrive_before_their_episode_and_before_today(session: Session) -> None:
    rows = session.exec(select(Question, Episode).join(Episode)).all()
    assert rows
    for question, episode in rows:
        if question.channel == "on_air":  # put through during the show, before the answer
            assert question.received_at < episode.air_start + timedelta(
                seconds=question.answer_offset or 0
            )
        else:
            assert question.received_at < episode.air_start
    latest = session.exec(select(sa.func.max(Question.received_at))).one()
    assert local(latest).date() < TODAY


# ---------------------------------------------------------------- reruns


def test_a_second_run_says_so_and_changes_nothing(built: tuple[Station, DemoSummary]) -> None:
    station, first = built
    before = snapshot(station)
    settings_text = station.settings_path.read_text(encoding="utf-8")
    again = build_demo(station.root, today=TODAY, record=False)
    assert not again.created and first.created
    assert again.episodes == first.episodes and again.questions == first.questions
    assert snapshot(station) == before
    assert station.settings_path.read_text(encoding="utf-8") == settings_text


def test_force_rebuilds_exactly_the_same_station(
    built: tuple[Station, DemoSummary], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    station, _ = built
    copy = tmp_path / "copy"
    shutil.copytree(station.root, copy)
    (copy / "notes.txt").write_text("留着", encoding="utf-8")
    with Session(open_station(copy).engine) as session:
        session.exec(sa.delete(Question))  # type: ignore[call-overload]
        session.commit()
    rebuilt = build_demo(copy, today=TODAY, force=True, record=False)
    assert rebuilt.created
    assert snapshot(open_station(copy)) == snapshot(station)
    assert (copy / "notes.txt").read_text(encoding="utf-8") == "留着"


def test_a_station_that_is_not_a_demo_is_refused_even_with_force(
    station: Station,
) -> None:
    (station.root / "keep.txt").write_text("x", encoding="utf-8")
    for force in (False, True):
        with pytest.raises(Conflict, match="not a demo station"):
            build_demo(station.root, today=TODAY, force=force)
    assert (station.root / "keep.txt").exists()
    assert not (station.root / MARKER_FILE).exists()


def test_a_folder_with_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "thesis.docx").write_text("x", encoding="utf-8")
    with pytest.raises(Conflict, match="not a demo station"):
        build_demo(tmp_path, today=TODAY)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.docx"]


def test_an_interrupted_build_leaves_nothing_and_the_next_run_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    root = tmp_path / "demo"

    def broken(ctx: Any) -> None:
        raise RuntimeError("power cut")

    early = date(2001, 3, 1)  # a short history keeps this quick
    with pytest.raises(RuntimeError):
        build_demo(root, today=early, steps=(add_episodes, broken))
    with Session(open_station(root).engine) as session:
        assert session.exec(select(Episode)).first() is None
    summary = build_demo(root, today=early, record=False)
    assert summary.created and summary.episodes > UPCOMING_EPISODES
    assert summary.questions["new"] > 0


def test_init_station_on_the_demo_keeps_it(built: tuple[Station, DemoSummary]) -> None:
    station, summary = built
    again, created = init_station(station.root)
    assert not created
    assert again.settings.schedule.blackout == station.settings.schedule.blackout


# ---------------------------------------------------------------- follow-through


def test_referrals_in_every_state_with_replies_and_call_backs(session: Session) -> None:
    cut = datetime.combine(TODAY, datetime.min.time(), tzinfo=SHANGHAI).astimezone(UTC)
    departments = session.exec(select(Department)).all()
    assert len(departments) >= 10 and all(d.contact for d in departments)
    referred = session.exec(select(Question).where(Question.referral_department != "")).all()
    found = {r.question_id: r for r in session.exec(select(Referral))}
    assert {q.id for q in referred} == set(found)
    states = {
        "overdue" if r.status == "open" and r.due_at <= cut else r.status for r in found.values()
    }
    assert states == {"open", "overdue", "replied", "closed"}
    assert any(
        r.status == "open" and cut < r.due_at <= cut + timedelta(days=2) for r in found.values()
    )
    for question in referred:
        referral = found[question.id]
        assert referral.sent_at < cut and referral.sent_at <= referral.due_at
        if referral.status == "closed":
            assert question.status == "resolved"
            assert referral.replied_at is not None or referral.close_reason
        else:
            assert question.status == "referred"
    outcomes = {c.outcome for c in session.exec(select(Callback))}
    assert outcomes == {"satisfied", "partly", "unsatisfied", "unreachable"}
    replayed = session.execute(sa.select(history_table)).all()
    assert replayed and {e.actor for e in replayed} <= {"张蕾", "赵刚", "孙悦"}
    assert all(e.at < cut for e in replayed)
