"""``hotline report …``: reports for producers; ``sectors`` shows who is under-represented,
``departments`` how the departments questions are referred to follow them through."""

from __future__ import annotations

import typer

from episodes.reports import sector_report
from hotline.cli.common import JSON_OPTION, echo, emit_json, print_table, station_from

report_app = typer.Typer(help="Reports for producers.", no_args_is_help=True)


@report_app.command("sectors")
def sectors(
    ctx: typer.Context,
    year: int | None = typer.Option(None, "--year", help="Only episodes aired this (local) year."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Appearances per sector (界别), least represented first."""
    station = station_from(ctx)
    with station.session(write=False) as session:
        report = sector_report(session=session, tz=station.tz, year=year)
    if as_json:
        emit_json(
            {
                "year": report.year,
                "total_appearances": report.total_appearances,
                "sectors": [
                    {
                        "sector": r.sector,
                        "members": r.members,
                        "active_members": r.active_members,
                        "appearances": r.appearances,
                        "share": round(r.share, 4),
                    }
                    for r in report.rows
                ],
            }
        )
        return
    print_table(
        ["界别", "委员", "在任", "出场", "占比"],
        [
            [r.sector, r.members, r.active_members, r.appearances, f"{r.share:.1%}"]
            for r in report.rows
        ],
    )
    scope = f"in {report.year}" if report.year is not None else "in all years"
    echo(f"{report.total_appearances} appearances {scope}; least represented first")


@report_app.command("departments")
def departments(
    ctx: typer.Context,
    year: int | None = typer.Option(None, "--year", help="Only referrals sent this (local) year."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Per department: referrals, replies on time, overdue now, days to reply, satisfaction."""
    from hotline.cli.department_report import show_department_report

    show_department_report(ctx, year=year, as_json=as_json)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(report_app, name="report")
