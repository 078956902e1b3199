"""Feed validation: well-formed (lxml and feedparser), each profile's rules, files and artwork.

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

from feeds.platforms import NAMESPACES, Profile

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
_URLS = (
    "channel/itunes:image/@href",
    "channel/image/url/text()",
    "channel/atom:link[@rel='self']/@href",
    "channel/item/enclosure/@url",
    "channel/item/podcast:transcript/@url",
    "channel/item/podcast:chapters/@url",
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


def _has(node: Any, expression: str) -> bool:
    simple = _simple(expression)
    if simple is None:
        return _present(_xpath(expression)(node))
    tag, attribute = simple
    found = node.find(tag)
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
    seen: dict[str, str] = {}
    sizes = {} if sizes is None else sizes
    for index, item in enumerate(items, start=1):
        problems += _item_problems(item, index, profile, public_dir, base_url, seen, sizes)
    return problems


def _item_problems(
    item: Any,
    index: int,
    profile: Profile,
    public_dir: Path,
    base_url: str | None,
    seen: dict[str, str],
    sizes: dict[str, int | None],
) -> list[str]:
    episode = item.findtext("itunes:episode", namespaces=NAMESPACES)
    where = f"item {index}" + (f" (episode {episode})" if episode else "")
    problems = [
        f"{where}: required {expression} is missing"
        for expression in profile.item_tags
        if not _has(item, expression)
    ]
    guid = (item.findtext("guid") or "").strip()
    if guid:
        if guid in seen:
            problems.append(f"{where}: guid {guid} repeats {seen[guid]}")
        seen[guid] = where
    date = item.findtext("pubDate")
    if date is not None:
        problems += _date_problems(date, f"{where} pubDate")
    description = item.findtext("description") or ""
    if len(description.encode()) > profile.description_bytes:
        problems.append(
            f"{where}: description is {len(description.encode())} bytes; "
            f"{profile.label} allows {profile.description_bytes}"
        )
    enclosure = item.find("enclosure")
    if enclosure is not None:
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
            url = str(url)
            if not url.startswith("https://"):
                problems.append(f"URL {url!r} ({expression}) is not absolute https")
            elif base_url is not None and "item" in expression and not url.startswith(base_url):
                problems.append(f"URL {url!r} is not under the base URL {base_url}")
    return problems


def _date_problems(text: str, where: str) -> list[str]:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return [f"{where} {text!r} is not an RFC 2822 date"]
    if moment.tzinfo is None:
        return [f"{where} {text!r} has no time zone"]
    return []


def feedparser_problems(data: bytes, *, known_items: set[bytes] | None = None) -> list[str]:
    """Parse with feedparser, as podcast apps' parsers do; a bozo flag is a problem.

    feedparser is slow (milliseconds per item), so items in ``known_items`` (serialised
    items already parsed cleanly: the last good feed's, or another profile's in this
    run) are left out of the parse, and the items parsed now are added to the set.
    """
    import feedparser

    if known_items is not None:
        try:
            root = etree.fromstring(data, _PARSER)
        except etree.XMLSyntaxError as exc:
            return [f"not well-formed XML: {exc}"]
        channel = root.find("channel")
        fresh = []
        for item in list(channel if channel is not None else []):
            if item.tag != "item":
                continue
            key = etree.tostring(item, with_tail=False)
            if key in known_items:
                item.getparent().remove(item)
            else:
                fresh.append(key)
        data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    if parsed.get("bozo"):
        return [f"feedparser: {parsed.get('bozo_exception')}"]
    if known_items is not None:
        known_items.update(fresh)
    return []


def item_keys(data: bytes) -> set[bytes]:
    """The serialised items of a feed (for ``feedparser_problems``' known items)."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        return set()
    return {etree.tostring(item, with_tail=False) for item in root.iterfind("channel/item")}
