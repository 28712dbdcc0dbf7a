"""Deadlines for requests from the person (本人からの請求): pure functions, no database.

- APPI (R-39-1): the Act says 遅滞なく (without delay) and sets no day count; the person may sue two weeks after
  the request arrives. mamori uses a service level of ``MAMORI_RIGHTS_SLA_DAYS`` calendar days (default 14).
- GDPR (G-12, Art. 12(3)): one calendar month from receipt; one extension by up to two further months, allowed
  only when the person is told, with the reasons, within the first month. A calendar month ends on the same
  date of the following month, or on that month's last day when it has no such date (31 Jan → 28/29 Feb).
"""

from __future__ import annotations

import calendar
import os
from collections.abc import Mapping
from datetime import date

from mamori.kernel.errors import ConfigurationError, PolicyDenied
from mamori.law.rules import G_12, R_39_1

APPI_DEFAULT_SLA_DAYS = 14
SLA_ENV = "MAMORI_RIGHTS_SLA_DAYS"
GDPR_MAX_EXTENSION_MONTHS = 2


def add_calendar_months(start: date, months: int) -> date:
    """The same day ``months`` later, clamped to the last day of the target month (31 Jan + 1 → 28/29 Feb)."""
    if months < 0:
        raise ValueError("months must be >= 0")
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last))


def appi_sla_days(env: Mapping[str, str] | None = None) -> int:
    """The APPI service level in days (R-39-1): ``MAMORI_RIGHTS_SLA_DAYS`` or 14; must be 1..14."""
    raw = (env if env is not None else os.environ).get(SLA_ENV)
    if raw is None or raw.strip() == "":
        return APPI_DEFAULT_SLA_DAYS
    try:
        days = int(raw)
    except ValueError:
        raise ConfigurationError(
            f"{SLA_ENV} は日数（整数）で指定してください。",
            f"{SLA_ENV} must be a whole number of days.",
            rule_id=R_39_1.id,
            code="bad_sla",
        ) from None
    if not 1 <= days <= APPI_DEFAULT_SLA_DAYS:
        raise ConfigurationError(
            f"{SLA_ENV} は 1〜14 日です（2週間を過ぎると訴えの提起が可能）。",
            f"{SLA_ENV} must be 1-14 days (the person may sue after two weeks).",
            rule_id=R_39_1.id,
            code="bad_sla",
        )
    return days


def appi_due(received: date, sla_days: int = APPI_DEFAULT_SLA_DAYS) -> date:
    """The answer is due ``sla_days`` calendar days after the day of receipt (R-39-1)."""
    return date.fromordinal(received.toordinal() + sla_days)


def gdpr_due(received: date) -> date:
    """One calendar month from receipt (G-12)."""
    return add_calendar_months(received, 1)


def due_date(regime: str, received: date, sla_days: int = APPI_DEFAULT_SLA_DAYS) -> date:
    if regime == "gdpr":
        return gdpr_due(received)
    if regime == "appi":
        return appi_due(received, sla_days)
    raise ValueError(f"unknown regime {regime!r}")


def gdpr_extended_due(
    received: date, notified_on: date, months: int, *, already_extended: bool = False
) -> date:
    """The new due date after one extension of ``months`` (1 or 2) notified on ``notified_on`` (G-12).

    Refused (PolicyDenied G-12) when already extended once, when ``months`` is not 1 or 2, or when the person is
    told after the first month has ended.
    """
    if already_extended:
        raise PolicyDenied(
            "期限の延長は一度だけです。",
            "The deadline can be extended only once.",
            rule_id=G_12.id,
            code="already_extended",
        )
    if not 1 <= months <= GDPR_MAX_EXTENSION_MONTHS:
        raise PolicyDenied(
            "延長できるのは最大2か月です。",
            "The deadline can be extended by at most two further months.",
            rule_id=G_12.id,
            code="extension_too_long",
        )
    if notified_on > gdpr_due(received):
        raise PolicyDenied(
            "延長とその理由は受付から1か月以内に本人に通知しなければなりません。",
            "An extension and its reasons must be notified within one month of receipt.",
            rule_id=G_12.id,
            code="extension_too_late",
        )
    return add_calendar_months(received, 1 + months)


def is_overdue(due: date, today: date) -> bool:
    return today > due


def days_left(due: date, today: date) -> int:
    return due.toordinal() - today.toordinal()
