"""Churn: features and labels on a hand case, the time split, a planted signal the model must find (and a set
without one where it must not), protected columns refused, per-person drivers (issue 24, deliverable 3).

All data are synthetic, generated with fixed seeds.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from mamori.analytics.compute import churn
from mamori.kernel.errors import ValidationFailed

# -- synthetic purchase histories ---------------------------------------------------------------------------------

START = date(2021, 1, 1)
DAYS = 3 * 365
AS_OF = START + timedelta(days=DAYS - 1)  # 2023-12-31


def _days(offsets: np.ndarray) -> pl.Series:
    return pl.Series(np.datetime64(START, "D") + offsets.astype("timedelta64[D]"))


def synthetic(n: int, *, signal: bool, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """People join in the first year and buy as a daily Bernoulli draw.

    signal=True: each person buys 1/60…1/20 a day until a personal "stop" day; over the 180 days before it their
    rate slows linearly to nothing — slowing down is the planted sign of churn. Stop days fall between day 200
    and long after the data ends (many never stop).
    signal=False: everyone buys at the same constant rate, ln 2 / 180 a day, so whether someone buys in the next
    180 days is independent of everything before (a Poisson process has independent increments): nothing to learn.
    Inquiries, calls and notes arrive at random (1/120 a day) in both.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(DAYS)
    joined = rng.integers(0, 365, n)
    active = t[None, :] >= joined[:, None]
    if signal:
        base = rng.uniform(1 / 60, 1 / 20, n)
        stop = rng.uniform(200, DAYS + 700, n)
        rate = base[:, None] * np.clip((stop[:, None] - t[None, :]) / 180, 0, 1)
    else:
        rate = np.full((n, DAYS), math.log(2) / 180)
    who, day = np.nonzero((rng.random((n, DAYS)) < rate) & active)
    transactions = pl.DataFrame(
        {
            "subject": who.astype(np.int64),
            "occurred_at": _days(day),
            "amount": np.round(rng.lognormal(8, 0.5, who.size)),
        }
    )
    a_who, a_day = np.nonzero((rng.random((n, DAYS)) < 1 / 120) & active)
    activities = pl.DataFrame(
        {
            "subject": a_who.astype(np.int64),
            "kind": rng.choice(["inquiry", "call", "note"], a_who.size),
            "occurred_at": _days(a_day),
        }
    )
    return transactions, activities


@pytest.fixture(scope="module")
def planted():
    transactions, activities = synthetic(2000, signal=True, seed=7)
    return transactions, activities, churn.train(transactions, activities, as_of=AS_OF, seed=0)


# -- features and labels: three customers by hand ----------------------------------------------------------------

CUTOFF = date(2024, 6, 30)


def hand_case() -> tuple[pl.DataFrame, pl.DataFrame]:
    transactions = pl.DataFrame(
        {
            "subject": ["a", "a", "a", "a", "b", "b", "d"],
            "occurred_at": [
                date(2024, 1, 10),
                date(2024, 4, 10),
                date(2024, 6, 20),
                date(2024, 7, 5),  # after the cutoff: a label day, not a feature day
                date(2023, 5, 1),
                date(2023, 12, 1),
                date(2024, 7, 10),  # d first buys after the cutoff
            ],
            "amount": [1000, 2000, 3000, 500, 5000, 1000, 700],
        }
    )
    activities = pl.DataFrame(
        {
            "subject": ["a", "a", "a", "a", "c"],
            "kind": ["inquiry", "call", "note", "inquiry", "inquiry"],
            "occurred_at": [
                date(2024, 6, 1),
                date(2024, 3, 1),  # before the 90-day window (2024-04-02 … 2024-06-30)
                date(2024, 6, 15),
                date(2024, 7, 2),  # after the cutoff
                date(2024, 5, 15),  # c never buys
            ],
        }
    )
    return transactions, activities


