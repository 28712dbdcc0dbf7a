"""CLV (issue 24): the repeat-purchase summary and the BG/NBD / Gamma-Gamma closed forms on hand-computed cases,
the fit on data simulated from known parameters, and the refusals. One fit of 5,000 customers is shared by the
module (the first fit in a process compiles pytensor graphs)."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import polars as pl
import pytest

from mamori.analytics.compute import clv
from mamori.kernel.errors import ValidationFailed

# -- rfm_summary ----------------------------------------------------------------------------------------------------


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_rfm_summary_by_hand_in_japan_days() -> None:
    # as_of 2026-03-01. Times are UTC; the days are Japan days (UTC+9).
    rows = [
        # A: 2026-01-01 twice (10:00 and 15:00 JST: one purchase day of ¥1,500), 01-11 ¥2,000, 02-10 ¥4,000
        ("A", "2026-01-01T01:00:00", 1000),
        ("A", "2026-01-01T06:00:00", 500),
        ("A", "2026-01-11T01:00:00", 2000),
        ("A", "2026-02-10T01:00:00", 4000),
        # B: 2026-01-31 16:00 UTC is 2026-02-01 01:00 in Japan: one purchase on 02-01
        ("B", "2026-01-31T16:00:00", 800),
        # C: two purchases the same Japan day (02-20): no repeat purchase
        ("C", "2026-02-20T00:30:00", 100),
        ("C", "2026-02-20T10:00:00", 200),
        # D: 01-20, and 03-05 after as_of (ignored)
        ("D", "2026-01-20T03:00:00", 1000),
        ("D", "2026-03-05T03:00:00", 9999),
        # E: only after as_of (2026-03-01 15:30 UTC is 03-02 00:30 in Japan): absent
        ("E", "2026-03-01T15:30:00", 700),
    ]
    transactions = pl.DataFrame(
        {
            "subject": [r[0] for r in rows],
            "occurred_at": [_utc(r[1]) for r in rows],
            "amount": [r[2] for r in rows],
        }
    )

    summary = clv.rfm_summary(transactions.lazy(), as_of=date(2026, 3, 1))

    # A: days 01-01, 01-11, 02-10 → frequency 2; recency 01-01 → 02-10 = 31 + 9 = 40; T 01-01 → 03-01 = 31 + 28 = 59;
    #    repeat days ¥2,000 and ¥4,000 → mean 3,000 (the first day's ¥1,500 is not a repeat purchase)
    # B: first day 02-01 → T = 28; C: 02-20 → T = 9; D: 01-20 → T = 11 + 28 + 1 = 40
    assert summary.to_dicts() == [
        {"subject": "A", "frequency": 2, "recency": 40, "T": 59, "monetary_value": 3000.0},
        {"subject": "B", "frequency": 0, "recency": 0, "T": 28, "monetary_value": 0.0},
        {"subject": "C", "frequency": 0, "recency": 0, "T": 9, "monetary_value": 0.0},
        {"subject": "D", "frequency": 0, "recency": 0, "T": 40, "monetary_value": 0.0},
    ]
    assert summary.schema == pl.Schema(
        {
            "subject": pl.String,
            "frequency": pl.Int64,
            "recency": pl.Int64,
            "T": pl.Int64,
            "monetary_value": pl.Float64,
        }
    )


def test_rfm_summary_of_dates_counts_each_day_once() -> None:
    transactions = pl.DataFrame(
        {
            "subject": ["x", "x", "x", "x", "y"],
            "occurred_at": [
                date(2026, 1, 1),
                date(2026, 1, 5),
                date(2026, 1, 5),
                date(2026, 1, 8),
                date(2026, 1, 8),
            ],
            "amount": [10.0, 20.0, 30.0, 70.0, 5.0],
        }
    )
    summary = clv.rfm_summary(transactions, as_of=date(2026, 1, 10))
    # x: days 01-01, 01-05 (¥50), 01-08 (¥70) → frequency 2, recency 7, T 9, mean (50 + 70) / 2 = 60
    assert summary.rows() == [("x", 2, 7, 9, 60.0), ("y", 0, 0, 2, 0.0)]


def test_rfm_summary_days_are_the_days_of_a_time_zone_conversion() -> None:
    # rfm_summary adds nine hours instead of converting time zones; each row here is its own subject, so T is
    # as_of minus that row's Japan day. Instants 1952–2100, some on the 15:00 UTC boundary, in another zone too.
    rng = np.random.default_rng(5)
    seconds = rng.integers(-567_993_600, 4_102_444_800, 2000)
    seconds[:20] = (seconds[:20] // 86_400) * 86_400 + 15 * 3600 + np.arange(-10, 10)
    instants = pl.Series("occurred_at", seconds * 1_000_000).cast(pl.Datetime("us", "UTC"))
    as_of = date(2101, 1, 1)
    for zone in ("UTC", "America/New_York"):
        transactions = pl.DataFrame(
            {
                "subject": [f"s{i:04d}" for i in range(seconds.size)],
                "occurred_at": instants.dt.convert_time_zone(zone),
                "amount": 1,
            }
        )
        expected_days = instants.dt.convert_time_zone("Asia/Tokyo").dt.date().to_list()
        summary = clv.rfm_summary(transactions, as_of=as_of)
        assert summary["T"].to_list() == [(as_of - day).days for day in expected_days]


def test_rfm_summary_refuses_a_frame_without_amount() -> None:
    with pytest.raises(ValidationFailed) as caught:
        clv.rfm_summary(
            pl.DataFrame({"subject": ["a"], "occurred_at": [date(2026, 1, 1)]}), as_of=date(2026, 1, 2)
        )
    assert caught.value.code == "missing_column"
    assert "amount" in caught.value.message_ja and "amount" in caught.value.message_en


# -- closed forms with given parameters -----------------------------------------------------------------------------

BGNBD = {"r": 1.0, "alpha": 10.0, "a": 2.0, "b": 3.0}
GAMMA_GAMMA = {"p": 6.0, "q": 4.0, "v": 15.0}


def _series_2f1(a: float, b: float, c: float, z: float, terms: int = 200) -> float:
    """Gauss's series Σ (a)_n (b)_n / ((c)_n n!) zⁿ, summed term by term (|z| < 1)."""
    total, term = 0.0, 1.0
    for n in range(terms):
        total += term
        term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z
    return total


