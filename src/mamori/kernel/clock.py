"""The clock: aware UTC datetimes only; tests freeze it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FrozenClock:
    at: datetime

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at = self.at + delta


def today_jst(clock: Clock) -> date:
    return clock.now().astimezone(JST).date()


def ensure_aware(value: datetime) -> datetime:
    """SQLite drops tzinfo; every datetime leaving the db layer is UTC-aware."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
