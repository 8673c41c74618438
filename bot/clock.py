"""Japan time: the one time zone the city, its residents' hours and its reports run on."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

JAPAN = ZoneInfo("Asia/Tokyo")


def today_in_japan() -> dt.date:
    return dt.datetime.now(JAPAN).date()
