"""`hotline db copy`: an embedded station moves up to PostgreSQL (and back, as an offline copy)
with every row, checked, through the real CLI against a real server."""

from __future__ import annotations

import json
from pathlib import Path

import pg_server
import pytest
import sqlalchemy as sa
from station_data import fill, hotline

from hotline import db, dbcopy
from hotline.config import save_settings
from hotline.models import SQLModel
from hotline.station import Station


def views(root: Path) -> dict[str, str]:
    """What users read of a station: lists, private fields included, and searches."""
    commands = {
        "episodes": ("episodes", "list", "--json"),
        "members": ("members", "list", "--json", "--include-private"),
        "questions": ("questions", "list", "--json", "--include-private"),
        "search": ("search", "养老", "医保", "--json"),
        "by-episode": ("search", "養老", "--by-episode", "--json"),
    }
    seen = {}
    for name, args in commands.items():
        code, out, err = hotline("-s", root, *args)
        assert code == 0, err
        seen[name] = out
    return seen


@pytest.fixture
def target(postgres_server: str, request: pytest.FixtureRequest) -> str:
    url = pg_server.create_database(postgres_server)
    request.addfinalizer(lambda: pg_server.drop_database(url))
    return url


def test_an_embedded_station_moves_to_an_empty_server_with_every_row(
    sqlite_station: Station, target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(sqlite_station, tmp_path)
    # Edited in the file since the station was made (as make demo does with its cover).
    sqlite_station.settings.show.cover = "art/封面.png"
    save_settings(sqlite_station.settings, sqlite_station.settings_path)
    before = views(sqlite_station.root)
    counts = {
        t.name: n
        for t in SQLModel.metadata.sorted_tables
        if (n := _count(sqlite_station.engine, t.name))
    }
    sqlite_station.engine.dispose()

    code, out, err = hotline("-s", sqlite_station.root, "db", "copy", "--to", target)
    assert code == 0, err
    assert "checksums match" in out
    tables = len(SQLModel.metadata.sorted_tables)
    assert f"copied {sum(counts.values())} rows in {tables} tables" in out
    settings = (sqlite_station.root / "hotline.toml").read_text(encoding="utf-8")
    assert db.display_url(target) in out
    assert "postgresql" in settings

    # Everything users read is the same, byte for byte, now from the server.
    assert views(sqlite_station.root) == before
    engine = db.make_engine(target)
    assert {name: _count(engine, name) for name in counts} == counts
    engine.dispose()

    # A folder attached later takes the station's settings as the moving folder had them.
    code, _, err = hotline("init", tmp_path / "编辑台", "--database", target, "--attach")
    assert code == 0, err
    attached = (tmp_path / "编辑台" / "hotline.toml").read_text(encoding="utf-8")
    assert 'cover = "art/封面.png"' in attached

    # New rows get new ids: the sequences were moved past the copied ones.
    code, _, err = hotline(
        "-s",
        sqlite_station.root,
        "episodes",
        "add",
        "--title",
        "新节目",
        "--air",
        "2031-06-07 11:00",
    )
    assert code == 0, err
    code, _, err = hotline(
        "-s",
        sqlite_station.root,
        "questions",
        "add",
        "--text",
        "公交线路能否延长？",
        "--channel",
        "web",
    )
    assert code == 0, err

    # The old file says where the station went rather than serving stale rows.
    monkeypatch.setenv("HOTLINE_DATABASE_URL", db.sqlite_url(sqlite_station.root / "hotline.db"))
    code, _, err = hotline("-s", sqlite_station.root, "episodes", "list")
    assert code == 1 and "old copy" in err and "moved to" in err


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar_one()


def test_every_table_the_source_holds_is_copied(
    sqlite_station: Station, target: str, tmp_path: Path
) -> None:
    fill(sqlite_station, tmp_path)
    copied = dbcopy.copy_station(sqlite_station.engine, db.make_engine(target))
    held = set(db.table_names(sqlite_station.engine)) - {"alembic_version"}
    assert {c.name for c in copied} == held == {t.name for t in SQLModel.metadata.sorted_tables}
    assert all(c.rows > 0 for c in copied if c.name in {"segment", "search_posting", "station"})


def test_a_target_that_is_not_empty_is_refused_and_left_alone(
    sqlite_station: Station, target: str
) -> None:
    engine = sa.create_engine(target)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE 旧表 (id integer)")
    settings = (sqlite_station.root / "hotline.toml").read_bytes()
    code, _, err = hotline("-s", sqlite_station.root, "db", "copy", "--to", target)
    assert code == 1 and "not empty" in err and "旧表" in err
    assert (sqlite_station.root / "hotline.toml").read_bytes() == settings
    assert db.table_names(engine) == ["旧表"]
    engine.dispose()


def test_a_difference_on_reading_back_rolls_the_whole_copy_back(
    sqlite_station: Station, target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(sqlite_station, tmp_path)
    copy_table = dbcopy._copy_table

    def damaging(source: sa.Connection, into: sa.Connection, table: sa.Table, progress: None):
        copied = copy_table(source, into, table, progress)
        if table.name == "question":  # as a lossy driver or a trigger on the target might
            into.exec_driver_sql("UPDATE question SET text = text || '？' WHERE id = 1")
        return copied

    monkeypatch.setattr(dbcopy, "_copy_table", damaging)
    code, _, err = hotline("-s", sqlite_station.root, "db", "copy", "--to", target)
    assert code == 1 and "table question" in err and "nothing was written" in err
    assert db.table_names(db.make_engine(target)) == []
    assert "postgresql" not in (sqlite_station.root / "hotline.toml").read_text(encoding="utf-8")


def test_the_reverse_gives_an_offline_sqlite_copy(
    pg_station: Station, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(pg_station, tmp_path)
    before = views(pg_station.root)
    settings = (pg_station.root / "hotline.toml").read_bytes()
    offline = tmp_path / "离线" / "hotline.db"
    offline.parent.mkdir()
    code, out, err = hotline("-s", pg_station.root, "db", "copy", "--to", f"sqlite:///{offline}")
    assert code == 0, err
    assert "offline copy" in out
    assert (pg_station.root / "hotline.toml").read_bytes() == settings

    # A folder with the station's settings and the copy as its hotline.db reads the same.
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    text = settings.decode()
    lines = [line for line in text.splitlines() if not line.startswith("url = ")]
    (offline.parent / "hotline.toml").write_text("\n".join(lines), encoding="utf-8")
    assert views(offline.parent) == before

    code, _, err = hotline("-s", pg_station.root, "db", "copy", "--to", f"sqlite:///{offline}")
    assert code == 1 and "already exists" in err


def test_a_password_given_to_copy_is_not_written(sqlite_station: Station, target: str) -> None:
    with_password = target.replace("postgres@", "postgres:口令@", 1)
    code, out, err = hotline("-s", sqlite_station.root, "db", "copy", "--to", with_password)
    assert code == 0, err
    assert "口令" not in out
    assert "口令" not in (sqlite_station.root / "hotline.toml").read_text(encoding="utf-8")
    assert json.loads(hotline("-s", sqlite_station.root, "db", "current", "--json")[1])["station"]


def test_a_target_role_that_may_not_create_tables_is_told_what_gives_it_that(
    sqlite_station: Station, target: str
) -> None:
    role = "复制员_无建表权"
    owner = sa.create_engine(target, poolclass=sa.pool.NullPool)
    with owner.begin() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
    as_role = sa.make_url(target).set(username=role).render_as_string(False)
    try:
        code, _, err = hotline("-s", sqlite_station.root, "db", "copy", "--to", as_role)
        assert code == 1 and len(err.strip().splitlines()) == 1
        assert f"{role} may not create tables" in err
        assert f"GRANT CREATE ON SCHEMA public TO {role}" in err and "db grant" not in err
        assert db.table_names(owner) == []
    finally:
        with owner.begin() as conn:
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        owner.dispose()
