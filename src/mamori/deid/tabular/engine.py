"""Optimal full-domain generalisation (匿名加工, R-43-1 standard 5) over the lattice of hierarchy levels.

Data work is vectorised: every quasi-identifier (QI) is integer-encoded once per hierarchy level, the table is
reduced to its distinct (QI…, sensitive) rows with weights, and a transformation (a tuple of levels, one per QI)
is evaluated by one group-by on the encoded columns (``np.bincount`` when the key space is small).

Search: branch and bound over all lattice nodes in order of a lower bound of the information loss, with
predictive tagging (monotonicity pruning):

* if a node is not k-anonymous within the suppression limit, no predecessor is (always valid: generalisation only
  merges classes, so the set of records in classes smaller than k can only shrink);
* if a node satisfies the whole privacy model and the model is monotone, every successor does. k-anonymity and
  distinct l-diversity are monotone with suppression; entropy l-diversity and t-closeness (equal and
  hierarchical distance, both convex in the class distribution) are monotone only with a suppression limit of 0.
  With suppression they are checked node by node (no upward tagging), which keeps the search exact.
* a node that fails k is followed by a binary search up a chain and a greedy climb to a maximal failing node,
  whose whole down-set is tagged;
* the lower bound ``loss(node, no suppression)`` depends only on the levels and is monotone in the lattice;
  a suppressed record costs the maximum per QI, so the exact loss is never below it. Nodes are visited by
  increasing bound and the search stops when the bound reaches the best exact loss found.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from mamori.deid.tabular.errors import DatasetError, NoSolution
from mamori.deid.tabular.hierarchy import STAR, Hierarchy

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

Metric = Literal["loss", "precision"]
LKind = Literal["distinct", "entropy"]
TDistance = Literal["equal", "hierarchical"]

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
        if not 0.0 <= self.suppression < 1.0:
            raise DatasetError("抑制率は 0 以上 1 未満です。", "suppression must be in [0, 1)")
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


class Evaluator:
    def __init__(self, enc: Encoded, model: PrivacyModel) -> None:
        self.enc = enc
        self.model = model
        self.limit = math.floor(model.suppression * enc.n + 1e-9)
        self.q = len(enc.qis)
        self.fweights = enc.weights.astype(np.float64)
        # loss of each QI level summed over records (no suppression)
        self.level_sum: list[FloatArray] = [
            np.array([float((rl * self.fweights).sum()) for rl in q_loss]) for q_loss in enc.row_loss
        ]
        self.global_dist: FloatArray | None = None
        if enc.sensitive is not None:
            counts = np.bincount(enc.sensitive, weights=enc.weights, minlength=len(enc.sensitive_labels))
            self.global_dist = counts / enc.n
        self.checked = 0

    def lower_bound(self, nodes: npt.NDArray[np.int64]) -> FloatArray:
        total = np.zeros(len(nodes))
        for q in range(self.q):
            total += self.level_sum[q][nodes[:, q]]
        return total / (self.enc.n * self.q)

    def failing_classes(
        self, key: IntArray, sizes: FloatArray, rows: IntArray, weights: FloatArray
    ) -> tuple[npt.NDArray[np.bool_], int]:
        m = self.model
        k_fail = (sizes > 0) & (sizes < m.k)
        k_suppressed = int(sizes[k_fail].sum())
        fail = k_fail.copy()
        enc = self.enc
        if (m.l is not None or m.t is not None) and enc.sensitive is not None:
            s = len(enc.sensitive_labels)
            pair = key * s + enc.sensitive[rows]
            joint = np.bincount(pair, weights=weights, minlength=len(sizes) * s).reshape(len(sizes), s)
            if m.l is not None:
                if m.l_kind == "distinct":
                    fail |= (sizes > 0) & ((joint > 0).sum(axis=1) < m.l)
                else:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        p = joint / sizes[:, None]
                        ent = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
                    fail |= (sizes > 0) & (ent < math.log(m.l) - 1e-12)
            if m.t is not None and self.global_dist is not None:
                with np.errstate(divide="ignore", invalid="ignore"):
                    p = np.where(sizes[:, None] > 0, joint / sizes[:, None], 0.0)
                dist = self.emd(p)
                fail |= (sizes > 0) & (dist > m.t + 1e-12)
        return fail, k_suppressed

    def emd(self, p: FloatArray) -> FloatArray:
        """Earth mover's distance of each row distribution to the global sensitive distribution."""
        assert self.global_dist is not None
        diff = p - self.global_dist[None, :]
        if self.model.t_distance == "equal" or not self.enc.sensitive_tree:
            return np.asarray(0.5 * np.abs(diff).sum(axis=1))
        height = len(self.enc.sensitive_tree)
        cost = np.zeros(len(p))
        extra = diff
        for j, (parent, size) in enumerate(
            zip(self.enc.sensitive_tree, self.enc.sensitive_tree_sizes, strict=True)
        ):
            ind = np.zeros((extra.shape[1], size))
            ind[np.arange(extra.shape[1]), parent] = 1.0
            pos = np.maximum(extra, 0.0) @ ind
            neg = np.maximum(-extra, 0.0) @ ind
            cost += (j + 1) / height * np.minimum(pos, neg).sum(axis=1)
            extra = extra @ ind
        return cost

    @property
    def needs_sensitive(self) -> bool:
        return self.model.l is not None or self.model.t is not None

    def full(self) -> Snapshot:
        return np.arange(len(self.enc.weights), dtype=np.int64), self.fweights

    def evaluate(
        self, node: tuple[int, ...], lower_bound: float | None = None, source: Snapshot | None = None
    ) -> tuple[Evaluation, Snapshot]:
        """Evaluate ``node`` from the distinct rows or from the snapshot of one of its predecessors (roll-up)."""
        self.checked += 1
        enc = self.enc
        rows, weights = source if source is not None else self.full()
        key, size = _classes(enc, node, rows)
        sizes = np.bincount(key, weights=weights, minlength=size).astype(np.float64, copy=False)
        fail, k_suppressed = self.failing_classes(key, sizes, rows, weights)
        suppressed = int(sizes[fail].sum())
        anonymous = suppressed <= self.limit
        lb = self.lower_bound(np.array([node], dtype=np.int64))[0] if lower_bound is None else lower_bound
        loss = float(lb)
        if suppressed:
            mask = fail[key]
            sup_rows = rows[mask]
            per_row = np.zeros(len(sup_rows))
            for q, lev in enumerate(node):
                per_row += enc.row_loss[q][lev][sup_rows]
            loss += float(((self.q - per_row) * weights[mask]).sum()) / (enc.n * self.q)
        # Snapshot for roll-up: one representative distinct row per class (any member will do: they share every
        # code at this node, hence at every successor) with the class weight. Keys are dense, so this is O(n).
        span = size
        if self.needs_sensitive and enc.sensitive is not None:
            key = key * len(enc.sensitive_labels) + enc.sensitive[rows]
            span = size * len(enc.sensitive_labels)
        w = np.bincount(key, weights=weights, minlength=span)
        rep = np.zeros(span, dtype=np.int64)
        rep[key] = rows
        nz = np.flatnonzero(w)
        snapshot = (rep[nz], w[nz].astype(np.float64, copy=False))
        classes = int((sizes > 0).sum() - fail.sum())
        return Evaluation(node, anonymous, k_suppressed, suppressed, loss, classes), snapshot


