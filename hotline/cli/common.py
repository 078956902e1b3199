"""What every command group shares: the station from the context, JSON and table output."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup

from hotline.errors import HotlineError
from hotline.station import Station, find_station_root, open_station
from hotline.text import display_width

JSON_OPTION = typer.Option(
    False, "--json", help="Print JSON (stable keys, ISO 8601 times with the station's offset)."
)
"""The ``--json`` flag every list, show and search command takes."""

EPISODE_ARGUMENT = typer.Argument(..., help="Episode number.")
"""The episode number every command about one episode takes first."""


class HotlineGroup(TyperGroup):
    """The root group: loads command modules lazily and turns domain errors into one line.

    ``lazy_commands`` maps a command name to the module under ``hotline.cli`` whose
    ``register(app)`` adds it; the module is imported the first time it is needed.
    """

    lazy_commands: dict[str, str] = {}

    def list_commands(self, ctx: typer.Context) -> list[str]:
        names = [*self.lazy_commands]
        return names + [name for name in super().list_commands(ctx) if name not in names]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        module = self.lazy_commands.get(cmd_name)
        if cmd_name not in self.commands and module is not None:
            self._load(module)
        return super().get_command(ctx, cmd_name)

    def _load(self, module_name: str) -> None:
        module = importlib.import_module(f"hotline.cli.{module_name}")
        holder = typer.Typer()
        # A callback keeps typer from collapsing a one-command app into that command.
        holder.callback()(lambda: None)
        module.register(holder)
        group = typer.main.get_command(holder)
        for name, command in getattr(group, "commands", {}).items():
            self.commands.setdefault(name, command)

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HotlineError as exc:
            typer.echo(f"hotline: error: {exc}", err=True)
            raise typer.Exit(1) from exc


def station_from(ctx: typer.Context) -> Station:
    """Open the station chosen by ``--station``, ``HOTLINE_STATION`` or the folder tree."""
    obj = ctx.find_root().obj or {}
    if obj.get("station_obj") is None:
        explicit: Path | None = obj.get("station")
        obj["station_obj"] = open_station(find_station_root(explicit))
    return obj["station_obj"]


def emit_json(data: Any) -> None:
    """Print ``data`` as JSON: UTF-8 (Chinese as is), stable key order, one document.

    Indented for a person at a terminal; compact when piped, where the C encoder is
    several times faster on long lists (indentation forces the pure-Python one).
    """
    indent = 2 if sys.stdout.isatty() else None
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=indent, default=str))
    sys.stdout.write("\n")


def _fit(text: str, width: int) -> str:
    pad = width - display_width(text)
    return text + " " * max(pad, 0)


def _clip(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = display_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def print_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, max_width: int = 40
) -> None:
    """Print rows as aligned columns; CJK characters count two columns wide."""
    cells = [[_clip("" if v is None else str(v), max_width) for v in row] for row in rows]
    widths = [display_width(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], display_width(value))
    out = sys.stdout
    out.write("  ".join(_fit(h, w) for h, w in zip(headers, widths, strict=True)).rstrip() + "\n")
    for row in cells:
        out.write("  ".join(_fit(v, w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n")


def echo(message: str = "") -> None:
    typer.echo(message)
