"""Many hands at once: commands run by 8 real processes together never break a rule.

Each test starts its processes at a gate (``tests/concurrent_calls.py``) so their
commands overlap, on SQLite and on PostgreSQL: the real ``hotline`` CLI, and workers
that call the domain functions directly in a transaction each, as the desk does. What
was seen before: 4–7 guests invited against a limit of 3, a question both duplicate
and rejected, UNIQUE-constraint tracebacks from ``episodes add``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from concurrent_calls import Finished, calls_argv, cli_argv, run_at_once, violations
from sqlmodel import func, select

from episodes.departments import add_department
from episodes.members import add_member
from episodes.questions import add_question, refer, screen
from episodes.referrals import reply
from episodes.schedule import add_episode
from hotline.models import Booking, Callback, Episode, Question
from hotline.station import Station
from hotline.timeutil import local_text, utcnow

pytestmark = pytest.mark.both_databases

NAMES = ("王伟", "李娜", "张敏", "陈静", "刘洋", "杨帆", "赵磊", "黄丽")
SECTORS = (
    "教育界",
    "医药卫生界",
    "经济界",
    "农业界",
    "科学技术界",
    "文化艺术界",
    "体育界",
    "新闻出版界",
)


def future_air(station: Station, days: int, hour: int = 11, minute: int = 0) -> str:
    """A local air time ``days`` from now, as the CLI takes it."""
    moment = (utcnow() + timedelta(days=days)).astimezone(station.tz)
    moment = moment.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return local_text(moment, station.tz)


def seed(station: Station, *, episodes: int = 1, questions: int = 0) -> list[int]:
    """Episodes 1…N a week apart, the eight members, and ``questions`` new questions."""
    with station.session() as session:
        for n in range(episodes):
            add_episode(
                session=session,
                settings=station.settings,
                title=f"第{n + 1}期：社区养老",
                air=future_air(station, 30 + 7 * n),
            )
        for name, sector in zip(NAMES, SECTORS, strict=True):
            add_member(session=session, name=name, sector=sector)
        ids = []
        for n in range(questions):
            question, _ = add_question(
                session=session, text=f"第{n}个问题：小区加装电梯", channel="phone"
            )
            ids.append(question.id)
    return ids


def assert_one_line_failures(runs: list[Finished]) -> None:
    """Every process that failed said so in one line; none printed a traceback."""
    for run in runs:
        assert "Traceback" not in run.stderr, run.stderr
        if run.returncode != 0:
            assert run.returncode == 1, run.stderr
            lines = [line for line in run.stderr.splitlines() if line.strip()]
            assert len(lines) == 1 and lines[0].startswith("hotline: error: "), run.stderr


def count(station: Station, model: Any, *where: Any) -> int:
    with station.session(write=False) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def test_eight_cli_bookings_at_once_stay_within_the_guest_limit(station: Station) -> None:
    seed(station)
    limit = station.settings.bookings.guest_limit
    runs = run_at_once([cli_argv(station.root, "bookings", "add", 1, name) for name in NAMES])
    assert_one_line_failures(runs)
    booked = [run for run in runs if run.returncode == 0]
    assert len(booked) == limit
    for run in runs:
        if run.returncode:
            assert "guest limit" in run.stderr
    assert count(station, Booking) == limit
    assert violations(station) == []


def test_eight_processes_calling_the_booking_function_stay_within_the_limit(
    station: Station,
) -> None:
    seed(station)
    limit = station.settings.bookings.guest_limit
    ops = [[{"op": "add_booking", "episode": 1, "member": name}] for name in NAMES]
    runs = run_at_once([calls_argv(station.root, plan) for plan in ops])
    outcomes = [result["outcome"] for run in runs for result in run.results()]
    assert len(outcomes) == len(NAMES)
    assert outcomes.count("ok") == limit
    assert outcomes.count("refused") == len(NAMES) - limit
    assert count(station, Booking) == limit
    assert violations(station) == []


def test_duplicate_and_reject_of_one_question_at_once_leave_it_consistent(
    station: Station,
) -> None:
    ids = seed(station, questions=8)
    pairs = list(zip(ids[0::2], ids[1::2], strict=True))  # (question, its original)
    commands = []
    for question, original in pairs:
        commands.append(
            cli_argv(station.root, "questions", "duplicate", question, "--of", original)
        )
        commands.append(
            cli_argv(station.root, "questions", "reject", question, "--reason", "重复来电")
        )
    runs = run_at_once(commands)
    assert_one_line_failures(runs)
    for n, (question, _) in enumerate(pairs):
        duplicate, reject = runs[2 * n], runs[2 * n + 1]
        assert sorted([duplicate.returncode, reject.returncode]) == [0, 1], (question, runs)
        loser = duplicate if duplicate.returncode else reject
        assert f"question {question} is " in loser.stderr  # the lifecycle refused the second
    assert violations(station) == []


def test_two_producers_calling_a_listener_back_at_once_record_one_call_back(
    station: Station,
) -> None:
    (question,) = seed(station, questions=1)
    with station.session() as session:
        add_department(session=session, name="区住建局")
        screen(session=session, question=question)
        opened = refer(
            session=session, settings=station.settings, question=question, department="区住建局"
        )
        reply(
            session=session,
            referral=opened.referral.id,
            text="已纳入今年加装电梯计划。",
            tz=station.tz,
        )
    runs = run_at_once(
        [
            cli_argv(station.root, "questions", "callback", question, "--outcome", outcome)
            for outcome in ("satisfied", "unsatisfied")
        ]
    )
    assert_one_line_failures(runs)
    assert sorted(run.returncode for run in runs) == [0, 1], runs
    loser = next(run for run in runs if run.returncode)
    assert f"question {question} is resolved already" in loser.stderr
    assert count(station, Callback) == 1
    assert violations(station) == []


def test_eight_episodes_added_at_once_get_eight_numbers_and_slots(station: Station) -> None:
    seed(station, episodes=0)
    runs = run_at_once(
        [cli_argv(station.root, "episodes", "add", "--title", f"加开第{n}场") for n in range(8)]
    )
    assert_one_line_failures(runs)
    added = [run for run in runs if run.returncode == 0]
    assert len(added) == 8, [run.stderr for run in runs]
    with station.session(write=False) as session:
        numbers = sorted(session.exec(select(Episode.number)).all())
    assert numbers == list(range(1, 9))
    assert violations(station) == []


def test_eight_processes_of_mixed_commands_keep_every_rule(station: Station) -> None:
    """Bookings, confirmations, questions and new episodes from 8 processes at once.

    Four processes are the real CLI, four call the domain functions in loops; the
    overlapping air times and the shared questions make them collide on purpose.
    """
    ids = seed(station, episodes=3, questions=8)
    special = future_air(station, 33, hour=20)  # a free evening: only one special fits in it
    worker_plans: list[list[dict[str, Any]]] = []
    for k in range(4):
        plan: list[dict[str, Any]] = []
        for episode in (1, 2, 3):
            plan.append({"op": "add_booking", "episode": episode, "member": NAMES[k]})
            plan.append({"op": "add_booking", "episode": episode, "member": NAMES[k + 4]})
        for episode in (1, 2, 3):
            plan.append({"op": "confirm_booking", "episode": episode, "member": NAMES[k]})
        plan.append({"op": "add_question", "text": f"进程{k}：医保报销", "channel": "wechat"})
        plan.append({"op": "screen_question", "question": ids[k]})
        plan.append({"op": "reject_question", "question": ids[k], "reason": "不属于本节目"})
        plan.append({"op": "duplicate_question", "question": ids[k], "of": ids[k + 4]})
        plan.append({"op": "duplicate_question", "question": ids[k + 4], "of": ids[(k + 1) % 4]})
        plan.append({"op": "add_episode", "title": f"特别节目{k}", "air": special})
        plan.append({"op": "edit_episode", "number": 2, "title": f"第2期（改{k}）"})
        worker_plans.append(plan)
    cli = [
        cli_argv(station.root, "bookings", "add", 2, NAMES[7]),
        cli_argv(station.root, "questions", "add", "--text", "公交线路调整", "--channel", "phone"),
        cli_argv(station.root, "episodes", "add", "--title", "加开", "--air", special),
        cli_argv(station.root, "questions", "duplicate", ids[1], "--of", ids[2]),
    ]
    runs = run_at_once([calls_argv(station.root, plan) for plan in worker_plans] + cli)
    results = [result for run in runs[:4] for result in run.results()]
    assert len(results) == sum(len(plan) for plan in worker_plans)
    assert {r["outcome"] for r in results} <= {"ok", "refused"}, results
    assert_one_line_failures(runs[4:])

    def succeeded(op: str) -> int:
        return sum(1 for r in results if r["op"] == op and r["outcome"] == "ok")

    cli_ok = [run.returncode == 0 for run in runs[4:]]
    assert count(station, Booking) == succeeded("add_booking") + cli_ok[0]
    assert count(station, Question) == len(ids) + succeeded("add_question") + cli_ok[1]
    assert count(station, Episode) == 3 + succeeded("add_episode") + cli_ok[2]
    assert succeeded("add_episode") + cli_ok[2] == 1  # five tries at one slot
    assert violations(station) == []
