import datetime

import pytest

from aid_portal.models import CalendarDay, CalendarYear
from aid_portal.workdays import (
    CalendarYearUnknown,
    add_working_days,
    is_working_day,
    working_days_between,
)

D = datetime.date
pytestmark = pytest.mark.django_db


def test_plain_week():
    # Monday 2026-11-23 + 3 working days = Thursday.
    assert add_working_days(D(2026, 11, 23), 3) == D(2026, 11, 26)
    # Friday + 1 skips the weekend.
    assert add_working_days(D(2026, 11, 27), 1) == D(2026, 11, 30)


def test_national_day_holiday_is_skipped():
    # 2026: 1–7 October off (State Council notice of 2025).
    assert not is_working_day(D(2026, 10, 1))
    assert add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)


def test_a_weekend_made_working_day_counts():
    # Sunday 2026-01-04 was a make-up working day for New Year.
    assert is_working_day(D(2026, 1, 4))
    assert add_working_days(D(2026, 1, 3), 1) == D(2026, 1, 4)


def test_admin_override_wins_over_the_library():
    CalendarDay.objects.create(date=D(2026, 11, 24), is_working_day=False, note="snow day")
    assert add_working_days(D(2026, 11, 23), 1) == D(2026, 11, 25)


def test_a_year_without_data_is_an_error_not_a_guess():
    with pytest.raises(CalendarYearUnknown) as caught:
        add_working_days(D(2028, 3, 1), 5)
    assert caught.value.year == 2028
    assert "2028" in str(caught.value)


def test_an_entered_year_counts_weekdays_and_its_overrides():
    CalendarYear.objects.create(year=2028, source="test")
    CalendarDay.objects.create(date=D(2028, 5, 1), is_working_day=False, note="Labour Day")
    # Friday 2028-04-28 + 1: Monday 1 May is off, so Tuesday.
    assert add_working_days(D(2028, 4, 28), 1) == D(2028, 5, 2)


def test_long_spans_cross_window_boundaries():
    start = D(2026, 1, 5)
    assert working_days_between(start, add_working_days(start, 45)) == 45


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        add_working_days(D(2026, 1, 5), -1)
