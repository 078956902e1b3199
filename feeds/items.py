"""What a feed is made of, as plain values: the show and its episodes, ready for ``rss.py``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TranscriptLink:
    """One transcript file of an episode, as ``podcast:transcript`` announces it."""

    url: str
    mime: str
    language: str


@dataclass(frozen=True)
class Person:
    """A ``podcast:person``: a host, or a member who appeared as a guest."""

    name: str
    role: str = "host"


@dataclass(frozen=True)
class ShowInfo:
    """The channel: who makes the show, where it lives, how it is classified."""

    title: str
    description: str
    website: str
    language: str
    author: str
    owner_name: str
    owner_email: str
    category: str
    explicit: bool
    image_url: str | None
    public_base: str
    """The https base URL ``public/`` is served from; each feed's self link is under it."""
    podcast_guid: str
    hosts: tuple[str, ...] = ()
    moved: bool = False
    """The feeds moved here from another base URL: each says so (``itunes:new-feed-url``)."""


@dataclass(frozen=True)
class FeedEpisode:
    """One item: an episode that is mastered and released, with everything listeners see."""

    number: int
    guid: str
    title: str
    description_html: str
    """Summary, topic, guests and questions answered, as HTML (not yet cut to a limit)."""
    released: datetime
    """When it went out (explicit release time or air time): the item's pubDate."""
    audio_url: str
    audio_bytes: int
    audio_path: str
    """The enclosure as a path under ``public/``, for validation."""
    seconds: int
    hosts: tuple[str, ...] = ()
    guests: tuple[str, ...] = ()
    transcripts: tuple[TranscriptLink, ...] = ()
    chapters_url: str | None = None
