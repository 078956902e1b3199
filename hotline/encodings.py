"""Decoding text files as Chinese offices produce them: UTF-8, UTF-16, GB18030 or Big5.

Excel in a mainland office saves CSV as GBK (GB18030's subset), a Hong Kong or Taiwan
one as Big5, a newer one as UTF-8 with a BOM or UTF-16. GB18030 accepts almost any byte
sequence, so "it decodes" proves little: Big5 bytes decode as GB18030 into rare
characters. We therefore decode with every candidate that accepts the bytes and keep
the one whose Chinese characters are the common ones of its own script (GB2312 level 1
for simplified text, Big5's 常用字 block for traditional). Text we cannot place with
confidence is refused with the reason, never stored as mojibake.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from hotline.errors import InvalidInput

ENCODING_NAMES = ("utf-8", "utf-16", "gb18030", "big5")
"""The encodings detection chooses between (``--encoding`` accepts any Python codec)."""

# A choice between GB18030 and Big5 needs this many more common characters (as a share
# of the Chinese characters) in the winner than in the loser.
_MARGIN = 0.15


@dataclass(frozen=True)
class Decoded:
    """A decoded file: its text (newlines as ``\\n``) and the encoding that was used."""

    text: str
    encoding: str


# Punctuation and symbols Chinese text uses in either script (full-width forms included).
_PUNCTUATION = frozenset("。，、；：？！“”‘’（）《》〈〉【】「」『』—…·～　％＋－／＝＜＞")


def _common_share(text: str, encoding: str) -> float:
    """The share of ``text``'s non-ASCII characters that are common in ``encoding``'s script.

    GB2312 level 1 (lead bytes 0xB0–0xD7) holds the 3755 most used simplified characters;
    Big5 0xA440–0xC67E holds the 5401 most used traditional ones. Mojibake lands
    elsewhere: in rare characters, symbols, private-use or unassigned space, all of which
    count against the candidate.
    """
    wide = [ch for ch in text if ord(ch) > 0x7F]
    if not wide:
        return 0.0
    common = 0
    for ch in wide:
        if ch in _PUNCTUATION or "\uff01" <= ch <= "\uff5e":
            common += 1
            continue
        try:
            code = ch.encode("gb2312" if encoding == "gb18030" else "big5")
        except UnicodeEncodeError:
            continue
        if len(code) != 2:
            continue
        if encoding == "gb18030":
            common += 0xB0 <= code[0] <= 0xD7
        else:
            common += 0xA440 <= int.from_bytes(code, "big") <= 0xC67E
    return common / len(wide)


def _first_bad_line(data: bytes, encoding: str) -> int | None:
    for number, raw in enumerate(data.splitlines(), start=1):
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            return number
    return None


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _forced(data: bytes, encoding: str, name: str) -> Decoded:
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise InvalidInput(f"--encoding {encoding!r}: unknown encoding") from None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        line = _first_bad_line(data, codec)
        where = f"{name}:{line}" if line else name
        raise InvalidInput(f"{where}: not valid {encoding}") from None
    return Decoded(_normalise_newlines(text.removeprefix("\ufeff")), codec)


def _utf16_without_bom(data: bytes) -> str | None:
    # ASCII and CJK in UTF-16 put a zero byte in (nearly) every other position.
    if len(data) < 4 or len(data) % 2:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    half = len(data) // 2
    for zeros, codec in ((odd, "utf-16-le"), (even, "utf-16-be")):
        if zeros >= half * 0.3 and "\x00" not in data.decode(codec, errors="replace"):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                return None
    return None


def decode_text(data: bytes, *, name: str, encoding: str | None = None) -> Decoded:
    """Decode a text file's bytes, detecting its encoding unless ``encoding`` is given.

    Args:
        data: the file's bytes.
        name: how to name the file in an error (its path as the user gave it).
        encoding: a codec name that overrides detection (``--encoding``).

    Raises:
        InvalidInput: the bytes are not text, or not confidently in one of
            UTF-8, UTF-16, GB18030 or Big5; the message names the file (and line)
            and suggests ``--encoding``.
    """
    if encoding:
        return _forced(data, encoding, name)
    if data.startswith(codecs.BOM_UTF8):
        return _forced(data[3:], "utf-8", name)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _forced(data, "utf-16", name)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if "\x00" in text:
            utf16 = _utf16_without_bom(data)
            if utf16 is None:
                raise InvalidInput(f"{name}: not a text file (it contains NUL bytes)")
            return Decoded(_normalise_newlines(utf16), "utf-16")
        return Decoded(_normalise_newlines(text), "utf-8")
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return Decoded(_normalise_newlines(utf16), "utf-16")
    if b"\x00" in data:
        raise InvalidInput(f"{name}: not a text file (it contains NUL bytes)")

    decoded: dict[str, str] = {}
    for codec in ("gb18030", "big5"):
        try:
            decoded[codec] = data.decode(codec)
        except UnicodeDecodeError:
            continue
    if not decoded:
        line = _first_bad_line(data, "gb18030")
        where = f"{name}:{line}" if line else name
        raise InvalidInput(
            f"{where}: not text in UTF-8, UTF-16, GB18030 or Big5; "
            "save it as UTF-8 or pass --encoding"
        )
    scores = {codec: _common_share(text, codec) for codec, text in decoded.items()}
    best = max(scores, key=lambda codec: scores[codec])
    others = [score for codec, score in scores.items() if codec != best]
    runner_up = max(others, default=0.0)
    if scores[best] < 0.5 or scores[best] - runner_up < _MARGIN:
        shown = " or ".join(codec.upper() for codec in decoded)
        raise InvalidInput(
            f"{name}: cannot tell the encoding (it reads as {shown} with equal doubt); "
            "pass --encoding gb18030 or --encoding big5"
        )
    return Decoded(_normalise_newlines(decoded[best]), best)
