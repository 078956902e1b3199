"""`hotline backup`, `hotline backup verify` and `hotline restore` of a whole station, end to end:
publish → backup → restore elsewhere → publish gives byte-identical feeds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hotline import db
from hotline.cli import app
from hotline.config import load_settings
from hotline.models import Member
from hotline.station import Station
from transcripts.formats import Cue
from transcripts.store import save_transcript

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from feeds_fixtures import add_episode, use_cover  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ("generic", "apple", "spotify", "xiaoyuzhou", "ximalaya")
CONTACT = "13912345678"


def run_on(root: Path | None, *args: Any) -> tuple[int, str, str]:
    prefix = ["--station", str(root)] if root is not None else []
    result = CliRunner().invoke(app, [*prefix, *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def published(station: Station, cli: Callable[..., Any]) -> Station:
    """A station that has published: masters, raw recordings, art, transcripts, contacts."""
    use_cover(station)
    with station.session() as session:
        for number in (1, 2, 3):
            episode = add_episode(station, session, number, transcripts=number != 3)
            raw = station.raw_dir / f"{number:04d}-abcdef12.wav"
            raw.write_bytes(b"RIFF" + bytes([number]) * 5000)
            episode.raw_path = raw.relative_to(station.root).as_posix()
        session.add(Member(name="王委员", sector="经济界", contact=CONTACT))
        # Only in the database: publish writes it out, the backup keeps it.
        save_transcript(session=session, episode=3, segments=[Cue(0.0, 3.0, "第三期的文字稿")])
    r = cli("publish")
    assert r.exit_code == 0, r.stderr
    return station


def feeds_of(station_root: Path) -> dict[str, bytes]:
    return {name: (station_root / f"public/feeds/{name}.xml").read_bytes() for name in PROFILES}


def test_publish_backup_restore_elsewhere_publish_gives_byte_identical_feeds(
    published: Station, cli: Callable[..., Any], tmp_path: Path
) -> None:
    before = feeds_of(published.root)
    backup = tmp_path / "备份"
    r = cli("backup", backup, "--json")
    assert r.exit_code == 0, r.stderr
    first = r.json()
    assert first["copied"] == first["files"] - len(first["tables"]) - 1 > 0
    snapshot = backup / first["snapshot"]
    listed = json.loads((snapshot / "backup.json").read_text("utf-8"))["files"]
    for expected in (
        "station/hotline.toml",
        "station/art/cover.png",
        "station/audio/master/0001.mp3",
        "station/audio/raw/0002-abcdef12.wav",
        "station/transcripts/0003.json",
        "station/public/feeds/apple.xml",
        "tables/episode.jsonl",
    ):
        assert expected in listed and len(listed[expected]["sha256"]) == 64
    assert CONTACT not in (snapshot / "tables/member.jsonl").read_text("utf-8")

    target = tmp_path / "新电台"
    code, out, err = run_on(None, "restore", backup, "--to", target)
    assert code == 0, err
    assert "hotline publish" in out
    assert not any(p.name.startswith(".") and "restoring" in p.name for p in tmp_path.iterdir())
    if published.settings.database.url:  # a server's: the restore made its own hotline.db
        restored = load_settings(target / "hotline.toml")
        assert restored.database.url == "" and (target / "hotline.db").is_file()
        restored.database.url = published.settings.database.url
        assert restored == load_settings(published.settings_path)
    else:  # byte for byte, comments too
        assert (target / "hotline.toml").read_bytes() == published.settings_path.read_bytes()
    assert (target / "audio/master/0002.mp3").read_bytes() == (
        published.master_dir / "0002.mp3"
    ).read_bytes()
    code, out, err = run_on(target, "publish", "--json")
    assert code == 0, err
    assert {f["status"] for f in json.loads(out)["feeds"]} == {"unchanged"}
    assert feeds_of(target) == before
    for relative in ("audio/0001.mp3", "transcripts/0003.vtt", "chapters/0002.json"):
        assert (target / "public" / relative).read_bytes() == (
            published.public_dir / relative
        ).read_bytes()
    code, out, _ = run_on(target, "search", "文字稿", "--json")
    assert code == 0 and json.loads(out)["total_matches"] == 1


def test_a_second_backup_copies_only_what_changed_and_verify_rereads_everything(
    published: Station, cli: Callable[..., Any], tmp_path: Path
) -> None:
    backup = tmp_path / "backup"
    first = cli("backup", backup, "--json").json()
    second = cli("backup", backup, "--json").json()
    assert second["copied"] == 0 and second["unchanged"] == first["copied"]
    assert second["bytes_written"] < first["bytes_written"] * 0.5
    (published.raw_dir / "0004-00000000.wav").write_bytes(b"RIFF" + b"\x04" * 7000)
    third = cli("backup", backup, "--json").json()
    assert third["copied"] == 1 and third["pruned"] == [first["snapshot"]]
    assert sorted(p.name for p in backup.iterdir() if not p.name.startswith(".")) == sorted(
        [second["snapshot"], third["snapshot"]]
    )
    r = cli("backup", "verify", backup)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.count(": ok") == 2

    damaged = backup / third["snapshot"] / "station/audio/raw/0004-00000000.wav"
    damaged.write_bytes(b"RIFF" + b"\x05" * 7000)  # same size, other content
    (backup / second["snapshot"] / "station/art/cover.png").unlink()
    r = cli("backup", "verify", backup)
    assert r.exit_code == 1
    assert f"{third['snapshot']}/station/audio/raw/0004-00000000.wav: content changed" in r.stderr
    assert f"{second['snapshot']}/station/art/cover.png: missing" in r.stderr
    code, _, err = run_on(None, "restore", backup, "--to", tmp_path / "new")
    assert code == 1
    assert "0004-00000000.wav: damaged" in err
    assert not (tmp_path / "new").exists()


def test_unchanged_transcripts_segments_are_linked_not_exported_again(
    published: Station, cli: Callable[..., Any], tmp_path: Path
) -> None:
    with published.session() as session:
        save_transcript(session=session, episode=1, segments=[Cue(0.0, 2.0, "第一期的文字稿")])
    backup = tmp_path / "backup"
    cli("backup", backup, "--json")
    second = cli("backup", backup, "--json").json()
    parts = sorted((backup / second["snapshot"] / "tables/segment").iterdir())
    assert len(parts) == 2 and all(p.stat().st_nlink == 2 for p in parts)
    with published.session() as session:
        save_transcript(session=session, episode=3, segments=[Cue(0.0, 2.0, "重新导入的文字稿")])
    third = cli("backup", backup, "--json").json()
    parts = sorted((backup / third["snapshot"] / "tables/segment").iterdir())
    assert sorted(p.stat().st_nlink for p in parts) == [1, 2]  # the new transcript's: 1
    assert cli("backup", "verify", backup).exit_code == 0
    code, _, err = run_on(None, "restore", backup, "--to", tmp_path / "again")
    assert code == 0, err
    code, out, _ = run_on(tmp_path / "again", "search", "重新导入", "--json")
    assert json.loads(out)["total_matches"] == 1
    code, out, _ = run_on(tmp_path / "again", "search", "第三期", "--json")
    assert json.loads(out)["total_matches"] == 0


def test_private_backups_are_readable_by_their_owner_only(
    published: Station, cli: Callable[..., Any], tmp_path: Path
) -> None:
    backup = tmp_path / "private"
    for _ in range(2):  # the second links the first's files, and must not widen them
        r = cli("backup", backup, "--include-private")
        assert r.exit_code == 0, r.stderr
        assert "contact details and call-back notes included" in r.stdout
    for path in [backup, *backup.rglob("*")]:  # the lock file too, though empty
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    *_, snapshot = sorted(p for p in backup.iterdir() if not p.name.startswith("."))
    assert CONTACT in (snapshot / "tables/member.jsonl").read_text("utf-8")
    target = tmp_path / "restored"
    code, _, err = run_on(None, "restore", backup, "--to", target)
    assert code == 0, err
    code, out, _ = run_on(target, "members", "list", "--json", "--include-private")
    assert CONTACT in out


KILLABLE = """
import sys, time
from pathlib import Path
from hotline.backup import station_backup
from hotline.station import open_station

