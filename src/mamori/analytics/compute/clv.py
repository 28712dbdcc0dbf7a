"""Customer lifetime value: BG/NBD for how often a customer buys and whether they are still a customer, Gamma-Gamma
for how much they spend per purchase (issue 24, deliverable 3). Fitted with ``pymc-marketing``'s ``BetaGeoModel``
and ``GammaGammaModel``.

Pure functions on Polars frames: no Context, no database, no audit. Deterministic given ``seed``. pandas appears only
at the library boundary (``fit``); the library never sees a subject: customers are handed over as row numbers.

**Days.** Every ``occurred_at`` is reduced to a calendar day (a date stays a date; an aware datetime is read in Japan
time, Asia/Tokyo; a naive datetime is taken as it is), as in ``churn``. Purchases on the same day are one purchase
whose amount is the day's total. All times of the models are in days, so ``alpha`` is in days and a horizon is
given in days.

**Summary** (``rfm_summary``), per subject, from the days up to and including ``as_of``::

    frequency       number of distinct purchase days - 1          (repeat purchases)
    recency         days from the first to the last purchase day  (0 without a repeat purchase)
    T               days from the first purchase day to as_of
    monetary_value  mean amount of the repeat purchase days       (0 without a repeat purchase)

**BG/NBD** (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while active a customer buys at rate
λ ~ Gamma(r, alpha); after each repeat purchase they leave for good with probability p ~ Beta(a, b). Parameters
``r, alpha, a, b``. With ``w = (alpha + T) / (alpha + T + t)`` and ``z = 1 - w``, the probability of being still
active and the expected number of purchases in the next ``t`` days are::

    p_alive  = 1 / (1 + [x > 0] · a / (b + x - 1) · ((alpha + T) / (alpha + recency)) ** (r + x))
    E[X(t)]  = (a + b + x - 1) / (a - 1) · (1 - w ** (r + x) · 2F1(r + x, b + x; a + b + x - 1; z)) · p_alive

(eq. 10 of the paper). Here the product ``w ** (r + x) · 2F1(…)`` is computed as ``w ** (a - 1) · 2F1(a + b - 1 - r,
a - 1; a + b + x - 1; z)`` (Euler's transformation), which is the same number but neither factor overflows for a
customer with hundreds of purchases.

**Gamma-Gamma** (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie 2013 note): a customer's purchase amounts
are Gamma(p, ν) with ν ~ Gamma(q, v). Parameters ``p, q, v`` (``v`` in yen). The expected amount of a future
purchase of a customer with ``x`` repeat purchases of mean ``m`` is ``p · (v + x · m) / (p · x + q - 1)`` — the
population mean ``p · v / (q - 1)`` shrunk towards the customer's own mean as ``x`` grows. It needs ``q > 1``; it
is fitted on the repeat customers with a positive mean amount.

**CLV** (``predict``): the horizon is cut into steps of about a month (``round(horizon_days / 30)`` equal steps); the
purchases expected in each step times the expected amount, discounted to today at ``annual_discount`` per 365 days
from the end of the step, summed. With a zero discount this is ``E[X(horizon)] · expected_spend``.

**Fit.** ``method="map"`` (default) is the maximum of the likelihood: flat priors (``HalfFlat``) on every parameter,
so the estimate does not depend on the unit of time, and ``pymc.find_MAP`` (L-BFGS-B from the library's fixed initial point, so the
result does not depend on ``seed``) — seconds for a million customers. No sampling: with flat priors the posterior
need not be proper, and NUTS over a million customers takes far longer than the 60 s budget. The first fit in a process compiles pytensor graphs (C code cached in
``~/.pytensor``), which costs a few seconds more than later fits.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit, hyp2f1

from mamori.kernel.errors import ValidationFailed

JST = "Asia/Tokyo"
US_PER_DAY = 86_400_000_000
JST_OFFSET_US = 9 * 3_600_000_000  # UTC+9, no daylight saving since 1951
MIN_CUSTOMERS = 20  # fewer and the four BG/NBD parameters are not identified
MIN_REPEAT_CUSTOMERS = 5  # customers with a repeat purchase: the only ones that say anything about dropout
MIN_SPEND_CUSTOMERS = 5  # repeat customers with a positive mean amount, for Gamma-Gamma
METHODS = ("map",)  # maximum likelihood; sampling a posterior would need real priors and minutes
BGNBD_PARAMETERS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMETERS = ("p", "q", "v")
DAYS_PER_YEAR = 365.0
DAYS_PER_STEP = 30.0  # the CLV sum runs over steps of about a month

SUMMARY_SCHEMA = {
    "frequency": pl.Int64,
    "recency": pl.Int64,
    "T": pl.Int64,
    "monetary_value": pl.Float64,
}
_NOISY_LOGGERS = ("pymc", "pytensor", "pymc_marketing", "arviz", "filelock")


@dataclass(frozen=True)
class ClvModel:
    """What was fitted. ``bgnbd`` and ``gamma_gamma`` are all ``predict`` needs (``to_dict``/``from_dict`` keep them);
    the library objects are kept for inspection and are absent from a model rebuilt from a saved summary."""

    bgnbd: dict[str, float]  # r, alpha (days), a, b
    gamma_gamma: dict[str, float] | None  # p, q, v (yen); None: spend could not be modelled (see notes)
    customers: int  # subjects in the summary
    repeat_customers: int  # with frequency > 0
    method: str
    seconds: float  # wall time of the fit (both models), including pytensor compilation
    spend_customers: int = 0  # repeat customers with a positive mean amount: what Gamma-Gamma was fitted on
    notes: tuple[tuple[str, str], ...] = ()  # (ja, en)
    # the fitted pymc_marketing.clv.BetaGeoModel and GammaGammaModel (None when rebuilt by from_dict)
    bgnbd_model: Any = field(default=None, repr=False, compare=False)
    gamma_gamma_model: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, object]:
        """The fitted parameters and counts, JSON-ready (no library object, no subject)."""
        return {
            "bgnbd": dict(self.bgnbd),
            "gamma_gamma": None if self.gamma_gamma is None else dict(self.gamma_gamma),
            "customers": self.customers,
            "repeat_customers": self.repeat_customers,
            "spend_customers": self.spend_customers,
            "method": self.method,
            "seconds": self.seconds,
            "notes": [list(note) for note in self.notes],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClvModel:
        """A model from ``to_dict``'s output, good for ``predict`` without refitting."""
        gamma_gamma = data.get("gamma_gamma")
        return cls(
            bgnbd={k: float(data["bgnbd"][k]) for k in BGNBD_PARAMETERS},
            gamma_gamma=None
            if gamma_gamma is None
            else {k: float(gamma_gamma[k]) for k in GAMMA_GAMMA_PARAMETERS},
            customers=int(data["customers"]),
            repeat_customers=int(data["repeat_customers"]),
            method=str(data["method"]),
            seconds=float(data["seconds"]),
            spend_customers=int(data.get("spend_customers", 0)),
            notes=tuple((str(ja), str(en)) for ja, en in data.get("notes", ())),
        )


