"""Station discovery, settings and init behave the way git users expect."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.config import Settings, dump_settings, load_settings
from hotline.errors import InvalidInput, StationNotFound
from hotline.station import find_station_root, init_station


def test_init_creates_settings_database_and_archive(tmp_path: Path) -> None:
    station, created = init_station(tmp_path / "台站")
    assert created
    for sub in ("audio/raw", "audio/master", "transcripts", "public/feeds"):
        assert (station.root / sub).is_dir()
    assert (station.root / "hotline.toml").is_file()
    assert (station.root / "hotline.db").is_file()


def test_init_on_an_existing_station_changes_nothing(tmp_path: Path) -> None:
    station, _ = init_station(tmp_path / "s")
    before = station.settings_path.read_bytes()
    again, created = init_station(tmp_path / "s")
    assert not created
    assert again.settings_path.read_bytes() == before


def test_station_is_found_from_a_subfolder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_STATION", raising=False)
    station, _ = init_station(tmp_path / "s")
    deep = station.root / "audio" / "raw"
    assert find_station_root(cwd=deep) == station.root


def test_environment_variable_wins_over_the_folder_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = init_station(tmp_path / "a")
    second, _ = init_station(tmp_path / "b")
    monkeypatch.setenv("HOTLINE_STATION", str(second.root))
    assert find_station_root(cwd=first.root) == second.root
    assert find_station_root(first.root, cwd=first.root) == first.root


def test_no_station_says_to_run_init(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_STATION", raising=False)
    with pytest.raises(StationNotFound, match="hotline init"):
        find_station_root(cwd=tmp_path)
    with pytest.raises(StationNotFound, match="not a station"):
        find_station_root(tmp_path)


def test_naming_the_folder_above_a_station_points_at_the_station_not_at_init(
    tmp_path: Path,
) -> None:
    # HOTLINE_STATION=/srv/hotline for a station in /srv/hotline/station: `hotline init
    # /srv/hotline` would start a second, empty station beside the real one.
    station, _ = init_station(tmp_path / "srv" / "热线台")
    with pytest.raises(StationNotFound) as caught:
        find_station_root(tmp_path / "srv")
    assert f"the station in it is {station.root}: pass that folder" in str(caught.value)
    assert "hotline init" not in str(caught.value)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "说明.txt").write_text("不是电台")
    with pytest.raises(StationNotFound, match="pass the station's folder"):
        find_station_root(tmp_path / "notes")
    with pytest.raises(StationNotFound, match="to start a new one there: `hotline init"):
        find_station_root(tmp_path / "新台")


def test_settings_round_trip_through_toml(tmp_path: Path) -> None:
    settings = Settings()
    settings.show.hosts = ["李明", 'He said "hi"']
    settings.schedule.blackout = ["2024-02-10"]
    path = tmp_path / "hotline.toml"
    path.write_text(dump_settings(settings), encoding="utf-8")
    assert load_settings(path) == settings


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[schedule]\nweekday = 'funday'\n", "weekday"),
        ("[schedule]\nblackout = ['2024-13-01']\n", "blackout"),
        ("[show]\nnmae = 'x'\n", "unknown setting 'nmae'"),
        ("[bookings]\nguest_limit = 'three'\n", "guest_limit"),
        ("[show\n", "not valid TOML"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "hotline.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(InvalidInput, match=message):
        load_settings(path)
