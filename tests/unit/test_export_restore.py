"""Export and restore: every row of every table survives the round trip, in JSON and in CSV."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from hotline import db
from hotline.backup import MANIFEST_FILE, Manifest, export_station, restore_station
from hotline.backup.codec import (
    Kind,
    from_csv_cell,
    from_json_value,
    json_row,
    to_csv_cell,
    to_json_value,
)
from hotline.backup.manifest import tables
from hotline.errors import Conflict, InvalidInput, SchemaError
from hotline.models import (
    Booking,
    Call,
    Callback,
    Department,
    Episode,
    Job,
    Member,
    Question,
    Referral,
    Segment,
    ShowClock,
    Transcript,
)
from hotline.station import Station, init_station

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2022, 8, 13, 3, 0, tzinfo=UTC)  # episode 1000: 11:00 in Shanghai
TRICKY = '他说："养老金, 够吗？"\n第二行\r\n,,"" \\N \\\\ 	tab'
PHONE = "13812345678"
EMAIL = "listener@example.cn"


def fill(station: Station) -> None:
    """Put rows in every table, with the values most likely to get lost on the way."""
    with station.session() as s:
        s.add_all(
            [
                Episode(
                    id=1,
                    number=999,
                    title="养老服务：社区食堂怎么办",
                    topic=TRICKY,
                    air_start=T0 - timedelta(days=7),
                    hosts=["李明", "王芳"],
                    description="",
                    audio_seconds=0.1 + 0.2,
                    audio_bytes=12_345_678,
                    raw_path=None,
                    guid="urn:uuid:0999",
                    published_at=T0 + timedelta(microseconds=123_456),
                    status="published",
                ),
                Episode(id=2, number=1000, title="医保", air_start=T0, hosts=[]),
                Member(id=1, name="张伟", sector="中国共产党", level="全国", contact=PHONE),
                Member(id=2, name="欧阳娜娜", sector="无党派人士", contact=EMAIL, active=False),
            ]
        )
        s.flush()
        s.add_all(
            [
                Booking(id=1, episode_id=1, member_id=1, role="guest", status="appeared"),
                Booking(id=2, episode_id=2, member_id=2, role="expert", status="invited"),
                Question(
                    id=2,
                    channel="phone",
                    listener_contact=EMAIL,
                    text=TRICKY,
                    topic="",
                    episode_id=1,
                    member_id=1,
                    answer_offset=754.125,
                    status="answered",
                ),
                Question(id=3, channel="letter", text="社区食堂的价格？", episode_id=None),
                Transcript(id=1, episode_id=1, model="small", settings={"beam": 5, "提示": None}),
                Job(id=1, kind="master", episode_id=1, progress=1 / 3, error="ffmpeg:\n失败"),
                ShowClock(id=1, episode_id=1, started_at=T0 - timedelta(days=7)),
            ]
        )
        s.flush()
        s.add_all(
            [
                Segment(
                    id=1,
                    transcript_id=1,
                    episode_id=1,
                    start=0.0,
                    end=1e-7,
                    text="養老",
                    text_norm="养老",
                ),
                Segment(
                    id=2, transcript_id=1, episode_id=1, start=2.5, end=5.0, text="", text_norm=""
                ),
                # Question 1 duplicates question 3: it points at a later row of its own table.
                Question(
                    id=1,
                    channel="wechat",
                    listener_name="老王",
                    listener_contact=PHONE,
                    text="重复的问题",
                    status="duplicate",
                    duplicate_of=3,
                ),
                Call(id=1, episode_id=1, caller_name="李阿姨", question_id=2, on_air_offset=None),
                Department(id=1, name="市民政局", contact=PHONE, note="信访办"),
            ]
        )
        s.flush()
        s.add(
            Referral(
                id=1,
                question_id=3,
                department_id=1,
                sent_at=T0,
                due_at=T0 + timedelta(days=7),
                status="replied",
                reply_text=TRICKY,
                replied_at=T0 + timedelta(days=2),
            )
        )
        s.flush()
        s.add(
            Callback(
                id=1, question_id=3, referral_id=1, outcome="satisfied", made_by="张蕾", made_at=T0
            )
        )


def dump(station: Station) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, ordered by id."""
    with station.engine.connect() as conn:
        return {
            t.name: [dict(r._mapping) for r in conn.execute(sa.select(t).order_by(*t.primary_key))]
            for t in tables()
        }


def export(station: Station, target: Path, data_format: str, private: bool) -> Manifest:
    with station.session() as session:
        return export_station(
            session=session,
            target=target,
            tz=station.tz,
            data_format=data_format,
            include_private=private,
        )


def restore(station: Station, source: Path) -> Manifest:
    with station.session() as session:
        return restore_station(session=session, source=source)


