"""Office days for the report: weekdays, national holidays, year-end closure, own closed days."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.report.figures import Month, OfficeCalendar

HOURS = {
    "weekdays": ["mon", "tue", "wed", "thu", "fri"],
    "open": "08:30",
    "close": "17:15",
    "closed_on_national_holidays": True,
    "year_end_closure": ["12-29", "01-03"],
}


def test_office_days() -> None:
    calendar = OfficeCalendar.from_profile_data(
        {"hours": {**HOURS, "closed_days": ["2026-11-05", "06-01"]}}
    )
    assert calendar.is_open_day(dt.date(2026, 11, 4))  # a Wednesday
    assert not calendar.is_open_day(dt.date(2026, 11, 3))  # Culture Day
    assert not calendar.is_open_day(dt.date(2026, 11, 7))  # Saturday
    assert not calendar.is_open_day(dt.date(2026, 11, 5))  # the city's own closed day
    assert not calendar.is_open_day(dt.date(2027, 6, 1))  # closed every year
    assert not calendar.is_open_day(dt.date(2026, 12, 29))
    assert not calendar.is_open_day(dt.date(2027, 1, 2))
    assert calendar.is_open_day(dt.date(2027, 1, 4))


def test_bad_closed_day_is_named() -> None:
    with pytest.raises(ValueError, match="closed_days"):
        OfficeCalendar.from_profile_data({"hours": {**HOURS, "closed_days": ["tomorrow"]}})


def test_months() -> None:
    assert Month.parse("2026-12").next() == Month(2027, 1)
    assert Month.parse("2026-01").previous() == Month(2025, 12)
    assert len(Month(2028, 2).days()) == 29
    start, end = Month(2026, 11).bounds()
    assert start == dt.datetime(2026, 10, 31, 15, tzinfo=dt.timezone.utc)  # midnight in Japan
    assert end == dt.datetime(2026, 11, 30, 15, tzinfo=dt.timezone.utc)
    for bad in ("2026-13", "2026-1", "26-11", "", "2026-00"):
        with pytest.raises(ValueError):
            Month.parse(bad)
