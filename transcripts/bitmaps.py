"""Sets of segments as per-episode bitmaps: intersect, count and list them without positions.

A set holds, for each episode in it (ascending episode key: newest first), a bitmap of
segment ordinals: bit ``o % 8`` of byte ``o // 8`` is set when the episode's segment of
ordinal ``o`` is in the set. Intersecting two sets is a byte-wise AND of the episodes they
share, counting is a popcount. The index stores such a bitmap for a token wherever it is no
larger than the token's list of segments (transcripts.index), so a query of two common words
(我们 这个, each in a fifth of all segments) is counted from a few hundred kilobytes of
bitmaps instead of megabytes of positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ORDINAL_BITS = 20
"""A segment key is ``episode_key << 20 | ordinal`` (transcripts.index.SEGMENT_SPAN)."""
_ORDINAL_MASK = np.uint64((1 << ORDINAL_BITS) - 1)
_POPCOUNT = np.array([bin(byte).count("1") for byte in range(256)], dtype=np.uint8)


def _popcount(bits: np.ndarray) -> np.ndarray:
    """Set bits of each byte (numpy 2 has a ufunc for it, 1.26 a table lookup)."""
    count = getattr(np, "bitwise_count", None)
    return count(bits) if count is not None else _POPCOUNT[bits]


@dataclass
class SegmentSet:
    """Segments of some episodes; their bitmaps lie back to back in ``bits``, in episode order."""

    episodes: np.ndarray  # uint64 episode keys, ascending
    starts: np.ndarray  # int64 offset of each episode's bitmap in ``bits``
    widths: np.ndarray  # int64 length of each episode's bitmap in bytes, at least 1
    bits: np.ndarray  # uint8

    def counts(self) -> np.ndarray:
        """Segments in the set per episode (int64, aligned with ``episodes``)."""
        if not len(self.starts):
            return np.zeros(0, dtype=np.int64)
        # Every width is at least 1, so the starts ascend strictly, as reduceat needs.
        return np.add.reduceat(_popcount(self.bits), self.starts, dtype=np.int64)


def empty() -> SegmentSet:
    nothing = np.zeros(0, dtype=np.int64)
    return SegmentSet(np.zeros(0, dtype=np.uint64), nothing, nothing, np.zeros(0, dtype=np.uint8))


def _packed(groups: np.ndarray, ordinals: np.ndarray) -> SegmentSet:
    """Bitmaps of ``ordinals`` grouped by ``groups`` (sorted by group, then ordinal), with
    the group values as episodes. Repeated ordinals are fine: a bit is set once."""
    if not len(groups):
        return empty()
    first = np.flatnonzero(np.append(True, groups[1:] != groups[:-1]))
    last = np.append(first[1:], len(groups)) - 1
    # Ordinals ascend within a group, so its last one is its largest.
    widths = (ordinals[last] >> np.uint64(3)).astype(np.int64) + 1
    starts = np.cumsum(widths) - widths
    sizes = np.diff(np.append(first, len(groups)))
    bit = np.repeat(starts * 8, sizes).astype(np.uint64) + ordinals
    flags = np.zeros(int(widths.sum()) * 8, dtype=bool)
    flags[bit] = True
    bits = np.packbits(flags, bitorder="little")
    return SegmentSet(groups[first].astype(np.uint64), starts, widths, bits)


def from_segments(segments: np.ndarray) -> SegmentSet:
    """The set of sorted, distinct segment keys."""
    return _packed(segments >> np.uint64(ORDINAL_BITS), segments & _ORDINAL_MASK)


def row_bitmaps(sizes: np.ndarray, ordinals: np.ndarray) -> list[bytes]:
    """One bitmap per row: row ``i`` holds the next ``sizes[i]`` of ``ordinals`` (ascending)."""
    groups = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    packed = _packed(groups, ordinals.astype(np.uint64))
    data = packed.bits.tobytes()
    return [
        data[start : start + width]
        for start, width in zip(packed.starts.tolist(), packed.widths.tolist(), strict=True)
    ]


def from_rows(rows: list[tuple[int, bytes]]) -> SegmentSet:
    """The set stored as (episode key, bitmap) rows in ascending episode key."""
    if not rows:
        return empty()
    blobs = [bytes(row[1]) for row in rows]
    widths = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
    return SegmentSet(
        np.array([row[0] for row in rows], dtype=np.uint64),
        np.cumsum(widths) - widths,
        widths,
        np.frombuffer(b"".join(blobs), dtype=np.uint8),
    )


def _gather(
    source: SegmentSet, chosen: np.ndarray, starts: np.ndarray, widths: np.ndarray
) -> np.ndarray:
    """The bitmaps of ``source``'s episodes ``chosen`` cut to ``widths``, laid out at ``starts``."""
    offsets = np.repeat(source.starts[chosen] - starts, widths)
    return source.bits[offsets + np.arange(len(offsets), dtype=np.int64)]


