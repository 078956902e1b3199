"""Members stay unique, through the real CLI: duplicates refused naming the member, imports
that add nothing twice and read GB18030, merge (asks first) and deactivate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from hotline.models import Booking, Episode, Member, Question
from hotline.station import Station

Cli = Callable[..., Any]
ROWS = (
    "name,sector,level,affiliation,district,contact,active\r\n"
    "王伟,医药卫生界,市,市第一人民医院副院长,东城区,13812345678,是\r\n"
    "李娜,教育界,区,市实验中学校长,西城区,,是\r\n"
    "郑辉,经济界,省,市港务集团总经理,高新区,13700001111,是\r\n"
)


def state(station: Station) -> list[Any]:
    with station.session() as s:
        return [
            [row.model_dump() for row in s.exec(select(model).order_by(model.id))]
            for model in (Member, Booking, Question)
        ]


def refused(result: Any, message: str) -> None:
    assert result.exit_code == 1, result.stdout
    assert result.stderr.startswith("hotline: error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_the_same_member_twice_is_refused_naming_the_id(cli: Cli, station: Station) -> None:
    add = ("members", "add", "--name", "王伟", "--sector", "医药卫生界", "--contact", "13812345678")
    assert cli(*add).stdout.strip() == "added member #1 王伟 (医药卫生界, 市)"
    before = state(station)
    refused(
        cli(*add),
        "member #1 王伟 (医药卫生界, 138****5678) has the same name and contact: change that "
        "one (`hotline members edit 1`), or pass --allow-duplicate for a namesake",
    )
    no_contact = ("members", "add", "--name", "李娜", "--sector", "教育界")
    assert cli(*no_contact).exit_code == 0
    refused(cli(*no_contact), "member #2 李娜 (教育界) has the same name and sector")
    assert len(state(station)[0]) == 2 and state(station)[0][0] == before[0][0]
    namesake = cli(*no_contact, "--allow-duplicate")
    assert namesake.stdout.strip() == "added member #3 李娜 (教育界, 市)"


def test_importing_a_gb18030_file_twice_adds_nothing_the_second_time(
    cli: Cli, station: Station, tmp_path: Path
) -> None:
    path = tmp_path / "委员名单.csv"
    path.write_bytes(ROWS.encode("gb18030"))  # Excel on a mainland desk
    first = cli("members", "import", str(path))
    assert first.stdout.strip() == f"imported 3 members from {path}"
    before = state(station)
    again = cli("members", "import", str(path))
    assert again.exit_code == 0
    assert again.stdout.splitlines() == [
        f"imported 0 members from {path}; 3 rows already in the station, skipped",
        f"  {path}:2: 王伟 is member #1 (name and contact)",
        f"  {path}:3: 李娜 is member #2 (name and sector and no contact to tell them apart)",
        f"  {path}:4: 郑辉 is member #3 (name and contact)",
    ]
    assert state(station) == before


def test_the_encoding_can_be_named_and_a_wrong_one_is_refused_by_line(
    cli: Cli, station: Station, tmp_path: Path
) -> None:
    path = tmp_path / "big5.csv"
    path.write_bytes("name,sector\n王偉,教育界\n".encode("big5"))
    refused(
        cli("members", "import", str(path), "--encoding", "utf-8"), f"{path}:2: not valid utf-8"
    )
    assert state(station) == [[], [], []]
    imported = cli("members", "import", str(path), "--encoding", "big5")
    assert imported.exit_code == 0, imported.stderr
    assert cli("members", "list", "--json").json()[0]["name"] == "王偉"
    catalogue = tmp_path / "往期.csv"
    catalogue.write_bytes("number,air,title\n1,2000-06-03 11:00,开播\n".encode("gb18030"))
    refused(cli("episodes", "import", str(catalogue), "--encoding", "ascii", "--past"), ":2:")
    # Two characters cannot tell GB18030 from Big5: refused, and the user names it.
    refused(cli("episodes", "import", str(catalogue), "--past"), "cannot tell the encoding")
    imported = cli("episodes", "import", str(catalogue), "--past", "--encoding", "gb18030")
    assert imported.exit_code == 0, imported.stderr
    assert cli("episodes", "show", "1", "--json").json()["title"] == "开播"


@pytest.fixture
def twins(cli: Cli, station: Station) -> Station:
    """#1 and #2 are the same 王伟 entered twice; each has bookings and an answer."""
    assert cli("members", "add", "--name", "王伟", "--sector", "医药卫生界").exit_code == 0
    again = ("members", "add", "--name", "王伟", "--sector", "医药卫生界", "--contact", "138")
    assert cli(*again, "--allow-duplicate").exit_code == 0
    with station.session() as s:
        for number in (1, 2):
            air = datetime(2024, 1, 6, 3, 0, tzinfo=UTC) + timedelta(days=7 * number)
            s.add(Episode(number=number, title=f"第{number}期", status="published", air_start=air))
        s.flush()
        s.add(Booking(episode_id=1, member_id=1, status="appeared"))
        s.add(Booking(episode_id=2, member_id=2, status="appeared"))
        s.add(
            Question(channel="phone", text="医保报销", status="answered", episode_id=2, member_id=2)
        )
    return station


def test_merge_asks_first_then_moves_everything(cli: Cli, twins: Station) -> None:
    before = state(twins)
    refused(cli("members", "merge", "1", "2"), "merge member #2 王伟 into #1 王伟: 1 booking")
    assert state(twins) == before
    merged = cli("members", "merge", "1", "2", "--yes")
    assert merged.stdout.strip() == (
        "merged member #2 王伟 into #1 王伟: 1 booking and 1 answer moved; #2 removed"
    )
    assert [m["id"] for m in cli("members", "list", "--json").json()] == [1]
    assert cli("members", "history", "1", "--json").json()[1]["episode"] == 2
    assert cli("questions", "show", "1", "--json").json()["member"]["id"] == 1
    refused(cli("members", "merge", "1", "2", "--yes"), "member 2 does not exist")


def test_merge_refuses_when_both_are_booked_on_one_episode(cli: Cli, twins: Station) -> None:
    with twins.session() as s:
        s.add(Booking(episode_id=2, member_id=1, status="appeared"))
    before = state(twins)
    refused(cli("members", "merge", "1", "2", "--yes"), "are both booked on episode(s) 2")
    assert state(twins) == before


def test_deactivate(cli: Cli, station: Station) -> None:
    assert cli("members", "add", "--name", "陈静", "--sector", "农业界").exit_code == 0
    assert cli("episodes", "add", "--title", "农村养老", "--air", "2099-01-03 11:00").exit_code == 0
    assert cli("bookings", "add", "1", "陈静").exit_code == 0
    done = cli("members", "deactivate", "陈静")
    assert done.stdout.splitlines() == [
        "member #1 陈静 is now inactive",
        "  still booked on episode 1: cancel with `hotline bookings cancel N MEMBER` if they "
        "will not come",
    ]
    refused(cli("members", "deactivate", "陈静"), "member #1 陈静 is already inactive")
    refused(cli("bookings", "confirm", "1", "陈静"), "member #1 陈静 is inactive")
