"""The department report: per department, referrals received, replied on time, overdue now,
median days to reply and the listeners' satisfaction at call-back — the table a programme
sends its CPPCC office each quarter.

Four grouped reads, whatever the number of referrals; only the replied referrals' two
times come back row by row, for the median.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from episodes.reports import year_bounds
from hotline.models import Callback, CallbackOutcome, Department, Referral, ReferralStatus, table_of
from hotline.sql import days_between
from hotline.timeutil import utcnow

REACHED = (CallbackOutcome.satisfied, CallbackOutcome.partly, CallbackOutcome.unsatisfied)


def median(values: list[float]) -> float:
    """The median of ``values`` (not empty); ``statistics`` would cost the command its import."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


@dataclass
class DepartmentStats:
    """One department's line of the report."""

    department_id: int
    name: str
    received: int = 0
    replied: int = 0
    on_time: int = 0
    overdue_now: int = 0
    median_days: float | None = None
    """Median days (elapsed, to a tenth) from sending to the reply, over the replied ones."""
    callbacks: dict[str, int] = field(default_factory=dict)
    """Call-backs by outcome (satisfied, partly, unsatisfied, unreachable)."""

    @property
    def satisfaction(self) -> float | None:
        """Satisfied listeners as a share of those reached at call-back (None if none)."""
        reached = sum(self.callbacks.get(o, 0) for o in REACHED)
        return self.callbacks.get(CallbackOutcome.satisfied, 0) / reached if reached else None


@dataclass
class DepartmentReport:
    year: int | None
    rows: list[DepartmentStats]
    """Most overdue first, then most referrals received."""
    median_days: float | None = None
    """The median over every replied referral of the report."""

    @property
    def total(self) -> DepartmentStats:
        """The whole station's line."""
        total = DepartmentStats(0, "合计", median_days=self.median_days)
        for row in self.rows:
            total.received += row.received
            total.replied += row.replied
            total.on_time += row.on_time
            total.overdue_now += row.overdue_now
            for outcome, n in row.callbacks.items():
                total.callbacks[outcome] = total.callbacks.get(outcome, 0) + n
        return total


def department_report(
    *, session: Session, tz: ZoneInfo, year: int | None = None, now: datetime | None = None
) -> DepartmentReport:
    """The report over referrals sent in local ``year`` (all years when None)."""
    now = now or utcnow()
    referral, callback = table_of(Referral).c, table_of(Callback).c
    department = table_of(Department).c
    scope = []
    if year is not None:
        start, end = year_bounds(year, tz)
        scope = [referral.sent_at >= start, referral.sent_at < end]
    connection = session.connection()
    stats = {
        dept_id: DepartmentStats(dept_id, name)
        for dept_id, name in connection.execute(sa.select(department.id, department.name))
    }
    counts = sa.select(
        referral.department_id,
        sa.func.count(),
        sa.func.count(referral.replied_at),
        sa.func.sum(sa.case((referral.replied_at < referral.due_at, 1), else_=0)),
        sa.func.sum(
            sa.case(
                (sa.and_(referral.status == ReferralStatus.open, referral.due_at <= now), 1),
                else_=0,
            )
        ),
    ).where(*scope)
    for dept_id, received, replied, on_time, overdue in connection.execute(
        counts.group_by(referral.department_id)
    ):
        row = stats[dept_id]
        row.received, row.replied = int(received), int(replied)
        row.on_time, row.overdue_now = int(on_time or 0), int(overdue or 0)
    days: dict[int, list[float]] = defaultdict(list)
    for dept_id, span in connection.execute(
        sa.select(
            referral.department_id, days_between(referral.sent_at, referral.replied_at)
        ).where(referral.replied_at.is_not(None), *scope)
    ):
        days[dept_id].append(span)
    for dept_id, spans in days.items():
        stats[dept_id].median_days = round(median(spans), 1)
    outcomes = (
        sa.select(referral.department_id, callback.outcome, sa.func.count())
        .select_from(
            table_of(Callback).join(table_of(Referral), referral.id == callback.referral_id)
        )
        .where(*scope)
        .group_by(referral.department_id, callback.outcome)
    )
    for dept_id, outcome, n in connection.execute(outcomes):
        stats[dept_id].callbacks[outcome] = int(n)
    rows = [s for s in stats.values() if s.received]
    rows.sort(key=lambda s: (-s.overdue_now, -s.received, s.name))
    every = [span for spans in days.values() for span in spans]
    return DepartmentReport(year, rows, round(median(every), 1) if every else None)