real = station_backup.copy_hashing
def stuck(*args, **kwargs):
    result = real(*args, **kwargs)
    print("copied one", flush=True)
    time.sleep(60)  # killed here, half way through the snapshot
    return result
station_backup.copy_hashing = stuck
station_backup.backup_station(station=open_station(Path(sys.argv[1])), target=Path(sys.argv[2]))
"""


def test_an_interrupted_backup_never_looks_complete_and_the_next_run_cleans_it(
    published: Station, cli: Callable[..., Any], tmp_path: Path
) -> None:
    backup = tmp_path / "backup"
    first = cli("backup", backup, "--json").json()
    (published.master_dir / "0001.mp3").write_bytes(b"ID3" + b"\x01" * 6000)
    child = subprocess.Popen(
        [sys.executable, "-c", KILLABLE, str(published.root), str(backup)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == b"copied one\n"
    child.send_signal(signal.SIGKILL)
    child.wait()
    names = sorted(p.name for p in backup.iterdir())
    assert any(n.startswith(".partial-") for n in names)
    r = cli("backup", "verify", backup)
    assert r.exit_code == 0 and "unfinished" in r.stdout
    code, _, err = run_on(None, "restore", backup, "--to", tmp_path / "new")
    assert code == 0, err  # from the last complete backup
    assert (tmp_path / "new/audio/master/0001.mp3").read_bytes() != (
        published.master_dir / "0001.mp3"
    ).read_bytes()
    second = cli("backup", backup, "--json").json()
    assert second["copied"] == 1  # the changed master only
    assert not [p for p in backup.iterdir() if p.name.startswith(".partial-")]
    assert first["snapshot"] in {p.name for p in backup.iterdir()}


def test_refusals_name_what_is_wrong(
    published: Station, cli: Callable[..., Any], tmp_path: Path
) -> None:
    r = cli("backup", published.root / "art/backup")
    assert r.exit_code == 1 and "inside the station" in r.stderr
    assert cli("backup", tmp_path / "b").exit_code == 0
    code, _, err = run_on(published.root, "restore", tmp_path / "b")
    assert code == 1 and "--to DIR" in err
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "旧文件.txt").write_text("留着", encoding="utf-8")
    code, _, err = run_on(None, "restore", tmp_path / "b", "--to", busy)
    assert code == 1 and "not empty" in err
    assert [p.name for p in busy.iterdir()] == ["旧文件.txt"]
    r = cli("backup", "verify", tmp_path / "nothing-here")
    assert r.exit_code == 1 and "no complete backup" in r.stderr
    r = cli("backup", tmp_path / "b2", "--format", "xml")
    assert r.exit_code == 1 and "json or csv" in r.stderr


def test_the_backup_command_has_help(cli: Callable[..., Any]) -> None:
    for command in (("backup",), ("backup", "verify"), ("backup", "create"), ("restore",)):
        r = cli(*command, "--help")
        assert r.exit_code == 0 and r.stdout.strip(), command
    assert "DIR" in cli("backup", "--help").stdout
    said = " ".join(cli("restore", "--help").stdout.split())
    assert "restore an older one by naming it" in said
    assert "hotline restore 备份盘/<snapshot> --to DIR" in said


def test_modes_are_not_widened_for_plain_backups(
    published: Station, cli: Callable[..., Any], tmp_path: Path
) -> None:
    assert cli("backup", tmp_path / "plain").exit_code == 0
    [snapshot] = [p for p in (tmp_path / "plain").iterdir() if not p.name.startswith(".")]
    assert os.stat(snapshot / "tables/question.jsonl").st_mode & 0o002 == 0


def restoring_leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".restoring-" in p.name]


@pytest.mark.parametrize(
    "lost",
    [
        "tables/member.jsonl",
        "tables/manifest.json",
        "station/audio/raw/0002-abcdef12.wav",
        "station/hotline.toml",
        "station/public/feeds/apple.xml",
        "backup.json",
    ],
)
def test_a_snapshot_missing_a_file_is_refused_as_damaged_naming_the_older_one(
    published: Station, cli: Callable[..., Any], tmp_path: Path, lost: str
) -> None:
    backup = tmp_path / "备份盘"
    older = cli("backup", backup, "--json").json()["snapshot"]
    newest = cli("backup", backup, "--json").json()["snapshot"]
    (backup / newest / lost).unlink()  # a hard link: the older snapshot keeps its copy
    for source in (backup, backup / newest):
        code, out, err = run_on(None, "restore", source, "--to", tmp_path / "新电台")
        assert code == 1
        [line] = err.splitlines()
        assert line.startswith("hotline: error: ") and "damaged backup" in line, line
        assert f"hotline restore {backup / older} --to" in line
        assert not (tmp_path / "新电台").exists() and not restoring_leftovers(tmp_path)
    code, _, err = run_on(None, "restore", backup / older, "--to", tmp_path / "新电台")
    assert code == 0, err
    assert (tmp_path / "新电台/audio/raw/0002-abcdef12.wav").is_file()


@pytest.mark.parametrize("garbage", ['{"format": "hotline-backup", ', "\udc80", "[]"])
def test_a_snapshot_whose_manifest_is_garbage_is_refused_as_damaged_naming_the_older_one(
    published: Station, cli: Callable[..., Any], tmp_path: Path, garbage: str
) -> None:
    backup = tmp_path / "备份盘"
    older = cli("backup", backup, "--json").json()["snapshot"]
    newest = cli("backup", backup, "--json").json()["snapshot"]
    manifest = backup / newest / "backup.json"
    manifest.unlink()  # a new file, not written into one the older snapshot may share
    manifest.write_bytes(garbage.encode("utf-8", "surrogateescape"))
    code, _, err = run_on(None, "restore", backup, "--to", tmp_path / "新电台")
    assert code == 1
    [line] = err.splitlines()
    assert "backup.json" in line and f"hotline restore {backup / older} --to" in line, line
    assert not (tmp_path / "新电台").exists()
    r = cli("backup", "verify", backup)
    assert r.exit_code == 1 and f"{older}: " in r.stdout and "ok" in r.stdout


def test_verify_names_a_snapshot_that_lost_its_manifest(
    published: Station, cli: Callable[..., Any], tmp_path: Path
) -> None:
    backup = tmp_path / "备份盘"
    snapshot = cli("backup", backup, "--json").json()["snapshot"]
    (backup / snapshot / "backup.json").unlink()
    for folder in (backup, backup / snapshot):
        r = cli("backup", "verify", folder)
        assert r.exit_code == 1 and "has no backup.json" in r.stderr, r.stderr


def test_restore_from_where_there_is_no_backup_says_so(
    station: Station, cli: Callable[..., Any], tmp_path: Path
) -> None:
    empty = tmp_path / "空文件夹"
    empty.mkdir()
    (tmp_path / "说明.txt").write_text("不是备份", encoding="utf-8")
    for source, said in (
        (tmp_path / "不存在", "no such folder"),
        (empty, "holds no backup snapshot"),
        (tmp_path / "说明.txt", "is not a folder"),
    ):
        code, _, err = run_on(station.root, "restore", source, "--to", tmp_path / "新电台")
        assert code == 1
        [line] = err.splitlines()
        assert said in line and "table export:" not in line, line
        assert not (tmp_path / "新电台").exists()
    assert cli("members", "list", "--json").json() == []


STUCK_RESTORE = """
import sys, time
from pathlib import Path
from hotline.backup import station_restore

