"""The change history: every change of a tracked row, who made it, before → after, append-only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from episodes import bookings, questions, schedule
from episodes.departments import add_department, edit_department
from episodes.history_view import history_of
from episodes.members import add_member, edit_member
from hotline.history import HistoryEntry, acting_as, connection_actor, read_history
from hotline.models import Booking, history_table, table_of
from hotline.station import Station
from hotline.timeutil import zone

SHANGHAI = zone("Asia/Shanghai")
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


@pytest.fixture
def desk(station: Station) -> Station:
    with station.session() as s:
        common = {"session": s, "settings": station.settings, "now": NOW}
        schedule.add_episode(**common, number=1200, title="养老服务", air="2026-12-12 11:00")
        add_member(session=s, name="王伟", sector="医药卫生界", contact="13812345678")
        add_member(session=s, name="李娜", sector="教育界")
        bookings.add_booking(**common, episode=1200, member="王伟")
        bookings.add_booking(**common, episode=1200, member="李娜")
    return station


def entries(station: Station) -> list[HistoryEntry]:
    with station.engine.connect() as conn:
        rows = conn.execute(sa.select(history_table).order_by(history_table.c.id)).mappings()
        return [HistoryEntry(**row) for row in rows]


def test_every_change_is_recorded_with_who_and_before_after(desk: Station) -> None:
    with desk.session() as s:
        schedule.edit_episode(
            session=s, settings=desk.settings, number=1200, title="养老服务怎么办"
        )
        bookings.confirm_booking(
            session=s, settings=desk.settings, episode=1200, member="王伟", now=NOW
        )
    with desk.session() as s:
        lines = history_of(session=s, subject="episode", ref="1200", tz=SHANGHAI)
    assert [(x.what, x.action) for x in lines] == [
        ("第1200期", "insert"),
        ("邀请 王伟 → 第1200期", "insert"),
        ("邀请 李娜 → 第1200期", "insert"),
        ("第1200期", "update"),
        ("邀请 王伟 → 第1200期", "update"),
    ]
    assert lines[3].changes == {"title": ["养老服务", "养老服务怎么办"]}
    assert lines[4].changes == {"status": ["invited", "confirmed"]}
    assert lines[3].summary == "title: 养老服务 → 养老服务怎么办"
    with desk.engine.connect() as conn:  # the OS user on SQLite, the role on PostgreSQL
        assert {x.actor for x in lines} == {connection_actor(conn)}
    assert "air_start: 2026-12-12 11:00" in lines[0].summary  # in the station's zone


def test_bulk_updates_through_the_session_are_recorded_too(desk: Station) -> None:
    with desk.session() as s:
        _, cancelled = schedule.cancel_episode(session=s, number=1200)
    assert cancelled == 2  # the statement's row count is the caller's as before
    booking_updates = [e for e in entries(desk) if e.entity == "booking" and e.action == "update"]
    assert [e.changes for e in booking_updates] == [{"status": ["invited", "cancelled"]}] * 2
    assert {e.member_id for e in booking_updates} == {1, 2}


def test_repointed_duplicates_are_recorded(desk: Station) -> None:
    with desk.session() as s:
        texts = ("小区电梯加装补贴怎么申请？", "加装电梯补贴怎么申请", "电梯加装补贴申请流程")
        ids = [questions.add_question(session=s, text=t, channel="phone")[0].id for t in texts]
        questions.mark_duplicate(session=s, question=ids[2], of=ids[1])
        questions.mark_duplicate(session=s, question=ids[1], of=ids[0])
    with desk.session() as s:
        lines = history_of(session=s, subject="question", ref=str(ids[2]), tz=SHANGHAI)
    assert [x.changes["duplicate_of"] for x in lines if "duplicate_of" in x.changes] == [
        [None, ids[1]],
        [ids[1], ids[0]],
    ]


def test_private_fields_are_recorded_as_changed_never_by_value(desk: Station) -> None:
    with desk.session() as s:
        edit_member(session=s, member="王伟", contact="wang@example.cn")
        add_department(session=s, name="市民政局", contact="021-12345678")
        edit_department(session=s, department="市民政局", contact="")
        questions.add_question(
            session=s, text="养老院收费标准？", channel="phone", listener_contact="13900001111"
        )
    recorded = repr([e.changes for e in entries(desk)])
    for secret in ("13812345678", "wang@example.cn", "021-12345678", "13900001111"):
        assert secret not in recorded
    member_edit = [e for e in entries(desk) if e.entity == "member" and e.action == "update"]
    assert member_edit[0].changes == {"contact": ["***", "***"]}
    department_edit = [
        e for e in entries(desk) if e.entity == "department" and e.action == "update"
    ]
    assert department_edit[0].changes == {"contact": ["***", ""]}


def test_acting_as_names_the_producer_and_the_time(desk: Station) -> None:
    when = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    with desk.session() as s, acting_as(s, "张蕾", when):
        bookings.decline_booking(
            session=s, settings=desk.settings, episode=1200, member="李娜", now=NOW
        )
    last = entries(desk)[-1]
    assert (last.actor, last.at, last.changes) == (
        "张蕾",
        when,
        {"status": ["invited", "declined"]},
    )


def test_a_refused_command_leaves_no_history(desk: Station) -> None:
    before = len(entries(desk))
    with pytest.raises(Exception, match="already booked"), desk.session() as s:
        bookings.add_booking(
            session=s, settings=desk.settings, episode=1200, member="王伟", now=NOW
        )
    assert len(entries(desk)) == before


def test_the_history_is_append_only(desk: Station) -> None:
    for statement in ("UPDATE history SET actor = '某人'", "DELETE FROM history"):
        # SQLite's RAISE(ABORT) is an integrity error; PostgreSQL's RAISE EXCEPTION is not.
        refused = pytest.raises(sa.exc.DBAPIError, match="history is append-only")
        with refused, desk.engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert entries(desk)


def test_core_statements_on_bare_tables_are_not_recorded(desk: Station) -> None:
    before = len(entries(desk))
    with desk.session() as s:
        s.execute(sa.update(table_of(Booking)).values(role="expert"))
    assert len(entries(desk)) == before


def test_read_history_keeps_the_last_changes(desk: Station) -> None:
    with desk.session() as s:
        last_two = read_history(s, episode_id=1, limit=2)
        lines = history_of(session=s, subject="member", ref="王伟", tz=SHANGHAI)
    assert [e.entity for e in last_two] == ["booking", "booking"]
    assert [x.what for x in lines] == ["委员 王伟", "邀请 王伟 → 第1200期"]
