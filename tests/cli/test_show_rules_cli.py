"""The show's rules through the real CLI: each refusal is one line, exit 1, station unchanged;
each move that needs a person's yes is refused without ``--yes`` and done with it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from episodes import bookings, questions
from episodes.members import add_member
from episodes.schedule import add_episode
from hotline.config import save_settings
from hotline.models import Booking, Call, Episode, Member, Question, ShowClock
from hotline.station import Station

Cli = Callable[..., Any]
# Wednesday 2026-12-09 10:00 in Shanghai.
NOW = datetime(2026, 12, 9, 2, 0, tzinfo=UTC)
SCHEDULE = (
    (1195, "2026-11-21 11:00", "因故顺延的一期", "planned"),  # its slot passed; it never aired
    (1196, "2026-11-28 11:00", "老旧小区加装电梯", "published"),
    (1197, "2026-12-05 11:00", "医保异地结算", "published"),
    (1198, "2026-12-12 11:00", "暑期托管服务", "confirmed"),
    (1199, "2026-12-19 11:00", "垃圾分类", "planned"),
    (1201, "2027-01-09 11:00", "社区养老服务", "planned"),
)


def state(station: Station) -> list[Any]:
    """Every row a rule could touch, for "the station is unchanged"."""
    with station.session() as s:
        return [
            [row.model_dump() for row in s.exec(select(model).order_by(model.id))]
            for model in (Episode, Member, Booking, Question, Call, ShowClock)
        ]


@pytest.fixture
def desk(station: Station, time_machine: Any) -> Station:
    """Six episodes around NOW; 王伟 confirmed on 1198, 郑辉 invited, 陈静 inactive."""
    early = NOW - timedelta(days=60)
    with station.session() as s:
        for number, air, title, status in SCHEDULE:
            episode = add_episode(
                session=s, settings=station.settings, number=number, title=title, air=air, now=early
            )
            episode.status = status  # test data: skip the pipeline that would get it there
        add_member(session=s, name="王伟", sector="医药卫生界", contact="13812345678")
        add_member(session=s, name="郑辉", sector="经济界")
        add_member(session=s, name="陈静", sector="农业界")
        common = {"session": s, "settings": station.settings, "episode": 1198, "now": early}
        bookings.add_booking(**common, member="王伟")
        bookings.confirm_booking(**common, member="王伟")
        bookings.add_booking(**common, member="郑辉")
        s.exec(select(Member).where(Member.name == "陈静")).one().active = False
        for text in ("小区电梯加装补贴怎么申请？", "医保异地结算要带什么材料？", "垃圾分类点太远"):
            question, _ = questions.add_question(session=s, text=text, channel="phone")
            questions.screen(session=s, question=question.id)
        questions.assign(session=s, question=1, episode=1198, now=early)
        questions.assign(session=s, question=2, episode=1199, now=early)
    time_machine.move_to(NOW, tick=False)
    return station


def refused(result: Any, message: str) -> None:
    assert result.exit_code == 1, result.stdout
    assert result.stderr.startswith("hotline: error: "), result.stderr
    assert message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def asks(result: Any, message: str) -> None:
    """Refused because a person must say yes; the line says what would happen and how."""
    refused(result, message)
    assert result.stderr.rstrip().endswith(": pass --yes to go ahead")


# ---------------------------------------------------------------- schedule


def test_past_air_times_are_refused_for_new_and_moved_episodes(cli: Cli, desk: Station) -> None:
    before = state(desk)
    refused(
        cli("episodes", "reschedule", "1199", "--air", "2020-01-01 11:00"),
        "air time 2020-01-01 11:00 has passed: give a time still to come",
    )
    refused(
        cli("episodes", "add", "--title", "写错了年份", "--air", "2019-06-05 15:00"),
        "air time 2019-06-05 15:00 has passed",
    )
    assert state(desk) == before
    added = cli("episodes", "add", "--title", "往期补录", "--air", "2019-06-05 15:00", "--past")
    assert added.exit_code == 0, added.stderr
    assert (
        added.stdout.strip()
        == "added episode 1202 2019-06-05 15:00 往期补录 (aired: back catalogue)"
    )
    assert cli("episodes", "show", "1202", "--json").json()["status"] == "aired"
    refused(
        cli("episodes", "reschedule", "1202", "--air", "2027-02-06 11:00"),
        "episode 1202 is already aired: it cannot be rescheduled",
    )


def test_an_episode_whose_slot_passed_without_airing_can_be_moved(cli: Cli, desk: Station) -> None:
    moved = cli("episodes", "reschedule", "1195", "--air", "2026-12-16 19:30")
    assert moved.exit_code == 0, moved.stderr
    assert moved.stdout.strip() == "rescheduled episode 1195 2026-12-16 19:30 因故顺延的一期"


def test_a_special_far_ahead_leaves_no_gap(cli: Cli, desk: Station) -> None:
    special = cli("episodes", "add", "--title", "特别节目", "--air", "2031-02-01 11:00")
    assert special.exit_code == 0, special.stderr
    made = cli("episodes", "generate", "--count", "3")
    assert made.exit_code == 0, made.stderr
    assert made.stdout.strip() == (
        "scheduled 3 episodes: 1203–1205, 2026-12-26 11:00 to 2027-01-16 11:00"
    )
    one = cli("episodes", "generate", "--count", "1")
    assert one.stdout.strip() == "scheduled 1 episode: 1206, 2027-01-23 11:00"


def test_cancelling_returns_assigned_questions_to_screened(cli: Cli, desk: Station) -> None:
    cancelled = cli("episodes", "cancel", "1198")
    assert cancelled.exit_code == 0, cancelled.stderr
    assert cancelled.stdout.strip() == (
        "cancelled episode 1198 2026-12-12 11:00 暑期托管服务; 2 bookings cancelled, "
        "1 question back to screened"
    )
    shown = cli("questions", "show", "1", "--json").json()
    assert (shown["status"], shown["episode"]) == ("screened", None)
    refused(cli("episodes", "cancel", "1197"), "episode 1197 is published: it went on air")


# ---------------------------------------------------------------- answers and routing


def test_an_answer_needs_a_booked_member_and_an_episode_on_air(
    cli: Cli, desk: Station, time_machine: Any
) -> None:
    assert cli("questions", "assign", "3", "1201").exit_code == 0
    before = state(desk)
    refused(
        cli("questions", "answer", "3", "--member", "王伟"),
        "episode 1201 has not gone on air yet",
    )
    time_machine.move_to(datetime(2026, 12, 12, 3, 30, tzinfo=UTC), tick=False)  # 1198 on air
    refused(
        cli("questions", "answer", "1", "--member", "陈静"),
        "陈静 (#3) is not booked on it: only a member confirmed on episode 1198",
    )
    refused(cli("questions", "answer", "1", "--member", "郑辉"), "郑辉 (#2) is invited on it")
    assert state(desk) == before
    answered = cli("questions", "answer", "1", "--member", "王伟", "--at", "30:00")
    assert answered.exit_code == 0, answered.stderr
    assert "question 1 → answered at 30:00" in answered.stdout


def test_assigning_to_a_published_episode_asks_first(cli: Cli, desk: Station) -> None:
    before = state(desk)
    asks(
        cli("questions", "assign", "3", "1197"),
        "episode 1197 is published: question 3 assigned to it will not be taken on air",
    )
    assert state(desk) == before
    done = cli("questions", "assign", "3", "1197", "--yes")
    assert done.exit_code == 0, done.stderr
    assert "question 3 → assigned for episode 1197" in done.stdout


# ---------------------------------------------------------------- the live desk


def test_starting_the_clock_weeks_early_asks_first(cli: Cli, desk: Station) -> None:
    before = state(desk)
    asks(
        cli("live", "start", "-e", "1201"),
        "episode 1201 airs 2027-01-09 11:00, 31 days from now: start the show clock",
    )
    assert state(desk) == before
    started = cli("live", "start", "-e", "1201", "--yes")
    assert started.exit_code == 0, started.stderr
    assert started.stdout.strip() == "show clock for episode 1201 started at 10:00:00"


def test_a_late_start_asks_and_the_window_is_a_setting(
    cli: Cli, desk: Station, time_machine: Any
) -> None:
    time_machine.move_to(datetime(2026, 12, 12, 15, 0, tzinfo=UTC), tick=False)  # 23:00
    asks(cli("live", "start", "-e", "1198"), "was due on air 2026-12-12 11:00, 12 h ago")
    desk.settings.live.start_window_minutes = 13 * 60
    save_settings(desk.settings, desk.settings_path)
    assert cli("live", "start", "-e", "1198").exit_code == 0


def test_published_and_cancelled_episodes_have_no_live_desk(cli: Cli, desk: Station) -> None:
    before = state(desk)
    refused(
        cli("live", "add", "-e", "1197", "--summary", "补充提问"),
        "episode 1197 is published: the live desk cannot take it",
    )
    refused(cli("live", "start", "-e", "1197", "--yes"), "episode 1197 is published")
    assert cli("episodes", "cancel", "1199").exit_code == 0
    after_cancel = state(desk)
    refused(cli("live", "start", "-e", "1199", "--yes"), "episode 1199 is cancelled")
    assert state(desk) == after_cancel != before


def on_air_setup(cli: Cli, time_machine: Any) -> None:
    time_machine.move_to(datetime(2026, 12, 12, 3, 0, tzinfo=UTC), tick=False)
    assert cli("live", "start").exit_code == 0  # today's episode, 1198, at 11:00
    for name in ("王女士", "李先生"):
        added = cli("live", "add", "--name", name, "--summary", "加装电梯一楼不同意怎么办")
        assert added.exit_code == 0, added.stderr
    assert cli("live", "screen", "1").exit_code == 0
    assert cli("live", "screen", "2").exit_code == 0
    time_machine.move_to(datetime(2026, 12, 12, 3, 12, 30, tzinfo=UTC), tick=False)
    on_air = cli("live", "on-air", "1", "--member", "王伟")
    assert on_air.stdout.strip() == "call 1 on air at 12:30; question 4 answered"


def test_one_caller_on_air_at_a_time_per_line(cli: Cli, desk: Station, time_machine: Any) -> None:
    on_air_setup(cli, time_machine)
    before = state(desk)
    refused(cli("live", "on-air", "2"), "call 1 (王女士) is on air: end a call first")
    assert state(desk) == before
    desk.settings.live.lines = 2
    save_settings(desk.settings, desk.settings_path)
    assert cli("live", "on-air", "2").exit_code == 0


def test_restart_after_stamps_asks_and_keeps_the_stamps(
    cli: Cli, desk: Station, time_machine: Any
) -> None:
    on_air_setup(cli, time_machine)
    before = state(desk)
    asks(
        cli("live", "start", "--restart"),
        "1 call was stamped from the start at 11:00:00; the stamps stay as they are",
    )
    assert state(desk) == before
    restarted = cli("live", "start", "--restart", "--yes")
    assert restarted.stdout.strip() == "show clock for episode 1198 started at 11:12:30"
    call = cli("live", "queue", "--json").json()[0]
    assert (call["id"], call["on_air_at"]) == (1, "12:30")
    assert cli("questions", "show", "4", "--json").json()["answer_at"] == "12:30"


def test_a_no_show_guest_cannot_answer_on_air(cli: Cli, desk: Station, time_machine: Any) -> None:
    time_machine.move_to(datetime(2026, 12, 12, 3, 0, tzinfo=UTC), tick=False)
    assert cli("bookings", "no-show", "1198", "王伟").exit_code == 0
    assert cli("live", "start").exit_code == 0
    assert cli("live", "add", "--summary", "医保报销比例").exit_code == 0
    assert cli("live", "screen", "1").exit_code == 0
    before = state(desk)
    refused(cli("live", "on-air", "1", "--member", "王伟"), "王伟 (#1) is no_show on it")
    assert state(desk) == before
