"""No traceback reaches a user: failures of the database or the machine, through the real CLI.

Each case breaks something for real (a lock held past the timeout, a full tmpfs, a
read-only mount, a file this user may not open, a damaged database, a schema from the
future, a PostgreSQL server that is down, refuses us or lacks the database, a URL we
cannot use, a driver that is missing) and runs ``hotline`` in a subprocess. The user
must get one line naming what failed and what to do, exit status 1, the station as it
was, and the traceback in the log the line names.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import audio_fixtures as fx
import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from episodes.bookings import add_booking
from episodes.members import add_member
from episodes.questions import add_question
from episodes.schedule import add_episode
from hotline.config import save_settings
from hotline.models import Question
from hotline.station import Station, init_station

ROOT = Path(__file__).resolve().parents[2]
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2  # <linux/prctl.h>, capability.h
RUN_LIMIT = 300  # seconds; a guard against a hung command, not a timing assertion


def without_root_privileges() -> None:
    """In the child, before exec: root loses its power to ignore file permissions."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def hotline(
    *args: object, env: dict[str, str] | None = None, unprivileged: bool = False, prelude: str = ""
) -> subprocess.CompletedProcess[str]:
    """The real console script in a fresh interpreter (as root without its file-permission
    override when ``unprivileged``)."""
    code = (
        f"{prelude}\nimport sys\nfrom hotline.console import main\nsys.argv[0] = 'hotline'\nmain()"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=RUN_LIMIT,
        preexec_fn=without_root_privileges if unprivileged and os.geteuid() == 0 else None,
    )


def one_line(run: subprocess.CompletedProcess[str]) -> str:
    """The single error line of a failed run (and nothing else on stderr)."""
    assert "Traceback" not in run.stderr, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert run.returncode == 1, run.stderr
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("hotline: error: "), lines[0]
    return lines[0]


