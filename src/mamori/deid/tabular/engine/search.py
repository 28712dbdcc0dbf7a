"""Searching the generalisation lattice for the best node that satisfies the model, and applying it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from mamori.deid.tabular.engine.encoding import (
    RULE_STANDARD_5,
    Encoded,
    Evaluation,
    IntArray,
    PrivacyModel,
    Snapshot,
    _classes,
)
from mamori.deid.tabular.engine.evaluator import Evaluator
from mamori.deid.tabular.errors import DatasetError, NoSolution
from mamori.deid.tabular.hierarchy import STAR


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
        if model.monotone and ev.additive and extra > 0.0:
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


def suppressed_records(enc: Encoded, model: PrivacyModel, node: tuple[int, ...]) -> npt.NDArray[np.bool_]:
    """The mask of input records suppressed at ``node`` (records of classes that fail the model)."""
    ev = Evaluator(enc, model)
    rows, weights = ev.full()
    key, size = _classes(enc, node, rows)
    sizes = np.bincount(key, weights=weights, minlength=size).astype(np.float64, copy=False)
    fail, _ = ev.failing_classes(key, sizes, rows, weights)
    return np.asarray(fail[key][enc.row_of_record])


def apply(
    df: pl.DataFrame,
    enc: Encoded,
    model: PrivacyModel,
    node: tuple[int, ...],
    *,
    keep_suppressed: bool = False,
    order: IntArray | None = None,
    suppressed: npt.NDArray[np.bool_] | None = None,
) -> tuple[pl.DataFrame, npt.NDArray[np.bool_]]:
    """The generalised table at ``node`` and the mask of suppressed input records.

    Suppressed records are removed, or with ``keep_suppressed`` kept with ``*`` in every QI. ``order`` gives the
    output's records as input record indices (e.g. shuffled); by default the input order without the suppressed
    records (or all of them with ``keep_suppressed``). Every column is gathered once, in the output order."""
    suppressed_rec = suppressed if suppressed is not None else suppressed_records(enc, model, node)
    if order is None:
        order = np.arange(enc.n, dtype=np.int64) if keep_suppressed else np.flatnonzero(~suppressed_rec)
    rows = enc.row_of_record[order]
    out_cols: dict[str, pl.Series] = {}
    for q, (col, lev) in enumerate(zip(enc.qis, node, strict=True)):
        labels = pl.Series(col, enc.labels[q][lev], dtype=pl.String)
        vals = labels.gather(enc.row_codes[q][lev][rows])
        if keep_suppressed:
            vals = pl.select(
                pl.when(pl.Series(suppressed_rec[order])).then(pl.lit(STAR)).otherwise(vals).alias(col)
            ).to_series()
        out_cols[col] = vals
    index = pl.Series(order)
    out = pl.DataFrame([out_cols[c] if c in out_cols else df[c].gather(index) for c in df.columns])
    return out, suppressed_rec
