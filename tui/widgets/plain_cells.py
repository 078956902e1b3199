"""Drawing a table cell that is one line of unstyled text, without Rich's layout machinery.

DataTable draws every cell through Rich: the cell's ``Text`` is padded (``Padding``),
styled (``Styled``), wrapped, cropped and split into lines, about a dozen generator
layers for what on the desk is nearly always one short line of plain text that fits its
column. Drawing a screenful that way was the largest single cost of showing a tab for
the first time. For such a cell the outcome is fixed: the left padding, the text, the
blank cells up to the column's width and the right padding, each in the one style Rich
would give them. ``plain_cell_line`` builds exactly that and says ``None`` for anything
else (styled or marked-up text, tabs, several lines, text wider than its column, other
renderables), which the table then draws through Rich as before. A cell that asks for an
ellipsis (``overflow="ellipsis"``, as every plain cell of a ``DeskTable`` does) and is
wider than its column is cut to it here, ending with "…", as Rich would cut it.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from tui.shown import fit

_PLAIN_LAYOUT = (None, "default", "left")
"""Justify values under which one fitting line of text is drawn flush left, unpadded by Rich."""


def plain_cell_line(
    cell: RenderableType, width: int, padding: int, pre_style: Style, post_style: Style
) -> list[list[Segment]] | None:
    """The lines Rich draws for ``cell`` in a ``width``-cell column of one-line rows, or None.

    ``pre_style`` and ``post_style`` are the styles DataTable layers under and over the
    cell's own (base and component styles; cursor colours with CSS priority). None when
    the cell is not a single line of unstyled text that fits ``width`` with its padding.
    """
    if type(cell) is not Text or cell.spans or cell.style or not pre_style:
        return None  # (a null pre style leaves the text unstyled in Rich: never in a table)
    if cell.justify not in _PLAIN_LAYOUT or cell.overflow not in (None, "fold", "ellipsis"):
        return None
    text = cell.plain
    if "\n" in text or "\t" in text:
        return None
    room = width - 2 * padding
    if room <= 0:
        return None
    fill = room - cell_len(text)
    if fill < 0:
        if cell.overflow != "ellipsis":
            return None
        text = fit(text, room)
        fill = room - cell_len(text)
    # Rich gives every piece the pre style, the (empty) text style and the post style.
    style = pre_style + Style.null()
    if post_style:
        style = style + post_style
    line = [Segment(text, style)]
    if fill:
        line.append(Segment(" " * fill, style))
    if padding:
        pad = Segment(" " * padding, style)
        line = [pad, *line, pad]
    return [line]
