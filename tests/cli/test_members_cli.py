"""`hotline members …` through the real CLI: output, privacy, refusals and the database after."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hotline.models import Booking, Episode, Member
from hotline.station import Station

Cli = Callable[..., Any]


def members_table(station: Station) -> list[tuple[Any, ...]]:
    with station.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(Member.__table__).order_by("id"))]


def refused(result: Any, *needles: str) -> None:
    assert result.exit_code == 1
    assert result.stderr.startswith("hotline: error: ")
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_add_list_show_and_privacy(cli: Cli) -> None:
    added = cli(
        "members", "add", "--name", "王伟", "--sector", "经济界", "--level", "全国",
        "--affiliation", "市工商联副主席", "--district", "朝阳区", "--contact", "13812345678",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert added.stdout.strip() == "added member #1 王伟 (经济界, 全国)"

    table = cli("members", "list")
    assert "王伟" in table.stdout and "市工商联副主席" in table.stdout
    assert "13812345678" not in table.stdout and "5678" not in table.stdout
    assert table.stdout.rstrip().endswith("1 member")

    plain = cli("members", "list", "--json").json()
    assert plain == [
        {
            "id": 1,
            "name": "王伟",
            "sector": "经济界",
            "level": "全国",
            "affiliation": "市工商联副主席",
            "district": "朝阳区",
            "active": True,
            "appearances": 0,
        }
    ]
    private = cli("members", "list", "--json", "--include-private").json()
    assert private[0]["contact"] == "13812345678"
    assert "13812345678" in cli("members", "list", "--include-private").stdout

    shown = cli("members", "show", "王伟")
    assert "138****5678" in shown.stdout and "13812345678" not in shown.stdout
    detail = cli("members", "show", "1", "--json").json()
    assert "contact" not in detail
    assert (detail["name"], detail["appearances"], detail["upcoming"]) == ("王伟", 0, [])
    assert cli("members", "show", "#1", "--json", "--include-private").json()["contact"] == (
        "13812345678"
    )


def test_list_filters(cli: Cli) -> None:
    cli("members", "add", "--name", "李娜", "--sector", "医药卫生界", "--affiliation", "市一医院")
    cli("members", "add", "--name", "张强", "--sector", "教育界", "--inactive")

    def names(*args: str) -> list[str]:
        return [m["name"] for m in cli("members", "list", "--json", *args).json()]

    assert names("--search", "医院") == ["李娜"]
    assert names("--sector", "教育界") == ["张强"]
    assert names("--inactive") == ["张强"]
    assert names("--active") == ["李娜"]


def test_two_members_named_wang_wei(cli: Cli, station: Station) -> None:
    cli("members", "add", "--name", "王伟", "--sector", "经济界")
    cli("members", "add", "--name", "王伟", "--sector", "教育界")
    result = cli("members", "show", "王伟")
    refused(result, "2 members are named '王伟' (#1 经济界, #2 教育界): give the id")
    assert result.stderr.count("\n") == 1
    before = members_table(station)
    refused(cli("members", "edit", "王伟", "--district", "海淀区"), "give the id")
    assert members_table(station) == before
    assert cli("members", "edit", "2", "--district", "海淀区").exit_code == 0
    assert cli("members", "show", "2", "--json").json()["district"] == "海淀区"


def test_bad_input_is_refused_and_nothing_changes(cli: Cli, station: Station) -> None:
    cli("members", "add", "--name", "王伟", "--sector", "经济界")
    before = members_table(station)
    refused(cli("members", "add", "--name", "李娜", "--sector", "经济"), "unknown sector '经济'")
    refused(cli("members", "add", "--name", "李娜", "--sector", "教育界", "--level", "县"),
            "unknown level '县': use 全国/省/市/区")  # fmt: skip
    refused(cli("members", "add", "--name", "李" * 51, "--sector", "教育界"),
            "name is 51 characters long; the limit is 50")  # fmt: skip
    refused(cli("members", "show", "赵六"), "no member named '赵六'")
    refused(cli("members", "show", "99"), "member 99 does not exist")
    refused(cli("members", "history", "赵六"), "no member named '赵六'")
    refused(cli("members", "edit", "1"), "nothing to change")
    refused(cli("members", "edit", "1", "--sector", "火星界"), "unknown sector")
    assert members_table(station) == before
    # Control characters are stripped before storing.
    cli("members", "add", "--name", "陈\x1b[31m静", "--sector", "农业界")
    assert members_table(station)[-1][1] == "陈[31m静"


def test_history_lists_appearances(cli: Cli, station: Station) -> None:
    cli("members", "add", "--name", "王伟", "--sector", "经济界")
    with station.session() as session:
        aired = Episode(number=999, title="医保改革", air_start=datetime(2022, 8, 6, 3, tzinfo=UTC))
        session.add(aired)
        session.flush()
        session.add(Booking(episode_id=aired.id, member_id=1, status="appeared", role="expert"))
    rows = cli("members", "history", "王伟", "--json").json()
    assert rows == [
        {
            "episode": 999,
            "air_start": "2022-08-06T11:00:00+08:00",
            "title": "医保改革",
            "role": "expert",
            "status": "appeared",
        }
    ]
    text = cli("members", "history", "王伟").stdout
    assert "2022-08-06 11:00" in text and "医保改革" in text
    assert "1 booking, 1 appearance" in text
    assert cli("members", "list", "--json").json()[0]["appearances"] == 1


def test_sectors(cli: Cli) -> None:
    result = cli("members", "sectors")
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 31
    assert lines[0].split() == ["1", "中国共产党"]
    assert "社会福利和社会保障界" in result.stdout
    assert len(cli("members", "sectors", "--json").json()) == 31


def test_import(cli: Cli, station: Station, tmp_path: Path) -> None:
    good = tmp_path / "委员.csv"
    good.write_bytes(
        "\ufeffname,sector,level,affiliation,district,contact,active\n"
        "王伟,经济界,全国,市工商联,朝阳区,13800000000,是\n"
        "李娜,医药卫生界,市,市一医院,,,否\n".encode()
    )
    result = cli("members", "import", str(good))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"imported 2 members from {good}"
    before = members_table(station)

    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        b"name,sector,level,affiliation,district,contact,active\n"
        + "张强,外星界,市,,,,\n".encode()
        + "刘洋,教育界,市,,,,\n".encode()
        + b"\xd5\xc5\xc8\xfd,\xbd\xcc\xd3\xfd\xbd\xe7,,,,,\n"
        + "陈静,教育界\n".encode()
    )
    result = cli("members", "import", str(bad))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"hotline: error: {bad}: 3 bad rows; nothing imported",
        f"{bad}:2: unknown sector '外星界'; see `hotline members sectors`",
        f"{bad}:4: not UTF-8 (byte 0xD5 at byte 1); save the file as UTF-8 or pass --encoding",
        f"{bad}:5: missing column 'level'",
    ]
    assert members_table(station) == before
    refused(cli("members", "import", str(tmp_path / "missing.csv")), "cannot read")
