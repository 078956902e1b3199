"""``hotline report departments``: the follow-through of referrals, one line per department."""

from __future__ import annotations

from typing import Any

import typer

from episodes.department_report import DepartmentStats, department_report
from hotline.cli.common import echo, emit_json, print_table, station_from
from hotline.models import CallbackOutcome


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "–"


def _stats_json(row: DepartmentStats) -> dict[str, Any]:
    return {
        "department": {"id": row.department_id, "name": row.name},
        "received": row.received,
        "replied": row.replied,
        "replied_on_time": row.on_time,
        "overdue_now": row.overdue_now,
        "median_days_to_reply": row.median_days,
        "callbacks": {o.value: row.callbacks.get(o.value, 0) for o in CallbackOutcome},
        "satisfaction": None if row.satisfaction is None else round(row.satisfaction, 4),
    }


def _cells(row: DepartmentStats) -> list[Any]:
    satisfied = row.callbacks.get(CallbackOutcome.satisfied, 0)
    partly = row.callbacks.get(CallbackOutcome.partly, 0)
    unsatisfied = row.callbacks.get(CallbackOutcome.unsatisfied, 0)
    return [
        row.name,
        row.received,
        row.replied,
        f"{row.on_time} ({_share(row.on_time, row.received)})",
        row.overdue_now,
        "–" if row.median_days is None else f"{row.median_days:g}",
        f"{satisfied}/{partly}/{unsatisfied}",
        "–" if row.satisfaction is None else f"{row.satisfaction:.0%}",
    ]


def show_department_report(ctx: typer.Context, *, year: int | None, as_json: bool) -> None:
    """Print the department report of the station in ``ctx``."""
    station = station_from(ctx)
    with station.session() as session:
        report = department_report(session=session, tz=station.tz, year=year)
    if as_json:
        emit_json(
            {
                "year": report.year,
                "departments": [_stats_json(r) for r in report.rows],
                "total": _stats_json(report.total),
            }
        )
        return
    if not report.rows:
        scope = f" in {year}" if year is not None else ""
        echo(f"no referrals{scope}")
        return
    print_table(
        [
            "部门",
            "转办",
            "已复",
            "按期答复",
            "逾期未复",
            "答复天数(中位)",
            "满意/基本/不满意",
            "满意率",
        ],
        [*(_cells(r) for r in report.rows), _cells(report.total)],
        max_width=30,
    )
    scope = f"sent in {year}" if year is not None else "all years"
    echo(f"{report.total.received} referrals ({scope}); most overdue first")
