"""The feeds on disk: what each platform's file holds, and validating them all afresh."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from feeds.platforms import Profile, selected_profiles
from feeds.validate import ArtworkFacts, check_feed, feedparser_problems, inspect_artwork
from hotline.station import Station


@dataclass
class FeedFile:
    """One platform's feed as it is on disk (``exists`` False before the first publish)."""

    profile: str
    label: str
    path: str
    exists: bool
    items: int = 0
    bytes: int = 0
    url: str = ""
    last_build: str = ""
    problems: list[str] = field(default_factory=list)


def _facts(station: Station, profile: Profile) -> tuple[FeedFile, bytes | None]:
    path = station.public_dir / profile.relative_path
    feed = FeedFile(profile.name, profile.label, profile.relative_path, path.is_file())
    if not feed.exists:
        return feed, None
    data = path.read_bytes()
    feed.bytes = len(data)
    try:
        root = etree.fromstring(data)
    except etree.XMLSyntaxError:
        return feed, data
    feed.items = len(root.findall("channel/item"))
    feed.last_build = root.findtext("channel/lastBuildDate") or ""
    self_link = root.find("channel/{http://www.w3.org/2005/Atom}link[@rel='self']")
    feed.url = self_link.get("href", "") if self_link is not None else ""
    return feed, data


def list_feeds(*, station: Station) -> list[FeedFile]:
    """Each configured platform's feed file: items, size, URL and lastBuildDate."""
    return [
        _facts(station, p)[0] for p in selected_profiles(list(station.settings.feeds.platforms))
    ]


def _artwork(station: Station) -> ArtworkFacts | str | None:
    cover = station.settings.show.cover
    if not cover:
        return None
    return inspect_artwork(station.path_inside(cover, what="cover art show.cover"), cover)


def validate_feeds(*, station: Station) -> list[FeedFile]:
    """Check every configured feed on disk with every rule (feedparser on all items)."""
    artwork = _artwork(station)
    sizes: dict[str, int | None] = {}
    out = []
    for profile in selected_profiles(list(station.settings.feeds.platforms)):
        feed, data = _facts(station, profile)
        if data is None:
            feed.problems = ["not published yet: run `hotline publish`"]
        else:
            # The base URL the feed was published with: its self link minus feeds/<file>.
            suffix = "/" + profile.relative_path
            base = feed.url[: -len(suffix)] if feed.url.endswith(suffix) else None
            feed.problems = check_feed(
                data,
                profile,
                public_dir=station.public_dir,
                base_url=base,
                artwork=artwork,
                sizes=sizes,
            )
            feed.problems += feedparser_problems(data)
        out.append(feed)
    return out