real = station_restore.copy_hashing
def stuck(*args, **kwargs):
    result = real(*args, **kwargs)
    print("copied one", flush=True)
    time.sleep(60)  # killed here, or left running while another restore starts
    return result
station_restore.copy_hashing = stuck
station_restore.restore_backup(source=Path(sys.argv[1]), target=Path(sys.argv[2]))
"""


def stuck_restore(backup: Path, target: Path) -> subprocess.Popen[bytes]:
    """A restore to ``target`` that has copied one file and waits there."""
    child = subprocess.Popen(
        [sys.executable, "-c", STUCK_RESTORE, str(backup), str(target)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == b"copied one\n"
    return child


def test_any_restore_removes_what_a_killed_one_left_but_not_one_still_at_work(
    published: Station, cli: Callable[..., Any], tmp_path: Path
) -> None:
    backup = tmp_path / "备份盘"
    assert cli("backup", backup).exit_code == 0
    stations = tmp_path / "电台们"
    killed = stuck_restore(backup, stations / "rst4")
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert restoring_leftovers(stations) == [f".rst4.restoring-{killed.pid}"]
    working = stuck_restore(backup, stations / "rst5")  # a restore too: it removes rst4's
    try:
        assert restoring_leftovers(stations) == [f".rst5.restoring-{working.pid}"]
        code, _, err = run_on(None, "restore", backup, "--to", stations / "另一个")
        assert code == 0, err
        assert restoring_leftovers(stations) == [f".rst5.restoring-{working.pid}"]
    finally:
        working.kill()
        working.wait()
    code, _, err = run_on(None, "restore", backup, "--to", stations / "第三个")
    assert code == 0, err
    assert restoring_leftovers(stations) == []
    assert sorted(p.name for p in stations.iterdir()) == ["另一个", "第三个"]


def test_an_export_removes_what_a_killed_export_left_whatever_its_name(
    station: Station, cli: Callable[..., Any], tmp_path: Path
) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    left = tmp_path / f".旧导出.partial-{gone.pid}"
    left.mkdir()
    (left / "member.jsonl").write_text("{}\\n", encoding="utf-8")
    assert cli("export", tmp_path / "导出").exit_code == 0
    assert not left.exists()


def test_a_station_without_transcripts_restores_from_its_backup(
    station: Station, cli: Callable[..., Any], tmp_path: Path
) -> None:
    r = cli("members", "add", "--name", "王委员", "--sector", "经济界")
    assert r.exit_code == 0, r.stderr
    assert cli("backup", tmp_path / "备份盘").exit_code == 0
    code, _, err = run_on(None, "restore", tmp_path / "备份盘", "--to", tmp_path / "新电台")
    assert code == 0, err
    code, out, _ = run_on(tmp_path / "新电台", "members", "list", "--json")
    assert [m["name"] for m in json.loads(out)] == ["王委员"]


def test_a_station_restored_onto_a_server_names_that_database_without_its_password(
    published: Station,
    cli: Callable[..., Any],
    tmp_path: Path,
    postgres_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pg_server
    import sqlalchemy as sa

    backup = tmp_path / "备份盘"
    assert cli("backup", backup).exit_code == 0
    url = pg_server.create_database(postgres_server, prefix="hotline_restored")
    try:
        # trust authentication: the password is taken and ignored, but must not be written
        with_password = sa.make_url(url).set(password="秘密口令").render_as_string(False)
        monkeypatch.setenv("HOTLINE_DATABASE_URL", with_password)
        code, out, err = run_on(None, "restore", backup, "--to", tmp_path / "rpg")
        monkeypatch.delenv("HOTLINE_DATABASE_URL")
        assert code == 0, err
        said = out
        written = (tmp_path / "rpg/hotline.toml").read_text(encoding="utf-8")
        assert "秘密口令" not in written and "%E7%A7%98" not in written
        restored = load_settings(tmp_path / "rpg/hotline.toml")
        assert sa.make_url(restored.database.url) == sa.make_url(url)
        assert restored.station.id == published.settings.station.id
        assert not (tmp_path / "rpg/hotline.db").exists()
        code, out, err = run_on(tmp_path / "rpg", "members", "list", "--json")
        assert code == 0, err
        assert json.loads(out) == cli("members", "list", "--json").json()
        assert "王委员" in {m["name"] for m in json.loads(out)}
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        row = db.station_row(engine)
        engine.dispose()
        assert row is not None and row.id == published.settings.station.id
        assert "its database: postgresql://postgres@/hotline_restored_" in said
    finally:
        pg_server.drop_database(url)


def test_a_server_stations_backup_restored_without_a_server_uses_its_own_database(
    pg_station: Station, tmp_path: Path
) -> None:
    member = ("members", "add", "--name", "王委员", "--sector", "经济界")
    code, _, err = run_on(pg_station.root, *member)
    assert code == 0, err
    backup = tmp_path / "备份盘"
    assert run_on(pg_station.root, "backup", backup)[0] == 0
    code, out, err = run_on(None, "restore", backup, "--to", tmp_path / "离线")
    assert code == 0, err
    said = out
    restored = load_settings(tmp_path / "离线/hotline.toml")
    assert restored.database.url == ""
    assert restored.station.id == pg_station.settings.station.id
    member = ("members", "add", "--name", "李委员", "--sector", "教育界")
    code, _, err = run_on(tmp_path / "离线", *member)
    assert code == 0, err
    code, out, _ = run_on(pg_station.root, "members", "list", "--json")
    assert [m["name"] for m in json.loads(out)] == ["王委员"]  # the server's station untouched
    code, out, _ = run_on(tmp_path / "离线", "members", "list", "--json")
    assert sorted(m["name"] for m in json.loads(out)) == ["李委员", "王委员"]
    assert "its database: its own hotline.db" in said


def test_counts_are_said_in_the_right_number(
    published: Station, cli: Callable[..., Any], tmp_path: Path
) -> None:
    backup = tmp_path / "备份盘"
    snapshot = backup / cli("backup", backup, "--json").json()["snapshot"]
    (snapshot / "station/art/cover.png").unlink()
    r = cli("backup", "verify", backup)
    assert r.exit_code == 1 and ": 1 problem\n" in r.stdout, r.stdout
    (snapshot / "station/audio/raw/0001-abcdef12.wav").unlink()
    r = cli("backup", "verify", backup)
    assert r.exit_code == 1 and ": 2 problems\n" in r.stdout, r.stdout
    r = cli("backup", backup, "--keep", "1")
    assert r.exit_code == 0 and f"removed 1 older backup: {snapshot.name}\n" in r.stdout
