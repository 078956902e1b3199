"""A station's SQLite file removed or replaced while a desk holds it open: the next
transaction is refused with one line (the desk's in Chinese), nothing is written to the
file that is gone, and no empty database is started in its place."""

from __future__ import annotations

import shutil

import pytest

from episodes import questions
from hotline.errors import DatabaseUnavailable
from hotline.models import Question
from hotline.station import Station


def add(station: Station, text: str) -> int:
    with station.session() as session:
        return questions.add_question(session=session, text=text, channel="sms")[0].id


def test_a_removed_then_restored_database_file(sqlite_station: Station) -> None:
    add(sqlite_station, "路灯坏了")  # the desk has its connection open
    path = sqlite_station.root / "hotline.db"
    aside = sqlite_station.root.parent / "aside"
    aside.mkdir()
    for part in sqlite_station.root.glob("hotline.db*"):
        shutil.move(part, aside / part.name)
    with pytest.raises(DatabaseUnavailable) as gone:
        add(sqlite_station, "丢失的问题")
    assert str(gone.value).startswith("the database hotline.db is missing")
    assert gone.value.for_desk == "数据库 hotline.db 不见了：请从备份恢复；这一步没有保存任何内容"
    with pytest.raises(DatabaseUnavailable):
        add(sqlite_station, "又一次")
    assert not path.exists()  # no empty database started in its place
    for part in aside.iterdir():  # restored from the backup: a new file at the path
        shutil.copy(part, sqlite_station.root / part.name)
    with pytest.raises(DatabaseUnavailable) as replaced:
        add(sqlite_station, "恢复后第一次")
    assert "was replaced while hotline had it open: nothing was changed" in str(replaced.value)
    added = add(sqlite_station, "恢复后再试")  # the restored file, opened afresh
    with sqlite_station.session(write=False) as session:
        texts = [q.text for q in session.query(Question).order_by(Question.id)]
    assert texts == ["路灯坏了", "恢复后再试"] and added == 2