# -- the summary ------------------------------------------------------------------------------------------------


def _require(
    columns: Mapping[str, pl.DataType], name_ja: str, name_en: str, required: tuple[str, ...]
) -> None:
    missing = [c for c in required if c not in columns]
    if missing:
        cols = ", ".join(missing)
        raise ValidationFailed(
            f"{name_ja}に列 {cols} がありません。",
            f"{name_en} lacks the column(s) {cols}.",
            code="missing_column",
            details={"table": name_en, "columns": missing},
        )


def _day(dtype: pl.DataType) -> pl.Expr:
    col = pl.col("occurred_at")
    if dtype == pl.Date:
        return col
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return col.dt.date()
        # Japan time is UTC+9 all year (no daylight saving since 1951), so the Japan day of an aware instant is its
        # epoch shifted by nine hours and cut into days: the same day as convert_time_zone(JST).dt.date(), computed
        # about ten times faster (0.06 s instead of 0.6 s on ten million rows).
        return ((col.dt.epoch("us") + JST_OFFSET_US) // US_PER_DAY).cast(pl.Int32).cast(pl.Date)
    raise ValidationFailed(
        "購入履歴の occurred_at は日付か日時である必要があります。",
        f"transactions.occurred_at must be a date or a datetime, not {dtype}.",
        code="invalid_input",
    )


def rfm_summary(transactions: pl.DataFrame | pl.LazyFrame, *, as_of: date) -> pl.DataFrame:
    """Per subject, the repeat-purchase summary the models read (see the module docstring): ``subject, frequency,
    recency, T, monetary_value``, sorted by subject. Input columns ``subject, occurred_at, amount``; rows after
    ``as_of`` and rows without a subject or a time are ignored, a missing amount counts as 0."""
    frame = transactions.lazy()
    schema = frame.collect_schema()
    _require(schema, "購入履歴", "transactions", ("subject", "occurred_at", "amount"))
    if not schema["amount"].is_numeric():
        raise ValidationFailed(
            "購入履歴の amount は数値である必要があります。",
            "transactions.amount must be numeric.",
            code="invalid_input",
        )
    daily = (
        frame.select("subject", _day(schema["occurred_at"]).alias("day"), pl.col("amount").cast(pl.Float64))
        .filter(pl.col("subject").is_not_null() & pl.col("day").is_not_null() & (pl.col("day") <= as_of))
        .group_by("subject", "day")
        .agg(pl.col("amount").sum())
    )
    per_subject = daily.group_by("subject").agg(
        pl.col("day").min().alias("first"),
        pl.col("day").max().alias("last"),
        (pl.len() - 1).cast(pl.Int64).alias("frequency"),
        pl.col("amount").sum().alias("total"),
        pl.col("amount").get(pl.col("day").arg_min()).alias("first_amount"),
    )
    return (
        per_subject.select(
            "subject",
            "frequency",
            (pl.col("last") - pl.col("first")).dt.total_days().cast(pl.Int64).alias("recency"),
            (pl.lit(as_of, dtype=pl.Date) - pl.col("first")).dt.total_days().cast(pl.Int64).alias("T"),
            pl.when(pl.col("frequency") > 0)
            .then((pl.col("total") - pl.col("first_amount")) / pl.col("frequency"))
            .otherwise(0.0)
            .alias("monetary_value"),
        )
        .sort("subject")
        .collect()
    )


# -- closed forms with given parameters ---------------------------------------------------------------------------


def _floats(*values: ArrayLike) -> list[NDArray[np.float64]]:
    return [np.asarray(v, dtype=np.float64) for v in values]


def _bgnbd(params: Mapping[str, float]) -> tuple[float, float, float, float]:
    r, alpha, a, b = (float(params[k]) for k in BGNBD_PARAMETERS)
    if abs(a - 1.0) < 1e-7:  # (a - 1) divides E[X(t)]; the limit at a = 1 is finite, approach it
        a = 1.0 + 1e-7
    return r, alpha, a, b


def probability_alive(
    params: Mapping[str, float], frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> NDArray[np.float64]:
    """P(still a customer at T) under BG/NBD with ``params`` (r, alpha, a, b); times in days."""
    r, alpha, a, b = _bgnbd(params)
    x, t_x, big_t = _floats(frequency, recency, T)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_odds_gone = np.log(a / (b + np.maximum(x, 1.0) - 1.0)) + (r + x) * np.log(
            (alpha + big_t) / (alpha + t_x)
        )
        alive: NDArray[np.float64] = np.where(x > 0, expit(-log_odds_gone), 1.0)
    return alive


def expected_purchases(
    params: Mapping[str, float], t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> NDArray[np.float64]:
    """Purchases expected in the next ``t`` days from customers with this history, under BG/NBD with ``params``
    (r, alpha, a, b): Fader, Hardie & Lee (2005) eq. 10, times in days."""
    r, alpha, a, b = _bgnbd(params)
    x, t_x, big_t = _floats(frequency, recency, T)
    horizon = np.asarray(t, dtype=np.float64)
    w = (alpha + big_t) / (alpha + big_t + horizon)
    # w ** (r + x) · 2F1(r + x, b + x; a + b + x - 1; 1 - w), rewritten by Euler's transformation
    alive = probability_alive(params, x, t_x, big_t)
    with np.errstate(invalid="ignore", over="ignore"):
        tail = w ** (a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, 1.0 - w)
        purchases: NDArray[np.float64] = (a + b + x - 1.0) / (a - 1.0) * (1.0 - tail) * alive
    bad = ~np.isfinite(purchases)
    if bad.any():
        # a and b in the thousands (a dropout probability nearly the same for everyone, as a fit on a few hundred
        # customers can give): 2F1 overflows. Then p ~ Beta(a, b + x) is concentrated at p = a / (a + b + x), and
        # E[X(t)] tends to P(alive) · (1 - ((alpha + T) / (alpha + T + p t)) ** (r + x)) / p (a Gamma(r + x,
        # alpha + T) rate, a geometric number of purchases); its error is of order 1 / (a + b).
        p = a / (a + b + x)
        limit = alive * (1.0 - ((alpha + big_t) / (alpha + big_t + p * horizon)) ** (r + x)) / p
        purchases = np.where(bad, limit, purchases)
    return purchases


def expected_spend(
    params: Mapping[str, float], frequency: ArrayLike, monetary_value: ArrayLike
) -> NDArray[np.float64]:
    """The expected amount of a future purchase under Gamma-Gamma with ``params`` (p, q, v):
    ``p · (v + x · m) / (p · x + q - 1)``; needs q > 1."""
    p, q, v = (float(params[k]) for k in GAMMA_GAMMA_PARAMETERS)
    x, m = _floats(frequency, monetary_value)
    spend: NDArray[np.float64] = p * (v + x * m) / (p * x + q - 1.0)
    return spend


def discounted_purchases(
    params: Mapping[str, float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    horizon_days: int,
    annual_discount: float,
) -> NDArray[np.float64]:
    """Σ over steps of about a month of (purchases expected in the step) / (1 + annual_discount) ** (end of step /
    365): the present number of purchases; times the expected amount it is the CLV."""
    x, t_x, big_t = _floats(frequency, recency, T)
    steps = max(1, round(horizon_days / DAYS_PER_STEP))
    total = np.zeros(np.broadcast_shapes(x.shape, t_x.shape, big_t.shape))
    before = np.zeros_like(total)
    for k in range(1, steps + 1):
        end = horizon_days * k / steps
        upto = expected_purchases(params, end, x, t_x, big_t)
        total += (upto - before) / (1.0 + annual_discount) ** (end / DAYS_PER_YEAR)
        before = upto
    return total


# -- fit ----------------------------------------------------------------------------------------------------------


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence pymc / pytensor / arviz warnings and log lines here only (never globally)."""
    loggers = [logging.getLogger(name) for name in _NOISY_LOGGERS]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)


def _check_summary(summary: pl.DataFrame) -> None:
    _require(summary.schema, "顧客集計", "summary", ("frequency", "recency", "T", "monetary_value"))
    columns = ("frequency", "recency", "T", "monetary_value")
    bad = summary.select(
        pl.any_horizontal(pl.col(c).is_null() for c in columns).sum().alias("nulls"),
        pl.any_horizontal(pl.col(c) < 0 for c in ("frequency", "recency", "T")).sum().alias("negative"),
        (pl.col("recency") > pl.col("T")).sum().alias("recency_after_T"),
        ((pl.col("frequency") == 0) & (pl.col("recency") != 0)).sum().alias("recency_without_repeat"),
    ).row(0, named=True)
    if any(bad.values()):
        raise ValidationFailed(
            "顧客集計に不正な行があります（欠損、負の値、recency > T、再購入なしで recency ≠ 0）。"
            "rfm_summary の出力を渡してください。",
            "The summary has invalid rows (missing or negative values, recency > T, or recency ≠ 0 without a repeat "
            "purchase); pass the output of rfm_summary.",
            code="invalid_input",
            details={k: int(v) for k, v in bad.items()},
        )


def _enough(customers: int, repeat_customers: int) -> None:
    if customers < MIN_CUSTOMERS:
        raise ValidationFailed(
            f"購入のある顧客が {customers} 人しかいません。顧客生涯価値のモデルには少なくとも {MIN_CUSTOMERS} 人必要です。",
            f"Only {customers} customers have purchases; the lifetime value model needs at least {MIN_CUSTOMERS}.",
            code="too_few_rows",
            details={"customers": customers, "minimum": MIN_CUSTOMERS},
        )
    if repeat_customers < MIN_REPEAT_CUSTOMERS:
        raise ValidationFailed(
            f"再購入のある顧客が {repeat_customers} 人しかいません。購入頻度と離反を推定するには少なくとも "
            f"{MIN_REPEAT_CUSTOMERS} 人必要です。",
            f"Only {repeat_customers} customers bought more than once (on different days); estimating purchase "
            f"rates and dropout needs at least {MIN_REPEAT_CUSTOMERS}.",
            code="too_few_repeat_customers",
            details={"repeat_customers": repeat_customers, "minimum": MIN_REPEAT_CUSTOMERS},
        )


def _flat(names: tuple[str, ...]) -> dict[str, Any]:
    from pymc_extras.prior import Prior

    return {name: Prior("HalfFlat") for name in names}


def _fit_library(model: Any, data: Any, seed: int) -> dict[str, float]:
    model.fit(data=data, method="map", progressbar=False, seed=seed)
    posterior = model.fit_result
    return {name: float(posterior[name].mean()) for name in posterior.data_vars}


def _plausible(params: Mapping[str, float]) -> bool:
    return all(math.isfinite(v) and 0.0 < v < 1e12 for v in params.values())


def fit(summary: pl.DataFrame, *, method: str = "map", seed: int = 0) -> ClvModel:
    """Fit BG/NBD on every subject of ``summary`` (``rfm_summary``'s output) and Gamma-Gamma on the repeat customers
    with a positive mean amount. Refuses (ValidationFailed) fewer than MIN_CUSTOMERS subjects or
    MIN_REPEAT_CUSTOMERS repeat customers, and data the likelihood cannot pin down."""
    if method not in METHODS:
        raise ValidationFailed(
            f"推定方法 {method!r} はありません（{', '.join(METHODS)} のいずれか）。",
            f"Unknown fit method {method!r}; use one of {', '.join(METHODS)}.",
            code="invalid_input",
        )
    _check_summary(summary)
    frequency = summary["frequency"].to_numpy().astype(np.float64)
    customers = int(frequency.size)
    repeat_customers = int(np.count_nonzero(frequency > 0))
    _enough(customers, repeat_customers)
    recency = summary["recency"].to_numpy().astype(np.float64)
    big_t = summary["T"].to_numpy().astype(np.float64)
    monetary = summary["monetary_value"].to_numpy().astype(np.float64)
    spenders = (frequency > 0) & (monetary > 0)
    spend_customers = int(np.count_nonzero(spenders))

    started = time.perf_counter()
    notes: list[tuple[str, str]] = []
    with _quiet():
        import pandas as pd
        from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

        # The library gets row numbers, never a subject: its fitted objects keep their data.
        bgnbd_data = pd.DataFrame(
            {"customer_id": np.arange(customers), "frequency": frequency, "recency": recency, "T": big_t}
        )
        bgnbd_model = BetaGeoModel(model_config=_flat(BGNBD_PARAMETERS))
        fitted = _fit_library(bgnbd_model, bgnbd_data, seed)
        bgnbd = {k: fitted[k] for k in BGNBD_PARAMETERS}
        if not _plausible(bgnbd):
            raise ValidationFailed(
                "購入履歴から購入頻度・離反のパラメータを推定できませんでした（尤度が収束しません）。"
                "期間を延ばすか顧客を増やしてください。",
                "The purchase history does not pin down the purchase and dropout parameters (the likelihood has "
                "no finite maximum); use a longer period or more customers.",
                code="not_identified",
                details={"bgnbd": bgnbd},
            )

        gamma_gamma: dict[str, float] | None = None
        gamma_gamma_model: Any = None
        if spend_customers < MIN_SPEND_CUSTOMERS:
            notes.append(
                (
                    f"金額が正の再購入顧客が {spend_customers} 人しかいないため、購入単価は推定していません。",
                    f"Only {spend_customers} repeat customers have a positive mean amount; spend was not modelled.",
                )
            )
        else:
            spend_data = pd.DataFrame(
                {
                    "customer_id": np.arange(spend_customers),
                    "frequency": frequency[spenders],
                    "monetary_value": monetary[spenders],
                }
            )
            gamma_gamma_model = GammaGammaModel(model_config=_flat(GAMMA_GAMMA_PARAMETERS))
            fitted = _fit_library(gamma_gamma_model, spend_data, seed)
            gamma_gamma = {k: fitted[k] for k in GAMMA_GAMMA_PARAMETERS}
            if not _plausible(gamma_gamma) or gamma_gamma["q"] <= 1.0:
                notes.append(
                    (
                        "購入単価のばらつきが大きすぎて Gamma-Gamma モデルの平均が定まりません（q ≤ 1）。"
                        "購入単価は推定していません。",
                        "Spend varies too much for the Gamma-Gamma mean to exist (q ≤ 1); spend was not modelled.",
                    )
                )
                gamma_gamma, gamma_gamma_model = None, None
    return ClvModel(
        bgnbd=bgnbd,
        gamma_gamma=gamma_gamma,
        customers=customers,
        repeat_customers=repeat_customers,
        method=method,
        seconds=time.perf_counter() - started,
        spend_customers=spend_customers,
        notes=tuple(notes),
        bgnbd_model=bgnbd_model,
        gamma_gamma_model=gamma_gamma_model,
    )


# -- predict ------------------------------------------------------------------------------------------------------


def predict(
    model: ClvModel, summary: pl.DataFrame, *, horizon_days: int = 365, annual_discount: float = 0.08
) -> pl.DataFrame:
    """Per subject of ``summary``: ``p_alive``, ``expected_purchases`` over ``horizon_days``, ``expected_spend`` per
    purchase (yen) and ``clv`` — the spend expected over the horizon discounted at ``annual_discount`` (yen). The
    spend and the CLV are null when the model has no Gamma-Gamma parameters."""
    if horizon_days <= 0:
        raise ValidationFailed(
            f"予測期間は 1 日以上にしてください（{horizon_days} 日が指定されました）。",
            f"The horizon must be at least one day, not {horizon_days}.",
            code="invalid_input",
        )
    if not annual_discount > -1.0:
        raise ValidationFailed(
            "割引率は -100% より大きくしてください。",
            "The discount rate must be greater than -100%.",
            code="invalid_input",
        )
    _require(summary.schema, "顧客集計", "summary", ("subject", *SUMMARY_SCHEMA))
    _check_summary(summary)
    x, t_x, big_t, m = (summary[c].to_numpy().astype(np.float64) for c in SUMMARY_SCHEMA)
    p_alive = probability_alive(model.bgnbd, x, t_x, big_t)
    purchases = expected_purchases(model.bgnbd, float(horizon_days), x, t_x, big_t)
    if model.gamma_gamma is None:
        spend = pl.Series("expected_spend", [None] * summary.height, dtype=pl.Float64)
        clv = pl.Series("clv", [None] * summary.height, dtype=pl.Float64)
    else:
        spend_values = expected_spend(model.gamma_gamma, x, m)
        present = discounted_purchases(
            model.bgnbd, x, t_x, big_t, horizon_days=horizon_days, annual_discount=annual_discount
        )
        spend = pl.Series("expected_spend", spend_values)
        clv = pl.Series("clv", present * spend_values)
    return pl.DataFrame(
        [
            summary["subject"],
            pl.Series("p_alive", p_alive),
            pl.Series("expected_purchases", purchases),
            spend,
            clv,
        ]
    )
