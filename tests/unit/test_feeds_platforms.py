"""Each platform profile's rules: a feed that meets them passes, and each rule can fail it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from feeds.platforms import PROFILES, Artwork, Profile, get_profile
from feeds.validate import ArtworkFacts, artwork_problems, check_feed, inspect_artwork
from hotline.errors import InvalidInput

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from feeds_fixtures import make_cover  # noqa: E402

GOOD_ART = ArtworkFacts("cover.png", "PNG", 1400, 1400)
BASE = "https://hotline.example.cn"


def feed_xml(items: int = 1, *, owner: bool = True, length: int = 10, guid: str = "") -> bytes:
    owner_xml = (
        "<itunes:owner><itunes:name>节目组</itunes:name>"
        "<itunes:email>hotline@example.cn</itunes:email></itunes:owner>"
        if owner
        else ""
    )
    body = "".join(
        f"<item><title>第{n}期</title><guid isPermaLink='false'>{guid or n}</guid>"
        f"<pubDate>Sat, 06 Jan 2024 12:00:00 +0800</pubDate>"
        f"<enclosure url='{BASE}/audio/0001.mp3' length='{length}' type='audio/mpeg'/>"
        f"<description>节目</description><itunes:duration>60</itunes:duration>"
        f"<itunes:episode>{n}</itunes:episode><itunes:episodeType>full</itunes:episodeType>"
        f"<itunes:explicit>false</itunes:explicit></item>"
        for n in range(1, items + 1)
    )
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        "<rss version='2.0' xmlns:itunes='http://www.itunes.com/dtds/podcast-1.0.dtd' "
        "xmlns:podcast='https://podcastindex.org/namespace/1.0'><channel>"
        f"<title>政协热线</title><link>{BASE}</link><description>节目</description>"
        "<language>zh-cn</language><lastBuildDate>Sat, 06 Jan 2024 12:00:00 +0800</lastBuildDate>"
        f"<itunes:author>节目组</itunes:author><itunes:image href='{BASE}/images/c.png'/>"
        "<itunes:category text='Government'/><itunes:explicit>false</itunes:explicit>"
        f"<itunes:type>episodic</itunes:type>{owner_xml}"
        "<podcast:guid>x</podcast:guid><podcast:locked owner='hotline@example.cn'>yes"
        f"</podcast:locked>{body}</channel></rss>"
    ).encode()


@pytest.fixture
def public(tmp_path: Path) -> Path:
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio/0001.mp3").write_bytes(b"0123456789")
    return tmp_path


@pytest.mark.parametrize("name", list(PROFILES))
def test_a_complete_feed_passes_every_profile(name: str, public: Path) -> None:
    problems = check_feed(
        feed_xml(), PROFILES[name], public_dir=public, base_url=BASE, artwork=GOOD_ART
    )
    assert problems == []


@pytest.mark.parametrize("name", list(PROFILES))
def test_every_profile_needs_the_owner_email(name: str, public: Path) -> None:
    problems = check_feed(
        feed_xml(owner=False), PROFILES[name], public_dir=public, base_url=BASE, artwork=GOOD_ART
    )
    assert "channel: required itunes:owner/itunes:email is missing" in problems


@pytest.mark.parametrize(
    ("name", "side", "ok"),
    [
        ("apple", 1400, True),
        ("apple", 3000, True),
        ("apple", 1399, False),
        ("apple", 3001, False),
        ("spotify", 640, True),
        ("spotify", 639, False),
        ("xiaoyuzhou", 1000, False),
        ("ximalaya", 1400, True),
        ("generic", 3200, False),
    ],
)
def test_artwork_sides(name: str, side: int, ok: bool) -> None:
    art = ArtworkFacts("cover.png", "PNG", side, side)
    assert (artwork_problems(art, PROFILES[name]) == []) is ok


def test_artwork_must_be_square_jpeg_or_png_checked_with_pillow(tmp_path: Path) -> None:
    apple = PROFILES["apple"]
    wide = inspect_artwork(make_cover(tmp_path / "w.png", 1600, height=1400), "w.png")
    assert any("square" in p for p in artwork_problems(wide, apple))
    gif = inspect_artwork(make_cover(tmp_path / "c.gif", 1400, fmt="GIF"), "c.gif")
    assert any("GIF" in p for p in artwork_problems(gif, apple))
    jpeg = inspect_artwork(make_cover(tmp_path / "c.jpg", 1400, fmt="JPEG"), "c.jpg")
    assert artwork_problems(jpeg, apple) == []
    (tmp_path / "bad.png").write_bytes(b"not an image")
    assert (
        "not an image"
        in artwork_problems(inspect_artwork(tmp_path / "bad.png", "bad.png"), apple)[0]
    )
    assert artwork_problems(None, apple) == ["no cover art: set show.cover in hotline.toml"]


def test_item_rules_list_every_problem(public: Path) -> None:
    data = feed_xml(items=3, length=11, guid="same")
    problems = check_feed(
        data, PROFILES["apple"], public_dir=public, base_url=BASE, artwork=GOOD_ART
    )
    assert sum("has 10 bytes" in p for p in problems) == 3
    assert sum("guid same repeats" in p for p in problems) == 2
    (public / "audio/0001.mp3").unlink()
    problems = check_feed(data, PROFILES["apple"], public_dir=public, base_url=BASE)
    assert sum("does not exist" in p for p in problems) == 3
    assert "no cover art: set show.cover in hotline.toml" in problems


def test_bad_dates_missing_tags_and_plain_http_urls_fail(public: Path) -> None:
    data = (
        feed_xml()
        .replace(b"Sat, 06 Jan 2024 12:00:00 +0800</pubDate>", b"2024-01-06</pubDate>")
        .replace(b"<itunes:duration>60</itunes:duration>", b"")
        .replace(f"{BASE}/images".encode(), b"http://hotline.example.cn/images")
    )
    problems = check_feed(data, PROFILES["apple"], public_dir=public, base_url=BASE)
    assert any("pubDate '2024-01-06' is not an RFC 2822 date" in p for p in problems)
    assert "item 1 (episode 1): required itunes:duration is missing" in problems
    assert any("is not absolute https" in p for p in problems)
    assert check_feed(b"<rss><channel>", PROFILES["apple"], public_dir=public)[0].startswith(
        "not well-formed XML"
    )


def test_item_caps_and_description_limits_are_profile_data(public: Path) -> None:
    capped = Profile(
        name="tiny",
        label="Tiny",
        channel_tags=(),
        item_tags=(),
        artwork=Artwork(required=False),
        description_bytes=3,
        max_items=2,
    )
    problems = check_feed(feed_xml(items=3), capped, public_dir=public, base_url=BASE)
    assert "3 items; Tiny reads at most 2" in problems
    assert any("description is 6 bytes; Tiny allows 3" in p for p in problems)


def test_unknown_platforms_are_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match="generic, apple, spotify, xiaoyuzhou, ximalaya"):
        get_profile("tiktok")
