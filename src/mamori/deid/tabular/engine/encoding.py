"""Privacy models (R-43-1) and the integer encoding of a table and its hierarchies that the search works on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import polars as pl

from mamori.deid.tabular.errors import DatasetError
from mamori.deid.tabular.hierarchy import Hierarchy
from mamori.deid.tabular.options import LKind as LKind
from mamori.deid.tabular.options import Metric as Metric
from mamori.deid.tabular.options import TDistance as TDistance

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# R-43-1 (規則34 第5号): measures suited to the database — k-anonymity and related privacy models.
RULE_STANDARD_5 = "R-43-1"


@dataclass(frozen=True)
class PrivacyModel:
    k: int = 2
    l: int | None = None  # noqa: E741 - the model's name
    l_kind: LKind = "distinct"
    t: float | None = None
    t_distance: TDistance = "equal"
    suppression: float = 0.0  # share of records that may be suppressed

    def validate(self, has_sensitive: bool) -> None:
        if self.k < 1:
            raise DatasetError("k は 1 以上です。", "k must be at least 1")
        if not 0.0 <= self.suppression <= 1.0:
            raise DatasetError("抑制率は 0 以上 1 以下です。", "suppression must be in [0, 1]")
        if self.l is not None and self.l < 1:
            raise DatasetError("l は 1 以上です。", "l must be at least 1")
        if self.t is not None and not 0.0 <= self.t <= 1.0:
            raise DatasetError("t は 0 以上 1 以下です。", "t must be in [0, 1]")
        if (self.l is not None or self.t is not None) and not has_sensitive:
            raise DatasetError(
                "l 多様性と t 近似性には機微属性 (--sensitive) が必要です。",
                "l-diversity and t-closeness need a sensitive attribute (--sensitive)",
            )

    @property
    def monotone(self) -> bool:
        if self.suppression == 0.0:
            return True
        return self.t is None and (self.l is None or self.l_kind == "distinct")


@dataclass
class Evaluation:
    node: tuple[int, ...]
    anonymous: bool
    k_suppressed: int
    suppressed: int
    loss: float
    classes: int


@dataclass
class Encoded:
    """The table reduced to distinct rows of base codes, with per-level code maps for each QI."""

    n: int
    qis: list[str]
    heights: tuple[int, ...]
    base: list[IntArray]  # per QI: base code of each distinct row
    weights: IntArray  # records per distinct row
    row_of_record: IntArray  # distinct row of each input record
    gen: list[list[IntArray]]  # gen[q][level][base code] -> code at level
    cards: list[list[int]]  # number of codes at each level
    labels: list[list[list[str]]]  # labels[q][level][code]
    value_loss: list[list[FloatArray]]  # loss of each code at a level, in [0, 1]
    row_codes: list[list[IntArray]] = field(default_factory=list)  # [q][level]: code of each distinct row
    row_loss: list[list[FloatArray]] = field(default_factory=list)  # [q][level]: loss of each distinct row
    sensitive: IntArray | None = None  # sensitive code of each distinct row
    sensitive_labels: list[str] = field(default_factory=list)
    sensitive_tree: list[IntArray] = field(default_factory=list)  # parent maps level j-1 -> j
    sensitive_tree_sizes: list[int] = field(default_factory=list)
    metric: Metric = "loss"  # what value_loss measures and how the per-QI losses are aggregated


def _codes(col: pl.Series) -> tuple[IntArray, list[str]]:
    """Dense codes of a string column (in sorted value order) and the values."""
    values: list[str] = col.unique().sort().to_list()
    codes = col.cast(pl.Enum(values)).to_physical().to_numpy()
    return codes.astype(np.int64, copy=False), values


def encode(
    df: pl.DataFrame,
    qis: Sequence[str],
    hierarchies: Mapping[str, Hierarchy],
    *,
    sensitive: str | None = None,
    sensitive_hierarchy: Hierarchy | None = None,
    metric: Metric = "loss",
) -> Encoded:
    if not qis:
        raise DatasetError(
            "準識別子 (--qi) を1つ以上指定してください。", "give at least one quasi-identifier (--qi)"
        )
    for col in [*qis, *([sensitive] if sensitive else [])]:
        if col not in df.columns:
            raise DatasetError(
                f"列 {col} がありません。", f"column {col} does not exist", details={"column": col}
            )
    if sensitive in qis:
        raise DatasetError("機微属性は準識別子にできません。", "the sensitive attribute cannot also be a QI")
    n = df.height
    if n == 0:
        raise DatasetError("データが空です。", "the dataset is empty")
    strs = df.select(
        [pl.col(c).cast(pl.String).fill_null("") for c in [*qis, *([sensitive] if sensitive else [])]]
    )
    base_rec: list[IntArray] = []
    gen: list[list[IntArray]] = []
    cards: list[list[int]] = []
    labels: list[list[list[str]]] = []
    value_loss: list[list[FloatArray]] = []
    heights: list[int] = []
    for q in qis:
        h = hierarchies.get(q)
        if h is None:
            raise DatasetError(
                f"列 {q} の階層がありません。", f"no hierarchy for column {q}", details={"column": q}
            )
        codes, values = _codes(strs[q])
        h.check_covers(values, q)
        base_rec.append(codes)
        heights.append(h.height)
        d = len(values)
        q_gen: list[IntArray] = []
        q_cards: list[int] = []
        q_labels: list[list[str]] = []
        q_loss: list[FloatArray] = []
        for lev in range(h.depth):
            lab = [h.table[v][lev] for v in values]
            uniq_lab = sorted(set(lab))
            index = {x: i for i, x in enumerate(uniq_lab)}
            g = np.fromiter((index[x] for x in lab), dtype=np.int64, count=d)
            q_gen.append(g)
            q_cards.append(len(uniq_lab))
            q_labels.append(uniq_lab)
            if metric == "precision":
                q_loss.append(np.full(len(uniq_lab), lev / h.height if h.height else 0.0))
            elif metric == "arx-loss":
                # ARX's loss: a label covering m of the hierarchy's D values costs (m - 1) / (D - 1), with m and D
                # counted over the hierarchy (every value it lists), not over the values present.
                size = len(h.table)
                covered = Counter(row[lev] for row in h.table.values())
                q_loss.append(
                    np.array([(covered[x] - 1.0) / (size - 1.0) if size > 1 else 0.0 for x in uniq_lab])
                )
            else:
                leaves = np.bincount(g, minlength=len(uniq_lab)).astype(np.float64)
                q_loss.append((leaves - 1.0) / (d - 1.0) if d > 1 else np.zeros(len(uniq_lab)))
        gen.append(q_gen)
        cards.append(q_cards)
        labels.append(q_labels)
        value_loss.append(q_loss)

    s_codes: IntArray | None = None
    s_labels: list[str] = []
    tree: list[IntArray] = []
    tree_sizes: list[int] = []
    cols = list(base_rec)
    col_cards = [len(lab[0]) for lab in labels]
    if sensitive:
        s_codes, s_labels = _codes(strs[sensitive])
        cols.append(s_codes)
        col_cards.append(len(s_labels))
        if sensitive_hierarchy is not None:
            sh = sensitive_hierarchy.with_root()
            sh.check_covers(s_labels, sensitive)
            prev = np.arange(len(s_labels), dtype=np.int64)
            prev_size = len(s_labels)
            for lev in range(1, sh.depth):
                lab = [sh.table[v][lev] for v in s_labels]
                uniq_lab = sorted(set(lab))
                index = {x: i for i, x in enumerate(uniq_lab)}
                cur = np.fromiter((index[x] for x in lab), dtype=np.int64, count=len(s_labels))
                parent = np.zeros(prev_size, dtype=np.int64)
                parent[prev] = cur
                tree.append(parent)
                tree_sizes.append(len(uniq_lab))
                prev, prev_size = cur, len(uniq_lab)
    key, _ = _combine(cols, col_cards)
    _, first, row_of_record, weights = np.unique(
        key, return_index=True, return_inverse=True, return_counts=True
    )
    base = [c[first] for c in base_rec]
    row_codes = [[g[b] for g in q_gen] for q_gen, b in zip(gen, base, strict=True)]
    row_loss = [
        [vl[r] for vl, r in zip(q_loss, q_rows, strict=True)]
        for q_loss, q_rows in zip(value_loss, row_codes, strict=True)
    ]
    return Encoded(
        n=n,
        row_codes=row_codes,
        row_loss=row_loss,
        qis=list(qis),
        heights=tuple(heights),
        base=base,
        weights=weights.astype(np.int64),
        row_of_record=row_of_record.astype(np.int64).reshape(-1),
        gen=gen,
        cards=cards,
        labels=labels,
        value_loss=value_loss,
        sensitive=None if s_codes is None else s_codes[first],
        sensitive_labels=s_labels,
        sensitive_tree=tree,
        sensitive_tree_sizes=tree_sizes,
        metric=metric,
    )


_DENSE_LIMIT = 1 << 40


def _combine(cols: Sequence[IntArray], cards: Sequence[int]) -> tuple[IntArray, int]:
    """A single int64 key per row with the same equality as the tuple of columns; returns (key, key range)."""
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


Snapshot = tuple[IntArray, FloatArray]  # (representative distinct row, weight) of each merged row


def _classes(enc: Encoded, node: tuple[int, ...], rows: IntArray) -> tuple[IntArray, int]:
    """Class id of each given distinct row at ``node`` and the id range (ids may be sparse)."""
    cols = [enc.row_codes[q][lev][rows] for q, lev in enumerate(node)]
    cards = [enc.cards[q][lev] for q, lev in enumerate(node)]
    key, size = _combine(cols, cards)
    if size > 4 * len(key) + 1024:
        uniq, inv = np.unique(key, return_inverse=True)
        key = inv.astype(np.int64).reshape(-1)
        size = len(uniq)
    return key, size