def union(a: SegmentSet, b: SegmentSet) -> SegmentSet:
    """The union of two sets with no episode in common."""
    if not len(b.episodes):
        return a
    if not len(a.episodes):
        return b
    episodes = np.concatenate([a.episodes, b.episodes])
    order = np.argsort(episodes, kind="stable")
    widths = np.concatenate([a.widths, b.widths])[order]
    starts = np.cumsum(widths) - widths
    old_starts = np.concatenate([a.starts, b.starts + len(a.bits)])[order]
    bits = np.concatenate([a.bits, b.bits])
    offsets = np.repeat(old_starts - starts, widths)
    return SegmentSet(
        episodes[order], starts, widths, bits[offsets + np.arange(len(offsets), dtype=np.int64)]
    )


def intersect(a: SegmentSet, b: SegmentSet) -> SegmentSet:
    """Segments in both sets; episodes left without any are dropped."""
    _, in_a, in_b = np.intersect1d(a.episodes, b.episodes, assume_unique=True, return_indices=True)
    # A bit past the end of a shorter bitmap is clear, so the shorter width is enough.
    widths = np.minimum(a.widths[in_a], b.widths[in_b])
    starts = np.cumsum(widths) - widths
    bits = _gather(a, in_a, starts, widths) & _gather(b, in_b, starts, widths)
    both = SegmentSet(a.episodes[in_a], starts, widths, bits)
    kept = np.flatnonzero(both.counts())
    if len(kept) == len(widths):
        return both
    widths = widths[kept]
    starts = np.cumsum(widths) - widths
    return SegmentSet(both.episodes[kept], starts, widths, _gather(both, kept, starts, widths))


def contains(found: SegmentSet, segments: np.ndarray) -> np.ndarray:
    """Which of ``segments`` (segment keys) are in the set."""
    episodes = segments >> np.uint64(ORDINAL_BITS)
    if not len(found.episodes):
        return np.zeros(len(segments), dtype=bool)
    at = np.minimum(np.searchsorted(found.episodes, episodes), len(found.episodes) - 1)
    ordinals = (segments & _ORDINAL_MASK).astype(np.int64)
    byte = ordinals >> 3
    inside = (found.episodes[at] == episodes) & (byte < found.widths[at])
    values = found.bits[np.where(inside, found.starts[at] + byte, 0)]
    return inside & ((values >> (ordinals & 7).astype(np.uint8)) & 1).astype(bool)


def first_segments(found: SegmentSet, limit: int) -> np.ndarray:
    """The first ``limit`` segment keys of the set, ascending (newest episode first)."""
    if limit <= 0 or not len(found.episodes):
        return np.zeros(0, dtype=np.uint64)
    # Only the episodes that hold the first ``limit`` members are unpacked.
    needed = int(np.searchsorted(np.cumsum(found.counts()), limit)) + 1
    needed = min(needed, len(found.episodes))
    end = int(found.starts[needed - 1] + found.widths[needed - 1])
    bit = np.flatnonzero(np.unpackbits(found.bits[:end], bitorder="little"))[:limit]
    episode = np.searchsorted(found.starts[:needed] * 8, bit, side="right") - 1
    ordinals = (bit - found.starts[episode] * 8).astype(np.uint64)
    return (found.episodes[episode] << np.uint64(ORDINAL_BITS)) | ordinals