def test_features_of_three_customers_by_hand():
    transactions, activities = hand_case()
    got = {r["subject"]: r for r in churn.features(transactions, activities, cutoff=CUTOFF).to_dicts()}
    # windows, cutoff 2024-06-30 included (2024 is a leap year):
    #   last 90 days  = 2024-04-02 … 06-30; last 365 days = 2023-07-02 … 2024-06-30
    #   last 180 days = 2024-01-03 … 06-30; the previous 180 = 2023-07-07 … 2024-01-02
    assert set(got) == {"a", "b", "c"}  # d is first seen after the cutoff
    assert got["a"] == {
        "subject": "a",
        "recency_days": 10.0,  # 06-30 − 06-20
        "purchases_90d": 2,  # 04-10, 06-20
        "purchases_365d": 3,  # 01-10, 04-10, 06-20
        "spend_365d": 6000.0,  # 1000 + 2000 + 3000 (the 500 of 07-05 is after the cutoff)
        "tenure_days": 172.0,  # from 01-10: 21 (rest of Jan) + 29 + 31 + 30 + 31 + 30
        "mean_gap_days": 81.0,  # (06-20 − 01-10) / (3 − 1) = (172 − 10) / 2
        "inquiries_90d": 1,  # 06-01 (07-02 is after the cutoff)
        "calls_90d": 0,  # 03-01 is before the window
        "purchase_trend": math.log(4 / 1),  # ln((3 + 1) / (0 + 1))
    }
    assert got["b"] == {
        "subject": "b",
        "recency_days": 212.0,  # from 2023-12-01: 30 + 31 + 29 + 31 + 30 + 31 + 30
        "purchases_90d": 0,
        "purchases_365d": 1,  # 2023-12-01 (2023-05-01 is older than 365 days)
        "spend_365d": 1000.0,
        "tenure_days": 426.0,  # from 2023-05-01: 214 days to 2023-12-01 (30 + 30+31+31+30+31+30 + 1), + 212
        "mean_gap_days": 214.0,  # (12-01 − 05-01) / (2 − 1)
        "inquiries_90d": 0,
        "calls_90d": 0,
        "purchase_trend": math.log(1 / 2),  # ln((0 + 1) / (1 + 1)): the one purchase is in the previous 180
    }
    assert got["c"] == {
        "subject": "c",
        "recency_days": None,  # never bought
        "purchases_90d": 0,
        "purchases_365d": 0,
        "spend_365d": 0.0,
        "tenure_days": 46.0,  # from 05-15: 16 + 30
        "mean_gap_days": None,
        "inquiries_90d": 1,
        "calls_90d": 0,
        "purchase_trend": 0.0,  # ln(1 / 1)
    }


def test_labels_of_three_customers_by_hand():
    transactions, _ = hand_case()
    got = churn.labels(transactions, cutoff=CUTOFF, horizon_days=30).to_dicts()
    # label window 2024-07-01 … 07-30: a buys on 07-05 (stays); b buys nothing (churned);
    # c never bought and d first bought after the cutoff: neither is a customer at the cutoff.
    assert got == [{"subject": "a", "churned": False}, {"subject": "b", "churned": True}]
    # a 4-day horizon (07-01 … 07-04) misses a's purchase of 07-05
    short = churn.labels(transactions, cutoff=CUTOFF, horizon_days=4).to_dicts()
    assert short == [{"subject": "a", "churned": True}, {"subject": "b", "churned": True}]


def test_an_aware_timestamp_counts_on_its_japanese_day():
    # 2024-06-30 14:00 UTC is 23:00 on the cutoff day in Japan: a feature day, not a label day;
    # 2024-06-30 16:00 UTC is 2024-07-01 01:00 in Japan: after the cutoff, a label day
    transactions = pl.DataFrame(
        {
            "subject": [1, 1, 2, 2],
            "occurred_at": [
                datetime(2024, 6, 1, 3, tzinfo=UTC),
                datetime(2024, 6, 30, 14, tzinfo=UTC),
                datetime(2024, 6, 1, 3, tzinfo=UTC),
                datetime(2024, 6, 30, 16, tzinfo=UTC),
            ],
            "amount": [100, 200, 100, 200],
        }
    )
    activities = pl.DataFrame(
        schema={"subject": pl.Int64, "kind": pl.String, "occurred_at": pl.Datetime("us", "UTC")}
    )
    one, two = churn.features(transactions, activities, cutoff=CUTOFF).rows(named=True)
    assert (one["purchases_90d"], one["spend_365d"], one["recency_days"]) == (2, 300.0, 0.0)
    assert (two["purchases_90d"], two["spend_365d"], two["recency_days"]) == (1, 100.0, 29.0)  # 06-30 − 06-01
    # the label window is 07-01 alone: 1's purchase on the cutoff day is not a purchase "again"
    got = churn.labels(transactions, cutoff=CUTOFF, horizon_days=1).to_dicts()
    assert got == [{"subject": 1, "churned": True}, {"subject": 2, "churned": False}]


