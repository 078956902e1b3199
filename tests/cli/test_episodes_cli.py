"""`hotline episodes …` through the real CLI: output, exit codes and the database after each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from hotline.models import Booking, Episode, Member
from hotline.station import Station

Cli = Callable[..., Any]

JSON_KEYS = [
    "number",
    "title",
    "topic",
    "air_start",
    "duration_minutes",
    "status",
    "hosts",
    "description",
    "guests",
    "guid",
    "published_at",
    "withdrawn",
    "audio",
]


def db_state(station: Station) -> list[Any]:
    with station.session() as s:
        episodes = [e.model_dump() for e in s.exec(select(Episode).order_by(Episode.id))]
        bookings = [b.model_dump() for b in s.exec(select(Booking).order_by(Booking.id))]
    return episodes + bookings


@pytest.fixture
def filled(station: Station, cli: Cli) -> Cli:
    """Three future episodes (2030), the second with two guests."""
    for args in (
        ("--number", "1001", "--title", "养老服务：社区食堂怎么办", "--air", "2030-01-05 11:00"),
        ("--title", "医保异地结算", "--air", "2030-01-12 11:00", "--topic", "医保"),
        ("--title", "老旧小区加装电梯", "--air", "2030-01-19 11:00", "--host", "张伟"),
    ):
        assert cli("episodes", "add", *args).exit_code == 0
    with station.session() as s:
        ep = s.exec(select(Episode).where(Episode.number == 1002)).one()
        for name, sector in (("王磊", "教育界"), ("赵敏", "医药卫生界")):
            member = Member(name=name, sector=sector)
            s.add(member)
            s.flush()
            s.add(Booking(episode_id=ep.id, member_id=member.id, status="confirmed"))
    return cli


def test_add_list_and_show(filled: Cli) -> None:
    r = filled("episodes", "list")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["期号", "播出时间", "状态", "标题", "嘉宾"]
    assert "1002  2030-01-12 11:00  planned  医保异地结算" in lines[2]
    assert lines[2].rstrip().endswith("王磊、赵敏")

    data = filled("episodes", "list", "--json").json()
    assert [list(d) for d in data] == [JSON_KEYS] * 3
    second = data[1]
    assert second["number"] == 1002 and second["air_start"] == "2030-01-12T11:00:00+08:00"
    assert second["guests"] == [
        {"name": "王磊", "sector": "教育界", "role": "guest", "status": "confirmed"},
        {"name": "赵敏", "sector": "医药卫生界", "role": "guest", "status": "confirmed"},
    ]
    assert data[2]["hosts"] == ["张伟"] and data[0]["hosts"] == ["李明", "王芳"]

    shown = filled("episodes", "show", "1002", "--json").json()
    assert list(shown)[: len(JSON_KEYS)] == JSON_KEYS
    assert shown["questions"] == {} and len(shown["bookings"]) == 2
    text = filled("episodes", "show", "1002").stdout
    assert "第1002期  医保异地结算" in text and "王磊（教育界）guest confirmed" in text


def test_list_filters(filled: Cli) -> None:
    def numbers(*args: str) -> list[int]:
        return [d["number"] for d in filled("episodes", "list", "--json", *args).json()]

    assert numbers("--from", "1002") == [1002, 1003]
    assert numbers("--to", "1001") == [1001]
    assert numbers("--limit", "2") == [1002, 1003]  # the newest, in the list's order
    assert numbers("--upcoming", "--limit", "2") == [1001, 1002]  # the next to air
    assert numbers("--limit", "0") == [1001, 1002, 1003]  # 0 is all, as in questions list
    refused = filled("episodes", "list", "--limit", "-1")
    assert refused.exit_code == 1 and "limit -1: give 0 (all) or more" in refused.stderr
    assert numbers("--upcoming") == [1001, 1002, 1003]
    assert filled("episodes", "cancel", "1003").exit_code == 0
    assert numbers("--upcoming") == [1001, 1002]
    assert numbers("--status", "cancelled") == [1003]


def test_edit_cancel_reschedule_generate(filled: Cli, station: Station) -> None:
    r = filled("episodes", "edit", "1001", "--title", "社区食堂\x1b[2J回访", "--topic", "养老")
    assert r.exit_code == 0, r.stderr
    shown = filled("episodes", "show", "1001", "--json").json()
    assert (shown["title"], shown["topic"]) == ("社区食堂[2J回访", "养老")

    r = filled("episodes", "reschedule", "1001", "--air", "2030-01-06 15:00")
    assert r.exit_code == 0 and "rescheduled episode 1001 2030-01-06 15:00" in r.stdout

    r = filled("episodes", "cancel", "1002")
    assert r.exit_code == 0 and "2 bookings cancelled" in r.stdout

    r = filled("episodes", "generate", "--count", "3", "--start", "2030-01-20")
    assert r.exit_code == 0
    assert (
        r.stdout.strip() == "scheduled 3 episodes: 1004–1006, 2030-01-26 11:00 to 2030-02-09 11:00"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "9"), "episode 9 does not exist"),
        (("edit", "9", "--title", "无"), "episode 9 does not exist"),
        (("edit", "1001"), "nothing to change"),
        (("add", "--number", "1002", "--title", "重复"), "episode 1002 already exists"),
        (("add", "--title", "格式", "--air", "2030-1-26"), "is not a time: use YYYY-MM-DD HH:MM"),
        (("add", "--title", "夏令时", "--air", "1990-04-15 02:30"), "does not exist in Asia/Sh"),
        (("add", "--title", "长" * 201, "--air", "2030-02-02 11:00"), "title is 201 characters"),
        (("add", "--title", "撞车", "--air", "2030-01-05 11:30"), "overlaps episode 1001"),
        (("reschedule", "1001", "--air", "2030-13-01 11:00"), "is not a time"),
        (("reschedule", "1001", "--air", "2030-01-12 11:00"), "overlaps episode 1002"),
        (("cancel", "42"), "episode 42 does not exist"),
        (("list", "--status", "gone"), "unknown episode status 'gone'"),
        (("add", "--title", "写错年份", "--air", "2019-06-05 15:00"), "has passed"),
        (("reschedule", "1001", "--air", "2020-01-01 11:00"), "2020-01-01 11:00 has passed"),
        (("add", "--title", "往期", "--air", "2031-06-05 15:00", "--past"), "is still to come"),
        (("generate", "--count", "2", "--start", "2020-01-01"), "2020-01-01 has passed"),
        (("generate", "--count", "0"), "count 0 is out of range"),
        (("generate", "--count", "2", "--start", "2030-02-30"), "is not a date"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    filled: Cli, station: Station, args: tuple[str, ...], message: str
) -> None:
    before = db_state(station)
    r = filled("episodes", *args)
    assert r.exit_code == 1
    assert r.stderr.startswith("hotline: error: ") and message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert db_state(station) == before


def test_reschedule_and_cancel_refuse_episodes_past_planning(filled: Cli, station: Station) -> None:
    from episodes.lifecycle import set_status

    with station.session() as s:
        ep = s.exec(select(Episode).where(Episode.number == 1001)).one()
        set_status(s, ep, "mastered")
        set_status(s, ep, "published")
    before = db_state(station)
    r = filled("episodes", "reschedule", "1001", "--air", "2030-03-02 11:00")
    assert r.exit_code == 1 and "episode 1001 is already published" in r.stderr
    r = filled("episodes", "cancel", "1001")
    assert r.exit_code == 1 and "is published: it went on air and cannot be" in r.stderr
    assert db_state(station) == before


def test_import_all_or_nothing(filled: Cli, station: Station, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_bytes(
        "\ufeffnumber,air,title,topic,guests\n"
        "1,2000-01-08 11:00,开播特别节目,综合,王磊、赵敏\n"
        "2,2000-01-15 11:00,就业与创业,就业,赵敏\n".encode()
    )
    r = filled("episodes", "import", str(good))
    assert r.exit_code == 1 and "pass --past to import back catalogue" in r.stderr
    r = filled("episodes", "import", str(good), "--past")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == ("imported 2 episodes (1–2): 2 aired, 0 upcoming; 3 guest bookings")
    first = filled("episodes", "show", "1", "--json").json()
    assert first["status"] == "aired"
    assert {g["status"] for g in first["guests"]} == {"appeared"}

    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        "number,air,title,topic,guests\n"
        "3,2000-01-22 11:00,好的一行,,\n"
        "2,2000-01-29 11:00,重复,,\n".encode()
        + "4,2000-02-05 11:00,国标码,,\n".encode("gbk")
        + "5,2000-02-12,无时间,,不存在的人\n".encode()
    )
    before = db_state(station)
    r = filled("episodes", "import", str(bad), "--past")
    assert r.exit_code == 1
    assert r.stderr.splitlines() == [
        f"hotline: error: {bad}: 4 problems; nothing imported",
        f"{bad}:3: episode 2 already exists in the station",
        f"{bad}:4: not UTF-8 (byte 0xB9 at byte 20); save the file as UTF-8 or pass --encoding",
        f"{bad}:5: air '2000-02-12' is not a time: use YYYY-MM-DD HH:MM",
        f"{bad}:5: unknown guest '不存在的人': no member has that name",
    ]
    assert db_state(station) == before

    r = filled("episodes", "import", str(tmp_path / "missing.csv"))
    assert r.exit_code == 1 and "missing.csv: cannot read" in r.stderr


def test_every_command_has_help(cli: Cli) -> None:
    for command in ("list", "show", "add", "edit", "cancel", "reschedule", "generate", "import"):
        r = cli("episodes", command, "--help")
        assert r.exit_code == 0 and "Usage" in r.stdout
