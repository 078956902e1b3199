"""Referrals (转办) followed to the end: due dates, replies, call-backs, closing, lists, report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from episodes import questions as q
from episodes import referrals
from episodes.department_report import department_report
from episodes.departments import add_department, edit_department
from hotline.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from hotline.models import Booking, Callback, Episode, Member, Question, Referral
from hotline.station import Station
from hotline.timeutil import zone

SHANGHAI = zone("Asia/Shanghai")
# Monday 2026-09-28 10:00 in Shanghai: National Day week (1–7 October) lies ahead.
MONDAY = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)
LAMP = "我们楼下的路灯坏了一个月了，晚上出门很危险"
LIFT = "老旧小区加装电梯，一楼住户不同意怎么办？"
BUS = "公交12路车站撤了以后，老人出行很不方便，能否恢复？"


@pytest.fixture
def desk(station: Station) -> Station:
    with station.session() as s:
        s.add(Episode(number=1000, title="城市更新", air_start=MONDAY - timedelta(days=2)))
        s.add(Member(name="王建国", sector="经济界"))
        add_department(session=s, name="市住房和城乡建设管理委员会", contact="021-23118888")
        add_department(session=s, name="区城管局", contact="chengguan@example.cn")
        add_department(session=s, name="市交通委员会")
    return station


def screened(session: Session, text: str) -> int:
    question, _ = q.add_question(session=session, text=text, channel="phone")
    q.screen(session=session, question=question.id)
    return question.id


def refer(station: Station, session: Session, question: int, to: str, **kw: object):  # noqa: ANN201
    return q.refer(
        session=session, settings=station.settings, question=question, department=to, **kw
    )


def local_due(referral: Referral) -> date:
    return referrals.due_day(referral.due_at, SHANGHAI)


def test_due_five_working_days_on_skipping_the_national_day_week(desk: Station) -> None:
    with desk.session() as s:
        lamp = screened(s, LAMP)
        opened = refer(desk, s, lamp, "区城管局", now=MONDAY)
    # Tue 29, Wed 30 Sept; 1–7 Oct off; Thu 8, Fri 9, Sat 10 (调休) October.
    assert local_due(opened.referral) == date(2026, 10, 10)
    assert opened.warning == ""
    assert opened.question.status == "referred"
    assert opened.question.referral_department == "区城管局"


def test_an_explicit_due_date_and_one_before_the_referral(desk: Station) -> None:
    with desk.session() as s:
        lamp = screened(s, LAMP)
        opened = refer(desk, s, lamp, "区城管局", due="2026-10-20", now=MONDAY)
        assert local_due(opened.referral) == date(2026, 10, 20)
        bus = screened(s, BUS)
    with (
        pytest.raises(
            InvalidInput, match=r"due date 2026-09-27 is before the referral \(2026-09-28\)"
        ),
        desk.session() as s,
    ):
        refer(desk, s, bus, "市交通委员会", due="2026-09-27", now=MONDAY)
    with desk.session() as s:
        assert s.get(Question, bus).status == "screened"
        assert s.exec(select(Referral).where(Referral.question_id == bus)).first() is None


def test_unknown_and_inactive_departments_are_refused_with_near_names(desk: Station) -> None:
    with desk.session() as s:
        lift = screened(s, LIFT)
    with (
        pytest.raises(
            NotFound, match="no department named '住建委'; did you mean 市住房和城乡建设管理委员会"
        ),
        desk.session() as s,
    ):
        refer(desk, s, lift, "住建委", now=MONDAY)
    with desk.session() as s:
        edit_department(session=s, department="市交通委员会", active=False)
    with pytest.raises(Conflict, match="inactive"), desk.session() as s:
        refer(desk, s, lift, "市交通委员会", now=MONDAY)
    with desk.session() as s:
        assert s.get(Question, lift).status == "screened"


def test_reply_then_call_back_closes_the_question(desk: Station) -> None:
    with desk.session() as s:
        lamp = screened(s, LAMP)
        referral = refer(desk, s, lamp, "区城管局", now=MONDAY).referral.id
    with pytest.raises(Conflict, match="has no reply yet"), desk.session() as s:
        q.callback(session=s, question=lamp, outcome="satisfied", now=MONDAY)
    later = MONDAY + timedelta(days=3)
    with desk.session() as s:
        done = referrals.reply(
            session=s, referral=referral, text="已安排维修，本周内修复。", tz=SHANGHAI, now=later
        )
        assert done.status == "replied" and done.replied_at < done.due_at
    with pytest.raises(Conflict, match="already has a reply"), desk.session() as s:
        referrals.reply(session=s, referral=referral, text="再次答复", tz=SHANGHAI, now=later)
    with desk.session() as s:
        missed = q.callback(
            session=s, question=lamp, outcome="unreachable", made_by="张蕾", now=later
        )
        assert not missed.closed and missed.question.status == "referred"
    with desk.session() as s:
        reached = q.callback(
            session=s,
            question=lamp,
            outcome="satisfied",
            note="路灯已修好",
            made_by="张蕾",
            now=later,
        )
        assert reached.closed and reached.question.status == "resolved"
    with desk.session() as s:
        assert s.get(Referral, referral).status == "closed"
        made = s.exec(select(Callback).where(Callback.question_id == lamp)).all()
        assert [(c.outcome, c.made_by) for c in made] == [
            ("unreachable", "张蕾"),
            ("satisfied", "张蕾"),
        ]
    with pytest.raises(Conflict, match="referral 1 is closed"), desk.session() as s:
        referrals.reply(session=s, referral=referral, text="迟到的答复", tz=SHANGHAI, now=later)
    # A second producer's call-back, begun before the first was saved, is refused: the
    # listener counts once in the department's satisfaction.
    with pytest.raises(Conflict, match="is resolved already") as refused, desk.session() as s:
        q.callback(session=s, question=lamp, outcome="unsatisfied", made_by="李娜", now=later)
    assert refused.value.zh == f"问题 #{lamp} 已办结，回访已登记，不再回访"
    with desk.session() as s:
        assert department_report(session=s, tz=SHANGHAI).rows[0].callbacks == {
            "unreachable": 1,
            "satisfied": 1,
        }


def test_reply_dates_must_fall_between_sending_and_now(desk: Station) -> None:
    with desk.session() as s:
        referral = refer(desk, s, screened(s, LAMP), "区城管局", now=MONDAY).referral.id
    for when, message in (
        ("2026-09-27", "before the referral was sent"),
        ("2026-12-31", "in the future"),
        ("昨天", "not a date"),
    ):
        with pytest.raises(InvalidInput, match=message), desk.session() as s:
            referrals.reply(
                session=s, referral=referral, text="答复", tz=SHANGHAI, when=when, now=MONDAY
            )
    with desk.session() as s:
        assert s.get(Referral, referral).status == "open"
        late = referrals.reply(
            session=s,
            referral=referral,
            text="已修复",
            tz=SHANGHAI,
            when="2026-10-12",
            now=MONDAY + timedelta(days=20),
        )
        assert late.replied_at >= late.due_at  # due 10 October: late


def test_call_back_needs_an_answer_or_a_referral(desk: Station) -> None:
    with desk.session() as s:
        bus = screened(s, BUS)
    with pytest.raises(Conflict, match="was never referred or answered"), desk.session() as s:
        q.callback(session=s, question=bus, outcome="satisfied")
    unknown = pytest.raises(InvalidInput, match="unknown call-back outcome 'happy'")
    with unknown, desk.session() as s:
        q.callback(session=s, question=bus, outcome="happy")
    with desk.session() as s:
        q.assign(session=s, question=bus, episode=1000, now=MONDAY - timedelta(days=3))
        s.add(Booking(episode_id=1, member_id=1, status="appeared"))  # he was on the show
        q.answer(session=s, question=bus, member="王建国", at="10:00")
        done = q.callback(session=s, question=bus, outcome="partly", made_by="赵刚")
        assert done.closed and done.question.status == "resolved"
        assert done.callback.referral_id is None


def test_resolve_a_referral_early_takes_a_reason(desk: Station) -> None:
    with desk.session() as s:
        lift = screened(s, LIFT)
        referral = refer(desk, s, lift, "市住房和城乡建设管理委员会", now=MONDAY).referral.id
    with (
        pytest.raises(
            InvalidInput,
            match=r"question 1 is referred \(referral 1\) and has no reply yet: give --reason",
        ),
        desk.session() as s,
    ):
        q.resolve(session=s, question=lift)
    with desk.session() as s:
        q.resolve(session=s, question=lift, reason="听众来电告知已协商解决")
    with desk.session() as s:
        closed = s.get(Referral, referral)
        assert (closed.status, closed.close_reason) == ("closed", "听众来电告知已协商解决")
        assert s.get(Question, lift).status == "resolved"
    with pytest.raises(InvalidTransition), desk.session() as s:
        q.resolve(session=s, question=lift, reason="再次办结")


def test_lists_overdue_first_and_the_filters(desk: Station) -> None:
    with desk.session() as s:
        late = refer(desk, s, screened(s, LAMP), "区城管局", due="2026-09-29", now=MONDAY)
        soon = refer(desk, s, screened(s, BUS), "市交通委员会", due="2026-10-09", now=MONDAY)
        later = refer(desk, s, screened(s, LIFT), "市住房和城乡建设管理委员会", now=MONDAY)
        ids = late.referral.id, soon.referral.id, later.referral.id
    now = datetime(2026, 10, 8, 2, 0, tzinfo=UTC)  # Thursday 8 October, 10:00
    with desk.session() as s:

        def listed(**kw: object) -> list[int]:
            return [r.id for r in referrals.list_referrals(session=s, tz=SHANGHAI, now=now, **kw)]

        assert listed() == [ids[0], ids[1], ids[2]]
        assert listed(overdue=True) == [ids[0]]
        assert listed(due_within=1) == [ids[1]]  # due 9 October: today or tomorrow
        assert listed(due_within=5) == [ids[1], ids[2]]
        assert listed(overdue=True, due_within=1) == [ids[0], ids[1]]
        assert listed(department="市交通委员会") == [ids[1]]
        assert listed(search="路灯") == [ids[0]]
        rows = referrals.list_referrals(session=s, tz=SHANGHAI, now=now, overdue=True)
        assert rows[0].days_overdue(now, SHANGHAI) == 9
        assert referrals.count_referrals(session=s, tz=SHANGHAI, now=now, overdue=True) == 1
    with pytest.raises(InvalidInput, match="due within -1 days"), desk.session() as s:
        referrals.list_referrals(session=s, tz=SHANGHAI, now=now, due_within=-1)


def test_the_department_report(desk: Station) -> None:
    with desk.session() as s:
        one = refer(desk, s, screened(s, LAMP), "区城管局", now=MONDAY).referral.id
        two = refer(desk, s, screened(s, BUS), "区城管局", now=MONDAY).referral.id
        refer(
            desk, s, screened(s, LIFT), "市住房和城乡建设管理委员会", due="2026-09-29", now=MONDAY
        )
        referrals.reply(
            session=s, referral=one, text="已修", tz=SHANGHAI, now=MONDAY + timedelta(days=2)
        )
        referrals.reply(
            session=s, referral=two, text="已办", tz=SHANGHAI, now=MONDAY + timedelta(days=20)
        )
        q.callback(
            session=s,
            question=1,
            outcome="satisfied",
            made_by="张蕾",
            now=MONDAY + timedelta(days=21),
        )
        q.callback(
            session=s,
            question=2,
            outcome="unsatisfied",
            made_by="张蕾",
            now=MONDAY + timedelta(days=21),
        )
    with desk.session() as s:
        report = department_report(
            session=s, tz=SHANGHAI, year=2026, now=MONDAY + timedelta(days=22)
        )
        empty = department_report(session=s, tz=SHANGHAI, year=2025)
    by_name = {row.name: row for row in report.rows}
    assert [row.name for row in report.rows] == ["市住房和城乡建设管理委员会", "区城管局"]
    housing, city = by_name["市住房和城乡建设管理委员会"], by_name["区城管局"]
    assert (housing.received, housing.replied, housing.overdue_now) == (1, 0, 1)
    assert (city.received, city.replied, city.on_time, city.overdue_now) == (2, 2, 1, 0)
    assert city.median_days == 11.0  # 2 and 20 days
    assert city.callbacks == {"satisfied": 1, "unsatisfied": 1}
    assert city.satisfaction == 0.5
    assert report.total.received == 3 and report.total.overdue_now == 1
    assert empty.rows == []
