"""``DataLabel``: a Label for text that comes from the station — shown as text, never markup.

A title, a name, a question, an error message quoting them: ``[/]`` or ``[bold red]`` in
them is shown as typed, and control characters are shown as pictures (``tui.shown``).
Every label of the desk that shows data is one of these.
"""

from __future__ import annotations

from typing import Any

from textual.visual import VisualType
from textual.widgets import Label

from tui.shown import lines


class DataLabel(Label):
    """A Label whose text is data: never parsed as markup, control characters visible."""

    def __init__(self, text: str = "", **kwargs: Any) -> None:
        super().__init__(lines(text), markup=False, **kwargs)

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        super().update(lines(content) if isinstance(content, str) else content, layout=layout)
