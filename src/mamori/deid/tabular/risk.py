"""Re-identification risk of a table under its quasi-identifiers (QIs).

Formulas (f_j = records of equivalence class j in the sample, F_j = its size in the population, N = records):

* prosecutor (the attacker knows the person is in the data): record risk 1/f_j; reported as the maximum and
  the average over records (the average equals #classes / N);
* journalist (the attacker does not know whether the person is in the data): record risk 1/F_j with a population
  table; without one, F_j ≥ f_j so the prosecutor figures are reported as an upper bound;
* marketer (re-identify as many as possible): (1/N) Σ_j f_j / F_j, i.e. #classes / N without a population;
* sample uniques: records alone in their class (f_j = 1), count and share;
* records at risk: share of records with risk above the threshold (default 0.2 = classes smaller than 5).

Everything is computed on integer codes of the table's distinct QI rows (``Groups``), never on the values: the
anonymiser passes the codes its search already has (before: the original values, after: the chosen levels), and
``assess`` codes a table it is given once. Only the per-record figures (class size of each record, its risk, the
average) touch every record; the class table, the histogram and the QI combinations work on the distinct rows
with their weights.
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
_DENSE_LIMIT = 1 << 40

IntArray = npt.NDArray[np.int64]


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


@dataclass
class Groups:
    """A table as its distinct QI rows.

    ``codes[q][r]`` is the code of QI ``q`` in distinct row ``r`` (any integer coding with the same equality as the
    values, below ``cards[q]``); ``row_of_record[i]`` is the distinct row of the table's i-th record. Distinct rows
    may repeat a QI combination (the anonymiser's rows also carry the sensitive value) or have no record."""

    codes: list[IntArray]
    cards: list[int]
    row_of_record: IntArray

    @property
    def records(self) -> int:
        return len(self.row_of_record)

    def weights(self) -> IntArray:
        return np.bincount(self.row_of_record, minlength=len(self.codes[0])).astype(np.int64)


def _combine(cols: Sequence[IntArray], cards: Sequence[int]) -> tuple[IntArray, int]:
    """One int64 key per row with the same equality as the tuple of columns, and the key range."""
    key = np.zeros(len(cols[0]), dtype=np.int64)
    size = 1
    for c, card in zip(cols, cards, strict=True):
        if size * card >= _DENSE_LIMIT:
            uniq, inv = np.unique(key, return_inverse=True)
            key = inv.astype(np.int64).reshape(-1)
            size = len(uniq)
        key = key * card + c
        size *= card
    return key, size


def _unique_records(key: IntArray, span: int, single: npt.NDArray[np.bool_]) -> int:
    """Records alone under ``key``, where each row is a class and ``single`` marks the classes of one record: such a
    record is alone when no other class shares its key (keys made dense first when their range is much larger
    than the rows)."""
    if span > 4 * len(key) + 1024:
        _, inv = np.unique(key, return_inverse=True)
        key = inv.astype(np.int64).reshape(-1)
        span = int(key.max()) + 1 if len(key) else 0
    rows_per_key = np.bincount(key, minlength=span)
    return int(np.count_nonzero(rows_per_key[key[single]] == 1))


@dataclass
class ClassSizes:
    """``record[i]``: size of the class of the i-th record; ``row[r]``: of distinct row r; ``weights[r]``:
    records of row r; ``classes``: number of (non-empty) classes; ``class_rows``: one distinct row of each
    class (the QI combinations only need the classes, each with its size)."""

    record: IntArray
    row: IntArray
    weights: IntArray
    classes: int
    class_rows: IntArray
    class_sizes: IntArray


def record_class_sizes(groups: Groups) -> ClassSizes:
    """Equivalence class sizes of a coded table."""
    w = groups.weights()
    key, span = _combine(groups.codes, groups.cards)
    if span > 4 * len(key) + 1024:
        _, inv = np.unique(key, return_inverse=True)
        key = inv.astype(np.int64).reshape(-1)
        span = int(key.max()) + 1 if len(key) else 0
    size = np.bincount(key, weights=w, minlength=span).astype(np.int64)
    row_size = size[key]
    rep = np.zeros(span, dtype=np.int64)
    rep[key] = np.arange(len(key), dtype=np.int64)
    present = np.flatnonzero(size)
    return ClassSizes(row_size[groups.row_of_record], row_size, w, len(present), rep[present], size[present])


def groups_of(df: pl.DataFrame, qis: Sequence[str]) -> Groups:
    """Code a table's QI columns (as strings; a missing value is a value of its own) and reduce it to its
    distinct QI rows."""
    cols: list[IntArray] = []
    cards: list[int] = []
    for c in qis:
        s = df[c].cast(pl.String).fill_null("\x00")
        values = s.unique()
        cols.append(s.cast(pl.Enum(values)).to_physical().to_numpy().astype(np.int64))
        cards.append(len(values))
    key, _ = _combine(cols, cards)
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    return Groups([c[first] for c in cols], cards, inv.astype(np.int64).reshape(-1))


def _highest_risk_rows(f: IntArray, row_size: IntArray, weights: IntArray, top: int) -> list[int]:
    """The ``top`` records with the highest risk 1/f, highest first, ties by row index (the same as a stable
    sort of -1/f, without sorting every record)."""
    m = min(top, len(f))
    if m <= 0:
        return []
    sizes = np.bincount(row_size, weights=weights.astype(np.float64))  # records per class size
    cutoff = int(np.flatnonzero(np.cumsum(sizes) >= m)[0])
    below = np.flatnonzero(f < cutoff)
    below = below[np.lexsort((below, f[below]))]
    same = np.flatnonzero(f == cutoff)[: m - len(below)]
    return [int(i) for i in np.concatenate([below, same])]


def assess_groups(
    groups: Groups,
    qis: Sequence[str],
    *,
    threshold: float = 0.2,
    top: int = 20,
    max_combination: int = 3,
    sizes: ClassSizes | None = None,
    population_f: npt.NDArray[np.float64] | None = None,
) -> RiskReport:
    """Risk figures of a coded table. ``sizes`` is ``record_class_sizes(groups)`` if already computed;
    ``population_f`` the population class size of each record (journalist and marketer risk)."""
    n = groups.records
    if n == 0:
        raise DatasetError("データが空です。", "the dataset is empty")
    cs = sizes if sizes is not None else record_class_sizes(groups)
    f, row_size, w, classes = cs.record, cs.row, cs.weights, cs.classes
    rec = 1.0 / f
    if population_f is not None:
        big_f = np.maximum(population_f, f)  # a population class is never smaller than the sample class
        jr = 1.0 / big_f
        journalist_max, journalist_avg, basis = float(jr.max()), float(jr.mean()), "population"
        marketer = float(np.sum(jr) / n)  # (1/N) Σ_j f_j / F_j
    else:
        journalist_max, journalist_avg, basis = float(rec.max()), float(rec.mean()), "prosecutor_upper_bound"
        marketer = classes / n
    uniques = int(w[row_size == 1].sum())
    row_rec = 1.0 / np.maximum(row_size, 1)
    hist, _ = np.histogram(row_rec, bins=np.array(HISTOGRAM_EDGES), weights=w.astype(np.float64))
    at_risk = int(w[row_rec > threshold].sum())
    combos: list[dict[str, object]] = []
    subsets = [list(s) for r in range(1, min(max_combination, len(qis)) + 1) for s in combinations(qis, r)]
    if len(qis) > max_combination:
        subsets.append(list(qis))
    index = {c: i for i, c in enumerate(qis)}
    single = cs.class_sizes == 1
    class_codes = [c[cs.class_rows] for c in groups.codes]  # one row per class, weighted by its size
    for subset in subsets:
        key, span = _combine(
            [class_codes[index[c]] for c in subset], [groups.cards[index[c]] for c in subset]
        )
        combos.append({"qis": subset, "unique_records": _unique_records(key, span, single)})
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
        records_at_risk_share=at_risk / n,
        histogram_edges=list(HISTOGRAM_EDGES),
        histogram_counts=[int(c) for c in hist],
        highest_risk_rows=_highest_risk_rows(f, row_size, w, top),
        unique_combinations=combos,
    )


def class_sizes(df: pl.DataFrame, qis: Sequence[str]) -> IntArray:
    """Size of the equivalence class of every row."""
    return record_class_sizes(groups_of(df, qis)).record


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
    if df.height == 0:
        raise DatasetError("データが空です。", "the dataset is empty")
    groups = groups_of(df, qis)
    sizes = record_class_sizes(groups)
    population_f = None
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
        population_f = joined["count"].fill_null(0).to_numpy().astype(np.float64)
    return assess_groups(
        groups,
        qis,
        threshold=threshold,
        top=top,
        max_combination=max_combination,
        sizes=sizes,
        population_f=population_f,
    )