def test_features_read_nothing_after_the_cutoff(planted):
    transactions, activities, _ = planted
    cutoff = AS_OF - timedelta(days=180)
    full = churn.features(transactions, activities, cutoff=cutoff)
    up_to = churn.features(
        transactions.filter(pl.col("occurred_at") <= cutoff),
        activities.filter(pl.col("occurred_at") <= cutoff),
        cutoff=cutoff,
    )
    assert full.equals(up_to)
    assert full.height > 1000


# -- the time split ------------------------------------------------------------------------------------------------


def test_time_split_windows_never_overlap(planted):
    _, _, model = planted
    h = timedelta(days=180)
    one = timedelta(days=1)
    assert model.test_cutoff == AS_OF - h == date(2023, 7, 4)
    assert model.train_cutoff == AS_OF - 2 * h == date(2023, 1, 5)
    w = model.windows()
    assert w["train_features"].last == date(2023, 1, 5)
    assert w["train_labels"] == (
        date(2023, 1, 6),
        date(2023, 7, 4),
    )  # 180 days: 26 + 28 + 31 + 30 + 31 + 30 + 4
    assert w["test_features"].last == date(2023, 7, 4)
    assert w["test_labels"] == (date(2023, 7, 5), date(2023, 12, 31))  # ends on as_of: fully observed
    # within a snapshot, the label window starts the day after the feature window ends
    assert w["train_labels"].first == w["train_features"].last + one
    assert w["test_labels"].first == w["test_features"].last + one
    # every label the model was fitted on is known by the test cutoff, before the test labels begin
    assert w["train_labels"].last < w["test_labels"].first
    assert (w["train_labels"].last - w["train_labels"].first).days + 1 == 180


def test_training_sees_nothing_after_the_test_cutoff(planted):
    transactions, activities, model = planted
    # give each purchase after the test cutoff to someone picked at random: the test labels change, the fit must
    # not (it reads nothing after the test cutoff)
    rng = np.random.default_rng(1)
    late = (transactions["occurred_at"] > model.test_cutoff).to_numpy()
    subjects = transactions["subject"].to_numpy().copy()
    subjects[late] = rng.choice(np.unique(subjects), late.sum())
    changed = transactions.with_columns(pl.Series("subject", subjects))
    other = churn.train(changed, activities, as_of=AS_OF, seed=0)
    assert np.array_equal(other.estimator[-1].coef_, model.estimator[-1].coef_)
    assert other.metrics.n_train == model.metrics.n_train
    assert other.metrics.auc != model.metrics.auc


# -- the planted signal and its absence ----------------------------------------------------------------------------


def test_planted_signal_is_found_and_beats_the_base_rate(planted):
    transactions, _, model = planted
    m = model.metrics
    assert m.auc >= 0.75
    assert m.brier < m.brier_base_rate
    b = m.base_rate
    assert m.brier_base_rate == pytest.approx(b * (1 - b))  # mean of (y − b)²
    assert m.log_loss < -(b * math.log(b) + (1 - b) * math.log(1 - b))  # the base rate's log loss
    # the test snapshot: everyone with a purchase on or before the test cutoff (counted here with numpy)
    days = (transactions["occurred_at"].to_numpy() - np.datetime64(START, "D")).astype(int)
    test_cutoff_day = (model.test_cutoff - START).days
    train_cutoff_day = (model.train_cutoff - START).days
    subject = transactions["subject"].to_numpy()
    assert m.n_test == np.unique(subject[days <= test_cutoff_day]).size
    assert m.n_train == np.unique(subject[days <= train_cutoff_day]).size
    # calibration: 10 deciles of the test snapshot, means inside [0, 1], ordered by prediction
    assert len(m.calibration) == 10
    assert sum(b.count for b in m.calibration) == m.n_test
    mean_predicted, observed_rate, count = m.calibration[
        0
    ]  # a bin reads as (mean predicted, observed, count)
    assert count == m.calibration[0].count and 0 <= mean_predicted <= 1 and 0 <= observed_rate <= 1
    means = [b.mean_predicted for b in m.calibration]
    assert means == sorted(means)
    assert m.calibration[0].observed_rate < 0.2 < 0.8 < m.calibration[-1].observed_rate
    # permutation importance, largest first; the planted signal lives in purchase behaviour
    imp = model.importance
    assert [i.mean for i in imp] == sorted((i.mean for i in imp), reverse=True)
    assert {i.feature for i in imp} == set(churn.FEATURE_NAMES)
    assert imp[0].feature in {
        "recency_days",
        "purchases_90d",
        "purchases_365d",
        "spend_365d",
        "purchase_trend",
    }
    assert imp[0].mean > 0.01
    random_activity = {i.feature: i.mean for i in imp}
    assert abs(random_activity["inquiries_90d"]) < 0.01 and abs(random_activity["calls_90d"]) < 0.01