@pytest.fixture
def filled(station: Station) -> Station:
    fill(station)
    return station


@pytest.fixture
def empty(tmp_path: Path) -> Station:
    return init_station(tmp_path / "new-station")[0]


@pytest.mark.parametrize("data_format", ["json", "csv"])
def test_round_trip_keeps_every_row_of_every_table(
    filled: Station, empty: Station, tmp_path: Path, data_format: str
) -> None:
    before = dump(filled)
    assert all(before.values()), "every table must have rows for this test to mean anything"
    manifest = export(filled, tmp_path / "export", data_format, private=True)
    restore(empty, tmp_path / "export")
    assert dump(empty) == before
    assert {e.name: e.rows for e in manifest.tables} == {k: len(v) for k, v in before.items()}


@pytest.mark.parametrize("data_format", ["json", "csv"])
def test_restored_station_hands_out_new_ids_after_the_restored_ones(
    filled: Station, empty: Station, tmp_path: Path, data_format: str
) -> None:
    export(filled, tmp_path / "export", data_format, private=True)
    restore(empty, tmp_path / "export")
    with empty.session() as s:
        question = Question(channel="sms", text="新问题")
        s.add(question)
        s.flush()
        assert question.id == 4


@pytest.mark.parametrize("data_format", ["json", "csv"])
def test_export_without_private_has_no_contact_anywhere(
    filled: Station, empty: Station, tmp_path: Path, data_format: str
) -> None:
    manifest = export(filled, tmp_path / "export", data_format, private=False)
    assert manifest.include_private is False
    for path in (tmp_path / "export").iterdir():
        text = path.read_text(encoding="utf-8")
        assert PHONE not in text and EMAIL not in text, path.name
        assert "listener_contact" not in text or path.name == MANIFEST_FILE
    saved = json.loads((tmp_path / "export" / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert saved["include_private"] is False
    # Restoring it gives everything but the contacts, which come back empty.
    restore(empty, tmp_path / "export")
    with empty.engine.connect() as conn:
        assert set(conn.execute(sa.select(Member.__table__.c.contact)).scalars()) == {""}
        assert conn.execute(sa.select(sa.func.count()).select_from(Question)).scalar() == 3


def test_manifest_says_what_the_export_holds(filled: Station, tmp_path: Path) -> None:
    export(filled, tmp_path / "export", "csv", private=True)
    saved = json.loads((tmp_path / "export" / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert saved["schema_revision"] == db.SCHEMA_HEAD
    assert saved["data_format"] == "csv" and saved["include_private"] is True
    assert datetime.fromisoformat(saved["created_at"]).utcoffset() == timedelta(hours=8)
    names = [t["name"] for t in saved["tables"]]
    assert names.index("episode") < names.index("booking") < names.index("call")
    assert {t["name"]: t["rows"] for t in saved["tables"]}["question"] == 3


def test_times_are_iso_with_offset_and_json_columns_are_json(
    filled: Station, tmp_path: Path
) -> None:
    export(filled, tmp_path / "export", "json", private=False)
    first = json.loads((tmp_path / "export" / "episode.jsonl").read_text("utf-8").splitlines()[0])
    assert first["air_start"] == "2022-08-06T11:00:00+08:00"
    assert first["hosts"] == ["李明", "王芳"]


def test_csv_is_utf8_with_a_header_and_marks_none(filled: Station, tmp_path: Path) -> None:
    export(filled, tmp_path / "export", "csv", private=False)
    text = (tmp_path / "export" / "episode.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert rows[0]["title"] == "养老服务：社区食堂怎么办"
    assert rows[0]["raw_path"] == "\\N" and rows[0]["description"] == ""
    assert rows[0]["hosts"] == '["李明","王芳"]'


def test_restore_refuses_a_station_with_rows(filled: Station, tmp_path: Path) -> None:
    export(filled, tmp_path / "export", "json", private=True)
    with pytest.raises(Conflict, match=r"the station is not empty: table \w+ has rows"):
        restore(filled, tmp_path / "export")


def test_restore_refuses_an_export_from_a_newer_schema(
    filled: Station, empty: Station, tmp_path: Path
) -> None:
    export(filled, tmp_path / "export", "json", private=True)
    path = tmp_path / "export" / MANIFEST_FILE
    saved = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**saved, "schema_revision": "9999"}), encoding="utf-8")
    with pytest.raises(SchemaError, match="newer"):
        restore(empty, tmp_path / "export")


@pytest.mark.parametrize(
    ("data_format", "file", "damage", "message"),
    [
        ("json", "question.jsonl", lambda t: t.replace('"channel"', '"chanel"', 1), "line 1"),
        ("json", "booking.jsonl", lambda t: t + "{not json\n", "line 3: not valid JSON"),
        ("json", "episode.jsonl", lambda t: t.replace("+08:00", "", 1), "no UTC offset"),
        ("csv", "member.csv", lambda t: t.replace("true", "yes", 1), "line 2: column active"),
        ("csv", "episode.csv", lambda t: t.replace(",1000,", ",一千,"), "line 5: column number"),
        ("csv", "segment.csv", lambda t: t.splitlines(keepends=True)[0], "manifest says 2"),
        ("csv", "call.csv", lambda t: t.rstrip("\r\n") + ",extra\r\n", "line 2: 11 cells"),
        ("csv", "booking.csv", lambda t: t.replace("\n2,", "\n1,"), "lines 2–3: the database"),
        (
            "json",
            "member.jsonl",
            lambda t: t.replace("张伟", "张" * 51),
            "51 characters; the limit",
        ),
        ("json", "episode.jsonl", lambda t: t.replace("养老服务", "养老\\u0007服务"), "control"),
    ],
)
def test_restore_refuses_a_broken_file_naming_file_and_line(
    filled: Station,
    empty: Station,
    tmp_path: Path,
    data_format: str,
    file: str,
    damage: Any,
    message: str,
) -> None:
    export(filled, tmp_path / "export", data_format, private=True)
    path = tmp_path / "export" / file
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8", newline="")
    with pytest.raises(InvalidInput, match=message) as caught:
        restore(empty, tmp_path / "export")
    assert file in str(caught.value)
    assert all(not rows for rows in dump(empty).values()), "a failed restore changes nothing"


def test_restore_names_the_line_of_a_non_utf8_byte(
    filled: Station, empty: Station, tmp_path: Path
) -> None:
    export(filled, tmp_path / "export", "csv", private=True)
    path = tmp_path / "export" / "member.csv"
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].replace("欧阳".encode(), b"\xff\xfe")
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(InvalidInput, match=r"member\.csv: line 3: not UTF-8"):
        restore(empty, tmp_path / "export")


def test_export_refuses_a_folder_that_is_not_empty(filled: Station, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("别动", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not empty"):
        export(filled, tmp_path / "busy", "json", private=False)
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["notes.txt"]


def test_restore_refuses_a_folder_without_a_manifest(empty: Station, tmp_path: Path) -> None:
    (tmp_path / "nothing").mkdir()
    with pytest.raises(InvalidInput, match="no manifest.json"):
        restore(empty, tmp_path / "nothing")


# --- the codec, value by value --------------------------------------------------------------

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=10,
)
values_by_kind = {
    Kind.text: texts,
    Kind.integer: st.integers(min_value=-(2**63), max_value=2**63 - 1),
    Kind.real: st.floats(allow_nan=False),
    Kind.boolean: st.booleans(),
    Kind.time: st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1), timezones=st.just(UTC)),
    Kind.json: json_values,
}


