"""Chinese working days: deadlines in the rules are counted in them (domain.md §8).

A date is a working day by, in order: an admin's override (CalendarDay), then the
State Council schedule the chinese-calendar package carries, then, for a year the
package does not know, ordinary weekdays, but only once an admin has entered that
year's schedule and recorded it as a CalendarYear. Without that the portal refuses
with CalendarYearUnknown instead of guessing a deadline.
"""

from __future__ import annotations

import datetime

import chinese_calendar
from django.utils.translation import gettext as _

from aid_portal.models import CalendarDay, CalendarYear


class CalendarYearUnknown(Exception):
    """No holiday schedule is known for a year a deadline falls in."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(
            _(
                "The holiday schedule for %(year)s has not been entered; an admin must add "
                "it under calendar years before deadlines in %(year)s can be counted."
            )
            % {"year": year}
        )


class Calendar:
    """Working-day arithmetic over a window, with the overrides loaded in one query."""

    def __init__(self, start: datetime.date, end: datetime.date):
        self.overrides = dict(
            CalendarDay.objects.filter(date__range=(start, end)).values_list(
                "date", "is_working_day"
            )
        )
        self.entered_years = set(
            CalendarYear.objects.filter(year__range=(start.year, end.year)).values_list(
                "year", flat=True
            )
        )

    def is_working_day(self, day: datetime.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            if day.year in self.entered_years:
                return day.weekday() < 5
            raise CalendarYearUnknown(day.year) from None


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """The date ``days`` working days after ``start`` (start itself not counted).

    ``add_working_days(acceptance, 3)`` is the last day the investigation may start.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    # n working days rarely span more than 2n + 30 calendar days (the Spring Festival
    # week is the longest break): load that window at once, and the next if needed.
    window = datetime.timedelta(days=2 * days + 30)
    window_end = start + window
    calendar = Calendar(start, window_end)
    day = start
    counted = 0
    while counted < days:
        day += datetime.timedelta(days=1)
        if day > window_end:
            window_end = day + window
            calendar = Calendar(day, window_end)
        if calendar.is_working_day(day):
            counted += 1
    return day


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    if end <= start:
        return 0
    calendar = Calendar(start, end)
    return sum(
        calendar.is_working_day(start + datetime.timedelta(days=offset))
        for offset in range(1, (end - start).days + 1)
    )


def is_working_day(day: datetime.date) -> bool:
    return Calendar(day, day).is_working_day(day)