def logged_at(line: str) -> Path:
    """The log a failure line points at; it holds the traceback."""
    assert "(details in " in line, line
    path = Path(line.rsplit("(details in ", 1)[1].rstrip(")"))
    assert "Traceback (most recent call last)" in path.read_text(encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def user_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's own log folder (the fallback when the station cannot take the log)."""
    state = tmp_path / "state"
    state.mkdir(mode=0o777)
    state.chmod(0o777)  # another user may need to write its log here
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    return state


def seed(station: Station) -> None:
    with station.session() as session:
        add_episode(
            session=session, settings=station.settings, title="养老服务", air="2031-06-07 11:00"
        )
        add_member(session=session, name="王伟", sector="教育界")
        add_question(session=session, text="小区电梯加装补贴怎么申请？", channel="phone")
    station.engine.dispose()  # checkpoint: every row is in hotline.db itself, none in the WAL


def questions(station: Station) -> int:
    with station.session(write=False) as session:
        count = session.exec(select(func.count()).select_from(Question)).one()
    station.engine.dispose()
    return count


# ---------------------------------------------------------------- locks held too long


@contextlib.contextmanager
def lock_held(station: Station) -> Iterator[None]:
    """Another writer in the middle of a transaction: SQLite's write lock, or the episode
    row on PostgreSQL (what ``bookings add`` must lock first)."""
    if station.engine.dialect.name == "sqlite":
        holder = sqlite3.connect(station.root / "hotline.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = sa.create_engine(station.url)
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT id FROM episode WHERE number = 1 FOR UPDATE"))
        yield
        conn.rollback()
    engine.dispose()


@pytest.mark.both_databases
def test_a_lock_held_past_the_busy_timeout_is_one_line_and_changes_nothing(
    station: Station,
) -> None:
    seed(station)
    station.settings.database.busy_timeout_seconds = 0.5
    save_settings(station.settings, station.settings_path)
    with lock_held(station):
        run = hotline("--station", station.root, "bookings", "add", 1, "王伟")
        # A command that only reads never waits for the writer.
        listed = hotline("--station", station.root, "episodes", "list")
    line = one_line(run)
    assert "busy" in line and "run it again" in line and "0.5 s" in line
    assert logged_at(line) == station.root / "logs" / "hotline.log"
    assert listed.returncode == 0 and "养老服务" in listed.stdout
    after = hotline("--station", station.root, "bookings", "list", "--episode", 1)
    assert "王伟" not in after.stdout


# ---------------------------------------------------------------- a full disk


def mount_tmpfs(folder: Path, size: str) -> Callable[[], None] | None:
    folder.mkdir(parents=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        return None
    return lambda: subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> None:
    """Write to ``folder`` until its disk has no space left."""
    with (folder / "填满.bin").open("wb") as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 65536)
            out.flush()


# Which folder is the full disk, and the command run: the database itself, the folder an
# export writes to, the folder an ingest copies the recording into.
FULL_DISK_CASES = {
    "questions add": (
        ".",
        ("questions", "add", "--text", "医保异地结算怎么办理？", "--channel", "sms"),
    ),
    "episodes add": (".", ("episodes", "add", "--title", "暑期托管", "--air", "2031-06-14 11:00")),
    "export": ("../备份", ("export", "{disk}")),
    "ingest": ("audio/raw", ("ingest", "1", "{wav}")),
}


@pytest.mark.parametrize("case", FULL_DISK_CASES)
@pytest.mark.sqlite_only("a tmpfs under the station's hotline.db")
def test_a_full_disk_is_one_line(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.geteuid() != 0:
        pytest.skip("a full disk needs a small tmpfs, which only root can mount")
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    where, args = FULL_DISK_CASES[case]
    root = tmp_path / "station"
    disk = (root / where).resolve()
    if where == ".":  # the whole station, database included, lives on the small disk
        unmount = mount_tmpfs(disk, "4m")
        station, _ = init_station(root)
    else:
        station, _ = init_station(root)
        if disk.exists():
            disk.rmdir()
        unmount = mount_tmpfs(disk, "1m")
    if unmount is None:
        pytest.skip("this sandbox forbids mounting a tmpfs")
    try:
        seed(station)
        before = questions(station)
        wav = fx.tone(tmp_path / "第1期 直播.wav", 10.0)  # ~880 kB, on the roomy disk
        fill(disk)
        names = {"{disk}": str(disk / "导出"), "{wav}": str(wav)}
        line = one_line(hotline("--station", station.root, *[names.get(a, a) for a in args]))
        assert "is full" in line and "free some space" in line, line
        assert str(disk) in line  # names the disk that is full
        (disk / "填满.bin").unlink()
        assert questions(station) == before
        assert not list((station.root / "audio" / "raw").glob("*.wav"))
    finally:
        unmount()


# ---------------------------------------------------------------- read-only and not ours


@pytest.fixture
def read_only_view(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Station]:
    """The station seen through a read-only bind mount (root ignores chmod)."""
    if os.geteuid() != 0:
        pytest.skip("a read-only folder for root needs a read-only mount, which needs root")
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    station, _ = init_station(tmp_path / "station")
    seed(station)
    view = tmp_path / "只读"
    view.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(station.root), str(view)], check=False)
    if mounted.returncode != 0:
        pytest.skip("this sandbox forbids bind mounts")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], check=True)
        yield Station(root=view, settings=station.settings)
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)


@pytest.mark.parametrize(
    "args",
    [
        ("episodes", "list"),
        ("questions", "add", "--text", "公交线路调整", "--channel", "sms"),
    ],
    ids=["episodes list", "questions add"],
)
@pytest.mark.sqlite_only("the database file on a read-only mount")
def test_a_read_only_station_folder_is_one_line(
    read_only_view: Station, args: tuple[str, ...], user_state: Path
) -> None:
    line = one_line(hotline("--station", read_only_view.root, *args))
    assert "read-only" in line and "read-write" in line
    assert "hotline must write to the station" in line  # here the station is the one failing
    # The station cannot take the log, so it went to the user's own folder.
    assert logged_at(line).is_relative_to(user_state)


