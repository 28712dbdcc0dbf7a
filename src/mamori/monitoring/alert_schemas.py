"""Shapes of the monitoring slice's alerts (issue 25 "Deliver" 2): the queue, one alert with its history, the audit
entries behind it, and what the privacy officer sends to handle it. Nothing here holds a customer's value: an
alert names audit entries by sequence number, and an entry is shown with its action, decision, field names,
purpose and the number of people it concerns — never their ids.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, Field

from mamori.kernel.schemas import InputModel

AlertStatus = Literal["new", "looking", "dismissed", "incident"]
DismissReason = Literal["business_need", "false_positive", "confirmed_with_person", "other"]

# Why an alert needs no action (対応不要の理由): code -> (日本語, English). ``other`` needs a note.
DISMISS_REASONS: Final[dict[str, tuple[str, str]]] = {
    "business_need": ("業務上必要", "needed for the work"),
    "false_positive": ("誤検知", "false positive"),
    "confirmed_with_person": ("本人に確認済み", "confirmed with the person"),
    "other": ("その他", "other"),
}
# UI.md glossary: 新規 / 確認中 / 対応不要 / 事案登録済み.
STATUS_LABELS: Final[dict[str, tuple[str, str]]] = {
    "new": ("新規", "new"),
    "looking": ("確認中", "looking"),
    "dismissed": ("対応不要", "dismissed"),
    "incident": ("事案登録済み", "incident opened"),
}
SEVERITY_LABELS: Final[dict[str, tuple[str, str]]] = {
    "high": ("高", "high"),
    "medium": ("中", "medium"),
    "low": ("低", "low"),
}
# The history of an alert (monitoring_alert_events.action).
EVENT_LABELS: Final[dict[str, tuple[str, str]]] = {
    "raised": ("発生", "raised"),
    "updated": ("更新", "updated"),
    "look": ("確認中にした", "being looked at"),
    "dismiss": ("対応不要にした", "dismissed"),
    "incident": ("事案として登録", "incident opened"),
    "mailed": ("メールで通知", "e-mailed"),
}
BASELINE_LABELS: Final[dict[str, tuple[str, str]]] = {
    "person": ("本人の通常", "the person's usual"),
    "role": ("役割の通常", "the role's usual"),
}
NOTE_MAX = 1000


class AlertRead(BaseModel):
    """One alert as the privacy officer sees it: what was seen against what threshold and baseline, the entries
    behind it (a count; the entries themselves through ``entries``), and how it was handled."""

    id: str
    number: int
    ref: str  # ALT-0007
    signal: str
    signal_name: str  # in the reader's language
    severity: str
    actor: str  # the audit label of the person the alert is about (staff:<id>)
    actor_username: str | None  # the staff account's user name (staff are not customers); None if unknown
    actor_role: str
    day: date  # JST
    first_at: datetime
    last_at: datetime
    observed: float
    threshold: float
    baseline: float | None
    baseline_kind: str | None  # person / role
    entries_total: int  # audit entries behind the alert (complete)
    entries_named: int  # of which named by sequence number (capped)
    detail: dict[str, Any]  # codes and counts (hours, network tags' count …), as the evaluation wrote them
    status: str
    dismiss_reason: str | None
    dismiss_note: str | None
    incident_id: str | None
    handled_by: str | None
    handled_at: datetime | None
    mailed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AlertEventRead(BaseModel):
    at: datetime
    by: str  # the audit label of who acted (system for the evaluation)
    by_username: str | None  # the staff account's user name, when it is one
    action: str  # raised / updated / look / dismiss / incident / mailed
    detail: str | None  # a code: the reason, the incident id


class AlertDetail(BaseModel):
    alert: AlertRead
    events: list[AlertEventRead]


class AlertList(BaseModel):
    """A page of the queue, newest first, and the number of alerts in each status (the tabs)."""

    alerts: list[AlertRead]
    counts: dict[str, int]  # new / looking / dismissed / incident / open
    next_before: int | None  # pass as ``before`` for the next (older) page; None: no more


class AlertEntry(BaseModel):
    """One audit entry behind an alert: what was done, never to whom (only how many people)."""

    seq: int
    at: datetime
    action: str
    action_label: str
    decision: str  # allow / deny / info
    reason: str | None  # a denial's code
    rule_ids: list[str]
    subjects: int  # number of people the entry concerns
    fields: list[str]  # field NAMES
    purpose: str | None


class AlertEntries(BaseModel):
    alert_id: str
    ref: str
    entries_total: int
    entries: list[AlertEntry]


class AlertIncident(BaseModel):
    """What opening an incident from an alert did: the alert, the incident and the people its scope holds."""

    alert: AlertRead
    incident_id: str
    incident_ref: str
    scope_id: str | None  # None when the alert's actor is no staff account (nothing to draw from the log)
    scope_persons: int


class DismissIn(InputModel):
    """対応不要: a reason code, and a note (required for ``other``; never a customer's personal data)."""

    reason: DismissReason
    note: str | None = Field(default=None, max_length=NOTE_MAX)


class AlertIncidentIn(InputModel):
    """事案として登録: an optional title (default: the alert's number and signal)."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