@dataclass
class SearchResult:
    best: Evaluation
    nodes_checked: int
    lattice_size: int
    search_seconds: float
    candidates: list[Evaluation]


def lattice(heights: Sequence[int]) -> npt.NDArray[np.int64]:
    """All transformations, lexicographic (the first QI varies slowest), as rows of levels."""
    if not heights:
        return np.zeros((1, 0), dtype=np.int64)
    return np.indices([h + 1 for h in heights], dtype=np.int64).reshape(len(heights), -1).T.copy()


_CACHE = 2048
_BIG = np.iinfo(np.int64).max


def _chain_up(start: npt.NDArray[np.int64], heights: npt.NDArray[np.int64]) -> list[npt.NDArray[np.int64]]:
    """A path from ``start`` to the top node raising one level at a time, always the QI that is relatively the
    least generalised (balanced), so that the last non-anonymous node on it has a large down-set."""
    cur = [int(x) for x in start]
    hs = [int(h) for h in heights]
    chain = [list(cur)]
    while True:
        best_q, best_rel = -1, 2.0
        for q, (lev, h) in enumerate(zip(cur, hs, strict=True)):
            if lev < h and lev / h < best_rel:
                best_q, best_rel = q, lev / h
        if best_q < 0:
            break
        cur[best_q] += 1
        chain.append(list(cur))
    return [np.array(c, dtype=np.int64) for c in chain]


