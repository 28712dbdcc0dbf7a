"""Deadlines of requests from the person (law/requests.py): APPI service level (R-39-1), GDPR month (G-12)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.kernel.errors import ConfigurationError, PolicyDenied
from mamori.law import requests as law


def test_calendar_month_end_of_month_clamps_G_12():
    assert law.gdpr_due(date(2027, 1, 31)) == date(2027, 2, 28)
    assert law.gdpr_due(date(2028, 1, 31)) == date(2028, 2, 29)  # leap year
    assert law.gdpr_due(date(2026, 3, 31)) == date(2026, 4, 30)
    assert law.gdpr_due(date(2026, 12, 15)) == date(2027, 1, 15)
    assert law.add_calendar_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    with pytest.raises(ValueError):
        law.add_calendar_months(date(2026, 1, 1), -1)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), st.integers(0, 36))
def test_calendar_months_never_skip_a_month_and_keep_the_day_when_possible(start, months):
    got = law.add_calendar_months(start, months)
    assert (got.year * 12 + got.month) - (start.year * 12 + start.month) == months
    assert got.day == start.day or got.day < start.day  # clamped only at a shorter month's end


def test_appi_sla_default_14_days_and_env_setting_R_39_1():
    assert law.appi_sla_days({}) == 14
    assert law.appi_sla_days({"MAMORI_RIGHTS_SLA_DAYS": "10"}) == 10
    assert law.appi_due(date(2026, 11, 23)) == date(2026, 12, 7)
    assert law.appi_due(date(2026, 11, 23), 10) == date(2026, 12, 3)
    assert law.due_date("appi", date(2026, 12, 25)) == date(2027, 1, 8)
    assert law.due_date("gdpr", date(2027, 1, 31)) == date(2027, 2, 28)
    for bad in ("0", "15", "abc", "-3"):
        with pytest.raises(ConfigurationError) as exc:
            law.appi_sla_days({"MAMORI_RIGHTS_SLA_DAYS": bad})
        assert exc.value.rule_id == "R-39-1"
    with pytest.raises(ValueError):
        law.due_date("ccpa", date(2026, 1, 1))


def test_gdpr_extension_once_up_to_two_months_notified_within_the_first_month_G_12():
    received = date(2027, 1, 31)
    assert law.gdpr_extended_due(received, date(2027, 2, 10), 2) == date(2027, 4, 30)
    assert law.gdpr_extended_due(received, date(2027, 2, 28), 1) == date(
        2027, 3, 31
    )  # last day still in time
    with pytest.raises(PolicyDenied) as late:
        law.gdpr_extended_due(received, date(2027, 3, 1), 1)
    assert late.value.code == "extension_too_late" and late.value.rule_id == "G-12"
    with pytest.raises(PolicyDenied) as long:
        law.gdpr_extended_due(received, date(2027, 2, 1), 3)
    assert long.value.code == "extension_too_long"
    with pytest.raises(PolicyDenied):
        law.gdpr_extended_due(received, date(2027, 2, 1), 0)
    with pytest.raises(PolicyDenied) as twice:
        law.gdpr_extended_due(received, date(2027, 2, 1), 1, already_extended=True)
    assert twice.value.code == "already_extended"


def test_overdue_and_days_left():
    assert law.is_overdue(date(2026, 12, 7), date(2026, 12, 8))
    assert not law.is_overdue(date(2026, 12, 7), date(2026, 12, 7))
    assert law.days_left(date(2026, 12, 7), date(2026, 12, 1)) == 6