@pytest.mark.sqlite_only("the database file on a read-only mount")
def test_process_on_a_read_only_station_is_one_line_and_runs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user_state: Path
) -> None:
    """Jobs are queued but none can be taken: no job table, the read-only line."""
    if os.geteuid() != 0:
        pytest.skip("a read-only folder for root needs a read-only mount, which needs root")
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    station, _ = init_station(tmp_path / "station")
    seed(station)
    recording = fx.tone(tmp_path / "第1期 直播.wav", 10.0)
    ingested = hotline("--station", station.root, "ingest", 1, recording)
    assert ingested.returncode == 0, ingested.stderr
    view = tmp_path / "只读"
    view.mkdir()
    if subprocess.run(["mount", "--bind", str(station.root), str(view)], check=False).returncode:
        pytest.skip("this sandbox forbids bind mounts")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], check=True)
        run = hotline("--station", view, "process")
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)
    line = one_line(run)
    assert f"{view} is on a read-only disk or folder: hotline must write to the station" in line
    assert logged_at(line).is_relative_to(user_state)
    assert run.stdout == ""  # no table of jobs that were never taken
    listed = hotline("--station", station.root, "jobs", "list")
    assert listed.stdout.count("  queued  ") == 3, listed.stdout  # none was taken


# ---------------------------------------------------------------- the command's own target


# A command that writes outside the station: the folder it writes to is {target}. Backup
# and restore copy the station's recording, which does not fit on the small disk: the
# disk fills up in the middle of a copy. The other two write small files: their disk is
# full before they start.
TARGET_CASES = {
    "backup": ("backup", "{target}"),
    "restore --to": ("restore", "{backup}", "--to", "{target}"),
    "bookings ics --out": ("bookings", "ics", "1", "--out", "{target}"),
    "export": ("export", "{target}"),
}


FILLS_UP_WHILE_COPYING = ("backup", "restore --to")


@pytest.fixture
def roomy_station(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Station, Path]:
    """A station on the roomy disk, a guest booked on episode 1 and a 4.4 MB recording
    ingested, and a backup of it."""
    if os.geteuid() != 0:
        pytest.skip("a full or read-only target needs a tmpfs, which only root can mount")
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    station, _ = init_station(tmp_path / "station")
    seed(station)
    with station.session() as session:
        add_booking(session=session, settings=station.settings, episode=1, member="王伟")
    station.engine.dispose()
    recording = fx.tone(tmp_path / "第1期 直播.wav", 50.0)
    backup = tmp_path / "备份"
    for args in (("ingest", 1, recording), ("backup", backup)):
        done = hotline("--station", station.root, *args)
        assert done.returncode == 0, done.stderr
    return station, backup


def run_onto(station: Station, backup: Path, case: str, target: Path) -> str:
    """The line (without its log) of ``case`` writing to ``target``."""
    names = {"{target}": str(target), "{backup}": str(backup)}
    args = [names.get(a, a) for a in TARGET_CASES[case]]
    line = one_line(hotline("--station", station.root, *args))
    logged_at(line)
    return line.rsplit(" (details in ", 1)[0]


@pytest.mark.parametrize("case", TARGET_CASES)
@pytest.mark.sqlite_only("the station's files on the roomy disk")
def test_a_full_target_disk_is_named_not_the_station(
    case: str, roomy_station: tuple[Station, Path], tmp_path: Path
) -> None:
    station, backup = roomy_station
    disk = tmp_path / "小盘"
    unmount = mount_tmpfs(disk, "3m")
    if unmount is None:
        pytest.skip("this sandbox forbids mounting a tmpfs")
    try:
        if case not in FILLS_UP_WHILE_COPYING:
            fill(disk)
        line = run_onto(station, backup, case, disk / "目标")
    finally:
        unmount()
    assert "is full" in line and "free some space" in line, line
    assert f"the disk holding {disk}" in line, line  # the target's disk, not the station's
    assert str(station.root) not in line


