"""The demo's follow-through: departments, referrals (转办) in every state, replies, call-backs.

Every question the questions step referred gets a referral to its topic's department.
Those more than ``OPEN_DAYS`` days old are done with: the department replied (usually
on time), a producer called the listener back, and the question is closed (办结) — a few
closed without a reply, with the reason. The recent ones are the desk's open cases, and
they are replayed through the real domain functions (refer, reply, call-back) as the
producers on duty, at the demo's own times, so the change history has them too: open
and not yet due, due tomorrow, overdue, replied and waiting for the call-back, and one
whose listener could not be reached.

Like every step it is a function of the seed and ``today``: the replayed changes carry
the demo's clock and the producers' names, never the build's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from episodes import questions, referrals
from episodes.workdays import add_working_days
from hotline.demo_data import topic_named, topics
from hotline.demo_steps import DemoContext, insert_rows
from hotline.history import acting_as
from hotline.models import (
    Callback,
    CallbackOutcome,
    Department,
    Episode,
    Question,
    QuestionStatus,
    Referral,
    ReferralStatus,
    table_of,
)

OPEN_DAYS = 180
PRODUCERS = ("张蕾", "赵刚", "孙悦")
EXTRA_DEPARTMENTS = (("市公安局交通警察总队", "法制处"), ("市规划和自然资源局", "信访办公室"))
REPLIES = (
    "经核查，已责成{district}相关部门限期整改，整改情况将在两周内书面反馈。",
    "来信反映的问题属实，我局已会同街道制定方案，预计下月底前完成。",
    "相关政策已于今年出台，具体办理流程已电话告知来信人。",
    "经现场查看，问题已处理完毕，欢迎继续监督。",
    "该事项涉及多个部门，我局已牵头协调，阶段性进展将按月通报。",
)
CLOSE_REASONS = (
    "部门逾期未复，已转12345市民服务热线督办",
    "听众来电告知问题已自行解决",
    "来信人撤回诉求",
)
CALLBACK_NOTES = {
    CallbackOutcome.satisfied: ("听众表示满意，感谢节目组", "问题已解决，听众满意"),
    CallbackOutcome.partly: ("基本满意，希望后续跟进", "部分解决，仍有顾虑"),
    CallbackOutcome.unsatisfied: ("听众认为答复敷衍，不满意", "问题未实质解决"),
    CallbackOutcome.unreachable: ("电话无人接听", "号码已停机"),
}


@dataclass
class _Case:
    """A referred question from the questions step, with what the step needs of it."""

    id: int
    topic: str
    district: str
    status: str
    member_id: int | None
    air: datetime
    updated: datetime


def _clock(ctx: DemoContext, day: date, rng_minutes: int) -> datetime:
    """``day`` at a working-hours time (09:00 + minutes), as UTC."""
    return ctx.at(day, time(9, 0)) + timedelta(minutes=rng_minutes)


def _departments(ctx: DemoContext) -> dict[str, int]:
    rng = ctx.rng("departments")
    names = sorted({t.department for t in topics()})
    rows = []
    for name in names:
        rows.append(
            {
                "name": name,
                "contact": f"021-6{rng.randrange(10**6, 10**7)}",
                "note": rng.choice(("信访办公室", "办公室", "政策法规处", "联络员")),
                "active": True,
                "created_at": ctx.at(date(2000, 1, 3), time(9, 0)),
                "updated_at": ctx.at(date(2000, 1, 3), time(9, 0)),
            }
        )
    for name, note in EXTRA_DEPARTMENTS:
        rows.append(
            {
                "name": name,
                "contact": f"021-2{rng.randrange(10**6, 10**7)}",
                "note": note,
                "active": True,
                "created_at": ctx.at(date(2015, 3, 2), time(9, 0)),
                "updated_at": ctx.at(date(2015, 3, 2), time(9, 0)),
            }
        )
    ids = insert_rows(ctx.session, Department, rows)
    return {row["name"]: i for row, i in zip(rows, ids, strict=True)}


def _cases(ctx: DemoContext) -> list[_Case]:
    question, episode = table_of(Question).c, table_of(Episode).c
    rows = ctx.session.execute(
        sa.select(
            question.id,
            question.topic,
            question.district,
            question.status,
            question.member_id,
            episode.air_start,
            question.updated_at,
        )
        .join(table_of(Episode), episode.id == question.episode_id)
        .where(question.referral_department != "")
        .order_by(question.id)
    ).all()
    return [_Case(*row) for row in rows]


def _closed_referral(
    ctx: DemoContext, case: _Case, department: int, satisfaction: float
) -> tuple[dict[str, Any], dict[str, Any] | None, datetime]:
    """A referral done with long ago: (referral row, call-back row or None, closing time)."""
    rng = ctx.rng(f"referral {case.id}")
    tz = ctx.station.tz
    sent_day = (case.air + timedelta(days=rng.randint(1, 3))).astimezone(tz).date()
    sent = _clock(ctx, sent_day, rng.randint(0, 300))
    due = referrals.day_end(add_working_days(sent_day, 5).day, tz)
    row: dict[str, Any] = {
        "question_id": case.id,
        "department_id": department,
        "sent_at": sent,
        "due_at": due,
        "status": ReferralStatus.closed.value,
        "reply_text": "",
        "replied_at": None,
        "close_reason": "",
    }
    if rng.random() < 0.1:
        closed = due + timedelta(days=rng.randint(10, 40))
        row |= {"close_reason": rng.choice(CLOSE_REASONS), "updated_at": closed}
        return row, None, closed
    late = rng.random() < 0.2
    replied = (
        (due + timedelta(days=rng.randint(1, 12)))
        if late
        else sent + (due - sent) * rng.uniform(0.2, 0.95)
    )
    replied = replied.replace(microsecond=0)
    called = replied + timedelta(days=rng.randint(1, 5), hours=rng.randint(0, 6))
    roll = rng.random()
    outcome = (
        CallbackOutcome.satisfied
        if roll < satisfaction
        else CallbackOutcome.partly
        if roll < satisfaction + (1 - satisfaction) * 0.6
        else CallbackOutcome.unsatisfied
    )
    row |= {
        "reply_text": rng.choice(REPLIES).format(district=case.district or "所在区"),
        "replied_at": replied,
        "updated_at": called,
    }
    callback = {
        "question_id": case.id,
        "outcome": outcome.value,
        "note": rng.choice(CALLBACK_NOTES[outcome]),
        "made_by": rng.choice(PRODUCERS),
        "made_at": called,
    }
    return row, callback, called


def _settle_the_past(
    ctx: DemoContext, cases: list[_Case], ids: dict[str, int], satisfaction: dict[str, float]
) -> None:
    """Bulk rows for the referrals done with before the open window."""
    drafts = []
    for case in cases:
        department = topic_named(case.topic).department
        drafts.append(
            (case, *_closed_referral(ctx, case, ids[department], satisfaction[department]))
        )
    rows = [r for _, r, _, _ in drafts]
    referral_ids = insert_rows(ctx.session, Referral, rows)
    callbacks = [
        c | {"referral_id": referral_id}
        for (_, _, c, _), referral_id in zip(drafts, referral_ids, strict=True)
        if c is not None
    ]
    insert_rows(ctx.session, Callback, callbacks)
    # Questions the questions step left referred long ago are closed by now (办结).
    table = table_of(Question)
    closing = [
        {"b_id": case.id, "b_at": closed}
        for case, _, _, closed in drafts
        if case.status == QuestionStatus.referred
    ]
    if closing:
        ctx.session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("b_id"))
            .values(status=QuestionStatus.resolved.value, updated_at=sa.bindparam("b_at")),
            closing,
        )


def _replay_open(ctx: DemoContext, cases: list[_Case]) -> None:
    """The open cases, newest first in a fixed rotation of states, through the domain."""
    session, settings, tz = ctx.session, ctx.station.settings, ctx.station.tz
    table = table_of(Question)
    rng = ctx.rng("open referrals")
    today = ctx.today
    # Newest first: the newest is not due yet, the next is due tomorrow, then the rest.
    states = ("not due", "due soon", "overdue", "replied", "unreachable", "overdue", "replied")
    for index, case in enumerate(sorted(cases, key=lambda c: c.updated, reverse=True)):
        state = states[index % len(states)]
        producer = PRODUCERS[index % len(PRODUCERS)]
        before = QuestionStatus.answered if case.member_id else QuestionStatus.assigned
        # The questions step wrote the outcome; step back one move and make it for real.
        session.execute(sa.update(table).where(table.c.id == case.id).values(status=before.value))
        sent = min(case.updated, ctx.day_start - timedelta(days=1)).replace(microsecond=0)
        due = None
        if state == "not due":
            sent = ctx.day_start - timedelta(hours=rng.randint(14, 20))
        elif state == "due soon":
            due = today + timedelta(days=1)
        department = topic_named(case.topic).department
        with acting_as(session, producer, sent):
            questions.refer(
                session=session,
                settings=settings,
                question=case.id,
                department=department,
                due=due,
                now=sent,
            )
        last = sent
        if state in ("replied", "unreachable"):
            referral = referrals.latest_referral(session, case.id)
            assert referral is not None and referral.id is not None
            replied = sent + (referral.due_at - sent) * rng.uniform(0.3, 0.9)
            replied = min(replied, ctx.day_start - timedelta(hours=2)).replace(microsecond=0)
            with acting_as(session, producer, replied):
                referrals.reply(
                    session=session,
                    referral=referral.id,
                    text=rng.choice(REPLIES).format(district=case.district or "所在区"),
                    tz=tz,
                    when=replied.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                    now=replied,
                )
            last = replied
            if state == "unreachable":
                called = min(replied + timedelta(days=1), ctx.day_start - timedelta(hours=1))
                with acting_as(session, producer, called):
                    questions.callback(
                        session=session,
                        question=case.id,
                        outcome=CallbackOutcome.unreachable,
                        note=CALLBACK_NOTES[CallbackOutcome.unreachable][0],
                        made_by=producer,
                        now=called,
                    )
                last = called
        # The lifecycle stamps the wall clock; the demo's question changed at demo time.
        session.execute(sa.update(table).where(table.c.id == case.id).values(updated_at=last))


def add_referrals(ctx: DemoContext) -> None:
    """Departments, and a referral for every referred question: closed, or open in a state."""
    ids = _departments(ctx)
    rng = ctx.rng("satisfaction")
    satisfaction = {name: rng.uniform(0.55, 0.9) for name in sorted(ids)}
    cutoff = ctx.day_start - timedelta(days=OPEN_DAYS)
    cases = _cases(ctx)
    old = [c for c in cases if c.status == QuestionStatus.resolved or c.updated < cutoff]
    recent = [c for c in cases if c not in old]
    _settle_the_past(ctx, old, ids, satisfaction)
    _replay_open(ctx, recent)
