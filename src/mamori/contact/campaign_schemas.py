"""Shapes of e-mail campaigns (issue 20): the draft marketing writes, and what a campaign page shows.

A campaign holds no personal value: the subject and body are the marketer's template (the only placeholder is
``{name}``, filled per recipient at sending), and its counts are numbers. The per-recipient record
(``CampaignSendRead``) carries ids, a status and an error code — never the address, never the body.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from mamori.kernel.schemas import InputModel
from mamori.kernel.validation import Invalid

SEND_STATUSES = ("queued", "sent", "failed", "bounced", "unsubscribed")
# brief T (issue 24 item 4): what a campaign measures — nothing (default), clicks on its links, or opens and clicks
TRACKING = ("none", "clicks", "opens_clicks")
Tracking = Literal["none", "clicks", "opens_clicks"]
PLACEHOLDERS = ("name",)
MAX_BODY = 20_000


def _not_blank(value: str) -> str:
    if not value.strip():
        raise Invalid("空にはできません", "must not be empty")
    return value


class CampaignCreate(InputModel):
    """A draft: its name, the purpose it is sent under, the subject and the plain-text body (``{name}`` only)."""

    name: str = Field(min_length=1, max_length=200)
    purpose: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,63}$")
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=MAX_BODY)
    # measurement (brief T): only under a purpose that covers behaviour data (R-18-1); never for a GDPR subject
    tracking: Tracking = "none"

    @field_validator("name", "subject", "body")
    @classmethod
    def _filled(cls, value: str) -> str:
        return _not_blank(value)

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value or "\r" in value or "\t" in value:
            raise Invalid("件名は1行で書いてください", "the subject must be one line")
        return value


class BounceIn(InputModel):
    """A bounce reported later (a DSN, the provider's report): its code only (e.g. ``5.1.1``, ``mailbox_full``)."""

    reason: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class CampaignRead(BaseModel):
    id: str
    name: str
    purpose: str
    purpose_version: int
    channel: str
    subject: str
    body: str
    status: Literal["draft", "sent"]
    created_at: datetime
    created_by: str
    sent_at: datetime | None = None
    list_build_id: str | None = None
    # at sending: how many were queued and, by reason code, left out by the list build
    queued: int = 0
    excluded: dict[str, int] = {}
    # now: sends by status (queued / sent / failed / bounced / unsubscribed)
    sends: dict[str, int] = {}
    tracking: Tracking = "none"
    links: list[str] = []  # the body's http(s) links; a tracked link /c/<token>/<n> leads to links[n]
    # now: tracked sends, and of them those opened / clicked (a click counts as an open)
    tracked: int = 0
    opened: int = 0
    clicked: int = 0


class CampaignSummary(BaseModel):
    id: str
    name: str
    purpose: str
    status: Literal["draft", "sent"]
    created_at: datetime
    sent_at: datetime | None = None
    queued: int = 0
    tracking: Tracking = "none"


class CampaignSendRead(BaseModel):
    id: str
    campaign_id: str
    customer_id: str
    status: Literal["queued", "sent", "failed", "bounced", "unsubscribed"]
    reason: str | None = None
    queued_at: datetime
    finished_at: datetime | None = None
    unsubscribed_at: datetime | None = None
    tracked: bool = False
    opened_at: datetime | None = None
    clicked_at: datetime | None = None
    clicks: int = 0


class CampaignPreview(BaseModel):
    """The message as a recipient will see it (a sample name, a sample unsubscribe link), with the footer."""

    subject: str
    text: str
    headers: list[tuple[str, str]]
    sender_configured: bool
