"""Shapes of retention and disposal (issue 21, R-22-1): rules, legal holds, the plan and the disposal record.

No personal value anywhere: ids, codes, counts and dates. The plan's ``detail`` (customer ids, for the privacy
officer's --json) is the only place ids of persons appear.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

BASES = ("relationship_end", "last_activity")
CATEGORIES = ("*", "identifier", "contact", "attribute", "behaviour", "sensitive")
HOLD_REASONS = ("litigation", "investigation", "regulator", "other")
_PURPOSE = re.compile(r"\*|[a-z0-9][a-z0-9_-]{0,63}")
_ID = re.compile(r"[0-9a-f]{32}")
MAX_DAYS = 365 * 100


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(min_length=1, max_length=64)  # "*" = any purpose
    category: Literal["*", "identifier", "contact", "attribute", "behaviour", "sensitive"] = "*"
    days: int = Field(ge=1, le=MAX_DAYS)
    basis: Literal["relationship_end", "last_activity"]
    note: str | None = Field(default=None, max_length=200)

    @field_validator("purpose")
    @classmethod
    def _purpose(cls, value: str) -> str:
        value = value.strip()
        if not _PURPOSE.fullmatch(value):
            raise ValueError("purpose code: lowercase letters, digits, - or _, or *")
        return value

    @field_validator("note")
    @classmethod
    def _note(cls, value: str | None) -> str | None:
        value = value.strip() if value is not None else None
        return value or None


class RuleRead(BaseModel):
    id: str
    purpose: str
    category: str
    days: int
    basis: str
    note: str | None
    created_at: datetime
    created_by: str
    retired_at: datetime | None = None
    retired_by: str | None = None


class HoldCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str
    reason: Literal["litigation", "investigation", "regulator", "other"]
    note: str | None = Field(default=None, max_length=200)

    @field_validator("customer_id")
    @classmethod
    def _customer(cls, value: str) -> str:
        value = value.strip()
        if not _ID.fullmatch(value):
            raise ValueError("a customer id: 32 hexadecimal characters")
        return value

    @field_validator("note")
    @classmethod
    def _note(cls, value: str | None) -> str | None:
        value = value.strip() if value is not None else None
        return value or None


class HoldRead(BaseModel):
    id: str
    customer_id: str
    reason: str
    note: str | None
    set_at: datetime
    set_by: str
    released_at: datetime | None = None
    released_by: str | None = None


class PlanRule(BaseModel):
    """One active rule and how many persons (whole person) or persons' categories it makes due now."""

    rule_id: str
    purpose: str
    category: str
    days: int
    basis: str
    due: int


class PlanHold(BaseModel):
    code: str  # open_request / legal_hold / open_incident …
    rule_id: str
    persons: int


class ProvisionKept(BaseModel):
    """R-29-4: provision / receipt records of the persons due, kept for their own retention after the disposal."""

    persons: int = 0
    records: int = 0
    earliest_until: datetime | None = None
    latest_until: datetime | None = None


class PlanDue(BaseModel):
    customer_id: str
    rule_id: str


class PlanHeld(BaseModel):
    customer_id: str
    code: str
    rule_id: str


class PlanKept(BaseModel):
    customer_id: str
    records: int
    until: datetime


class PlanCategory(BaseModel):
    customer_id: str
    category: str
    rule_id: str


class PlanDetail(BaseModel):
    due: list[PlanDue] = []
    held: list[PlanHeld] = []
    provision: list[PlanKept] = []
    categories: list[PlanCategory] = []


class RetentionPlan(BaseModel):
    """What a run at ``at`` would dispose of and why; ``sha256`` identifies the plan (written on the record)."""

    at: datetime
    rules: list[PlanRule]
    persons_checked: int
    due: int  # persons to crypto-shred
    category_due: int  # kept persons with a category to delete
    held: list[PlanHold]
    uncovered: int  # persons no rule covers (never disposed of)
    provision_kept: ProvisionKept
    sha256: str
    detail: PlanDetail | None = None


class DisposalRead(BaseModel):
    id: str
    ran_at: datetime
    ran_by: str
    trigger: str
    method: str
    persons: int
    counts: dict[str, int]
    held: dict[str, int]
    rules: dict[str, int]
    plan_sha256: str
    job_run_id: str | None = None
