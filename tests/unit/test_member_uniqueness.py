"""Members stay unique: duplicates refused on add, skipped on import, merged, deactivated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from episodes.member_merge import merge_members
from episodes.members import DuplicateMember, add_member, deactivate_member, import_members
from hotline.errors import Conflict, InvalidInput, NeedsConfirmation
from hotline.models import Booking, Call, Episode, Member, Question
from hotline.station import Station

NOW = datetime(2024, 6, 1, 4, 0, tzinfo=UTC)
HEADER = "name,sector,level,affiliation,district,contact,active\n"
ROWS = (
    "王伟,医药卫生界,市,市第一人民医院副院长,东城区,13812345678,是\n"
    "李娜,教育界,区,市实验中学校长,西城区,,是\n"
    "陈静,农业界,省,市农业科学院研究员,清河县,chen@example.cn,是\n"
)


@pytest.fixture
def session(station: Station) -> Session:
    with Session(station.engine, expire_on_commit=False) as session:
        yield session


def members(session: Session) -> list[tuple[str, str, str]]:
    return [(m.name, m.sector, m.contact) for m in session.exec(select(Member).order_by(Member.id))]


def test_same_name_and_contact_is_refused_naming_the_member(session: Session) -> None:
    first = add_member(session=session, name="王伟", sector="医药卫生界", contact="13812345678")
    with pytest.raises(DuplicateMember) as refused:
        add_member(session=session, name="王伟", sector="经济界", contact="138-1234-5678")
    assert str(refused.value) == (
        f"member #{first.id} 王伟 (医药卫生界, 138****5678) has the same name and contact: "
        f"change that one (`hotline members edit {first.id}`), or pass --allow-duplicate "
        "for a namesake"
    )
    assert refused.value.existing is first
    assert refused.value.zh.startswith(
        f"已有委员 #{first.id} 王伟（医药卫生界），姓名和联系方式相同"
    )
    assert len(members(session)) == 1


def test_same_name_and_sector_without_a_contact_is_refused(session: Session) -> None:
    add_member(session=session, name="李娜", sector="教育界")
    with pytest.raises(DuplicateMember, match="same name and sector and no contact"):
        add_member(session=session, name="李娜", sector="教育界")
    with pytest.raises(DuplicateMember, match="same name and sector"):
        add_member(session=session, name="李娜", sector="教育界", contact="13900001111")


def test_namesakes_are_told_apart_or_allowed_on_purpose(session: Session) -> None:
    add_member(session=session, name="王伟", sector="医药卫生界", contact="13812345678")
    add_member(session=session, name="王伟", sector="医药卫生界", contact="13987654321")
    add_member(session=session, name="王伟", sector="经济界")  # another sector, no contact
    add_member(session=session, name="王伟", sector="经济界", allow_duplicate=True)
    assert [m[1] for m in members(session)] == ["医药卫生界", "医药卫生界", "经济界", "经济界"]


def write(tmp_path: Path, data: bytes, name: str = "members.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_importing_the_same_file_twice_adds_nothing_the_second_time(
    session: Session, tmp_path: Path
) -> None:
    path = write(tmp_path, (HEADER + ROWS).encode("gb18030"))  # as Excel saves it in 北京
    first = import_members(session=session, path=path)
    assert ([m.name for m in first.added], first.skipped, first.encoding) == (
        ["王伟", "李娜", "陈静"],
        [],
        "gb18030",
    )
    again = import_members(session=session, path=path)
    assert again.added == []
    assert [(s.line, s.name, s.existing) for s in again.skipped] == [
        (2, "王伟", first.added[0].id),
        (3, "李娜", first.added[1].id),
        (4, "陈静", first.added[2].id),
    ]
    assert len(members(session)) == 3
    forced = import_members(session=session, path=path, allow_duplicate=True)
    assert len(forced.added) == 3 and len(members(session)) == 6


def test_a_row_repeating_an_earlier_row_is_skipped(session: Session, tmp_path: Path) -> None:
    rows = HEADER + ROWS + "王伟,医药卫生界,市,,,138 1234 5678,是\n"
    result = import_members(session=session, path=write(tmp_path, rows.encode()))
    assert [m.name for m in result.added] == ["王伟", "李娜", "陈静"]
    assert [(s.line, s.existing, s.reason) for s in result.skipped] == [(5, None, "repeats line 2")]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "big5"])
def test_imports_detect_the_encoding(session: Session, tmp_path: Path, encoding: str) -> None:
    text = HEADER + "王偉,醫藥衛生界,市,市第一人民醫院,東城區,,是\n"
    if encoding != "big5":
        text = HEADER + ROWS
    path = write(tmp_path, text.encode(encoding))
    if encoding == "big5":
        # Traditional script is read correctly, then refused for its sector name, by line.
        with pytest.raises(InvalidInput, match="members.csv:2: unknown sector '醫藥衛生界'"):
            import_members(session=session, path=path, source="members.csv")
        return
    assert len(import_members(session=session, path=path).added) == 3


def test_an_undecodable_file_is_refused_naming_the_line(session: Session, tmp_path: Path) -> None:
    path = write(tmp_path, (HEADER + ROWS).encode("gb18030"))
    with pytest.raises(InvalidInput, match="members.csv:2: not valid utf-8"):
        import_members(session=session, path=path, encoding="utf-8", source="members.csv")
    assert members(session) == []


# ---------------------------------------------------------------- merge and deactivate


def episode(session: Session, number: int, days: int) -> Episode:
    row = Episode(number=number, title=f"第{number}期", air_start=NOW + timedelta(days=days))
    session.add(row)
    session.flush()
    return row


def book(session: Session, ep: Episode, member: Member, status: str) -> Booking:
    row = Booking(episode_id=ep.id, member_id=member.id, status=status)
    session.add(row)
    session.flush()
    return row


def test_merge_moves_bookings_answers_and_calls_and_removes_the_other(session: Session) -> None:
    keep = add_member(session=session, name="王伟", sector="医药卫生界")
    other = add_member(
        session=session,
        name="王伟",
        sector="医药卫生界",
        contact="13812345678",
        affiliation="市第一人民医院副院长",
        allow_duplicate=True,
    )
    old, shared, coming = episode(session, 1, -70), episode(session, 2, -7), episode(session, 3, 7)
    book(session, old, other, "appeared")
    book(session, shared, keep, "appeared")
    book(session, shared, other, "declined")  # asked twice under two records
    book(session, coming, other, "confirmed")
    session.add(
        Question(
            channel="phone",
            text="医保报销比例？",
            status="answered",
            episode_id=old.id,
            member_id=other.id,
        )
    )
    session.add(Call(episode_id=old.id, summary="医保", status="done", member_id=other.id))
    session.flush()

    with pytest.raises(NeedsConfirmation) as asked:
        merge_members(session=session, keep=keep.id, other=other.id)
    assert str(asked.value) == (
        f"merge member #{other.id} 王伟 into #{keep.id} 王伟: 2 bookings, 1 answer, 1 call move "
        f"to #{keep.id}; 1 declined or cancelled invitation(s) on the same episode dropped; "
        f"#{keep.id} takes affiliation, contact from #{other.id}; #{other.id} is removed"
    )
    assert asked.value.zh.startswith(f"把委员 #{other.id} 王伟 并入 #{keep.id} 王伟：2 个邀请")
    assert session.get(Member, other.id) is not None  # nothing changed yet

    plan = merge_members(session=session, keep=keep.id, other=other.id, confirm=True)
    assert (len(plan.moved), plan.answers, plan.calls) == (2, 1, 1)
    assert session.get(Member, other.id) is None
    rows = session.exec(select(Booking.episode_id, Booking.member_id, Booking.status)).all()
    assert sorted(rows) == [
        (old.id, keep.id, "appeared"),
        (shared.id, keep.id, "appeared"),
        (coming.id, keep.id, "confirmed"),
    ]
    assert session.exec(select(Question.member_id)).all() == [keep.id]
    assert session.exec(select(Call.member_id)).all() == [keep.id]
    assert (keep.contact, keep.affiliation) == ("13812345678", "市第一人民医院副院长")


def test_merge_refuses_when_both_hold_a_seat_on_one_episode(session: Session) -> None:
    keep = add_member(session=session, name="李娜", sector="教育界")
    other = add_member(session=session, name="李娜", sector="教育界", allow_duplicate=True)
    first, second = episode(session, 5, 7), episode(session, 6, 14)
    for ep in (first, second):
        book(session, ep, keep, "invited")
        book(session, ep, other, "confirmed")
    with pytest.raises(Conflict) as refused:
        merge_members(session=session, keep=keep.id, other=other.id, confirm=True)
    assert str(refused.value).startswith(
        f"#{keep.id} 李娜 and #{other.id} 李娜 are both booked on episode(s) 5, 6"
    )
    assert session.get(Member, other.id) is not None
    with pytest.raises(InvalidInput, match="cannot be merged into itself"):
        merge_members(session=session, keep=keep.id, other=keep.id)


def test_deactivate_names_the_bookings_still_open(session: Session) -> None:
    member = add_member(session=session, name="陈静", sector="农业界")
    ahead = Episode(number=7, title="农村养老", air_start=datetime(2099, 1, 3, 3, 0, tzinfo=UTC))
    session.add(ahead)
    session.flush()
    book(session, ahead, member, "confirmed")
    changed, upcoming = deactivate_member(session=session, member="陈静")
    assert (changed.active, upcoming) == (False, [7])
    with pytest.raises(Conflict, match="already inactive") as refused:
        deactivate_member(session=session, member=member.id)
    assert refused.value.zh == f"委员 #{member.id} 陈静 已是离任状态"