def test_no_signal_gives_an_auc_near_one_half():
    transactions, activities = synthetic(2000, signal=False, seed=11)
    m = churn.train(transactions, activities, as_of=AS_OF, seed=0).metrics
    assert m.n_test > 1500
    assert 0.44 <= m.auc <= 0.56
    assert m.brier >= m.brier_base_rate - 0.005  # no better than the constant, give or take noise


# -- refusals ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "sensitive"),
    [
        ("gender", ()),
        ("Customer_Gender", ()),
        ("age_band", ()),
        ("birth_date", ()),
        ("medical_history", ()),
        ("loyalty_tier", ("loyalty_tier",)),
    ],
)
def test_a_protected_extra_feature_is_refused(column, sensitive):
    transactions, activities = hand_case()
    extra = pl.DataFrame({"subject": ["a", "b"], column: [1, 0]})
    with pytest.raises(ValidationFailed) as caught:
        churn.train(transactions, activities, as_of=CUTOFF, extra_features=extra, sensitive_columns=sensitive)
    err = caught.value
    assert err.code == "protected_feature"
    assert column in err.message_ja and column in err.message_en
    assert err.details == {"column": column}


def test_an_allowed_extra_feature_is_used(planted):
    transactions, activities, _ = planted
    subjects = transactions["subject"].unique().sort()
    extra = pl.DataFrame({"subject": subjects, "usage_score": (subjects % 3).cast(pl.Float64)})  # not "age"
    model = churn.train(transactions, activities, as_of=AS_OF, extra_features=extra)
    assert model.feature_names == (*churn.FEATURE_NAMES, "usage_score")
    assert "usage_score" in model.coefficients()
    out = churn.predict(model, transactions, activities, as_of=AS_OF, extra_features=extra)
    assert out.height == subjects.len()
    with pytest.raises(ValidationFailed) as caught:
        churn.predict(model, transactions, activities, as_of=AS_OF)
    assert caught.value.code == "missing_column"


def test_too_few_customers_is_a_validation_error_not_a_traceback():
    transactions, activities = hand_case()
    with pytest.raises(ValidationFailed) as caught:
        churn.train(transactions, activities, as_of=date(2024, 12, 31), horizon_days=30)
    assert caught.value.code == "too_few_rows"
    assert "人" in caught.value.message_ja and "customers" in caught.value.message_en


def test_a_single_class_is_a_validation_error():
    # 40 people who buy every week from 2022 to the end: nobody churns
    weeks = [date(2022, 1, 3) + timedelta(weeks=k) for k in range(104)]
    transactions = pl.DataFrame(
        {
            "subject": [s for s in range(40) for _ in weeks],
            "occurred_at": weeks * 40,
            "amount": [1000] * (40 * len(weeks)),
        }
    )
    activities = pl.DataFrame(schema={"subject": pl.Int64, "kind": pl.String, "occurred_at": pl.Date})
    with pytest.raises(ValidationFailed) as caught:
        churn.train(transactions, activities, as_of=date(2023, 12, 25), horizon_days=90)
    assert caught.value.code == "single_class"
    assert caught.value.details["churned"] == 0 and caught.value.details["retained"] == 40


# -- per-person predictions and drivers ----------------------------------------------------------------------------


