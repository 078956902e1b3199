"""`hotline db grant`: producers, staff and workers as real PostgreSQL logins.

Each test grants a role, then logs in as that role (the test server trusts local logins,
so connecting as the role is a real login to it) and works through the real CLI and plain
SQL: what the role may not touch, the server itself refuses.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from alembic import command as alembic
from alembic.config import Config
from psycopg.errors import InsufficientPrivilege
from station_data import fill, hotline
from typer.testing import CliRunner

from hotline import db, roles
from hotline.cli import app
from hotline.station import Station

Login = Callable[[str], str]


@pytest.fixture
def login(pg_station: Station) -> Iterator[Login]:
    """Grants a new role (``--as`` the kind given) and returns the station URL logged in as it."""
    made: list[str] = []

    def grant(kind: str) -> str:
        role = f"热线_{kind}_{uuid.uuid4().hex[:6]}"
        code, out, err = hotline("-s", pg_station.root, "db", "grant", role, "--as", kind)
        assert code == 0, err
        assert f"created role {role} as {kind}" in out
        made.append(role)
        return sa.make_url(pg_station.url).set(username=role).render_as_string(False)

    yield grant
    engine = sa.create_engine(pg_station.url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        for role in made:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
    engine.dispose()


def as_role(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)


def refused(url: str, sql: str) -> bool:
    """Whether the server refuses ``sql`` to the role in ``url`` for lack of privilege."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(sql)
    except sa.exc.ProgrammingError as exc:
        assert isinstance(exc.orig, InsufficientPrivilege), exc
        return True
    finally:
        engine.dispose()
    return False


