"""Churn probability from purchase behaviour, validated on a time split (issue 24, deliverable 3).

Pure functions on Polars frames: no Context, no database, no audit. Deterministic given ``seed``.

**Days.** Every ``occurred_at`` is reduced to a calendar day (a date stays a date; an aware datetime is read in
Japan time, Asia/Tokyo; a naive datetime is taken as it is). A snapshot at ``cutoff`` sees the days *up to and
including* ``cutoff``; its label looks at the days ``cutoff + 1 … cutoff + horizon``. The two never share a day.

**Churn.** A customer (someone with a purchase on or before the cutoff) has churned when they make no purchase in
the ``horizon_days`` after the cutoff. People who never bought are not scored: churn is not defined for them.

**Features** (``FEATURES``) are behaviour only — counts, sums and gaps of purchases, inquiries and calls. Protected
attributes (``PROTECTED``: gender, age, birth date and the 要配慮 categories, plus any column a caller marks
sensitive) are never features; ``people.gender`` / ``people.age_band`` serve only the fairness report.

**Time split.** With ``as_of`` the last day whose data we hold and ``h`` the horizon::

    test cutoff  = as_of - h           test labels  : (as_of - h, as_of]        fully observed by as_of
    train cutoff = test cutoff - h     train labels : (as_of - 2h, as_of - h]   all before the test cutoff

The model is fitted on the train snapshot and measured on the test snapshot: the same people may appear in both,
but at different times — what the model learns never includes anything after the test cutoff.

**Model: logistic regression** (imputation → signed log1p → standardisation → ``LogisticRegression`` in one
sklearn ``Pipeline``). Chosen over gradient boosting because (1) it minimises log loss directly, so its
probabilities are calibrated without a separate calibration step, which matters since we show a probability and
a calibration table; (2) its explanation is exact, not approximate: the log-odds is the intercept plus one term
per feature (coefficient × transformed, standardised value), so the drivers shown for a person add up to their
score; (3) it is stable on the few hundred customers of a small shop, needs no tuning, and fits a million rows
in seconds. The signed log1p tames the long tails of spend and counts so one big spender does not dominate.

**Per-person drivers** (``predict``): the term ``coef_j × z_j`` of each feature, in log-odds, relative to the
average customer of the training snapshot (z = 0); positive raises the churn probability. The three largest in
absolute value are ``driver_1 … driver_3`` with their ``driver_k_effect``.

**Global importance** (``ChurnModel.importance``): ``sklearn.inspection.permutation_importance`` on the test
snapshot, scored by ROC AUC — how much AUC drops when a feature's values are shuffled.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

import numpy as np
import polars as pl

from mamori.kernel.errors import ValidationFailed

JST = "Asia/Tokyo"


class FeatureSpec(NamedTuple):
    name: str
    label_ja: str
    label_en: str


FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("recency_days", "最終購入からの日数", "Days since the last purchase"),
    FeatureSpec("purchases_90d", "直近90日の購入回数", "Purchases in the last 90 days"),
    FeatureSpec("purchases_365d", "直近365日の購入回数", "Purchases in the last 365 days"),
    FeatureSpec("spend_365d", "直近365日の購入金額", "Spend in the last 365 days"),
    FeatureSpec("tenure_days", "初回接点からの日数", "Days since first seen (tenure)"),
    FeatureSpec(
        "mean_gap_days",
        "平均購入間隔（日、1回のみの場合は初回購入からの日数）",
        "Mean days between purchases (one purchase: days since it)",
    ),
    FeatureSpec("inquiries_90d", "直近90日の問い合わせ件数", "Inquiries in the last 90 days"),
    FeatureSpec("calls_90d", "直近90日の電話件数", "Calls in the last 90 days"),
    FeatureSpec(
        "purchase_trend",
        "購入頻度の傾向（直近180日とその前180日の対数比）",
        "Purchase trend: ln((last 180 days + 1) / (previous 180 days + 1))",
    ),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)

# Never features: the attributes the fairness report is computed over, and the 要配慮個人情報 categories
# (法2条3項, 施行令2条: race, creed, social status, medical history, criminal record, victimisation, disability,
# health check results, guidance, criminal and juvenile proceedings). Matched on whole words of a column name,
# case-insensitively: ``customer_gender`` and ``Age_Band_Code`` are refused, ``usage`` is not.
PROTECTED: tuple[str, ...] = (
    "gender",
    "sex",
    "age",
    "age_band",
    "birth_date",
    "birthdate",
    "date_of_birth",
    "birth_year",
    "race",
    "ethnicity",
    "nationality",
    "creed",
    "religion",
    "belief",
    "social_status",
    "medical_history",
    "medical",
    "health",
    "health_check",
    "disability",
    "criminal_record",
    "criminal",
    "crime_victim",
    "sexual_orientation",
    "pregnancy",
)

MIN_ROWS = 20  # per snapshot (train, test): fewer and the metrics say nothing
MIN_PER_CLASS = 5  # churned and retained, per snapshot
CALIBRATION_BINS = 10
PERMUTATION_REPEATS = 10
TOP_DRIVERS = 3


@dataclass(frozen=True)
class CalibrationBin:
    mean_predicted: float
    observed_rate: float
    count: int

    def __iter__(self) -> Iterator[float]:  # unpacks as (mean predicted, observed rate, count)
        return iter((self.mean_predicted, self.observed_rate, self.count))


class Importance(NamedTuple):
    feature: str
    mean: float  # mean drop in test ROC AUC when the feature is shuffled
    std: float


class TimeWindow(NamedTuple):
    first: date | None  # None: from the beginning of the data
    last: date


@dataclass(frozen=True)
class ChurnMetrics:
    auc: float
    base_rate: float  # share churned in the test snapshot
    brier: float
    brier_base_rate: float  # Brier score of always predicting the test base rate (the best constant)
    log_loss: float
    n_train: int
    n_test: int
    train_base_rate: float
    calibration: list[CalibrationBin]  # deciles of the predicted probability on the test snapshot


@dataclass(frozen=True)
class ChurnModel:
    estimator: Any  # fitted sklearn Pipeline: impute → signed log1p → scale → LogisticRegression
    feature_names: tuple[str, ...]  # FEATURE_NAMES, then the caller's extra features
    extra_feature_names: tuple[str, ...]
    as_of: date
    train_cutoff: date
    test_cutoff: date
    horizon_days: int
    seed: int
    metrics: ChurnMetrics
    importance: list[Importance]  # by mean, largest first
    # the test snapshot: subject, churned (observed), churn_probability — for the fairness report, joined to
    # people's gender / age band by the caller (those columns never reach the model)
    test_predictions: pl.DataFrame

    def windows(self) -> dict[str, TimeWindow]:
        """The days each part of the split reads (both ends inclusive)."""
        h = timedelta(days=self.horizon_days)
        one = timedelta(days=1)
        return {
            "train_features": TimeWindow(None, self.train_cutoff),
            "train_labels": TimeWindow(self.train_cutoff + one, self.train_cutoff + h),
            "test_features": TimeWindow(None, self.test_cutoff),
            "test_labels": TimeWindow(self.test_cutoff + one, self.test_cutoff + h),
        }

    def coefficients(self) -> dict[str, float]:
        """Log-odds per standard deviation of each (log-transformed) feature."""
        coef = self.estimator[-1].coef_[0]
        return {name: float(c) for name, c in zip(self.feature_names, coef, strict=True)}


def feature_label(name: str, lang: str = "ja") -> str:
    """The label of a feature; an extra feature of the caller is shown by its column name."""
    for spec in FEATURES:
        if spec.name == name:
            return spec.label_en if lang == "en" else spec.label_ja
    return name


# -- inputs -----------------------------------------------------------------------------------------------------


def _require(frame: pl.DataFrame, name_ja: str, name_en: str, columns: Collection[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        cols = ", ".join(missing)
        raise ValidationFailed(
            f"{name_ja}に列 {cols} がありません。",
            f"{name_en} lacks the column(s) {cols}.",
            code="missing_column",
            details={"table": name_en, "columns": missing},
        )


def _day(frame: pl.DataFrame, name_en: str) -> pl.Expr:
    dtype = frame.schema["occurred_at"]
    col = pl.col("occurred_at")
    if dtype == pl.Date:
        return col
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            col = col.dt.convert_time_zone(JST)
        return col.dt.date()
    raise ValidationFailed(
        f"{name_en} の occurred_at は日付か日時である必要があります。",
        f"{name_en}.occurred_at must be a date or a datetime, not {dtype}.",
        code="invalid_input",
    )


def _purchases(transactions: pl.DataFrame) -> pl.LazyFrame:
    _require(transactions, "購入履歴", "transactions", ("subject", "occurred_at", "amount"))
    if not transactions.schema["amount"].is_numeric():
        raise ValidationFailed(
            "購入履歴の amount は数値である必要があります。",
            "transactions.amount must be numeric.",
            code="invalid_input",
        )
    return transactions.lazy().select(
        "subject", _day(transactions, "transactions").alias("day"), pl.col("amount").cast(pl.Float64)
    )


def _activities(activities: pl.DataFrame, subject_dtype: pl.DataType) -> pl.LazyFrame:
    _require(activities, "活動履歴", "activities", ("subject", "kind", "occurred_at"))
    if activities.height and activities.schema["subject"] != subject_dtype:
        raise ValidationFailed(
            "購入履歴と活動履歴の subject の型が一致しません。",
            "transactions.subject and activities.subject have different types.",
            code="invalid_input",
        )
    return activities.lazy().select(
        pl.col("subject").cast(subject_dtype),
        pl.col("kind").cast(pl.String),
        _day(activities, "activities").alias("day"),
    )


def _positive_horizon(horizon_days: int) -> None:
    if horizon_days < 1:
        raise ValidationFailed(
            "予測期間（日数）は1以上である必要があります。",
            "horizon_days must be at least 1.",
            code="invalid_input",
        )


# -- features and labels ----------------------------------------------------------------------------------------


def features(transactions: pl.DataFrame, activities: pl.DataFrame, *, cutoff: date) -> pl.DataFrame:
    """One row per subject seen (a purchase or an activity) on or before ``cutoff``: ``subject`` + FEATURES.

    Windows end on ``cutoff`` inclusive: "the last 90 days" are ``cutoff - 89 … cutoff``. For someone with no
    purchase ``recency_days`` and ``mean_gap_days`` are null and the counts are 0. ``mean_gap_days`` is
    (last − first purchase day) / (purchases − 1), or, after a single purchase, the days since it (the gap so far).
    """
    tx = _purchases(transactions).filter(pl.col("day") <= cutoff)
    acts = _activities(activities, transactions.schema["subject"]).filter(pl.col("day") <= cutoff)

    def since(days: int) -> pl.Expr:  # the last ``days`` days, cutoff included
        return pl.col("day") > cutoff - timedelta(days=days)

    day_180 = cutoff - timedelta(days=180)
    day_360 = cutoff - timedelta(days=360)
    bought = tx.group_by("subject").agg(
        pl.col("day").min().alias("first_purchase"),
        pl.col("day").max().alias("last_purchase"),
        pl.len().alias("purchases"),
        since(90).sum().alias("purchases_90d"),
        since(365).sum().alias("purchases_365d"),
        pl.col("amount").filter(since(365)).sum().alias("spend_365d"),
        since(180).sum().alias("last_180"),
        ((pl.col("day") > day_360) & (pl.col("day") <= day_180)).sum().alias("previous_180"),
    )
    contacted = acts.group_by("subject").agg(
        pl.col("day").min().alias("first_activity"),
        ((pl.col("kind") == "inquiry") & since(90)).sum().alias("inquiries_90d"),
        ((pl.col("kind") == "call") & since(90)).sum().alias("calls_90d"),
    )
    cut = pl.lit(cutoff)
    counts = ("purchases_90d", "purchases_365d", "inquiries_90d", "calls_90d", "last_180", "previous_180")
    out = (
        bought.join(contacted, on="subject", how="full", coalesce=True)
        .with_columns(
            *(pl.col(c).fill_null(0).cast(pl.Int64) for c in counts),
            pl.col("spend_365d").fill_null(0.0),
            pl.col("purchases").fill_null(0),
        )
        .with_columns(
            (cut - pl.col("last_purchase")).dt.total_days().cast(pl.Float64).alias("recency_days"),
            (cut - pl.min_horizontal("first_purchase", "first_activity"))
            .dt.total_days()
            .cast(pl.Float64)
            .alias("tenure_days"),
            pl.when(pl.col("purchases") >= 2)
            .then(
                (pl.col("last_purchase") - pl.col("first_purchase")).dt.total_days()
                / (pl.col("purchases") - 1)
            )
            .otherwise((cut - pl.col("first_purchase")).dt.total_days())
            .cast(pl.Float64)
            .alias("mean_gap_days"),
            ((pl.col("last_180") + 1) / (pl.col("previous_180") + 1)).log().alias("purchase_trend"),
        )
        .select("subject", *FEATURE_NAMES)
        .sort("subject")
    )
    return out.collect()


def labels(transactions: pl.DataFrame, *, cutoff: date, horizon_days: int) -> pl.DataFrame:
    """``subject``, ``churned``: one row per subject with a purchase on or before ``cutoff``; churned is True when
    they made no purchase in ``cutoff + 1 … cutoff + horizon_days``."""
    _positive_horizon(horizon_days)
    tx = _purchases(transactions)
    end = cutoff + timedelta(days=horizon_days)
    return (
        tx.group_by("subject")
        .agg(
            (pl.col("day") <= cutoff).any().alias("customer"),
            ((pl.col("day") > cutoff) & (pl.col("day") <= end)).any().alias("bought_again"),
        )
        .filter(pl.col("customer"))
        .select("subject", (~pl.col("bought_again")).alias("churned"))
        .sort("subject")
        .collect()
    )


# -- protected attributes and extra features --------------------------------------------------------------------


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^0-9a-z]+", name.lower()) if w]


def _is_protected(column: str, protected: Collection[str]) -> bool:
    words = _words(column)
    for p in protected:
        target = _words(p)
        if not target:
            continue
        if column.strip().lower() == p.strip().lower():
            return True
        n = len(target)
        if any(words[i : i + n] == target for i in range(len(words) - n + 1)):
            return True
    return False


def _check_extra(extra_features: pl.DataFrame, sensitive_columns: Collection[str]) -> tuple[str, ...]:
    """The extra feature names, after refusing protected, duplicate and non-numeric columns."""
    names = [c for c in extra_features.columns if c != "subject"]
    protected = (*PROTECTED, *sensitive_columns)
    for column in names:
        if _is_protected(column, protected):
            raise ValidationFailed(
                f"列 {column} は要配慮個人情報または保護された属性のため、予測の特徴量に使えません。",
                f"Column {column} is a protected or sensitive attribute and cannot be a prediction feature.",
                code="protected_feature",
                details={"column": column},
            )
    _require(extra_features, "追加の特徴量", "extra_features", ("subject",))
    for column in names:
        if column in FEATURE_NAMES:
            raise ValidationFailed(
                f"追加の特徴量 {column} は既存の特徴量と同じ名前です。",
                f"Extra feature {column} has the name of a built-in feature.",
                code="invalid_input",
                details={"column": column},
            )
        dtype = extra_features.schema[column]
        if not (dtype.is_numeric() or dtype == pl.Boolean):
            raise ValidationFailed(
                f"追加の特徴量 {column} は数値である必要があります。",
                f"Extra feature {column} must be numeric.",
                code="invalid_input",
                details={"column": column},
            )
    if extra_features["subject"].is_duplicated().any():
        raise ValidationFailed(
            "追加の特徴量に同じ subject が複数行あります。",
            "extra_features has more than one row for a subject.",
            code="invalid_input",
        )
    return tuple(names)


def _snapshot(
    transactions: pl.DataFrame,
    activities: pl.DataFrame,
    extra_features: pl.DataFrame | None,
    extra_names: tuple[str, ...],
    *,
    cutoff: date,
) -> pl.DataFrame:
    """Features of the customers (a purchase on or before ``cutoff``), with the extra columns joined."""
    frame = features(transactions, activities, cutoff=cutoff).filter(pl.col("recency_days").is_not_null())
    if extra_names:
        assert extra_features is not None
        extra = extra_features.select(
            pl.col("subject").cast(frame.schema["subject"]),
            *(pl.col(c).cast(pl.Float64) for c in extra_names),
        )
        frame = frame.join(extra, on="subject", how="left")
    return frame


def _matrix(frame: pl.DataFrame, names: tuple[str, ...]) -> np.ndarray:
    return frame.select(pl.col(c).cast(pl.Float64) for c in names).to_numpy()


# -- the model --------------------------------------------------------------------------------------------------


def _signed_log1p(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.sign(x) * np.log1p(np.abs(x))
    return out


def _pipeline() -> Any:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    return Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("log", FunctionTransformer(_signed_log1p)),
            ("scale", StandardScaler()),
            ("model", LogisticRegression(C=1.0, max_iter=1000)),
        ]
    )


def _enough(y: np.ndarray, split_ja: str, split_en: str, cutoff: date) -> None:
    rows = int(y.size)
    churned = int(y.sum())
    retained = rows - churned
    if rows < MIN_ROWS:
        raise ValidationFailed(
            f"{split_ja}（基準日 {cutoff.isoformat()}）の顧客が {rows} 人しかいません。"
            f"少なくとも {MIN_ROWS} 人必要です。",
            f"The {split_en} snapshot (cutoff {cutoff.isoformat()}) has only {rows} customers; "
            f"at least {MIN_ROWS} are needed.",
            code="too_few_rows",
            details={"split": split_en, "rows": rows, "minimum": MIN_ROWS},
        )
    if min(churned, retained) < MIN_PER_CLASS:
        raise ValidationFailed(
            f"{split_ja}（基準日 {cutoff.isoformat()}）の離反 {churned} 人・継続 {retained} 人では"
            f"学習・評価できません。どちらも {MIN_PER_CLASS} 人以上必要です。",
            f"The {split_en} snapshot (cutoff {cutoff.isoformat()}) has {churned} churned and {retained} "
            f"retained customers; each needs at least {MIN_PER_CLASS}.",
            code="single_class",
            details={"split": split_en, "churned": churned, "retained": retained, "minimum": MIN_PER_CLASS},
        )


def _calibration(y: np.ndarray, p: np.ndarray) -> list[CalibrationBin]:
    order = np.argsort(p, kind="stable")
    bins = []
    for chunk in np.array_split(order, CALIBRATION_BINS):
        if chunk.size:
            bins.append(CalibrationBin(float(p[chunk].mean()), float(y[chunk].mean()), int(chunk.size)))
    return bins


def train(
    transactions: pl.DataFrame,
    activities: pl.DataFrame,
    *,
    as_of: date,
    horizon_days: int = 180,
    seed: int = 0,
    extra_features: pl.DataFrame | None = None,
    sensitive_columns: Collection[str] = (),
) -> ChurnModel:
    """Fit on the train snapshot (``as_of - 2h``), measure on the test snapshot (``as_of - h``).

    ``extra_features``: ``subject`` plus numeric columns joined to every snapshot as they are — they must be
    known at the train cutoff (e.g. the acquisition channel), or the test metrics flatter the model. A column named
    in ``PROTECTED`` or ``sensitive_columns`` is refused (ValidationFailed, code ``protected_feature``).
    Too few customers or a snapshot with (almost) one class: ValidationFailed (``too_few_rows`` / ``single_class``).
    """
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    _positive_horizon(horizon_days)
    extra_names = _check_extra(extra_features, sensitive_columns) if extra_features is not None else ()
    names = FEATURE_NAMES + extra_names
    test_cutoff = as_of - timedelta(days=horizon_days)
    train_cutoff = test_cutoff - timedelta(days=horizon_days)

    def split(cutoff: date) -> tuple[pl.Series, np.ndarray, np.ndarray]:
        frame = _snapshot(transactions, activities, extra_features, extra_names, cutoff=cutoff).join(
            labels(transactions, cutoff=cutoff, horizon_days=horizon_days), on="subject", how="inner"
        )
        return frame["subject"], _matrix(frame, names), frame["churned"].cast(pl.Int8).to_numpy()

    _, x_train, y_train = split(train_cutoff)
    _enough(y_train, "学習用スナップショット", "train", train_cutoff)
    test_subjects, x_test, y_test = split(test_cutoff)
    _enough(y_test, "評価用スナップショット", "test", test_cutoff)

    estimator = _pipeline().fit(x_train, y_train)
    p = estimator.predict_proba(x_test)[:, 1]
    base = float(y_test.mean())
    metrics = ChurnMetrics(
        auc=float(roc_auc_score(y_test, p)),
        base_rate=base,
        brier=float(brier_score_loss(y_test, p)),
        brier_base_rate=float(np.mean((y_test - base) ** 2)),
        log_loss=float(log_loss(y_test, p, labels=[0, 1])),
        n_train=int(y_train.size),
        n_test=int(y_test.size),
        train_base_rate=float(y_train.mean()),
        calibration=_calibration(y_test, p),
    )
    perm = permutation_importance(
        estimator,
        x_test,
        y_test,
        scoring="roc_auc",
        n_repeats=PERMUTATION_REPEATS,
        random_state=seed,
    )
    importance = sorted(
        (
            Importance(name, float(m), float(s))
            for name, m, s in zip(names, perm.importances_mean, perm.importances_std, strict=True)
        ),
        key=lambda i: (-i.mean, i.feature),
    )
    return ChurnModel(
        estimator=estimator,
        feature_names=names,
        extra_feature_names=extra_names,
        as_of=as_of,
        train_cutoff=train_cutoff,
        test_cutoff=test_cutoff,
        horizon_days=horizon_days,
        seed=seed,
        metrics=metrics,
        importance=importance,
        test_predictions=pl.DataFrame(
            {"subject": test_subjects, "churned": y_test.astype(bool), "churn_probability": p}
        ),
    )


def predict(
    model: ChurnModel,
    transactions: pl.DataFrame,
    activities: pl.DataFrame,
    *,
    as_of: date,
    extra_features: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The churn probability over the ``horizon_days`` after ``as_of`` of every customer (a purchase on or before
    ``as_of``), with their three strongest drivers.

    Columns: ``subject``, ``churn_probability``, ``driver_1 … driver_3`` (feature names) and ``driver_1_effect …``
    (log-odds, relative to the average customer of the training snapshot; positive raises the risk).
    """
    if model.extra_feature_names:
        if extra_features is None:
            raise ValidationFailed(
                "このモデルには追加の特徴量が必要です。",
                "This model needs its extra features.",
                code="missing_column",
                details={"columns": list(model.extra_feature_names)},
            )
        _require(extra_features, "追加の特徴量", "extra_features", ("subject", *model.extra_feature_names))
        extra_features = extra_features.select("subject", *model.extra_feature_names)
    frame = _snapshot(transactions, activities, extra_features, model.extra_feature_names, cutoff=as_of)
    schema: dict[str, Any] = {"subject": frame.schema["subject"], "churn_probability": pl.Float64}
    for k in range(1, TOP_DRIVERS + 1):
        schema[f"driver_{k}"] = pl.String
        schema[f"driver_{k}_effect"] = pl.Float64
    if frame.height == 0:
        return pl.DataFrame(schema=schema)

    x = _matrix(frame, model.feature_names)
    p = model.estimator.predict_proba(x)[:, 1]
    contributions = model.estimator[:-1].transform(x) * model.estimator[-1].coef_[0]
    top = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :TOP_DRIVERS]
    names = np.array(model.feature_names, dtype=object)
    columns: dict[str, Any] = {"subject": frame["subject"], "churn_probability": p}
    for k in range(TOP_DRIVERS):
        columns[f"driver_{k + 1}"] = names[top[:, k]].tolist()
        columns[f"driver_{k + 1}_effect"] = np.take_along_axis(contributions, top[:, k : k + 1], axis=1)[:, 0]
    return pl.DataFrame(columns, schema=schema)
