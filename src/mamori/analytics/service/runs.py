"""Analysis runs (issue 24, items 1–3): RFM, life stage, behaviour segments, lifetime value and churn, on either
lawful path (:mod:`mamori.analytics.service.frames`).

Every run is recorded (``analytics_runs``: kind, path, purpose, parameters, a summary of aggregates, rows in,
subjects, people left out by reason) and audited: on the personal path as a read of the people analysed (their ids,
the fields read, the masks; never a value), on the 仮名加工情報 path as an entry naming the dataset and the counts.
The per-person result comes back under pseudonyms only and is not stored — except as the members of a segment the
caller asks to save (``save_as``), see :mod:`mamori.analytics.service.segments`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from mamori.analytics import run_queries as queries
from mamori.analytics.models import PERSONAL, AnalyticsRun
from mamori.analytics.permissions import ANALYTICS_PSEUDONYMISED, ANALYTICS_RUN, ANALYTICS_SEGMENTS
from mamori.analytics.schemas import KIND_LABELS, MAX_ROWS, PATH_LABELS, RunRead
from mamori.analytics.service.frames import AnalysisData, DatasetColumns, dataset, personal
from mamori.kernel.auditing import record_info, record_read
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import NotFound, ValidationFailed
from mamori.kernel.policy import Resource, decide

RUN_FIELDS = ("birth_date", "gender", "activities")  # what the personal path reads (audited as fields)


@dataclass(frozen=True)
class Source:
    """Where a run's data comes from: the personal path (``dataset`` None) or a 仮名加工情報 file."""

    dataset: Path | None = None
    columns: DatasetColumns | None = None
    join: tuple[Path, ...] = ()

    @property
    def personal(self) -> bool:
        return self.dataset is None


@dataclass(frozen=True)
class RunOutcome:
    run: RunRead
    table: pl.DataFrame  # one row per pseudonym (or per group for life stage / behaviour)
    data: AnalysisData  # what was analysed (in memory only; for saving a segment)
    segments: dict[str, pl.Series]  # segment code -> the pseudonyms in it (what a segment can be saved from)


def load(ctx: Context, source: Source, *, as_of: date | None = None) -> AnalysisData:
    if source.personal:
        return personal(ctx, as_of=as_of)
    assert source.dataset is not None
    return dataset(ctx, source.dataset, columns=source.columns, join=source.join, as_of=as_of)


