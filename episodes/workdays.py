"""Mainland working days: public holidays and make-up workdays (调休) from ``chinese-calendar``.

The State Council announces each year's holidays and the weekend days worked in exchange
late in the year before, so no rule computes them: the ``chinese-calendar`` package ships
the announced years. A day in a year it does not know yet (or no longer covers) is
counted as Monday to Friday only, and the result says so — a warning the CLI and the desk
show — never silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from importlib.metadata import PackageNotFoundError, version

import chinese_calendar
from chinese_calendar import constants


@dataclass(frozen=True)
class CalendarRange:
    """The years the working-day calendar knows, and which package version says so."""

    first: int
    last: int
    source: str

    def knows(self, year: int) -> bool:
        return self.first <= year <= self.last


@cache
def calendar_range() -> CalendarRange:
    """The first and last year ``chinese-calendar`` has holidays for."""
    years = {day.year for day in constants.holidays} | {day.year for day in constants.workdays}
    try:
        package = f"chinese-calendar {version('chinesecalendar')}"
    except PackageNotFoundError:  # installed some other way than from the registry
        package = "chinese-calendar"
    return CalendarRange(min(years), max(years), package)


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day; a year the calendar lacks counts Monday to Friday."""
    if calendar_range().knows(day.year):
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5


@dataclass(frozen=True)
class Counted:
    """A day found by counting working days, and the years counted without the calendar."""

    day: date
    guessed_years: tuple[int, ...] = field(default=())

    @property
    def warning(self) -> str:
        """What the count could not know, in English ("" when the calendar knew every day)."""
        if not self.guessed_years:
            return ""
        known = calendar_range()
        years = ", ".join(str(y) for y in self.guessed_years)
        return (
            f"{known.source} has no holidays for {years} (it knows {known.first}–{known.last}): "
            "counted Monday to Friday only, without holidays or make-up workdays"
        )

    @property
    def warning_zh(self) -> str:
        """The same warning for the desk."""
        if not self.guessed_years:
            return ""
        years = "、".join(f"{y}年" for y in self.guessed_years)
        return f"工作日历中没有{years}的节假日安排：按周一至周五计算，未计节假日和调休"


def add_working_days(start: date, days: int) -> Counted:
    """The ``days``-th working day after ``start`` (``start`` itself is not counted)."""
    if days < 0:
        raise ValueError(f"cannot count {days} working days")
    known = calendar_range()
    guessed: set[int] = set()
    day = start
    while days:
        day += timedelta(days=1)
        if not known.knows(day.year):
            guessed.add(day.year)
        days -= is_working_day(day)
    return Counted(day, tuple(sorted(guessed)))
