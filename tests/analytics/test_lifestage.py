"""Age bands, life stages and behaviour segments (issue 24): expected values worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from mamori.analytics.compute.lifestage import (
    AGE_BAND_CODES,
    AGE_BANDS,
    BEHAVIOUR_CODES,
    BEHAVIOUR_RULES,
    LIFE_STAGES,
    age,
    age_band,
    behaviour_segments,
    life_stage,
    with_age_band,
    with_life_stage,
)
from mamori.kernel.errors import ValidationFailed

AS_OF = date(2025, 6, 15)

# (birth, expected band on 2025-06-15, why)
BIRTHS: list[tuple[date | None, str | None]] = [
    (date(2005, 6, 15), "20s"),  # 20th birthday today → 20
    (date(2005, 6, 16), "under_20"),  # 20th birthday tomorrow → still 19
    (date(1995, 6, 16), "20s"),  # 30 tomorrow → 29
    (date(1995, 6, 15), "30s"),  # 30 today
    (date(1985, 1, 1), "40s"),  # 2025 - 1985 = 40, birthday passed
    (date(1975, 12, 31), "40s"),  # 2025 - 1975 = 50, birthday not yet → 49
    (date(1966, 6, 14), "50s"),  # 59, birthday yesterday
    (date(1965, 6, 15), "60s"),  # 60 today
    (date(1955, 6, 16), "60s"),  # 70 tomorrow → 69
    (date(1955, 6, 15), "70_plus"),  # 70 today
    (date(1920, 2, 29), "70_plus"),  # 105
    (AS_OF, "under_20"),  # born today → 0
    (AS_OF + timedelta(days=1), None),  # born after as_of: no age
    (None, None),
]


def test_age_counts_the_birthday_itself() -> None:
    assert age(date(2005, 6, 15), AS_OF) == 20
    assert age(date(2005, 6, 16), AS_OF) == 19
    # 29 February: in a common year the birthday is reached on 1 March.
    assert age(date(2004, 2, 29), date(2025, 2, 28)) == 20
    assert age(date(2004, 2, 29), date(2025, 3, 1)) == 21
    assert age(date(2004, 2, 29), date(2024, 2, 29)) == 20


@pytest.mark.parametrize(("birth", "band"), BIRTHS)
def test_age_band_edges(birth: date | None, band: str | None) -> None:
    assert age_band(birth, AS_OF) == band


def test_with_age_band_matches_the_hand_table_for_dates_datetimes_and_strings() -> None:
    births = [birth for birth, _ in BIRTHS]
    expected = [band for _, band in BIRTHS]
    as_dates = pl.DataFrame({"birth": births}, schema={"birth": pl.Date})
    as_datetimes = as_dates.with_columns(pl.col("birth").cast(pl.Datetime("us")))
    as_strings = as_dates.with_columns(pl.col("birth").dt.strftime("%Y-%m-%d"))

    for frame in (as_dates, as_datetimes, as_strings):
        assert with_age_band(frame, "birth", AS_OF).get_column("age_band").to_list() == expected
    lazy = with_age_band(as_dates.lazy(), "birth", AS_OF).collect()
    assert lazy.get_column("age_band").to_list() == expected
    # Feb 29 in a common year, vectorised: 20 on 28 February, 21 on 1 March.
    leap = pl.DataFrame({"birth": [date(2004, 2, 29)]})
    assert with_age_band(leap, "birth", date(2025, 2, 28)).item(0, "age_band") == "20s"
    assert with_age_band(leap, "birth", date(2024, 2, 28)).item(0, "age_band") == "under_20"  # 19


def test_unparsable_birth_string_gives_null_and_a_number_column_is_refused() -> None:
    frame = pl.DataFrame({"birth": ["1990-13-01", "not a date", "1990-05-01"]})
    assert with_age_band(frame, "birth", AS_OF).get_column("age_band").to_list() == [None, None, "30s"]
    with pytest.raises(ValidationFailed):
        with_age_band(pl.DataFrame({"birth": [1990]}), "birth", AS_OF)


def test_age_bands_are_labelled_in_japanese_and_english() -> None:
    assert [band.name_ja for band in AGE_BANDS] == [
        "10代以下",
        "20代",
        "30代",
        "40代",
        "50代",
        "60代",
        "70代以上",
    ]
    assert all(band.name_en for band in AGE_BANDS)


def test_life_stage_of_every_band() -> None:
    assert {band: life_stage(band) for band in AGE_BAND_CODES} == {
        "under_20": "young",
        "20s": "young",
        "30s": "family_career",
        "40s": "family_career",
        "50s": "middle_age",
        "60s": "senior",
        "70_plus": "senior",
    }
    assert [stage.name_ja for stage in LIFE_STAGES] == ["若年層", "子育て・働き盛り", "中高年", "シニア"]
    with pytest.raises(ValidationFailed):
        life_stage("80s")


def test_with_life_stage_is_vectorised_and_keeps_nulls() -> None:
    frame = pl.DataFrame({"age_band": ["20s", None, "40s", "70_plus", "unknown"]})

    stages = with_life_stage(frame).get_column("life_stage").to_list()

    assert stages == ["young", None, "family_career", "senior", None]


# Behaviour, as_of 2025-06-30, window 30 days → days 2025-06-01 … 2025-06-30 count.
B_AS_OF = date(2025, 6, 30)


def _activities(rows: list[tuple[str, str, date]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"subject": pl.String, "kind": pl.String, "occurred_at": pl.Date}, orient="row"
    )


def test_behaviour_segments_on_a_hand_case() -> None:
    rows = [
        # buyer: 2 purchases + 1 inquiry in the window → purchases 2 ≥ contacts 1 → purchase_centred
        ("buyer", "purchase", date(2025, 6, 30)),
        ("buyer", "purchase", date(2025, 6, 1)),  # first day of the window: counts
        ("buyer", "inquiry", date(2025, 6, 10)),
        ("buyer", "purchase", date(2025, 5, 31)),  # the day before the window: not counted
        # asker: 1 purchase, 1 inquiry + 1 call → contacts 2 > purchases 1 → inquiry_heavy
        ("asker", "purchase", date(2025, 6, 20)),
        ("asker", "inquiry", date(2025, 6, 21)),
        ("asker", "call", date(2025, 6, 22)),
        # caller: 2 calls, no purchase in the window (one before it) → inquiry_only
        ("caller", "call", date(2025, 6, 2)),
        ("caller", "call", date(2025, 6, 3)),
        ("caller", "purchase", date(2025, 1, 1)),
        # memo: only staff notes in the window → dormant (notes are not the customer's activity)
        ("memo", "note", date(2025, 6, 15)),
        ("memo", "note", date(2025, 6, 16)),
        # sleeper: everything before the window → dormant, all counts 0
        ("sleeper", "purchase", date(2024, 12, 1)),
        # tie: 1 purchase, 1 inquiry → purchases 1 ≥ contacts 1 → purchase_centred
        ("tie", "purchase", date(2025, 6, 5)),
        ("tie", "inquiry", date(2025, 6, 6)),
        # future: only after as_of → not in the table; buyer's visit after as_of is ignored too
        ("future", "purchase", date(2025, 7, 1)),
        ("buyer", "inquiry", date(2025, 7, 1)),
        ("buyer", "visit", date(2025, 6, 12)),  # not one of the four kinds: ignored
    ]

    result = behaviour_segments(_activities(rows), as_of=B_AS_OF, window_days=30)

    assert result.table.rows() == [
        # subject  purchases inquiries calls notes contacts active segment
        ("asker", 1, 1, 1, 0, 2, 3, "inquiry_heavy"),
        ("buyer", 2, 1, 0, 0, 1, 3, "purchase_centred"),
        ("caller", 0, 0, 2, 0, 2, 2, "inquiry_only"),
        ("memo", 0, 0, 0, 2, 0, 0, "dormant"),
        ("sleeper", 0, 0, 0, 0, 0, 0, "dormant"),
        ("tie", 1, 1, 0, 0, 1, 2, "purchase_centred"),
    ]
    assert result.table.columns == [
        "subject",
        "purchases",
        "inquiries",
        "calls",
        "notes",
        "contacts",
        "active",
        "segment",
    ]
    assert result.counts == {"dormant": 2, "inquiry_only": 1, "inquiry_heavy": 1, "purchase_centred": 2}
    assert (result.as_of, result.window_days) == (B_AS_OF, 30)


def test_default_window_is_a_year_and_listed_subjects_without_activity_are_dormant() -> None:
    # 365 days ending 2025-06-30 start on 2024-07-01: a purchase that day counts, one on 2024-06-30 does not.
    rows = [("in", "purchase", date(2024, 7, 1)), ("out", "purchase", date(2024, 6, 30))]

    result = behaviour_segments(_activities(rows), as_of=B_AS_OF, subjects=["in", "never"])

    assert result.table.select("subject", "purchases", "segment").rows() == [
        ("in", 1, "purchase_centred"),
        ("never", 0, "dormant"),
        ("out", 0, "dormant"),
    ]


def test_behaviour_days_of_aware_datetimes_are_read_in_japan() -> None:
    # 2025-06-30T15:00Z is 1 July 00:00 in Japan → after as_of; 2025-05-31T15:00Z is 1 June 00:00 → in the window.
    frame = pl.DataFrame(
        {
            "subject": ["a", "b"],
            "kind": ["purchase", "purchase"],
            "occurred_at": [
                datetime(2025, 6, 30, 15, 0, tzinfo=UTC),
                datetime(2025, 5, 31, 15, 0, tzinfo=UTC),
            ],
        }
    )

    result = behaviour_segments(frame, as_of=B_AS_OF, window_days=30)

    assert result.table.select("subject", "purchases").rows() == [("b", 1)]


def test_empty_activities_and_bad_windows() -> None:
    result = behaviour_segments(_activities([]), as_of=B_AS_OF)
    assert result.table.height == 0
    assert result.counts == dict.fromkeys(BEHAVIOUR_CODES, 0)
    for window in (0, -1, True, 1.5):
        with pytest.raises(ValidationFailed):
            behaviour_segments(_activities([]), as_of=B_AS_OF, window_days=window)  # type: ignore[arg-type]


def test_behaviour_rules_are_published_in_order() -> None:
    assert [rule.name_ja for rule in BEHAVIOUR_RULES] == [
        "休眠",
        "問い合わせのみ",
        "問い合わせ多め",
        "購入中心",
    ]
    heavy = {rule.code: rule for rule in BEHAVIOUR_RULES}["inquiry_heavy"]
    assert heavy.rule_ja.endswith("購入 ≥ 1 かつ 問い合わせ＋通話 > 購入")
    assert heavy.rule_en.endswith("purchases ≥ 1 and inquiries + calls > purchases")
