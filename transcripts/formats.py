"""Transcript files: read and write SRT, WebVTT, our JSON and timestamped TXT.

Reading is strict where it matters (timestamps, structure) and forgiving where files from
elsewhere differ harmlessly (BOM, CRLF, cue numbers, styling tags). Files are decoded by
detection (UTF-8, UTF-16, GB18030 or Big5: ``hotline.encodings``), or in the encoding the
caller names; text that cannot be placed is refused, never stored as mojibake. A file
that cannot be read raises ``InvalidInput`` naming the file and the line.

Text is carried as heard, in every direction. Reading removes only real formatting:
SRT's ``<i> <b> <u> <font …>`` and ``{\\an8}``-style overrides, WebVTT's cue tags
(``<c.x> <v Name> <lang …> <ruby> <rt>``, timestamps) and character references; any
other ``<`` or ``>`` (``温度 < 5 度``) is text, and JSON and TXT are taken as they are.
Writing escapes what each format requires: WebVTT's ``& < >`` (so ``-->`` never ends a
cue), and in both SRT and WebVTT no line of a cue is ever blank.
"""

from __future__ import annotations

import html
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotline.encodings import decode_text
from hotline.errors import InvalidInput
from hotline.files import write_atomic
from hotline.text import clean_text
from transcripts.words import Word

FORMATS = ("srt", "vtt", "txt", "json")
JSON_FORMAT = "hotline-transcript"
MAX_CUE_CHARS = 4000

_TIMESTAMP = re.compile(r"^(?:(\d+):)?([0-5]?\d):([0-5]\d)(?:[.,](\d{1,3}))?$")
_TIMING = re.compile(r"^\s*(\S+)\s*-->\s*(\S+)(?:\s+.*)?$")
# Formatting, not text: SRT's tags and ASS override blocks ({\\an8}), WebVTT's cue tags
# (class, voice, language, ruby) and timestamp tags. Nothing else between < and >.
_SRT_TAG = re.compile(r"</?(?:i|b|u|s|font)(?:\s[^<>]*)?>|\{\\[^{}]*\}", re.IGNORECASE)
_VTT_TAG = re.compile(
    r"</?(?:c|i|b|u|v|lang|ruby|rt)(?:[.\s][^<>]*)?>|<(?:\d+:)?\d{2}:\d{2}\.\d{3}>"
)
# Control characters no subtitle editor writes: bytes that decoded, but are no text.
_BINARY = re.compile(r"[\x00-\x08\x0e-\x1f]")
_TXT_LINE = re.compile(r"^\[(\d+:\d{2}:\d{2}(?:\.\d{1,3})?)\]\s?(.*)$")


