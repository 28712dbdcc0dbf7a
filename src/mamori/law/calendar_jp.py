"""The Japanese business calendar (weekends, national holidays via `holidays`, and 29 Dec – 3 Jan)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _jp_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("JP", years=year)


def is_business_day(day: date) -> bool:
    if day.weekday() >= 5:
        return False
    if (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3):
        return False
    return day not in _jp_holidays(day.year)


def roll_forward(day: date) -> date:
    while not is_business_day(day):
        day += timedelta(days=1)
    return day
