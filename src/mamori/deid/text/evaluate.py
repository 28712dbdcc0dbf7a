"""Span-level precision / recall / F1 per type, exact match and overlap match (used by the benchmark and
the quality-floor test)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Span = tuple[int, int, str]


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _match(
    gold: Sequence[Span], pred: Sequence[Span], overlap: bool
) -> tuple[list[Span], list[Span], list[Span]]:
    """(true positives, false positives, false negatives), one-to-one, same type."""
    unmatched = list(gold)
    tps: list[Span] = []
    fps: list[Span] = []
    for p in pred:
        hit = None
        for g in unmatched:
            if g[2] != p[2]:
                continue
            if (g[0] == p[0] and g[1] == p[1]) or (overlap and g[0] < p[1] and p[0] < g[1]):
                hit = g
                break
        if hit is None:
            fps.append(p)
        else:
            unmatched.remove(hit)
            tps.append(p)
    return tps, fps, unmatched


def score(
    pairs: Iterable[tuple[Sequence[Span], Sequence[Span]]], *, overlap: bool = False
) -> dict[str, Score]:
    """``pairs`` of (gold spans, predicted spans) per document → Score per type."""
    out: dict[str, Score] = defaultdict(Score)
    for gold, pred in pairs:
        tps, fps, fns = _match(gold, pred, overlap)
        for t in tps:
            out[t[2]].tp += 1
        for f in fps:
            out[f[2]].fp += 1
        for n in fns:
            out[n[2]].fn += 1
    return dict(out)
