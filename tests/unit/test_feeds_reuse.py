"""Publishing re-does only what changed: items rendered once, feedparser's memory, batched files."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree

from episodes.lookup import get_episode
from feeds import accepted as accepted_module
from feeds import forked
from feeds.accepted import NOTE_NAME, Accepted
from feeds.generations import note_of
from feeds.items import FeedEpisode, ShowInfo, TranscriptLink
from feeds.platforms import PROFILES, Artwork
from feeds.publish import publish
from feeds.rss import RenderedItems, build_feed
from feeds.validate import validate_feed
from hotline.station import Station

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from feeds_fixtures import FIRST_AIR, NOW, add_episode, use_cover  # noqa: E402

BASE = "https://hotline.example.cn"
SHOW = ShowInfo(
    title="政协热线",
    description="委员回答听众的问题。",
    website=BASE,
    language="zh-cn",
    author="政协热线节目组",
    owner_name="政协热线节目组",
    owner_email="hotline@example.cn",
    category="Government",
    explicit=False,
    image_url=f"{BASE}/images/cover.png",
    public_base=BASE,
    podcast_guid="62beb0ed-c6c3-50dc-9cf8-54f61e932af8",
    hosts=("李明", "王芳"),
)


def episode(number: int, description: str = "<p>委员 &amp; 听众</p>") -> FeedEpisode:
    return FeedEpisode(
        number=number,
        guid=f"guid-{number}",
        title=f"第{number}期：<医保> & “养老”",
        description_html=description,
        released=FIRST_AIR + timedelta(days=7 * number),
        audio_url=f"{BASE}/audio/{number:04d}.mp3",
        audio_bytes=100 + number,
        audio_path=f"audio/{number:04d}.mp3",
        seconds=3600,
        hosts=("李明", "王芳"),
        guests=("张委员", "O'Brien & <李>"),
        transcripts=(TranscriptLink(f"{BASE}/transcripts/{number:04d}.vtt", "text/vtt", "zh"),),
        chapters_url=f"{BASE}/chapters/{number:04d}.json",
    )


def test_items_rendered_once_give_the_same_feeds_as_building_each_alone() -> None:
    long = "<p>" + "政协委员回答听众的来信来电。" * 120 + "</p>"  # cut differently by ximalaya
    episodes = [episode(n, long if n % 2 else "<p>短</p>") for n in range(1, 8)]
    rendered = RenderedItems()
    for profile in PROFILES.values():
        alone = build_feed(SHOW, episodes, profile, last_build=NOW)
        shared = build_feed(SHOW, episodes, profile, last_build=NOW, rendered=rendered)
        assert shared == alone, profile.name
    # Built again from the cache, a feed is still whole and parses.
    again = build_feed(SHOW, episodes, PROFILES["generic"], last_build=NOW, rendered=rendered)
    root = etree.fromstring(again)
    assert len(root.findall("channel/item")) == 7
    assert root.findtext("channel/item/title") == "第7期：<医保> & “养老”"


def _public_with_audio(tmp_path: Path, numbers: range) -> Path:
    for n in numbers:
        (tmp_path / "audio").mkdir(exist_ok=True)
        (tmp_path / f"audio/{n:04d}.mp3").write_bytes(b"x" * (100 + n))
    return tmp_path


def test_validation_skips_what_it_passed_but_still_catches_a_repeated_guid(
    tmp_path: Path,
) -> None:
    public = _public_with_audio(tmp_path, range(1, 4))
    accepted = Accepted()
    data = build_feed(SHOW, [episode(n) for n in (1, 2, 3)], PROFILES["generic"])
    kwargs = {"public_dir": public, "base_url": BASE, "artwork": None, "sizes": {}}
    problems, keys = validate_feed(data, PROFILES["spotify"], accepted=accepted, **kwargs)
    assert problems == ["no cover art: set show.cover in hotline.toml"]
    assert keys == []
    twice = build_feed(SHOW, [episode(1), episode(2), episode(1)], PROFILES["generic"])
    spotify = replace(PROFILES["spotify"], artwork=Artwork(required=False))
    problems, _ = validate_feed(data, spotify, accepted=accepted, **kwargs)
    assert problems == []
    problems, _ = validate_feed(twice, spotify, accepted=accepted, **kwargs)
    # Newest first: episode 2, then episode 1 twice; the repeat is caught though both
    # items were checked clean in the feed before.
    assert problems == ["item 3 (episode 1): guid guid-1 repeats item 2 (episode 1)"]


def test_an_item_that_is_not_back_to_back_falls_back_to_lxml_serialisation(
    tmp_path: Path,
) -> None:
    data = build_feed(SHOW, [episode(1), episode(2)], PROFILES["generic"])
    spaced = data.replace(b"</item><item>", b"</item>\n<item>")
    assert accepted_module.item_slices(data, 2) is not None
    assert accepted_module.item_slices(spaced, 2) is None
    assert accepted_module.item_slices(data, 3) is None


@pytest.fixture
def ready(station: Station) -> Station:
    use_cover(station)
    with station.session() as session:
        for number in (1, 2, 3):
            add_episode(station, session, number)
    return station


def _count_parsed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    counts: list[int] = []
    real = accepted_module.feedparser_problems

    def counting(data: bytes) -> list[str]:
        counts.append(data.count(b"<item>"))
        return real(data)

    monkeypatch.setattr(accepted_module, "feedparser_problems", counting)
    return counts


def test_feedparser_parses_each_item_once_and_later_only_what_changed(
    ready: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = _count_parsed(monkeypatch)
    publish(station=ready, now=NOW)
    # Every distinct item once (the profiles share them), then each other channel alone.
    assert counts == [3, 0, 0, 0, 0]
    cache = json.loads(_note(ready).read_text())
    assert set(cache["feeds"]) == {f"{name}.xml" for name in PROFILES}
    assert len(cache["feeds"]["generic.xml"]) == 1 + 3  # the channel and each item

    counts.clear()
    publish(station=ready, now=NOW + timedelta(hours=1))  # nothing changed
    assert counts == []

    counts.clear()
    with ready.session() as session:
        get_episode(session, 2).title = "第2期：改过 & <新>"
    report = publish(station=ready, now=NOW + timedelta(hours=2))
    assert report.ok and {f.status for f in report.feeds} == {"written"}
    # The changed item and the channel (its lastBuildDate moved), in every feed once.
    assert counts == [1, 0, 0, 0, 0]


def test_an_unreadable_or_foreign_cache_means_parsing_everything_again(
    ready: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(station=ready, now=NOW)
    document = json.loads(_note(ready).read_text())
    document["feedparser"] = "0.0-other"
    _note(ready).write_text(json.dumps(document))
    with ready.session() as session:
        get_episode(session, 1).title = "更新"
    counts = _count_parsed(monkeypatch)
    publish(station=ready, now=NOW)
    assert counts[0] == 3
    _note(ready).write_text("{not json")
    with ready.session() as session:
        get_episode(session, 1).title = "再更新"
    counts.clear()
    assert publish(station=ready, now=NOW).ok
    assert counts[0] == 3


def _note(station: Station) -> Path:
    """What validation accepted for the feeds ``public/`` shows now."""
    return note_of(station.public_dir.resolve(), NOTE_NAME)


def test_what_validation_accepted_is_kept_beside_the_generation_not_served(
    ready: Station,
) -> None:
    publish(station=ready, now=NOW)
    first = _note(ready)
    assert first.is_file()
    assert not [p for p in ready.public_dir.resolve().rglob("*") if "validated" in p.name]
    with ready.session() as session:
        get_episode(session, 2).title = "第2期：新标题"
    publish(station=ready, now=NOW + timedelta(hours=1))
    assert _note(ready).is_file() and not first.exists()  # gone with its generation
    assert sorted(p.name for p in ready.public_dir.resolve().parent.iterdir()) == sorted(
        ["publish.lock", ready.public_dir.resolve().name, _note(ready).name]
    )


def _inodes(folder: Path) -> dict[str, int]:
    return {
        p.relative_to(folder).as_posix(): p.stat().st_ino for p in folder.rglob("*") if p.is_file()
    }


def test_a_new_generation_links_every_file_that_did_not_change(ready: Station) -> None:
    publish(station=ready, now=NOW)
    before = _inodes(ready.public_dir.resolve())
    with ready.session() as session:
        get_episode(session, 2).title = "第2期：新标题"
    report = publish(station=ready, now=NOW + timedelta(hours=1))
    assert report.switched and report.files_written == {}  # only the feeds are new
    after = _inodes(ready.public_dir.resolve())
    assert after.keys() == before.keys()
    new = {rel for rel in after if after[rel] != before[rel]}
    assert new == {f"feeds/{name}.xml" for name in PROFILES}


def test_a_master_outside_the_station_is_not_published(ready: Station, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.mp3"
    outside.write_bytes(b"ID3" + b"\x00" * 100)
    os.symlink(outside, ready.master_dir / "evil.mp3")
    with ready.session() as session:
        get_episode(session, 2).audio_path = "audio/master/evil.mp3"
        get_episode(session, 3).audio_path = "../../etc/passwd"
    report = publish(station=ready, now=NOW)
    assert report.listed == [1]
    assert any("episode 2" in m and "outside the station" in m for m in report.missing)
    assert any("episode 3" in m and "outside the station" in m for m in report.missing)


def test_a_large_batch_is_parsed_in_two_processes_and_a_problem_in_either_counts(
    ready: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accepted_module, "PARALLEL_MIN", 2)
    monkeypatch.setattr(forked, "can_fork", lambda: True)
    real = accepted_module.feedparser_problems

    def picky(data: bytes) -> list[str]:
        # Items go newest first (3, 2, 1) and alternate: episode 2 is the child's half.
        if "第2期".encode() in data:
            return ["feedparser: 第2期 refused"]
        return real(data)

    monkeypatch.setattr(accepted_module, "feedparser_problems", picky)
    report = publish(station=ready, now=NOW)
    assert not report.ok
    assert "every feed: feedparser: 第2期 refused" in report.problems  # said once
    assert not (ready.public_dir / "feeds/generic.xml").exists()

    monkeypatch.setattr(accepted_module, "feedparser_problems", real)
    assert publish(station=ready, now=NOW).ok
    counts = _count_parsed(monkeypatch)
    with ready.session() as session:
        get_episode(session, 1).title = "更新"
    assert publish(station=ready, now=NOW).ok
    # Both halves were remembered: only the changed item is parsed (in the first feed;
    # the channels, with the same lastBuildDate, are known too).
    assert counts == [1]
