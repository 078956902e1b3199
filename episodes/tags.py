"""ID3v2.4 tags of masters (title, show, episode, date, cover, chapters) and tags of deliveries.

mutagen stays behind this module: ``write_tags`` and ``read_tags`` for masters, and
``existing_tags`` for whatever a delivered file (MP3, M4A, FLAC, Ogg) already carries.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from hotline.errors import InvalidInput

NO_OFFSET = 0xFFFFFFFF
"""CHAP byte offsets: 'not given', players use the times."""
TOC_ID = "toc"
# ID3 wants ISO 639-2 codes; the station settings use BCP 47 tags such as zh-cn.
_LANGUAGES = {"zh": "zho", "en": "eng", "ja": "jpn", "ko": "kor", "fr": "fra", "de": "deu"}


@dataclass
class EpisodeTags:
    """What a master's ID3 tag says about its episode."""

    title: str
    """Shown as the episode title: ``第999期 …``."""
    show: str
    """The programme's name: album, and artist unless ``artist`` is given."""
    episode_number: int
    date: str | date | None = None
    """Recording date (TDRC), a date or YYYY-MM-DD."""
    genre: str = "Podcast"
    language: str = "zh-cn"
    description: str = ""
    cover: bytes | None = None
    """JPEG or PNG bytes."""
    cover_mime: str | None = None
    """image/jpeg or image/png; found from the bytes when not given."""
    chapters: list[tuple[float, float, str]] = field(default_factory=list)
    """(start seconds, end seconds, title) in order, not overlapping."""
    artist: str = ""


def id3_language(language: str) -> str:
    """zh-cn → zho: the three-letter code ID3 frames carry."""
    base = language.strip().lower().replace("_", "-").split("-")[0]
    if len(base) == 3:
        return base
    return _LANGUAGES.get(base, "und")


def _cover_mime(data: bytes, given: str | None) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        found = "image/png"
    elif data.startswith(b"\xff\xd8\xff"):
        found = "image/jpeg"
    else:
        raise InvalidInput("cover art is neither JPEG nor PNG")
    if given and given.lower() not in (found, "image/jpg" if found == "image/jpeg" else found):
        raise InvalidInput(f"cover art is {found}, not {given}")
    return found


def _check_chapters(chapters: list[tuple[float, float, str]], length: float) -> None:
    previous_end = 0.0
    for index, (start, end, title) in enumerate(chapters, 1):
        where = f"chapter {index} ({title!r})"
        if start < 0 or end <= start:
            raise InvalidInput(f"{where}: start {start:.3f} s must be ≥ 0 and before its end")
        if start < previous_end - 1e-3:
            raise InvalidInput(f"{where}: starts at {start:.3f} s, before the previous one ends")
        if length and start >= length:
            raise InvalidInput(f"{where}: starts at {start:.3f} s, after the end ({length:.1f} s)")
        previous_end = end


def _frames(tags: EpisodeTags, length: float) -> list[Any]:
    from mutagen.id3 import (
        APIC,
        CHAP,
        COMM,
        CTOC,
        TALB,
        TCON,
        TDRC,
        TIT2,
        TLAN,
        TPE1,
        TRCK,
        CTOCFlags,
        PictureType,
    )

    language = id3_language(tags.language)
    frames: list[Any] = [
        TIT2(encoding=3, text=tags.title),
        TPE1(encoding=3, text=tags.artist or tags.show),
        TALB(encoding=3, text=tags.show),
        TRCK(encoding=3, text=str(tags.episode_number)),
        TCON(encoding=3, text=tags.genre),
        TLAN(encoding=3, text=language),
    ]
    if tags.date:
        day = tags.date if isinstance(tags.date, str) else tags.date.isoformat()
        try:
            date.fromisoformat(day)
        except ValueError as exc:
            raise InvalidInput(f"recording date {day!r} is not YYYY-MM-DD") from exc
        frames.append(TDRC(encoding=3, text=day))
    if tags.description:
        frames.append(COMM(encoding=3, lang=language, desc="", text=tags.description))
    if tags.cover:
        mime = _cover_mime(tags.cover, tags.cover_mime)
        frames.append(
            APIC(encoding=3, mime=mime, type=PictureType.COVER_FRONT, desc="", data=tags.cover)
        )
    _check_chapters(tags.chapters, length)
    ids = [f"chp{index}" for index in range(len(tags.chapters))]
    for element_id, (start, end, title) in zip(ids, tags.chapters, strict=True):
        end_ms = round(min(end, length) * 1000) if length else round(end * 1000)
        frames.append(
            CHAP(
                element_id=element_id,
                start_time=round(start * 1000),
                end_time=end_ms,
                start_offset=NO_OFFSET,
                end_offset=NO_OFFSET,
                sub_frames=[TIT2(encoding=3, text=title)],
            )
        )
    if ids:
        frames.append(
            CTOC(
                element_id=TOC_ID,
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[TIT2(encoding=3, text="目录")],
            )
        )
    return frames


