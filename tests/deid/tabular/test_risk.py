"""Risk figures on hand-computed tables."""

from __future__ import annotations

import polars as pl
import pytest

from mamori.deid.tabular.errors import DatasetError
from mamori.deid.tabular.risk import assess

# classes on (pref, age): (広島,40代) ×1, (広島,30代) ×2, (東京,40代) ×3  → sizes 1, 2, 2, 3, 3, 3
TABLE = pl.DataFrame(
    {
        "pref": ["広島県", "広島県", "広島県", "東京都", "東京都", "東京都"],
        "age": ["40代", "30代", "30代", "40代", "40代", "40代"],
        "sex": ["F", "F", "M", "F", "F", "F"],
    }
)


def test_given_hand_table_when_assessed_then_prosecutor_marketer_uniques() -> None:
    r = assess(TABLE, ["pref", "age"])
    assert r.records == 6 and r.classes == 3
    assert r.prosecutor_max == pytest.approx(1.0)
    assert r.prosecutor_avg == pytest.approx((1 + 0.5 + 0.5 + 3 * (1 / 3)) / 6)
    assert r.marketer == pytest.approx(3 / 6)
    assert r.journalist_basis == "prosecutor_upper_bound" and r.journalist_max == pytest.approx(1.0)
    assert r.sample_uniques == 1 and r.sample_uniques_share == pytest.approx(1 / 6)
    assert r.records_at_risk_share == pytest.approx(1.0)  # every risk (1, .5, .5, 1/3 ×3) exceeds 0.2
    assert assess(TABLE, ["pref", "age"], threshold=0.4).records_at_risk_share == pytest.approx(3 / 6)
    assert r.highest_risk_rows[0] == 0
    assert sum(r.histogram_counts) == 6


def test_given_hand_table_when_assessed_then_unique_making_combinations() -> None:
    r = assess(TABLE, ["pref", "age", "sex"], max_combination=2)
    combos = {tuple(c["qis"]): c["unique_records"] for c in r.unique_combinations}
    assert combos[("pref",)] == 0
    assert combos[("sex",)] == 1  # the only M
    assert combos[("pref", "age")] == 1
    assert combos[("age", "sex")] == 2  # (40代,F) ×4, (30代,F) ×1, (30代,M) ×1
    assert (
        combos[("pref", "age", "sex")] == 3
    )  # full set (added beyond max_combination): only 東京 40代 F is shared


def test_given_population_when_assessed_then_journalist_uses_population() -> None:
    pop = pl.DataFrame(
        {"pref": ["広島県", "広島県", "東京都"], "age": ["40代", "30代", "40代"], "count": [10, 4, 100]}
    )
    r = assess(TABLE, ["pref", "age"], population=pop)
    assert r.journalist_basis == "population"
    assert r.journalist_max == pytest.approx(1 / 4)
    assert r.marketer == pytest.approx((1 / 10 + 2 / 4 + 3 / 100) / 6)


def test_given_bad_input_when_assessed_then_errors() -> None:
    with pytest.raises(DatasetError):
        assess(TABLE, ["nope"])
    with pytest.raises(DatasetError):
        assess(TABLE, [])
    with pytest.raises(DatasetError):
        assess(TABLE, ["pref"], population=pl.DataFrame({"pref": ["x"]}))
