"""Text hygiene for everything a producer or listener types: cleaning, limits, masking."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from hotline.errors import InvalidInput

# C0/C1 controls and the Unicode bidi overrides, but not tab/newline (kept where allowed).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile(r"[\t\r\n\u2028\u2029]+")


def clean_text(
    value: str | None,
    *,
    field: str,
    max_length: int,
    multiline: bool = False,
    required: bool = False,
) -> str:
    """Return ``value`` safe to store: NFC, control characters stripped, trimmed.

    Single-line fields also fold tabs and line breaks to one space. Raises
    ``InvalidInput`` naming ``field`` when the result is empty but required, or
    longer than ``max_length`` characters.
    """
    text = unicodedata.normalize("NFC", value or "")
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    else:
        text = _LINE_BREAKS.sub(" ", text)
    text = _CONTROL.sub("", text).strip()
    if required and not text:
        raise InvalidInput(f"{field} must not be empty")
    if len(text) > max_length:
        raise InvalidInput(f"{field} is {len(text)} characters long; the limit is {max_length}")
    return text


def mask_contact(contact: str | None) -> str:
    """Mask a phone number or e-mail for lists: 13812345678 → 138****5678, ab@x.cn → a***@x.cn."""
    if not contact:
        return ""
    if "@" in contact:
        user, _, domain = contact.partition("@")
        return f"{user[:1]}***@{domain}"
    digits = contact.strip()
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * len(digits)


@lru_cache(maxsize=8192)
def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: East Asian wide and full-width characters take two."""
    # Tables of hundreds of rows measure every cell several times (and clipping, each of
    # its characters): cached; ASCII needs no lookup, and nothing below U+1100 (Hangul
    # Jamo, the first wide block) is wide.
    if text.isascii():
        return len(text)
    width = unicodedata.east_asian_width
    return len(text) + [width(ch) in "WF" for ch in text if ch >= "\u1100"].count(True)
