"""RFM scores and named segments (issue 24, deliverable 2). Pure Polars: no Context, no database, no audit.

**Input.** One row per purchase: ``subject`` (the person or pseudonym), ``occurred_at`` (Date or Datetime) and
``amount`` (numeric; null counts as 0). Rows with a null ``subject`` or ``occurred_at`` are ignored.

**Days.** A purchase's day is its calendar day in Japan (``BUSINESS_TIME_ZONE``): a Date stays as it is, an aware
Datetime is read in Asia/Tokyo, a naive Datetime is taken as written (as in ``compute.churn``). Purchases on a day
after ``as_of`` are ignored; those on ``as_of`` itself count.

**Measures** per subject: ``recency_days`` = whole days from the last purchase day to ``as_of`` (0 = bought on
``as_of``); ``frequency`` = the number of purchases (rows); ``monetary`` = the sum of ``amount``.

**Cut points.** With ``bins`` = b, the cut points of a measure are its quantiles at 1/b, 2/b … (b-1)/b over the
subjects, each computed with linear interpolation between order statistics (type 7 of Hyndman & Fan: the
default of NumPy, R and ``pl.Expr.quantile(q, "linear")``), rounded to 9 decimal places; the rounded values are the
ones used and reported. They are ascending and may repeat (many people buy once).

**Scores** (1 = worst, b = best). A value *passes* a cut point only when it is strictly better than it:

    f = 1 + #(cut points strictly below frequency)        m = 1 + #(cut points strictly below monetary)
    r = 1 + #(cut points strictly above recency_days)     (fewer days since the last purchase is better)

So a value equal to a cut point stays in the lower score, for all three measures alike, and subjects who all
have the same value all get score 1. In intervals, with cut points c1 ≤ … ≤ c(b-1): ``f = k`` ⇔
c(k-1) < frequency ≤ c(k); ``r = k`` ⇔ c(b-k) ≤ recency_days < c(b-k+1) (c0 = −∞, cb = +∞).
Given ``thresholds`` (e.g. those saved with a segment), the same rule is applied to them instead of new cut points.

**Segments** (``segment_rules``): the rules are tested in order and the first that matches names the segment; the
last, 一般顧客, matches everyone. They are written on the scores, so they scale with b: with k = max(1, ⌊2b/5⌋),
a score is *high* when ≥ b − k + 1 (the top k scores: 4 and 5 of 5) and *low* when ≤ k (1 and 2 of 5).

**Speed.** One filter and one ``group_by`` over the purchases; everything after runs on one row per subject with
column expressions (cut points by NumPy ``quantile``, scores by ``search_sorted``). No Python loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from mamori.kernel.errors import ValidationFailed

BUSINESS_TIME_ZONE = "Asia/Tokyo"
MIN_BINS = 2
MAX_BINS = 10
REQUIRED_COLUMNS = ("subject", "occurred_at", "amount")
CUT_DECIMALS = 9

Operator = Literal[">=", "<=", "==", ">"]

# How a measure is named in a rule's text: (Japanese, English).
_MEASURE_NAMES: dict[str, tuple[str, str]] = {
    "r": ("R", "R"),
    "f": ("F", "F"),
    "m": ("M", "M"),
    "frequency": ("購入回数", "purchases"),
}
_OPERATOR_TEXT: dict[str, str] = {">=": "≥", "<=": "≤", "==": "=", ">": ">"}


def _check_bins(bins: int) -> None:
    if isinstance(bins, bool) or not isinstance(bins, int) or not MIN_BINS <= bins <= MAX_BINS:
        raise ValidationFailed(
            f"段階数（bins）は {MIN_BINS} から {MAX_BINS} の整数で指定してください（指定値: {bins!r}）。",
            f"bins must be an integer from {MIN_BINS} to {MAX_BINS} (got {bins!r}).",
            details={"bins": repr(bins)},
        )


@dataclass(frozen=True)
class Condition:
    """One comparison of a column of the scored table with a number or with another column."""

    left: str
    op: Operator
    right: int | str

    def expr(self) -> pl.Expr:
        left = pl.col(self.left)
        right = pl.col(self.right) if isinstance(self.right, str) else pl.lit(self.right)
        if self.op == ">=":
            return left >= right
        if self.op == "<=":
            return left <= right
        if self.op == ">":
            return left > right
        return left == right

    def text(self, names: dict[str, tuple[str, str]], lang: str = "ja") -> str:
        index = 1 if lang == "en" else 0
        left = names[self.left][index]
        right = names[self.right][index] if isinstance(self.right, str) else str(self.right)
        return f"{left} {_OPERATOR_TEXT[self.op]} {right}"


@dataclass(frozen=True)
class SegmentRule:
    """A named segment: its code, names, the rule in words (ja, en) and the conditions the code applies (all must
    hold; none = the catch-all). ``rule_ja`` / ``rule_en`` are written from the same numbers as ``conditions``."""

    code: str
    name_ja: str
    name_en: str
    rule_ja: str
    rule_en: str
    conditions: tuple[Condition, ...] = ()

    def expr(self) -> pl.Expr:
        """True where the row matches this rule (ignoring the rules before it)."""
        if not self.conditions:
            return pl.lit(True)
        return pl.all_horizontal([condition.expr() for condition in self.conditions])


def segment_expr(rules: tuple[SegmentRule, ...]) -> pl.Expr:
    """The code of the first matching rule, as one ``when/then`` chain (the last rule is the fallback)."""
    *tested, fallback = rules
    result = pl.lit(fallback.code, dtype=pl.String)
    for rule in reversed(tested):
        result = pl.when(rule.expr()).then(pl.lit(rule.code, dtype=pl.String)).otherwise(result)
    return result


def score_levels(bins: int) -> tuple[int, int]:
    """(high, low) for ``bins``: a score is high when ≥ high, low when ≤ low (k = max(1, ⌊2·bins/5⌋) scores each).

    bins 2 → (2, 1); 3 → (3, 1); 4 → (4, 1); 5 → (4, 2); 6 → (5, 2); 10 → (7, 4).
    """
    _check_bins(bins)
    k = max(1, (2 * bins) // 5)
    return bins - k + 1, k


def segment_rules(bins: int = 5) -> tuple[SegmentRule, ...]:
    """The RFM segments for ``bins`` scores, in priority order (first match wins; the last is the catch-all)."""
    high, low = score_levels(bins)

    def rule(
        code: str, name_ja: str, name_en: str, lead_ja: str, lead_en: str, *conditions: Condition
    ) -> SegmentRule:
        if conditions:
            rule_ja = f"{lead_ja}：" + " かつ ".join(c.text(_MEASURE_NAMES, "ja") for c in conditions)
            rule_en = f"{lead_en}: " + " and ".join(c.text(_MEASURE_NAMES, "en") for c in conditions)
        else:
            rule_ja, rule_en = lead_ja, lead_en
        return SegmentRule(code, name_ja, name_en, rule_ja, rule_en, conditions)

    return (
        rule(
            "champions",
            "優良顧客",
            "Champions",
            "最近も買い、回数も金額も多い",
            "bought recently, often and for a lot",
            Condition("r", ">=", high),
            Condition("f", ">=", high),
            Condition("m", ">=", high),
        ),
        rule(
            "loyal",
            "ロイヤル顧客",
            "Loyal",
            "よく買い、離れていない",
            "buys often and has not lapsed",
            Condition("f", ">=", high),
            Condition("r", ">=", low + 1),
        ),
        rule(
            "new",
            "新規顧客",
            "New",
            "初めての購入が最近",
            "a first purchase, recently",
            Condition("frequency", "==", 1),
            Condition("r", ">=", high),
        ),
        rule(
            "promising",
            "有望顧客",
            "Promising",
            "最近買ったが、回数はまだ多くない",
            "bought recently, not yet often",
            Condition("r", ">=", high),
            Condition("f", "<=", high - 1),
        ),
        rule(
            "at_risk",
            "離反懸念",
            "At risk",
            "以前はよく買っていたが、最近は買っていない",
            "used to buy often, not recently",
            Condition("r", "<=", low),
            Condition("f", ">=", low + 1),
        ),
        rule(
            "hibernating",
            "休眠顧客",
            "Hibernating",
            "最後の購入が前で、回数も少ない",
            "last bought long ago, and rarely",
            Condition("r", "<=", low),
            Condition("f", "<=", low),
        ),
        rule("others", "一般顧客", "Others", "上のどれにも当てはまらない", "none of the above"),
    )


SEGMENT_RULES: tuple[SegmentRule, ...] = segment_rules(5)
SEGMENT_CODES: tuple[str, ...] = tuple(rule.code for rule in SEGMENT_RULES)


@dataclass(frozen=True)
class RfmThresholds:
    """The cut points used: bins − 1 ascending values per measure (see the module docstring for the intervals).
    ``recency_days`` is in days since the last purchase, where fewer days earn the higher R score."""

    recency_days: tuple[float, ...]
    frequency: tuple[float, ...]
    monetary: tuple[float, ...]


@dataclass(frozen=True)
class RfmResult:
    """``table``: one row per subject, sorted by subject — subject (String), recency_days, frequency (Int64),
    monetary (Float64), r, f, m (Int64, 1..bins), score (String: r, f and m written one after the other, "545";
    with bins = 10 joined by "-", "10-5-10"), segment (String: a code of ``rules``).
    ``thresholds``: the cut points used (empty tuples when the input was empty and none were given).
    ``counts``: subjects per segment code, every code present."""

    table: pl.DataFrame
    thresholds: RfmThresholds
    counts: dict[str, int]
    as_of: date
    bins: int = 5

    @property
    def rules(self) -> tuple[SegmentRule, ...]:
        return segment_rules(self.bins)


TABLE_SCHEMA: dict[str, type[pl.DataType]] = {
    "subject": pl.String,
    "recency_days": pl.Int64,
    "frequency": pl.Int64,
    "monetary": pl.Float64,
    "r": pl.Int64,
    "f": pl.Int64,
    "m": pl.Int64,
    "score": pl.String,
    "segment": pl.String,
}


def rfm(
    transactions: pl.DataFrame | pl.LazyFrame,
    *,
    as_of: date,
    bins: int = 5,
    thresholds: RfmThresholds | None = None,
) -> RfmResult:
    """RFM scores and segments of every subject with a purchase on or before ``as_of``.

    Raises ValidationFailed for ``bins`` outside 2..10, a missing column, an ``occurred_at`` that is not a Date
    or Datetime, or ``thresholds`` that do not hold bins − 1 ascending finite values per measure.
    """
    _check_bins(bins)
    if thresholds is not None:
        _check_thresholds(thresholds, bins)
    frame = transactions.lazy()
    schema = frame.collect_schema()
    dtype = check_columns(schema, REQUIRED_COLUMNS)
    if not (schema["amount"].is_numeric() or schema["amount"] == pl.Null):
        raise ValidationFailed(
            f"amount は数値の列にしてください（型: {schema['amount']}）。",
            f"amount must be a numeric column (got {schema['amount']}).",
            details={"dtype": str(schema["amount"])},
        )
    per_subject = (
        frame.filter(pl.col("subject").is_not_null() & on_or_before("occurred_at", dtype, as_of))
        .group_by("subject")
        .agg(
            pl.col("occurred_at").max().alias("_last"),
            pl.len().alias("frequency"),
            pl.col("amount").sum().alias("monetary"),
        )
        .select(
            pl.col("subject").cast(pl.String),
            (pl.lit(as_of) - business_day(pl.col("_last"), dtype))
            .dt.total_days()
            .cast(pl.Int64)
            .alias("recency_days"),
            pl.col("frequency").cast(pl.Int64),
            pl.col("monetary")
            .cast(pl.Float64)
            .fill_null(0.0),  # an all-null (Null-typed) column sums to null
        )
        .collect()
    )
    rules = segment_rules(bins)
    if per_subject.height == 0:
        empty = pl.DataFrame(schema=TABLE_SCHEMA)
        used = thresholds if thresholds is not None else RfmThresholds((), (), ())
        return RfmResult(empty, used, dict.fromkeys(SEGMENT_CODES, 0), as_of, bins)
    if thresholds is None:
        thresholds = RfmThresholds(
            recency_days=_cut_points(per_subject.get_column("recency_days"), bins),
            frequency=_cut_points(per_subject.get_column("frequency"), bins),
            monetary=_cut_points(per_subject.get_column("monetary"), bins),
        )
    separator = "-" if bins >= 10 else ""
    table = (
        per_subject.lazy()
        .with_columns(
            # r = 1 + #(cuts > recency) = bins - #(cuts <= recency); f, m = 1 + #(cuts < value)
            r=(
                bins - _cuts(thresholds.recency_days).search_sorted(pl.col("recency_days"), side="right")
            ).cast(pl.Int64),
            f=(1 + _cuts(thresholds.frequency).search_sorted(pl.col("frequency"), side="left")).cast(
                pl.Int64
            ),
            m=(1 + _cuts(thresholds.monetary).search_sorted(pl.col("monetary"), side="left")).cast(pl.Int64),
        )
        .with_columns(
            score=pl.concat_str([pl.col("r"), pl.col("f"), pl.col("m")], separator=separator),
            segment=segment_expr(rules),
        )
        .sort("subject")
        .collect()
    )
    found = table.get_column("segment").value_counts()
    counts = dict.fromkeys(SEGMENT_CODES, 0)
    counts.update(
        zip(found.get_column("segment").to_list(), found.get_column("count").to_list(), strict=True)
    )
    return RfmResult(table, thresholds, counts, as_of, bins)


# --- days ------------------------------------------------------------------------------------------------------


def on_or_before(column: str, dtype: pl.DataType, day: date) -> pl.Expr:
    """True where ``column`` (of type ``dtype``) falls on a business day ≤ ``day`` (false for null)."""
    if isinstance(dtype, pl.Datetime):
        return pl.col(column).to_physical() < _first_instant(day + timedelta(days=1), dtype)
    return pl.col(column) <= pl.lit(day)


def on_or_after(column: str, dtype: pl.DataType, day: date) -> pl.Expr:
    """True where ``column`` (of type ``dtype``) falls on a business day ≥ ``day`` (false for null)."""
    if isinstance(dtype, pl.Datetime):
        return pl.col(column).to_physical() >= _first_instant(day, dtype)
    return pl.col(column) >= pl.lit(day)


def _first_instant(day: date, dtype: pl.Datetime) -> int:
    """The stored (physical) value of the first instant of ``day``: a Datetime is compared on it, so no per-row
    time zone conversion is needed. Aware → midnight in Japan; naive → midnight as written (naive values count
    from 1970-01-01 00:00 as written, as UTC values do)."""
    zone = ZoneInfo(BUSINESS_TIME_ZONE) if dtype.time_zone is not None else UTC
    delta = datetime.combine(day, time(), tzinfo=zone) - datetime(1970, 1, 1, tzinfo=UTC)
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if dtype.time_unit == "ms":
        return micros // 1000
    if dtype.time_unit == "ns":
        return micros * 1000
    return micros


def business_day(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """The calendar day of ``expr`` (a Date or Datetime column of type ``dtype``) in Japan; see the module docs."""
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            expr = expr.dt.convert_time_zone(BUSINESS_TIME_ZONE)
        return expr.dt.date()
    return expr


# --- checks and cut points -------------------------------------------------------------------------------------


def check_columns(schema: pl.Schema, required: tuple[str, ...]) -> pl.DataType:
    """ValidationFailed unless every ``required`` column is present and ``occurred_at`` is a Date or Datetime;
    returns the type of ``occurred_at``."""
    missing = [name for name in required if name not in schema]
    if missing:
        raise ValidationFailed(
            f"必要な列がありません: {', '.join(missing)}（必要: {', '.join(required)}）。",
            f"Missing column(s): {', '.join(missing)} (required: {', '.join(required)}).",
            details={"missing": missing},
        )
    dtype = schema["occurred_at"]
    if not isinstance(dtype, pl.Datetime | pl.Date):
        raise ValidationFailed(
            f"occurred_at は日付または日時の列にしてください（型: {dtype}）。",
            f"occurred_at must be a Date or Datetime column (got {dtype}).",
            details={"dtype": str(dtype)},
        )
    return dtype


def _check_thresholds(thresholds: RfmThresholds, bins: int) -> None:
    for name in ("recency_days", "frequency", "monetary"):
        values = getattr(thresholds, name)
        if (
            len(values) != bins - 1
            or not all(np.isfinite(value) for value in values)
            or any(a > b for a, b in zip(values, values[1:], strict=False))
        ):
            raise ValidationFailed(
                f"しきい値 {name} は昇順の有限な数値 {bins - 1} 個にしてください（段階数 {bins}）。",
                f"Threshold {name} must hold {bins - 1} ascending finite numbers (bins = {bins}).",
                details={"measure": name, "bins": bins, "count": len(values)},
            )


def _cut_points(values: pl.Series, bins: int) -> tuple[float, ...]:
    """Quantiles at k/bins, k = 1 … bins − 1, linear interpolation (NumPy's default, type 7), rounded to
    ``CUT_DECIMALS`` places so floating-point noise (26.200000000000003) neither shows nor moves a tie."""
    levels = np.arange(1, bins) / bins
    cuts = np.quantile(values.to_numpy(), levels, method="linear")
    return tuple(round(float(cut), CUT_DECIMALS) for cut in cuts)


def _cuts(values: tuple[float, ...]) -> pl.Expr:
    return pl.lit(pl.Series("cuts", values, dtype=pl.Float64))
