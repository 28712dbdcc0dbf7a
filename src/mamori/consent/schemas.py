from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from mamori.kernel.policy import CHANNELS as CHANNELS  # issue 20: one list, the policy engine's
from mamori.kernel.schemas import InputModel
from mamori.kernel.validation import Invalid

METHODS = ("checkbox", "button", "email", "oral", "paper", "web_form", "import")
GUARDIANS = ("parent", "guardian")  # 親権者 / 未成年後見人: the 法定代理人 of a minor (R-R8-4)


class ConsentIn(InputModel):
    method: Literal["checkbox", "button", "email", "oral", "paper", "web_form", "import", "request"]
    notice_version: str | None = Field(default=None, max_length=64)
    evidence: str | None = Field(default=None, max_length=200)
    # When the person gave (or withdrew) it, if not now; a time in the future (beyond 5 minutes of clock skew) is
    # refused by the service against its clock (consent_in_future, R-CNS-1).
    occurred_at: datetime | None = None
    # Who consented for a child: the person's legal guardian (法定代理人), by relationship only — parent
    # (親権者) or guardian (未成年後見人). Required for a person under 16 once R-R8-4 is in force.
    guardian: Literal["parent", "guardian"] | None = None


class ConsentEventRead(BaseModel):
    seq: int
    kind: str
    target: str
    action: str
    method: str
    notice_version: str | None
    evidence: str | None
    occurred_at: datetime
    recorded_by: str
    guardian: str | None = None


class ConsentSummary(BaseModel):
    customer_id: str
    purposes: dict[str, str]  # purpose code → granted / withdrawn
    sensitive: str  # granted / withdrawn / none
    do_not_contact: list[str]  # channels opted out
    suppressed: list[str] = []  # stop-use in force (R-35-1): purpose codes, "*" (all) or "@provision"
    events: list[ConsentEventRead]
    # Issue 20: every contact channel's state: ``opt_in`` (opted in, or a do-not-contact lifted: advertising e-mail /
    # SMS may be sent, TE-3), ``opt_out`` (do-not-contact, R-35-1) or ``none`` (nothing recorded).
    channels: dict[str, Literal["opt_in", "opt_out", "none"]] = {}


# -- request and response bodies of the REST API (api.py) ------------------------------------------------------


class ConsentRequest(ConsentIn):
    action: Literal["grant", "withdraw"]
    purpose: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_-]{1,63}$")
    sensitive: bool = False

    @model_validator(mode="after")
    def _target(self) -> ConsentRequest:
        if not self.sensitive and not self.purpose:
            raise Invalid(
                "利用目的か要配慮個人情報の区分のどちらかを指定してください",
                "purpose or sensitive is required",
            )
        return self


class ContactPreference(ConsentIn):
    channel: Literal["phone", "email", "post", "sms", "visit"]
    allow: bool = False


# -- the stop-use lists (利用停止) for the staff web app's overview (issue 15): ids and codes only --------------------


class SuppressionCount(BaseModel):
    """One stop-use list: its target (a purpose code, "*" for all use, "@provision") and how many persons."""

    target: str
    scope: Literal["purpose", "all", "provision"]
    purpose: str | None
    count: int


class SuppressedPerson(BaseModel):
    """A person on a stop-use list: the opaque id, since when, the request it names, who recorded it."""

    customer_id: str
    since: datetime
    reference: str | None
    recorded_by: str
