"""The text of a CSV file as the importers read it: decoded, with its bad lines named.

Encodings are detected by ``hotline.encodings.decode_text`` (UTF-8 with or without BOM,
UTF-16, GB18030, Big5) unless the user names one. One case detection cannot settle
well is common enough to handle here: a UTF-8 file into which someone pasted a few
lines from a GBK one. Read as a whole it is neither; read line by line it is UTF-8 with
a few bad lines, and each importer reports exactly those as ``FILE:LINE`` problems.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from hotline.encodings import decode_text
from hotline.errors import InvalidInput


@dataclass(frozen=True)
class CsvText:
    """Decoded text (lines end in ``\\n``, no BOM) and the lines that did not decode.

    ``bad_lines`` maps a line number to its problem; those lines are in ``text`` with
    replacement characters, and an importer skips every record that touches one.
    """

    text: str
    encoding: str
    bad_lines: dict[int, str] = field(default_factory=dict)


def _utf8_problem(raw: bytes) -> str | None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (
            f"not UTF-8 (byte 0x{raw[exc.start]:02X} at byte {exc.start + 1}); "
            "save the file as UTF-8 or pass --encoding"
        )
    return None


def decode_csv(data: bytes, *, source: str, encoding: str | None = None) -> CsvText:
    """Decode a CSV file's bytes, detecting the encoding unless ``encoding`` names it.

    Raises:
        InvalidInput: the file is not text in any encoding we can place, naming the file
            (and the line, where one is to blame).
    """
    try:
        decoded = decode_text(data, name=source, encoding=encoding)
    except InvalidInput:
        if encoding is not None:
            raise
        mostly = _mostly_utf8(data)
        if mostly is None:
            raise
        return mostly
    return CsvText(decoded.text.removeprefix("\ufeff"), decoded.encoding)


def _mostly_utf8(data: bytes) -> CsvText | None:
    """UTF-8 text with a few bad lines, or None when the file is not that."""
    lines = data.removeprefix(codecs.BOM_UTF8).split(b"\n")
    bad = {n: p for n, raw in enumerate(lines, start=1) if (p := _utf8_problem(raw)) is not None}
    # Only a file whose good lines hold UTF-8 Chinese is UTF-8 with a few bad lines; an
    # ASCII header over lines in some other encoding is that other encoding.
    chinese = any(not raw.isascii() for n, raw in enumerate(lines, start=1) if n not in bad)
    if not bad or not chinese:
        return None
    text = "\n".join(raw.decode("utf-8", errors="replace").removesuffix("\r") for raw in lines)
    return CsvText(text, "utf-8", bad)
