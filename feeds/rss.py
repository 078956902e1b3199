"""``build_feed``: the RSS document of one platform profile. The only module using feedgen's API.

feedgen keeps each field behind a getter/setter over name-mangled state; this module
sets them from plain values (``feeds.items``) and hands back bytes, so nothing else in
the code base learns that API.

Publishing builds one feed per platform from the same episodes, and most profiles leave
an item exactly as another profile has it (they differ in item caps and description
limits). A ``RenderedItems`` shared between those builds lets feedgen render each
distinct item once; the other feeds list the same rendered element.

Our Podcasting 2.0 extension writes each item's tags as text rather than lxml elements
(``feeds.podcast_ns``); the feed feedgen serialises gets them with ``fill_items``.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from operator import attrgetter
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from feeds.items import FeedEpisode, ShowInfo
from feeds.platforms import Profile
from feeds.podcast_ns import PodcastIndexEntryExtension, PodcastIndexExtension, fill_items
from feeds.text import cut_html

GENERATOR = "政协热线 Hotline"
EXTENSION = "podcastindex"
RSS_MIME = "application/rss+xml"


def newest_first(episodes: Sequence[FeedEpisode], profile: Profile) -> list[FeedEpisode]:
    """The episodes a profile's feed lists: newest first, at most ``profile.max_items``."""
    ordered = sorted(episodes, key=attrgetter("released", "number"), reverse=True)
    return ordered if profile.max_items is None else ordered[: profile.max_items]


class _Entry(FeedEntry):
    """A feedgen entry that renders its ``<item>`` once and hands the same element to
    every feed that lists it.

    An lxml element has one parent, so appending it to the next feed's channel moves it
    out of the previous feed's tree. That tree is done with by then: ``build_feed``
    serialises each feed before the next one is built and never hands a tree out.
    """

    _item: Any = None

    def rss_entry(self, extensions: bool = True) -> Any:
        if self._item is None:
            self._item = super().rss_entry(extensions)
        return self._item


class RenderedItems:
    """The entries built so far in one run, by episode and by what a profile changes in it.

    Only for builds from the same ``ShowInfo`` and ``FeedEpisode`` objects (one publish
    run): an entry is found again by the episode object's identity and its cut
    description, and it keeps the episode alive so that identity stays unique.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[int, int, str], tuple[FeedEpisode, ShowInfo, _Entry]] = {}

    def get(self, show: ShowInfo, episode: FeedEpisode, description: str) -> _Entry | None:
        found = self._entries.get((id(show), id(episode), description))
        return found[2] if found is not None else None

    def put(self, show: ShowInfo, episode: FeedEpisode, description: str, entry: _Entry) -> None:
        self._entries[(id(show), id(episode), description)] = (episode, show, entry)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector while a feed is built.

    A build allocates tens of thousands of short-lived objects that free themselves (no
    cycles); each collection they trigger would walk every object the process holds,
    which in a publish run is a large share of the build time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_feed(
    show: ShowInfo,
    episodes: Sequence[FeedEpisode],
    profile: Profile,
    *,
    last_build: datetime | None = None,
    rendered: RenderedItems | None = None,
) -> bytes:
    """The feed for ``profile`` as UTF-8 XML bytes.

    Args:
        show: the channel.
        episodes: released, mastered episodes (any order).
        profile: the platform: item cap and description limits.
        last_build: ``lastBuildDate`` (aware); publish passes the time the content last
            changed, so an unchanged feed stays byte-identical.
        rendered: items already built for other profiles in this run, reused when this
            profile leaves them the same; new ones are added.
    """
    with gc_paused():
        return _build(show, episodes, profile, last_build, rendered)


def _build(
    show: ShowInfo,
    episodes: Sequence[FeedEpisode],
    profile: Profile,
    last_build: datetime | None,
    rendered: RenderedItems | None,
) -> bytes:
    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.register_extension(EXTENSION, PodcastIndexExtension, PodcastIndexEntryExtension)
    fg.title(show.title)
    # The self link first: feedgen takes the channel <link> from the last one set.
    fg.link(href=f"{show.public_base}/{profile.relative_path}", rel="self", type=RSS_MIME)
    fg.link(href=show.website, rel="alternate")
    fg.description(cut_plain(show.description, profile.channel_description_bytes))
    fg.language(show.language)
    fg.generator(GENERATOR)
    fg.copyright(show.owner_name)
    if last_build is not None:
        fg.lastBuildDate(last_build)
    if show.image_url:
        fg.image(url=show.image_url, title=show.title, link=show.website)
        fg.podcast.itunes_image(show.image_url)
    fg.podcast.itunes_author(show.author)
    fg.podcast.itunes_owner(name=show.owner_name, email=show.owner_email)
    fg.podcast.itunes_category(show.category)
    fg.podcast.itunes_type("episodic")
    if show.moved:
        # Apple (and apps that follow it) move subscribers to the address this names.
        fg.podcast.itunes_new_feed_url(f"{show.public_base}/{profile.relative_path}")
    ext = getattr(fg, EXTENSION)
    ext.itunes_explicit(show.explicit)
    ext.podcast_guid(show.podcast_guid)
    ext.podcast_locked(show.owner_email)
    for host in show.hosts:
        ext.podcast_person(host, "host")

    # add_entry prepends by default; append keeps newest first as given.
    tags: list[PodcastIndexEntryExtension] = []  # each item's, for fill_items
    for episode in newest_first(episodes, profile):
        description = cut_html(episode.description_html, profile.description_bytes)
        entry = rendered.get(show, episode, description) if rendered is not None else None
        if entry is not None:
            fg.add_entry(entry, order="append")
            tags.append(getattr(entry, EXTENSION))
            continue
        entry = fg.add_entry(_Entry(), order="append")
        entry.title(episode.title)
        entry.guid(episode.guid, permalink=False)
        entry.pubDate(episode.released)
        entry.enclosure(episode.audio_url, str(episode.audio_bytes), "audio/mpeg")
        entry.content(description, type="CDATA")
        entry.podcast.itunes_duration(episode.seconds)
        entry.podcast.itunes_episode(episode.number)
        entry.podcast.itunes_episode_type("full")
        item = getattr(entry, EXTENSION)
        tags.append(item)
        item.itunes_explicit(show.explicit)
        item.podcast_episode(episode.number)
        for link in episode.transcripts:
            item.podcast_transcript(link.url, link.mime, link.language)
        if episode.chapters_url:
            item.podcast_chapters(episode.chapters_url)
        if episode.guests or episode.hosts != show.hosts:
            # Item-level persons replace the channel's, so the hosts are named again.
            for host in episode.hosts:
                item.podcast_person(host, "host")
            for guest in episode.guests:
                item.podcast_person(guest, "guest")
        if rendered is not None:
            # Only once it is whole: a value XML cannot hold fails the build above.
            rendered.put(show, episode, description, entry)
    document = fg.rss_str(pretty=False, encoding="UTF-8", xml_declaration=True)
    return fill_items(document, [item.rendered for item in tags])


def cut_plain(text: str, limit: int) -> str:
    """Plain text cut to ``limit`` UTF-8 bytes at a character boundary, with an ellipsis."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", errors="ignore") + "…"
