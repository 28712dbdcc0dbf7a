"""Evaluating one generalisation node: equivalence classes, suppression, the privacy model and the loss."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from mamori.deid.tabular.engine.encoding import (
    Encoded,
    Evaluation,
    FloatArray,
    IntArray,
    PrivacyModel,
    Snapshot,
    _classes,
)
from mamori.deid.tabular.options import ADDITIVE_METRICS


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
        self.additive = enc.metric in ADDITIVE_METRICS

    def lower_bound(self, nodes: npt.NDArray[np.int64]) -> FloatArray:
        """The loss of each node without suppression (a suppressed record costs the most on every QI)."""
        if not self.additive:
            return self.aggregate(np.stack([self.level_sum[q][nodes[:, q]] for q in range(self.q)], axis=1))
        total = np.zeros(len(nodes))
        for q in range(self.q):
            total += self.level_sum[q][nodes[:, q]]
        return total / (self.enc.n * self.q)

    def aggregate(self, sums: FloatArray) -> FloatArray:
        """ARX's loss from the per-QI sums of record costs (one row per node): each QI's mean cost, cut to 10
        decimals as ARX does (``Metric.round``), then the geometric mean ∏ (v_q + 1)^(1/Q) − 1 in QI order
        (``ILMultiDimensionalGeometricMean``, equal attribute weights)."""
        v = np.floor(sums / self.enc.n * 1e10) / 1e10
        result = np.ones(len(sums))
        for q in range(self.q):
            result *= np.power(v[:, q] + 1.0, 1.0 / self.q)
        return np.asarray(result - 1.0)

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
        if suppressed and not self.additive:
            mask = fail[key]
            sup_rows, sup_w = rows[mask], weights[mask]
            sums = [
                self.level_sum[q][lev] + float(((1.0 - enc.row_loss[q][lev][sup_rows]) * sup_w).sum())
                for q, lev in enumerate(node)
            ]
            loss = float(self.aggregate(np.array([sums]))[0])
        elif suppressed:
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
