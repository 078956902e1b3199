"""``hotline episodes withdraw|reinstate`` and ``hotline publish --dry-run`` through the real CLI.

The round trip is read the way a podcast app reads it: every platform's feed parsed with
feedparser after each step, the item's guid compared before and after.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import feedparser
import pytest

from episodes.lookup import get_episode
from hotline.models import Episode, EpisodeStatus
from hotline.station import Station

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from feeds_fixtures import FIRST_AIR, add_episode, use_cover  # noqa: E402

PROFILES = ("generic", "apple", "spotify", "xiaoyuzhou", "ximalaya")
FILES_OF_2 = (
    "audio/0002.mp3",
    "chapters/0002.json",
    "transcripts/0002.json",
    "transcripts/0002.srt",
    "transcripts/0002.vtt",
)


@pytest.fixture
def published(station: Station, cli: Callable[..., Any]) -> Station:
    """Three episodes in every feed."""
    use_cover(station)
    with station.session() as session:
        for number in (1, 2, 3):
            add_episode(station, session, number, title=f"第{number}期：医保异地结算")
    r = cli("publish")
    assert r.exit_code == 0, r.stderr
    return station


def items(station: Station, profile: str) -> dict[str, str]:
    """guid → title of every item of one platform's feed, as feedparser reads it."""
    parsed = feedparser.parse((station.public_dir / f"feeds/{profile}.xml").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return {entry.id: entry.title for entry in parsed.entries}


def snapshot(station: Station) -> dict[str, Any]:
    """Every byte of the public tree shown now and of the database, and where public points."""
    shown = station.public_dir.resolve()
    tree = {
        str(p.relative_to(shown)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(shown.rglob("*"))
        if p.is_file()
    }
    with sqlite3.connect(station.root / "hotline.db") as db:
        dump = "\n".join(db.iterdump())
    return {
        "public": os.readlink(station.public_dir) if station.public_dir.is_symlink() else None,
        "generations": sorted(p.name for p in (station.root / ".public").iterdir()),
        "tree": tree,
        "database": hashlib.sha256(dump.encode()).hexdigest(),
    }


@pytest.mark.both_databases
def test_withdraw_then_reinstate_round_trip_keeps_the_guid(
    published: Station, cli: Callable[..., Any]
) -> None:
    before = {profile: items(published, profile) for profile in PROFILES}
    guid = next(g for g, title in before["apple"].items() if title == "第2期：医保异地结算")

    r = cli("episodes", "withdraw", "2", "--reason", "嘉宾口误，数据待核实", "--yes")
    assert r.exit_code == 0, r.stderr
    assert "withdrew episode 2 第2期：医保异地结算 from 5 feeds" in r.stdout
    assert "小宇宙" in r.stdout and "喜马拉雅" in r.stdout
    for name in FILES_OF_2:
        assert name in r.stdout
        assert not (published.public_dir / name).exists()
    for profile in PROFILES:
        assert items(published, profile) == {g: t for g, t in before[profile].items() if g != guid}
    assert (published.public_dir / "audio/0001.mp3").is_file()
    shown = cli("episodes", "show", "2", "--json").json()
    assert shown["guid"] == guid and shown["withdrawn"]["reason"] == "嘉宾口误，数据待核实"
    assert "withdrawn" in cli("episodes", "list").stdout

    # An ordinary publish (the pipeline's too) leaves it out until it is reinstated.
    r = cli("publish")
    assert r.exit_code == 0, r.stderr
    assert "withdrawn, not listed: 2" in r.stdout
    assert guid not in items(published, "generic")

    r = cli("episodes", "reinstate", "2", "--reason", "已核实更正", "--yes")
    assert r.exit_code == 0, r.stderr
    assert f"with guid {guid}" in r.stdout
    for profile in PROFILES:
        assert items(published, profile) == before[profile]
    for name in FILES_OF_2:
        assert (published.public_dir / name).is_file()
    assert cli("episodes", "show", "2", "--json").json()["withdrawn"] is None

    history = cli("history", "episode", "2", "--json").json()
    moves = [
        (e["action"], e["changes"]["withdrawal_reason"]["after"], e["actor"])
        for e in history
        if e["action"] in ("withdraw", "reinstate")
    ]
    assert [m[:2] for m in moves] == [
        ("withdraw", "嘉宾口误，数据待核实"),
        ("reinstate", "已核实更正"),
    ]
    assert all(m[2] for m in moves)  # who
    text = cli("history", "episode", "2").stdout
    assert "withdrawn from every feed: 嘉宾口误，数据待核实" in text
    assert "listed in the feeds again: 已核实更正" in text


def test_withdraw_asks_first_naming_what_goes_and_changes_nothing_unconfirmed(
    published: Station, cli: Callable[..., Any]
) -> None:
    before = snapshot(published)
    r = cli("episodes", "withdraw", "2", "--reason", "听众投诉")  # no terminal, no --yes
    assert r.exit_code == 1
    line = r.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "takes its item out of 5 feeds" in line and "pass --yes" in line
    for name in FILES_OF_2:
        assert name in line
    assert snapshot(published) == before

    r = cli("episodes", "withdraw", "2", "--reason", "听众投诉", input="n\n")
    assert snapshot(published) == before


def test_withdrawing_an_episode_never_published_is_one_line_and_changes_nothing(
    published: Station, cli: Callable[..., Any]
) -> None:
    with published.session() as session:
        add_episode(published, session, 4, status=EpisodeStatus.planned, master=False)
    before = snapshot(published)
    r = cli("episodes", "withdraw", "4", "--reason", "嘉宾临时取消", "--yes")
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines() == [
        "hotline: error: episode 4 was never published: no feed lists it, "
        "there is nothing to withdraw"
    ]
    assert snapshot(published) == before
    for args in (("withdraw", "2", "--reason", "   "), ("reinstate", "1"), ("withdraw", "9")):
        extra = ("--reason", "重复") if args[0] == "withdraw" and len(args) == 2 else ()
        r = cli("episodes", *args, *extra, "--yes")
        assert r.exit_code != 0
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert snapshot(published) == before


def test_withdrawing_twice_says_it_is_withdrawn_already(
    published: Station, cli: Callable[..., Any]
) -> None:
    assert cli("episodes", "withdraw", "3", "--reason", "嘉宾要求", "--yes").exit_code == 0
    before = snapshot(published)
    r = cli("episodes", "withdraw", "3", "--reason", "再次", "--yes")
    assert r.exit_code == 1
    assert "episode 3 is already withdrawn (嘉宾要求)" in r.stderr
    assert snapshot(published) == before


def test_dry_run_lists_added_removed_changed_per_feed_and_writes_nothing(
    published: Station, cli: Callable[..., Any]
) -> None:
    with published.session() as session:
        get_episode(session, 1).title = "第1期：医保异地结算（更正版）"
        add_episode(published, session, 4, title="第4期：老旧小区加装电梯")
    (published.master_dir / "0003.mp3").unlink()
    before = snapshot(published)

    # One of three items leaving is past feeds.max_drop_percent: said, and allowed here.
    r = cli("publish", "--dry-run", "--allow-drop", "--json")
    assert r.exit_code == 0, r.stderr
    data = r.json()
    assert data["dry_run"] is True and data["ok"] is True and data["changes_anything"]
    assert [f["platform"] for f in data["feeds"]] == list(PROFILES)
    for feed in data["feeds"]:
        assert feed["status"] == "changed"
        assert [(i["episode"], i["title"]) for i in feed["added"]] == [
            (4, "第4期：老旧小区加装电梯")
        ]
        assert [(i["episode"], i["title"]) for i in feed["removed"]] == [(3, "第3期：医保异地结算")]
        changed = {c["episode"]: c["fields"] for c in feed["changed"]}
        assert list(changed) == [1] and "title" in changed[1]
    assert "public/audio/0004.mp3" in data["files"]["added"]
    assert "public/audio/0003.mp3" in data["files"]["removed"]
    assert data["missing_masters"] and "3" in data["missing_masters"][0]
    assert snapshot(published) == before  # nothing written: database and public/ alike

    r = cli("publish", "--dry-run", "--allow-drop")
    assert r.exit_code == 0, r.stderr
    assert "+ 4 第4期：老旧小区加装电梯" in r.stdout
    assert "− 3 第3期：医保异地结算" in r.stdout
    assert "~ 1 第1期：医保异地结算（更正版）: title" in r.stdout
    assert "dry run: nothing was written" in r.stdout
    assert snapshot(published) == before

    # What the dry run said is what the publish does.
    r = cli("publish", "--allow-drop", "--json")
    assert r.exit_code == 0, r.stderr
    assert set(items(published, "apple").values()) == {
        "第1期：医保异地结算（更正版）",
        "第2期：医保异地结算",
        "第4期：老旧小区加装电梯",
    }
    again = cli("publish", "--dry-run", "--json").json()
    assert again["changes_anything"] is False
    assert all(f["status"] == "unchanged" for f in again["feeds"])


def test_dry_run_names_every_problem_and_exits_non_zero(
    published: Station, cli: Callable[..., Any]
) -> None:
    use_cover(published, size=500)  # too small for every platform
    with published.session() as session:
        for number in (5, 6, 7):
            add_episode(published, session, number, air=FIRST_AIR)
    before = snapshot(published)
    r = cli("publish", "--dry-run", "--json")
    assert r.exit_code == 1
    data = r.json()
    assert data["ok"] is False
    assert all(f["status"] == "failed" and f["problems"] for f in data["feeds"])
    assert all(any("500×500" in p for p in f["problems"]) for f in data["feeds"])
    assert len([p for p in data["problems"] if "500×500" in p]) == 5
    assert "would publish nothing now" in r.stderr
    assert snapshot(published) == before


def test_dry_run_says_when_the_drop_guard_would_refuse(
    published: Station, cli: Callable[..., Any]
) -> None:
    for number in (1, 3):
        (published.master_dir / f"{number:04d}.mp3").unlink()
    before = snapshot(published)
    r = cli("publish", "--dry-run")
    assert r.exit_code == 1
    assert "would remove 2 of the 3 items published now" in r.stderr
    assert "--allow-drop" in r.stderr
    assert snapshot(published) == before
    r = cli("publish", "--dry-run", "--allow-drop", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["ok"] is True
    assert snapshot(published) == before


def test_a_withdrawn_episode_is_never_counted_by_the_drop_guard(
    station: Station, cli: Callable[..., Any]
) -> None:
    use_cover(station)
    with station.session() as session:
        for number in (1, 2):
            add_episode(station, session, number)
    assert cli("publish").exit_code == 0
    # One of two items is 50 %, far past feeds.max_drop_percent: a withdrawal is deliberate.
    r = cli("episodes", "withdraw", "1", "--reason", "嘉宾更正", "--yes")
    assert r.exit_code == 0, r.stderr
    with station.session() as session:
        stored: Episode = get_episode(session, 1)
        assert stored.withdrawn_at is not None and stored.guid
