"""`hotline questions …` through the real CLI: output, privacy, errors, database state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from hotline.models import Booking, Department, Episode, EpisodeStatus, Member, Question
from hotline.station import Station

PHONE = "13812345678"
NOISE = "我家小区旁边的工地每天晚上十点以后还在施工，噪音太大了，能不能管一管？"
NOISE_AGAIN = "小区旁边工地夜里十点后还在施工，噪音扰民，希望有关部门管管。"
SCHOOL = "孩子今年九月上小学，户口不在本区，入学需要准备哪些材料？"
JSON_KEYS = {
    "id",
    "received_at",
    "channel",
    "listener_name",
    "district",
    "topic",
    "public_title",
    "text",
    "status",
    "episode",
    "member",
    "answer_offset",
    "answer_at",
    "referral_department",
    "duplicate_of",
    "reject_reason",
}

Cli = Callable[..., object]


@pytest.fixture
def desk(station: Station, time_machine: Any) -> Station:
    """Episode 1000 on air (2022-08-13 11:00, the clock at 11:20), 1001 the week after, and
    two members confirmed on both."""
    time_machine.move_to(datetime(2022, 8, 13, 3, 20, tzinfo=UTC), tick=True)
    with station.session() as session:
        session.add(
            Episode(number=1000, title="城市更新", air_start=datetime(2022, 8, 13, 3, tzinfo=UTC))
        )
        session.add(
            Episode(number=1001, title="教育", air_start=datetime(2022, 8, 20, 3, tzinfo=UTC))
        )
        session.add(
            Episode(
                number=1002,
                title="停播",
                air_start=datetime(2022, 8, 27, 3, tzinfo=UTC),
                status=EpisodeStatus.cancelled,
            )
        )
        session.add(Member(name="王建国", sector="经济界", contact="13900001111"))
        session.add(Member(name="李秀英", sector="教育界"))
        session.flush()
        for episode in (1, 2):
            for member in (1, 2):
                session.add(Booking(episode_id=episode, member_id=member, status="confirmed"))
        session.add(Department(name="区城管局"))
    return station


def rows(station: Station) -> list[tuple]:
    with Session(station.engine) as session:
        return [
            (r.id, r.status, r.episode_id, r.member_id, r.text, r.listener_contact, r.updated_at)
            for r in session.exec(select(Question).order_by(Question.id))
        ]


def add(cli: Cli, text: str = NOISE, *extra: str) -> int:
    result = cli("questions", "add", "--text", text, "--channel", "phone", *extra)
    assert result.exit_code == 0, result.stderr
    return int(result.stdout.split()[2])


def test_add_prints_the_id_and_a_duplicate_hint(cli: Cli, desk: Station) -> None:
    first = cli(
        "questions", "add", "--text", NOISE, "--channel", "phone",
        "--name", "张阿姨", "--contact", PHONE, "--district", "朝阳区", "--topic", "城市管理",
    )  # fmt: skip
    assert first.exit_code == 0, first.stderr
    assert first.stdout.startswith("added question 1 (phone)")
    assert "may duplicate" not in first.stdout
    second = cli("questions", "add", "--text", NOISE_AGAIN, "--channel", "wechat")
    assert second.exit_code == 0
    assert "added question 2 (wechat)" in second.stdout
    assert "may duplicate" in second.stdout
    hint = second.stdout.splitlines()[-1].split()
    assert hint[0] == "1" and hint[1] == "similarity" and float(hint[2]) >= 0.35
    assert hint[3].startswith("我家小区旁边的工地")
    third = cli("questions", "add", "--text", SCHOOL, "--channel", "letter")
    assert "may duplicate" not in third.stdout


def test_list_masks_the_contact_and_json_leaves_it_out(cli: Cli, desk: Station) -> None:
    add(cli, NOISE, "--name", "张阿姨", "--contact", PHONE, "--topic", "城市管理")
    table = cli("questions", "list")
    assert table.exit_code == 0
    assert "138****5678" in table.stdout and PHONE not in table.stdout
    assert "张阿姨" in table.stdout and "城市管理" in table.stdout
    private_table = cli("questions", "list", "--include-private")
    assert PHONE not in private_table.stdout  # tables never show it in full
    plain = cli("questions", "list", "--json")
    assert PHONE not in plain.stdout and "138****" not in plain.stdout
    (record,) = plain.json()
    assert set(record) == JSON_KEYS
    private = cli("questions", "list", "--json", "--include-private")
    assert private.json()[0]["listener_contact"] == PHONE


def test_show_reveals_the_contact_only_when_asked(cli: Cli, desk: Station) -> None:
    qid = add(cli, NOISE, "--contact", PHONE, "--name", "张阿姨")
    shown = cli("questions", "show", str(qid))
    assert "138****5678" in shown.stdout and PHONE not in shown.stdout
    assert NOISE in shown.stdout and "screen, reject, duplicate" in shown.stdout
    assert PHONE in cli("questions", "show", str(qid), "--include-private").stdout
    assert PHONE not in cli("questions", "show", str(qid), "--json").stdout
    data = cli("questions", "show", str(qid), "--json", "--include-private").json()
    assert data["listener_contact"] == PHONE


def test_the_whole_lifecycle_and_its_json(cli: Cli, desk: Station) -> None:
    qid = add(cli, SCHOOL)
    assert "→ screened" in cli("questions", "screen", str(qid)).stdout
    assigned = cli("questions", "assign", str(qid), "1000")
    assert assigned.exit_code == 0
    assert f"question {qid} → assigned for episode 1000" in assigned.stdout
    answered = cli("questions", "answer", str(qid), "--member", "李秀英", "--at", "23:45")
    assert answered.exit_code == 0, answered.stderr
    assert "→ answered at 23:45 (next: resolve, refer)" in answered.stdout
    data = cli("questions", "show", str(qid), "--json").json()
    assert data["status"] == "answered"
    assert data["episode"] == 1000
    assert data["member"] == {"id": 2, "name": "李秀英", "sector": "教育界"}
    assert data["answer_offset"] == 1425 and data["answer_at"] == "23:45"
    assert data["received_at"].endswith("+08:00")
    assert "listener_contact" not in data
    assert cli("questions", "list", "--episode", "1000", "--json").json()[0]["id"] == qid
    resolved = cli("questions", "resolve", str(qid))
    assert "→ resolved (next: none, final)" in resolved.stdout


def test_refer_reject_and_duplicate(cli: Cli, desk: Station) -> None:
    lamp = add(cli, "我们楼下的路灯坏了一个月了，晚上出门很危险")
    cli("questions", "screen", str(lamp))
    referred = cli("questions", "refer", str(lamp), "--to", "区城管局")
    assert "→ referred to 区城管局 (referral 1, due " in referred.stdout
    spam = add(cli, "广告：低价代办各类证件")
    assert cli("questions", "reject", str(spam), "--reason", "广告，与节目无关").exit_code == 0
    first, second = add(cli, NOISE), add(cli, NOISE_AGAIN)
    assert cli("questions", "duplicate", str(second), "--of", str(first)).exit_code == 0
    by_id = {r["id"]: r for r in cli("questions", "list", "--json").json()}
    assert by_id[lamp]["referral_department"] == "区城管局"
    assert by_id[spam]["reject_reason"] == "广告，与节目无关"
    assert by_id[second]["duplicate_of"] == first
    assert [r["id"] for r in cli("questions", "list", "--status", "new", "--json").json()] == [
        first
    ]
    found = cli("questions", "list", "--search", "路灯", "--json").json()
    assert [r["id"] for r in found] == [lamp]
    assert len(cli("questions", "list", "--limit", "2", "--json").json()) == 2
    assert "no questions match" in cli("questions", "list", "--channel", "email").stdout


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (0, ["add", "--text", "", "--channel", "phone"], "question text must not be empty"),
        (0, ["add", "--text", "\x00\x1b", "--channel", "phone"], "must not be empty"),
        (0, ["add", "--text", NOISE, "--channel", "fax"], "unknown channel 'fax'; use one of"),
        (0, ["add", "--text", "问" * 2001, "--channel", "sms"], "2001 characters long"),
        (0, ["screen", "99"], "question 99 does not exist"),
        (1, ["answer", "1", "--member", "王建国"], "question 1 is new: cannot answer it; allowed"),
        (3, ["assign", "1", "4242"], "episode 4242 does not exist"),
        (3, ["assign", "1", "1002"], "episode 1002 is cancelled"),
        (2, ["answer", "1", "--member", "赵无名"], "no member named '赵无名'"),
        (2, ["answer", "1", "--member", "99"], "member 99 does not exist"),
        (2, ["answer", "1", "--member", "1", "--at", "1:2:3:4"], "not a time offset"),
        (2, ["answer", "1", "--member", "1", "--at", "12:75"], "not a time offset"),
        (2, ["answer", "1", "--member", "1", "--at", "90:00"], "past the end of episode 1000"),
        (2, ["answer", "1", "--member", "1", "--episode", "7"], "episode 7 does not exist"),
        (1, ["duplicate", "1", "--of", "1"], "cannot be a duplicate of itself"),
        (1, ["duplicate", "1", "--of", "42"], "question 42 (the original) does not exist"),
        (4, ["duplicate", "2", "--of", "1"], "question 1 is rejected: a duplicate must point"),
        (1, ["reject", "1", "--reason", " "], "reject reason must not be empty"),
        (3, ["refer", "1", "--to", ""], "department must not be empty"),
        (3, ["refer", "1", "--to", "城管"], "no department named '城管'; did you mean 区城管局?"),
        (0, ["list", "--status", "open"], "unknown question status 'open'"),
        (0, ["list", "--channel", "fax"], "unknown channel 'fax'"),
        (0, ["list", "--episode", "5"], "episode 5 does not exist"),
        (0, ["list", "--limit", "-3"], "limit -3"),
    ],
)
def test_bad_input_is_one_line_exit_1_and_changes_nothing(
    cli: Cli, desk: Station, setup: int, args: list[str], message: str
) -> None:
    # setup: 0 nothing, 1 one new question, 2 one assigned to 1000, 3 one screened,
    # 4 question 1 rejected and question 2 new.
    if setup:
        add(cli, NOISE)
    if setup in (2, 3):
        cli("questions", "screen", "1")
    if setup == 2:
        cli("questions", "assign", "1", "1000")
    if setup == 4:
        cli("questions", "reject", "1", "--reason", "无关")
        add(cli, SCHOOL)
    before = rows(desk)
    result = cli("questions", *args)
    assert result.exit_code == 1
    assert result.stderr.startswith("hotline: error: ")
    assert result.stderr.strip().count("\n") == 0
    assert message in result.stderr
    assert rows(desk) == before


def test_control_characters_are_stripped_not_stored(cli: Cli, desk: Station) -> None:
    qid = add(cli, "社区\x07食堂\x1b[31m什么时候开\u202e？", "--name", "张\x00阿姨")
    data = cli("questions", "show", str(qid), "--json").json()
    assert data["text"] == "社区食堂[31m什么时候开？"
    assert data["listener_name"] == "张阿姨"


contacts = st.one_of(
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.from_regex(r"[a-z]{3,8}@[a-z]{3,6}\.cn", fullmatch=True),
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(contact=contacts, name=st.sampled_from(["张阿姨", "李先生", ""]))
def test_json_never_carries_the_contact_without_include_private(
    cli: Cli, desk: Station, contact: str, name: str
) -> None:
    qid = add(cli, SCHOOL, "--contact", contact, "--name", name)
    for args in (["list", "--json", "--limit", "0"], ["show", str(qid), "--json"]):
        plain = cli("questions", *args)
        assert contact not in plain.stdout
        assert "listener_contact" not in plain.stdout
        private = cli("questions", *args, "--include-private")
        assert contact in private.stdout
    assert contact not in cli("questions", "list", "--limit", "0").stdout
