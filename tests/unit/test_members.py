"""Members: adding, editing, listing with appearance counts, history, detail and CSV import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from episodes.lookup import get_member
from episodes.members import (
    ImportRefused,
    add_member,
    edit_member,
    import_members,
    list_members,
    member_detail,
    member_history,
)
from hotline.errors import InvalidInput, NotFound
from hotline.models import Booking, Episode, Member
from hotline.station import Station

NOW = datetime(2024, 6, 1, 4, 0, tzinfo=UTC)


@pytest.fixture
def session(station: Station) -> Session:
    with Session(station.engine, expire_on_commit=False) as session:
        yield session


def episode(session: Session, number: int, air_start: datetime, title: str = "医保") -> Episode:
    row = Episode(number=number, title=title, air_start=air_start)
    session.add(row)
    session.flush()
    return row


def book(session: Session, ep: Episode, member: Member, status: str, role: str = "guest") -> None:
    session.add(Booking(episode_id=ep.id, member_id=member.id, status=status, role=role))
    session.flush()


def test_add_member_cleans_text_and_checks_sector_and_level(session: Session) -> None:
    member = add_member(
        session=session,
        name=" 王\x07伟 ",
        sector="经济界",
        level="省",
        affiliation="市发改委\n副主任",
        contact="13812345678",
    )
    assert (member.name, member.sector, member.level) == ("王伟", "经济界", "省")
    assert member.affiliation == "市发改委 副主任"
    assert member.active is True
    with pytest.raises(InvalidInput, match="unknown sector '经济'.*经济界"):
        add_member(session=session, name="李娜", sector="经济")
    with pytest.raises(InvalidInput, match="unknown level '县'"):
        add_member(session=session, name="李娜", sector="教育界", level="县")
    with pytest.raises(InvalidInput, match="name is 51 characters long; the limit is 50"):
        add_member(session=session, name="张" * 51, sector="教育界")
    with pytest.raises(InvalidInput, match="name must not be empty"):
        add_member(session=session, name="\x00 ", sector="教育界")
    assert session.exec(select(sa.func.count()).select_from(Member)).one() == 1


def test_level_accepts_english_names(session: Session) -> None:
    member = add_member(session=session, name="陈静", sector="农业界", level="national")
    assert member.level == "全国"


def test_edit_member_changes_only_given_fields(session: Session) -> None:
    member = add_member(session=session, name="刘洋", sector="体育界", district="海淀区")
    edit_member(session=session, member="刘洋", sector="教育界", active=False)
    assert (member.sector, member.district, member.active) == ("教育界", "海淀区", False)
    with pytest.raises(InvalidInput, match="nothing to change"):
        edit_member(session=session, member=member.id)
    with pytest.raises(InvalidInput, match="unknown sector"):
        edit_member(session=session, member=member.id, sector="火星界")
    assert member.sector == "教育界"


def test_same_name_needs_the_id(session: Session) -> None:
    first = add_member(session=session, name="王伟", sector="经济界")
    add_member(session=session, name="王伟", sector="教育界")
    with pytest.raises(InvalidInput, match="2 members are named '王伟'.*give the id"):
        get_member(session, "王伟")
    assert get_member(session, f"#{first.id}") is first
    with pytest.raises(NotFound):
        edit_member(session=session, member="赵六", name="赵七")


def test_list_members_filters_and_counts_appearances(session: Session) -> None:
    wang = add_member(session=session, name="王伟", sector="经济界", affiliation="市工商联")
    li = add_member(session=session, name="李娜", sector="医药卫生界", affiliation="市一医院")
    add_member(session=session, name="张强", sector="经济界", affiliation="100%公司", active=False)
    e1 = episode(session, 1, NOW - timedelta(days=14))
    e2 = episode(session, 2, NOW - timedelta(days=7))
    e3 = episode(session, 3, NOW + timedelta(days=7))
    book(session, e1, wang, "appeared")
    book(session, e2, wang, "appeared")
    book(session, e3, wang, "confirmed")
    book(session, e2, li, "no_show")

    everyone = {s.member.name: s.appearances for s in list_members(session=session)}
    assert everyone == {"王伟": 2, "李娜": 0, "张强": 0}
    assert [s.member.name for s in list_members(session=session, search="医院")] == ["李娜"]
    assert [s.member.name for s in list_members(session=session, search="经济")] == [
        "王伟",
        "张强",
    ]
    # LIKE wildcards in the search are taken literally.
    assert [s.member.name for s in list_members(session=session, search="%")] == ["张强"]
    assert [s.member.name for s in list_members(session=session, search="_")] == []
    assert [s.member.name for s in list_members(session=session, active=False)] == ["张强"]
    assert [s.member.name for s in list_members(session=session, sector="医药卫生界")] == ["李娜"]
    with pytest.raises(InvalidInput, match="unknown sector"):
        list_members(session=session, sector="不存在界")


def test_history_and_detail(session: Session) -> None:
    wang = add_member(session=session, name="王伟", sector="经济界")
    e1 = episode(session, 998, NOW - timedelta(days=14), "养老服务")
    e2 = episode(session, 999, NOW - timedelta(days=7), "医保改革")
    e3 = episode(session, 1000, NOW + timedelta(days=7), "菜篮子")
    book(session, e2, wang, "appeared", "expert")
    book(session, e1, wang, "appeared")
    book(session, e3, wang, "invited")

    rows = member_history(session=session, member="王伟")
    assert [(r.episode, r.title, r.role, r.status) for r in rows] == [
        (998, "养老服务", "guest", "appeared"),
        (999, "医保改革", "expert", "appeared"),
        (1000, "菜篮子", "guest", "invited"),
    ]
    assert rows[0].air_start == NOW - timedelta(days=14)

    detail = member_detail(session=session, member=wang.id, now=NOW)
    assert detail.appearances == 2
    assert detail.status_counts == {"appeared": 2, "invited": 1}
    assert detail.last_appearance is not None and detail.last_appearance.episode == 999
    assert [r.episode for r in detail.upcoming] == [1000]


HEADER = "name,sector,level,affiliation,district,contact,active\n"


def write(tmp_path: Path, content: bytes, name: str = "members.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def count_members(session: Session) -> int:
    return session.exec(select(sa.func.count()).select_from(Member)).one()


def test_import_accepts_bom_quotes_and_optional_columns(session: Session, tmp_path: Path) -> None:
    text = (
        HEADER + "王伟,经济界,全国,市工商联,朝阳区,13800000000,yes\n"
        '李娜,医药卫生界,,"市一医院,心内科",,,否\n'
        "\n"
        "陈静,农业界,区,,,,\n"
    )
    path = write(tmp_path, b"\xef\xbb\xbf" + text.encode())
    added = import_members(session=session, path=path).added
    assert [(m.name, m.sector, m.level, m.active) for m in added] == [
        ("王伟", "经济界", "全国", True),
        ("李娜", "医药卫生界", "市", False),
        ("陈静", "农业界", "区", True),
    ]
    assert added[1].affiliation == "市一医院,心内科"
    only_required = write(tmp_path, "sector,name\n教育界,周敏\n".encode(), "short.csv")
    assert [m.name for m in import_members(session=session, path=only_required).added] == ["周敏"]


def test_import_reports_every_bad_row_and_imports_nothing(session: Session, tmp_path: Path) -> None:
    lines = [
        HEADER.encode(),
        "王伟,经济界,全国,,,,\n".encode(),  # line 2: fine
        "李娜,外星界,市,,,,\n".encode(),  # line 3: unknown sector
        "张强,教育界,县,,,,\n".encode(),  # line 4: bad level
        ("赵" * 51 + ",教育界,市,,,,\n").encode(),  # line 5: over-long name
        b"\xd5\xc5\xc8\xfd,\xbd\xcc\xd3\xfd\xbd\xe7,,,,,\n",  # line 6: GBK, not UTF-8
        "孙丽,教育界\n".encode(),  # line 7: too few fields
        "周敏,教育界,市,,,,maybe\n".encode(),  # line 8: bad active
        ",教育界,市,,,,\n".encode(),  # line 9: empty name
    ]
    path = write(tmp_path, b"".join(lines))
    with pytest.raises(ImportRefused) as refused:
        import_members(session=session, path=path)
    where = str(path)
    assert refused.value.problems == [
        f"{where}:3: unknown sector '外星界'; see `hotline members sectors`",
        f"{where}:4: unknown level '县': use 全国/省/市/区",
        f"{where}:5: name is 51 characters long; the limit is 50",
        f"{where}:6: not UTF-8 (byte 0xD5 at byte 1); save the file as UTF-8 or pass --encoding",
        f"{where}:7: missing column 'level'",
        f"{where}:8: active 'maybe' is not yes/no",
        f"{where}:9: name must not be empty",
    ]
    assert str(refused.value).startswith(f"{where}: 7 bad rows; nothing imported\n")
    assert count_members(session) == 0


def test_import_header_problems(session: Session, tmp_path: Path) -> None:
    path = write(tmp_path, "name,level,phone\n王伟,市,138\n".encode())
    with pytest.raises(ImportRefused) as refused:
        import_members(session=session, path=path)
    assert refused.value.problems == [
        f"{path}:1: unknown column 'phone'",
        f"{path}:1: missing column 'sector'",
    ]
    empty = write(tmp_path, b"", "empty.csv")
    with pytest.raises(ImportRefused, match="missing column 'name'"):
        import_members(session=session, path=empty)
    with pytest.raises(InvalidInput, match="cannot read"):
        import_members(session=session, path=tmp_path / "nope.csv")
    assert count_members(session) == 0


def test_import_line_numbers_follow_multiline_fields(session: Session, tmp_path: Path) -> None:
    text = HEADER + '王伟,经济界,市,"市工商联\n副主席",,,\n李娜,外星界,市,,,,\n'
    path = write(tmp_path, text.encode())
    with pytest.raises(ImportRefused) as refused:
        import_members(session=session, path=path)
    assert refused.value.problems == [
        f"{path}:4: unknown sector '外星界'; see `hotline members sectors`"
    ]
