"""Re-identification risk of a table under its quasi-identifiers (QIs).

Formulas (f_j = records of equivalence class j in the sample, F_j = its size in the population, N = records):

* prosecutor (the attacker knows the person is in the data): record risk 1/f_j; reported as the maximum and
  the average over records (the average equals #classes / N);
* journalist (the attacker does not know whether the person is in the data): record risk 1/F_j with a population
  table; without one, F_j ≥ f_j so the prosecutor figures are reported as an upper bound;
* marketer (re-identify as many as possible): (1/N) Σ_j f_j / F_j, i.e. #classes / N without a population;
* sample uniques: records alone in their class (f_j = 1), count and share;
* records at risk: share of records with risk above the threshold (default 0.2 = classes smaller than 5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations

import numpy as np
import numpy.typing as npt
import polars as pl

from mamori.deid.tabular.errors import DatasetError

HISTOGRAM_EDGES = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.34, 0.5, 1.0)


@dataclass
class RiskReport:
    records: int
    classes: int
    prosecutor_max: float
    prosecutor_avg: float
    journalist_max: float
    journalist_avg: float
    journalist_basis: str  # "population" or "prosecutor_upper_bound"
    marketer: float
    sample_uniques: int
    sample_uniques_share: float
    threshold: float
    records_at_risk_share: float
    histogram_edges: list[float]
    histogram_counts: list[int]
    highest_risk_rows: list[int]  # row indices only, never values
    unique_combinations: list[dict[str, object]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _column_codes(df: pl.DataFrame, cols: Sequence[str]) -> list[tuple[npt.NDArray[np.int64], int]]:
    out = []
    for c in cols:
        codes = df[c].cast(pl.String).fill_null("\x00").rank("dense").to_numpy().astype(np.int64) - 1
        out.append((codes, int(codes.max()) + 1 if len(codes) else 1))
    return out


def _combine(parts: Sequence[tuple[npt.NDArray[np.int64], int]]) -> npt.NDArray[np.int64]:
    key = np.zeros(len(parts[0][0]), dtype=np.int64)
    size = 1
    for codes, card in parts:
        if size * card >= 1 << 40:
            _, inv = np.unique(key, return_inverse=True)
            key = inv.reshape(-1).astype(np.int64)
            size = int(key.max()) + 1
        key = key * card + codes
        size *= card
    return key


def _counts(key: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(class index of each row, size of each class)."""
    _, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
    return inv.reshape(-1).astype(np.int64), counts.astype(np.int64)


def _key(df: pl.DataFrame, cols: Sequence[str]) -> npt.NDArray[np.int64]:
    """One int64 class key per row for the given columns (dense codes per column, combined)."""
    return _combine(_column_codes(df, cols))


def class_sizes(df: pl.DataFrame, qis: Sequence[str]) -> npt.NDArray[np.int64]:
    """Size of the equivalence class of every row."""
    key = _key(df, qis)
    _, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
    return counts[inv.reshape(-1)].astype(np.int64)


def assess(
    df: pl.DataFrame,
    qis: Sequence[str],
    *,
    population: pl.DataFrame | None = None,
    threshold: float = 0.2,
    top: int = 20,
    max_combination: int = 3,
) -> RiskReport:
    """Risk figures for ``df`` under ``qis``. ``population`` has the QI columns and a ``count`` column."""
    for c in qis:
        if c not in df.columns:
            raise DatasetError(f"列 {c} がありません。", f"column {c} does not exist", details={"column": c})
    if not qis:
        raise DatasetError(
            "準識別子 (--qi) を1つ以上指定してください。", "give at least one quasi-identifier (--qi)"
        )
    n = df.height
    if n == 0:
        raise DatasetError("データが空です。", "the dataset is empty")
    parts = _column_codes(df, qis)
    inv, counts = _counts(_combine(parts))
    f = counts[inv]
    rec = 1.0 / f
    classes = len(counts)
    if population is not None:
        if "count" not in population.columns or any(c not in population.columns for c in qis):
            raise DatasetError(
                "母集団表には準識別子の列と count 列が必要です。",
                "the population table needs the QI columns and a count column",
            )
        pop = population.select([pl.col(c).cast(pl.String) for c in qis] + [pl.col("count").cast(pl.Int64)])
        joined = (
            df.select([pl.col(c).cast(pl.String) for c in qis])
            .with_row_index("_row")
            .join(pop, on=list(qis), how="left")
            .sort("_row")
        )
        big_f = joined["count"].fill_null(0).to_numpy().astype(np.float64)
        big_f = np.maximum(big_f, f)  # a population class is never smaller than the sample class
        jr = 1.0 / big_f
        journalist_max, journalist_avg, basis = float(jr.max()), float(jr.mean()), "population"
        marketer = float(np.sum(jr) / n)  # (1/N) Σ_j f_j / F_j
    else:
        journalist_max, journalist_avg, basis = float(rec.max()), float(rec.mean()), "prosecutor_upper_bound"
        marketer = classes / n
    uniques = int(np.sum(f == 1))
    counts, _ = np.histogram(rec, bins=np.array(HISTOGRAM_EDGES))
    order = np.argsort(-rec, kind="stable")[: min(top, n)]
    combos: list[dict[str, object]] = []
    sizes = range(1, min(max_combination, len(qis)) + 1)
    subsets = [list(s) for r in sizes for s in combinations(qis, r)]
    if len(qis) > max_combination:
        subsets.append(list(qis))
    index = {c: i for i, c in enumerate(qis)}
    for subset in subsets:
        key = _combine([parts[index[c]] for c in subset])
        span = int(key.max()) + 1
        cnt = (
            np.bincount(key, minlength=span)
            if span <= 8 * n + 1024
            else np.unique(key, return_counts=True)[1]
        )
        combos.append({"qis": subset, "unique_records": int(np.sum(cnt == 1))})
    return RiskReport(
        records=n,
        classes=classes,
        prosecutor_max=float(rec.max()),
        prosecutor_avg=float(rec.mean()),
        journalist_max=journalist_max,
        journalist_avg=journalist_avg,
        journalist_basis=basis,
        marketer=marketer,
        sample_uniques=uniques,
        sample_uniques_share=uniques / n,
        threshold=threshold,
        records_at_risk_share=float(np.mean(rec > threshold)),
        histogram_edges=list(HISTOGRAM_EDGES),
        histogram_counts=[int(c) for c in counts],
        highest_risk_rows=[int(i) for i in order],
        unique_combinations=combos,
    )