def _record(
    ctx: Context,
    kind: str,
    data: AnalysisData,
    params: dict[str, Any],
    summary: dict[str, Any],
    started: float,
) -> RunRead:
    """Store the run and audit it (see the module docstring)."""
    seconds = round(time.monotonic() - started, 3)
    row = AnalyticsRun(
        id=new_id(),
        kind=kind,
        path=data.path,
        purpose_code=data.purpose,
        purpose_version=data.purpose_version,
        dataset_id=data.dataset_id,
        params=json.dumps(params, ensure_ascii=False, sort_keys=True, default=str),
        summary=json.dumps(summary, ensure_ascii=False, sort_keys=True, default=str),
        rows_in=data.rows_in,
        subjects=data.subjects,
        left_out=json.dumps(dict(data.excluded), sort_keys=True),
        seconds=seconds,
        created_by=ctx.actor.label,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    details: dict[str, str | int | bool | None] = {
        "run_id": row.id,
        "kind": kind,
        "path": data.path,
        "rows_in": row.rows_in,
        "subjects": row.subjects,
    }
    if data.path == PERSONAL:
        details["considered"] = data.considered
        details.update({f"excluded_{code}": n for code, n in data.excluded.items()})
        record_read(
            ctx,
            ANALYTICS_RUN,
            sorted(data.customer_of.values()),
            RUN_FIELDS,
            masked=data.masked,
            details=details,
        )
    else:
        details["dataset_id"] = data.dataset_id
        details["file"] = data.dataset_file
        record_info(ctx, str(ANALYTICS_PSEUDONYMISED), (), details)
    return to_read(row, ctx.lang)


def to_read(row: AnalyticsRun, lang: str = "ja") -> RunRead:
    en = lang == "en"
    return RunRead(
        id=row.id,
        kind=row.kind,
        kind_ja=KIND_LABELS[row.kind][1 if en else 0],
        path=row.path,
        path_ja=PATH_LABELS[row.path][1 if en else 0],
        purpose=row.purpose_code,
        purpose_version=row.purpose_version,
        dataset_id=row.dataset_id,
        params=json.loads(row.params),
        summary=json.loads(row.summary),
        rows_in=row.rows_in,
        subjects=row.subjects,
        left_out=json.loads(row.left_out or "{}"),
        seconds=row.seconds,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _num(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _need_purchases(data: AnalysisData) -> None:
    if data.transactions.height == 0:
        raise ValidationFailed(
            "分析できる購入履歴がありません（対象者がいないか、利用目的が行動履歴を含みません）。",
            "There is no purchase history to analyse (no one is covered, or the purpose does not cover behaviour).",
            code="no_data",
            details={"considered": data.considered, **data.excluded},
        )


def _segments_of(table: pl.DataFrame, column: str) -> dict[str, pl.Series]:
    return {
        str(code): group.get_column("subject")
        for (code,), group in table.group_by(column, maintain_order=True)
        if code is not None
    }


# -- RFM -------------------------------------------------------------------------------------------------------


def rfm(ctx: Context, source: Source, *, as_of: date | None = None, bins: int = 5) -> RunOutcome:
    """RFM scores and named segments with the thresholds used (issue 24 item 2)."""
    from mamori.analytics.compute import rfm as rfm_compute

    started = time.monotonic()
    data = load(ctx, source, as_of=as_of)
    _need_purchases(data)
    result = rfm_compute.rfm(data.transactions, as_of=data.as_of, bins=bins)
    rules = {r.code: r for r in result.rules}
    summary = {
        "as_of": data.as_of.isoformat(),
        "bins": bins,
        "thresholds": {
            "recency_days": list(result.thresholds.recency_days),
            "frequency": list(result.thresholds.frequency),
            "monetary": list(result.thresholds.monetary),
        },
        "segments": [
            {
                "code": code,
                "name_ja": rules[code].name_ja,
                "name_en": rules[code].name_en,
                "rule_ja": rules[code].rule_ja,
                "rule_en": rules[code].rule_en,
                "count": result.counts.get(code, 0),
            }
            for code in rules
        ],
        "purchases": data.transactions.height,
        "revenue_yen": int(data.transactions.get_column("amount").sum() or 0),
    }
    run = _record(ctx, "rfm", data, {"as_of": data.as_of.isoformat(), "bins": bins}, summary, started)
    return RunOutcome(run, result.table, data, _segments_of(result.table, "segment"))


# -- life stage and behaviour -----------------------------------------------------------------------------------


def lifestage(ctx: Context, source: Source, *, as_of: date | None = None) -> RunOutcome:
    """People per age band and life stage (from the birth date, as the analytics notice says: 年代として)."""
    from mamori.analytics.compute import lifestage as ls

    started = time.monotonic()
    data = load(ctx, source, as_of=as_of)
    people = data.people
    if people.height == 0 or people.get_column("age_band").null_count() == people.height:
        raise ValidationFailed(
            "年代が分かる対象者がいません（利用目的が生年月日（属性）を含まないか、データにありません）。",
            "No one's age band is known (the purpose does not cover the birth date, or the data has none).",
            code="no_data",
        )
    table = ls.with_life_stage(people, "age_band")
    by_band = dict(table.group_by("age_band").len().iter_rows())
    by_stage = dict(table.group_by("life_stage").len().iter_rows())
    summary = {
        "as_of": data.as_of.isoformat(),
        "bands": [
            {"code": b.code, "name_ja": b.name_ja, "name_en": b.name_en, "count": int(by_band.get(b.code, 0))}
            for b in ls.AGE_BANDS
        ],
        "segments": [
            {
                "code": st.code,
                "name_ja": st.name_ja,
                "name_en": st.name_en,
                "rule_ja": "・".join(next(b.name_ja for b in ls.AGE_BANDS if b.code == c) for c in st.bands),
                "rule_en": ", ".join(next(b.name_en for b in ls.AGE_BANDS if b.code == c) for c in st.bands),
                "count": int(by_stage.get(st.code, 0)),
            }
            for st in ls.LIFE_STAGES
        ],
        "unknown": int(people.get_column("age_band").null_count()),
    }
    run = _record(ctx, "lifestage", data, {"as_of": data.as_of.isoformat()}, summary, started)
    out = table.select("subject", "age_band", "life_stage")
    return RunOutcome(run, out, data, _segments_of(out, "life_stage"))


def behaviour(
    ctx: Context, source: Source, *, as_of: date | None = None, window_days: int = 365
) -> RunOutcome:
    """Behaviour segments from the kinds of activity in the last ``window_days``."""
    from mamori.analytics.compute import lifestage as ls

    started = time.monotonic()
    data = load(ctx, source, as_of=as_of)
    if data.activities.height == 0:
        _need_purchases(data)
    result = ls.behaviour_segments(
        data.activities, as_of=data.as_of, window_days=window_days, subjects=data.people.get_column("subject")
    )
    summary = {
        "as_of": data.as_of.isoformat(),
        "window_days": window_days,
        "segments": [
            {
                "code": r.code,
                "name_ja": r.name_ja,
                "name_en": r.name_en,
                "rule_ja": r.rule_ja,
                "rule_en": r.rule_en,
                "count": int(result.counts.get(r.code, 0)),
            }
            for r in ls.BEHAVIOUR_RULES
        ],
    }
    params = {"as_of": data.as_of.isoformat(), "window_days": window_days}
    run = _record(ctx, "behaviour", data, params, summary, started)
    return RunOutcome(run, result.table, data, _segments_of(result.table, "segment"))


# -- lifetime value ----------------------------------------------------------------------------------------------

CLV_BANDS = (("high", "高", "high"), ("middle", "中", "middle"), ("low", "低", "low"))


def clv(
    ctx: Context,
    source: Source,
    *,
    as_of: date | None = None,
    horizon_days: int = 365,
    annual_discount: float = 0.08,
) -> RunOutcome:
    """BG/NBD + Gamma-Gamma (pymc-marketing, ADR 0024): each pseudonym's probability of being alive, expected
    purchases and discounted value over the horizon; the fitted parameters in the summary."""
    from mamori.analytics.compute import clv as clv_compute

    started = time.monotonic()
    data = load(ctx, source, as_of=as_of)
    _need_purchases(data)
    summary_frame = clv_compute.rfm_summary(data.transactions, as_of=data.as_of)
    model = clv_compute.fit(summary_frame)
    table = clv_compute.predict(
        model, summary_frame, horizon_days=horizon_days, annual_discount=annual_discount
    ).with_columns(pl.col("clv").fill_nan(None))  # a value the model could not give is unknown, not "high"
    table = table.sort("clv", descending=True, nulls_last=True)
    values = table.get_column("clv").drop_nulls()
    q = [float(values.quantile(x) or 0) for x in (0.1, 0.25, 0.5, 0.75, 0.9)] if values.len() else []
    # value bands by thirds of the CLV (what a segment can be saved from)
    if values.len():
        lo, hi = float(values.quantile(1 / 3) or 0), float(values.quantile(2 / 3) or 0)
        table = table.with_columns(
            pl.when(pl.col("clv") >= hi)
            .then(pl.lit("high"))
            .when(pl.col("clv") >= lo)
            .then(pl.lit("middle"))
            .otherwise(pl.lit("low"))
            .alias("band")
        )
    else:
        lo = hi = 0.0
        table = table.with_columns(pl.lit(None, pl.String).alias("band"))
    summary = {
        "as_of": data.as_of.isoformat(),
        "horizon_days": horizon_days,
        "annual_discount": annual_discount,
        "model": model.to_dict(),
        "mean_clv": _num(values.mean()) if values.len() else None,
        "total_clv": _num(values.sum()) if values.len() else None,
        "mean_p_alive": _num(table.get_column("p_alive").mean()),
        "quantiles": dict(zip(("p10", "p25", "p50", "p75", "p90"), q, strict=False)),
        "bands": [
            {"code": c, "name_ja": ja, "name_en": en, "count": int((table.get_column("band") == c).sum())}
            for c, ja, en in CLV_BANDS
        ],
        "band_thresholds": [lo, hi],
    }
    params = {
        "as_of": data.as_of.isoformat(),
        "horizon_days": horizon_days,
        "annual_discount": annual_discount,
    }
    run = _record(ctx, "clv", data, params, summary, started)
    return RunOutcome(run, table, data, _segments_of(table, "band"))


# -- churn ------------------------------------------------------------------------------------------------------

CHURN_BANDS = (
    ("high", "高リスク", "high risk"),
    ("middle", "中リスク", "medium risk"),
    ("low", "低リスク", "low risk"),
)


def churn(ctx: Context, source: Source, *, as_of: date | None = None, horizon_days: int = 180) -> RunOutcome:
    """Churn probability (scikit-learn, validated on a time split) with its metrics, the features that drive it
    (permutation importance, and the top three per person) and a fairness report across gender and age band
    (fairlearn) — gender and age band are never features (要配慮 data never reaches the model at all)."""
    from mamori.analytics.compute import churn as churn_compute
    from mamori.analytics.compute import fairness

    started = time.monotonic()
    data = load(ctx, source, as_of=as_of)
    _need_purchases(data)
    model = churn_compute.train(
        data.transactions, data.activities, as_of=data.as_of, horizon_days=horizon_days
    )
    predicted = churn_compute.predict(model, data.transactions, data.activities, as_of=data.as_of)
    predicted = predicted.with_columns(
        pl.when(pl.col("churn_probability") >= 0.6)
        .then(pl.lit("high"))
        .when(pl.col("churn_probability") >= 0.3)
        .then(pl.lit("middle"))
        .otherwise(pl.lit("low"))
        .alias("band")
    ).sort("churn_probability", descending=True)
    # the fairness report is measured where the outcome is known: the test snapshot of the time split
    judged = model.test_predictions.join(
        data.people.select("subject", "gender", "age_band"), on="subject", how="left"
    )
    groups: dict[str, Sequence[str | None]] = {}
    for column in ("gender", "age_band"):
        values = judged.get_column(column)
        if values.null_count() < values.len():
            groups[column] = values.to_list()
    report = (
        fairness.fairness_report(
            judged.get_column("churned").to_numpy(),
            judged.get_column("churn_probability").to_numpy(),
            groups,
            threshold=0.5,
        )
        if groups and judged.height
        else None
    )
    m = model.metrics
    summary = {
        "as_of": data.as_of.isoformat(),
        "horizon_days": horizon_days,
        "train_cutoff": model.train_cutoff.isoformat(),
        "test_cutoff": model.test_cutoff.isoformat(),
        "metrics": {
            "auc": m.auc,
            "base_rate": m.base_rate,
            "brier": m.brier,
            "brier_base_rate": m.brier_base_rate,
            "log_loss": m.log_loss,
            "n_train": m.n_train,
            "n_test": m.n_test,
            "train_base_rate": m.train_base_rate,
        },
        "calibration": [list(b) for b in m.calibration],
        "importance": [
            {
                "feature": i.feature,
                "label_ja": churn_compute.feature_label(i.feature, "ja"),
                "label_en": churn_compute.feature_label(i.feature, "en"),
                "mean": i.mean,
                "std": i.std,
            }
            for i in model.importance
        ],
        "fairness": _fairness_summary(report),
        "fairness_skipped": None
        if report is not None
        else "性別・年代が分からないため（利用目的が属性を含まない、またはデータにない）",
        "bands": [
            {"code": c, "name_ja": ja, "name_en": en, "count": int((predicted.get_column("band") == c).sum())}
            for c, ja, en in CHURN_BANDS
        ],
        "features": list(model.feature_names),
    }
    params = {"as_of": data.as_of.isoformat(), "horizon_days": horizon_days}
    run = _record(ctx, "churn", data, params, summary, started)
    return RunOutcome(run, predicted, data, _segments_of(predicted, "band"))


def _fairness_summary(report: Any) -> dict[str, Any] | None:
    if report is None:
        return None
    import dataclasses

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {k: plain(v) for k, v in dataclasses.asdict(value).items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        return value

    return plain(report)  # type: ignore[no-any-return]


# -- reading runs ----------------------------------------------------------------------------------------------


def _may_read_runs(ctx: Context) -> None:
    from mamori.kernel.auditing import record_denial

    run_ok = decide(ctx, ANALYTICS_SEGMENTS, Resource(kind="analytics_run"))
    if not run_ok.allowed:
        record_denial(ctx, "analytics.runs", (), run_ok)
        run_ok.raise_if_denied()


def list_runs(ctx: Context, *, kind: str | None = None, limit: int = 50) -> list[RunRead]:
    """Past runs, newest first (aggregates only). Analysts and the privacy officer."""
    _may_read_runs(ctx)
    if kind is not None and kind not in KIND_LABELS:
        raise ValidationFailed(
            "種類は rfm / lifestage / behaviour / clv / churn です。",
            "kind is rfm, lifestage, behaviour, clv or churn.",
            code="bad_kind",
        )
    if not 1 <= limit <= 500:
        raise ValidationFailed("件数は 1〜500 です。", "limit is 1 to 500.", code="bad_limit")
    rows = ctx.session.execute(queries.runs(kind, limit)).scalars().all()
    return [to_read(r, ctx.lang) for r in rows]


def get_run(ctx: Context, run_id: str) -> RunRead:
    _may_read_runs(ctx)
    row = ctx.session.get(AnalyticsRun, run_id)
    if row is None:
        raise NotFound("分析の実行記録が見つかりません。", "No such analysis run.")
    return to_read(row, ctx.lang)


def table_rows(table: pl.DataFrame, limit: int = MAX_ROWS) -> tuple[list[str], list[list[Any]]]:
    """A result table as plain rows (at most ``limit``) for JSON, a page or a CSV."""
    head = table.head(max(0, min(limit, MAX_ROWS)))
    return head.columns, [list(r) for r in head.iter_rows()]


RUNNERS: dict[str, Callable[..., RunOutcome]] = {
    "rfm": rfm,
    "lifestage": lifestage,
    "behaviour": behaviour,
    "clv": clv,
    "churn": churn,
}
