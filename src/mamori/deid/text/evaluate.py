"""Span-level precision / recall / F1 per type, exact match and overlap match (used by the benchmark and
the quality-floor test); span recall, strict recall and look-alikes kept on hand-marked corpora (issue 23:
``load_marked``, ``evaluate_marked``, used by ``mamori text evaluate`` and ``bench/text_quality.py``)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

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


# --- the hand-marked corpora (issue 23): span recall, strict recall, look-alikes kept --------------------------------

_MARK = re.compile(r"⟦([a-z_]+)(?::([a-z]+))?:([^⟧]*)⟧")


@dataclass(frozen=True)
class MarkedDoc:
    """A document of a hand-marked corpus: the text without markup, the personal spans and the look-alikes."""

    id: str
    text: str
    spans: tuple[Span, ...]  # (start, end, PII type): must be found
    keeps: tuple[Span, ...]  # (start, end, kind): must stay


def parse_marked(doc_id: str, marked: str) -> MarkedDoc:
    """``⟦TYPE:value⟧`` is a personal span, ``⟦keep:KIND:value⟧`` a look-alike; markup does not nest."""
    from mamori.deid.text.detect import PII_TYPES  # noqa: PLC0415  # detect imports nothing of this module

    text: list[str] = []
    spans: list[Span] = []
    keeps: list[Span] = []
    pos = 0
    length = 0
    for m in _MARK.finditer(marked):
        head = marked[pos : m.start()]
        text.append(head)
        length += len(head)
        kind, sub, value = m.group(1), m.group(2), m.group(3)
        start, end = length, length + len(value)
        if kind == "keep":
            if not sub:
                raise ValueError(f"{doc_id}: keep span without a kind at {m.start()}")
            keeps.append((start, end, sub))
        elif sub is None and kind in PII_TYPES:
            spans.append((start, end, kind))
        else:
            raise ValueError(f"{doc_id}: unknown span type {m.group(0)[:30]!r}")
        text.append(value)
        length = end
        pos = m.end()
    rest = marked[pos:]
    if "⟦" in rest or "⟧" in rest or any("⟦" in t or "⟧" in t for t in text):
        raise ValueError(f"{doc_id}: unbalanced markup")
    text.append(rest)
    return MarkedDoc(doc_id, "".join(text), tuple(spans), tuple(keeps))


def load_marked(root: Path) -> list[MarkedDoc]:
    """Every ``*.txt`` under ``root`` (sorted by path), parsed."""
    files = sorted(p for p in root.rglob("*.txt") if p.is_file())
    return [parse_marked(str(p.relative_to(root)), p.read_text(encoding="utf-8")) for p in files]


def docs_from_jsonl(path: Path) -> list[MarkedDoc]:
    """The generated corpus (``{"id", "text", "spans"}`` per line) as MarkedDocs without look-alikes."""
    out: list[MarkedDoc] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(MarkedDoc(d["id"], d["text"], tuple((s, e, t) for s, e, t in d["spans"]), ()))
    return out


def _significant(text: str, start: int, end: int) -> list[int]:
    return [
        i for i in range(start, end) if not (text[i].isspace() or unicodedata.category(text[i])[0] in "PZ")
    ]


@dataclass
class Tally:
    total: int = 0
    caught: int = 0  # overlapped by any personal-data finding (span recall)
    whole: int = 0  # every significant character covered (strict recall)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "total": self.total,
            "span_recall": round(self.caught / self.total, 4) if self.total else 0.0,
            "strict_recall": round(self.whole / self.total, 4) if self.total else 0.0,
            "caught": self.caught,
            "whole": self.whole,
        }


def evaluate_marked(
    docs: Sequence[MarkedDoc],
    detector: Callable[[str], Iterable[tuple[int, int, str]]] | None = None,
    *,
    misses: bool = False,
) -> dict[str, object]:
    """Score ``detector`` (default: ``detect(text, sensitive=False)``) on hand-marked documents.

    A personal span is *caught* when any finding overlaps it (whatever its type: redaction removes it all the
    same) and *whole* when every character of it but spaces and punctuation is inside some finding. A look-alike
    is *kept* when no finding overlaps it. ``misses=True`` adds the missed spans' ids and types (no values).
    """
    if detector is None:
        from mamori.deid.text.detect import detect  # noqa: PLC0415

        def detector(text: str) -> list[tuple[int, int, str]]:
            return [(f.start, f.end, f.type) for f in detect(text, sensitive=False)]

    by_type: dict[str, Tally] = defaultdict(Tally)
    overall = Tally()
    keep_total: dict[str, int] = defaultdict(int)
    keep_kept: dict[str, int] = defaultdict(int)
    missed: list[dict[str, object]] = []
    chars = 0
    for doc in docs:
        found = list(detector(doc.text))
        covered = bytearray(len(doc.text) + 1)
        for s, e, _t in found:
            covered[s:e] = b"\x01" * (e - s)
        chars += len(doc.text)
        for s, e, t in doc.spans:
            caught = any(fs < e and s < fe for fs, fe, _ in found)
            sig = _significant(doc.text, s, e) or list(range(s, e))
            whole = all(covered[i] for i in sig)
            for tally in (by_type[t], overall):
                tally.total += 1
                tally.caught += caught
                tally.whole += whole
            if misses and not whole:
                missed.append({"doc": doc.id, "type": t, "start": s, "end": e, "caught": caught})
        for s, e, k in doc.keeps:
            keep_total[k] += 1
            keep_kept[k] += not any(fs < e and s < fe for fs, fe, _ in found)
    kt, kk = sum(keep_total.values()), sum(keep_kept.values())
    report: dict[str, object] = {
        "documents": len(docs),
        "characters": chars,
        "overall": overall.as_dict(),
        "by_type": {t: by_type[t].as_dict() for t in sorted(by_type)},
        "keep": {
            "total": kt,
            "kept": kk,
            "keep_rate": round(kk / kt, 4) if kt else None,
            "by_kind": {
                k: {
                    "total": keep_total[k],
                    "kept": keep_kept[k],
                    "keep_rate": round(keep_kept[k] / keep_total[k], 4),
                }
                for k in sorted(keep_total)
            },
        },
    }
    if misses:
        report["missed"] = missed
    return report
