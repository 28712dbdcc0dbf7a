"""Shapes of the access reviews (アクセス権の定期見直し, issue 25 "Deliver" 3). Staff accounts only: user names,
roles, purpose codes, dates, counts and codes — never a customer's personal value. Validators never echo the value
they reject.

A review covers a period of the calendar year in Japan time, named by a label: ``2026-Q4`` (quarters, the default
interval of 3 months), ``2026-H2`` (halves, 6), ``2026-11`` (months, 1), ``2026-Y`` (the year, 12), ``2026-P2``
(any other interval: the second period of that length from January). Its reference is ``AR-<label>`` (``-2``,
``-3`` … when a period is reviewed again).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from mamori.kernel.schemas import InputModel

PERIOD_LABEL = r"\d{4}-(?:Q[1-4]|H[12]|Y|P\d{1,2}|0[1-9]|1[0-2])"
PERIOD_PATTERN = re.compile(rf"^{PERIOD_LABEL}$")
# A review's key: its id (32 hex) or its reference (AR-2026-Q4, AR-2026-Q4-2), any case.
REF_PATTERN = re.compile(rf"^AR-({PERIOD_LABEL})(?:-([2-9]|[1-9]\d{{1,2}}))?$", re.IGNORECASE)
KEY_PATTERN = r"^(?:[0-9a-f]{32}|[Aa][Rr]-[0-9A-Za-z-]{4,20})$"
LINE_ID_PATTERN = r"^[0-9a-f]{32}$"

# The flags a line may carry, in the order they are shown: what the reviewer should look at.
FLAGS = (
    "unused",
    "untrained",
    "no_pledge",
    "disabled_with_tokens",
    "disabled_owning",
    "admin",
    "service",
)
FLAG_LABELS: dict[str, tuple[str, str]] = {
    "unused": ("未使用", "unused"),
    "untrained": ("研修未了", "untrained"),
    "no_pledge": ("誓約未提出", "no pledge"),
    "disabled_with_tokens": ("無効なのにトークンあり", "disabled, live tokens"),
    "disabled_owning": ("無効なのに担当顧客あり", "disabled, owns customers"),
    "admin": ("管理者", "administrator"),
    "service": ("サービスアカウント", "service account"),
}
# Flags that call for attention (admin and service only say what kind of account it is).
ATTENTION = frozenset({"unused", "untrained", "no_pledge", "disabled_with_tokens", "disabled_owning"})

DECISIONS = ("confirm", "change")
DECISION_LABELS: dict[str, tuple[str, str]] = {
    "confirm": ("承認（現状のまま）", "confirmed"),
    "change": ("変更", "changed"),
}
# The changes the review carries out through the staff slice: disable the account, revoke its API tokens, or move
# it to another role (``role:<role>``, an administrator's change: staff.service.change_role).
ROLE_CHANGES = ("role:admin", "role:privacy_officer", "role:sales", "role:support", "role:analyst")
CHANGES = ("disable", "revoke_tokens", *ROLE_CHANGES)
CHANGE_LABELS: dict[str, tuple[str, str]] = {
    "disable": ("アカウントを無効化", "disable the account"),
    "revoke_tokens": ("API トークンをすべて失効", "revoke every API token"),
    "role:admin": ("役割を「管理者」に変更", "move to the administrator role"),
    "role:privacy_officer": ("役割を「個人情報保護管理者」に変更", "move to the privacy officer role"),
    "role:sales": ("役割を「営業担当者」に変更", "move to the sales role"),
    "role:support": ("役割を「サポート担当者」に変更", "move to the support role"),
    "role:analyst": ("役割を「分析担当者」に変更", "move to the analyst role"),
}
CHANGE_PATTERN = r"^(?:disable|revoke_tokens|role:[a-z_]{1,32})$"
MAX_NOTE = 1000


class PeriodRead(BaseModel):
    label: str  # 2026-Q4
    start: date  # JST, inclusive
    end: date  # JST, inclusive


class ReviewLineRead(BaseModel):
    id: str
    staff_id: str
    username: str
    role: str
    kind: str  # person / service
    active: bool
    token_purposes: list[str]  # purpose codes of the live API tokens
    tokens: int  # live API tokens
    last_sign_in: datetime | None
    trained: bool
    pledged: bool
    owned_customers: int
    flags: list[str]
    decision: str | None
    change: str | None
    note: str | None
    decided_by: str | None
    decided_at: datetime | None


class ReviewRead(BaseModel):
    id: str
    ref: str  # AR-2026-Q4
    period: PeriodRead
    unused_days: int
    status: str  # open / closed
    started_by: str
    started_at: datetime
    closed_by: str | None
    closed_at: datetime | None
    digest: str | None  # SHA-256 of the sealed record (closed reviews)
    lines: int
    decided: int
    flagged: int  # lines with a flag that calls for attention
    changes: int  # lines decided with a change


class ReviewDetail(ReviewRead):
    items: list[ReviewLineRead]


class DueRead(BaseModel):
    interval_months: int
    unused_days: int
    today: date  # JST
    period: PeriodRead  # the period now due
    previous: PeriodRead
    done: bool  # a closed review covers the period now due
    overdue: bool  # no closed review covers the previous period
    open_review: ReviewRead | None
    last_closed: ReviewRead | None


class VerifyRead(BaseModel):
    review_id: str
    ref: str
    ok: bool
    computed: str  # the digest of the rows as they are now
    stored: str | None  # access_reviews.digest
    audited: str | None  # the digest in the audit log's monitoring.review_close entry
    stored_matches: bool
    audit_matches: bool
    lines: int


class StartIn(InputModel):
    """Start a review: the period label (default: the period now due)."""

    period: str | None = Field(default=None, pattern="(?i)" + PERIOD_PATTERN.pattern, max_length=12)


class DecideIn(InputModel):
    """Decide one line: confirm it, or change it (``disable`` / ``revoke_tokens``), with an optional note."""

    decision: Literal["confirm", "change"]
    change: str | None = Field(default=None, pattern=CHANGE_PATTERN, max_length=40)
    note: str | None = Field(default=None, max_length=MAX_NOTE)

    @model_validator(mode="after")
    def _change_with_change(self) -> DecideIn:
        if self.decision == "change" and not self.change:
            raise ValueError("変更の内容を指定してください / say which change")
        if self.decision == "confirm" and self.change:
            raise ValueError("承認に変更の内容は付けられません / a confirmation carries no change")
        return self
