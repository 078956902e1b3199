"""``hotline history episode N | question Q | member M | department D``: who changed what, when.

Every change to episodes, bookings, members, questions, departments, referrals and
call-backs is recorded as it is written (``hotline.history``). Private fields (contacts)
show only as set (***) or empty.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from episodes.history_view import HistoryLine, history_of
from hotline.cli.common import JSON_OPTION, echo, emit_json, print_table, station_from
from hotline.timeutil import local_iso, local_text

history_app = typer.Typer(
    help="Who changed what, when: an episode's, question's, member's or department's history.",
    no_args_is_help=True,
)

LIMIT_OPTION = typer.Option(0, "--limit", help="Only the last K changes; 0 = all.")


def _show(ctx: typer.Context, subject: str, ref: str, limit: int, as_json: bool) -> None:
    station = station_from(ctx)
    tz = station.tz
    with station.session() as session:
        lines = history_of(session=session, subject=subject, ref=ref, tz=tz, limit=limit)
    if as_json:
        emit_json([_line_json(line, tz) for line in lines])
        return
    if not lines:
        echo(f"no changes recorded for {subject} {ref}")
        return
    print_table(
        ["when", "who", "what", "action", "changes"],
        [
            [local_text(x.at, tz, "%Y-%m-%d %H:%M:%S"), x.actor, x.what, x.action, x.summary]
            for x in lines
        ],
        max_width=80,
    )


def _line_json(line: HistoryLine, tz: Any) -> dict[str, Any]:
    return {
        "at": local_iso(line.at, tz),
        "actor": line.actor,
        "entity": line.entity,
        "entity_id": line.entity_id,
        "what": line.what,
        "action": line.action,
        "changes": {field: {"before": b, "after": a} for field, (b, a) in line.changes.items()},
    }


def _command(subject: str, help_ref: str) -> Callable[..., None]:
    def command(
        ctx: typer.Context,
        ref: str = typer.Argument(..., help=help_ref),
        limit: int = LIMIT_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        _show(ctx, subject, ref, limit, as_json)

    return command


SUBJECTS = (
    ("episode", "Episode number.", "An episode's changes and its bookings', oldest first."),
    ("question", "Question id.", "A question's changes, its referrals' and call-backs'."),
    ("member", "Member id (42 or #42) or unique name.", "A member's changes and bookings'."),
    ("department", "Department id or exact name.", "A department's changes and referrals'."),
)
for _subject, _ref_help, _doc in SUBJECTS:
    _cmd = _command(_subject, _ref_help)
    _cmd.__doc__ = _doc
    history_app.command(_subject)(_cmd)


def register(app: typer.Typer) -> None:
    """Add ``hotline history …`` to the root app."""
    app.add_typer(history_app, name="history")
