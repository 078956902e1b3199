"""`hotline export` and `hotline restore` through the real CLI."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from hotline.cli import app
from hotline.models import Episode, Member, Question
from hotline.station import Station, init_station
from transcripts.formats import Cue
from transcripts.store import save_transcript

PHONE = "13912345678"


@pytest.fixture
def filled(station: Station) -> Station:
    with station.session() as s:
        s.add(
            Episode(
                id=1, number=1000, title="医保报销", air_start=datetime(2022, 8, 13, 3, tzinfo=UTC)
            )
        )
        s.add(Member(id=1, name="张伟", sector="中国共产党", contact=PHONE))
        s.add(Question(id=1, channel="phone", text="异地就医怎么报销？", listener_contact=PHONE))
        save_transcript(
            session=s,
            episode=1000,
            segments=[Cue(0.0, 4.0, "異地就醫的報銷比例提高了"), Cue(4.0, 8.0, "养老服务")],
        )
    return station


def run_on(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--station", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def titles(station: Station) -> list[str]:
    with station.engine.connect() as conn:
        return list(conn.execute(sa.select(Episode.__table__.c.title)).scalars())


@pytest.mark.parametrize("data_format", ["json", "csv"])
def test_export_then_restore_into_a_new_station(
    filled: Station, cli: Callable, tmp_path: Path, data_format: str
) -> None:
    out = tmp_path / "backup"
    r = cli("export", out, "--format", data_format, "--include-private")
    assert r.exit_code == 0, r.stderr
    assert "contact details and call-back notes included" in r.stdout
    assert (out / "manifest.json").is_file()

    new = init_station(tmp_path / "new")[0]
    code, stdout, stderr = run_on(new.root, "restore", str(out), "--json")
    assert code == 0, stderr
    assert json.loads(stdout)["tables"]["question"] == 1
    assert titles(new) == ["医保报销"]
    with new.engine.connect() as conn:
        assert conn.execute(sa.select(Member.__table__.c.contact)).scalar() == PHONE
    # The search index is derived data: not exported, rebuilt by the restore.
    assert not any(p.name.startswith("search_") for p in out.iterdir())
    code, stdout, _ = run_on(new.root, "search", "报销", "--json")
    assert code == 0 and json.loads(stdout)["total_matches"] == 1


def test_export_leaves_contacts_out_by_default(
    filled: Station, cli: Callable, tmp_path: Path
) -> None:
    r = cli("export", tmp_path / "backup", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["include_private"] is False
    for path in (tmp_path / "backup").iterdir():
        assert PHONE not in path.read_text(encoding="utf-8"), path.name


def test_restore_into_a_station_with_rows_is_refused(
    filled: Station, cli: Callable, tmp_path: Path
) -> None:
    assert cli("export", tmp_path / "backup").exit_code == 0
    r = cli("restore", tmp_path / "backup")
    assert r.exit_code == 1
    assert r.stderr.startswith("hotline: error: the station is not empty: table episode has rows")
    assert titles(filled) == ["医保报销"]


def test_restore_of_a_broken_file_names_it_and_changes_nothing(
    filled: Station, cli: Callable, tmp_path: Path
) -> None:
    assert cli("export", tmp_path / "backup", "--format", "csv").exit_code == 0
    broken = tmp_path / "backup" / "question.csv"
    broken.write_text(broken.read_text(encoding="utf-8") + '1,"never closed\n', encoding="utf-8")
    new = init_station(tmp_path / "new")[0]
    code, _, stderr = run_on(new.root, "restore", str(tmp_path / "backup"))
    assert code == 1
    assert "question.csv: line 3" in stderr
    assert titles(new) == []


def test_export_into_a_folder_with_files_is_refused(
    filled: Station, cli: Callable, tmp_path: Path
) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "旧.txt").write_text("留着", encoding="utf-8")
    r = cli("export", tmp_path / "busy")
    assert r.exit_code == 1
    assert "not empty" in r.stderr
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["旧.txt"]


def test_restore_of_a_folder_that_is_no_export(cli: Callable, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    r = cli("restore", tmp_path / "empty")
    assert r.exit_code == 1
    assert "is not an export" in r.stderr


def test_unknown_format_is_a_usage_error(cli: Callable, tmp_path: Path) -> None:
    r = cli("export", tmp_path / "x", "--format", "xml")
    assert r.exit_code == 1  # one line, like every other error
    assert r.stderr.startswith("hotline: error: hotline export: invalid value for '--format'")
    assert len(r.stderr.splitlines()) == 1
    assert not (tmp_path / "x").exists()


FORMULAS = ["=cmd|' /C calc'!A0", "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "'=x", "'普通"]


def test_csv_cells_a_spreadsheet_would_run_are_defused_and_restored_exactly(
    station: Station, cli: Callable, tmp_path: Path
) -> None:
    with station.session() as s:
        for i, text in enumerate(FORMULAS, start=1):
            s.add(Question(id=i, channel="web", text=f"问题{i}", topic=text, listener_name=text))
    out = tmp_path / "csv"
    assert cli("export", out, "--format", "csv").exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["formula_prefix"] == "'"
    with (out / "question.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        assert row["topic"][0] not in "=+-@\t\r", row["topic"]
        assert row["topic"].startswith("'")
    new = init_station(tmp_path / "new")[0]
    code, _, stderr = run_on(new.root, "restore", str(out))
    assert code == 0, stderr
    with new.engine.connect() as conn:
        topics = conn.execute(
            sa.select(Question.__table__.c.topic).order_by(Question.__table__.c.id)
        ).scalars()
        assert list(topics) == FORMULAS


def test_a_private_export_is_the_owners_only_and_a_killed_one_is_cleaned_up(
    filled: Station, cli: Callable, tmp_path: Path
) -> None:
    leftover = tmp_path / ".private.partial-999999"
    leftover.mkdir()
    (leftover / "question.jsonl").write_text(PHONE, encoding="utf-8")
    out = tmp_path / "private"
    assert cli("export", out, "--include-private").exit_code == 0
    assert not leftover.exists()
    assert out.stat().st_mode & 0o777 == 0o700
    for path in out.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path.name


def test_a_station_restored_from_tables_alone_does_not_publish_empty_feeds(
    station: Station, cli: Callable, tmp_path: Path
) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from feeds_fixtures import add_episode, use_cover

    use_cover(station)
    with station.session() as s:
        for number in (1, 2, 3):
            add_episode(station, s, number)
    assert cli("publish").exit_code == 0
    assert cli("export", tmp_path / "tables").exit_code == 0
    new = init_station(tmp_path / "new")[0]
    assert run_on(new.root, "restore", str(tmp_path / "tables"))[0] == 0
    use_cover(new)
    code, _, stderr = run_on(new.root, "publish")
    assert code == 1
    assert "would remove 3 of the 3 items published now" in stderr
    assert "3 whose master file is missing (episodes 1, 2, 3)" in stderr
    assert not (new.public_dir / "feeds/generic.xml").exists()
