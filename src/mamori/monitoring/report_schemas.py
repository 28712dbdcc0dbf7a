"""The monthly governance report (issue 25, "Deliver" 4): what the management reads about one month (JST) — reads
and exports by role, alerts and how they were handled, requests answered on time, incidents, the access-review
status and seed 002's checklist. Built by :mod:`mamori.monitoring.service.report`.

Counts, rates, dates, codes and roles only. No customer's value, no customer id, and no member of staff by name or
id: staff appear as roles and counts (the report is for the management). Incidents appear by number (INC-0003),
kind and cause, never by their title.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

#: The formats a report is rendered in (``page``: the web page); the audit entry names the one asked for.
FORMATS = ("text", "json", "html", "pdf", "page")
MEDIA_TYPES = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}

# A PPC report's state for one incident (R-26-2 速報, R-26-3 確報): filed by its due date, filed after it, not filed
# and past due, not filed and not yet due, or not owed (the incident is not reportable, R-26-1).
FilingState = Literal["on_time", "late", "overdue", "pending", "not_required"]
FILING_STATES: tuple[str, ...] = ("on_time", "late", "overdue", "pending", "not_required")
CheckStatus = Literal["ok", "attention", "ng", "manual"]


class EvaluationStatus(BaseModel):
    """How far the audit log had been read into the monitoring tables when the report was made
    (``monitoring_state``). ``covers_period``: evaluated after the month ended, so the month's figures are whole."""

    ran_now: bool  # it was run (by this report's actor) just before the report was made
    evaluated_at: datetime | None
    last_seq: int
    covers_period: bool


class RoleActivity(BaseModel):
    """One role's use of personal data in the month (``monitoring_daily`` summed over the month's JST days) and its
    accounts. ``reads`` / ``exports`` / ``off_hours`` are people counted per day (a person read on two days counts
    twice); ``sensitive`` counts read entries naming 要配慮 data."""

    role: str
    role_ja: str
    role_en: str
    accounts: int  # active person accounts of the role now
    service_accounts: int  # active service accounts (API clients) of the role now
    active_staff: int  # accounts with at least one audit entry in the month
    staff_days: int  # (account, day) pairs with entries
    entries: int
    reads: int
    denials: int
    exports: int
    off_hours: int
    sensitive: int


class ActivitySection(BaseModel):
    roles: list[RoleActivity]
    total: RoleActivity
    sources: list[str]


class SignalCount(BaseModel):
    """Alerts of one signal raised in the month, by their status now."""

    signal: str
    name_ja: str
    name_en: str
    raised: int
    high: int
    new: int
    looking: int
    dismissed: int
    incident: int


class AlertSection(BaseModel):
    """Alerts whose JST day is in the month (``monitoring_alerts.day``), by status now. ``handled``: dismissed or an
    incident opened (``handled_at`` set); the median counts days (fractional) from raised to handled."""

    raised: int
    high: int
    by_status: dict[str, int]  # new / looking / dismissed / incident: every key present
    by_signal: list[SignalCount]
    handled: int
    median_days_to_handle: float | None
    dismiss_reasons: dict[str, int]  # reason code -> alerts
    sources: list[str]


class RequestSection(BaseModel):
    """Requests from the person (開示等の請求) received in the month, as the KPI dashboard counts them (received in
    the period; on time = answered on or before the due date, the extended one when extended; open ones past due
    are late; open ones not yet due are left out), and those open past their due date at the end of the month."""

    received: int
    decided: int  # answered, or open and past due
    on_time: int
    late: int
    pending_not_due: int
    on_time_rate: float | None  # percent of ``decided``
    answered: int
    median_days: float | None  # JST calendar days from receipt to answer
    overdue_open: int  # any month's requests open and past due at ``overdue_as_of``
    overdue_as_of: datetime
    sources: list[str]


class IncidentLine(BaseModel):
    """One incident the company knew of in the month: its number and codes, never its title."""

    ref: str
    kind: str
    cause: str
    suspected: bool
    status: str
    known_at: datetime
    reportable: bool
    triggers: list[str]
    prelim_due: date
    final_due: date
    prelim: FilingState
    final: FilingState


class IncidentSection(BaseModel):
    """Incidents known in the month (``known_at``: the day the clock starts, R-26-2), their state now, and whether
    the reportable ones' 速報 (R-26-2) and 確報 (R-26-3) were filed on time."""

    known: int
    reportable: int
    open: int
    closed: int
    prelim: dict[str, int]  # FilingState -> reportable incidents
    final: dict[str, int]
    by_trigger: dict[str, int]
    open_now: int  # every open incident in the register, whatever month it was known in
    incidents: list[IncidentLine]
    sources: list[str]


class ReviewSummary(BaseModel):
    """An access review (アクセス権の定期見直し) by its reference and counts — no account is named."""

    ref: str
    period_start: date
    period_end: date
    started_at: datetime
    closed_at: datetime | None
    lines: int
    decided: int
    changes: int
    flagged: int  # lines with a flag (unused, untrained, no pledge …)


class ReviewPeriod(BaseModel):
    """A review period of the interval in force, aligned to the calendar year (2026-Q4, 2026-H2, 2026-11 …), as
    the access reviews page shows it."""

    label: str
    start: date
    end: date


class ReviewSection(BaseModel):
    """The access-review status as the reviews page judges it: the period now due and whether a closed review
    covers it (``done``); ``overdue`` when no closed review covers the previous period. With the last closed
    review and the one under way."""

    interval_months: int
    period: ReviewPeriod
    previous: ReviewPeriod
    done: bool
    overdue: bool
    last_closed: ReviewSummary | None
    open_review: ReviewSummary | None
    as_of: date
    sources: list[str]


class ChecklistLine(BaseModel):
    """One question of seed 002's practical checklist with its answer and evidence (the analytics slice's)."""

    id: str
    question_ja: str
    question_en: str
    status: CheckStatus
    evidence_ja: list[str]
    evidence_en: list[str]
    rule_ids: list[str]


class ChecklistSection(BaseModel):
    """The checklist as answered when the report was made (``available`` false: the actor may not run it)."""

    available: bool
    generated_at: datetime | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    items: list[ChecklistLine] = Field(default_factory=list)
    note_ja: str | None = None
    note_en: str | None = None


class GovernanceReport(BaseModel):
    """The monthly governance report of ``month`` (YYYY-MM, JST): ``start``–``end`` both included."""

    month: str
    start: date
    end: date
    era: str  # the month in 和暦: 令和8年11月
    complete: bool  # the month had ended when the report was made
    generated_at: datetime
    generated_by_role: str
    evaluation: EvaluationStatus
    activity: ActivitySection
    alerts: AlertSection
    requests: RequestSection
    incidents: IncidentSection
    access_review: ReviewSection
    checklist: ChecklistSection
