"""The fairness report against figures computed by hand (issue 24, deliverable 3)."""

from __future__ import annotations

import math

import pytest

from mamori.analytics.compute.fairness import UNKNOWN, fairness_report
from mamori.kernel.errors import ValidationFailed

# Ten people. 1 = churned. Selected (flagged) when the score is ≥ 0.5.
#   person    0    1    2    3     4    5    6    7     8     9
Y_TRUE = [1, 1, 0, 0, 0, 1, 0, 0, 1, 1]
SCORE = [0.9, 0.4, 0.6, 0.52, 0.1, 0.8, 0.7, 0.65, 0.55, 0.45]
#   flagged   1    0    1    1     0    1    1    1     1     0
GENDER = ["男性"] * 5 + ["女性"] * 5
AGE = ["20代", "30代", "20代", "30代", None, "20代", "20代", None, "30代", "30代"]


def rows_of(report, attribute):
    return {r.group: r for r in report.rows if r.attribute == attribute}


def test_gender_rates_and_differences_by_hand():
    report = fairness_report(Y_TRUE, SCORE, {"gender": GENDER, "age_band": AGE})
    rows = rows_of(report, "gender")
    assert list(rows) == ["女性", "男性"]

    # 男性 = persons 0-4: churned 0, 1; stayed 2, 3, 4; flagged 0, 2, 3
    m = rows["男性"]
    assert m.count == 5
    assert m.selection_rate == pytest.approx(3 / 5)  # 0, 2, 3 flagged
    assert m.true_positive_rate == pytest.approx(1 / 2)  # of churners 0, 1: 0 flagged
    assert m.false_positive_rate == pytest.approx(2 / 3)  # of stayers 2, 3, 4: 2 and 3 flagged
    assert m.base_rate == pytest.approx(2 / 5)
    # AUC = share of (churner, stayer) pairs ranked right: 0.9 beats 0.6, 0.52, 0.1 (3); 0.4 beats 0.1 (1)
    assert m.auc == pytest.approx(4 / 6)

    # 女性 = persons 5-9: churned 5, 8, 9; stayed 6, 7; flagged 5, 6, 7, 8
    f = rows["女性"]
    assert f.count == 5
    assert f.selection_rate == pytest.approx(4 / 5)
    assert f.true_positive_rate == pytest.approx(2 / 3)  # 5 and 8 of 5, 8, 9
    assert f.false_positive_rate == pytest.approx(2 / 2)  # 6 and 7
    assert f.base_rate == pytest.approx(3 / 5)
    # 0.8 beats 0.7 and 0.65 (2); 0.55 and 0.45 beat neither (0)
    assert f.auc == pytest.approx(2 / 6)

    s = report.summary("gender")
    assert (s.label_ja, s.label_en) == ("性別", "Gender")
    assert s.threshold == 0.5
    assert s.demographic_parity_difference == pytest.approx(4 / 5 - 3 / 5)  # 0.2
    # equalized odds: the larger of |TPR gap| = 2/3 − 1/2 = 1/6 and |FPR gap| = 1 − 2/3 = 1/3
    assert s.equalized_odds_difference == pytest.approx(1 / 3)


def test_age_band_with_an_unknown_group_by_hand():
    report = fairness_report(Y_TRUE, SCORE, {"gender": GENDER, "age_band": AGE})
    rows = rows_of(report, "age_band")
    assert list(rows) == ["20代", "30代", UNKNOWN]  # missing values are reported as 不明, listed last

    # 20代 = persons 0, 2, 5, 6: churned 0, 5; stayed 2, 6; all four flagged
    a = rows["20代"]
    assert (a.count, a.selection_rate, a.base_rate) == (4, 4 / 4, 2 / 4)
    assert a.true_positive_rate == 2 / 2 and a.false_positive_rate == 2 / 2
    assert a.auc == 4 / 4  # churners 0.9, 0.8 both above stayers 0.6, 0.7

    # 30代 = persons 1, 3, 8, 9: churned 1, 8, 9; stayed 3; flagged 3, 8
    b = rows["30代"]
    assert (b.count, b.selection_rate, b.base_rate) == (4, 2 / 4, 3 / 4)
    assert b.true_positive_rate == pytest.approx(1 / 3)  # only 8 of 1, 8, 9
    assert b.false_positive_rate == 1 / 1  # 3 (0.52)
    assert b.auc == pytest.approx(1 / 3)  # of 0.4, 0.55, 0.45 only 0.55 beats the stayer's 0.52

    # 不明 = persons 4, 7: both stayed; 7 flagged. No churners: no TPR, no AUC
    u = rows[UNKNOWN]
    assert (u.count, u.selection_rate, u.base_rate) == (2, 1 / 2, 0.0)
    assert u.true_positive_rate is None and u.auc is None
    assert u.false_positive_rate == 1 / 2

    s = report.summary("age_band")
    assert (s.label_ja, s.label_en) == ("年代", "Age band")
    assert s.demographic_parity_difference == pytest.approx(1 - 1 / 2)  # selection rates 1, 1/2, 1/2
    # equalized odds over the groups with both classes (20代, 30代): TPR gap 1 − 1/3 = 2/3, FPR gap 1 − 1 = 0.
    # (Counting 不明's missing TPR as 0 would give 1 − 0 = 1: a gap made of nothing.)
    assert s.compared_for_equalized_odds == ("20代", "30代")
    assert s.equalized_odds_difference == pytest.approx(2 / 3)
    left_out = [n for n in report.notes if n.attribute == "age_band" and "均等化オッズ" in n.ja]
    assert [n.group for n in left_out] == [UNKNOWN]
    assert "unknown" in left_out[0].en


