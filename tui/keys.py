"""The desk's keys as documentation: a binding that carries its README line, and the README's
key table written from the bindings themselves (``scripts/readme_keys.py``).

Every key of the desk is declared once, where it is bound, as a ``Key``: the footer and
the command palette show its Chinese ``description``; the README's table shows its
``doc``. So the table cannot list a key the desk does not have (a test reads the README
and presses through the tabs to check), and a new key reaches the README by running the
script.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from textual.binding import Binding


@dataclass(frozen=True)
class Key(Binding):
    """A binding with ``doc``: what the key does, in English, for the README's key table."""

    doc: str = ""


@dataclass(frozen=True)
class KeyRow:
    """One row of the key table: where the keys work, the keys, what they do."""

    where: str
    keys: tuple[str, ...]
    doc: str


def documented(bindings: Iterable[Any]) -> Iterator[Key]:
    """The ``Key`` bindings among ``bindings`` that have a ``doc``."""
    return (b for b in bindings if isinstance(b, Key) and b.doc)


def rows_for(where: str, bindings: Iterable[Any]) -> list[KeyRow]:
    """One row per documented binding; bindings with the same ``doc`` share a row."""
    rows: dict[str, list[str]] = {}
    for binding in documented(bindings):
        keys = rows.setdefault(binding.doc, [])
        keys.extend(k.strip() for k in binding.key.split(",") if k.strip() not in keys)
    return [KeyRow(where, tuple(keys), doc) for doc, keys in rows.items()]


def shown_key(key: str) -> str:
    """How the table writes a key (Textual's name, except the few that read better as is)."""
    return {"slash": "/", "colon": ":", "escape": "Esc", "enter": "Enter"}.get(key, key)


def markdown(rows: Sequence[KeyRow]) -> str:
    """The key table in Markdown: each key in backticks, so a test can read them back."""
    lines = ["| tab | keys | what they do |", "| --- | --- | --- |"]
    for row in rows:
        keys = " ".join(f"`{shown_key(k)}`" for k in row.keys)
        lines.append(f"| {row.where} | {keys} | {row.doc} |")
    return "\n".join(lines)


def desk_key_rows() -> list[KeyRow]:
    """Every documented key of the desk, by where it works, in the README's order."""
    from tui.app import HotlineApp, pane_classes
    from tui.dialogs.confirm import ConfirmDialog
    from tui.dialogs.prompt import PromptDialog
    from tui.screens.transcript import TranscriptScreen
    from tui.widgets.desk_table import DeskTable

    rows = rows_for("everywhere", HotlineApp.BINDINGS)
    rows += rows_for("every table", DeskTable.BINDINGS)
    for pane in pane_classes():
        rows += rows_for(pane.LABEL, pane.BINDINGS)
    rows += rows_for("检索 transcript", TranscriptScreen.BINDINGS)
    rows += rows_for("every form", PromptDialog.BINDINGS)
    rows += rows_for("every question", ConfirmDialog.BINDINGS)
    return rows