def _hand_new_customer() -> float:
    # x = 0, recency 0, T = 10, next t = 10 days. w = (α + T) / (α + T + t) = 20 / 30, z = 1 - w = 1/3.
    # E = (a + b + x - 1) / (a - 1) · (1 - w^(r + x) · 2F1(r + x, b + x; a + b + x - 1; z)) = 4 · (1 - (2/3) · F)
    # F = 2F1(1, 3; 4; z) = Σ 3 zⁿ / (n + 3) = 3 (-ln(1 - z) - z - z²/2) / z³
    z = 1 / 3
    f = 3 * (-math.log(1 - z) - z - z * z / 2) / z**3
    return 4 * (1 - (2 / 3) * f)


def _hand_repeat_customer() -> float:
    # x = 2, recency 20, T = 30, next t = 10 days. w = 40 / 50 = 0.8, z = 0.2.
    # (a + b + x - 1) / (a - 1) = 6 / 1; p_alive = 1 / (1 + a / (b + x - 1) · ((α + T) / (α + recency))^(r + x))
    #                                         = 1 / (1 + 2/4 · (40/30)³) = 27 / 59
    f = _series_2f1(3.0, 5.0, 6.0, 0.2)  # 2F1(r + x, b + x; a + b + x - 1; z)
    return 6 * (1 - 0.8**3 * f) * 27 / 59


def test_probability_alive_by_hand() -> None:
    alive = clv.probability_alive(BGNBD, [0, 2], [0, 20], [10, 30])
    np.testing.assert_allclose(alive, [1.0, 27 / 59], rtol=1e-12)


def test_expected_purchases_by_hand() -> None:
    assert _hand_new_customer() == pytest.approx(0.41955, abs=5e-5)  # the arithmetic above, rounded
    got = clv.expected_purchases(BGNBD, 10.0, [0, 2], [0, 20], [10, 30])
    np.testing.assert_allclose(got, [_hand_new_customer(), _hand_repeat_customer()], rtol=1e-10)


def test_expected_purchases_stays_finite_for_heavy_buyers() -> None:
    # 5,000 repeat purchases in 1,000 days: w^(r + x) = (1010/1375)^5001 underflows to 0 and 2F1(5001, 5003; 5004;
    # 365/1375) overflows when they are computed separately
    got = clv.expected_purchases(BGNBD, 365.0, [5000, 5000], [999, 300], [1000, 1000])
    assert np.all(np.isfinite(got))
    assert (
        got[0] > 1000 and got[1] < 1e-6
    )  # the recent heavy buyer keeps buying; the one silent for 700 days left


