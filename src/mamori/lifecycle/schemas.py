"""Shapes of the lifecycle slice (issue 21): handovers, retention and disposal, data quality. No personal value."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from mamori.kernel.schemas import InputModel

# -- handover (issue 21, seed 001 case 1) ------------------------------------------------------------------------------

HANDOVER_REASONS: tuple[str, ...] = ("departure", "reassignment")
MAX_BODY = 20_000  # as a campaign's body (contact.campaign_schemas.MAX_BODY)
_STAFF_REF = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"


class HandoverStaff(BaseModel):
    """A staff member as the handover wizard shows them (no customer's data)."""

    staff_id: str
    username: str
    display_name: str
    role: str
    active: bool
    ready: bool = True  # current on training and pledge (R-23-3): may take customers over


class HandoverPlan(BaseModel):
    """Step 1 of the wizard: the departing rep's customers (ids and count) and who may take them over."""

    departing: HandoverStaff
    customers: int
    customer_ids: list[str]
    candidates: list[
        HandoverStaff
    ]  # active staff of a role that owns customers, current on training (R-23-3)
    not_ready: list[HandoverStaff]  # would qualify but lack a current training or the latest pledge


class GreetingIn(InputModel):
    """The successor's greeting: an e-mail under a purpose that names e-mail; ``{name}`` is the only placeholder."""

    purpose: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,63}$")
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=MAX_BODY)


class HandoverCreate(InputModel):
    """``POST /handovers``: every customer of ``from`` to ``to`` (user names or staff ids), with an optional greeting."""

    from_: str = Field(alias="from", min_length=1, max_length=64, pattern=_STAFF_REF)
    to: str = Field(min_length=1, max_length=64, pattern=_STAFF_REF)
    reason: Literal["departure", "reassignment"] = "departure"
    greeting: GreetingIn | None = None

    model_config = {"populate_by_name": True}


class GreetingResult(BaseModel):
    """What the greeting did: the campaign, how many messages were queued, and who was left out by reason."""

    campaign_id: str
    purpose: str
    queued: int
    excluded: dict[str, int]


class HandoverRead(BaseModel):
    id: str
    from_staff_id: str
    from_username: str
    to_staff_id: str
    to_username: str
    customers: int
    reason: str
    at: datetime
    by: str
    campaign_id: str | None = None
    customer_ids: list[str] = Field(
        default_factory=list
    )  # the customers moved (ids; on the run's answer only)
    greeting: GreetingResult | None = None


# -- quality (issue 21, R-22-1: accuracy) -----------------------------------------------------------------------------
# Scores, codes, counts and ids only: never a value.

QUALITY_PARTS: tuple[str, ...] = ("completeness", "validity", "duplicates", "staleness")
DEFAULT_WORST = 20
MAX_WORST = 1000


class QualityQuery(InputModel):
    """``mamori quality report`` / ``GET /api/v1/quality``: the confirmation period and how many worst records."""

    period_days: int = Field(default=365, ge=1, le=3650)
    worst: int = Field(default=DEFAULT_WORST, ge=0, le=MAX_WORST)
    customer_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")


class QualityParts(BaseModel):
    """The four parts of a score, each 0–1 (1 = no problem); see ``lifecycle.service.quality``."""

    completeness: float
    validity: float
    duplicates: float
    staleness: float


class CustomerQuality(BaseModel):
    """One customer's score (the mean of the parts) and why it is not 1: issue codes, no value."""

    customer_id: str
    owner_id: str | None = None
    score: float
    parts: QualityParts
    confirmed_at: datetime | None = None
    due: bool = False  # not confirmed within the period (R-22-1)
    missing: list[str] = Field(default_factory=list)  # expected items not stored (name, kana, … contact)
    invalid: list[str] = Field(default_factory=list)  # failed validity checks (codes)
    shared: list[str] = Field(default_factory=list)  # "email" / "phone": shared with another person


class QualityBucket(BaseModel):
    low: float  # inclusive
    high: float  # exclusive, but 1.0 inclusive in the last bucket
    customers: int


class QualityReport(BaseModel):
    """The overall score (the mean of the customers' scores), the mean of each part, the distribution of the
    scores, the worst customers by id, and the counts behind them."""

    at: datetime
    period_days: int
    customers: int
    score: float
    parts: QualityParts
    distribution: list[QualityBucket]
    worst: list[CustomerQuality]
    due: int  # customers not confirmed within the period
    incomplete: int  # customers missing an expected item
    invalid: int  # customers with a failed validity check
    duplicated: int  # customers sharing an e-mail or phone with another person
    issues: dict[str, int] = Field(default_factory=dict)  # issue code -> customers with it
