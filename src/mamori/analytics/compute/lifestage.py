"""Age bands, life stages and behaviour segments (issue 24, deliverable 2). Pure Polars: no Context, no database.

**Age** is in completed years on ``as_of``: it goes up on the birthday itself, and a 29 February birthday is
reached on 1 March in common years (the day a year is complete under 年齢計算ニ関スル法律 and Civil Code art. 143
ends just before those days). A birth date after ``as_of`` has no age (None / null), nor has a missing one.

**Age bands** (``AGE_BANDS``): 10代以下 (0–19), 20代 … 60代, 70代以上 (70+). Values are the band codes; the tables
give the Japanese and English names.

**Life stages** (``LIFE_STAGES``) group the bands — our own grouping for marketing, documented here and in the
table: 若年層 (10代以下, 20代), 子育て・働き盛り (30代, 40代), 中高年 (50代), シニア (60代, 70代以上).

**Behaviour segments** (``BEHAVIOUR_RULES``) come from the activity kinds of the last ``window_days`` days
(``as_of`` − window_days < day ≤ ``as_of``; days are read as in ``compute.rfm``). Purchases, inquiries and calls
are the customer's own activity; a note is staff's memo about them, so notes are counted but never make someone
active. ``contacts`` = inquiries + calls. The rules are tested in order, the first that matches names the segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

import polars as pl

from mamori.analytics.compute.rfm import (
    Condition,
    SegmentRule,
    check_columns,
    on_or_after,
    on_or_before,
    segment_expr,
)
from mamori.kernel.errors import ValidationFailed

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


# --- age bands -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgeBand:
    """Ages ``min_age`` … ``max_age`` inclusive (None = no upper end)."""

    code: str
    name_ja: str
    name_en: str
    min_age: int
    max_age: int | None


AGE_BANDS: tuple[AgeBand, ...] = (
    AgeBand("under_20", "10代以下", "19 and under", 0, 19),
    AgeBand("20s", "20代", "20s", 20, 29),
    AgeBand("30s", "30代", "30s", 30, 39),
    AgeBand("40s", "40代", "40s", 40, 49),
    AgeBand("50s", "50代", "50s", 50, 59),
    AgeBand("60s", "60代", "60s", 60, 69),
    AgeBand("70_plus", "70代以上", "70 and over", 70, None),
)
AGE_BAND_CODES: tuple[str, ...] = tuple(band.code for band in AGE_BANDS)


def age(birth: date, as_of: date) -> int:
    """Completed years on ``as_of`` (negative when ``birth`` is after it)."""
    return as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))


def age_band(birth: date | None, as_of: date) -> str | None:
    """The code of the age band of someone born on ``birth``, on ``as_of``; None without a birth date or when
    it is after ``as_of``."""
    if birth is None:
        return None
    years = age(birth, as_of)
    for band in AGE_BANDS:
        if band.min_age <= years and (band.max_age is None or years <= band.max_age):
            return band.code
    return None


def age_expr(birth: pl.Expr, as_of: date) -> pl.Expr:
    """Completed years on ``as_of`` of a Date column (same reckoning as ``age``)."""
    before_birthday = (birth.dt.month().cast(pl.Int32) * 100 + birth.dt.day().cast(pl.Int32)) > (
        as_of.month * 100 + as_of.day
    )
    return (
        pl.lit(as_of.year, dtype=pl.Int32) - birth.dt.year().cast(pl.Int32) - before_birthday.cast(pl.Int32)
    ).cast(pl.Int64)


def age_band_expr(birth: pl.Expr, as_of: date) -> pl.Expr:
    """The age band code (String) of a Date column; null for a null birth or one after ``as_of``."""
    years = age_expr(birth, as_of)
    result = pl.lit(AGE_BANDS[-1].code, dtype=pl.String)
    for band in reversed(AGE_BANDS[:-1]):
        result = pl.when(years <= band.max_age).then(pl.lit(band.code, dtype=pl.String)).otherwise(result)
    return pl.when(years >= 0).then(result)


def with_age_band(df: FrameT, birth_col: str, as_of: date, *, name: str = "age_band") -> FrameT:
    """``df`` with an ``age_band`` column computed from ``birth_col`` (Date, Datetime — cut to its date as
    written — or an ISO ``YYYY-MM-DD`` string; an unparsable string gives null)."""
    dtype = df.collect_schema()[birth_col]
    birth = pl.col(birth_col)
    if isinstance(dtype, pl.Datetime):
        birth = birth.dt.date()
    elif dtype == pl.String:
        birth = birth.str.to_date("%Y-%m-%d", strict=False)
    elif not isinstance(dtype, pl.Date):
        raise ValidationFailed(
            f"生年月日の列 {birth_col} は日付・日時・文字列（YYYY-MM-DD）にしてください（型: {dtype}）。",
            f"The birth date column {birth_col} must be a Date, Datetime or YYYY-MM-DD string (got {dtype}).",
            details={"column": birth_col, "dtype": str(dtype)},
        )
    return df.with_columns(age_band_expr(birth, as_of).alias(name))


# --- life stages -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LifeStage:
    code: str
    name_ja: str
    name_en: str
    bands: tuple[str, ...]  # age band codes


LIFE_STAGES: tuple[LifeStage, ...] = (
    LifeStage("young", "若年層", "Young", ("under_20", "20s")),
    LifeStage("family_career", "子育て・働き盛り", "Family and career", ("30s", "40s")),
    LifeStage("middle_age", "中高年", "Middle age", ("50s",)),
    LifeStage("senior", "シニア", "Senior", ("60s", "70_plus")),
)
LIFE_STAGE_CODES: tuple[str, ...] = tuple(stage.code for stage in LIFE_STAGES)
_STAGE_OF_BAND: dict[str, str] = {band: stage.code for stage in LIFE_STAGES for band in stage.bands}


def life_stage(band: str) -> str:
    """The life stage code of an age band code; ValidationFailed for an unknown band."""
    try:
        return _STAGE_OF_BAND[band]
    except KeyError:
        raise ValidationFailed(
            f"年代 {band!r} は定義されていません（{', '.join(AGE_BAND_CODES)}）。",
            f"Unknown age band {band!r} (known: {', '.join(AGE_BAND_CODES)}).",
            details={"band": band},
        ) from None


def life_stage_expr(band: pl.Expr) -> pl.Expr:
    """The life stage code (String) of an age band code column; null for null or an unknown band."""
    return band.replace_strict(_STAGE_OF_BAND, default=None, return_dtype=pl.String)


def with_life_stage(df: FrameT, band_col: str = "age_band", *, name: str = "life_stage") -> FrameT:
    """``df`` with a ``life_stage`` column from the age band codes in ``band_col``."""
    return df.with_columns(life_stage_expr(pl.col(band_col)).alias(name))


# --- behaviour segments ----------------------------------------------------------------------------------------

ACTIVITY_KINDS: tuple[str, ...] = ("purchase", "inquiry", "call", "note")
# The count column of each kind in the behaviour table.
KIND_COLUMNS: dict[str, str] = {
    "purchase": "purchases",
    "inquiry": "inquiries",
    "call": "calls",
    "note": "notes",
}
DEFAULT_WINDOW_DAYS = 365

_COUNT_NAMES: dict[str, tuple[str, str]] = {
    "purchases": ("購入", "purchases"),
    "inquiries": ("問い合わせ", "inquiries"),
    "calls": ("通話", "calls"),
    "notes": ("メモ", "notes"),
    "contacts": ("問い合わせ＋通話", "inquiries + calls"),
    "active": ("購入＋問い合わせ＋通話", "purchases + inquiries + calls"),
}


def _behaviour_rule(
    code: str, name_ja: str, name_en: str, lead_ja: str, lead_en: str, *conditions: Condition
) -> SegmentRule:
    rule_ja = f"{lead_ja}：" + " かつ ".join(c.text(_COUNT_NAMES, "ja") for c in conditions)
    rule_en = f"{lead_en}: " + " and ".join(c.text(_COUNT_NAMES, "en") for c in conditions)
    return SegmentRule(code, name_ja, name_en, rule_ja, rule_en, conditions)


# In priority order; together they cover everyone (a subject is dormant or has active ≥ 1), and the last one is
# also the catch-all of ``segment_expr``.
BEHAVIOUR_RULES: tuple[SegmentRule, ...] = (
    _behaviour_rule(
        "dormant",
        "休眠",
        "Dormant",
        "期間内に本人の動きがない（メモのみも含む）",
        "no activity of their own in the window (notes alone included)",
        Condition("active", "==", 0),
    ),
    _behaviour_rule(
        "inquiry_only",
        "問い合わせのみ",
        "Inquiries only",
        "問い合わせ・通話はあるが購入がない",
        "inquiries or calls but no purchase",
        Condition("purchases", "==", 0),
        Condition("contacts", ">=", 1),
    ),
    _behaviour_rule(
        "inquiry_heavy",
        "問い合わせ多め",
        "Inquiry heavy",
        "購入もあるが、問い合わせ・通話のほうが多い",
        "buys, but contacts us more often than they buy",
        Condition("purchases", ">=", 1),
        Condition("contacts", ">", "purchases"),
    ),
    _behaviour_rule(
        "purchase_centred",
        "購入中心",
        "Purchase centred",
        "購入が問い合わせ・通話と同じかそれより多い",
        "purchases at least as many as inquiries and calls",
        Condition("purchases", ">=", 1),
        Condition("purchases", ">=", "contacts"),
    ),
)
BEHAVIOUR_CODES: tuple[str, ...] = tuple(rule.code for rule in BEHAVIOUR_RULES)

BEHAVIOUR_SCHEMA: dict[str, type[pl.DataType]] = {
    "subject": pl.String,
    "purchases": pl.Int64,
    "inquiries": pl.Int64,
    "calls": pl.Int64,
    "notes": pl.Int64,
    "contacts": pl.Int64,
    "active": pl.Int64,
    "segment": pl.String,
}


@dataclass(frozen=True)
class BehaviourResult:
    """``table``: one row per subject, sorted by subject, with the counts of each kind in the window (Int64:
    purchases, inquiries, calls, notes, contacts = inquiries + calls, active = purchases + contacts) and
    ``segment`` (a code of ``BEHAVIOUR_RULES``). ``counts``: subjects per segment code, every code present."""

    table: pl.DataFrame
    counts: dict[str, int]
    as_of: date
    window_days: int


def behaviour_segments(
    activities: pl.DataFrame | pl.LazyFrame,
    *,
    as_of: date,
    window_days: int = DEFAULT_WINDOW_DAYS,
    subjects: pl.Series | list[str] | None = None,
) -> BehaviourResult:
    """Behaviour segment of every subject with an activity on or before ``as_of`` (plus ``subjects``, who are
    dormant when they have none). ``activities``: ``subject``, ``kind`` (purchase / inquiry / call / note; other
    kinds are ignored), ``occurred_at`` (Date or Datetime). Activities after ``as_of`` are ignored entirely.
    """
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1:
        raise ValidationFailed(
            f"期間（window_days）は1以上の整数で指定してください（指定値: {window_days!r}）。",
            f"window_days must be a positive integer (got {window_days!r}).",
            details={"window_days": repr(window_days)},
        )
    frame = activities.lazy()
    dtype = check_columns(frame.collect_schema(), ("subject", "kind", "occurred_at"))
    in_window = on_or_after("occurred_at", dtype, as_of - timedelta(days=window_days - 1))
    kind = pl.col("kind").cast(pl.String)
    per_subject = (
        frame.filter(pl.col("subject").is_not_null() & on_or_before("occurred_at", dtype, as_of))
        .group_by("subject")
        .agg(
            *[
                ((kind == activity_kind) & in_window).sum().cast(pl.Int64).alias(column)
                for activity_kind, column in KIND_COLUMNS.items()
            ]
        )
        .with_columns(pl.col("subject").cast(pl.String))
    )
    if subjects is not None:
        everyone = pl.LazyFrame({"subject": pl.Series("subject", subjects, dtype=pl.String)}).unique()
        per_subject = everyone.join(per_subject, on="subject", how="full", coalesce=True).with_columns(
            pl.col(column).fill_null(0) for column in KIND_COLUMNS.values()
        )
    table = (
        per_subject.with_columns(contacts=pl.col("inquiries") + pl.col("calls"))
        .with_columns(active=pl.col("purchases") + pl.col("contacts"))
        .with_columns(segment=segment_expr(BEHAVIOUR_RULES))
        .select(list(BEHAVIOUR_SCHEMA))
        .sort("subject")
        .collect()
    )
    found = table.get_column("segment").value_counts()
    counts = dict.fromkeys(BEHAVIOUR_CODES, 0)
    counts.update(
        zip(found.get_column("segment").to_list(), found.get_column("count").to_list(), strict=True)
    )
    return BehaviourResult(table, counts, as_of, window_days)
