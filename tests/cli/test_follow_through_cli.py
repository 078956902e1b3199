"""Follow-through through the real CLI: departments, referrals, call-backs, the department
report, the history and calendar invitations — output, privacy, and bad input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from episodes import workdays
from hotline.station import Station
from hotline.timeutil import utcnow

Cli = Callable[..., Any]
OFFICE = "021-23118888"
MAIL = "minzheng@example.cn"
LAMP = "我们楼下的路灯坏了一个月了，晚上出门很危险"
LIFT = "老旧小区加装电梯，一楼住户不同意怎么办？"


def snapshot(station: Station) -> dict[str, list[tuple]]:
    """Every row of every table (history included)."""
    with station.engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key))]
            for t in SQLModel.metadata.sorted_tables
        }


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.stderr
    return result


@pytest.fixture
def desk(cli: Cli, station: Station) -> Station:
    """Two departments, an episode next week, two members booked, two screened questions."""
    ok(cli("departments", "add", "--name", "市住房和城乡建设管理委员会", "--contact", OFFICE))
    ok(cli("departments", "add", "--name", "市民政局", "--contact", MAIL, "--note", "信访办"))
    air = (utcnow() + timedelta(days=7)).astimezone(station.tz).strftime("%Y-%m-%d 11:00")
    ok(cli("episodes", "add", "--number", "1200", "--title", "养老服务怎么办", "--air", air))
    ok(
        cli(
            "members",
            "add",
            "--name",
            "王伟",
            "--sector",
            "医药卫生界",
            "--contact",
            "wang@example.cn",
        )
    )
    ok(cli("members", "add", "--name", "陈静", "--sector", "教育界"))
    ok(cli("bookings", "add", "1200", "王伟"))
    ok(cli("bookings", "add", "1200", "陈静"))
    ok(cli("bookings", "decline", "1200", "陈静"))
    for text in (LAMP, LIFT):
        ok(cli("questions", "add", "--text", text, "--channel", "phone"))
    ok(cli("questions", "screen", "1"))
    ok(cli("questions", "screen", "2"))
    return station


def test_departments_mask_their_contacts_and_json_leaves_them_out(cli: Cli, desk: Station) -> None:
    table = ok(cli("departments", "list")).stdout
    assert "021****8888" in table and "m***@example.cn" in table
    assert OFFICE not in table and MAIL not in table
    plain = ok(cli("departments", "list", "--json")).stdout
    assert OFFICE not in plain and MAIL not in plain and "contact" not in plain
    private = ok(cli("departments", "list", "--json", "--include-private")).json()
    assert {d["name"]: d["contact"] for d in private} == {
        "市住房和城乡建设管理委员会": OFFICE,
        "市民政局": MAIL,
    }
    edited = ok(
        cli("departments", "edit", "市民政局", "--name", "市民政局（老龄办）", "--inactive")
    )
    assert "updated department #2 市民政局（老龄办） (inactive)" in edited.stdout


def test_import_adds_and_updates_from_a_gb18030_sheet(
    cli: Cli, desk: Station, tmp_path: Path
) -> None:
    sheet = tmp_path / "部门通讯录.csv"
    sheet.write_bytes(
        "name,contact,note\n市民政局,021-60000001,老龄工作处\n市交通委员会,021-60000002,\n".encode(
            "gb18030"
        )
    )
    result = ok(cli("departments", "import", str(sheet)))
    assert "1 added, 1 updated" in result.stdout
    names = [d["name"] for d in ok(cli("departments", "list", "--json")).json()]
    assert "市交通委员会" in names
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "name,contact\n市卫生健康委员会,x\n,021-1\n市卫生健康委员会,y\n", encoding="utf-8"
    )
    before = snapshot(desk)
    refused = cli("departments", "import", str(bad))
    assert refused.exit_code == 1
    assert "2 bad rows; nothing imported" in refused.stderr
    assert f"{bad}:3: department name must not be empty" in refused.stderr
    assert f"{bad}:4: department '市卫生健康委员会' also on line 2" in refused.stderr
    assert snapshot(desk) == before


def test_refer_reply_call_back_and_the_report(cli: Cli, desk: Station) -> None:
    referred = ok(cli("questions", "refer", "1", "--to", "市住房和城乡建设管理委员会"))
    assert (
        "question 1 → referred to 市住房和城乡建设管理委员会 (referral 1, due " in referred.stdout
    )
    listed = ok(cli("referrals", "list", "--json")).json()
    assert [(r["id"], r["question"], r["status"], r["overdue"]) for r in listed] == [
        (1, 1, "open", False)
    ]
    assert "contact" not in repr(listed)
    assert ok(cli("referrals", "list", "--overdue")).stdout.strip() == "no referrals match"
    replied = ok(cli("referrals", "reply", "1", "--text", "已约请街道上门评估加装方案。"))
    assert "referral 1 (question 1) replied" in replied.stdout and "on time" in replied.stdout
    called = ok(cli("questions", "callback", "1", "--outcome", "satisfied", "--by", "张蕾"))
    assert "call-back 1 on question 1 by 张蕾: satisfied" in called.stdout
    assert "question 1 → resolved (办结)" in called.stdout
    shown = ok(cli("questions", "show", "1", "--json")).json()
    assert shown["status"] == "resolved"
    assert shown["referrals"][0]["status"] == "closed"
    assert shown["referrals"][0]["reply"] == "已约请街道上门评估加装方案。"
    assert shown["callbacks"][0] | {"made_at": None} == {
        "id": 1,
        "referral": 1,
        "outcome": "satisfied",
        "note": "",
        "made_by": "张蕾",
        "made_at": None,
    }
    report = ok(cli("report", "departments", "--json")).json()
    (line,) = report["departments"]
    assert line["department"]["name"] == "市住房和城乡建设管理委员会"
    assert (line["received"], line["replied"], line["replied_on_time"], line["overdue_now"]) == (
        1,
        1,
        1,
        0,
    )
    assert line["median_days_to_reply"] == 0 and line["satisfaction"] == 1.0
    table = ok(cli("report", "departments")).stdout
    assert "市住房和城乡建设管理委员会" in table and "合计" in table


def test_overdue_referrals_come_first_and_the_morning_reminder(cli: Cli, desk: Station) -> None:
    today = utcnow().astimezone(desk.tz).date()
    ok(cli("questions", "refer", "2", "--to", "市民政局", "--due", today.isoformat()))
    ok(cli("questions", "refer", "1", "--to", "市住房和城乡建设管理委员会"))
    # Move the first referral's due day into the past, as time would.
    with desk.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE referral SET sent_at = :sent, due_at = :due WHERE id = 1"),
            {
                "sent": (utcnow() - timedelta(days=10)).replace(tzinfo=None),
                "due": (utcnow() - timedelta(days=3)).replace(tzinfo=None),
            },
        )
    listed = ok(cli("referrals", "list", "--json")).json()
    assert [(r["id"], r["overdue"]) for r in listed] == [(1, True), (2, False)]
    assert listed[0]["days_overdue"] >= 2
    assert [r["id"] for r in ok(cli("referrals", "list", "--overdue", "--json")).json()] == [1]
    assert [
        r["id"] for r in ok(cli("referrals", "list", "--due-within", "0", "--json")).json()
    ] == []
    by_department = ok(
        cli("referrals", "list", "--department", "市住房和城乡建设管理委员会", "--json")
    )
    assert [r["id"] for r in by_department.json()] == [2]
    remind = ok(cli("referrals", "remind")).stdout
    assert "1 overdue" in remind and "市民政局" in remind and "#1  question 2" in remind
    report = ok(cli("report", "departments", "--json")).json()
    assert report["departments"][0]["department"]["name"] == "市民政局"  # overdue on top
    assert report["departments"][0]["overdue_now"] == 1


def test_a_year_the_calendar_does_not_know_is_counted_with_a_warning(
    cli: Cli, desk: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    this_year = utcnow().astimezone(desk.tz).year
    # As on the first days of a year whose holidays the installed package does not have yet.
    stale = workdays.CalendarRange(2004, this_year - 1, "chinese-calendar 1.0")
    monkeypatch.setattr(workdays, "calendar_range", lambda: stale)
    result = ok(cli("questions", "refer", "1", "--to", "市民政局"))
    assert f"hotline: warning: chinese-calendar 1.0 has no holidays for {this_year}" in (
        result.stderr
    )
    assert "counted Monday to Friday only" in result.stderr
    assert "question 1 → referred to 市民政局" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["questions", "refer", "1", "--to", "市住建局"],
            "no department named '市住建局'; did you mean 市住房和城乡建设管理委员会?",
        ),
        (
            ["questions", "refer", "1", "--to", "市民政局", "--due", "2001-01-01"],
            "is before the referral",
        ),
        (["questions", "refer", "1", "--to", "市民政局", "--due", "下周五"], "is not a date"),
        (
            ["questions", "callback", "1", "--outcome", "satisfied"],
            "was never referred or answered",
        ),
        (["questions", "callback", "1", "--outcome", "good"], "unknown call-back outcome 'good'"),
        (["questions", "resolve", "1", "--reason", "已解决"], "cannot resolve it"),
        (["referrals", "reply", "9", "--text", "答复"], "referral 9 does not exist"),
        (["referrals", "list", "--department", "民政"], "did you mean 市民政局?"),
        (["referrals", "list", "--due-within", "-2"], "due within -2 days: give 0 days or more"),
        (["referrals", "remind", "--days", "-3"], "due within -3 days: give 0 days or more"),
        (["departments", "add", "--name", "市民政局"], "department '市民政局' already exists"),
        (["departments", "add", "--name", " "], "department name must not be empty"),
        (["departments", "edit", "99", "--note", "x"], "department 99 does not exist"),
        (["history", "episode", "77"], "episode 77 does not exist"),
        (["history", "question", "abc"], "is not a question id"),
        (["bookings", "ics", "1200", "陈静"], "陈静 (#2) declined episode 1200"),
        (["bookings", "ics", "1201"], "episode 1201 does not exist"),
    ],
)
def test_bad_input_is_one_line_exit_1_and_changes_nothing(
    cli: Cli, desk: Station, args: list[str], message: str
) -> None:
    before = snapshot(desk)
    result = cli(*args)
    assert result.exit_code == 1
    assert result.stderr.startswith("hotline: error: ")
    assert result.stderr.strip().count("\n") == 0
    assert message in result.stderr
    assert snapshot(desk) == before


def test_replies_to_closed_referrals_and_early_closing(cli: Cli, desk: Station) -> None:
    ok(cli("questions", "refer", "2", "--to", "市民政局"))
    early = cli("questions", "resolve", "2")
    assert early.exit_code == 1 and "give --reason" in early.stderr
    ok(cli("questions", "resolve", "2", "--reason", "听众来电告知问题已解决"))
    before = snapshot(desk)
    late = cli("referrals", "reply", "1", "--text", "迟到的答复")
    assert late.exit_code == 1
    assert "referral 1 is closed: a reply is recorded only on an open referral" in late.stderr
    assert snapshot(desk) == before
    (closed,) = ok(cli("referrals", "list", "--all", "--json")).json()
    assert closed["close_reason"] == "听众来电告知问题已解决"


def test_history_shows_who_changed_what(cli: Cli, desk: Station) -> None:
    ok(cli("questions", "refer", "1", "--to", "市民政局"))
    lines = ok(cli("history", "question", "1", "--json")).json()
    assert [(x["what"], x["action"]) for x in lines] == [
        ("问题 #1", "insert"),
        ("问题 #1", "update"),
        ("转办 #1 → 市民政局", "insert"),
        ("问题 #1", "update"),
    ]
    assert lines[-1]["changes"]["status"] == {"before": "screened", "after": "referred"}
    assert all(x["actor"] for x in lines) and lines[0]["at"].endswith("+08:00")
    table = ok(cli("history", "episode", "1200")).stdout
    assert "邀请 王伟 → 第1200期" in table and "invited → declined" in table
    member = ok(cli("history", "member", "王伟", "--json")).json()
    assert "wang@example.cn" not in repr(member)
    assert member[0]["changes"]["contact"] == {"before": None, "after": "***"}
    assert (
        ok(cli("history", "department", "市民政局", "--limit", "1", "--json")).json()[0]["what"]
        == "转办 #1 → 市民政局"
    )


def test_ics_files_parse_back_with_the_air_time(cli: Cli, desk: Station, tmp_path: Path) -> None:
    out = tmp_path / "邀请"
    written = ok(cli("bookings", "ics", "1200", "--out", str(out)))
    assert "invitation for 王伟 (sequence 0)" in written.stdout
    (path,) = out.glob("*.ics")
    assert path.name == "1200-1-王伟.ics"
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    (event,) = calendar.walk("VEVENT")
    shown = ok(cli("episodes", "show", "1200", "--json")).json()
    air = datetime.fromisoformat(shown["air_start"]).astimezone(UTC)
    assert event.decoded("dtstart").astimezone(UTC) == air - timedelta(minutes=30)
    assert str(calendar["method"]) == "REQUEST"
