"""What every command group shares: the station from the context, JSON and table output,
one-line usage errors, global options anywhere on the line, and asking before a move
that needs a person's yes."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
import typer.main
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from hotline.errors import HotlineError, NeedsConfirmation
from hotline.station import Station, find_station_root, open_station
from hotline.text import display_width

T = TypeVar("T")

JSON_OPTION = typer.Option(
    False, "--json", help="Print JSON (stable keys, ISO 8601 times with the station's offset)."
)
"""The ``--json`` flag every list, show and search command takes."""

EPISODE_ARGUMENT = typer.Argument(..., help="Episode number.")
"""The episode number every command about one episode takes first."""

YES_OPTION = typer.Option(
    False, "--yes", "-y", help="Go ahead where the command would ask first (for scripts)."
)
"""The ``--yes`` flag of every command whose move may need a person's confirmation."""

GLOBAL_VALUE_OPTIONS = ("--station", "-s")
"""Root options taking a value that are accepted anywhere on the line (moved to the front)."""
GLOBAL_FLAGS = ("--json",)
"""Flags accepted anywhere on the line (moved to the end, where the command reads them)."""


def expand_home(value: Path | None) -> Path | None:
    """Parameter callback: ``~`` at the start of a path is the home folder, quoted or not."""
    return value.expanduser() if value is not None else None


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 episode``, ``2 episodes``: the count with the noun in the right number."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"


def arrange_arguments(args: Sequence[str]) -> list[str]:
    """The command line with ``--station DIR`` moved to the front and ``--json`` to the end.

    So both work anywhere: ``hotline episodes list --station s``, ``hotline --json
    episodes list``. Everything after ``--`` is left as it is.
    """
    front: list[str] = []
    middle: list[str] = []
    back: list[str] = []
    rest = list(args)
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--":
            middle.extend(rest[i:])
            break
        if arg in GLOBAL_VALUE_OPTIONS and i + 1 < len(rest):
            front += rest[i : i + 2]
            i += 2
            continue
        if any(arg.startswith(f"{name}=") for name in GLOBAL_VALUE_OPTIONS if name[1] == "-"):
            front.append(arg)
        elif arg in GLOBAL_FLAGS:
            if arg not in back:
                back.append(arg)
        else:
            middle.append(arg)
        i += 1
    if "--" in middle:
        cut = middle.index("--")
        return front + middle[:cut] + back + middle[cut:]
    return front + middle + back


def _command_path(ctx: Any) -> str:
    names: list[str] = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(["hotline", *reversed(names)])


def report_usage_error(exc: UsageError) -> int:
    """Print a usage error as one line on stderr (as every other error is); return 1.

    A group called with no command prints its help instead, and returns 0.
    """
    if isinstance(exc, NoArgsIsHelpError) and exc.ctx is not None:
        typer.echo(exc.ctx.get_help())
        return 0
    message = " ".join(exc.format_message().split())
    message = message[:1].lower() + message[1:].rstrip(".")
    path = _command_path(exc.ctx)
    # A subcommand's error names the subcommand; the root's is said once, after "hotline:".
    where = f"{path}: " if path != "hotline" else ""
    typer.echo(f"hotline: error: {where}{message} (see `{path} --help`)", err=True)
    return 1


def confirmed(action: Callable[[bool], T], *, yes: bool) -> T:
    """Run ``action(confirm)``; where it needs confirmation, ask and run it again.

    ``action`` runs in a transaction of its own each time, so nothing is held open
    while a person reads the question. At a terminal the question is asked; otherwise
    the command is refused with the reason unless ``--yes`` was given.
    """
    try:
        return action(yes)
    except NeedsConfirmation as exc:
        if not interactive():
            raise HotlineError(f"{exc}: pass --yes to go ahead") from exc
        if not typer.confirm(f"{exc}", default=False, err=True):
            _refuse("not confirmed; nothing changed")
        return action(True)


def interactive() -> bool:
    """Whether a person is at the terminal to answer a question."""
    return sys.stdin.isatty()


def _refuse(message: str) -> NoReturn:
    typer.echo(f"hotline: {message}", err=True)
    raise typer.Exit(1)


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

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; usage errors are one line and exit 1, like every error."""
        line = arrange_arguments(sys.argv[1:] if args is None else args)
        if not standalone_mode:
            return super().main(line, prog_name or "hotline", standalone_mode=False, **extra)
        try:
            result = super().main(line, prog_name or "hotline", standalone_mode=False, **extra)
        except UsageError as exc:
            sys.exit(report_usage_error(exc))
        except ClickException as exc:
            typer.echo(f"hotline: error: {exc.format_message()}", err=True)
            sys.exit(1)
        except typer.Abort:
            typer.echo("hotline: aborted; nothing changed", err=True)
            sys.exit(1)
        # standalone_mode=False returns the exit code of a typer.Exit; commands return None.
        sys.exit(result if isinstance(result, int) else 0)


def station_from(ctx: typer.Context) -> Station:
    """Open the station chosen by ``--station``, ``HOTLINE_STATION`` or the folder tree."""
    obj = ctx.find_root().obj or {}
    if obj.get("station_obj") is None:
        explicit: Path | None = obj.get("station")
        obj["station_obj"] = open_station(find_station_root(explicit))
    return obj["station_obj"]


def writes_to(ctx: typer.Context, target: Path) -> None:
    """Say where this command writes outside the station (a backup, an export), so that a
    failure there (a full or read-only disk) is said of that folder, not of the station."""
    ctx.find_root().obj["target"] = target.expanduser().absolute()


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