def write_tags_in_place(path: Path, tags: EpisodeTags) -> None:
    """Replace the MP3's ID3 tag with ``tags`` (ID3v2.4), rewriting ``path`` itself."""
    from mutagen import MutagenError
    from mutagen.id3 import ID3
    from mutagen.mp3 import MP3

    try:
        length = MP3(path).info.length
    except MutagenError as exc:
        raise InvalidInput(f"{path}: not an MP3 file mutagen can tag ({exc})") from exc
    tag = ID3()
    for frame in _frames(tags, length):
        tag.add(frame)
    tag.save(path, v2_version=4, v1=0)


def write_tags(path: Path, tags: EpisodeTags) -> None:
    """Tag the MP3 at ``path`` atomically: a tagged copy replaces it, so a crash never
    leaves a half-rewritten file."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file to tag")
    partial = path.with_name(f".{path.name}.tagging")
    try:
        shutil.copyfile(path, partial)
        write_tags_in_place(partial, tags)
        with partial.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def _text(tag: Any, frame_id: str) -> str | None:
    frame = tag.get(frame_id) if tag is not None else None
    return str(frame.text[0]) if frame is not None and frame.text else None


def read_tags(path: Path) -> dict[str, Any]:
    """What a player sees in the master at ``path``: stable keys, None where a tag is absent."""
    from mutagen import MutagenError
    from mutagen.mp3 import MP3

    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    try:
        audio = MP3(path)
    except MutagenError as exc:
        raise InvalidInput(f"{path}: not an MP3 file ({exc})") from exc
    tag = audio.tags
    comments = tag.getall("COMM") if tag is not None else []
    covers = tag.getall("APIC") if tag is not None else []
    return {
        "title": _text(tag, "TIT2"),
        "artist": _text(tag, "TPE1"),
        "album": _text(tag, "TALB"),
        "track": _text(tag, "TRCK"),
        "date": _text(tag, "TDRC"),
        "genre": _text(tag, "TCON"),
        "language": _text(tag, "TLAN"),
        "description": str(comments[0].text[0]) if comments and comments[0].text else None,
        "has_cover": bool(covers),
        "cover_mime": covers[0].mime if covers else None,
        "chapters": _chapters(tag),
        "seconds": round(audio.info.length, 3),
        "id3_version": f"2.{tag.version[1]}" if tag is not None else None,
    }


def _chapters(tag: Any) -> list[dict[str, Any]]:
    """Chapters in the table of contents' order (or by start time without one)."""
    if tag is None:
        return []
    chaps = {frame.element_id: frame for frame in tag.getall("CHAP")}
    tocs = tag.getall("CTOC")
    order = list(tocs[0].child_element_ids) if tocs else []
    order += sorted((i for i in chaps if i not in order), key=lambda i: chaps[i].start_time)
    chapters = []
    for element_id in order:
        chap = chaps.get(element_id)
        if chap is None:
            continue
        title = chap.sub_frames.get("TIT2")
        chapters.append(
            {
                "start": chap.start_time / 1000,
                "end": chap.end_time / 1000,
                "title": str(title.text[0]) if title is not None and title.text else "",
            }
        )
    return chapters


_EXISTING_KEYS = {
    # ours: (ID3 frame, MP4 atom, Vorbis comment names)
    "title": ("TIT2", "\xa9nam", ("title",)),
    "artist": ("TPE1", "\xa9ART", ("artist",)),
    "date": ("TDRC", "\xa9day", ("date",)),
    "comment": ("COMM", "\xa9cmt", ("comment", "description")),
}


def existing_tags(path: Path) -> dict[str, str]:
    """Title, artist, date and comment a delivered file already carries (any format).

    Only keys with a value are returned; a file mutagen cannot read gives ``{}`` (whether it
    is audio at all is ``hotline.ffmpeg.probe``'s call).
    """
    import mutagen
    from mutagen.id3 import ID3
    from mutagen.mp4 import MP4Tags

    try:
        audio = mutagen.File(path)
    except (mutagen.MutagenError, OSError):
        return {}
    tags = getattr(audio, "tags", None)
    if tags is None:
        return {}
    found: dict[str, str] = {}
    for key, (frame_id, atom, names) in _EXISTING_KEYS.items():
        value: Any = None
        if isinstance(tags, ID3):
            frames = tags.getall(frame_id)
            value = frames[0].text[0] if frames and frames[0].text else None
        elif isinstance(tags, MP4Tags):
            values = tags.get(atom)
            value = values[0] if values else None
        else:  # Vorbis comments (FLAC, Ogg Vorbis/Opus) behave as a dict of lists
            for name in names:
                values = tags.get(name)
                if values:
                    value = values[0]
                    break
        if value is not None and str(value).strip():
            found[key] = str(value).strip()
    return found
