"""Shapes of the PPC report (R-26-4, 規則8(1)) and of the notice to the entrustor (R-26-5, 規則9).

A report body holds the nine items as Japanese text drafted from the register and the scope, with the counts and
codes behind them — ids, field names, categories and counts, never a person's value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from mamori.kernel.schemas import InputModel

STAGES = ("prelim", "final", "entrustor")  # 速報 / 確報 / 委託元への通知 (R-26-5)
REPORT_STAGES = ("prelim", "final")  # the PPC report (R-26-2, R-26-3)
STAGE_LABELS = {
    "prelim": ("速報", "preliminary report"),
    "final": ("確報", "final report"),
    "entrustor": ("委託元への通知", "notice to the entrustor"),
}
FORMATS = ("html", "pdf", "json")
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "json": "application/json",
}
# The nine items of 規則8(1), numbered as on the PPC form.
ITEM_TITLES: tuple[tuple[int, str, str], ...] = (
    (1, "概要", "Overview"),
    (
        2,
        "漏えい等が発生し、又は発生したおそれがある個人データの項目",
        "Items of personal data leaked (or possibly leaked)",
    ),
    (3, "漏えい等が発生し、又は発生したおそれがある個人データに係る本人の数", "Number of persons"),
    (4, "原因", "Cause"),
    (5, "二次被害又はそのおそれの有無及びその内容", "Secondary damage or its risk"),
    (6, "本人への対応の実施状況", "Actions taken toward the persons"),
    (7, "公表の実施状況", "Public announcement"),
    (8, "再発防止のための措置", "Measures to prevent recurrence"),
    (9, "その他参考となる事項", "Other matters for reference"),
)

Stage = Literal["prelim", "final"]


class ReportDraftIn(InputModel):
    """Drafting the PPC report: 速報 (prelim) or 確報 (final)."""

    stage: Stage


class ReportItem(BaseModel):
    """One of the nine items: its number and heading, the Japanese text to paste into the PPC form, whether it is
    still unknown (「調査中」 in a 速報), and the counts and codes it was drafted from."""

    number: int
    title: str
    text: str
    unknown: bool = False
    facts: dict[str, Any] = Field(default_factory=dict)


class ReportBody(BaseModel):
    """What a version stores (canonical JSON, hashed): no drafting time, so an unchanged draft hashes the same."""

    incident_ref: str
    stage: str
    title: str  # the document's heading
    addressee: str | None = None  # the entrustor (R-26-5 notice) or None (the PPC form)
    sender: str | None = None  # the operator, from the settings
    items: list[ReportItem]


class ReportRead(BaseModel):
    """One stored version of a report or notice."""

    id: str
    incident_id: str
    incident_ref: str
    stage: str
    version: int
    sha256: str
    drafted_at: datetime
    drafted_by: str
    stored: bool = True  # False: the draft was identical to the latest version, which is returned
    body: ReportBody


class ReportVersion(BaseModel):
    """A version in the list (no body)."""

    id: str
    stage: str
    version: int
    sha256: str
    drafted_at: datetime
    drafted_by: str


class ItemDiff(BaseModel):
    """One item of the latest 速報 and 確報 side by side."""

    number: int
    title: str
    prelim: str | None
    final: str | None
    changed: bool


class ReportsRead(BaseModel):
    """The latest 速報 and 確報 side by side, the entrustor notice (if any) and every version."""

    incident_id: str
    incident_ref: str
    role: str
    prelim: ReportRead | None
    final: ReportRead | None
    entrustor: ReportRead | None
    versions: list[ReportVersion]
    diff: list[ItemDiff]
