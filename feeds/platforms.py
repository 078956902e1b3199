"""Platform profiles as data: which tags each platform needs, artwork, description and item limits.

Adding a platform means adding a ``Profile`` to ``PROFILES`` (and its name to
``feeds.platforms`` in ``hotline.toml``); nothing else branches on the platform.
Required tags are XPath expressions over the feed, with the ``NAMESPACES`` prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.errors import InvalidInput

NAMESPACES = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
}

# What every podcast app needs, whatever the platform.
CORE_CHANNEL = (
    "channel/title",
    "channel/link",
    "channel/description",
    "channel/language",
    "channel/itunes:author",
    "channel/itunes:image/@href",
    "channel/itunes:category/@text",
    "channel/itunes:explicit",
)
CORE_ITEM = ("title", "guid", "pubDate", "enclosure/@url", "enclosure/@length", "enclosure/@type")
OWNER = ("channel/itunes:owner/itunes:name", "channel/itunes:owner/itunes:email")
PODCAST_CHANNEL = ("channel/podcast:guid", "channel/podcast:locked/@owner")
ITUNES_ITEM = ("itunes:duration", "itunes:episode", "itunes:episodeType", "itunes:explicit")


@dataclass(frozen=True)
class Artwork:
    """Cover art a platform accepts: square, within these sides, in these formats."""

    min_px: int = 1400
    max_px: int = 3000
    formats: tuple[str, ...] = ("JPEG", "PNG")
    required: bool = True


@dataclass(frozen=True)
class Profile:
    """One platform's feed: its file, required tags and limits."""

    name: str
    label: str
    channel_tags: tuple[str, ...]
    """XPath (from the rss root) of what the channel must have, non-empty."""
    item_tags: tuple[str, ...]
    """XPath (from each item) of what every item must have, non-empty."""
    artwork: Artwork = Artwork()
    description_bytes: int = 4000
    """Item descriptions longer than this (UTF-8 bytes) are cut cleanly."""
    channel_description_bytes: int = 4000
    max_items: int | None = None
    """Only the newest items, for platforms that read no further; None for all."""

    @property
    def filename(self) -> str:
        return f"{self.name}.xml"

    @property
    def relative_path(self) -> str:
        """The feed's path under ``public/``."""
        return f"feeds/{self.filename}"


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile(
            name="generic",
            label="any podcast app (Podcasting 2.0)",
            channel_tags=CORE_CHANNEL + OWNER + PODCAST_CHANNEL + ("channel/itunes:type",),
            item_tags=CORE_ITEM + ITUNES_ITEM,
        ),
        Profile(
            name="apple",
            label="Apple Podcasts",
            channel_tags=CORE_CHANNEL + OWNER + ("channel/itunes:type",),
            item_tags=CORE_ITEM + ITUNES_ITEM,
        ),
        Profile(
            name="spotify",
            label="Spotify",
            # Spotify verifies ownership by mailing a code to itunes:owner/itunes:email.
            channel_tags=CORE_CHANNEL + OWNER,
            item_tags=CORE_ITEM + ("itunes:duration",),
            artwork=Artwork(min_px=640, max_px=3000),
        ),
        Profile(
            name="xiaoyuzhou",
            label="小宇宙",
            channel_tags=CORE_CHANNEL + OWNER,
            item_tags=CORE_ITEM + ("itunes:duration",),
        ),
        Profile(
            name="ximalaya",
            label="喜马拉雅",
            channel_tags=CORE_CHANNEL + OWNER,
            item_tags=CORE_ITEM + ("itunes:duration",),
            description_bytes=2000,
            channel_description_bytes=2000,
            # Its importer reads the newest items only.
            max_items=300,
        ),
    )
}


def get_profile(name: str) -> Profile:
    """The profile called ``name``, or ``InvalidInput`` listing the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise InvalidInput(f"unknown feed platform {name!r}: use one of {known}") from None


def selected_profiles(names: list[str]) -> list[Profile]:
    """The profiles named in settings, in order, refusing unknown names and duplicates."""
    if len(set(names)) != len(names):
        raise InvalidInput(f"feeds.platforms names a platform twice: {names}")
    if not names:
        raise InvalidInput("feeds.platforms is empty: name at least one platform")
    return [get_profile(name) for name in names]
