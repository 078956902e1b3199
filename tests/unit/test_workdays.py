"""Mainland working days: holidays, make-up workdays (调休), and a visible fallback."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from episodes.workdays import add_working_days, calendar_range, is_working_day


def test_national_day_week_is_off_and_the_make_up_saturday_is_worked() -> None:
    # 2026: 1–7 October off; Sunday 20 September and Saturday 10 October worked (调休).
    assert not is_working_day(date(2026, 10, 1))
    assert not is_working_day(date(2026, 10, 7))
    assert is_working_day(date(2026, 10, 10))
    assert is_working_day(date(2026, 9, 20))
    counted = add_working_days(date(2026, 9, 30), 5)
    # 8, 9, 10 (the make-up Saturday), 12, 13 October.
    assert counted.day == date(2026, 10, 13)
    assert counted.warning == "" and counted.guessed_years == ()


def test_spring_festival_2025_counts_the_make_up_sunday() -> None:
    # 春节 2025: 28 January – 4 February off, Sunday 26 January and Saturday 8 February worked.
    assert add_working_days(date(2025, 1, 24), 1).day == date(2025, 1, 26)
    assert add_working_days(date(2025, 1, 24), 2).day == date(2025, 1, 27)
    assert add_working_days(date(2025, 1, 27), 1).day == date(2025, 2, 5)


def test_a_year_the_calendar_does_not_know_falls_back_to_weekdays_with_a_warning() -> None:
    known = calendar_range()
    later = known.last + 1
    start = date(later, 1, 1) - timedelta(days=1)
    counted = add_working_days(start, 5)
    weekdays = [start + timedelta(days=n) for n in range(1, 15)]
    expected = [d for d in weekdays if d.weekday() < 5][4]
    assert counted.day == expected
    assert counted.guessed_years == (later,)
    assert f"has no holidays for {later}" in counted.warning
    assert "Monday to Friday" in counted.warning
    assert f"{later}年" in counted.warning_zh


@given(start=st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 12, 1)))
def test_the_due_day_is_a_working_day_after_the_start(start: date) -> None:
    counted = add_working_days(start, 5)
    assert counted.day > start
    assert is_working_day(counted.day)
    between = [start + timedelta(days=n) for n in range(1, (counted.day - start).days + 1)]
    assert sum(is_working_day(d) for d in between) == 5