def search(enc: Encoded, model: PrivacyModel) -> SearchResult:
    """The lattice node with the least information loss that satisfies the privacy model (exact)."""
    model.validate(enc.sensitive is not None)
    t0 = time.perf_counter()
    ev = Evaluator(enc, model)
    nodes = lattice(enc.heights)
    heights = np.array(enc.heights, dtype=np.int64)
    strides = np.ones(len(heights), dtype=np.int64)
    for q in range(len(heights) - 2, -1, -1):
        strides[q] = strides[q + 1] * (heights[q + 1] + 1)
    # Pack each node into one int64 (a guard bit above each level field) so that "y <= x componentwise" for
    # all nodes y is three vector operations instead of a comparison per QI.
    offsets, guard, off = [], 0, 0
    for h in heights:
        bits = int(h).bit_length()
        offsets.append(off)
        guard |= 1 << (off + bits)
        off += bits + 1
    if off > 62:
        raise DatasetError("準識別子が多すぎます。", "too many quasi-identifier levels for the lattice")
    packed = np.zeros(len(nodes), dtype=np.int64)
    for q, o in enumerate(offsets):
        packed |= nodes[:, q] << o

    def below(x: int, ys: IntArray) -> npt.NDArray[np.bool_]:
        return np.asarray(((x | guard) - ys) & guard == guard)

    def above(x: int, ys: IntArray) -> npt.NDArray[np.bool_]:
        return np.asarray(((ys | guard) - x) & guard == guard)

    lb = ev.lower_bound(nodes)
    order = np.argsort(lb, kind="stable")
    status = np.zeros(len(nodes), dtype=np.int8)  # 1 anonymous, -1 not anonymous, 0 unknown
    k_bad = np.zeros(len(nodes), dtype=np.bool_)  # known to fail the k part (monotone) within the limit
    surcharge = np.zeros(len(nodes))  # lower bound of the suppression cost (monotone models)
    done: dict[int, Evaluation] = {}
    best: Evaluation | None = None
    evaluated: list[Evaluation] = []

    def index(node: npt.NDArray[np.int64]) -> int:
        return int(np.dot(node, strides))

    cache_packed = np.zeros(_CACHE, dtype=np.int64)
    cache_len = np.zeros(_CACHE, dtype=np.int64)
    cache_snaps: list[Snapshot] = []

    def source_for(i: int) -> Snapshot | None:
        n_cached = len(cache_snaps)
        if not n_cached:
            return None
        ok = below(int(packed[i]), cache_packed[:n_cached])
        if not ok.any():
            return None
        j = int(np.argmin(np.where(ok, cache_len[:n_cached], _BIG)))
        return cache_snaps[j]

    def run(i: int) -> Evaluation:
        nonlocal best
        e = done.get(i)
        if e is not None:
            return e
        e, snap = ev.evaluate(tuple(int(x) for x in nodes[i]), float(lb[i]), source_for(i))
        if len(cache_snaps) < _CACHE:
            cache_packed[len(cache_snaps)] = packed[i]
            cache_len[len(cache_snaps)] = len(snap[0])
            cache_snaps.append(snap)
        done[i] = e
        evaluated.append(e)
        extra = e.loss - float(lb[i])
        if model.monotone and extra > 0.0:
            # Every predecessor suppresses at least these records, each at no lower cost: a tighter bound.
            down = below(int(packed[i]), packed)
            surcharge[down] = np.maximum(surcharge[down], extra)
        if e.anonymous:
            status[i] = 1
            if model.monotone:
                status[above(int(packed[i]), packed)] = 1
            if best is None or e.loss < best.loss:
                best = e
        else:
            status[i] = -1
            if model.monotone or e.k_suppressed > ev.limit:
                down = below(int(packed[i]), packed)
                if model.monotone:
                    status[down] = -1
                if e.k_suppressed > ev.limit:
                    k_bad[down] = True
        return e

    top = run(len(nodes) - 1)
    if not top.anonymous and (model.monotone or top.k_suppressed > ev.limit):
        best = None
    else:
        status[k_bad] = -1
        for i in order:
            if best is not None and lb[i] >= best.loss - 1e-15:
                break
            if status[i] == -1 or k_bad[i]:
                continue
            if best is not None and lb[i] + surcharge[i] >= best.loss - 1e-15:
                continue
            if status[i] == 1 and ev.limit == 0:
                e = Evaluation(tuple(int(x) for x in nodes[i]), True, 0, 0, float(lb[i]), -1)
                if best is None or e.loss < best.loss:
                    best = e
                continue
            e = run(int(i))
            if e.anonymous or e.k_suppressed <= ev.limit:
                continue
            # Not even k-anonymous: binary search up a chain for the highest node that still fails k and
            # tag its whole down-set (Flash/OLA-style predictive tagging).
            chain = [index(c) for c in _chain_up(nodes[i], heights)]
            lo, hi = 0, len(chain) - 1
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if k_bad[chain[mid]] or run(chain[mid]).k_suppressed > ev.limit:
                    lo = mid
                else:
                    hi = mid
            # Then climb greedily from there to a maximal node that still fails k: its down-set is the
            # largest this chain can prune.
            cur = nodes[chain[lo]].copy()
            moved = True
            while moved:
                moved = False
                for q in np.argsort(cur / np.maximum(heights, 1)):
                    if cur[q] >= heights[q]:
                        continue
                    nxt = cur.copy()
                    nxt[q] += 1
                    j = index(nxt)
                    if k_bad[j] or (status[j] != 1 and run(j).k_suppressed > ev.limit):
                        cur = nxt
                        moved = True
                        break
    if best is None:
        raise NoSolution(
            "どの一般化でもプライバシーモデルを満たせません（抑制上限を上げてください）。",
            "no generalisation satisfies the privacy model (raise the suppression limit)",
            rule_id=RULE_STANDARD_5,
        )
    if best.classes < 0:  # found by tagging without a group-by: fill in the class count
        best = ev.evaluate(best.node, None)[0]
    return SearchResult(best, len(evaluated), len(nodes), time.perf_counter() - t0, evaluated)


