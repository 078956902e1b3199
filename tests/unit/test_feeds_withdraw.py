"""Withdrawing and reinstating an episode (``feeds.withdraw``), the publish preview
(``feeds.preview``) and the feed diff it shows (``feeds.diff``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from episodes.lookup import get_episode
from feeds.diff import diff_feeds
from feeds.preview import preview_publish
from feeds.publish import publish
from feeds.withdraw import (
    reinstate_episode,
    reinstatement_preview,
    withdraw_episode,
    withdrawal_preview,
)
from hotline.errors import Conflict, NeedsConfirmation
from hotline.station import Station

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from feeds_fixtures import NOW, add_episode, use_cover  # noqa: E402


@pytest.fixture
def ready(station: Station) -> Station:
    use_cover(station)
    with station.session() as session:
        for number in (1, 2, 3):
            add_episode(station, session, number, title=f"第{number}期：垃圾分类新规")
    assert publish(station=station, now=NOW).ok
    return station


def feed_bytes(station: Station, name: str = "generic") -> bytes:
    return (station.public_dir / f"feeds/{name}.xml").read_bytes()


def test_diff_matches_items_by_guid_and_names_changed_fields() -> None:
    def rss(items: str, built: str = "Mon, 01 Jan 2024 00:00:00 +0800") -> bytes:
        return (
            '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">'
            f"<channel><title>政协热线</title><lastBuildDate>{built}</lastBuildDate>{items}"
            "</channel></rss>"
        ).encode()

    def item(guid: str, number: int, title: str, length: int = 100) -> str:
        return (
            f"<item><title>{title}</title><guid>{guid}</guid>"
            f"<itunes:episode>{number}</itunes:episode>"
            f'<enclosure url="https://x.cn/{number}.mp3" length="{length}" type="audio/mpeg"/>'
            "</item>"
        )

    old = rss(item("a", 1, "第1期") + item("b", 2, "第2期") + item("c", 3, "第3期"))
    new = rss(
        item("a", 1, "第1期（更正）") + item("c", 3, "第3期", length=200) + item("d", 4, "第4期"),
        built="Tue, 02 Jan 2024 00:00:00 +0800",
    )
    diff = diff_feeds(old, new)
    assert [(i.number, i.title) for i in diff.added] == [(4, "第4期")]
    assert [(i.number, i.guid) for i in diff.removed] == [(2, "b")]
    assert [(c.item.number, c.fields) for c in diff.changed] == [
        (1, ("title",)),
        (3, ("enclosure",)),
    ]
    assert diff.channel == []  # lastBuildDate never counts
    assert diff_feeds(old, old).empty
    first = diff_feeds(None, old)
    assert [i.guid for i in first.added] == ["a", "b", "c"] and not first.removed


@pytest.mark.both_databases
def test_withdrawal_asks_first_then_takes_everything_out_in_one_switch(ready: Station) -> None:
    shown = os.readlink(ready.public_dir)
    with pytest.raises(NeedsConfirmation) as asked:
        withdraw_episode(station=ready, number=2, reason="嘉宾口误", now=NOW)
    assert "audio/0002.mp3" in str(asked.value) and "5 feeds" in str(asked.value)
    assert asked.value.zh is not None and "撤下第2期" in asked.value.zh
    assert os.readlink(ready.public_dir) == shown
    assert get_episode_withdrawn(ready, 2) is None

    preview = withdrawal_preview(station=ready, number=2)
    outcome = withdraw_episode(station=ready, number=2, reason="嘉宾口误", now=NOW, confirm=True)
    assert outcome.before.files == preview.files and len(preview.files) == 5
    assert outcome.after.empty
    assert outcome.report.switched and os.readlink(ready.public_dir) != shown
    assert outcome.guid.encode() not in feed_bytes(ready)
    assert get_episode_withdrawn(ready, 2) == "嘉宾口误"

    # The pipeline's publish and any later one leave it out.
    again = publish(station=ready, now=NOW)
    assert again.withdrawn == [2] and not again.switched

    back = reinstatement_preview(station=ready, number=2, now=NOW)
    assert back.reason == "嘉宾口误" and len(back.feeds) == 5 and len(back.files) == 5
    done = reinstate_episode(station=ready, number=2, now=NOW, confirm=True)
    assert done.guid == outcome.guid and done.guid.encode() in feed_bytes(ready)
    assert get_episode_withdrawn(ready, 2) is None


def get_episode_withdrawn(station: Station, number: int) -> str | None:
    """The withdrawal reason of a withdrawn episode, None when it is listed."""
    with station.session(write=False) as session:
        episode = get_episode(session, number)
        return episode.withdrawal_reason if episode.withdrawn_at else None


def test_a_refused_publish_leaves_the_episode_listed_and_public_as_it_was(
    ready: Station,
) -> None:
    shown = os.readlink(ready.public_dir)
    before = feed_bytes(ready)
    use_cover(ready, size=500)  # every platform now refuses the feed
    with pytest.raises(Conflict, match="episode 2 is not withdrawn: the publish was refused"):
        withdraw_episode(station=ready, number=2, reason="听众投诉", now=NOW, confirm=True)
    assert get_episode_withdrawn(ready, 2) is None
    assert os.readlink(ready.public_dir) == shown and feed_bytes(ready) == before
    assert [p.name for p in (ready.root / ".public").iterdir() if p.is_dir()] == [Path(shown).name]


def test_the_preview_stores_no_guid_and_writes_no_transcript(station: Station) -> None:
    use_cover(station)
    with station.session() as session:
        add_episode(station, session, 1, title="第1期：学前教育", transcripts=False)
    tree = sorted(p for p in station.root.rglob("*") if p.name != "hotline.db-shm")
    preview = preview_publish(station=station, now=NOW)
    assert [i.title for i in preview.feeds[0].diff.added] == ["第1期：学前教育"]
    assert "audio/0001.mp3" in preview.files_added
    with station.session(write=False) as session:
        assert get_episode(session, 1).guid is None
    assert sorted(p for p in station.root.rglob("*") if p.name != "hotline.db-shm") == tree
