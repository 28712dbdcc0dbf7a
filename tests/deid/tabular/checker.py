"""An independent, deliberately plain checker (dicts and loops, no NumPy, no engine code) for k-anonymity,
l-diversity, t-closeness, the suppression rule and the "loss" metric."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

Row = dict[str, str]
Table = dict[str, tuple[str, ...]]  # value -> labels per level


def groups(rows: Sequence[Row], qis: Sequence[str]) -> dict[tuple[str, ...], list[int]]:
    out: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        out[tuple(r[q] for q in qis)].append(i)
    return out


def is_k_anonymous(rows: Sequence[Row], qis: Sequence[str], k: int) -> bool:
    return all(len(ix) >= k for ix in groups(rows, qis).values())


def distinct_l(rows: Sequence[Row], qis: Sequence[str], sensitive: str) -> int:
    return min(len({rows[i][sensitive] for i in ix}) for ix in groups(rows, qis).values())


def entropy(values: Sequence[str]) -> float:
    c = Counter(values)
    n = len(values)
    return -sum(v / n * math.log(v / n) for v in c.values())


def entropy_l_ok(rows: Sequence[Row], qis: Sequence[str], sensitive: str, l: int) -> bool:  # noqa: E741
    return all(
        entropy([rows[i][sensitive] for i in ix]) >= math.log(l) - 1e-9 for ix in groups(rows, qis).values()
    )


def equal_emd(values: Sequence[str], global_dist: dict[str, float]) -> float:
    c = Counter(values)
    n = len(values)
    keys = set(c) | set(global_dist)
    return 0.5 * sum(abs(c.get(s, 0) / n - global_dist.get(s, 0.0)) for s in keys)


def hierarchical_emd(values: Sequence[str], global_dist: dict[str, float], tree: Table) -> float:
    """Li et al.'s EMD on a hierarchy: Σ over internal nodes of level/height × min(positive, negative extra)."""
    c = Counter(values)
    n = len(values)
    leaves = list(tree)
    depth = len(next(iter(tree.values())))
    if len({tree[v][-1] for v in leaves}) > 1:
        tree = {v: (*row, "*") for v, row in tree.items()}
        depth += 1
    height = depth - 1
    total = 0.0
    for j in range(1, depth):
        for node in {tree[v][j] for v in leaves}:
            children: dict[str, float] = defaultdict(float)
            for v in leaves:
                if tree[v][j] == node:
                    children[tree[v][j - 1]] += c.get(v, 0) / n - global_dist.get(v, 0.0)
            pos = sum(x for x in children.values() if x > 0)
            neg = sum(-x for x in children.values() if x < 0)
            total += j / height * min(pos, neg)
    return total


def global_distribution(rows: Sequence[Row], sensitive: str) -> dict[str, float]:
    c = Counter(r[sensitive] for r in rows)
    return {s: v / len(rows) for s, v in c.items()}


def generalise(
    rows: Sequence[Row], qis: Sequence[str], hs: dict[str, Table], node: Sequence[int]
) -> list[Row]:
    out = []
    for r in rows:
        g = dict(r)
        for q, lev in zip(qis, node, strict=True):
            g[q] = hs[q][r[q]][lev]
        out.append(g)
    return out


def failing_rows(
    rows: Sequence[Row],
    qis: Sequence[str],
    *,
    k: int,
    sensitive: str | None = None,
    l: int | None = None,  # noqa: E741
    l_kind: str = "distinct",
    t: float | None = None,
    t_distance: str = "equal",
    global_dist: dict[str, float] | None = None,
    sensitive_tree: Table | None = None,
) -> set[int]:
    bad: set[int] = set()
    for ix in groups(rows, qis).values():
        vals = [rows[i][sensitive] for i in ix] if sensitive else []
        fail = len(ix) < k
        if l is not None:
            fail |= len(set(vals)) < l if l_kind == "distinct" else entropy(vals) < math.log(l) - 1e-9
        if t is not None:
            assert global_dist is not None
            d = (
                hierarchical_emd(vals, global_dist, sensitive_tree)
                if t_distance == "hierarchical" and sensitive_tree
                else equal_emd(vals, global_dist)
            )
            fail |= d > t + 1e-9
        if fail:
            bad.update(ix)
    return bad


def loss(
    rows: Sequence[Row], qis: Sequence[str], hs: dict[str, Table], node: Sequence[int], suppressed: set[int]
) -> float:
    total = 0.0
    for q, lev in zip(qis, node, strict=True):
        domain = {r[q] for r in rows}
        d = len(domain)
        leaves = Counter(hs[q][v][lev] for v in domain)
        for i, r in enumerate(rows):
            if i in suppressed:
                total += 1.0
            elif d > 1:
                total += (leaves[hs[q][r[q]][lev]] - 1) / (d - 1)
    return total / (len(rows) * len(qis))


def all_nodes(heights: Sequence[int]) -> list[tuple[int, ...]]:
    nodes: list[tuple[int, ...]] = [()]
    for h in heights:
        nodes = [(*n, lev) for n in nodes for lev in range(h + 1)]
    return nodes
