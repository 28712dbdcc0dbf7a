"""RFM scores and segments (issue 24): every expected value below is worked out by hand in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from mamori.analytics.compute.rfm import (
    SEGMENT_CODES,
    SEGMENT_RULES,
    RfmThresholds,
    rfm,
    segment_expr,
    segment_rules,
)
from mamori.kernel.errors import ValidationFailed

AS_OF = date(2025, 3, 31)


def _ago(days: int) -> date:
    return AS_OF - timedelta(days=days)


def _purchases(rows: list[tuple[str, date | datetime, float | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"subject": pl.String, "occurred_at": pl.Date, "amount": pl.Float64},
        orient="row",
    )


# Eight customers. (days ago of each purchase, amount)
#   A: 0, 30, 60, 90, 120, 150 days ago, 10000 each      → recency 0,   frequency 6, monetary 60000
#   B: 10 days ago, 5000                                  → recency 10,  frequency 1, monetary 5000
#   C: 20 and 80 days ago, 3000 and null (= 0)            → recency 20,  frequency 2, monetary 3000
#   D: 30, 60, 90, 120, 150 days ago, 4000 each           → recency 30,  frequency 5, monetary 20000
#   E: 30 days ago, null                                  → recency 30,  frequency 1, monetary 0
#   F: 90, 180, 270, 360 days ago, 3000 each              → recency 90,  frequency 4, monetary 12000
#   G: 200 days ago, 1000; and 1 day AFTER as_of, 99999   → recency 200, frequency 1, monetary 1000 (after: ignored)
#   H: 400, 500, 600 days ago, 3000 each                  → recency 400, frequency 3, monetary 9000
#   I: only 2 days AFTER as_of                            → not in the table
ROWS: list[tuple[str, date | datetime, float | None]] = [
    *[("A", _ago(d), 10000.0) for d in (0, 30, 60, 90, 120, 150)],
    ("B", _ago(10), 5000.0),
    ("C", _ago(20), 3000.0),
    ("C", _ago(80), None),
    *[("D", _ago(d), 4000.0) for d in (30, 60, 90, 120, 150)],
    ("E", _ago(30), None),
    *[("F", _ago(d), 3000.0) for d in (90, 180, 270, 360)],
    ("G", _ago(200), 1000.0),
    ("G", AS_OF + timedelta(days=1), 99999.0),
    *[("H", _ago(d), 3000.0) for d in (400, 500, 600)],
    ("I", AS_OF + timedelta(days=2), 500.0),
]

# Cut points, n = 8 subjects, bins = 5: the quantile at q sits at position (n - 1)·q = 7q of the sorted values
# s0..s7, interpolated linearly: q = .2 → 1.4, .4 → 2.8, .6 → 4.2, .8 → 5.6.
#
# recency sorted [0, 10, 20, 30, 30, 90, 200, 400]
#   1.4: s1 + .4(s2 - s1) = 10 + .4·10 = 14;   2.8: s2 + .8(s3 - s2) = 20 + .8·10 = 28
#   4.2: s4 + .2(s5 - s4) = 30 + .2·60 = 42;   5.6: s5 + .6(s6 - s5) = 90 + .6·110 = 156
# frequency sorted [1, 1, 1, 2, 3, 4, 5, 6]
#   1.4: 1 + .4·0 = 1;   2.8: 1 + .8·1 = 1.8;   4.2: 3 + .2·1 = 3.2;   5.6: 4 + .6·1 = 4.6
# monetary sorted [0, 1000, 3000, 5000, 9000, 12000, 20000, 60000]
#   1.4: 1000 + .4·2000 = 1800;   2.8: 3000 + .8·2000 = 4600
#   4.2: 9000 + .2·3000 = 9600;   5.6: 12000 + .6·8000 = 16800
EXPECTED_THRESHOLDS = RfmThresholds(
    recency_days=(14.0, 28.0, 42.0, 156.0),
    frequency=(1.0, 1.8, 3.2, 4.6),
    monetary=(1800.0, 4600.0, 9600.0, 16800.0),
)

# r = 1 + #(cuts strictly above recency); f, m = 1 + #(cuts strictly below the value):
#   A: r 0 < all 4 → 5;  f 6 > all 4 → 5;            m 60000 > all → 5                 → 555
#   B: r 10 < all 4 → 5; f 1 = cut 1, passes none → 1; m 5000 > 1800, 4600 → 3         → 513
#   C: r 20 < 28, 42, 156 → 4; f 2 > 1, 1.8 → 3;     m 3000 > 1800 → 2                  → 432
#   D: r 30 < 42, 156 → 3; f 5 > all → 5;            m 20000 > all → 5                  → 355
#   E: r 30 → 3;           f 1 → 1;                  m 0 → 1                            → 311
#   F: r 90 < 156 → 2;     f 4 > 1, 1.8, 3.2 → 4;    m 12000 > 1800, 4600, 9600 → 4     → 244
#   G: r 200 → 1;          f 1 → 1;                  m 1000 → 1                         → 111
#   H: r 400 → 1;          f 3 > 1, 1.8 → 3;         m 9000 > 1800, 4600 → 3            → 133
# Segments (bins 5: high = 4, low = 2), first match:
#   A champions (r, f, m ≥ 4)            B new (1 purchase, r ≥ 4)        C promising (r ≥ 4, f ≤ 3)
#   D loyal (f ≥ 4, r ≥ 3)               E others (r = 3, f ≤ 3)          F at_risk (r ≤ 2, f ≥ 3)
#   G hibernating (r ≤ 2, f ≤ 2)         H at_risk (r 1 ≤ 2, f 3 ≥ 3)
EXPECTED_TABLE = pl.DataFrame(
    {
        "subject": ["A", "B", "C", "D", "E", "F", "G", "H"],
        "recency_days": [0, 10, 20, 30, 30, 90, 200, 400],
        "frequency": [6, 1, 2, 5, 1, 4, 1, 3],
        "monetary": [60000.0, 5000.0, 3000.0, 20000.0, 0.0, 12000.0, 1000.0, 9000.0],
        "r": [5, 5, 4, 3, 3, 2, 1, 1],
        "f": [5, 1, 3, 5, 1, 4, 1, 3],
        "m": [5, 3, 2, 5, 1, 4, 1, 3],
        "score": ["555", "513", "432", "355", "311", "244", "111", "133"],
        "segment": ["champions", "new", "promising", "loyal", "others", "at_risk", "hibernating", "at_risk"],
    },
    schema={
        "subject": pl.String,
        "recency_days": pl.Int64,
        "frequency": pl.Int64,
        "monetary": pl.Float64,
        "r": pl.Int64,
        "f": pl.Int64,
        "m": pl.Int64,
        "score": pl.String,
        "segment": pl.String,
    },
)


def test_hand_computed_table_thresholds_and_counts() -> None:
    result = rfm(_purchases(ROWS), as_of=AS_OF)

    assert result.thresholds == EXPECTED_THRESHOLDS
    assert_frame_equal(result.table, EXPECTED_TABLE)
    assert result.counts == {
        "champions": 1,
        "loyal": 1,
        "new": 1,
        "promising": 1,
        "at_risk": 2,
        "hibernating": 1,
        "others": 1,
    }
    assert result.as_of == AS_OF
    assert result.bins == 5


def test_lazy_frame_and_integer_amounts_give_the_same_table() -> None:
    frame = _purchases(ROWS).with_columns(pl.col("amount").cast(pl.Int64))

    result = rfm(frame.lazy(), as_of=AS_OF)

    assert_frame_equal(result.table, EXPECTED_TABLE)


def test_rows_after_as_of_are_ignored() -> None:
    # Only G and I have rows after as_of. Dropping them by hand must not change anything.
    before = [row for row in ROWS if row[1] <= AS_OF]
    assert len(before) == len(ROWS) - 2

    assert_frame_equal(rfm(_purchases(ROWS), as_of=AS_OF).table, rfm(_purchases(before), as_of=AS_OF).table)
    # One day later, G's purchase on 2025-04-01 counts: recency 0, frequency 2, monetary 1000 + 99999.
    later = rfm(_purchases(ROWS), as_of=AS_OF + timedelta(days=1)).table.filter(pl.col("subject") == "G")
    assert later.select("recency_days", "frequency", "monetary").row(0) == (0, 2, 100999.0)


def test_aware_datetimes_are_counted_on_their_day_in_japan() -> None:
    # 2025-03-31T14:59Z is 23:59 on 31 March in Japan (counts, recency 0);
    # 2025-03-31T15:00Z is 00:00 on 1 April in Japan (after as_of, ignored);
    # 2025-03-29T16:00Z is 01:00 on 30 March in Japan (recency 1, although it is 29 March in UTC).
    frame = pl.DataFrame(
        {
            "subject": ["late", "next_day", "next_day", "early"],
            "occurred_at": [
                datetime(2025, 3, 31, 14, 59, tzinfo=UTC),
                datetime(2025, 3, 31, 15, 0, tzinfo=UTC),
                datetime(2025, 3, 1, 0, 0, tzinfo=UTC),
                datetime(2025, 3, 29, 16, 0, tzinfo=UTC),
            ],
            "amount": [100, 200, 300, 400],
        },
        schema_overrides={"occurred_at": pl.Datetime("ms", "UTC")},
    )

    table = rfm(frame, as_of=AS_OF).table

    assert table.select("subject", "recency_days", "frequency", "monetary").rows() == [
        ("early", 1, 1, 400.0),
        ("late", 0, 1, 100.0),
        ("next_day", 30, 1, 300.0),  # 2025-03-01 09:00 in Japan; the 15:00Z purchase is on 1 April
    ]


def test_null_amounts_count_as_zero_and_null_keys_are_skipped() -> None:
    frame = _purchases(
        [
            ("P", _ago(1), None),
            ("P", _ago(2), None),
            ("Q", _ago(3), 250.0),
            ("Q", _ago(4), None),
            (None, _ago(1), 999.0),  # type: ignore[list-item]
        ]
    )

    table = rfm(frame, as_of=AS_OF).table

    assert table.select("subject", "frequency", "monetary").rows() == [("P", 2, 0.0), ("Q", 2, 250.0)]
    # A column with no amount at all (Polars type Null) counts as zero too.
    no_amounts = pl.DataFrame({"subject": ["P"], "occurred_at": [_ago(1)], "amount": [None]})
    assert rfm(no_amounts, as_of=AS_OF).table.select("frequency", "monetary").row(0) == (1, 0.0)


def test_saved_thresholds_score_a_new_period() -> None:
    # Two customers scored with the thresholds of the hand-computed case:
    #   X: recency 14 (= cut 14; above it are 28, 42, 156 → r 4), 1 purchase (= cut 1 → f 1),
    #      1800 (= cut 1800 → m 1): "411" — one purchase and r ≥ 4 → new
    #   Y: recency 13 (< all four → r 5), 5 purchases (> 1, 1.8, 3.2, 4.6 → f 5),
    #      16801 (> all → m 5): "555" → champions
    # On their own, the two would get other cut points (e.g. frequency ones between 1 and 5).
    frame = _purchases(
        [("X", _ago(14), 1800.0), ("Y", _ago(13), 16801.0), *[("Y", _ago(14 + i), 0.0) for i in range(4)]]
    )

    result = rfm(frame, as_of=AS_OF, thresholds=EXPECTED_THRESHOLDS)

    assert result.thresholds == EXPECTED_THRESHOLDS
    assert result.table.select("subject", "r", "f", "m", "score", "segment").rows() == [
        ("X", 4, 1, 1, "411", "new"),
        ("Y", 5, 5, 5, "555", "champions"),
    ]
    fresh = rfm(frame, as_of=AS_OF)
    assert fresh.thresholds != EXPECTED_THRESHOLDS


def test_thresholds_that_do_not_fit_the_bins_are_refused() -> None:
    wrong_length = RfmThresholds((1.0, 2.0), (1.0, 2.0, 3.0, 4.0), (1.0, 2.0, 3.0, 4.0))
    descending = RfmThresholds((4.0, 3.0, 2.0, 1.0), (1.0, 2.0, 3.0, 4.0), (1.0, 2.0, 3.0, 4.0))

    for thresholds in (wrong_length, descending):
        with pytest.raises(ValidationFailed) as raised:
            rfm(_purchases(ROWS), as_of=AS_OF, thresholds=thresholds)
        assert raised.value.message_ja and raised.value.message_en


def test_identical_customers_all_score_one() -> None:
    # Every cut point equals the shared value, and a value equal to a cut point never passes it → 1, 1, 1.
    frame = _purchases([(name, _ago(7), 100.0) for name in ("a", "b", "c")])

    result = rfm(frame, as_of=AS_OF)

    assert result.thresholds == RfmThresholds((7.0,) * 4, (1.0,) * 4, (100.0,) * 4)
    assert result.table.get_column("score").to_list() == ["111", "111", "111"]


def test_empty_input_gives_an_empty_result() -> None:
    empty = _purchases([])
    only_future = _purchases([("Z", AS_OF + timedelta(days=1), 10.0)])

    for frame in (empty, only_future):
        result = rfm(frame, as_of=AS_OF)
        assert result.table.height == 0
        assert result.table.columns == list(EXPECTED_TABLE.columns)
        assert result.counts == dict.fromkeys(SEGMENT_CODES, 0)
        assert result.thresholds == RfmThresholds((), (), ())


@pytest.mark.parametrize("bins", [1, 11, 0, -5, True, 2.5])
def test_bins_outside_2_to_10_are_refused(bins: object) -> None:
    with pytest.raises(ValidationFailed) as raised:
        rfm(_purchases(ROWS), as_of=AS_OF, bins=bins)  # type: ignore[arg-type]
    assert "bins" in raised.value.message_en
    assert "段階数" in raised.value.message_ja


def test_missing_column_or_bad_date_type_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        rfm(_purchases(ROWS).drop("amount"), as_of=AS_OF)
    with pytest.raises(ValidationFailed):
        rfm(_purchases(ROWS).with_columns(pl.col("occurred_at").cast(pl.String)), as_of=AS_OF)
    with pytest.raises(ValidationFailed):
        rfm(_purchases(ROWS).with_columns(pl.col("amount").cast(pl.String)), as_of=AS_OF)


def test_segment_rules_pick_the_first_match_on_hand_picked_profiles() -> None:
    profiles = pl.DataFrame(
        {
            #        r  f  m  purchases   expected (bins 5: high 4, low 2)
            "r": [5, 4, 5, 3, 5, 4, 2, 1, 1, 3, 3],
            "f": [5, 4, 1, 4, 1, 3, 3, 5, 2, 3, 1],
            "m": [5, 3, 5, 1, 5, 5, 1, 5, 5, 5, 1],
            "frequency": [9, 7, 1, 8, 1, 3, 4, 12, 2, 3, 1],
        }
    )
    expected = [
        "champions",  # r 5, f 5, m 5
        "loyal",  # f 4 ≥ 4, r 4 ≥ 3, m 3 < 4 (not a champion)
        "new",  # one purchase, r 5 ≥ 4 — even with m 5
        "loyal",  # f 4, r 3: loyal before anything else
        "new",  # one purchase, r 5
        "promising",  # r 4, f 3 ≤ 3, three purchases
        "at_risk",  # r 2 ≤ 2, f 3 ≥ 3
        "at_risk",  # r 1, f 5: bought often, long ago
        "hibernating",  # r 1, f 2 — even with m 5
        "others",  # r 3, f 3: in the middle
        "others",  # r 3 with one purchase: not recent enough to be new (r < 4), not lapsed (r > 2)
    ]

    got = profiles.select(segment_expr(SEGMENT_RULES).alias("segment")).get_column("segment").to_list()

    assert got == expected


def test_rules_scale_with_bins_and_their_text_matches_the_numbers() -> None:
    # bins 10: k = ⌊2·10/5⌋ = 4, high = 10 - 4 + 1 = 7, low = 4.
    rules = {rule.code: rule for rule in segment_rules(10)}
    assert rules["champions"].rule_en.endswith("R ≥ 7 and F ≥ 7 and M ≥ 7")
    assert rules["champions"].rule_ja.endswith("R ≥ 7 かつ F ≥ 7 かつ M ≥ 7")
    assert rules["at_risk"].rule_en.endswith("R ≤ 4 and F ≥ 5")
    assert rules["hibernating"].rule_ja.endswith("R ≤ 4 かつ F ≤ 4")
    profiles = pl.DataFrame({"r": [7, 6], "f": [7, 9], "m": [7, 9], "frequency": [5, 5]})
    got = profiles.select(segment_expr(segment_rules(10)).alias("s")).get_column("s").to_list()
    assert got == ["champions", "loyal"]  # r 6 < 7 is not a champion; f 9 ≥ 7 and r 6 ≥ 5 is loyal
    # bins 5, the published table: high 4, low 2.
    five = {rule.code: rule for rule in SEGMENT_RULES}
    assert five["loyal"].rule_ja.endswith("F ≥ 4 かつ R ≥ 3")
    assert five["new"].rule_en.endswith("purchases = 1 and R ≥ 4")
    assert [rule.name_ja for rule in SEGMENT_RULES] == [
        "優良顧客",
        "ロイヤル顧客",
        "新規顧客",
        "有望顧客",
        "離反懸念",
        "休眠顧客",
        "一般顧客",
    ]
    assert SEGMENT_RULES[-1].conditions == ()


def test_ten_bins_write_the_score_with_separators() -> None:
    # 10 subjects with recency 0..9, frequency 1..10 and monetary 1..10 (×100). Cut points at positions 9q =
    # 0.9, 1.8, …, 8.1: e.g. frequency cuts 1.9, 2.8, 3.7, 4.6, 5.5, 6.4, 7.3, 8.2, 9.1.
    # Subject "s0": recency 0 < all 9 recency cuts → r 10; frequency 1 < every cut → f 1; monetary 100 → m 1.
    # Subject "s9": recency 9 > all → r 1; frequency 10 > all → f 10; monetary 1000 → m 10.
    rows = [(f"s{i}", _ago(i), 100.0) for i in range(10) for _ in range(i + 1)]
    frame = _purchases(rows)

    result = rfm(frame, as_of=AS_OF, bins=10)

    assert result.thresholds.frequency == (1.9, 2.8, 3.7, 4.6, 5.5, 6.4, 7.3, 8.2, 9.1)
    scores = dict(result.table.select("subject", "score").rows())
    assert scores["s0"] == "10-1-1"
    assert scores["s9"] == "1-10-10"