def test_expected_spend_by_hand() -> None:
    # p (v + x m) / (p x + q - 1): x = 2, m = 20 → 6 · (15 + 40) / (12 + 3) = 22; x = 0 → 6 · 15 / 3 = 30
    np.testing.assert_allclose(clv.expected_spend(GAMMA_GAMMA, [2, 0], [20.0, 0.0]), [22.0, 30.0], rtol=1e-12)


def test_predict_from_saved_parameters_by_hand() -> None:
    saved = {
        "bgnbd": BGNBD,
        "gamma_gamma": GAMMA_GAMMA,
        "customers": 2,
        "repeat_customers": 1,
        "method": "map",
        "seconds": 0.0,
    }
    model = clv.ClvModel.from_dict(json.loads(json.dumps(saved)))
    assert model.bgnbd_model is None  # nothing refitted
    summary = pl.DataFrame(
        {
            "subject": ["new", "repeat"],
            "frequency": [0, 2],
            "recency": [0, 20],
            "T": [10, 30],
            "monetary_value": [0.0, 20.0],
        }
    )

    out = clv.predict(model, summary, horizon_days=10, annual_discount=0.0)

    assert out.columns == ["subject", "p_alive", "expected_purchases", "expected_spend", "clv"]
    assert out["subject"].to_list() == ["new", "repeat"]
    np.testing.assert_allclose(out["p_alive"].to_numpy(), [1.0, 27 / 59], rtol=1e-12)
    hand = np.array([_hand_new_customer(), _hand_repeat_customer()])
    np.testing.assert_allclose(out["expected_purchases"].to_numpy(), hand, rtol=1e-10)
    np.testing.assert_allclose(out["expected_spend"].to_numpy(), [30.0, 22.0], rtol=1e-12)
    np.testing.assert_allclose(out["clv"].to_numpy(), hand * [30.0, 22.0], rtol=1e-10)  # no discount

    # a horizon under 45 days is one step, discounted from its end: / 1.1^(10/365)
    discounted = clv.predict(model, summary, horizon_days=10, annual_discount=0.1)
    np.testing.assert_allclose(
        discounted["clv"].to_numpy(), hand * [30.0, 22.0] / 1.1 ** (10 / 365), rtol=1e-10
    )


def test_predict_refuses_a_bad_horizon() -> None:
    model = clv.ClvModel(
        bgnbd=BGNBD, gamma_gamma=None, customers=2, repeat_customers=1, method="map", seconds=0.0
    )
    summary = pl.DataFrame(
        {"subject": ["a"], "frequency": [0], "recency": [0], "T": [3], "monetary_value": [0.0]}
    )
    with pytest.raises(ValidationFailed):
        clv.predict(model, summary, horizon_days=0)
    out = clv.predict(model, summary, horizon_days=30)
    assert out["expected_spend"].to_list() == [None] and out["clv"].to_list() == [None]  # no spend model
    assert out["expected_purchases"][0] > 0


# -- fit on data simulated from known parameters -------------------------------------------------------------------

TRUE = {"r": 0.6, "alpha": 25.0, "a": 0.8, "b": 2.5, "p": 6.0, "q": 4.0, "v": 3000.0}


