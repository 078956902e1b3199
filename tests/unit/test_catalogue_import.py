"""Back-catalogue CSV import: all rows checked first, every problem reported, all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from episodes.catalogue import CatalogueError, import_catalogue
from hotline.config import Settings
from hotline.errors import InvalidInput
from hotline.models import Booking, Episode, Member
from hotline.station import Station

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)
HEADER = "number,air,title,topic,guests\n"


@pytest.fixture
def session(station: Station) -> Session:
    with station.session() as s:
        s.add_all(
            [
                Member(name="王磊", sector="教育界"),
                Member(name="赵敏", sector="医药卫生界"),
                Member(name="孙丽", sector="经济界", active=False),
                Member(name="李强", sector="农业界"),
                Member(name="李强", sector="科学技术界"),
            ]
        )
        s.flush()
        yield s


def run(session: Session, text: str | bytes, **kw: Any) -> Any:
    data = text.encode("utf-8") if isinstance(text, str) else text
    kw.setdefault("past", True)  # these files are back catalogue
    return import_catalogue(
        session=session, settings=Settings(), data=data, source="old.csv", now=NOW, **kw
    )


def problems(session: Session, text: str | bytes) -> list[str]:
    before = session.exec(select(Episode.id)).all()
    with pytest.raises(CatalogueError) as caught:
        run(session, text)
    assert session.exec(select(Episode.id)).all() == before  # nothing imported
    return caught.value.problems


def test_imports_past_and_future_rows_with_guests(session: Session) -> None:
    text = (
        "\ufeff"
        + HEADER
        + "1,2000-01-08 11:00,开播：政协委员与你面对面,综合,王磊、赵敏\n"
        + '2,2000-01-15 11:00,"教育公平, 从何做起",教育,王磊；赵敏\n'
        + "900,2025-03-08 11:00,春季招生,教育,王磊\n"
    )
    result = run(session, text)
    assert (result.episodes, result.aired, result.upcoming, result.bookings) == (3, 2, 1, 5)
    rows = session.exec(select(Episode).order_by(Episode.number)).all()
    assert [(e.number, e.status) for e in rows] == [
        (1, "aired"),
        (2, "aired"),
        (900, "planned"),
    ]
    assert rows[1].title == "教育公平, 从何做起"
    assert rows[0].air_start == datetime(2000, 1, 8, 3, 0, tzinfo=UTC)
    assert rows[0].hosts == ["李明", "王芳"]
    statuses = session.exec(
        select(Episode.number, Booking.status).join(Booking).order_by(Episode.number)
    ).all()
    assert statuses == [(1, "appeared")] * 2 + [(2, "appeared")] * 2 + [(900, "confirmed")]


def test_columns_may_come_in_any_order_and_optional_ones_may_be_missing(session: Session) -> None:
    result = run(session, "Title,Number,AIR\n三农问题,5,2001-02-03 11:00\n")
    assert result.episodes == 1
    assert session.exec(select(Episode.title)).all() == ["三农问题"]


def test_every_bad_row_is_reported_with_its_line(session: Session) -> None:
    session.add(Episode(number=50, title="已有", air_start=datetime(2010, 1, 2, 3, tzinfo=UTC)))
    session.flush()
    text = (
        HEADER
        + "1,2000-01-08 11:00,好的一行,,\n"  # 2: fine
        + ",2000-01-15 11:00,没有期号,,\n"  # 3
        + "x3,2000-01-22 11:00,期号不对,,\n"  # 4
        + "4,2000/01/29 11:00,日期不对,,\n"  # 5
        + "5,1990-04-15 02:30,不存在的时间,,\n"  # 6
        + "1,2000-02-05 11:00,重复期号,,\n"  # 7
        + "50,2000-02-12 11:00,库里已有,,\n"  # 8
        + "8,2000-02-19 11:00,"
        + "长" * 201
        + ",,\n"  # 9
        + "9,2000-02-26 11:00,未知嘉宾,,张三\n"  # 10
        + "10,2000-03-04 11:00,重名嘉宾,,李强\n"  # 11
        + "11,2000-03-11 11:00,\x07,,\n"  # 12: empty after stripping controls
        + "12,2000-03-18 11:00\n"  # 13
        + "13,2000-03-25 11:00,太多,,,多余\n"  # 14
        + "14,2000-01-08 11:30,撞车,,\n"  # 15
        + "15,2025-03-15 11:00,停用委员,,孙丽\n"  # 16
        + '16,2000-04-01 11:00,嘉宾重复,,"王磊, 王磊"\n'  # 17
    )
    found = problems(session, text)
    assert found == [
        "old.csv:3: number is empty",
        "old.csv:4: number 'x3' is not a whole number from 1 to 999999",
        "old.csv:5: air '2000/01/29 11:00' is not a time: use YYYY-MM-DD HH:MM",
        "old.csv:6: air '1990-04-15 02:30' does not exist in Asia/Shanghai",
        "old.csv:7: number 1 is also on line 2",
        "old.csv:8: episode 50 already exists in the station",
        "old.csv:9: title is 201 characters long; the limit is 200",
        "old.csv:10: unknown guest '张三': no member has that name",
        "old.csv:11: guest name '李强' is ambiguous: 2 members (#4 农业界, #5 科学技术界)",
        "old.csv:12: title must not be empty",
        "old.csv:13: missing column 'title', 'topic', 'guests'",
        "old.csv:14: 6 fields, but the header has 5",
        "old.csv:15: air time 2000-01-08 11:30 overlaps line 2",
        "old.csv:16: guest '孙丽' is an inactive member",
        "old.csv:17: guest '王磊' is listed twice",
    ]


def test_a_header_without_a_required_column_names_it(session: Session) -> None:
    assert problems(session, "number,title,主题\n1,开播,综合\n") == [
        "old.csv:1: missing column 'air'",
        "old.csv:1: unknown column '主题': the columns are number, air, title, topic, guests",
    ]
    assert problems(session, "") == [
        "old.csv:1: no header row: expected number,air,title,topic,guests"
    ]


def test_non_utf8_lines_are_named(session: Session) -> None:
    data = (
        HEADER.encode()
        + "1,2000-01-08 11:00,开播,,\n".encode()
        + "2,2000-01-15 11:00,教育,,\n".encode("gbk")
        + "3,2000-01-22 11:00,医疗,,\n".encode()
        + "4,2000-01-29 11:00,住房,,\n".encode("gbk")
    )
    found = problems(session, data)
    assert [p.split(": ")[0] for p in found] == ["old.csv:3", "old.csv:5"]
    assert "not UTF-8 (byte 0xBD at byte 20); save the file as UTF-8" in found[0]


def test_the_error_message_lists_every_problem(session: Session) -> None:
    with pytest.raises(CatalogueError) as caught:
        run(session, HEADER + ",2000-01-08 11:00,甲,,\n,2000-01-15 11:00,乙,,\n")
    lines = str(caught.value).splitlines()
    assert lines[0] == "old.csv: 2 problems; nothing imported"
    assert lines[1:] == ["old.csv:2: number is empty", "old.csv:3: number is empty"]


def test_a_header_only_file_imports_nothing(session: Session) -> None:
    assert run(session, HEADER).episodes == 0


def test_rows_that_aired_need_past(session: Session) -> None:
    text = HEADER + "1,2000-01-08 11:00,开播,,\n" + "900,2025-03-08 11:00,春季招生,教育,\n"
    with pytest.raises(CatalogueError) as caught:
        run(session, text, past=False)
    assert caught.value.problems == [
        "old.csv:2: air time 2000-01-08 11:00 has passed: pass --past to import back "
        "catalogue (marked aired)"
    ]
    assert session.exec(select(Episode.id)).all() == []
    result = run(session, HEADER + "900,2025-03-08 11:00,春季招生,教育,\n", past=False)
    assert (result.episodes, result.upcoming) == (1, 1)


@pytest.mark.parametrize("encoding", ["gb18030", "big5", "utf-16", "utf-8-sig"])
def test_files_from_chinese_offices_are_read_in_their_encoding(
    session: Session, encoding: str
) -> None:
    text = HEADER + "1,2000-01-08 11:00,開播：政協委員與你面對面,綜合,王磊\n"
    if encoding == "gb18030":
        text = HEADER + "1,2000-01-08 11:00,开播：政协委员与你面对面,综合,王磊\n"
    result = run(session, text.encode(encoding))
    assert result.episodes == 1 and result.bookings == 1
    title = session.exec(select(Episode.title)).one()
    assert title.endswith("面对面") or title.endswith("面對面")


def test_encoding_can_be_named(session: Session) -> None:
    data = (HEADER + "1,2000-01-08 11:00,开播,综合,\n").encode("gb18030")
    with pytest.raises(InvalidInput, match=r"old.csv:2: not valid utf-8"):
        run(session, data, encoding="utf-8")
    assert run(session, data, encoding="gbk").episodes == 1
    with pytest.raises(InvalidInput, match="--encoding 'klingon': unknown encoding"):
        run(session, data, encoding="klingon")
