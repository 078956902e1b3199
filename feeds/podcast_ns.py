"""A feedgen extension for the Podcasting 2.0 namespace, which feedgen does not know.

Registered by ``feeds.rss`` with ``FeedGenerator.register_extension("podcastindex", …)``.
Channel: ``podcast:guid``, ``podcast:locked``, ``podcast:person`` (hosts). Item:
``podcast:transcript``, ``podcast:chapters``, ``podcast:person``, ``podcast:episode``.

It also writes ``itunes:explicit`` as ``true``/``false``: Apple's current spec wants those
values, and feedgen 1.0's podcast extension only accepts yes/no/clean.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
CHAPTERS_MIME = "application/json+chapters"

_P = f"{{{PODCAST_NS}}}"
_I = f"{{{ITUNES_NS}}}"
_FRAGMENT_START = f'<x xmlns:podcast="{PODCAST_NS}" xmlns:itunes="{ITUNES_NS}">'
_FRAGMENT_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
_SPECIAL = re.compile("[&<>\"']")


def escape(value: str) -> str:
    """``value`` escaped for XML text or a double-quoted attribute (most need nothing)."""
    return html.escape(value) if _SPECIAL.search(value) else value


_EXPLICIT = {
    True: "<itunes:explicit>true</itunes:explicit>",
    False: "<itunes:explicit>false</itunes:explicit>",
}


def _explicit(parent: Any, explicit: bool | None) -> None:
    if explicit is not None:
        etree.SubElement(parent, _I + "explicit").text = "true" if explicit else "false"


def _persons(parent: Any, persons: Iterable[tuple[str, str]]) -> None:
    for name, role in persons:
        etree.SubElement(parent, _P + "person", role=role).text = name


class PodcastIndexExtension(BaseExtension):
    """Channel-level Podcasting 2.0 tags (and itunes:explicit true/false)."""

    def __init__(self) -> None:
        self.__guid: str | None = None
        self.__locked_owner: str | None = None
        self.__persons: list[tuple[str, str]] = []
        self.__explicit: bool | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS, "itunes": ITUNES_NS}

    def extend_rss(self, rss_feed: Any) -> Any:
        channel = rss_feed[0]
        _explicit(channel, self.__explicit)
        if self.__guid:
            etree.SubElement(channel, _P + "guid").text = self.__guid
        if self.__locked_owner:
            locked = etree.SubElement(channel, _P + "locked")
            locked.set("owner", self.__locked_owner)
            locked.text = "yes"
        _persons(channel, self.__persons)
        return rss_feed

    def podcast_guid(self, guid: str) -> None:
        """The show's permanent ``podcast:guid``."""
        self.__guid = guid

    def podcast_locked(self, owner_email: str) -> None:
        """Refuse imports by other hosting platforms; ``owner`` proves ownership by e-mail."""
        self.__locked_owner = owner_email

    def podcast_person(self, name: str, role: str = "host") -> None:
        self.__persons.append((name, role))

    def itunes_explicit(self, explicit: bool) -> None:
        self.__explicit = explicit


class PodcastIndexEntryExtension(BaseEntryExtension):
    """Item-level Podcasting 2.0 tags (and itunes:explicit true/false)."""

    def __init__(self) -> None:
        self.__transcripts: list[tuple[str, str, str]] = []
        self.__chapters: str | None = None
        self.__persons: list[tuple[str, str]] = []
        self.__episode: int | None = None
        self.__explicit: bool | None = None

    def extend_rss(self, entry: Any) -> Any:
        # Written as one XML fragment and parsed in one call: a feed has tens of
        # thousands of these elements, and creating them one by one through lxml costs
        # more (about a quarter, measured). Every value is escaped here, exactly once.
        parts = [_FRAGMENT_START]
        if self.__explicit is not None:
            parts.append(_EXPLICIT[self.__explicit])
        for url, mime, language in self.__transcripts:
            lang = f' language="{escape(language)}"' if language else ""
            parts.append(f'<podcast:transcript url="{escape(url)}" type="{escape(mime)}"{lang}/>')
        if self.__chapters:
            parts.append(
                f'<podcast:chapters url="{escape(self.__chapters)}" type="{CHAPTERS_MIME}"/>'
            )
        for name, role in self.__persons:
            parts.append(f'<podcast:person role="{escape(role)}">{escape(name)}</podcast:person>')
        if self.__episode is not None:
            parts.append(f"<podcast:episode>{int(self.__episode)}</podcast:episode>")
        parts.append("</x>")
        entry.extend(etree.fromstring("".join(parts), _FRAGMENT_PARSER))
        return entry

    def podcast_transcript(self, url: str, mime: str, language: str = "") -> None:
        self.__transcripts.append((url, mime, language))

    def podcast_chapters(self, url: str) -> None:
        self.__chapters = url

    def podcast_person(self, name: str, role: str = "host") -> None:
        self.__persons.append((name, role))

    def podcast_episode(self, number: int) -> None:
        self.__episode = number

    def itunes_explicit(self, explicit: bool) -> None:
        self.__explicit = explicit
