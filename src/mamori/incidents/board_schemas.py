"""Shapes of the register helper: the board, the classification and the clock (R-26-1, R-26-2/3, G-33).

Ids, codes, field names, categories, counts and dates only — never a personal value.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from mamori.incidents.schemas import IncidentRead
from mamori.kernel.schemas import InputModel

FILING_KINDS = ("prelim", "final", "gdpr", "entrustor")
FILING_LABELS = {
    "prelim": ("速報", "preliminary report"),
    "final": ("確報", "final report"),
    "gdpr": ("監督機関への通知（GDPR）", "GDPR notification"),
    "entrustor": ("委託元への通知", "notice to the entrustor"),
}
# Why an incident owing a final report may still be closed (``force``): codes, never free text.
CLOSE_REASONS = ("joint_report", "reported_outside", "not_an_incident", "duplicate")
CLOSE_REASON_LABELS = {
    "joint_report": ("委託元等との連名で報告済み", "reported jointly (with the entrustor)"),
    "reported_outside": ("mamori の外で報告済み", "reported outside mamori"),
    "not_an_incident": ("調査の結果、事態に当たらない", "not an incident after investigation"),
    "duplicate": ("重複登録", "a duplicate"),
}

FilingKind = Literal["prelim", "final", "gdpr", "entrustor"]
CloseReason = Literal["joint_report", "reported_outside", "not_an_incident", "duplicate"]


class FilingIn(InputModel):
    """A report filed (outside mamori: the PPC form, the supervisory authority, the entrustor), and when."""

    what: FilingKind
    at: datetime | None = None  # None: now

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("タイムゾーン付きの日時で指定してください / give a time zone")
        return value


class CloseIn(InputModel):
    """Closing an incident; ``force`` with a reason code closes one whose 確報 is not filed."""

    force: bool = False
    reason: CloseReason | None = None


class DeadlinesRead(BaseModel):
    """The clock of one incident (R-26-2, R-26-3, G-33)."""

    known_day: date  # day 1 (JST)
    prelim_from: date  # day 3
    prelim_due: date  # day 5
    final_due: date  # day 30 / 60, rolled forward
    final_days: int  # 30 or 60
    gdpr_due: datetime | None
    prelim_filed_at: datetime | None
    final_filed_at: datetime | None
    gdpr_filed_at: datetime | None
    entrustor_notified_at: datetime | None
    next_kind: str | None  # prelim / final / gdpr
    next_due: datetime | None  # the end of the nearest deadline still owed (UTC instant)
    next_due_day: date | None  # its JST day
    days_left: int | None  # whole JST days from today to that day (negative: overdue)
    overdue: list[str]


class TriggerRead(BaseModel):
    code: str  # sensitive / financial / wrongful / over_1000
    label: str
    reason: str


class ClassificationRead(BaseModel):
    """The R-26-1 classification (and G-33) of one incident: counts of people, never values."""

    incident_id: str
    ref: str
    persons: int
    persons_max: int
    sensitive: int
    financial: int
    eu: int
    categories: dict[str, int]
    items: dict[str, int]
    triggers: list[TriggerRead]
    exempt: str | None
    exempt_reason: str | None
    reportable: bool
    gdpr: bool
    gdpr_risk: str | None


class BoardRow(BaseModel):
    """One line of the board, sorted by the nearest deadline (overdue first)."""

    id: str
    ref: str
    title: str
    kind: str
    suspected: bool
    cause: str
    status: str
    known_at: datetime
    persons: int
    persons_max: int
    triggers: list[str]
    exempt: str | None
    reportable: bool
    gdpr: bool
    prelim_due: date
    final_due: date
    gdpr_due: datetime | None
    next_kind: str | None
    next_due: datetime | None
    next_due_day: date | None
    days_left: int | None
    overdue: list[str]


class IncidentDetail(BaseModel):
    """An incident with its classification and deadlines (``show``)."""

    incident: IncidentRead
    classification: ClassificationRead
    deadlines: DeadlinesRead


class MineRow(BaseModel):
    """What a member of staff registered: its number and status only."""

    id: str
    ref: str
    title: str
    status: str
    created_at: datetime


class RemindDigest(BaseModel):
    """What the daily reminder found: deadlines due within the window or overdue (ids, refs, dates)."""

    due: list[BoardRow] = Field(default_factory=list)
    recipients: int = 0
    mails: int = 0
