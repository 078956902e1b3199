"""The live desk: show clock, caller lifecycle, on-air stamping into listener questions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from episodes import live_desk as desk
from episodes.bookings import add_booking, confirm_booking, mark_no_show
from episodes.members import add_member
from episodes.schedule import add_episode, cancel_episode
from hotline.errors import Conflict, InvalidInput, InvalidTransition, NeedsConfirmation, NotFound
from hotline.models import Call, CallStatus, Episode, Question, QuestionStatus, ShowClock
from hotline.station import Station, open_station

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
    """Episode 1000 today, with 张伟 confirmed as guest and 李娜 not booked."""
    planned = AIR - timedelta(days=10)
    with station.session() as session:
        add_episode(
            session=session,
            settings=station.settings,
            number=1000,
            title="养老服务",
            air=AIR,
            now=planned,
        )
        add_episode(
            session=session,
            settings=station.settings,
            number=1001,
            title="医保改革",
            air=AIR + timedelta(days=7),
            now=planned,
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
        confirm_booking(
            session=session,
            settings=station.settings,
            episode=1000,
            member="张伟",
            now=AIR - timedelta(days=2),
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
            session=session,
            tz=show.tz,
            now=datetime(2022, 8, 12, 17, 0, tzinfo=UTC),
            confirm=True,  # ten hours before the slot
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
        desk.put_on_air(session=session, call=call_id, member="张伟", now=clock.advance(30))
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
    reopened = open_station(show.root)
    with reopened.session() as session:
        assert desk.clock_started(session=session, episode=1000) == clock()
        assert [c.status for c in desk.queue(session=session, episode=1000)] == ["screened"]


# The show's rules on the live desk


def _screened(station: Station, name: str = "王女士") -> int:
    with station.session() as session:
        call = desk.add_caller(
            session=session, episode=1000, name=name, district="海淀区", summary="加装电梯补贴"
        )
        desk.screen_caller(session=session, call=call.id)
        return call.id


def test_starting_the_clock_far_from_the_slot_asks_first(show: Station) -> None:
    four_weeks_early = AIR - timedelta(days=28)
    with show.session() as session, pytest.raises(NeedsConfirmation) as asked:
        desk.start_clock(session=session, tz=show.tz, episode=1000, now=four_weeks_early)
    assert str(asked.value) == (
        "episode 1000 airs 2022-08-13 11:00, 28 days from now: "
        "start the show clock of episode 1000 now?"
    )
    assert asked.value.zh == "第1000期 2022-08-13 11:00 播出，还有 28 天。现在开始第1000期的计时？"
    twelve_hours_late = AIR + timedelta(hours=12)
    with show.session() as session, pytest.raises(NeedsConfirmation, match="11:00, 12 h ago"):
        desk.start_clock(session=session, tz=show.tz, episode=1000, now=twelve_hours_late)
    with show.session() as session:
        assert session.exec(select(ShowClock)).all() == []
        # Within the window (two hours by default) nobody is asked; the setting narrows it.
        desk.start_clock(session=session, tz=show.tz, episode=1000, now=AIR - timedelta(hours=2))
    with show.session() as session, pytest.raises(NeedsConfirmation, match="90 min ago"):
        desk.start_clock(
            session=session,
            tz=show.tz,
            episode=1001,
            now=AIR + timedelta(days=7, minutes=90),
            window_minutes=60,
        )
    with show.session() as session:
        _, started = desk.start_clock(
            session=session, tz=show.tz, episode=1001, now=four_weeks_early, confirm=True
        )
        assert started.started_at == four_weeks_early


def test_restart_after_stamps_asks_and_keeps_the_stamps(show: Station, clock: FakeClock) -> None:
    _start(show, clock, episode=1000)
    _start(show, clock, episode=1000, restart=True)  # nothing stamped yet: no question
    call_id = _screened(show)
    with show.session() as session:
        desk.put_on_air(session=session, call=call_id, member="张伟", now=clock.advance(300))
    with show.session() as session, pytest.raises(NeedsConfirmation) as asked:
        desk.start_clock(
            session=session, tz=show.tz, episode=1000, restart=True, now=clock.advance(60)
        )
    assert "1 call was stamped from the start at 11:00:05; the stamps stay" in str(asked.value)
    assert "重新开始第1000期的计时" in asked.value.zh
    _start(show, clock, episode=1000, restart=True, confirm=True)
    with show.session() as session:
        assert desk.clock_started(session=session, episode=1000) == clock()
        call = session.get(Call, call_id)
        question = session.get(Question, call.question_id)
        assert (call.on_air_offset, question.answer_offset) == (300.0, 300.0)


@pytest.mark.parametrize("status", ["published", "cancelled"])
def test_a_published_or_cancelled_episode_has_no_live_desk(
    show: Station, clock: FakeClock, status: str
) -> None:
    call_id = _screened(show)
    with show.session() as session:
        if status == "cancelled":
            cancel_episode(session=session, number=1000)
        else:
            episode = session.exec(select(Episode).where(Episode.number == 1000)).one()
            episode.status = status
    label = {"published": "已发布", "cancelled": "已取消"}[status]
    attempts = [
        lambda s: desk.start_clock(session=s, tz=show.tz, episode=1000, now=clock()),
        lambda s: desk.add_caller(session=s, episode=1000, name="", district="", summary="问"),
        lambda s: desk.put_on_air(session=s, call=call_id, now=clock()),
    ]
    if status == "published":  # today's episode: a cancelled one is not today's
        attempts.append(lambda s: desk.start_clock(session=s, tz=show.tz, now=clock()))
    for attempt in attempts:
        with show.session() as session, pytest.raises(Conflict) as refused:
            attempt(session)
        assert f"episode 1000 is {status}: the live desk cannot take it" in str(refused.value)
        assert refused.value.zh == f"第1000期{label}，不能用直播台"
    with show.session() as session:
        desk.drop_call(session=session, call=call_id)  # tidying up the queue stays possible


def test_one_caller_on_air_per_line(show: Station, clock: FakeClock) -> None:
    _start(show, clock, episode=1000)
    first, second, third = (_screened(show, name) for name in ("王女士", "李先生", "赵阿姨"))
    with show.session() as session:
        desk.put_on_air(session=session, call=first, now=clock())
    with show.session() as session, pytest.raises(Conflict) as refused:
        desk.put_on_air(session=session, call=second, now=clock())
    assert (
        str(refused.value)
        == f"call {first} (王女士) is on air: end a call first (`hotline live done N`)"
    )
    assert refused.value.zh == f"来电 #{first}（王女士）正在直播，请先结束一个通话"
    with show.session() as session:
        desk.put_on_air(session=session, call=second, now=clock(), lines=2)
    with show.session() as session, pytest.raises(Conflict, match="on all 2 lines"):
        desk.put_on_air(session=session, call=third, now=clock(), lines=2)
    with show.session() as session:
        desk.finish_call(session=session, call=first)
        desk.put_on_air(session=session, call=third, now=clock(), lines=2)  # a line is free
        assert session.get(Call, second).status == "on_air"


@pytest.mark.parametrize(
    ("member", "message"),
    [
        ("张伟", "张伟 \\(#1\\) is no_show on it"),
        ("李娜", "李娜 \\(#2\\) is not booked on it"),
    ],
)
def test_only_a_guest_confirmed_or_appeared_answers_on_air(
    show: Station, clock: FakeClock, member: str, message: str
) -> None:
    _start(show, clock, episode=1000)
    call_id = _screened(show)
    with show.session() as session:
        mark_no_show(
            session=session, settings=show.settings, episode=1000, member="张伟", now=clock()
        )
    with show.session() as session, pytest.raises(Conflict, match=message):
        desk.put_on_air(session=session, call=call_id, member=member, now=clock())
    with show.session() as session:
        assert session.get(Call, call_id).status == "screened"
        assert desk.answering_members(session=session, episode=1000) == []
