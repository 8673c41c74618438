"""Whether the city office is open at a given moment, from the profile's ``hours`` block.

The profile says which weekdays and times the counters are open, whether they close on
Japan's national holidays and over the year-end break. National holidays come from the
``holidays`` package, so substitute holidays and newly added ones need no upkeep here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import holidays

from bot.clock import JAPAN

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class OfficeHours:
    weekdays: frozenset[int]
    opens: time
    closes: time
    closed_on_national_holidays: bool
    closure: tuple[tuple[int, int], tuple[int, int]] | None  # (month, day) from, to; inclusive

    @classmethod
    def from_profile(cls, hours: dict[str, Any]) -> OfficeHours:
        """Read the profile's ``hours`` mapping; raise ValueError naming the bad field."""
        days = hours.get("weekdays", WEEKDAYS[:5])
        try:
            weekdays = frozenset(WEEKDAYS.index(str(d).lower()[:3]) for d in days)
        except ValueError as exc:
            raise ValueError(f"hours.weekdays: unknown day in {days!r}") from exc
        closure = hours.get("year_end_closure")
        return cls(
            weekdays=weekdays,
            opens=_time(hours.get("open", "08:30"), "open"),
            closes=_time(hours.get("close", "17:15"), "close"),
            closed_on_national_holidays=bool(hours.get("closed_on_national_holidays", True)),
            closure=(_month_day(closure[0]), _month_day(closure[1])) if closure else None,
        )

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(JAPAN) if moment.tzinfo else moment.replace(tzinfo=JAPAN)
        return self.is_open_day(local.date()) and self.opens <= local.time() < self.closes

    def is_open_day(self, day: date) -> bool:
        if day.weekday() not in self.weekdays:
            return False
        if self.closed_on_national_holidays and day in holidays.country_holidays("JP"):
            return False
        return not self._in_closure(day)

    def _in_closure(self, day: date) -> bool:
        if self.closure is None:
            return False
        start, end = self.closure
        today = (day.month, day.day)
        if start <= end:
            return start <= today <= end
        return today >= start or today <= end  # the break runs over New Year


def _time(value: Any, field: str) -> time:
    try:
        hour, minute = str(value).split(":")
        return time(int(hour), int(minute))
    except ValueError as exc:
        raise ValueError(f"hours.{field}: expected HH:MM, got {value!r}") from exc


def _month_day(value: Any) -> tuple[int, int]:
    try:
        month, day = str(value).split("-")
        return int(month), int(day)
    except ValueError as exc:
        raise ValueError(f"hours.year_end_closure: expected MM-DD, got {value!r}") from exc