def test_a_threshold_moves_the_selection():
    report = fairness_report(Y_TRUE, SCORE, {"gender": GENDER}, threshold=0.7)
    rows = rows_of(report, "gender")
    # ≥ 0.7: 男性 only person 0 (0.9); 女性 persons 5 (0.8) and 6 (0.7)
    assert rows["男性"].selection_rate == pytest.approx(1 / 5)
    assert rows["女性"].selection_rate == pytest.approx(2 / 5)
    assert rows["男性"].true_positive_rate == pytest.approx(1 / 2)  # 0 of 0, 1
    assert rows["女性"].true_positive_rate == pytest.approx(1 / 3)  # 5 of 5, 8, 9
    assert rows["男性"].false_positive_rate == 0.0
    assert rows["女性"].false_positive_rate == pytest.approx(1 / 2)  # 6 of 6, 7
    s = report.summary("gender")
    assert s.threshold == 0.7
    assert s.demographic_parity_difference == pytest.approx(2 / 5 - 1 / 5)
    assert s.equalized_odds_difference == pytest.approx(max(1 / 2 - 1 / 3, 1 / 2 - 0))  # 1/2


def test_groups_under_thirty_are_flagged_for_reference_only():
    # 30 people in group A, 29 in group B, 1 with no value; alternating churn, scores = labels
    y = [k % 2 for k in range(60)]
    groups = ["A"] * 30 + ["B"] * 29 + [None]
    report = fairness_report(y, [float(v) for v in y], {"segment": groups})
    rows = rows_of(report, "segment")
    assert (rows["A"].count, rows["B"].count, rows[UNKNOWN].count) == (30, 29, 1)
    assert not rows["A"].reference_only
    assert rows["B"].reference_only and rows[UNKNOWN].reference_only
    small = [n for n in report.notes if "少数のため参考値" in n.ja]
    assert [n.group for n in small] == ["B", UNKNOWN]
    assert "29" in small[0].ja and "for reference only" in small[0].en
    # an attribute without a label is shown by its name
    assert report.summary("segment").label_ja == "segment"


def test_empty_and_nan_group_values_are_unknown():
    report = fairness_report([1, 0, 1, 0], [0.9, 0.1, 0.8, 0.2], {"gender": ["女性", "", math.nan, None]})
    assert {r.group: r.count for r in report.rows} == {"女性": 1, UNKNOWN: 3}


def test_one_group_has_no_differences():
    report = fairness_report([1, 0], [0.9, 0.1], {"gender": ["女性", "女性"]})
    s = report.summary("gender")
    assert s.demographic_parity_difference is None and s.equalized_odds_difference is None


@pytest.mark.parametrize(
    ("y_true", "y_score", "groups"),
    [
        ([1, 0], [0.9], {"gender": ["a", "b"]}),  # lengths
        ([1, 2], [0.9, 0.1], {"gender": ["a", "b"]}),  # a label other than 0/1
        ([1, 0], [0.9, math.nan], {"gender": ["a", "b"]}),  # a missing score
        ([1, 0], [0.9, 0.1], {"gender": ["a"]}),  # one group value for two people
        ([], [], {"gender": []}),
    ],
)
def test_bad_input_is_a_validation_error(y_true, y_score, groups):
    with pytest.raises(ValidationFailed) as caught:
        fairness_report(y_true, y_score, groups)
    assert caught.value.code == "invalid_input"
