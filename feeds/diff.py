"""What differs between two versions of a feed: items added, removed and changed, by guid.

Both versions are parsed (lxml, as a reader would); items are matched by their
``<guid>`` (fixed at first publish, so a new title is a change, not a new item), and
each field of an item (a child element: ``title``, ``enclosure``, ``itunes:duration``,
``podcast:transcript``, …) is compared by its canonical XML, so a change of attribute
counts and a change of serialisation does not. The channel's own fields are compared
the same way, its ``lastBuildDate`` aside (every publish that writes sets it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

_ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
_IGNORED_CHANNEL = frozenset({"item", "lastBuildDate"})


@dataclass(frozen=True)
class ItemRef:
    """One item of a feed, as people name it."""

    guid: str
    number: int | None
    """Its ``itunes:episode`` (None when it has none)."""
    title: str


@dataclass(frozen=True)
class ChangedItem:
    """An item in both versions whose fields differ."""

    item: ItemRef
    fields: tuple[str, ...]
    """The fields that differ, in the order the new item has them."""


@dataclass
class FeedDiff:
    """The changes from one version of a feed to the next."""

    added: list[ItemRef] = field(default_factory=list)
    removed: list[ItemRef] = field(default_factory=list)
    changed: list[ChangedItem] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)
    """Channel fields that differ (``lastBuildDate`` never counts)."""

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.channel)


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def _name(element: etree._Element) -> str:
    local = etree.QName(element).localname
    return f"{element.prefix}:{local}" if element.prefix else local


def _fields(
    parent: etree._Element, ignored: frozenset[str] = frozenset()
) -> dict[str, list[bytes]]:
    """Each child field's canonical XML, by field name (repeated fields in order)."""
    found: dict[str, list[bytes]] = {}
    for child in parent:
        if not isinstance(child.tag, str):  # a comment or processing instruction
            continue
        name = _name(child)
        if name not in ignored:
            found.setdefault(name, []).append(etree.tostring(child, method="c14n"))
    return found


def _ref(item: etree._Element) -> ItemRef:
    number = item.findtext(f"{{{_ITUNES}}}episode")
    return ItemRef(
        guid=item.findtext("guid") or "",
        number=int(number) if number and number.strip().isdigit() else None,
        title=item.findtext("title") or "",
    )


def _items(channel: etree._Element | None) -> dict[str, etree._Element]:
    if channel is None:
        return {}
    return {item.findtext("guid") or "": item for item in channel.iterfind("item")}


def _differing(old: dict[str, list[bytes]], new: dict[str, list[bytes]]) -> list[str]:
    names = list(new) + [name for name in old if name not in new]
    return [name for name in names if old.get(name) != new.get(name)]


def diff_feeds(old: bytes | None, new: bytes) -> FeedDiff:
    """The changes from ``old`` (None: no feed yet) to ``new``, items in ``new``'s order."""
    new_channel = etree.fromstring(new, _PARSER).find("channel")
    old_channel = etree.fromstring(old, _PARSER).find("channel") if old is not None else None
    before, after = _items(old_channel), _items(new_channel)
    diff = FeedDiff()
    for guid, item in after.items():
        if guid not in before:
            diff.added.append(_ref(item))
            continue
        fields = _differing(_fields(before[guid]), _fields(item))
        if fields:
            diff.changed.append(ChangedItem(_ref(item), tuple(fields)))
    diff.removed = [_ref(item) for guid, item in before.items() if guid not in after]
    if old_channel is not None and new_channel is not None:
        diff.channel = _differing(
            _fields(old_channel, _IGNORED_CHANNEL), _fields(new_channel, _IGNORED_CHANNEL)
        )
    return diff
