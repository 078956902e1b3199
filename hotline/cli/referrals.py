"""``hotline referrals …``: follow referrals (转办) to their reply — lists, replies, reminders."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

import typer

from episodes import referrals as domain
from hotline.cli.common import JSON_OPTION, echo, emit_json, print_table, station_from
from hotline.timeutil import local_iso, local_text, utcnow

referrals_app = typer.Typer(
    help="Referrals (转办) to departments: due dates, replies, reminders.", no_args_is_help=True
)


def state_text(row: domain.ReferralRow, now: datetime, tz: ZoneInfo) -> str:
    """open, overdue Nd, replied or closed, as tables show it."""
    if row.overdue(now):
        return f"overdue {row.days_overdue(now, tz)}d"
    return row.status


def referral_json(row: domain.ReferralRow, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """Stable keys for one referral (no listener contact: it is never part of a referral)."""
    return {
        "id": row.id,
        "question": row.question_id,
        "department": {"id": row.department_id, "name": row.department},
        "sent_at": local_iso(row.sent_at, tz),
        "due": domain.due_day(row.due_at, tz).isoformat(),
        "status": row.status,
        "overdue": row.overdue(now),
        "days_overdue": row.days_overdue(now, tz),
        "replied_at": local_iso(row.replied_at, tz),
        "reply": row.reply_text,
        "close_reason": row.close_reason,
        "topic": row.topic,
        "text": row.text,
        "question_status": row.question_status,
    }


def print_referrals(rows: list[domain.ReferralRow], now: datetime, tz: ZoneInfo) -> None:
    print_table(
        ["id", "问题", "部门", "转办", "期限", "状态", "话题", "内容"],
        [
            [
                r.id,
                r.question_id,
                r.department,
                local_text(r.sent_at, tz, "%Y-%m-%d"),
                domain.due_day(r.due_at, tz).isoformat(),
                state_text(r, now, tz),
                r.topic,
                " ".join(r.text[:40].split()),  # clipped to 24 columns anyway
            ]
            for r in rows
        ],
        max_width=24,
    )


@referrals_app.command("list")
def list_(
    ctx: typer.Context,
    overdue: bool = typer.Option(
        False, "--overdue", help="Only open referrals past their due day."
    ),
    due_within: int | None = typer.Option(
        None, "--due-within", help="Only open referrals due in the next DAYS days (today too)."
    ),
    department: str | None = typer.Option(
        None, "--department", help="Only this department (id or name)."
    ),
    include_closed: bool = typer.Option(False, "--all", help="Closed referrals too."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Referrals still followed (awaiting a reply or a call-back), overdue first."""
    station = station_from(ctx)
    tz, now = station.tz, utcnow()
    with station.session() as session:
        rows = domain.list_referrals(
            session=session,
            tz=tz,
            now=now,
            overdue=overdue,
            due_within=due_within,
            department=department,
            include_closed=include_closed,
        )
    if as_json:
        emit_json([referral_json(r, now, tz) for r in rows])
        return
    if not rows:
        echo("no referrals match")
        return
    print_referrals(rows, now, tz)
    late = sum(r.overdue(now) for r in rows)
    echo(f"{len(rows)} referrals, {late} overdue")


@referrals_app.command("reply")
def reply(
    ctx: typer.Context,
    referral: int = typer.Argument(..., help="Referral id (`hotline referrals list`)."),
    text: str = typer.Option(..., "--text", help="The department's answer."),
    date: str | None = typer.Option(
        None, "--date", help="When it came: YYYY-MM-DD [HH:MM] (default: now)."
    ),
) -> None:
    """Record a department's reply to an open referral."""
    station = station_from(ctx)
    tz = station.tz
    with station.session() as session:
        done = domain.reply(session=session, referral=referral, text=text, tz=tz, when=date)
    timing = "on time" if done.replied_at < done.due_at else "late"
    echo(
        f"referral {done.id} (question {done.question_id}) replied "
        f"{local_text(done.replied_at, tz)}, {timing} (due {domain.due_day(done.due_at, tz)}); "
        f"next: hotline questions callback {done.question_id} --outcome …"
    )


@referrals_app.command("remind")
def remind(
    ctx: typer.Context,
    days: int | None = typer.Option(
        None, "--days", help="Due within DAYS days (default: referrals.remind_days)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """The morning list: referrals overdue or due soon, by department."""
    station = station_from(ctx)
    tz, now = station.tz, utcnow()
    window = station.settings.referrals.remind_days if days is None else days
    with station.session() as session:
        rows = domain.list_referrals(
            session=session, tz=tz, now=now, overdue=True, due_within=window
        )
    late = [r for r in rows if r.overdue(now)]
    if as_json:
        emit_json(
            {
                "today": local_text(now, tz, "%Y-%m-%d"),
                "days": window,
                "overdue": [referral_json(r, now, tz) for r in late],
                "due_soon": [referral_json(r, now, tz) for r in rows if not r.overdue(now)],
            }
        )
        return
    if not rows:
        echo(f"nothing overdue and nothing due within {window} days")
        return
    echo(
        f"{local_text(now, tz, '%Y-%m-%d')}: {len(late)} overdue, "
        f"{len(rows) - len(late)} due within {window} days"
    )
    by_department = sorted(rows, key=lambda r: (r.department, r.due_at))
    for name, group in groupby(by_department, key=lambda r: r.department):
        echo(f"\n{name}")
        for r in group:
            echo(
                f"  #{r.id}  question {r.question_id}  {state_text(r, now, tz):<12} "
                f"due {domain.due_day(r.due_at, tz)}  {r.topic}  {' '.join(r.text.split())[:30]}"
            )


def register(app: typer.Typer) -> None:
    """Add ``hotline referrals …`` to the root app."""
    app.add_typer(referrals_app, name="referrals")