@dataclass(frozen=True)
class Cue:
    """One timed piece of speech: seconds from the start of the episode, and the text."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    """Word timings when known (only our JSON and whisper's carry them)."""


@dataclass
class TranscriptDoc:
    """A transcript as files carry it: cues plus whatever facts the format keeps."""

    cues: list[Cue]
    model: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    language: str = "zh"
    source: str = "import"
    episode: int | None = None
    timings: dict[str, Any] = field(default_factory=dict)


# --- timestamps -------------------------------------------------------------------------------


def parse_timestamp(value: str, *, where: str) -> float:
    """``HH:MM:SS,mmm`` / ``HH:MM:SS.mmm`` / ``MM:SS.mmm`` → seconds."""
    match = _TIMESTAMP.match(value.strip())
    if not match:
        raise InvalidInput(f"{where}: broken timestamp {value.strip()!r}")
    hours, minutes, seconds, millis = match.groups()
    total_ms = (
        int(hours or 0) * 3_600_000
        + int(minutes) * 60_000
        + int(seconds) * 1000
        + (int(millis.ljust(3, "0")) if millis else 0)
    )
    return total_ms / 1000


_TWO_DIGITS = tuple(f"{n:02d}" for n in range(100))
_THREE_DIGITS = tuple(f"{n:03d}" for n in range(1000))


def format_timestamp(seconds: float, *, separator: str = ".") -> str:
    """Seconds → ``HH:MM:SS.mmm`` (SRT wants ``,`` as ``separator``)."""
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    # Looked up, not formatted: a long transcript has a thousand of these.
    hh = _TWO_DIGITS[hours] if 0 <= hours < 100 else f"{hours:02d}"
    return f"{hh}:{_TWO_DIGITS[minutes]}:{_TWO_DIGITS[secs]}{separator}{_THREE_DIGITS[millis]}"


def srt_text(line: str) -> str:
    """One line of an SRT cue as text: its formatting tags removed."""
    return _SRT_TAG.sub("", line)


def vtt_text(line: str) -> str:
    """One line of a WebVTT cue as text: cue tags removed, character references decoded."""
    return html.unescape(_VTT_TAG.sub("", line))


def _make_cue(
    start: float,
    end: float,
    lines: Sequence[str],
    *,
    where: str,
    text_of: Callable[[str], str] | None = None,
) -> Cue | None:
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0:
        raise InvalidInput(f"{where}: broken timestamp {start!r}")
    if end < start:
        raise InvalidInput(
            f"{where}: cue ends ({format_timestamp(end)}) before it starts "
            f"({format_timestamp(start)})"
        )
    text = _join_lines((text_of(line) if text_of else line).strip() for line in lines)
    text = clean_text(text, field=where, max_length=MAX_CUE_CHARS)
    return Cue(start, end, text) if text else None


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def _join_lines(lines: Iterable[str]) -> str:
    """Join a cue's lines: no space between two CJK characters, one space otherwise."""
    out = ""
    for line in lines:
        if not line:
            continue
        if out and not (_wide(out[-1]) and _wide(line[0])):
            out += " "
        out += line
    return out


# --- reading ----------------------------------------------------------------------------------


def _blocks(text: str) -> Iterable[tuple[int, list[str]]]:
    """Blank-line separated blocks with the 1-based line number of their first line."""
    block: list[str] = []
    first = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            if not block:
                first = number
            block.append(line.rstrip())
        elif block:
            yield first, block
            block = []
    if block:
        yield first, block


def _timed_blocks(
    text: str, name: str, *, skip_header: bool, text_of: Callable[[str], str]
) -> list[Cue]:
    cues: list[Cue] = []
    for first, block in _blocks(text):
        if skip_header and first == 1:
            continue  # the WEBVTT line and its header
        head = block[0].strip()
        if skip_header and head.split(" ")[0] in ("NOTE", "STYLE", "REGION"):
            continue
        timing_at = next((i for i, line in enumerate(block[:2]) if "-->" in line), None)
        if timing_at is None:
            raise InvalidInput(f"{name}, line {first}: expected a cue timing 'start --> end'")
        line_no = first + timing_at
        where = f"{name}, line {line_no}"
        match = _TIMING.match(block[timing_at])
        if not match:
            raise InvalidInput(f"{where}: broken timestamp line {block[timing_at].strip()!r}")
        start = parse_timestamp(match.group(1), where=where)
        end = parse_timestamp(match.group(2), where=where)
        cue = _make_cue(start, end, block[timing_at + 1 :], where=where, text_of=text_of)
        if cue is not None:
            cues.append(cue)
    return cues


def parse_srt(text: str, *, name: str = "SRT") -> TranscriptDoc:
    """SubRip: numbered blocks of ``HH:MM:SS,mmm --> HH:MM:SS,mmm`` and text lines."""
    return TranscriptDoc(cues=_timed_blocks(text, name, skip_header=False, text_of=srt_text))


def parse_vtt(text: str, *, name: str = "VTT") -> TranscriptDoc:
    """WebVTT: a ``WEBVTT`` header, then cues (identifier optional, settings ignored)."""
    if not text.lstrip("\ufeff").startswith("WEBVTT"):
        raise InvalidInput(f"{name}, line 1: a WebVTT file starts with 'WEBVTT'")
    return TranscriptDoc(cues=_timed_blocks(text, name, skip_header=True, text_of=vtt_text))


def parse_txt(text: str, *, name: str = "TXT") -> TranscriptDoc:
    """Our TXT: one ``[HH:MM:SS] text`` line per cue; a cue ends where the next begins."""
    starts: list[tuple[float, str, str]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{name}, line {number}"
        match = _TXT_LINE.match(line.strip())
        if not match:
            raise InvalidInput(f"{where}: expected '[HH:MM:SS] text'")
        starts.append((parse_timestamp(match.group(1), where=where), match.group(2), where))
    cues = []
    for i, (start, body, where) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else start
        cue = _make_cue(start, max(end, start), [body], where=where)
        if cue is not None:
            cues.append(cue)
    return TranscriptDoc(cues=cues)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{where}: broken timestamp {value!r}")
    return float(value)


def parse_json(text: str, *, name: str = "JSON") -> TranscriptDoc:
    """Our JSON (also whisper's own result): an object with a ``segments`` list."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{name}, line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        raise InvalidInput(f"{name}, line 1: expected an object with a 'segments' list")
    cues = []
    for index, item in enumerate(data["segments"], start=1):
        where = f"{name}, segment {index}"
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise InvalidInput(f"{where}: expected an object with start, end and text")
        start, end = _number(item.get("start"), where), _number(item.get("end"), where)
        cue = _make_cue(start, end, [item["text"]], where=where)
        if cue is not None:
            words = _json_words(item.get("words"), where=where)
            cues.append(Cue(cue.start, cue.end, cue.text, words) if words else cue)
    settings = data.get("settings")
    episode = data.get("episode")
    return TranscriptDoc(
        cues=cues,
        model=str(data.get("model") or "")[:200],
        settings=settings if isinstance(settings, dict) else {},
        language=str(data.get("language") or "zh")[:10],
        source=str(data.get("source") or "import")[:20],
        episode=episode if isinstance(episode, int) else None,
        timings=data.get("timings") if isinstance(data.get("timings"), dict) else {},
    )


def _json_words(value: Any, *, where: str) -> tuple[Word, ...]:
    """Words of a JSON segment: ours (``[start, end, text]``) or whisper's (objects)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidInput(f"{where}: 'words' should be a list")
    words = []
    for item in value:
        if isinstance(item, list) and len(item) == 3:
            start, end, text = item
        elif isinstance(item, dict):
            start, end, text = item.get("start"), item.get("end"), item.get("word")
        else:
            raise InvalidInput(f"{where}: a word should be [start, end, text]")
        start, end = _number(start, where), _number(end, where)
        if not isinstance(text, str) or end < start or start < 0:
            raise InvalidInput(f"{where}: broken word timing {item!r}")
        words.append(Word(start, end, text))
    return tuple(words)


@dataclass(frozen=True)
class CueColumns:
    """Cues as three columns (no ``Cue`` per line): what publishing reads, masks and writes."""

    starts: list[float]
    ends: list[float]
    texts: list[str]

    @classmethod
    def of(cls, cues: Sequence[Cue]) -> CueColumns:
        return cls([c.start for c in cues], [c.end for c in cues], [c.text for c in cues])

    def cues(self) -> list[Cue]:
        return [Cue(*cue) for cue in zip(self.starts, self.ends, self.texts, strict=True)]


def read_own_columns(path: Path) -> CueColumns | None:
    """The cues of a transcript file we wrote (``JSON_FORMAT``), read without re-checking
    what our writer guarantees; None for anything else (``read_transcript`` then reads it
    with every check). For publishing archives of long transcripts, where it is most of
    the time a first publish takes: each check runs once over a whole column."""
    try:
        data = json.loads(path.read_bytes())
        if not isinstance(data, dict) or data.get("format") != JSON_FORMAT:
            return None
        segments = data["segments"]
        starts = [float(item["start"]) for item in segments]
        ends = [float(item["end"]) for item in segments]
        texts = [item["text"] for item in segments]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all(type(text) is str and text for text in texts):
        return None  # edited by hand: read it with every check
    if _BINARY.search("".join(texts)) or not all(
        0 <= start <= end for start, end in zip(starts, ends, strict=True)
    ):
        return None
    if starts and not math.isfinite(max(starts)):
        return None
    return CueColumns(starts, ends, texts)


_PARSERS = {"srt": parse_srt, "vtt": parse_vtt, "txt": parse_txt, "json": parse_json}


def sniff_format(text: str) -> str | None:
    """Guess the format of a file whose name does not say."""
    head = text.lstrip("\ufeff \n")
    if head.startswith("WEBVTT"):
        return "vtt"
    if head.startswith("{"):
        return "json"
    if head.startswith("[") and _TXT_LINE.match(head.split("\n", 1)[0]):
        return "txt"
    if "-->" in head[:400]:
        return "srt"
    return None


def read_transcript(path: Path, *, encoding: str | None = None) -> TranscriptDoc:
    """Read an SRT, VTT, JSON or TXT transcript; the extension decides, else the content.

    Args:
        path: the file.
        encoding: its encoding (``--encoding``); detected when not given.
    """
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{name}: cannot read ({exc.strerror})") from exc
    text = decode_text(data, name=name, encoding=encoding).text
    if _BINARY.search(text):
        raise InvalidInput(f"{name}: not a text file (it has control characters)")
    kind = path.suffix.lower().lstrip(".")
    if kind not in _PARSERS:
        kind = sniff_format(text) or ""
    if kind not in _PARSERS:
        raise InvalidInput(f"{name}, line 1: not an SRT, VTT, JSON or TXT transcript")
    doc = _PARSERS[kind](text, name=name)
    if not doc.cues:
        raise InvalidInput(f"{name}: no cues with text")
    return doc


# --- writing ----------------------------------------------------------------------------------


def _cue_lines(text: str) -> str:
    """A cue's text as lines none of which is blank (a blank line ends a cue)."""
    if "\n" not in text and text.strip():
        return text  # the stored case: one line
    lines = [line for line in text.split("\n") if line.strip()]
    return "\n".join(lines) or "\u00a0"


def vtt_escape(text: str) -> str:
    """Text for a WebVTT cue: ``&``, ``<`` and ``>`` as character references."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_srt_and_vtt(cues: Sequence[Cue] | CueColumns) -> tuple[str, str]:
    """``write_srt`` and ``write_vtt`` of the same cues in one pass.

    Each time is formatted once (a cue mostly starts where the one before ended), and
    what no text needs is skipped for all of them at once: splitting lines when no text
    has a line break or is blank, escaping when none has ``& < >``.
    """
    columns = cues if isinstance(cues, CueColumns) else CueColumns.of(cues)
    stamps: dict[float, str] = {}
    for seconds in (*columns.starts, *columns.ends):
        if seconds not in stamps:
            stamps[seconds] = format_timestamp(seconds)
    commas = {seconds: f"{stamp[:-4]},{stamp[-3:]}" for seconds, stamp in stamps.items()}
    texts = columns.texts
    whole = "".join(texts)
    if "\n" in whole or not all(map(str.strip, texts)):
        texts = [_cue_lines(text) for text in texts]
    escaped = texts
    if "&" in whole or "<" in whole or ">" in whole:
        escaped = [vtt_escape(text) for text in texts]
    srt = [
        f"{i}\n{commas[start]} --> {commas[end]}\n{text}\n"
        for i, start, end, text in zip(
            range(1, len(texts) + 1), columns.starts, columns.ends, texts, strict=True
        )
    ]
    vtt = [
        f"{stamps[start]} --> {stamps[end]}\n{text}\n"
        for start, end, text in zip(columns.starts, columns.ends, escaped, strict=True)
    ]
    return "\n".join(srt), "\n".join(["WEBVTT\n", *vtt])


def write_srt(cues: Iterable[Cue]) -> str:
    blocks = [
        f"{i}\n{format_timestamp(c.start, separator=',')} --> "
        f"{format_timestamp(c.end, separator=',')}\n{_cue_lines(c.text)}\n"
        for i, c in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def write_vtt(cues: Iterable[Cue]) -> str:
    blocks = [
        f"{format_timestamp(c.start)} --> {format_timestamp(c.end)}\n"
        f"{_cue_lines(vtt_escape(c.text))}\n"
        for c in cues
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def write_txt(cues: Iterable[Cue]) -> str:
    return "".join(f"[{format_timestamp(c.start)[:8]}] {c.text}\n" for c in cues)


def write_json(doc: TranscriptDoc, *, normalized: Sequence[str] | None = None) -> str:
    segments = []
    for i, cue in enumerate(doc.cues):
        item: dict[str, Any] = {"start": cue.start, "end": cue.end, "text": cue.text}
        if normalized is not None:
            item["text_norm"] = normalized[i]
        if cue.words:
            item["words"] = [[w.start, w.end, w.text] for w in cue.words]
        segments.append(item)
    data = {
        "format": JSON_FORMAT,
        "version": 1,
        "episode": doc.episode,
        "language": doc.language,
        "source": doc.source,
        "model": doc.model,
        "settings": doc.settings,
        "timings": doc.timings,
        "segments": segments,
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def render(doc: TranscriptDoc, fmt: str, *, normalized: Sequence[str] | None = None) -> str:
    """The transcript in ``fmt`` (srt, vtt, txt or json)."""
    if fmt == "srt":
        return write_srt(doc.cues)
    if fmt == "vtt":
        return write_vtt(doc.cues)
    if fmt == "txt":
        return write_txt(doc.cues)
    if fmt == "json":
        return write_json(doc, normalized=normalized)
    raise InvalidInput(f"unknown transcript format {fmt!r}: use one of {', '.join(FORMATS)}")


def transcript_paths(folder: Path, episode: int) -> dict[str, Path]:
    """Where an episode's transcript files live: ``0999.json``, ``.srt``, ``.vtt``, ``.txt``."""
    return {fmt: folder / f"{episode:04d}.{fmt}" for fmt in FORMATS}


def write_transcript_files(
    folder: Path, doc: TranscriptDoc, *, normalized: Sequence[str] | None = None
) -> list[Path]:
    """Write all four formats for ``doc.episode`` into ``folder``; return the paths."""
    if doc.episode is None:
        raise ValueError("write_transcript_files needs doc.episode")
    paths = transcript_paths(folder, doc.episode)
    for fmt, path in paths.items():
        write_atomic(path, render(doc, fmt, normalized=normalized))
    return list(paths.values())


def remove_transcript_files(folder: Path, episode: int) -> None:
    for path in transcript_paths(folder, episode).values():
        path.unlink(missing_ok=True)