def same(kind: Kind, a: Any, b: Any) -> bool:
    if kind is Kind.real and a is not None:
        return math.copysign(1, a) == math.copysign(1, b) and a == b
    return a == b and type(a) is type(b)


@pytest.mark.parametrize("kind", list(Kind))
@given(data=st.data())
def test_every_value_survives_a_csv_cell(kind: Kind, data: st.DataObject) -> None:
    value = data.draw(st.none() | values_by_kind[kind])
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerow([to_csv_cell(kind, value, SHANGHAI), "x"])
    (cell, _), *_ = csv.reader(io.StringIO(buffer.getvalue(), newline=""))
    assert same(kind, from_csv_cell(kind, cell), value)


@pytest.mark.parametrize("kind", list(Kind))
@given(data=st.data())
def test_every_value_survives_a_json_line(kind: Kind, data: st.DataObject) -> None:
    value = data.draw(st.none() | values_by_kind[kind])
    line = json.dumps({"v": to_json_value(kind, value, SHANGHAI)}, ensure_ascii=False)
    assert "\n" not in line
    assert same(kind, from_json_value(kind, json.loads(line)["v"]), value)


@given(data=st.data(), kinds=st.lists(st.sampled_from(list(Kind)), max_size=8))
def test_a_row_converts_as_its_cells_do(data: st.DataObject, kinds: list[Kind]) -> None:
    row = tuple(data.draw(st.none() | values_by_kind[kind]) for kind in kinds)
    assert json_row(kinds, SHANGHAI)(row) == [
        to_json_value(kind, value, SHANGHAI) for kind, value in zip(kinds, row, strict=True)
    ]


@given(texts)
def test_no_text_cell_starts_a_spreadsheet_formula(value: str) -> None:
    cell = to_csv_cell(Kind.text, value, SHANGHAI)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert from_csv_cell(Kind.text, cell) == value
