"""``hotline publish`` and ``hotline feeds …`` through the real CLI."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from hotline.config import load_settings, save_settings
from hotline.station import Station

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from feeds_fixtures import FIRST_AIR, add_episode, use_cover  # noqa: E402

NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd"}


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
    assert "1 episode listed" in r.stdout
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


def test_a_problem_every_feed_has_is_said_once_and_no_feed_is_pointed_at(
    station: Station, cli: Callable[..., Any]
) -> None:
    with station.session() as session:
        add_episode(station, session, 1, title="第1期：没有封面")
    r = cli("publish")  # a new station: no show.cover yet
    assert r.exit_code == 1
    errors = r.stderr.splitlines()
    assert "hotline: error: every feed: no cover art: set show.cover in hotline.toml" in errors
    assert len([e for e in errors if "no cover art" in e]) == 1
    assert "feed: " not in r.stdout
    assert not (station.public_dir / "feeds/generic.xml").exists()


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


def test_a_publish_that_would_empty_the_feeds_is_refused_saying_why(
    station: Station, cli: Callable[..., Any]
) -> None:
    use_cover(station)
    with station.session() as session:
        for number in range(1, 11):
            add_episode(station, session, number)
    assert cli("publish").exit_code == 0
    (station.master_dir / "0003.mp3").unlink()
    assert cli("publish").exit_code == 0  # one of ten: within feeds.max_drop_percent (10)
    for number in (4, 5):
        (station.master_dir / f"{number:04d}.mp3").unlink()
    shown = (station.public_dir / "feeds/generic.xml").read_bytes()
    r = cli("publish")
    assert r.exit_code == 1
    assert "would remove 2 of the 9 items published now (22 %" in r.stderr
    assert "2 whose master file is missing (episodes 4, 5)" in r.stderr
    assert "--allow-drop" in r.stderr
    assert (station.public_dir / "feeds/generic.xml").read_bytes() == shown
    r = cli("publish", "--allow-drop", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["dropped"] == 2 and r.json()["listed"] == 7
    root = etree.fromstring((station.public_dir / "feeds/generic.xml").read_bytes())
    assert len(root.xpath("//item")) == 7
    assert not (station.public_dir / "audio/0004.mp3").exists()


def test_a_master_damaged_through_public_is_not_published_as_it_is(
    station: Station, cli: Callable[..., Any]
) -> None:
    use_cover(station)
    with station.session() as session:
        for number in range(1, 11):
            add_episode(station, session, number, title=f"第{number}期：老旧小区加装电梯")
    assert cli("publish").exit_code == 0
    # The served copy is the master itself (a hard link): a web server or a sync tool
    # writing into public/ truncates the station's master too.
    with (station.public_dir / "audio/0003.mp3").open("r+b") as served:
        served.truncate(1000)
    r = cli("publish")
    assert r.exit_code == 0, r.stderr
    assert (
        "not listed: episode 3: master audio/master/0003.mp3 is 1000 bytes, not the 4096 "
        "its mastering recorded (damaged or replaced on disk)"
    ) in r.stdout
    feed = (station.public_dir / "feeds/generic.xml").read_bytes()
    assert "第3期：老旧小区加装电梯".encode() not in feed and b'length="1000"' not in feed
    assert not (station.public_dir / "audio/0003.mp3").exists()
    assert cli("feeds", "validate").exit_code == 0
    for number in (4, 5):
        with (station.master_dir / f"{number:04d}.mp3").open("ab") as master:
            master.write(b"\0" * 10)
    r = cli("publish")
    assert r.exit_code == 1
    assert "2 whose master file is damaged (episodes 4, 5)" in r.stderr
    assert (station.public_dir / "feeds/generic.xml").read_bytes() == feed


def test_a_new_base_url_makes_every_feed_point_subscribers_to_it(
    ready: Station, cli: Callable[..., Any]
) -> None:
    assert cli("publish").exit_code == 0
    root = etree.fromstring((ready.public_dir / "feeds/apple.xml").read_bytes())
    assert root.xpath("//itunes:new-feed-url", namespaces=NS) == []
    ready.settings.feeds.base_url = "https://radio.example.org/hotline"
    save_settings(ready.settings, ready.settings_path)
    r = cli("publish")
    assert r.exit_code == 0, r.stderr
    for name in ("generic", "apple", "spotify", "xiaoyuzhou", "ximalaya"):
        root = etree.fromstring((ready.public_dir / f"feeds/{name}.xml").read_bytes())
        new = f"https://radio.example.org/hotline/feeds/{name}.xml"
        assert root.xpath("string(//itunes:new-feed-url)", namespaces=NS) == new
    assert load_settings(ready.settings_path).feeds.moved_from == ["https://hotline.example.cn"]
    again = cli("publish", "--json").json()  # kept while the old address may still be asked
    assert {f["status"] for f in again["feeds"]} == {"unchanged"}


def test_the_address_served_now_is_never_one_the_feeds_moved_from(
    ready: Station, cli: Callable[..., Any]
) -> None:
    assert cli("publish").exit_code == 0
    home = "https://hotline.example.cn"
    assert cli("publish", "--base-url", "https://电台.中国/热线").exit_code == 0
    assert load_settings(ready.settings_path).feeds.moved_from == [home]
    r = cli("publish")  # back at feeds.base_url
    assert r.exit_code == 0, r.stderr
    moved_from = load_settings(ready.settings_path).feeds.moved_from
    assert moved_from == ["https://xn--kpr178e.xn--fiqs8s/%E7%83%AD%E7%BA%BF"]
    root = etree.fromstring((ready.public_dir / "feeds/apple.xml").read_bytes())
    assert root.xpath("string(//itunes:new-feed-url)", namespaces=NS) == f"{home}/feeds/apple.xml"
    settings = load_settings(ready.settings_path)
    settings.feeds.moved_from = [home]  # cleared by hand, but for the address served now
    save_settings(settings, ready.settings_path)
    assert cli("publish").exit_code == 0
    assert load_settings(ready.settings_path).feeds.moved_from == []
    root = etree.fromstring((ready.public_dir / "feeds/apple.xml").read_bytes())
    assert root.xpath("//itunes:new-feed-url", namespaces=NS) == []


def test_a_damaged_transcript_file_falls_back_to_the_next_one(
    ready: Station, cli: Callable[..., Any]
) -> None:
    assert cli("publish").exit_code == 0
    shown = (ready.public_dir / "transcripts/0001.srt").read_text(encoding="utf-8")
    (ready.transcripts_dir / "0001.json").write_text('{"segments": [坏', encoding="utf-8")
    r = cli("publish")
    assert r.exit_code == 0, r.stderr
    assert "note: episode 1: transcript published from 0001.srt (" in r.stdout
    assert "0001.json" in r.stdout
    assert (ready.public_dir / "transcripts/0001.srt").read_text(encoding="utf-8") == shown
    assert "委员：谢谢大家。" in (ready.public_dir / "transcripts/0001.vtt").read_text("utf-8")
    feed = (ready.public_dir / "feeds/generic.xml").read_text(encoding="utf-8")
    assert "transcripts/0001.vtt" in feed
    for ext in ("srt", "vtt"):  # nothing readable left: out without it, and said
        (ready.transcripts_dir / f"0001.{ext}").write_text("坏了", encoding="utf-8")
    r = cli("publish")
    assert r.exit_code == 0, r.stderr
    assert "note: episode 1: published without its transcript (" in r.stdout
    assert "transcripts/0001" not in (ready.public_dir / "feeds/generic.xml").read_text("utf-8")