def test_staff_search_and_list_but_the_server_refuses_them_contacts(
    pg_station: Station, login: Login, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(pg_station, tmp_path)
    staff = login("staff")
    as_role(staff, monkeypatch)
    root = pg_station.root

    code, out, err = hotline("-s", root, "search", "养老")
    assert code == 0, err
    assert "第999期" in out and "【养老】" in out
    code, out, err = hotline("-s", root, "episodes", "list")
    assert code == 0, err
    assert "第998期" in out and "王建国" in out
    code, out, err = hotline("-s", root, "members", "list", "--json")
    assert code == 0, err
    assert "王建国" in out and "13812345678" not in out
    code, out, err = hotline("-s", root, "questions", "list")
    assert code == 0, err
    assert "小区电梯加装补贴" in out and "139" not in out

    for command in ("questions", "members", "departments"):
        code, out, err = hotline("-s", root, command, "list", "--include-private")
        assert code == 1 and "13900001111" not in out and "13812345678" not in out
        assert "contacts are not readable for the PostgreSQL role" in err
        assert "table" not in err  # not the first table the server happened to refuse

    assert refused(staff, "SELECT listener_contact FROM question")
    assert refused(staff, "SELECT contact FROM member")
    assert refused(staff, "SELECT * FROM question")
    assert not refused(staff, "SELECT text, topic, listener_name FROM question")
    assert refused(staff, "UPDATE episode SET title = '改' WHERE number = 998")
    assert not refused(staff, "SELECT * FROM job")
    assert refused(staff, "UPDATE job SET status = 'cancelled'")


def test_staff_exporting_or_backing_up_contacts_are_told_the_contacts_are_not_theirs(
    pg_station: Station, login: Login, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(pg_station, tmp_path)
    as_role(login("staff"), monkeypatch)
    for command in ("export", "backup"):
        target = tmp_path / f"{command}-含联系方式"
        code, out, err = hotline("-s", pg_station.root, command, target, "--include-private")
        assert code == 1 and len(err.strip().splitlines()) == 1, err
        assert "contacts are not readable for the PostgreSQL role" in err
        assert "table" not in err  # not the first table the server happened to refuse
        assert not target.exists()  # nothing made for a refused command


def test_staff_backing_up_or_exporting_the_station_are_told_the_history_is_not_theirs(
    pg_station: Station, login: Login, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(pg_station, tmp_path)
    staff = login("staff")
    as_role(staff, monkeypatch)
    role = sa.make_url(staff).username
    for command, doing in (("export", "export"), ("backup", "back up")):
        target = tmp_path / f"{command}-员工"
        code, _, err = hotline("-s", pg_station.root, command, target)
        assert code == 1 and len(err.strip().splitlines()) == 1, err
        assert f"the PostgreSQL role {role} may not read the station's history table" in err
        assert f"{doing} as the station's owner or a producer" in err
        assert not target.exists()  # nothing made for a refused command


def test_staff_cannot_copy_the_station_and_are_told_so_about_the_server(
    pg_station: Station, login: Login, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(pg_station, tmp_path)
    as_role(login("staff"), monkeypatch)
    offline = tmp_path / "x.db"
    code, _, err = hotline("-s", pg_station.root, "db", "copy", "--to", f"sqlite:///{offline}")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "may not read every row of the station's server postgresql://" in err
    assert str(offline) not in err and not offline.exists()


def follow_through(root) -> None:
    """As the owner: a department with a contact, question 1 referred there and called back
    with a note, a live show with a caller, a queued job."""
    for args in (
        ("departments", "add", "--name", "市民政局", "--contact", "021-66668888"),
        ("questions", "screen", "1"),
        ("questions", "refer", "1", "--to", "市民政局"),
        ("referrals", "reply", "1", "--text", "已安排专人上门核实"),
        ("questions", "callback", "1", "--outcome", "satisfied", "--note", "听众说新号13700002222"),
        ("live", "start", "--episode", "999", "--yes"),
        ("live", "add", "--episode", "999", "--summary", "老旧小区加装电梯", "--name", "李阿姨"),
    ):
        code, _, err = hotline("-s", root, *args)
        assert code == 0, (args, err)


def test_staff_read_follow_through_history_the_live_desk_and_jobs_without_private_values(
    pg_station: Station, login: Login, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(pg_station, tmp_path)
    root = pg_station.root
    follow_through(root)
    staff = login("staff")
    as_role(staff, monkeypatch)
    private = ("021-66668888", "6668888", "13700002222", "13900001111", "13812345678")

    for args, shown in (
        (("departments", "list"), "市民政局"),
        (("departments", "list", "--json"), "市民政局"),
        (("questions", "show", "1"), "call-back"),
        (("questions", "show", "1", "--json"), '"outcome": "satisfied"'),
        (("report", "departments"), "市民政局"),
        (("report", "sectors"), "教育界"),
        (("referrals", "list", "--all"), "市民政局"),
        (("members", "show", "王建国"), "王建国"),
        (("history", "question", "1"), "回访"),
        (("history", "question", "1", "--json"), "callback"),
        (("history", "department", "市民政局"), "市民政局"),
        (("live", "queue", "--episode", "999"), "李阿姨"),
        (("jobs", "list"), ""),
    ):
        code, out, err = hotline("-s", root, *args)
        assert code == 0, (args, err)
        assert shown in out, (args, out)
        assert not any(value in out for value in private), (args, out)
        assert "听众说" not in out, (args, out)  # the call-back's note

    # What the commands leave out, the server refuses to anyone logged in as staff.
    assert refused(staff, "SELECT note FROM callback")
    assert refused(staff, "SELECT contact FROM department")
    assert refused(staff, "SELECT changes FROM history")
    assert refused(staff, "INSERT INTO call (episode_id, summary) VALUES (1, '插队')")
    assert not refused(staff, "SELECT outcome, made_by, made_at FROM callback")
    assert not refused(staff, "SELECT * FROM call")
    engine = sa.create_engine(staff, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        seen = conn.exec_driver_sql("SELECT changes::text FROM history_shared").scalars().all()
    engine.dispose()
    assert any("satisfied" in text for text in seen)
    assert not any("听众说" in text or "13700002222" in text for text in seen)

    # The owner (and any producer) still reads the note, in the question and its history.
    monkeypatch.delenv("HOTLINE_DATABASE_URL")
    for args in (("questions", "show", "1"), ("history", "question", "1")):
        code, out, err = hotline("-s", root, *args)
        assert code == 0 and "听众说新号13700002222" in out, (args, err)


def test_workers_write_jobs_transcripts_and_audio_facts_only(
    pg_station: Station, login: Login, tmp_path
) -> None:
    fill(pg_station, tmp_path)
    with pg_station.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO job (kind, episode_id, status, progress, message, attempts, error, "
            "worker, created_at) SELECT 'master', id, 'queued', 0, '', 0, '', '', now() "
            "FROM episode WHERE number = 998"
        )
    worker = login("worker")

    assert not refused(worker, "UPDATE job SET status = 'running', progress = 0.5")
    assert not refused(
        worker, "UPDATE episode SET audio_path = 'audio/master/0998.mp3', audio_seconds = 3600"
    )
    assert not refused(worker, "DELETE FROM segment WHERE episode_id = 1")
    assert not refused(
        worker, "SELECT name FROM member UNION ALL SELECT text FROM question"
    )  # names for the prompt, questions for chapters
    assert refused(worker, "UPDATE episode SET title = '改'")
    assert refused(worker, "INSERT INTO question (text) VALUES ('x')")
    assert refused(worker, "SELECT listener_contact FROM question")
    assert refused(worker, "UPDATE booking SET status = 'cancelled'")


def test_producers_read_and_write_everything(
    pg_station: Station, login: Login, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(pg_station, tmp_path)
    as_role(login("producer"), monkeypatch)
    root = pg_station.root
    code, out, err = hotline("-s", root, "questions", "list", "--include-private", "--json")
    assert code == 0, err
    assert "13900001111" in out
    code, out, err = hotline("-s", root, "questions", "list")
    assert "139****1111" in out
    code, _, err = hotline(
        "-s", root, "episodes", "add", "--title", "新节目", "--air", "2031-06-07 11:00"
    )
    assert code == 0, err


def test_granting_again_as_another_kind_takes_the_old_rights_away(
    pg_station: Station, login: Login, tmp_path
) -> None:
    fill(pg_station, tmp_path)
    url = login("producer")
    role = sa.make_url(url).username
    assert not refused(url, "SELECT listener_contact FROM question")
    code, out, err = hotline("-s", pg_station.root, "db", "grant", role, "--as", "staff")
    assert code == 0, err
    assert f"updated role {role} as staff" in out
    assert refused(url, "SELECT listener_contact FROM question")
    assert refused(url, "INSERT INTO member (name, sector) VALUES ('x', 'y')")


def test_an_upgrade_gives_every_granted_role_its_rights_again(
    pg_station: Station, login: Login, tmp_path
) -> None:
    fill(pg_station, tmp_path)
    staff, worker, producer = login("staff"), login("worker"), login("producer")
    role = {url: sa.make_url(url).username for url in (staff, worker, producer)}
    # The station one schema back, and what a migration may do to rights: remake the
    # staff's view of the history, remake tables (their grants go with them).
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS_DIR))
    with pg_station.engine.begin() as connection:
        config.attributes["connection"] = connection
        alembic.downgrade(config, "-1")
        connection.exec_driver_sql("DROP VIEW history_shared")
        connection.exec_driver_sql(f'REVOKE ALL ON question FROM "{role[staff]}"')
        connection.exec_driver_sql(f'REVOKE ALL ON segment FROM "{role[worker]}"')
    assert refused(staff, "SELECT text FROM question")

    code, out, err = hotline("-s", pg_station.root, "db", "upgrade")
    assert code == 0, err
    assert "rights given again on the new schema:" in out
    for url, kind in ((staff, "staff"), (worker, "worker"), (producer, "producer")):
        assert f"{role[url]} ({kind})" in out
    assert not refused(staff, "SELECT text FROM question")
    assert not refused(staff, "SELECT entity, changes FROM history_shared")
    assert refused(staff, "SELECT listener_contact FROM question")
    assert refused(staff, "SELECT * FROM history")
    assert not refused(worker, "DELETE FROM segment WHERE episode_id = 1")
    assert refused(worker, "UPDATE episode SET title = '改'")
    assert not refused(producer, "SELECT listener_contact FROM question")

    # An upgrade with nothing to apply touches nobody's rights.
    code, out, err = hotline("-s", pg_station.root, "db", "upgrade")
    assert code == 0, err
    assert "up to date" in out and "rights" not in out


def test_every_table_has_a_decision_on_who_may_see_it() -> None:
    assert roles.unlisted_tables() == [], (
        "add these tables to hotline/roles.py POLICY (may staff read them? what may workers "
        "write?) and mark private columns with info=PRIVATE in hotline/models.py"
    )


def test_roles_on_an_embedded_station_are_refused_with_one_line(sqlite_station: Station) -> None:
    code, _, err = hotline("-s", sqlite_station.root, "db", "grant", "员工", "--as", "staff")
    assert code == 1 and "PostgreSQL" in err and "SQLite" in err
    code, _, err = hotline("-s", sqlite_station.root, "db", "grant", "员工", "--as", "boss")
    assert code == 1 and "producer, staff or worker" in err


def scram_matches(stored: str, password: str) -> bool:
    """Whether PostgreSQL's SCRAM-SHA-256 verifier ``stored`` was made from ``password``
    (RFC 5802: StoredKey = H(HMAC(PBKDF2(password, salt, i), "Client Key")))."""
    method, rest = stored.split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key = keys.split(":")[0]
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    expected = base64.b64encode(hashlib.sha256(client_key).digest()).decode()
    return method == "SCRAM-SHA-256" and expected == stored_key


def test_a_password_is_asked_for_and_set(pg_station: Station) -> None:
    role = f"热线_pw_{uuid.uuid4().hex[:6]}"
    secret = "口令'%s\\"  # quotes, a placeholder and a backslash reach the server as typed
    result = CliRunner().invoke(
        app,
        ["-s", str(pg_station.root), "db", "grant", role, "--as", "staff", "--password"],
        input=f"{secret}\n{secret}\n",
    )
    try:
        assert result.exit_code == 0, result.stderr
        assert secret not in result.stdout
        with pg_station.engine.connect() as conn:
            stored = conn.execute(
                sa.text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": role}
            ).scalar()
        assert stored is not None and scram_matches(stored, secret)
    finally:
        with pg_station.engine.begin() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')


@pytest.mark.parametrize("name", ['x"; drop table question; --', "1号员工", "张 老师", "员" * 22])
def test_a_role_name_that_is_not_a_plain_identifier_is_refused(
    pg_station: Station, name: str
) -> None:
    code, out, err = hotline("-s", pg_station.root, "db", "grant", name, "--as", "staff")
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and "letters, digits and _" in err
    with pg_station.engine.connect() as conn:
        made = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": name})
        assert made.first() is None
