from datetime import date

import pytest

from mamori.kernel import wareki
from mamori.law import calendar_jp, rules


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(1985, 1, 2), "昭和60年1月2日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
    ],
)
def test_wareki_round_trip(day, text):
    assert wareki.to_wareki(day) == text
    assert wareki.parse_wareki(text) == day


def test_wareki_rejects_impossible_dates():
    assert wareki.parse_wareki("平成31年5月1日") is None  # 平成 ended on 30 April 2019
    assert wareki.parse_wareki("昭和60年2月30日") is None
    assert wareki.parse_wareki("1985-01-02") is None
    assert wareki.parse_wareki("昭和６０年１月２日") == date(1985, 1, 2)  # full-width digits


def test_business_calendar_knows_holidays_and_new_year():
    assert not calendar_jp.is_business_day(date(2026, 12, 29))
    assert not calendar_jp.is_business_day(date(2027, 1, 1))
    assert not calendar_jp.is_business_day(date(2026, 11, 23))  # 勤労感謝の日
    assert calendar_jp.is_business_day(date(2026, 11, 24))
    assert calendar_jp.roll_forward(date(2026, 12, 30)) == date(2027, 1, 4)


def test_rules_have_dates_and_the_2026_amendment_is_not_in_force():
    assert rules.rule("R-17-1").in_force(date(2026, 11, 23))
    assert not rules.R_R8_3.in_force(date(2026, 11, 23))
    assert len(rules.BY_ID) == len(rules.ALL_RULES)