@pytest.mark.sqlite_only("the station's files on the roomy disk")
def test_a_restore_whose_new_database_fills_the_disk_names_that_disk_not_the_station(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The snapshot's files fit; the database the restore makes there does not. SQLite's
    # error names no file: the line must name the restore's disk, not the station the
    # command was run from, whose disk has room.
    if os.geteuid() != 0:
        pytest.skip("a full target needs a tmpfs, which only root can mount")
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    station, _ = init_station(tmp_path / "station")
    seed(station)
    backup = tmp_path / "备份"
    done = hotline("--station", station.root, "backup", backup)
    assert done.returncode == 0, done.stderr
    disk = tmp_path / "小盘"
    unmount = mount_tmpfs(disk, "3m")
    if unmount is None:
        pytest.skip("this sandbox forbids mounting a tmpfs")
    try:
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        (disk / "填满.bin").write_bytes(b"\0" * (free - 64 * 1024))  # room for the small files
        line = run_onto(station, backup, "restore --to", disk / "目标")
        assert sorted(p.name for p in disk.iterdir()) == ["填满.bin"]  # no half station
    finally:
        unmount()
    assert "is full" in line and "free some space" in line, line
    assert f"the disk holding {disk}/" in line, line
    assert str(station.root) not in line


@pytest.mark.parametrize("case", TARGET_CASES)
@pytest.mark.sqlite_only("the station's files on the roomy disk")
def test_a_read_only_target_is_named_and_the_station_not_blamed(
    case: str, roomy_station: tuple[Station, Path], tmp_path: Path
) -> None:
    station, backup = roomy_station
    disk = tmp_path / "只读盘"
    unmount = mount_tmpfs(disk, "3m")
    if unmount is None:
        pytest.skip("this sandbox forbids mounting a tmpfs")
    try:
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        line = run_onto(station, backup, case, disk / "目标")
    finally:
        unmount()
    assert f"{disk}/" in line and "is on a read-only disk or folder" in line, line
    assert "mount it read-write, or choose a folder on a writable disk" in line
    assert "station" not in line  # the station is fine: it is not the one written to


@pytest.mark.sqlite_only("the station's files on the roomy disk")
def test_a_target_this_user_may_not_write_is_named_and_the_station_not_blamed(
    roomy_station: tuple[Station, Path], tmp_path: Path
) -> None:
    station, _ = roomy_station
    locked = tmp_path / "别人的文件夹"
    locked.mkdir(mode=0o555)
    locked.chmod(0o555)
    run = hotline("--station", station.root, "export", locked / "导出", unprivileged=True)
    line = one_line(run)
    assert f"permission denied on {locked}/" in line, line
    assert "give this user write access there" in line
    assert "station's owner" not in line


@pytest.mark.sqlite_only("the database file's permissions")
def test_a_database_this_user_may_not_open_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    station, _ = init_station(tmp_path / "station")
    seed(station)
    (station.root / "hotline.db").chmod(0)
    try:
        run = hotline("--station", station.root, "episodes", "list", unprivileged=True)
    finally:
        (station.root / "hotline.db").chmod(0o600)
    line = one_line(run)
    assert "permission denied" in line and "hotline.db" in line
    logged_at(line)


# ---------------------------------------------------------------- a damaged database


def damage_header(path: Path) -> None:
    with path.open("r+b") as f:
        f.write("这不是数据库".encode() * 10)


def truncate(path: Path) -> None:
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 3)