def test_predict_scores_customers_with_their_drivers(planted):
    transactions, activities, model = planted
    out = churn.predict(model, transactions, activities, as_of=AS_OF)
    assert out.columns == [
        "subject",
        "churn_probability",
        "driver_1",
        "driver_1_effect",
        "driver_2",
        "driver_2_effect",
        "driver_3",
        "driver_3_effect",
    ]
    # everyone who bought on or before as_of, and no one else (activity-only people are not scored)
    assert out["subject"].to_list() == transactions["subject"].unique().sort().to_list()
    p = out["churn_probability"].to_numpy()
    assert ((p > 0) & (p < 1)).all()
    effects = out.select("driver_1_effect", "driver_2_effect", "driver_3_effect").to_numpy()
    assert (np.abs(effects[:, 0]) >= np.abs(effects[:, 1])).all()
    assert (np.abs(effects[:, 1]) >= np.abs(effects[:, 2])).all()
    drivers = out.select("driver_1", "driver_2", "driver_3").rows()
    assert all(len(set(r)) == 3 and set(r) <= set(churn.FEATURE_NAMES) for r in drivers)

    # the effects are exact terms of the log-odds: coefficient × the person's standardised (log) value, and
    # the intercept plus all terms is the log-odds of the probability shown
    snapshot = churn.features(transactions, activities, cutoff=AS_OF).filter(
        pl.col("recency_days").is_not_null()
    )
    x = snapshot.select(churn.FEATURE_NAMES).to_numpy().astype(float)
    z = model.estimator[:-1].transform(x)
    coef = model.coefficients()
    intercept = float(model.estimator[-1].intercept_[0])
    for i in (0, 1, 500):
        row = out.row(i, named=True)
        term = dict(
            zip(churn.FEATURE_NAMES, z[i] * np.array([coef[n] for n in churn.FEATURE_NAMES]), strict=True)
        )
        assert row["driver_1_effect"] == pytest.approx(term[row["driver_1"]])
        assert row["driver_3_effect"] == pytest.approx(term[row["driver_3"]])
        logit = math.log(row["churn_probability"] / (1 - row["churn_probability"]))
        assert intercept + sum(term.values()) == pytest.approx(logit)


def test_a_stopped_customer_scores_high_and_a_steady_one_low(planted):
    transactions, activities, model = planted
    newcomers = pl.DataFrame(
        {
            "subject": [10_001] * 6 + [10_002] * 24,
            "occurred_at": [
                AS_OF - timedelta(days=400 + 30 * k) for k in range(6)
            ]  # last bought 400 days ago
            + [AS_OF - timedelta(days=5 + 15 * k) for k in range(24)],  # every 15 days, last 5 days ago
            "amount": [3000.0] * 30,
        }
    )
    both = pl.concat([transactions, newcomers.with_columns(pl.col("occurred_at").cast(pl.Date))])
    out = churn.predict(model, both, activities, as_of=AS_OF).filter(pl.col("subject") >= 10_001)
    stopped, steady = out.rows(named=True)
    assert stopped["churn_probability"] > 0.9 > 0.1 > steady["churn_probability"]
    assert stopped["driver_1_effect"] > 0 and steady["driver_1_effect"] < 0


def test_the_test_predictions_feed_the_fairness_report(planted):
    from mamori.analytics.compute.fairness import fairness_report

    _, _, model = planted
    tp = model.test_predictions
    assert tp.columns == ["subject", "churned", "churn_probability"]
    assert tp.height == model.metrics.n_test
    assert tp["churned"].mean() == pytest.approx(model.metrics.base_rate)
    # people's gender and age band are joined here, after the model: they were never features
    rng = np.random.default_rng(5)
    people = pl.DataFrame(
        {
            "subject": np.arange(2000, dtype=np.int64),
            "gender": rng.choice(["男性", "女性"], 2000),
            "age_band": rng.choice(["20代", "30代", "40代", None], 2000),
        }
    )
    assert not {"gender", "age_band"} & set(model.feature_names)
    joined = tp.join(people, on="subject", how="left")
    report = fairness_report(
        joined["churned"].cast(pl.Int8).to_numpy(),
        joined["churn_probability"].to_numpy(),
        {"gender": joined["gender"].to_list(), "age_band": joined["age_band"].to_list()},
    )
    for attribute in ("gender", "age_band"):
        assert sum(r.count for r in report.rows if r.attribute == attribute) == model.metrics.n_test
    # groups drawn at random: the model's AUC holds in each of them
    assert all(r.auc is not None and r.auc > 0.85 for r in report.rows)
