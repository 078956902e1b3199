"""Script normalisation for search: one ``normalize(text)`` used by the index and by queries.

normalize = NFKC (full-width letters and digits to ASCII, compatibility forms folded), then
OpenCC t2s (traditional to simplified, phrase dictionary first), then ASCII lower case.

The ``opencc`` module (opencc-python-reimplemented) is pure Python and costs about 4 µs a
character, too slow for an archive of millions. Its t2s conversion is, exactly, "replace
phrases from TSPhrases, then map every other character through TSCharacters", and the
separators it splits on are in neither dictionary. So text that contains none of the 277
phrase keys converts with one ``str.translate``; only text containing a phrase key goes
through the library. tests/unit/test_normalize.py checks the two agree.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}


def _read_dictionary(path: Path) -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, value = line.strip().partition("\t")
        if key:
            # The library takes the first of several candidates, and so do we.
            entries[key] = value.split(" ")[0]
    return entries


class _T2S:
    """t2s with a fast path; identical output to ``opencc.OpenCC("t2s").convert``."""

    def __init__(self) -> None:
        import opencc

        folder = Path(opencc.__file__).with_name("dictionary")
        characters = _read_dictionary(folder / "TSCharacters.txt")
        phrases = _read_dictionary(folder / "TSPhrases.txt")
        # Both assumptions of the fast path, checked rather than trusted.
        if any(len(key) != 1 for key in characters):
            raise RuntimeError("opencc TSCharacters has multi-character keys; fast path invalid")
        table: dict[int, Any] = {ord(k): v for k, v in characters.items()}
        for code, lower in _ASCII_LOWER.items():
            table.setdefault(code, lower)
        self.table = table
        self.phrases = sorted(phrases, key=len, reverse=True)
        self.phrase_pattern = re.compile("|".join(map(re.escape, self.phrases)))
        self._library: Any = None

    def has_phrase(self, text: str) -> bool:
        return self.phrase_pattern.search(text) is not None

    def library(self) -> Any:
        if self._library is None:
            import opencc

            self._library = opencc.OpenCC("t2s")
        return self._library

    def convert_lower(self, text: str) -> str:
        """t2s followed by ASCII lower case."""
        if self.has_phrase(text):
            return self.library().convert(text).translate(_ASCII_LOWER)
        return text.translate(self.table)


@cache
def _t2s() -> _T2S:
    return _T2S()


def normalize(text: str) -> str:
    """The search form of ``text``: NFKC, simplified script, ASCII lower case."""
    if text.isascii():
        return text.translate(_ASCII_LOWER)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return _t2s().convert_lower(text)


def to_simplified(text: str) -> str:
    """OpenCC t2s of ``text`` through the library itself (reference for the fast path)."""
    return _t2s().library().convert(text)