def scramble_pages(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = 4096
    noise = os.urandom(len(data))
    data[page:] = noise[page:]  # every page but the first (the header and the schema)
    path.write_bytes(bytes(data))


def empty(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize(
    "damage",
    [damage_header, truncate, scramble_pages, empty],
    ids=["header overwritten", "truncated", "random pages", "zero bytes"],
)
@pytest.mark.parametrize("args", [("episodes", "list"), ("db", "upgrade")], ids=" ".join)
@pytest.mark.sqlite_only("a damaged database file")
def test_a_damaged_database_says_restore_from_a_backup_and_is_left_alone(
    damage: Callable[[Path], None],
    args: tuple[str, ...],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    station, _ = init_station(tmp_path / "station")
    seed(station)
    path = station.root / "hotline.db"
    damage(path)
    before = path.read_bytes()
    line = one_line(hotline("--station", station.root, *args))
    assert "damaged" in line and "restore the station from a backup" in line
    assert "run `hotline db upgrade`" not in line  # that would build an empty station over it
    assert path.read_bytes() == before


# ---------------------------------------------------------------- schema and PostgreSQL


@pytest.mark.both_databases
def test_a_schema_newer_than_this_hotline_is_one_line(station: Station) -> None:
    with station.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0999'"))
    station.engine.dispose()
    for args in (("episodes", "list"), ("db", "upgrade")):
        line = one_line(hotline("--station", station.root, *args))
        assert "0999" in line and "newer than this hotline" in line


def pg_url(server: str, **changes: str) -> str:
    url = sa.make_url(server)
    return url.set(**changes).render_as_string(hide_password=False)  # type: ignore[arg-type]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A station folder (its own SQLite database unused: the URL points elsewhere)."""
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    station, _ = init_station(tmp_path / "station")
    return station.root


def test_a_postgresql_server_that_is_down_is_one_line(folder: Path, tmp_path: Path) -> None:
    url = f"postgresql://postgres@/hotline?host={tmp_path}&port=5999"  # nothing listens there
    line = one_line(
        hotline("--station", folder, "episodes", "list", env={"HOTLINE_DATABASE_URL": url})
    )
    assert "cannot reach the PostgreSQL server" in line and "running" in line
    logged_at(line)


def test_a_login_postgresql_refuses_is_one_line(folder: Path, postgres_server: str) -> None:
    url = pg_url(postgres_server, username="无此用户")
    line = one_line(
        hotline("--station", folder, "episodes", "list", env={"HOTLINE_DATABASE_URL": url})
    )
    assert "PostgreSQL refused the login of user '无此用户'" in line and "password" in line


def test_a_missing_postgresql_database_is_one_line(folder: Path, postgres_server: str) -> None:
    url = pg_url(postgres_server, database="hotline_nosuch")
    line = one_line(
        hotline("--station", folder, "episodes", "list", env={"HOTLINE_DATABASE_URL": url})
    )
    assert "no database 'hotline_nosuch'" in line and "createdb hotline_nosuch" in line


def test_an_unsupported_url_scheme_is_one_line(folder: Path) -> None:
    env = {"HOTLINE_DATABASE_URL": "mysql://hotline@db.example.cn/hotline"}
    line = one_line(hotline("--station", folder, "episodes", "list", env=env))
    assert "scheme 'mysql' is not supported" in line and "postgresql://" in line


def test_postgres_scheme_means_postgresql(pg_station: Station) -> None:
    url = pg_station.url.replace("postgresql+psycopg://", "postgres://", 1)
    with pg_station.session() as session:
        add_episode(
            session=session, settings=pg_station.settings, title="养老服务", air="2031-06-07 11:00"
        )
    run = hotline(
        "--station", pg_station.root, "episodes", "list", env={"HOTLINE_DATABASE_URL": url}
    )
    assert run.returncode == 0, run.stderr
    assert "养老服务" in run.stdout


def test_a_missing_postgresql_driver_is_one_line(folder: Path) -> None:
    env = {"HOTLINE_DATABASE_URL": "postgresql://postgres@/hotline?host=/tmp"}
    hide = "import sys; sys.modules['psycopg'] = None  # as if it were not installed"
    line = one_line(hotline("--station", folder, "episodes", "list", env=env, prelude=hide))
    assert "driver 'psycopg'" in line and "not installed" in line and "pip install" in line


def test_a_reader_that_stops_early_is_no_failure(station: Station) -> None:
    """`hotline … | head`: the reader closing the pipe is not an error to report."""
    with station.session() as session:
        # More than a pipe holds (64 kB), so the writer is still writing when head leaves.
        session.add_all(
            Question(channel="phone", text=f"第{n}个问题：小区电梯加装补贴怎么申请？")
            for n in range(1500)
        )
    code = "import sys\nfrom hotline.console import main\nsys.argv[0] = 'hotline'\nmain()"
    run = subprocess.run(
        f'{sys.executable} -c "{code}" --station {station.root} questions list | head -c 10',
        shell=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=RUN_LIMIT,
    )
    assert run.stdout.startswith("id ")
    assert run.stderr == ""
    assert not (station.root / "logs").exists()
