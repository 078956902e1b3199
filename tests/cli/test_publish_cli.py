"""``hotline publish`` and ``hotline feeds …`` through the real CLI."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from hotline.station import Station

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from feeds_fixtures import FIRST_AIR, add_episode, use_cover  # noqa: E402


@pytest.fixture
def ready(station: Station) -> Station:
    use_cover(station)
    with station.session() as session:
        add_episode(station, session, 1, title="第1期：养老保险 & 医保")
        add_episode(station, session, 2, air=FIRST_AIR + timedelta(days=365 * 30))
    return station


def test_publish_writes_every_platform_and_says_where(
    ready: Station, cli: Callable[..., Any]
) -> None:
    r = cli("publish")
    assert r.exit_code == 0, r.stderr
    for label in ("Apple Podcasts", "Spotify", "小宇宙", "喜马拉雅"):
        assert label in r.stdout
    assert "1 episodes listed" in r.stdout
    assert f"feed: {ready.public_dir / 'feeds/generic.xml'}" in r.stdout
    assert "episode 2 is released at 2053-12-29 12:00" in r.stdout
    root = etree.fromstring((ready.public_dir / "feeds/xiaoyuzhou.xml").read_bytes())
    assert root.xpath("//item/title/text()") == ["第1期：养老保险 & 医保"]
    again = cli("publish", "--json").json()
    assert {f["status"] for f in again["feeds"]} == {"unchanged"}
    assert again["ok"] is True and again["listed"] == 1 and again["newly_published"] == []
    assert again["waiting"][0]["episode"] == 2
    assert again["waiting"][0]["release_at"].endswith("+08:00")
    shown = cli("episodes", "show", "1", "--json").json()
    assert shown["status"] == "published" and shown["guid"]


def test_publish_with_another_base_url_and_refusing_http(
    ready: Station, cli: Callable[..., Any]
) -> None:
    r = cli("publish", "--base-url", "http://insecure.example.cn")
    assert r.exit_code == 1
    assert "must start with https://" in r.stderr
    assert not (ready.public_dir / "feeds/generic.xml").exists()
    r = cli("publish", "--base-url", "https://cdn.example.cn/radio", "--json")
    assert r.exit_code == 0
    assert r.json()["feeds"][0]["url"] == "https://cdn.example.cn/radio/feeds/generic.xml"


def test_a_failed_publish_exits_non_zero_listing_every_problem(
    ready: Station, cli: Callable[..., Any]
) -> None:
    use_cover(ready, size=500)  # too small for every platform
    r = cli("publish")
    assert r.exit_code == 1
    problems = [line for line in r.stderr.splitlines() if "500×500" in line]
    assert len(problems) == 5
    assert "nothing was published, every feed stays as it was" in r.stderr
    assert not (ready.public_dir / "feeds/apple.xml").exists()


def test_feeds_validate_and_list(ready: Station, cli: Callable[..., Any]) -> None:
    r = cli("feeds", "validate")
    assert r.exit_code == 1 and "not published yet" in r.stderr
    assert cli("publish").exit_code == 0
    r = cli("feeds", "validate", "--json")
    assert r.exit_code == 0 and r.json()["ok"] is True
    (ready.public_dir / "audio/0001.mp3").unlink()
    (ready.public_dir / "audio/0001.mp3").write_bytes(b"short")
    r = cli("feeds", "validate")
    assert r.exit_code == 1
    assert r.stderr.count("has 5 bytes") == 5
    listed = cli("feeds", "list", "--json").json()
    assert [f["platform"] for f in listed] == [
        "generic",
        "apple",
        "spotify",
        "xiaoyuzhou",
        "ximalaya",
    ]
    assert listed[0]["items"] == 1 and listed[0]["last_build"]
    assert "喜马拉雅" in cli("feeds", "list").stdout


def test_release_sets_and_clears_an_explicit_time(ready: Station, cli: Callable[..., Any]) -> None:
    r = cli("feeds", "release", "2", "--at", "2024-02-01 09:30")
    assert r.exit_code == 0 and "2024-02-01 09:30" in r.stdout
    assert cli("publish", "--json").json()["listed"] == 2
    assert cli("feeds", "release", "2", "--clear").exit_code == 0
    assert cli("feeds", "release", "99", "--at", "2024-02-01 09:30").exit_code == 1
    r = cli("feeds", "release", "2", "--at", "tomorrow")
    assert r.exit_code == 1 and "YYYY-MM-DD HH:MM" in r.stderr


def test_every_feeds_command_has_help(cli: Callable[..., Any]) -> None:
    for command in (("publish",), ("feeds", "validate"), ("feeds", "list"), ("feeds", "release")):
        r = cli(*command, "--help")
        assert r.exit_code == 0 and r.stdout.strip()
