"""Fairness of a churn score across groups (gender, age band), with fairlearn (issue 24, deliverable 3).

Pure: no Context, no database, no audit. The groups are used here only — never as features (see ``churn``).

The positive class is *churned* (``y_true`` = 1); a person is *selected* (flagged as a likely churner) when their
score is at or above ``threshold``. Per group: the count, the selection rate, the true positive rate (share of the
churners flagged), the false positive rate (share of the stayers flagged), the AUC of the score and the base rate
(share churned). A missing group value (None, NaN, empty) is the group 「不明」 (unknown) and is reported like
any other group.

Per attribute:

- **demographic parity difference** — the largest minus the smallest selection rate across the groups
  (``fairlearn.metrics.demographic_parity_difference``);
- **equalized odds difference** — the larger of the TPR gap and the FPR gap
  (``fairlearn.metrics.equalized_odds_difference``), computed over the groups that have both churners and stayers
  only: a group without churners has no TPR, and counting it as 0 (as the bare metric would) invents a gap. The
  groups left out are named in the notes.

A group of fewer than ``SMALL_GROUP`` people is flagged 「少数のため参考値」 (for reference only): its rates move a
lot with one person. Both differences are ``None`` when fewer than two groups can be compared.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mamori.kernel.errors import ValidationFailed

UNKNOWN = "不明"
SMALL_GROUP = 30
ATTRIBUTE_LABELS: dict[str, tuple[str, str]] = {
    "gender": ("性別", "Gender"),
    "age_band": ("年代", "Age band"),
}


def attribute_label(attribute: str, lang: str = "ja") -> str:
    ja, en = ATTRIBUTE_LABELS.get(attribute, (attribute, attribute))
    return en if lang == "en" else ja


@dataclass(frozen=True)
class GroupRow:
    attribute: str
    group: str
    count: int
    selection_rate: float
    true_positive_rate: float | None  # None: no churners in the group
    false_positive_rate: float | None  # None: no stayers in the group
    auc: float | None  # None: one class only
    base_rate: float
    reference_only: bool  # fewer than SMALL_GROUP people: 少数のため参考値


@dataclass(frozen=True)
class AttributeSummary:
    attribute: str
    label_ja: str
    label_en: str
    demographic_parity_difference: float | None
    equalized_odds_difference: float | None
    threshold: float
    compared_for_equalized_odds: tuple[str, ...]  # the groups with both classes


@dataclass(frozen=True)
class Note:
    attribute: str
    group: str | None
    ja: str
    en: str


@dataclass(frozen=True)
class FairnessReport:
    rows: list[GroupRow]
    attributes: list[AttributeSummary]
    threshold: float
    notes: list[Note]

    def summary(self, attribute: str) -> AttributeSummary:
        for s in self.attributes:
            if s.attribute == attribute:
                return s
        raise KeyError(attribute)


def _invalid(ja: str, en: str) -> ValidationFailed:
    return ValidationFailed(ja, en, code="invalid_input")


def _group_labels(attribute: str, values: Sequence[str | None], size: int) -> np.ndarray:
    if len(values) != size:
        raise _invalid(
            f"属性 {attribute} の値の数 ({len(values)}) が人数 ({size}) と一致しません。",
            f"Attribute {attribute} has {len(values)} values for {size} people.",
        )
    out = []
    for v in values:
        missing = v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == ""
        out.append(UNKNOWN if missing else str(v))
    return np.array(out, dtype=object)


def _order(groups: Sequence[str]) -> list[str]:
    return sorted(groups, key=lambda g: (g == UNKNOWN, g))


def _base_rate(y_true: Any, y_pred: Any) -> float:
    return float(np.mean(y_true))


def _positives(y_true: Any, y_pred: Any) -> float:
    return float(np.sum(y_true))


def _auc(y_true: Any, y_score: Any) -> float:
    from sklearn.metrics import roc_auc_score

    if len(np.unique(y_true)) < 2:
        return float("nan")
    return float(roc_auc_score(y_true, y_score))


def _by_group(
    metrics: dict[str, Callable[..., float]], y: np.ndarray, pred: np.ndarray, g: np.ndarray
) -> dict[str, dict[str, float]]:
    from fairlearn.metrics import MetricFrame

    frame = MetricFrame(metrics=metrics, y_true=y, y_pred=pred, sensitive_features=g)
    table: dict[Any, dict[str, float]] = frame.by_group.to_dict("index")
    return {str(k): v for k, v in table.items()}


def fairness_report(
    y_true: Sequence[int] | np.ndarray,
    y_score: Sequence[float] | np.ndarray,
    groups: Mapping[str, Sequence[str | None]],
    *,
    threshold: float = 0.5,
) -> FairnessReport:
    """Group rates and the parity differences of ``y_score`` against ``y_true`` (1 = churned) per attribute.

    ``groups`` maps an attribute (``gender``, ``age_band`` …) to one group value per person, in the order of
    ``y_true``. Bad input (lengths, labels other than 0/1, non-finite scores) is a ValidationFailed.
    """
    from fairlearn.metrics import (
        count,
        demographic_parity_difference,
        equalized_odds_difference,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    y = np.asarray(y_true)
    scores = np.asarray(y_score, dtype=np.float64)
    if y.ndim != 1 or scores.ndim != 1 or y.size != scores.size or y.size == 0:
        raise _invalid(
            "正解と予測スコアは同じ人数分の1次元の値である必要があります。",
            "y_true and y_score must be one-dimensional and of the same, non-zero length.",
        )
    if not np.isin(y, (0, 1)).all():
        raise _invalid("正解は 0（継続）か 1（離反）である必要があります。", "y_true must be 0 or 1.")
    if not np.isfinite(scores).all() or not math.isfinite(threshold):
        raise _invalid(
            "予測スコアと閾値は有限の数である必要があります。", "Scores and threshold must be finite."
        )
    y = y.astype(np.int64)
    pred = (scores >= threshold).astype(np.int64)

    rows: list[GroupRow] = []
    summaries: list[AttributeSummary] = []
    notes: list[Note] = []
    for attribute, values in groups.items():
        g = _group_labels(attribute, values, y.size)
        label_ja, label_en = attribute_label(attribute, "ja"), attribute_label(attribute, "en")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # undefined rates are handled below, not warned about
            rates = _by_group(
                {
                    "count": count,
                    "selection_rate": selection_rate,
                    "true_positive_rate": true_positive_rate,
                    "false_positive_rate": false_positive_rate,
                    "base_rate": _base_rate,
                    "positives": _positives,
                },
                y,
                pred,
                g,
            )
            aucs = _by_group({"auc": _auc}, y, scores, g)
        comparable: list[str] = []
        for group in _order(list(rates)):
            r = rates[group]
            n = int(r["count"])
            positives = int(r["positives"])
            small = n < SMALL_GROUP
            auc = aucs[group]["auc"]
            group_en = "unknown" if group == UNKNOWN else group
            rows.append(
                GroupRow(
                    attribute=attribute,
                    group=group,
                    count=n,
                    selection_rate=float(r["selection_rate"]),
                    true_positive_rate=float(r["true_positive_rate"]) if positives > 0 else None,
                    false_positive_rate=float(r["false_positive_rate"]) if positives < n else None,
                    auc=None if math.isnan(auc) else float(auc),
                    base_rate=float(r["base_rate"]),
                    reference_only=small,
                )
            )
            if small:
                notes.append(
                    Note(
                        attribute,
                        group,
                        f"{label_ja}「{group}」は {n} 人と少数のため参考値です。",
                        f"{label_en} '{group_en}' has only {n} people: for reference only.",
                    )
                )
            if 0 < positives < n:
                comparable.append(group)
            else:
                notes.append(
                    Note(
                        attribute,
                        group,
                        f"{label_ja}「{group}」は離反・継続の一方しかいないため、"
                        "均等化オッズの差の計算から除きました。",
                        f"{label_en} '{group_en}' has only churners or only stayers and is left out of the "
                        "equalized odds difference.",
                    )
                )
        dpd: float | None = None
        eod: float | None = None
        if len(rates) >= 2:
            dpd = float(demographic_parity_difference(y, pred, sensitive_features=g))
        if len(comparable) >= 2:
            keep = np.isin(g, comparable)
            eod = float(equalized_odds_difference(y[keep], pred[keep], sensitive_features=g[keep]))
        summaries.append(
            AttributeSummary(
                attribute=attribute,
                label_ja=label_ja,
                label_en=label_en,
                demographic_parity_difference=dpd,
                equalized_odds_difference=eod,
                threshold=threshold,
                compared_for_equalized_odds=tuple(comparable),
            )
        )
    return FairnessReport(rows=rows, attributes=summaries, threshold=threshold, notes=notes)
