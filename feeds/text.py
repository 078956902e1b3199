"""Text for feeds: plain text safe in XML, and episode descriptions as HTML cut to a byte limit.

Everything a producer typed is plain text: it is escaped exactly once (by lxml for
element text, by ``html.escape`` inside descriptions), so a listener sees ``<b>`` and
``&`` as typed, never ``&lt;b&gt;`` and never live markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from hotline.text import clean_text
from hotline.timeutil import format_offset

# Characters XML 1.0 forbids even escaped (clean_text already drops the C0/C1 controls):
# lone surrogates and the non-characters U+FFFE/U+FFFF would make lxml refuse the text.
_XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TOKEN = re.compile(r"(<[^>]*>)|(&#?[0-9A-Za-z]+;)|([^<&]+)")
_TAG_NAME = re.compile(r"</?\s*([A-Za-z][A-Za-z0-9]*)")
ELLIPSIS = "…"
# Where an ellipsis would be text directly inside a list, none is added.
_LISTS = ("ul", "ol")


def plain(value: str | None, *, multiline: bool = False) -> str:
    """``value`` as feed text: NFC, control and XML-invalid characters stripped, trimmed."""
    text = clean_text(value, field="feed text", max_length=1 << 30, multiline=multiline)
    return _XML_INVALID.sub("", text)


def cut_html(markup: str, limit: int) -> str:
    """``markup`` cut to at most ``limit`` UTF-8 bytes, cleanly.

    Never inside a character, an entity or a tag; every element left open at the cut is
    closed, and an ellipsis marks the cut. ``markup`` must be well-formed (ours is).
    """
    # A character is at most 4 bytes: most descriptions fit without being encoded.
    if len(markup) * 4 <= limit or len(markup.encode()) <= limit:
        return markup
    ellipsis = len(ELLIPSIS.encode())
    out: list[str] = []
    stack: list[str] = []
    used = 0
    closing = 0  # bytes of the end tags the open elements will need

    def room() -> int:
        return limit - used - closing - ellipsis

    for match in _TOKEN.finditer(markup):
        token = match.group(0)
        size = len(token.encode())
        if match.group(1):
            tag = _TAG_NAME.match(token)
            name = tag.group(1).lower() if tag else "x"
            if token.startswith("</"):
                # Its bytes were reserved when the element opened.
                out.append(token)
                used += size
                closing -= len(name) + 3
                stack.pop()
                continue
            end = 0 if token.endswith("/>") else len(name) + 3
            if size + end > room():
                break
            out.append(token)
            used += size
            if end:
                stack.append(name)
                closing += end
        elif match.group(2):
            if size > room():
                break
            out.append(token)
            used += size
        else:
            if size <= room():
                out.append(token)
                used += size
                continue
            out.append(_prefix(token, room()))
            break
    if not (stack and stack[-1] in _LISTS):
        out.append(ELLIPSIS)
    out.extend(f"</{name}>" for name in reversed(stack))
    return "".join(out)


def _prefix(text: str, budget: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 encoding fits in ``budget`` bytes."""
    data = text.encode()[: max(budget, 0)]
    return data.decode("utf-8", errors="ignore")


@dataclass(frozen=True)
class AnsweredQuestion:
    """A question answered on air: where in the episode, and what it was about."""

    offset: float | None
    title: str


def description_html(
    *,
    summary: str,
    topic: str,
    guests: Sequence[str],
    questions: Sequence[AnsweredQuestion],
) -> str:
    """The episode description as HTML: summary, topic, guests and the questions answered."""
    esc = html.escape
    parts: list[str] = []
    for paragraph in summary.split("\n"):
        if paragraph.strip():
            parts.append(f"<p>{esc(paragraph.strip())}</p>")
    if topic:
        parts.append(f"<p>话题：{esc(topic)}</p>")
    if guests:
        parts.append(f"<p>嘉宾：{esc('、'.join(guests))}</p>")
    items = "".join(f"<li>{esc(_stamp(q.offset))}{esc(q.title)}</li>" for q in questions if q.title)
    if items:
        parts.append(f"<p>本期回答的听众问题：</p><ul>{items}</ul>")
    return "".join(parts)


def _stamp(offset: float | None) -> str:
    return f"[{format_offset(offset)}] " if offset is not None else ""
