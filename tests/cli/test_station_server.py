"""One station, many desks: hotline.toml names the database, the database knows its station.

Through the real CLI against a real PostgreSQL server: a station made on an empty
database, a second folder attached to it, and every way a folder can point at the wrong
database (another station's, a server that is down, a password in the file) refused
with one line and nothing changed; stations from before ids keep working on SQLite.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import pg_server
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from hotline.cli import app

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    """``hotline ARGS…`` through typer's runner, from ``tmp_path``, without a database URL
    in the environment unless given."""
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    monkeypatch.delenv("HOTLINE_STATION", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    def invoke(*args: object, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        result = CliRunner().invoke(app, [str(a) for a in args], env=env)
        return result.exit_code, result.stdout, result.stderr

    return invoke


@pytest.fixture
def empty_database(postgres_server: str, request: pytest.FixtureRequest) -> Callable[[], str]:
    """Makes a new, empty PostgreSQL database (dropped after the test); returns its URL."""

    def make() -> str:
        url = pg_server.create_database(postgres_server)
        request.addfinalizer(lambda: pg_server.drop_database(url))
        return url.replace("postgresql+psycopg://", "postgresql://", 1)

    return make


def one_error(code: int, stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 1, stderr
    assert len(lines) == 1 and lines[0].startswith("hotline: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def toml(folder: Path) -> dict:
    return tomllib.loads((folder / "hotline.toml").read_text(encoding="utf-8"))


def test_init_on_an_empty_database_names_it_in_the_folder(
    run: Run, empty_database: Callable[[], str], tmp_path: Path
) -> None:
    url = empty_database()
    code, out, err = run("init", "台站", "--database", url)
    assert code == 0, err
    settings = toml(tmp_path / "台站")
    station_id = settings["station"]["id"]
    assert station_id in out
    assert settings["database"]["url"] == url
    assert not (tmp_path / "台站" / "hotline.db").exists()

    # No HOTLINE_DATABASE_URL: the folder alone leads to the server.
    code, _, err = run(
        "-s", "台站", "episodes", "add", "--title", "养老服务", "--air", "2031-06-07 11:00"
    )
    assert code == 0, err
    code, out, _ = run("-s", "台站", "db", "current", "--json")
    assert f'"station": "{station_id}"' in out
    code, out, _ = run("-s", "台站", "episodes", "list")
    assert "养老服务" in out
    assert not (tmp_path / "台站" / "hotline.db").exists()


def test_a_second_folder_attaches_only_when_asked_and_takes_the_stations_settings(
    run: Run, empty_database: Callable[[], str], tmp_path: Path
) -> None:
    url = empty_database()
    assert run("init", "制作台", "--database", url)[0] == 0
    first = tmp_path / "制作台"
    text = (first / "hotline.toml").read_text(encoding="utf-8")
    (first / "hotline.toml").write_text(
        text.replace('name = "政协热线"', 'name = "城市热线"').replace(
            "guest_limit = 3", "guest_limit = 5"
        ),
        encoding="utf-8",
    )
    code, _, err = run("-s", first, "db", "push-settings")
    assert code == 0, err
    run("-s", first, "episodes", "add", "--title", "老旧小区改造", "--air", "2031-06-07 11:00")

    line = one_error(*run("init", "编辑台", "--database", url)[::2])
    assert "not empty" in line and "--attach" in line
    assert not (tmp_path / "编辑台").exists()

    code, out, err = run("init", "编辑台", "--database", url, "--attach")
    assert code == 0, err
    second = toml(tmp_path / "编辑台")
    assert second["station"]["id"] == toml(first)["station"]["id"]
    assert second["show"]["name"] == "城市热线"
    assert second["bookings"]["guest_limit"] == 5
    assert second["database"]["url"] == url
    code, out, _ = run("-s", "编辑台", "episodes", "list")
    assert "老旧小区改造" in out


def test_attach_needs_a_database_that_holds_a_station(
    run: Run, empty_database: Callable[[], str], tmp_path: Path
) -> None:
    line = one_error(*run("init", "编辑台", "--database", empty_database(), "--attach")[::2])
    assert "holds no station" in line
    assert not (tmp_path / "编辑台").exists()


def test_a_folder_pointing_at_another_stations_database_is_refused(
    run: Run, empty_database: Callable[[], str], tmp_path: Path
) -> None:
    ours, theirs = empty_database(), empty_database()
    run("init", "本台", "--database", ours)
    run("init", "他台", "--database", theirs)
    line = one_error(
        *run(
            "-s",
            "本台",
            "episodes",
            "add",
            "--title",
            "误入",
            "--air",
            "2031-06-07 11:00",
            env={"HOTLINE_DATABASE_URL": theirs},
        )[::2]
    )
    assert toml(tmp_path / "本台")["station"]["id"] in line
    assert toml(tmp_path / "他台")["station"]["id"] in line
    assert "holds station" in line
    code, out, _ = run("-s", "他台", "episodes", "list", "--json")
    assert out.strip() == "[]"


def test_a_server_that_cannot_be_reached_is_refused_never_replaced_by_sqlite(
    run: Run, empty_database: Callable[[], str], tmp_path: Path
) -> None:
    url = empty_database()
    run("init", "台站", "--database", url)
    folder = tmp_path / "台站"
    port = pg_server.free_port()
    down = sa.make_url(url).update_query_dict({"port": str(port)})
    settings = (folder / "hotline.toml").read_text(encoding="utf-8")
    (folder / "hotline.toml").write_text(
        settings.replace(url, down.render_as_string(hide_password=False)), encoding="utf-8"
    )
    for args in (("episodes", "list"), ("db", "upgrade")):
        line = one_error(*run("-s", folder, *args)[::2])
        assert "cannot reach the PostgreSQL server" in line and "hotline.toml" in line
    assert not (folder / "hotline.db").exists()
    # HOTLINE_DATABASE_URL overrides the file: the same folder works through it.
    code, _, err = run("-s", folder, "episodes", "list", env={"HOTLINE_DATABASE_URL": url})
    assert code == 0, err


def test_a_password_is_never_kept_in_the_file(
    run: Run, empty_database: Callable[[], str], tmp_path: Path
) -> None:
    url = empty_database()
    with_password = url.replace("postgresql://postgres@", "postgresql://postgres:秘密口令@", 1)
    code, out, err = run("init", "台站", "--database", with_password)
    assert code == 0, err
    assert "password was not written" in out
    text = (tmp_path / "台站" / "hotline.toml").read_text(encoding="utf-8")
    assert "秘密口令" not in text
    assert toml(tmp_path / "台站")["database"]["url"] == url

    (tmp_path / "台站" / "hotline.toml").write_text(
        text.replace(url, with_password), encoding="utf-8"
    )
    line = one_error(*run("-s", "台站", "episodes", "list")[::2])
    assert "holds a password" in line and "PGPASSWORD" in line and "秘密口令" not in line


def test_a_station_from_before_ids_keeps_working_and_upgrade_gives_it_one(
    run: Run, tmp_path: Path
) -> None:
    assert run("init", "老台")[0] == 0
    folder = tmp_path / "老台"
    engine = sa.create_engine(f"sqlite:///{folder / 'hotline.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM station"))
    engine.dispose()
    text = (folder / "hotline.toml").read_text(encoding="utf-8")
    start = text.index("[station]")
    (folder / "hotline.toml").write_text(
        text[:start] + text[text.index("[show]") :], encoding="utf-8"
    )
    assert "station" not in toml(folder)

    code, _, err = run(
        "-s", folder, "episodes", "add", "--title", "老节目", "--air", "2031-06-07 11:00"
    )
    assert code == 0, err
    code, out, err = run("-s", folder, "db", "upgrade")
    assert code == 0, err
    station_id = toml(folder)["station"]["id"]
    assert station_id in out
    code, out, _ = run("-s", folder, "db", "current", "--json")
    assert f'"station": "{station_id}"' in out
    assert "老节目" in run("-s", folder, "episodes", "list")[1]


def test_upgrade_never_starts_an_empty_database_for_a_station_that_has_one(
    run: Run, tmp_path: Path
) -> None:
    run("init", "台站")
    folder = tmp_path / "台站"
    (folder / "hotline.db").unlink()
    line = one_error(*run("-s", folder, "db", "upgrade")[::2])
    assert "missing" in line and "backup" in line
    assert not (folder / "hotline.db").exists()
