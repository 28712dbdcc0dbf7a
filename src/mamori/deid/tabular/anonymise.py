"""匿名加工情報 (anonymised information), R-43-1 … R-43-5: the whole pipeline around the lattice search.

規則34 standards (R-43-1) and what this pipeline does for each:
1. descriptions that identify a person — only the declared QIs, the sensitive attribute and explicitly kept
   columns are output; a kept or sensitive column that looks identifying is refused;
2. 個人識別符号 — likewise refused / removed (same classifier as pseudonymisation);
3. codes linking to the original data (ids, row order) — ids are never output and the rows are shuffled with a
   one-off processing key that is destroyed afterwards (R-43-2);
4. peculiar values — top/bottom coding in the hierarchies (e.g. age 116 → "90+") and suppression of records in
   classes that stay too small;
5. measures suited to the database — k-anonymity, l-diversity, t-closeness by optimal generalisation.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import polars as pl

from mamori.deid.tabular.engine import (
    Encoded,
    Evaluation,
    Metric,
    PrivacyModel,
    SearchResult,
    apply,
    encode,
    search,
    suppressed_records,
)
from mamori.deid.tabular.errors import DatasetError
from mamori.deid.tabular.hierarchy import Hierarchy
from mamori.deid.tabular.pseudonymise import KeySource, classify_columns
from mamori.deid.tabular.risk import (
    ClassSizes,
    Groups,
    RiskReport,
    assess_groups,
    groups_of,
    record_class_sizes,
)
from mamori.kernel.errors import PolicyDenied

KIND_JA = "匿名加工情報"
KIND_EN = "anonymised information"
RULES = ("R-43-1", "R-43-2", "R-43-3", "R-43-4", "R-43-5")

PROVISION_STATEMENT_JA = (
    "本データは、個人情報の保護に関する法律第43条第1項の規定に基づき作成された匿名加工情報です。"
    "受領者は、本データを作成に用いられた個人情報に係る本人を識別するために他の情報と照合してはならず、"
    "加工の方法に関する情報を取得してはなりません（同法第45条）。"
)
PROVISION_STATEMENT_EN = (
    "This data is anonymised information (匿名加工情報) created under Article 43(1) of the Act on the "
    "Protection of Personal Information. The recipient must not collate it with other information to identify "
    "the persons concerned, nor acquire information on the processing method (Article 45)."
)


@dataclass
class _RiskSource:
    """What the risk reports are computed from: the codes the search already has (no value is read again)."""

    qis: list[str]
    before: Groups
    after: Groups
    after_sizes: ClassSizes
    report: tuple[RiskReport, RiskReport] | None = None

    def reports(self) -> tuple[RiskReport, RiskReport]:
        if self.report is None:
            before = assess_groups(self.before, self.qis)
            after = (
                assess_groups(self.after, self.qis, sizes=self.after_sizes) if self.after.records else before
            )
            self.report = (before, after)
        return self.report


@dataclass
class AnonymisationResult:
    """The output and what to publish with it. ``risk_before`` / ``risk_after`` are computed on first use (from
    the search's integer codes), so a run that only needs the output does not pay for them."""

    data: pl.DataFrame
    node: dict[str, int]
    search: SearchResult
    metrics: dict[str, float | str]
    suppressed: int
    published_items: list[dict[str, str]]
    provision_statement_ja: str
    provision_statement_en: str
    destroyed_keys: list[str]
    standards: dict[str, str]
    seconds: dict[str, float] = field(default_factory=dict)
    created_at: str = ""
    _risk: _RiskSource | None = field(default=None, repr=False)

    def _reports(self) -> tuple[RiskReport, RiskReport]:
        assert self._risk is not None
        fresh = self._risk.report is None
        t0 = time.perf_counter()
        reports = self._risk.reports()
        if fresh:
            self.seconds["risk"] = time.perf_counter() - t0
            self.seconds["total"] += self.seconds["risk"]
        return reports

    @property
    def risk_computed(self) -> bool:
        return self._risk is not None and self._risk.report is not None

    @property
    def risk_before(self) -> RiskReport:
        return self._reports()[0]

    @property
    def risk_after(self) -> RiskReport:
        return self._reports()[1]


def _refuse_identifying(df: pl.DataFrame, columns: Sequence[str]) -> None:
    plan = classify_columns(df.select(list(columns)), id_columns=())
    bad = [*plan.identifying, *plan.addresses, *plan.identification_codes, *plan.payment, *plan.ids]
    if bad:
        raise PolicyDenied(
            "識別情報・個人識別符号・決済情報・ID の列は匿名加工情報に含められません。",
            "identifying, identification-code, payment or id columns cannot be part of anonymised data",
            rule_id="R-43-1",
            details={"columns": bad},
        )


def metrics_for(
    enc: Encoded, best: Evaluation, out_sizes: npt.NDArray[np.int64], n: int, k: int, metric: Metric
) -> dict[str, float | str]:
    """The minimised metric and the others reported alongside (over the input records; suppressed records count
    as fully generalised for loss/precision and as N each for discernibility)."""
    kept = int(out_sizes.size)
    classes = float(np.sum(1.0 / out_sizes)) if kept else 0.0
    prec = sum(lev / h if h else 0.0 for lev, h in zip(best.node, enc.heights, strict=True)) / len(
        enc.heights
    )
    prec = (prec * (n - best.suppressed) + best.suppressed) / n
    return {
        "objective": metric,
        "objective_value": best.loss,
        "precision_loss": prec,
        "discernibility": float(np.sum(out_sizes.astype(np.float64))) + float(best.suppressed) * n,
        "avg_class_size": kept / classes if classes else 0.0,
        "c_avg": (kept / classes / k) if classes else 0.0,
        "suppressed_share": best.suppressed / n,
    }


def _groups_before(work: pl.DataFrame, enc: Encoded) -> Groups:
    """The input's classes from the encoding's base codes (one per distinct original value). The encoding reads a
    missing value as ""; the risk report keeps them apart, so a QI holding both is coded from its values."""
    for q in enc.qis:
        col = work[q]
        if col.null_count() and bool((col.cast(pl.String) == "").any()):
            return groups_of(work, enc.qis)
    return Groups(list(enc.base), [len(g[0]) for g in enc.gen], enc.row_of_record)


def anonymise(
    df: pl.DataFrame,
    qis: Sequence[str],
    hierarchies: Mapping[str, Hierarchy],
    model: PrivacyModel,
    *,
    keys: KeySource,
    sensitive: str | None = None,
    sensitive_hierarchy: Hierarchy | None = None,
    metric: Metric = "loss",
    keep: Sequence[str] = (),
    keep_suppressed: bool = False,
    run_id: str | None = None,
) -> AnonymisationResult:
    t0 = time.perf_counter()
    for c in [*qis, *([sensitive] if sensitive else []), *keep]:
        if c not in df.columns:
            raise DatasetError(f"列 {c} がありません。", f"column {c} does not exist", details={"column": c})
    _refuse_identifying(df, [*keep, *([sensitive] if sensitive else [])])
    columns = [
        *qis,
        *([sensitive] if sensitive else []),
        *[c for c in keep if c not in qis and c != sensitive],
    ]
    work = df.select([pl.col(c) for c in columns])
    enc = encode(
        work, qis, hierarchies, sensitive=sensitive, sensitive_hierarchy=sensitive_hierarchy, metric=metric
    )
    t_enc = time.perf_counter()
    result = search(enc, model)
    t_search = time.perf_counter()
    suppressed = suppressed_records(enc, model, result.best.node)
    kept = np.arange(enc.n, dtype=np.int64) if keep_suppressed else np.flatnonzero(~suppressed)
    # R-43-1 standard 3 / R-43-2: shuffle with a one-off processing key so row order links nothing, then destroy it.
    key_name = f"deid.anonymise.{run_id or datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}"
    seed = int.from_bytes(keys.system_key(key_name)[:8], "big")
    perm = np.random.default_rng(seed).permutation(len(kept))
    keys.destroy_system_key(key_name)
    order = kept[perm]  # the output's records, as input record indices
    out, _ = apply(
        work.select(columns),
        enc,
        model,
        result.best.node,
        keep_suppressed=keep_suppressed,
        order=order,
        suppressed=suppressed,
    )
    t_apply = time.perf_counter()
    # The released records (not suppressed) in output order.
    released = order[~suppressed[order]] if keep_suppressed else order
    node_levels = result.best.node
    after = Groups(
        [enc.row_codes[q][lev] for q, lev in enumerate(node_levels)],
        [enc.cards[q][lev] for q, lev in enumerate(node_levels)],
        enc.row_of_record[released],
    )
    after_sizes = record_class_sizes(after)
    metrics = metrics_for(enc, result.best, after_sizes.record, enc.n, model.k, metric)
    if metric == "loss":
        metrics["loss"] = result.best.loss
    elif metric == "arx-loss":
        metrics["arx_loss"] = result.best.loss
    node = dict(zip(qis, result.best.node, strict=True))
    published = [
        {"item": c, "role": "quasi-identifier", "processing": f"generalised to hierarchy level {node[c]}"}
        for c in qis
    ]
    if sensitive:
        published.append({"item": sensitive, "role": "sensitive", "processing": "unchanged"})
    published += [{"item": c, "role": "insensitive", "processing": "unchanged"} for c in keep]
    standards = {
        "1": "識別できる記述の削除: 準識別子・機微属性・明示した列以外は出力しない",
        "2": "個人識別符号の削除: 該当列は拒否・削除",
        "3": "連結符号の削除: ID は出力せず、行順は破棄した鍵でシャッフル",
        "4": f"特異な記述の削除: 階層のトップ/ボトムコーディングと {result.best.suppressed} 件の抑制",
        "5": f"k={model.k}"
        + (f", l={model.l} ({model.l_kind})" if model.l else "")
        + (f", t={model.t} ({model.t_distance})" if model.t is not None else "")
        + f", 抑制上限 {model.suppression:.1%}",
    }
    return AnonymisationResult(
        data=out,
        node=node,
        search=result,
        metrics=metrics,
        suppressed=int(suppressed.sum()),
        published_items=published,
        provision_statement_ja=PROVISION_STATEMENT_JA,
        provision_statement_en=PROVISION_STATEMENT_EN,
        destroyed_keys=[key_name],
        standards=standards,
        seconds={
            "encode": t_enc - t0,
            "search": t_search - t_enc,
            "apply": t_apply - t_search,
            "total": time.perf_counter() - t0,
        },
        created_at=datetime.now(UTC).isoformat(),
        _risk=_RiskSource(list(qis), _groups_before(work, enc), after, after_sizes),
    )