def brute_force(enc: Encoded, model: PrivacyModel) -> list[Evaluation]:
    """Every node evaluated (for tests and small lattices)."""
    ev = Evaluator(enc, model)
    return [ev.evaluate(tuple(int(x) for x in n))[0] for n in lattice(enc.heights)]


def apply(
    df: pl.DataFrame,
    enc: Encoded,
    model: PrivacyModel,
    node: tuple[int, ...],
    *,
    keep_suppressed: bool = False,
) -> tuple[pl.DataFrame, npt.NDArray[np.bool_]]:
    """The generalised table at ``node`` and the mask of suppressed input records.

    Suppressed records are removed, or with ``keep_suppressed`` kept with ``*`` in every QI."""
    ev = Evaluator(enc, model)
    rows, weights = ev.full()
    key, size = _classes(enc, node, rows)
    sizes = np.bincount(key, weights=weights, minlength=size).astype(np.float64, copy=False)
    fail, _ = ev.failing_classes(key, sizes, rows, weights)
    suppressed_rec = fail[key][enc.row_of_record]
    out_cols: dict[str, pl.Series] = {}
    for q, (col, lev) in enumerate(zip(enc.qis, node, strict=True)):
        labels = pl.Series(col, enc.labels[q][lev], dtype=pl.String)
        codes = enc.row_codes[q][lev][enc.row_of_record]
        vals = labels.gather(codes)
        if keep_suppressed:
            vals = pl.select(
                pl.when(pl.Series(suppressed_rec)).then(pl.lit(STAR)).otherwise(vals).alias(col)
            ).to_series()
        out_cols[col] = vals
    out = df.with_columns(list(out_cols.values()))
    if not keep_suppressed:
        out = out.filter(pl.Series(~suppressed_rec))
    return out, suppressed_rec
