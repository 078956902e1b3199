"""The ID3 tags a master should carry, their fingerprint, and re-tagging without encoding.

Mastering writes these tags into a new master; publishing and the master stage compare
:func:`tags_fingerprint` with ``Episode.tags_fingerprint`` and, when the title,
description, chapters or cover changed, :func:`retag_master` rewrites only the tag (a
tagged copy replaces the file: the audio frames are copied byte for byte, never
encoded again). Masters are public (linked into ``public/audio``), so every text
passes through the station's :class:`~episodes.public_text.Redactor`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from episodes.chapters import Chapter
from episodes.tags import EpisodeTags, write_tags
from hotline.config import ShowSettings
from hotline.errors import Conflict, InvalidInput

TAGS_VERSION = 1
"""Bump when the tags written for the same facts change, so masters are re-tagged."""


def numbered_title(number: int, title: str) -> str:
    """``第999期 title`` for players, without doubling a number the title already has."""
    prefix = f"第{number}期"
    rest = title.removeprefix(prefix).lstrip("：: ")
    return f"{prefix} {rest}".strip()


def episode_tags(
    *,
    number: int,
    title: str,
    air_date: str,
    description: str,
    chapters: Sequence[Chapter],
    show: ShowSettings,
    cover: tuple[bytes, str] | None,
    redact: Callable[[str], str],
) -> EpisodeTags:
    """The tags of episode ``number``'s master; ``chapters`` from ``chapter_marks``."""
    return EpisodeTags(
        title=redact(numbered_title(number, title)),
        show=show.name,
        episode_number=number,
        date=air_date,
        genre="Podcast",
        language=show.language,
        description=redact(description),
        cover=cover[0] if cover else None,
        cover_mime=cover[1] if cover else None,
        chapters=[(c.start, c.end, redact(c.title)) for c in chapters],
    )


def cover_art(path: Path, relative: str) -> tuple[bytes, str]:
    """The cover's bytes and MIME type, refusing a missing file or one that is no JPEG/PNG."""
    if not path.is_file():
        raise InvalidInput(f"cover art {relative} (show.cover) does not exist")
    data = path.read_bytes()
    if data.startswith(b"\x89PNG"):
        return data, "image/png"
    if data.startswith(b"\xff\xd8"):
        return data, "image/jpeg"
    raise InvalidInput(f"cover art {relative} (show.cover) is neither JPEG nor PNG")


def tags_fingerprint(tags: EpisodeTags) -> str:
    """A hash of everything ``tags`` writes: equal fingerprints, equal tags."""
    facts = {
        "version": TAGS_VERSION,
        "title": tags.title,
        "show": tags.show,
        "artist": tags.artist,
        "episode": tags.episode_number,
        "date": str(tags.date or ""),
        "genre": tags.genre,
        "language": tags.language,
        "description": tags.description,
        "cover": hashlib.sha256(tags.cover).hexdigest() if tags.cover else None,
        "cover_mime": tags.cover_mime,
        "chapters": [[round(s, 3), round(e, 3), t] for s, e, t in tags.chapters],
    }
    data = json.dumps(facts, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()


def retag_master(path: Path, tags: EpisodeTags, *, expected_bytes: int | None) -> int:
    """Replace the tag of the master at ``path`` with ``tags``; return its new size.

    The tagged copy replaces ``path`` atomically (a new file: a published generation
    that links the old one keeps it). ``expected_bytes`` is the size the station
    recorded; a master of another size was replaced since (a new master is being
    written) and is left alone.
    """
    if expected_bytes is not None and path.stat().st_size != expected_bytes:
        raise Conflict(
            f"master {path.name} changed on disk since it was recorded; "
            "run `hotline process` to finish mastering first"
        )
    write_tags(path, tags)
    return os.stat(path).st_size
