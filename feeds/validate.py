"""Feed validation: well-formed (lxml and feedparser), each profile's rules, files and artwork.

``feedparser_problems`` (from ``feeds.accepted``) is re-exported here for callers.

``check_feed`` returns every problem it finds as one line, never stopping at the first:
a producer fixing a feed wants the whole list at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from feeds.accepted import Accepted, feedparser_problems, feedparser_unseen, item_slices
from feeds.platforms import NAMESPACES, Profile

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
_URLS = (
    "channel/itunes:image/@href",
    "channel/image/url/text()",
    "channel/atom:link[@rel='self']/@href",
)
_EPISODE_TAG = f"{{{NAMESPACES['itunes']}}}episode"
# Checked item by item (so an item checked once in a run is not checked again).
_ITEM_URLS = (
    ("enclosure", "channel/item/enclosure/@url"),
    (f"{{{NAMESPACES['podcast']}}}transcript", "channel/item/podcast:transcript/@url"),
    (f"{{{NAMESPACES['podcast']}}}chapters", "channel/item/podcast:chapters/@url"),
)


@cache
def _xpath(expression: str) -> etree.XPath:
    return etree.XPath(expression, namespaces=NAMESPACES)


@cache
def _simple(expression: str) -> tuple[str, str | None] | None:
    """``tag`` or ``tag/@attr`` (prefixed names allowed) as a Clark name and attribute.

    Item checks run thousands of times per feed; ``find`` on a Clark name is far faster
    than evaluating XPath, so simple expressions take that path.
    """
    parts = expression.split("/")
    if len(parts) > 2 or (len(parts) == 2 and not parts[1].startswith("@")):
        return None
    prefix, _, local = parts[0].rpartition(":")
    if prefix and prefix not in NAMESPACES:
        return None
    tag = f"{{{NAMESPACES[prefix]}}}{local}" if prefix else local
    return tag, parts[1][1:] if len(parts) == 2 else None


def _has(node: Any, expression: str, children: dict[Any, list[Any]] | None = None) -> bool:
    """Whether ``expression`` finds something non-empty under ``node``.

    ``children`` (``node``'s children by tag) answers simple expressions without a search.
    """
    simple = _simple(expression)
    if simple is None:
        return _present(_xpath(expression)(node))
    tag, attribute = simple
    found = children.get(tag, (None,))[0] if children is not None else node.find(tag)
    if found is None:
        return False
    if attribute is not None:
        return bool((found.get(attribute) or "").strip())
    return bool((found.text or "").strip() or len(found) or found.attrib)


@dataclass(frozen=True)
class ArtworkFacts:
    """What Pillow saw in the cover art file."""

    relative: str
    format: str
    width: int
    height: int


def inspect_artwork(path: Path, relative: str) -> ArtworkFacts | str:
    """Pillow's view of the cover, or a one-line problem when it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return ArtworkFacts(relative, image.format or "", image.width, image.height)
    except FileNotFoundError:
        return f"artwork {relative} does not exist"
    except (UnidentifiedImageError, OSError) as exc:
        return f"artwork {relative} is not an image Pillow can read: {exc}"


def artwork_problems(art: ArtworkFacts | str | None, profile: Profile) -> list[str]:
    """What ``profile`` refuses about the cover art."""
    rule = profile.artwork
    if art is None:
        return ["no cover art: set show.cover in hotline.toml"] if rule.required else []
    if isinstance(art, str):
        return [art]
    problems = []
    if art.format not in rule.formats:
        problems.append(f"artwork {art.relative} is {art.format}; use {'/'.join(rule.formats)}")
    if art.width != art.height:
        problems.append(f"artwork {art.relative} is {art.width}×{art.height}; it must be square")
    side = min(art.width, art.height)
    if not rule.min_px <= side <= rule.max_px or max(art.width, art.height) > rule.max_px:
        problems.append(
            f"artwork {art.relative} is {art.width}×{art.height} px; "
            f"{profile.label} wants {rule.min_px}–{rule.max_px} px"
        )
    return problems


def _present(values: list[Any]) -> bool:
    for value in values:
        if isinstance(value, str) and value.strip():
            return True
        if not isinstance(value, str) and (
            (value.text or "").strip() or len(value) or value.attrib
        ):
            return True
    return False


def check_feed(
    data: bytes,
    profile: Profile,
    *,
    public_dir: Path,
    base_url: str | None = None,
    artwork: ArtworkFacts | str | None = None,
    sizes: dict[str, int | None] | None = None,
) -> list[str]:
    """Every problem of one feed against ``profile``; an empty list means it is good.

    Args:
        data: the feed's bytes.
        profile: the platform whose rules apply.
        public_dir: the ``public/`` folder enclosures must exist in.
        base_url: when given, every URL must start with it.
        artwork: the cover as ``inspect_artwork`` saw it (None: no cover).
        sizes: a cache of public file sizes shared between feeds of one run.
    """
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    return _check_root(root, profile, public_dir, base_url, artwork, sizes, None)


def validate_feed(
    data: bytes,
    profile: Profile,
    *,
    public_dir: Path,
    base_url: str,
    artwork: ArtworkFacts | str | None,
    sizes: dict[str, int | None],
    accepted: Accepted,
) -> tuple[list[str], list[str]]:
    """``check_feed`` and feedparser, each skipping what ``accepted`` already passed.

    Items that passed this profile's rules earlier in the run are not checked again
    (their guids still are); feedparser parses the channel and the items it has not
    accepted before. Returns the problems and the feed's feedparser keys (channel first,
    then each item's), which ``accepted`` gains when there is no problem.
    """
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"], []
    items = root.findall("channel/item")
    serialised = item_slices(data, len(items)) or [etree.tostring(i) for i in items]
    problems = _check_root(
        root, profile, public_dir, base_url, artwork, sizes, (accepted, serialised)
    )
    if problems:
        return problems, []
    return feedparser_unseen(data, accepted, serialised)


def _check_root(
    root: Any,
    profile: Profile,
    public_dir: Path,
    base_url: str | None,
    artwork: ArtworkFacts | str | None,
    sizes: dict[str, int | None] | None,
    memo: tuple[Accepted, list[bytes]] | None,
) -> list[str]:
    """The checks of ``check_feed``; with ``memo`` (and each item's bytes, in order), items
    ``Accepted.checked`` holds are skipped, bar their guid."""
    problems: list[str] = []
    for expression in profile.channel_tags:
        if not _present(_xpath(expression)(root)):
            problems.append(f"channel: required {expression.removeprefix('channel/')} is missing")
    problems += _url_problems(root, base_url)
    problems += artwork_problems(artwork, profile)
    items = root.findall("channel/item")
    if profile.max_items is not None and len(items) > profile.max_items:
        problems.append(f"{len(items)} items; {profile.label} reads at most {profile.max_items}")
    for date in _xpath("channel/lastBuildDate/text()")(root):
        problems += _date_problems(date, "channel lastBuildDate")
    seen: dict[str, str | _Where] = {}
    sizes = {} if sizes is None else sizes
    tags = frozenset(profile.item_tags)
    for index, item in enumerate(items, start=1):
        if memo is None:
            problems += _item_problems(item, index, profile, public_dir, base_url, seen, sizes)
            continue
        accepted, serialised = memo
        key = (serialised[index - 1], profile.description_bytes, base_url)
        guid = (item.findtext("guid") or "").strip()
        if tags <= accepted.checked.get(key, frozenset()) and guid not in seen:
            seen[guid] = _Where(item, index)
            continue
        found = _item_problems(item, index, profile, public_dir, base_url, seen, sizes)
        if not found:
            accepted.checked[key] = accepted.checked.get(key, frozenset()) | tags
        problems += found
    return problems


class _Where:
    """An item's place for messages, worked out only if a message needs it."""

    def __init__(self, item: Any, index: int) -> None:
        self.item, self.index = item, index

    def __str__(self) -> str:
        return _where(self.item, self.index)


def _where(item: Any, index: int) -> str:
    episode = item.findtext(_EPISODE_TAG)
    return f"item {index}" + (f" (episode {episode})" if episode else "")


def _item_problems(
    item: Any,
    index: int,
    profile: Profile,
    public_dir: Path,
    base_url: str | None,
    seen: dict[str, str | _Where],
    sizes: dict[str, int | None],
) -> list[str]:
    # One pass over the children instead of a search per rule: items are checked by the
    # thousand, and each find() costs more than the whole pass.
    children: dict[Any, list[Any]] = {}
    for child in item:
        children.setdefault(child.tag, []).append(child)

    def text(tag: str) -> str | None:
        found = children.get(tag)
        return None if found is None else found[0].text or ""

    number = text(_EPISODE_TAG)
    where = f"item {index}" + (f" (episode {number})" if number else "")
    problems = [
        f"{where}: required {expression} is missing"
        for expression in profile.item_tags
        if not _has(item, expression, children)
    ]
    guid = (text("guid") or "").strip()
    if guid:
        if guid in seen:
            problems.append(f"{where}: guid {guid} repeats {seen[guid]}")
        seen[guid] = where
    date = text("pubDate")
    if date is not None:
        problems += _date_problems(date, f"{where} pubDate")
    size = len((text("description") or "").encode())
    if size > profile.description_bytes:
        problems.append(
            f"{where}: description is {size} bytes; "
            f"{profile.label} allows {profile.description_bytes}"
        )
    for tag, expression in _ITEM_URLS:
        for node in children.get(tag, ()):
            problems += _url_problem(node.get("url", ""), expression, base_url)
    for enclosure in children.get("enclosure", ())[:1]:
        problems += _enclosure_problems(enclosure, where, public_dir, base_url, sizes)
    return problems


def _enclosure_problems(
    enclosure: Any,
    where: str,
    public_dir: Path,
    base_url: str | None,
    sizes: dict[str, int | None],
) -> list[str]:
    url = enclosure.get("url", "")
    problems = []
    if enclosure.get("type") != "audio/mpeg":
        problems.append(f"{where}: enclosure type {enclosure.get('type')!r} is not audio/mpeg")
    if base_url is None or not url.startswith(base_url + "/"):
        return problems
    relative = url[len(base_url) + 1 :]
    if relative not in sizes:
        path = public_dir / relative
        sizes[relative] = path.stat().st_size if path.is_file() else None
    size = sizes[relative]
    if size is None:
        problems.append(f"{where}: enclosure file public/{relative} does not exist")
    elif str(size) != enclosure.get("length"):
        problems.append(
            f"{where}: enclosure length {enclosure.get('length')} but public/{relative} "
            f"has {size} bytes"
        )
    return problems


def _url_problems(root: Any, base_url: str | None) -> list[str]:
    problems = []
    for expression in _URLS:
        for url in _xpath(expression)(root):
            problems += _url_problem(str(url), expression, None)
    return problems


def _url_problem(url: str, expression: str, base_url: str | None) -> list[str]:
    """``url`` must be absolute https (and, for items' files, under ``base_url``)."""
    if not url.startswith("https://"):
        return [f"URL {url!r} ({expression}) is not absolute https"]
    if not url.isascii() or any(ch.isspace() for ch in url):
        return [f"URL {url!r} ({expression}) is not percent-encoded (spaces, non-ASCII)"]
    if base_url is not None and not url.startswith(base_url):
        return [f"URL {url!r} is not under the base URL {base_url}"]
    return []


def _date_problems(text: str, where: str) -> list[str]:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return [f"{where} {text!r} is not an RFC 2822 date"]
    if moment.tzinfo is None:
        return [f"{where} {text!r} has no time zone"]
    return []


__all__ = [
    "ArtworkFacts",
    "artwork_problems",
    "check_feed",
    "feedparser_problems",
    "inspect_artwork",
    "validate_feed",
]
