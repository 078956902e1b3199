"""The CLI's last line of defence: any failure that reaches the top becomes one line, exit 1.

Domain refusals (``HotlineError``) are turned into their line where commands run
(``hotline.cli.common``); typer's own usage errors and exits pass through untouched.
What is left is a failure of the database or the machine, explained by
``hotline.failures``, or a bug; either way the user reads one line that says where
the full traceback went (the station's ``logs/hotline.log``, see ``hotline.logs``).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from typer.exceptions import Abort, Exit, TyperException

from hotline.config import load_settings
from hotline.failures import Where, bug, explain
from hotline.logs import record_failure
from hotline.station import DATABASE_URL_ENV, SETTINGS_FILE, database_url, find_station_root


def _where(ctx: typer.Context) -> Where:
    """The station the command was working on, as far as it got before failing, and the
    folder outside it the command writes to (``hotline.cli.common.writes_to``)."""
    obj = ctx.find_root().obj or {}
    target: Path | None = obj.get("target")
    station = obj.get("station_obj")
    if station is not None and not obj.get("database_url"):
        return dataclasses.replace(station.where, target=target)
    root: Path | None = None
    # Set by commands that name another database (init, db copy's target): theirs failed.
    url = obj.get("database_url")
    try:
        root = find_station_root(obj.get("station"))
        url = url or database_url(load_settings(root / SETTINGS_FILE))
    except Exception:  # no station found: the log goes to the user's folder
        url = url or os.environ.get(DATABASE_URL_ENV)
    return Where(root, url, target=target)


@contextmanager
def one_line_failures(ctx: typer.Context) -> Iterator[None]:
    """Run a command; turn any failure other than typer's into one line on stderr, exit 1."""
    try:
        yield
    except (Exit, Abort, TyperException):  # exits, Ctrl-C and usage errors: typer's own
        raise
    except BrokenPipeError:
        # The reader went away (`hotline questions list | head`): nothing failed that the
        # user needs to hear about. Point stdout at /dev/null so the interpreter's final
        # flush does not raise again, and exit as a closed pipe's writer does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(141) from None
    except Exception as exc:
        where = _where(ctx)
        line = (explain(exc, where) or bug(exc)).line
        command = " ".join(["hotline", *sys.argv[1:]])
        log = record_failure(exc, root=where.root, context=command)
        tail = f" (details in {log})" if log else " (no log could be written)"
        typer.echo(f"hotline: error: {line}{tail}", err=True)
        raise typer.Exit(1) from exc
