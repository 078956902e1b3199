"""A refused ingest leaves nothing behind; an archived file is recognised before any copy.

What was seen: ``hotline ingest 1201 x.mp3 --use-tags`` with an over-long title tag was
refused but left ``audio/raw/1201-….mp3`` behind, and re-ingesting an archived file
copied it in full before noticing. The copy tests put the station on a nearly full tmpfs
(root only), where a copy cannot hide: re-ingesting the archived file must succeed with
no room for a second copy, and a new file that does not fit must leave nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import audio_fixtures as fx
import pytest
from process_fixtures import hotline_run, small_disk
from sqlmodel import select

from hotline.models import Episode, Job
from hotline.station import Station, init_station

Cli = Callable[..., "object"]


@pytest.fixture
def episode(cli: Cli) -> int:
    r = cli("episodes", "add", "--number", 1201, "--title", "老旧小区加装电梯")
    assert r.exit_code == 0, r.stderr  # type: ignore[attr-defined]
    return 1201


def snapshot(station: Station) -> tuple[tuple[object, ...], list[str], list[str]]:
    """(the episode's fields, the jobs, every file under audio/ including temp files)."""
    with station.session() as session:
        ep = session.exec(select(Episode).where(Episode.number == 1201)).one()
        fields = (ep.title, ep.description, ep.status, ep.raw_path, ep.raw_sha256, ep.updated_at)
        jobs = [f"{j.id} {j.kind} {j.status}" for j in session.exec(select(Job)).all()]
    audio = station.root / "audio"
    files = sorted(p.relative_to(audio).as_posix() for p in audio.rglob("*") if p.is_file())
    return fields, jobs, files


def tagged_mp3(path: Path, *, title: str = "", description: str = "") -> Path:
    from mutagen.id3 import COMM, ID3, TIT2

    fx.recording(path, 6.0, seed=11)
    tags = ID3()
    if title:
        tags.add(TIT2(encoding=3, text=title))
    if description:
        tags.add(COMM(encoding=3, lang="chi", desc="", text=description))
    tags.save(path)
    return path


@pytest.mark.parametrize(
    ("tags", "reason"),
    [
        ({"title": "加装电梯" * 60}, "title tag is 240 characters long; the limit is 200"),
        (
            {"description": "补贴" * 2001},
            "description tag is 4002 characters long; the limit is 4000",
        ),
    ],
    ids=["title", "description"],
)
def test_a_tag_refused_with_use_tags_leaves_nothing_behind(
    cli: Cli, station: Station, episode: int, tmp_path: Path, tags: dict[str, str], reason: str
) -> None:
    source = tagged_mp3(tmp_path / "第1201期.mp3", **tags)
    before = snapshot(station)
    r = cli("ingest", episode, source, "--use-tags")
    assert r.exit_code == 1  # type: ignore[attr-defined]
    assert snapshot(station) == before
    assert before[2] == []  # not a raw file, not a temp file
    assert r.stderr == f"hotline: error: {source}: {reason}\n"  # type: ignore[attr-defined]

    r = cli("ingest", episode, source)  # without --use-tags the tags are only reported
    assert r.exit_code == 0, r.stderr  # type: ignore[attr-defined]


@pytest.fixture
def full_station(tmp_path: Path) -> Iterator[tuple[Station, Path, Path]]:
    """A station on a 16 MB tmpfs holding one ingested 30 s recording, with ~0.5 MB free.

    Yields (station, the archived source file, the filler that takes the space).
    """
    with small_disk(tmp_path / "disk", "16m") as disk:
        station, _ = init_station(disk / "station")
        source = fx.recording(tmp_path / "第1201期 录音.wav", 30.0)  # 2.6 MB
        for args in (
            ("episodes", "add", "--number", "1201", "--title", "老旧小区加装电梯"),
            ("ingest", "1201", str(source)),
        ):
            done = hotline_run(station.root, *args, env={"HOTLINE_DATABASE_URL": ""})
            assert done.returncode == 0, done.stderr
        filler = disk / "filler"
        with filler.open("wb") as handle:
            handle.write(bytes(shutil.disk_usage(disk).free - 512 * 1024))
        assert shutil.disk_usage(disk).free < source.stat().st_size  # no room for a copy
        yield station, source, filler


def test_an_archived_file_is_recognised_without_copying_it(
    full_station: tuple[Station, Path, Path],
) -> None:
    station, source, _ = full_station
    before = snapshot(station)
    again = hotline_run(station.root, "ingest", "1201", str(source), "--json")
    assert again.returncode == 0, again.stderr
    result = again.stdout
    assert '"copied": false' in result
    fields, jobs, files = snapshot(station)
    assert (jobs, files) == (before[1], before[2])  # the one raw file, no temp file
    assert fields[3:5] == before[0][3:5]  # the same raw file and hash


def test_a_new_file_that_does_not_fit_leaves_nothing_behind(
    full_station: tuple[Station, Path, Path], tmp_path: Path
) -> None:
    station, _, _ = full_station
    before = snapshot(station)
    other = fx.recording(tmp_path / "第1201期 重录.wav", 30.0, seed=4)
    refused = hotline_run(station.root, "ingest", "1201", str(other))
    assert refused.returncode == 1
    assert snapshot(station) == before
    (line,) = refused.stderr.splitlines()
    assert line.startswith(f"hotline: error: the disk holding {station.raw_dir}/.incoming-")
    assert "is full: free some space there" in line
