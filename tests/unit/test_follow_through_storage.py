"""Where follow-through lives: exports and restores carry departments, referrals, call-backs
and the history (without private contacts or call-back notes unless asked for), and
migration 0009 adopts referrals made before it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import SQLModel

from episodes import questions, referrals
from episodes.departments import add_department
from hotline import db
from hotline.backup import export_station, restore_station
from hotline.station import Station, init_station
from hotline.timeutil import zone

SHANGHAI = zone("Asia/Shanghai")
OFFICE = "021-23118888"
PHONE = "13812345678"
NOTE = "老人说押金上周已经退了，感谢节目帮忙"
MONDAY = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)


def snapshot(station: Station) -> dict[str, list[tuple]]:
    with station.engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key))]
            for t in SQLModel.metadata.sorted_tables
            # Which station a database is stays its own through a restore (hotline.identity).
            if not t.name.startswith("search_") and t.name != "station"
        }


def followed(station: Station) -> None:
    with station.session() as s:
        add_department(session=s, name="市民政局", contact=OFFICE, note="老龄工作处")
        question, _ = questions.add_question(
            session=s, text="养老院押金退不回来怎么办？", channel="phone", listener_contact=PHONE
        )
        questions.screen(session=s, question=question.id)
        opened = questions.refer(
            session=s,
            settings=station.settings,
            question=question.id,
            department="市民政局",
            now=MONDAY,
        )
        referrals.reply(
            session=s,
            referral=opened.referral.id,
            text="已责令该机构限期退还押金。",
            tz=SHANGHAI,
            now=MONDAY + timedelta(days=2),
        )
        questions.callback(
            session=s, question=question.id, outcome="satisfied", note=NOTE, made_by="张蕾"
        )


def test_an_export_carries_the_follow_through_and_restores_it_whole(
    station: Station, tmp_path: Path
) -> None:
    followed(station)
    with station.session() as s:
        manifest = export_station(session=s, target=tmp_path / "out", tz=SHANGHAI)
    rows = {t.name: t.rows for t in manifest.tables}
    assert rows["department"] == 1 and rows["referral"] == 1 and rows["callback"] == 1
    assert rows["history"] >= 6
    for path in (tmp_path / "out").iterdir():
        text = path.read_text(encoding="utf-8")
        assert OFFICE not in text and PHONE not in text and NOTE not in text, path.name
    department = json.loads((tmp_path / "out" / "department.jsonl").read_text("utf-8"))
    assert "contact" not in department and department["note"] == "老龄工作处"
    with station.session() as s:
        export_station(session=s, target=tmp_path / "all", tz=SHANGHAI, include_private=True)
    copy, _ = init_station(tmp_path / "copy")
    with copy.session() as s:
        restore_station(session=s, source=tmp_path / "all")
    assert snapshot(copy) == snapshot(station)  # the history too, and no new history rows


def test_an_export_without_private_columns_restores_the_call_back_without_its_note(
    station: Station, tmp_path: Path
) -> None:
    followed(station)
    with station.session() as s:
        export_station(session=s, target=tmp_path / "out", tz=SHANGHAI)
    copy, _ = init_station(tmp_path / "copy")
    with copy.session() as s:
        restore_station(session=s, source=tmp_path / "out")
    with copy.engine.connect() as conn:
        callback = conn.execute(sa.text("SELECT outcome, note FROM callback")).one()
        changes = conn.execute(
            sa.text("SELECT changes FROM history WHERE entity = 'callback'")
        ).scalar_one()
    assert tuple(callback) == ("satisfied", "")
    # The history still says who called back and with what outcome, not what was said.
    recorded = json.loads(changes) if isinstance(changes, str) else changes
    assert "outcome" in recorded and "note" not in recorded


def test_migration_0009_adopts_the_referrals_made_before_it(tmp_path: Path) -> None:
    engine = db.make_engine(db.sqlite_url(tmp_path / "old.db"))
    db.upgrade(engine, "0003")
    changed = datetime(2026, 9, 28, 2, 0)  # naive UTC, as stored
    with engine.begin() as conn:
        for qid, status, department in (
            (1, "referred", "区城管局"),
            (2, "resolved", "区城管局"),
            (3, "resolved", ""),
            (4, "referred", "市民政局"),
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO question (id, received_at, channel, listener_name, "
                    "listener_contact, district, topic, text, status, referral_department, "
                    "reject_reason, updated_at) VALUES (:id, :t, 'phone', '', '', '', '', "
                    "'路灯坏了', :status, :department, '', :t)"
                ),
                {"id": qid, "t": changed, "status": status, "department": department},
            )
    db.upgrade(engine)
    with engine.connect() as conn:
        names = sorted(conn.execute(sa.text("SELECT name FROM department")).scalars())
        adopted = conn.execute(
            sa.text("SELECT question_id, status, due_at FROM referral ORDER BY question_id")
        ).all()
    assert names == ["区城管局", "市民政局"]
    assert [(q, s) for q, s, _ in adopted] == [(1, "open"), (2, "closed"), (4, "open")]
    # Monday 28 September + five weekdays = Monday 5 October; due by its end in Shanghai.
    assert str(adopted[0][2]).startswith("2026-10-05 16:00:00")