def simulate(n: int, seed: int) -> pl.DataFrame:
    """A BG/NBD population in continuous days: rate λ ~ Gamma(r, α); after each repeat purchase a customer leaves
    with probability π ~ Beta(a, b); observed for T days after the first purchase. Amounts: Gamma-Gamma."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(TRUE["r"], 1 / TRUE["alpha"], n)
    leave = rng.beta(TRUE["a"], TRUE["b"], n)
    big_t = rng.uniform(30, 730, n)
    made = rng.poisson(rate * big_t)  # purchases a customer who never left would make in T days
    lifetime = rng.geometric(leave)  # the repeat purchase after which they leave
    x = np.minimum(made, lifetime)
    # the x-th of `made` uniform purchase times in (0, T) is T · Beta(x, made - x + 1)
    recency = np.where(x > 0, big_t * rng.beta(np.maximum(x, 1), made - x + 1), 0.0)
    nu = rng.gamma(TRUE["q"], 1 / TRUE["v"], n)
    xs = np.maximum(x, 1)
    monetary = np.where(x > 0, rng.gamma(TRUE["p"] * xs, 1 / (nu * xs)), 0.0)  # mean of x Gamma(p, ν) amounts
    return pl.DataFrame(
        {
            "subject": [f"S{i:05d}" for i in range(n)],
            "frequency": x,
            "recency": recency,
            "T": big_t,
            "monetary_value": monetary,
        }
    )


@pytest.fixture(scope="module")
def fitted() -> tuple[pl.DataFrame, clv.ClvModel]:
    summary = simulate(5000, seed=7)
    return summary, clv.fit(summary, seed=0)


def test_fit_recovers_known_parameters(fitted: tuple[pl.DataFrame, clv.ClvModel]) -> None:
    summary, model = fitted
    assert model.customers == 5000
    assert model.repeat_customers == int((summary["frequency"] > 0).sum()) > 3000
    assert model.method == "map" and model.seconds > 0 and model.notes == ()
    b, g = model.bgnbd, model.gamma_gamma
    assert g is not None
    # Tolerances: about four standard deviations of the estimate over simulated samples of 5,000 customers
    # (r, alpha: 2-3 %; a, b: 5-7 %; p, v: 6-7 %; q: 2 %; the means below: 1-3 %).
    for name, tolerance in {
        "r": 0.15,
        "alpha": 0.15,
        "a": 0.25,
        "b": 0.25,
        "p": 0.3,
        "q": 0.15,
        "v": 0.3,
    }.items():
        fitted_value = b[name] if name in b else g[name]
        assert fitted_value == pytest.approx(TRUE[name], rel=tolerance), name
    assert b["r"] / b["alpha"] == pytest.approx(TRUE["r"] / TRUE["alpha"], rel=0.1)  # mean purchase rate
    assert b["a"] / (b["a"] + b["b"]) == pytest.approx(
        TRUE["a"] / (TRUE["a"] + TRUE["b"]), rel=0.1
    )  # mean dropout
    mean_spend = g["p"] * g["v"] / (g["q"] - 1)
    assert mean_spend == pytest.approx(TRUE["p"] * TRUE["v"] / (TRUE["q"] - 1), rel=0.05)
    assert json.loads(json.dumps(model.to_dict()))["bgnbd"] == b


def test_closed_forms_agree_with_the_library(fitted: tuple[pl.DataFrame, clv.ClvModel]) -> None:
    summary, model = fitted
    data = pd.DataFrame(
        {
            "customer_id": np.arange(summary.height),
            "frequency": summary["frequency"].to_numpy().astype(float),
            "recency": summary["recency"].to_numpy(),
            "T": summary["T"].to_numpy(),
            "monetary_value": summary["monetary_value"].to_numpy(),
        }
    )
    x, t_x, big_t = data["frequency"], data["recency"], data["T"]
    with clv._quiet():
        library_purchases = model.bgnbd_model.expected_purchases(data=data, future_t=90).values.ravel()
        library_alive = model.bgnbd_model.expected_probability_alive(data=data).values.ravel()
        library_spend = model.gamma_gamma_model.expected_customer_spend(data=data).values.ravel()
        # the library's CLV: 12 steps of 30 days, a monthly discount rate of 1 %
        library_clv = model.gamma_gamma_model.expected_customer_lifetime_value(
            transaction_model=model.bgnbd_model,
            data=data.copy(),
            future_t=12,
            discount_rate=0.01,
            time_unit="D",
        ).values.ravel()
    np.testing.assert_allclose(
        clv.expected_purchases(model.bgnbd, 90, x, t_x, big_t), library_purchases, rtol=1e-9
    )
    np.testing.assert_allclose(
        clv.probability_alive(model.bgnbd, x, t_x, big_t), library_alive, rtol=1e-9, atol=1e-300
    )
    np.testing.assert_allclose(
        clv.expected_spend(model.gamma_gamma, x, data["monetary_value"]), library_spend, rtol=1e-9
    )
    # 360 days are 12 steps of 30 days here too; 1 % a month is 1.01^(365/30) - 1 a year
    ours = clv.predict(model, summary, horizon_days=360, annual_discount=1.01 ** (365 / 30) - 1)
    np.testing.assert_allclose(ours["clv"].to_numpy(), library_clv, rtol=1e-9)


def test_predict_is_sensible(fitted: tuple[pl.DataFrame, clv.ClvModel]) -> None:
    summary, model = fitted
    out = clv.predict(model, summary)
    assert out.height == summary.height and out["subject"].to_list() == summary["subject"].to_list()
    alive = out["p_alive"].to_numpy()
    assert np.all((alive >= 0) & (alive <= 1))
    assert np.all(
        alive[summary["frequency"].to_numpy() == 0] == 1.0
    )  # BG/NBD: no repeat purchase, no dropout yet
    assert out.select(pl.all().exclude("subject").is_finite().all()).row(0) == (True,) * 4
    assert (out["clv"] >= 0).all() and (out["expected_purchases"] >= 0).all()

    people = pl.DataFrame(
        {
            "subject": ["recent-frequent", "lapsed-frequent", "recent-rare"],
            "frequency": [12, 12, 1],
            "recency": [360, 60, 360],
            "T": [365, 365, 365],
            "monetary_value": [6000.0, 6000.0, 6000.0],
        }
    )
    three = clv.predict(model, people).rows_by_key("subject", named=True, unique=True)
    recent, lapsed, rare = three["recent-frequent"], three["lapsed-frequent"], three["recent-rare"]
    assert recent["p_alive"] > 0.9 > 0.01 > lapsed["p_alive"]
    assert recent["expected_purchases"] > rare["expected_purchases"] > lapsed["expected_purchases"]
    assert recent["clv"] > rare["clv"] > lapsed["clv"]


def test_fit_is_deterministic_and_refuses_to_model_spend_without_amounts() -> None:
    summary = simulate(400, seed=11)
    first = clv.fit(summary, seed=3)
    no_amounts = clv.fit(summary.with_columns(monetary_value=pl.lit(0.0)), seed=3)
    assert no_amounts.bgnbd == first.bgnbd  # the same BG/NBD data give the same parameters
    assert no_amounts.gamma_gamma is None and no_amounts.gamma_gamma_model is None
    assert first.gamma_gamma is not None
    (ja, en), *_ = no_amounts.notes
    assert "購入単価" in ja and "spend was not modelled" in en
    out = clv.predict(no_amounts, summary)
    assert out["clv"].null_count() == summary.height and out["p_alive"].null_count() == 0


# -- refusals -------------------------------------------------------------------------------------------------------


def test_fit_refuses_too_few_customers() -> None:
    with pytest.raises(ValidationFailed) as caught:
        clv.fit(simulate(12, seed=1))
    assert caught.value.code == "too_few_rows"
    assert "12 人" in caught.value.message_ja and "at least 20" in caught.value.message_en


def test_fit_refuses_data_without_repeat_customers() -> None:
    one_purchase_each = simulate(60, seed=1).with_columns(frequency=pl.lit(0), recency=pl.lit(0.0))
    with pytest.raises(ValidationFailed) as caught:
        clv.fit(one_purchase_each)
    assert caught.value.code == "too_few_repeat_customers"
    assert "再購入" in caught.value.message_ja and "more than once" in caught.value.message_en


def test_fit_refuses_an_inconsistent_summary_and_an_unknown_method() -> None:
    summary = simulate(60, seed=1)
    broken = summary.with_columns(recency=pl.col("T") + 1)
    with pytest.raises(ValidationFailed) as caught:
        clv.fit(broken)
    assert caught.value.code == "invalid_input" and caught.value.details["recency_after_T"] == 60
    with pytest.raises(ValidationFailed):
        clv.fit(summary, method="mcmc")


def test_expected_purchases_stay_finite_when_dropout_is_nearly_the_same_for_everyone() -> None:
    """A fit on a few hundred customers can give a and b in the thousands (the demo: a ≈ 3,500, b ≈ 86,000), where
    the hypergeometric term overflows; the limit p = a / (a + b + x) is used there. Checked against the closed form
    at a + b ≈ 9,400, where both are finite, and by hand for a new customer."""
    x, t_x, big_t = (
        np.array([0.0, 1.0, 3.0, 10.0, 40.0]),
        np.array([0.0, 30, 200, 500, 900]),
        np.array([100.0, 300, 600, 700, 1000]),
    )
    # the same mean dropout probability with a and b ten times smaller: the closed form is still finite there
    moderate = {
        "r": 0.8577784810860117,
        "alpha": 59.13080122409562,
        "a": 353.31474892399515,
        "b": 8633.872487645992,
    }
    exact = clv.expected_purchases(moderate, 365, x, t_x, big_t)
    assert np.isfinite(exact).all()
    huge = {
        "r": 0.8577784810860117,
        "alpha": 59.13080122409562,
        "a": 3533.1474892399515,
        "b": 86338.72487645992,
    }
    got = clv.expected_purchases(huge, 365, x, t_x, big_t)
    assert np.isfinite(got).all()
    # the same mean dropout (about 0.039), nearly no spread in either: the expectations agree to within 2 %
    assert np.allclose(got, exact, rtol=0.02)
    # a new customer (x = 0, alive for sure): p = a / (a + b); (1 - ((alpha + T) / (alpha + T + p t)) ** r) / p
    p = 3533.1474892399515 / (3533.1474892399515 + 86338.72487645992)
    by_hand = (
        1 - ((59.13080122409562 + 100) / (59.13080122409562 + 100 + p * 365)) ** 0.8577784810860117
    ) / p
    assert got[0] == pytest.approx(by_hand, rel=1e-9)
