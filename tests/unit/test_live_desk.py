"""The live desk: show clock, caller lifecycle, on-air stamping into listener questions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from episodes import live_desk as desk
from episodes.bookings import add_booking
from episodes.members import add_member
from episodes.schedule import add_episode
from hotline.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from hotline.models import Call, CallStatus, Question, QuestionStatus, ShowClock
from hotline.station import Station

AIR = datetime(2022, 8, 13, 3, 0, tzinfo=UTC)  # episode 1000, Saturday 11:00 Asia/Shanghai


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(AIR + timedelta(seconds=5))


@pytest.fixture
def show(station: Station) -> Station:
    """Episode 1000 today, with 张伟 booked as guest and 李娜 not booked."""
    with station.session() as session:
        add_episode(
            session=session, settings=station.settings, number=1000, title="养老服务", air=AIR
        )
        add_episode(
            session=session,
            settings=station.settings,
            number=1001,
            title="医保改革",
            air=AIR + timedelta(days=7),
        )
        add_member(session=session, name="张伟", sector="中国共产党")
        add_member(session=session, name="李娜", sector="中国共产党")
        add_booking(
            session=session,
            settings=station.settings,
            episode=1000,
            member="张伟",
            now=AIR - timedelta(days=3),
        )
    return station


def _start(station: Station, clock: FakeClock, **kwargs: object) -> None:
    with station.session() as session:
        desk.start_clock(session=session, tz=station.tz, now=clock(), **kwargs)


def _add(station: Station, summary: str = "小区加装电梯，一楼住户不同意怎么办？") -> int:
    with station.session() as session:
        call = desk.add_caller(
            session=session, episode=1000, name="王女士", district="海淀区", summary=summary
        )
        return call.id


def test_start_clock_defaults_to_todays_episode_in_station_zone(
    show: Station, clock: FakeClock
) -> None:
    # 02:00 UTC is 10:00 in Shanghai on the same Saturday; 17:00 UTC the day before is
    # already Saturday 01:00 in Shanghai.
    with show.session() as session:
        episode, started = desk.start_clock(
            session=session, tz=show.tz, now=datetime(2022, 8, 12, 17, 0, tzinfo=UTC)
        )
        assert episode.number == 1000
        assert started.started_at == datetime(2022, 8, 12, 17, 0, tzinfo=UTC)


def test_no_episode_today_is_refused_with_the_date(show: Station) -> None:
    with show.session() as session, pytest.raises(NotFound, match="2022-08-14"):
        desk.start_clock(session=session, tz=show.tz, now=AIR + timedelta(days=1))


def test_second_start_refused_unless_restart(show: Station, clock: FakeClock) -> None:
    _start(show, clock)
    clock.advance(60)
    with pytest.raises(Conflict, match="already running"):
        _start(show, clock)
    _start(show, clock, restart=True)
    with show.session() as session:
        clocks = session.exec(select(ShowClock)).all()
        assert [c.started_at for c in clocks] == [clock()]
        assert desk.clock_offset(session=session, episode=1000, now=clock.advance(90)) == 90.0


def test_clock_offset_before_start_is_refused(show: Station) -> None:
    with show.session() as session, pytest.raises(Conflict, match="not been started"):
        desk.clock_offset(session=session, episode=1000)


def test_on_air_stamps_offset_and_logs_answered_question(show: Station, clock: FakeClock) -> None:
    _start(show, clock, episode=1000)
    call_id = _add(show)
    with show.session() as session:
        desk.screen_caller(session=session, call=call_id)
    clock.advance(12 * 60 + 34.56)
    with show.session() as session:
        call = desk.put_on_air(session=session, call=call_id, member="张伟", now=clock())
    with show.session() as session:
        call = session.get(Call, call_id)
        assert call.status == CallStatus.on_air
        assert call.on_air_offset == pytest.approx(754.6)
        question = session.get(Question, call.question_id)
        assert question.channel == "on_air"
        assert question.status == QuestionStatus.answered
        assert question.text == "小区加装电梯，一楼住户不同意怎么办？"
        assert (question.listener_name, question.district) == ("王女士", "海淀区")
        assert question.answer_offset == pytest.approx(754.6)
        assert question.episode_id == call.episode_id
        assert question.member_id == call.member_id is not None
        desk.finish_call(session=session, call=call_id)
    with show.session() as session:
        assert session.get(Call, call_id).status == CallStatus.done


def test_on_air_updates_the_question_a_call_already_has(show: Station, clock: FakeClock) -> None:
    _start(show, clock, episode=1000)
    call_id = _add(show)
    with show.session() as session:
        existing = Question(channel="phone", text="旧的记录", status=QuestionStatus.new)
        session.add(existing)
        session.flush()
        call = session.get(Call, call_id)
        call.question_id = existing.id
        desk.screen_caller(session=session, call=call_id)
    with show.session() as session:
        desk.put_on_air(session=session, call=call_id, member="李娜", now=clock.advance(30))
    with show.session() as session:
        questions = session.exec(select(Question)).all()
        assert len(questions) == 1
        assert questions[0].text.startswith("小区加装电梯")
        assert questions[0].answer_offset == pytest.approx(30.0)


def test_on_air_without_clock_or_screening_is_refused(show: Station, clock: FakeClock) -> None:
    call_id = _add(show)
    with show.session() as session, pytest.raises(InvalidTransition, match="allowed: screen, drop"):
        desk.put_on_air(session=session, call=call_id, now=clock())
    with show.session() as session:
        desk.screen_caller(session=session, call=call_id)
    with show.session() as session, pytest.raises(Conflict, match="show clock"):
        desk.put_on_air(session=session, call=call_id, now=clock())
    with show.session() as session:
        assert session.get(Call, call_id).status == CallStatus.screened
        assert session.exec(select(Question)).all() == []


def test_unknown_member_leaves_the_call_screened(show: Station, clock: FakeClock) -> None:
    _start(show, clock, episode=1000)
    call_id = _add(show)
    with show.session() as session:
        desk.screen_caller(session=session, call=call_id)
    with pytest.raises(NotFound, match="赵六"), show.session() as session:
        desk.put_on_air(session=session, call=call_id, member="赵六", now=clock())
    with show.session() as session:
        assert session.get(Call, call_id).status == CallStatus.screened
        assert session.exec(select(Question)).all() == []


@pytest.mark.parametrize(
    ("moves", "refused", "message"),
    [
        ([], "done", "call .* is waiting: `done` is not allowed; allowed: screen, drop"),
        (["screen", "drop"], "screen", "is dropped: `screen` is not allowed; it is final"),
        (["screen"], "screen", "is screened: `screen` is not allowed; allowed: on-air, drop"),
    ],
)
def test_lifecycle_refusals_name_allowed_moves(
    show: Station, moves: list[str], refused: str, message: str
) -> None:
    actions = {"screen": desk.screen_caller, "drop": desk.drop_call, "done": desk.finish_call}
    call_id = _add(show)
    for move in moves:
        with show.session() as session:
            actions[move](session=session, call=call_id)
    with show.session() as session, pytest.raises(InvalidTransition, match=message):
        actions[refused](session=session, call=call_id)


def test_queue_orders_by_status_then_arrival(show: Station, clock: FakeClock) -> None:
    _start(show, clock, episode=1000)
    ids = [_add(show, f"问题{i}") for i in range(5)]
    with show.session() as session:
        for call in ids[1:4]:
            desk.screen_caller(session=session, call=call)
        desk.put_on_air(session=session, call=ids[3], now=clock())
        desk.drop_call(session=session, call=ids[2])
    with show.session() as session:
        order = [(c.id, c.status) for c in desk.queue(session=session, episode=1000)]
        active = [c.id for c in desk.queue(session=session, episode=1000, active_only=True)]
    assert order == [
        (ids[3], "on_air"),
        (ids[1], "screened"),
        (ids[0], "waiting"),
        (ids[4], "waiting"),
        (ids[2], "dropped"),
    ]
    assert active == [ids[3], ids[1], ids[0], ids[4]]


def test_bad_caller_input_is_refused(show: Station) -> None:
    with show.session() as session:
        with pytest.raises(InvalidInput, match="summary must not be empty"):
            desk.add_caller(session=session, episode=1000, name="王", district="", summary=" \x07")
        with pytest.raises(NotFound, match="episode 999"):
            desk.add_caller(session=session, episode=999, name="王", district="", summary="问")
        call = desk.add_caller(
            session=session, episode=1000, name="王\u202e女士\n", district="朝阳区", summary="问"
        )
        assert call.caller_name == "王女士"
    with show.session() as session:
        assert len(session.exec(select(Call)).all()) == 1


def test_answering_members_are_the_booked_guests(show: Station) -> None:
    with show.session() as session:
        names = [m.name for m in desk.answering_members(session=session, episode=1000)]
        assert names == ["张伟"]
        assert desk.answering_members(session=session, episode=1001) == []


def test_desk_survives_a_crash_between_actions(show: Station, clock: FakeClock) -> None:
    """Each action commits: a new engine (a restarted app) sees everything done so far."""
    _start(show, clock, episode=1000)
    call_id = _add(show)
    with show.session() as session:
        desk.screen_caller(session=session, call=call_id)
    show.engine.dispose()
    reopened = Station(root=show.root, settings=show.settings)
    with reopened.session() as session:
        assert desk.clock_started(session=session, episode=1000) == clock()
        assert [c.status for c in desk.queue(session=session, episode=1000)] == ["screened"]
