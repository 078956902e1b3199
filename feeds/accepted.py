"""What validation has already accepted, so a publish re-checks only what changed.

Two memories, both keyed by the exact serialised XML of a part of a feed:

- ``Accepted.checked``: items that passed a profile's lxml item rules in this run (the
  rules depend on files in ``public/``, so this one never outlives the run);
- ``Accepted.parsed``: items and channels feedparser parsed without a bozo flag, by
  SHA-256, kept across runs in a note beside the generation whose feeds they describe
  (``.public/<generation>.validated.json``: not served, removed with the generation).
  feedparser is pure Python (about a millisecond per item), so a weekly publish parses
  the new episode's item and the channel instead of the whole archive again.

The file records, per feed, the keys of the feed last written; keys of a feed that was
not rewritten are carried over, so the file only ever describes the feeds on disk. A
missing, unreadable or other-feedparser-version file just means everything is parsed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from feeds import files, forked

NOTE_NAME = "validated.json"
# From this many unseen items on, a second CPU parses half of them.
PARALLEL_MIN = 200


def _feedparser_version() -> str:
    import feedparser

    return str(feedparser.__version__)


@dataclass
class Accepted:
    """What this run (and, for feedparser, earlier runs) found clean."""

    checked: dict[tuple[bytes, int, str | None], frozenset[str]] = field(default_factory=dict)
    """Items that passed every item rule in this run, by (serialised item, description
    limit, base URL): the required-tag expressions they were found to have."""
    parsed: set[str] = field(default_factory=set)
    """SHA-256 of serialised items and channels feedparser accepted."""
    feeds: dict[str, list[str]] = field(default_factory=dict)
    """Per feed file name: the keys of its channel and items as last written."""


def load(note: Path) -> Accepted:
    """The accepted keys recorded in the file ``note`` (empty when none can be trusted)."""
    try:
        document = json.loads(note.read_bytes())
        if document.get("feedparser") != _feedparser_version():
            return Accepted()
        feeds = {str(name): [str(key) for key in keys] for name, keys in document["feeds"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return Accepted()
    return Accepted(parsed={key for keys in feeds.values() for key in keys}, feeds=feeds)


def save(note: Path, accepted: Accepted, written: dict[str, list[str]]) -> bool:
    """Record the keys of the feeds on disk: ``written`` replaces those feeds' old keys.

    Written atomically, and only when it changed; True when written.
    """
    feeds = {**accepted.feeds, **written}
    document = {"feedparser": _feedparser_version(), "feeds": dict(sorted(feeds.items()))}
    data = json.dumps(document, separators=(",", ":")).encode()
    return files.write_if_changed(note, data)


def item_slices(data: bytes, count: int) -> list[bytes] | None:
    """Each item's bytes as served, or None when ``data`` is not laid out as lxml writes it.

    lxml writes the items back to back, each ``<item>…</item>`` with ``<`` escaped in text
    and attributes; only item descriptions are CDATA, and one holding ``</item>`` would
    break the back-to-back run or the count, so the slices are exact when both hold.
    """
    slices: list[bytes] = []
    start = data.find(b"<item>")
    while start >= 0:
        end = data.find(b"</item>", start)
        if end < 0:
            return None
        end += len(b"</item>")
        slices.append(data[start:end])
        start = end if data.startswith(b"<item>", end) else -1
    if len(slices) != count or (count and data.find(b"<item>", end) >= 0):
        return None
    return slices


def feedparser_unseen(
    data: bytes, accepted: Accepted, serialised: list[bytes]
) -> tuple[list[str], list[str]]:
    """feedparser on the channel and the items of ``data`` not accepted before.

    ``serialised`` holds each item's bytes, in order. The channel is keyed by the feed's
    own bytes around its items (lxml escapes ``<`` in text and only item descriptions
    are CDATA, so the first ``<item>`` and the last ``</item>`` are the items' bounds).
    """
    first, last = data.find(b"<item>"), data.rfind(b"</item>")
    head, tail = (data[:first], data[last + len(b"</item>") :]) if first >= 0 else (data, b"")
    channel_key = hashlib.sha256(head + tail).hexdigest()
    item_keys = [hashlib.sha256(item).hexdigest() for item in serialised]
    keys = [channel_key, *item_keys]
    fresh = [i for i, key in enumerate(item_keys) if key not in accepted.parsed]
    if not fresh and channel_key in accepted.parsed:
        return [], keys
    split = len(fresh) >= PARALLEL_MIN and forked.can_fork()
    halves = [fresh[::2], fresh[1::2]] if split else [fresh]
    docs = [head + b"".join(serialised[i] for i in half) + tail for half in halves]
    problems = _parse_all(docs)
    if problems:
        return problems, []
    accepted.parsed.add(channel_key)
    accepted.parsed.update(item_keys[i] for i in fresh)
    return [], keys


def _parse_all(docs: list[bytes]) -> list[str]:
    """``feedparser_problems`` of every document; every second one in a forked child.

    A first publish parses the whole archive (over a second on a 1200-episode feed): two
    CPUs halve that. The child only parses and answers through a pipe.
    """
    return [problem for found in forked.map_in_two(_problems_each, docs) for problem in found]


def _problems_each(docs: list[bytes]) -> list[list[str]]:
    return [feedparser_problems(doc) for doc in docs]


def feedparser_problems(data: bytes) -> list[str]:
    """Parse with feedparser, as podcast apps' parsers do; a bozo flag is a problem."""
    import feedparser

    parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    if parsed.get("bozo"):
        return [f"feedparser: {parsed.get('bozo_exception')}"]
    return []
