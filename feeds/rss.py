"""``build_feed``: the RSS document of one platform profile. The only module using feedgen's API.

feedgen keeps each field behind a getter/setter over name-mangled state; this module
sets them from plain values (``feeds.items``) and hands back bytes, so nothing else in
the code base learns that API.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from feedgen.feed import FeedGenerator

from feeds.items import FeedEpisode, ShowInfo
from feeds.platforms import Profile
from feeds.podcast_ns import PodcastIndexEntryExtension, PodcastIndexExtension
from feeds.text import cut_html

GENERATOR = "政协热线 Hotline"
EXTENSION = "podcastindex"
RSS_MIME = "application/rss+xml"


def newest_first(episodes: Sequence[FeedEpisode], profile: Profile) -> list[FeedEpisode]:
    """The episodes a profile's feed lists: newest first, at most ``profile.max_items``."""
    ordered = sorted(episodes, key=lambda e: (e.released, e.number), reverse=True)
    return ordered if profile.max_items is None else ordered[: profile.max_items]


def build_feed(
    show: ShowInfo,
    episodes: Sequence[FeedEpisode],
    profile: Profile,
    *,
    last_build: datetime | None = None,
) -> bytes:
    """The feed for ``profile`` as UTF-8 XML bytes.

    Args:
        show: the channel.
        episodes: released, mastered episodes (any order).
        profile: the platform: item cap and description limits.
        last_build: ``lastBuildDate`` (aware); publish passes the time the content last
            changed, so an unchanged feed stays byte-identical.
    """
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
    ext = getattr(fg, EXTENSION)
    ext.itunes_explicit(show.explicit)
    ext.podcast_guid(show.podcast_guid)
    ext.podcast_locked(show.owner_email)
    for host in show.hosts:
        ext.podcast_person(host, "host")

    # add_entry prepends by default; append keeps newest first as given.
    for episode in newest_first(episodes, profile):
        entry = fg.add_entry(order="append")
        entry.title(episode.title)
        entry.guid(episode.guid, permalink=False)
        entry.pubDate(episode.released)
        entry.enclosure(episode.audio_url, str(episode.audio_bytes), "audio/mpeg")
        entry.content(cut_html(episode.description_html, profile.description_bytes), type="CDATA")
        entry.podcast.itunes_duration(episode.seconds)
        entry.podcast.itunes_episode(episode.number)
        entry.podcast.itunes_episode_type("full")
        item = getattr(entry, EXTENSION)
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
    return fg.rss_str(pretty=False, encoding="UTF-8", xml_declaration=True)


def cut_plain(text: str, limit: int) -> str:
    """Plain text cut to ``limit`` UTF-8 bytes at a character boundary, with an ellipsis."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", errors="ignore") + "…"
