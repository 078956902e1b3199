"""A feedgen extension for the Podcasting 2.0 namespace, which feedgen does not know.

Registered by ``feeds.rss`` with ``FeedGenerator.register_extension("podcastindex", …)``.
Channel: ``podcast:guid``, ``podcast:locked``, ``podcast:person`` (hosts). Item:
``podcast:transcript``, ``podcast:chapters``, ``podcast:person``, ``podcast:episode``.

It also writes ``itunes:explicit`` as ``true``/``false``: Apple's current spec wants those
values, and feedgen 1.0's podcast extension only accepts yes/no/clean.

An item's tags are written as text, not as lxml elements: they are half of a feed's
elements, and building, moving and re-serialising them through lxml was most of the
time a feed took beyond plain feedgen. The item only carries a marker where they go
(the tail of its last child, which lxml writes just before ``</item>``); ``fill_items``
puts each item's text there in the serialised feed. The text is escaped exactly as
lxml writes it, so the feed is byte for byte what lxml elements would give.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
CHAPTERS_MIME = "application/json+chapters"

_P = f"{{{PODCAST_NS}}}"
_I = f"{{{ITUNES_NS}}}"
# Random per process, so no text a producer types can pass for it.
_MARKER = f"podcastindex-item-{secrets.token_hex(16)}"
_MARKER_BYTES = _MARKER.encode()
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
# What needs care in a value: markup characters lxml escapes, and characters lxml does
# not write back as given (C0 controls, tab and line breaks included, which the parser
# folds; characters XML 1.0 forbids, which it refuses). The first two patterns stay
# below U+0100 so that they compile to a fast bitmap; only a value with a character
# beyond ASCII is also searched for the rest.
_TEXT_CARE = re.compile("[&<>\x00-\x1f]")
_ATTRIBUTE_CARE = re.compile('[&<>"\x00-\x1f]')
_UNUSUAL = re.compile("[\x00-\x1f\ud800-\udfff\ufffe\uffff]")
_EXPLICIT = {
    True: b"<itunes:explicit>true</itunes:explicit>",
    False: b"<itunes:explicit>false</itunes:explicit>",
}


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xml_text(value: str) -> str:
    """``value`` as lxml writes it as element text (most values are written as given)."""
    if _TEXT_CARE.search(value) is None and (value.isascii() or _UNUSUAL.search(value) is None):
        return value
    if _UNUSUAL.search(value) is None:
        return _escape(value)
    return _as_lxml_writes(f"<x>{_escape(value)}</x>")[len("<x>") : -len("</x>")]


def xml_attribute(value: str) -> str:
    """``value`` as lxml writes it in a double-quoted attribute."""
    if _ATTRIBUTE_CARE.search(value) is None and (
        value.isascii() or _UNUSUAL.search(value) is None
    ):
        return value
    escaped = _escape(value).replace('"', "&quot;")
    if _UNUSUAL.search(value) is None:
        return escaped
    return _as_lxml_writes(f'<x a="{escaped}"/>')[len('<x a="') : -len('"/>')]


def _as_lxml_writes(element: str) -> str:
    """``element`` parsed and written back by lxml, which folds line breaks and tabs the
    way a parser does and refuses what XML cannot hold, as it did for every tag once."""
    return etree.tostring(etree.fromstring(element, _PARSER), encoding="unicode")


@lru_cache(maxsize=4096)
def _person(name: str, role: str) -> bytes:
    # Hosts are on every item and guests on many: each tag is written once.
    tag = f'<podcast:person role="{xml_attribute(role)}">{xml_text(name)}</podcast:person>'
    return tag.encode()


@lru_cache(maxsize=64)
def _transcript_type(mime: str, language: str) -> str:
    lang = f' language="{xml_attribute(language)}"' if language else ""
    return f' type="{xml_attribute(mime)}"{lang}/>'


def fill_items(document: bytes, fragments: Sequence[bytes]) -> bytes:
    """``document`` with each item's marker replaced by its tags, items in order.

    Args:
        document: the feed as lxml wrote it.
        fragments: ``PodcastIndexEntryExtension.rendered`` of each item, in feed order.
    """
    parts = document.split(_MARKER_BYTES)
    if len(parts) != len(fragments) + 1:
        raise RuntimeError(f"{len(parts) - 1} item markers in the feed for {len(fragments)} items")
    out = [parts[0]]
    for fragment, part in zip(fragments, parts[1:], strict=True):
        out += (fragment, part)
    return b"".join(out)


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
    """Item-level Podcasting 2.0 tags (and itunes:explicit true/false).

    Each setter writes its tag's text at once (a value XML cannot hold fails there, as
    the lxml element did); the serialised feed needs ``fill_items`` with ``rendered``.
    """

    def __init__(self) -> None:
        # UTF-8 bytes, as the feed is: names are Chinese, and one encoding of a whole
        # item's text would be slower than joining tags encoded once (or ASCII).
        self.__explicit = b""
        self.__transcripts: list[bytes] = []
        self.__chapters = b""
        self.__persons: list[bytes] = []
        self.__episode = b""
        self.__rendered = b""

    def extend_rss(self, entry: Any) -> Any:
        self.__rendered = b"".join(
            (
                self.__explicit,
                *self.__transcripts,
                self.__chapters,
                *self.__persons,
                self.__episode,
            )
        )
        entry[-1].tail = _MARKER
        return entry

    @property
    def rendered(self) -> bytes:
        """The item's tags as UTF-8 XML, once ``extend_rss`` has run: for ``fill_items``."""
        return self.__rendered

    def podcast_transcript(self, url: str, mime: str, language: str = "") -> None:
        tag = f'<podcast:transcript url="{xml_attribute(url)}"{_transcript_type(mime, language)}'
        self.__transcripts.append(tag.encode())

    def podcast_chapters(self, url: str) -> None:
        tag = f'<podcast:chapters url="{xml_attribute(url)}" type="{CHAPTERS_MIME}"/>'
        self.__chapters = tag.encode() if url else b""

    def podcast_person(self, name: str, role: str = "host") -> None:
        self.__persons.append(_person(name, role))

    def podcast_episode(self, number: int | None) -> None:
        tag = "" if number is None else f"<podcast:episode>{int(number)}</podcast:episode>"
        self.__episode = tag.encode()

    def itunes_explicit(self, explicit: bool | None) -> None:
        self.__explicit = b"" if explicit is None else _EXPLICIT[bool(explicit)]
