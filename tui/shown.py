"""Data shown as text: never read as markup, control characters made visible, long text ended
with "…" by display width.

Everything the desk shows comes from the station (titles, names, question text, transcript
segments, error messages that quote them), so none of it is Rich or Textual markup:
``[bold]`` or ``[/]`` in a title is shown as typed. Widgets take ``Text`` objects built
here (and ``DataLabel``, the labels that show data). A control character would move the terminal's
cursor or be drawn as nothing; it is shown as its Unicode control picture (␛, ␇) instead,
so what is stored is what is seen and every cell keeps its width.
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.text import Text

ELLIPSIS = "…"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029]")
_ONE_LINE_SPACES = str.maketrans(dict.fromkeys("\t\r\n\u2028\u2029", " "))
_CONTROL_PICTURES = {n: chr(0x2400 + n) for n in range(0x20)} | {0x7F: "\u2421"}


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    return _CONTROL_PICTURES.get(code, "\ufffd")  # C1 controls have no picture: "�"


def one_line(value: object) -> str:
    """``value`` as one line of plain text: line breaks and tabs as spaces, controls visible.

    Character for character, so offsets into the value (highlights) still hold.
    """
    text = "" if value is None else str(value)
    return _CONTROL.sub(_picture, text.translate(_ONE_LINE_SPACES))


def lines(value: object) -> str:
    """``value`` as plain text that may span lines: line breaks kept, other controls visible."""
    text = _LINE_BREAKS.sub("\n", "" if value is None else str(value)).replace("\t", "    ")
    return "\n".join(_CONTROL.sub(_picture, line) for line in text.split("\n"))


def plain(value: object, *, multiline: bool = False) -> Text:
    """A Rich ``Text`` that shows ``value`` literally (one line unless ``multiline``)."""
    return Text(lines(value) if multiline else one_line(value), end="")


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal cells, ending with "…" when it was cut.

    Wide (CJK) characters take two cells; a cut never splits one: a space stands in for
    the half that would not fit, so the "…" is always in the last cell (as Rich cuts).
    """
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    room = width - 1  # the ellipsis takes one cell
    out, used = [], 0
    for ch in text:
        size = cell_len(ch)
        if used + size > room:
            break
        out.append(ch)
        used += size
    return "".join(out) + " " * (room - used) + ELLIPSIS
