"""`hotline init`, `hotline db …` and bare `hotline` through the real CLI."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from hotline.cli import app
from hotline.station import Station

runner = CliRunner()


def test_init_then_db_current(tmp_path: Path) -> None:
    target = tmp_path / "新台站"
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert "created station" in result.stdout
    again = runner.invoke(app, ["init", str(target)])
    assert "already a station" in again.stdout
    current = runner.invoke(app, ["--station", str(target), "db", "current", "--json"])
    assert current.exit_code == 0
    assert '"revision"' in current.stdout


def test_bare_hotline_prints_help() -> None:
    result = runner.invoke(app, [])
    assert result.exit_code == 0
    assert "Usage" in result.stdout


def test_a_folder_that_is_not_a_station_is_one_clear_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--station", str(tmp_path), "db", "current"])
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "not a station" in result.stderr


def test_a_newer_schema_is_refused_and_upgrade_does_not_touch_it(station: Station) -> None:
    with station.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'ffff'"))
    result = runner.invoke(app, ["--station", str(station.root), "db", "current"])
    assert result.exit_code == 1
    assert "newer than this hotline" in result.stderr
    upgrade = runner.invoke(app, ["--station", str(station.root), "db", "upgrade"])
    assert upgrade.exit_code == 1


def test_every_command_has_help_text() -> None:
    import typer
    from typer.main import get_command

    root = get_command(app)
    ctx = typer.Context(root)

    def walk(command, path):  # noqa: ANN001, ANN202
        yield path, command
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):
                yield from walk(command.get_command(ctx, name), [*path, name])

    seen = list(walk(root, []))
    assert len(seen) > 60
    for path, command in seen:
        assert (command.help or "").strip(), f"hotline {' '.join(path)} has no help"
