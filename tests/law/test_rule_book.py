"""The rule book at decision time: effective dates, the 令和8年 amendment, the operator's override (ADR 0009)."""

from __future__ import annotations

from datetime import date

import pytest

from mamori.kernel.errors import ConfigurationError
from mamori.kernel.settings import reset_settings_cache
from mamori.law import age, rules


@pytest.fixture
def rule_dates(monkeypatch):
    """Set MAMORI_RULE_DATES for one test (the settings are cached per process)."""

    def set_to(value: str | None) -> None:
        if value is None:
            monkeypatch.delenv("MAMORI_RULE_DATES", raising=False)
        else:
            monkeypatch.setenv("MAMORI_RULE_DATES", value)
        reset_settings_cache()

    set_to(None)
    yield set_to
    monkeypatch.delenv("MAMORI_RULE_DATES", raising=False)
    reset_settings_cache()


def test_lookup_by_id_follows_the_effective_dates_R_R8_4(rule_dates):
    assert rules.in_force("R-17-1", date(2026, 12, 6))
    assert not rules.in_force("R-17-1", date(2022, 3, 31))  # before the 令和3年改正 renumbering
    assert not rules.in_force("R-R8-4", date(2026, 12, 6))
    assert not rules.in_force("R-R8-4", date(2028, 7, 15))
    assert rules.in_force("R-R8-4", date(2028, 7, 16))  # the statutory latest date of the main provisions


def test_the_2026_amendment_rule_carries_its_source_version_R_R8_4():
    r8 = rules.rule("R-R8-4")
    assert r8.effective_from == rules.R8_MAIN == date(2028, 7, 16)
    assert "令和8年法律第56号" in r8.source_version and "令和8年法律第56号" in r8.source
    assert r8 in rules.ALL_RULES


def test_an_unknown_rule_id_is_an_error_not_a_rule_out_of_force(rule_dates):
    with pytest.raises(rules.UnknownRule):
        rules.in_force("R-99-9", date(2026, 12, 6))


def test_the_operator_sets_the_cabinet_order_date_without_a_code_change_R_R8_4(rule_dates):
    rule_dates("R-R8-4=2027-10-01")
    assert not rules.in_force("R-R8-4", date(2027, 9, 30))
    assert rules.in_force("R-R8-4", date(2027, 10, 1))
    rule_dates("R-R8-4=2027-10-01; R-35-1=2022-04-01..2026-12-01")
    assert not rules.in_force("R-35-1", date(2026, 12, 6))  # effective_to passed: no longer applies
    assert rules.in_force("R-35-1", date(2026, 11, 30))
    rule_dates(None)
    assert not rules.in_force("R-R8-4", date(2027, 10, 1))  # back to the dates in the code


@pytest.mark.parametrize(
    "spec", ["R-99-9=2027-01-01", "R-R8-4", "R-R8-4=2027-13-01", "R-R8-4=2027-01-01..2026-01-01"]
)
def test_a_malformed_override_fails_closed(rule_dates, spec):
    rule_dates(spec)
    with pytest.raises(ConfigurationError) as exc:
        rules.in_force("R-R8-4", date(2027, 1, 1))
    assert exc.value.code == "bad_rule_dates"


@pytest.mark.parametrize(
    ("birth", "on", "years"),
    [
        (date(2012, 7, 16), date(2028, 7, 15), 15),
        (date(2012, 7, 16), date(2028, 7, 16), 16),  # 16 on the birthday (年齢計算ニ関スル法律)
        (date(2012, 2, 29), date(2028, 2, 28), 15),
        (date(2012, 2, 29), date(2028, 2, 29), 16),
        (date(2011, 2, 28), date(2027, 2, 28), 16),
        (date(2020, 1, 1), date(2019, 1, 1), 0),
    ],
)
def test_age_as_japanese_law_counts_it(birth, on, years):
    assert age.age_on(birth, on) == years
    assert age.under(16, birth, on) == (years < 16)
