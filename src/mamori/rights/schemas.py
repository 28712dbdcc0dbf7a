"""Shapes of the rights slice: request kinds, grounds, inputs and views (no personal values in views)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, EmailStr, Field, field_validator

from mamori.kernel.schemas import InputModel
from mamori.kernel.validation import Invalid
from mamori.law.rules import (
    G_12,
    G_15,
    G_16,
    G_17,
    G_18,
    G_20,
    G_21,
    R_32_2,
    R_33_1,
    R_33_3,
    R_34_1,
    R_35_1,
)

# Request kinds. Under the GDPR: disclosure = access (G-15), correction = rectification (G-16), erasure (G-17),
# restriction (G-18), portability (G-20), objection (G-21); under the APPI: purposes (R-32-2), disclosure
# (R-33-1), provision records (R-33-3), correction (R-34-1), stop-use / erasure / stop-provision (R-35-1).
KINDS: tuple[str, ...] = (
    "purpose_notice",
    "disclosure",
    "provision_records",
    "correction",
    "stop_use",
    "erasure",
    "stop_provision",
    "restriction",
    "portability",
    "objection",
)
GDPR_ONLY = frozenset({"restriction", "portability", "objection"})
DISCLOSING = frozenset({"disclosure", "provision_records", "portability"})
# R-38-1: a fee may be charged only for purpose notification and disclosure (incl. provision records).
FEE_ALLOWED = frozenset({"purpose_notice", "disclosure", "provision_records"})

APPI_RULES: dict[str, str] = {
    "purpose_notice": R_32_2.id,
    "disclosure": R_33_1.id,
    "provision_records": R_33_3.id,
    "correction": R_34_1.id,
    "stop_use": R_35_1.id,
    "erasure": R_35_1.id,
    "stop_provision": R_35_1.id,
}
GDPR_RULES: dict[str, str] = {
    "purpose_notice": G_15.id,
    "disclosure": G_15.id,
    "provision_records": G_15.id,
    "correction": G_16.id,
    "stop_use": G_18.id,
    "erasure": G_17.id,
    "stop_provision": G_21.id,
    "restriction": G_18.id,
    "portability": G_20.id,
    "objection": G_21.id,
}


def rule_for(kind: str, regime: str) -> str:
    return (GDPR_RULES if regime == "gdpr" else APPI_RULES).get(kind, G_12.id)


CHANNELS = ("web", "phone", "letter", "counter", "email")
AGENT_KINDS = ("legal_representative", "mandated_agent")  # R-37-1, 政令13
AGENT_DOCUMENTS = (
    "family_register",  # 戸籍謄本 (parent of a minor)
    "guardianship_registry",  # 登記事項証明書 (adult guardian)
    "power_of_attorney",  # 委任状
    "seal_certificate",  # 印鑑登録証明書 with the power of attorney
)
ID_DOCUMENTS = ("drivers_license", "my_number_card", "passport", "residence_card", "health_insurance_card")
VERIFY_METHODS = ("email_code", "callback", "id_document", "login")

# Grounds the person gives for stop-use / erasure (R-35-1, incl. the 2022 grounds of 35(5)) and GDPR 17(1).
STOP_GROUNDS = (
    "unlawful_handling",  # 35(1): breach of Art. 18/19, or acquired in breach of Art. 20
    "unlawful_provision",  # 35(3): provision in breach of 27(1)/28
    "no_longer_needed",  # 35(5) since 2022
    "reportable_leak",  # 35(5) since 2022
    "harm_to_rights",  # 35(5) since 2022
    "consent_withdrawn",  # GDPR 17(1)(b)
    "objection",  # GDPR 17(1)(c)
    "direct_marketing",  # GDPR 21(2)-(3): absolute
    "other",
)

# Refusal grounds by regime, each with its article and the plain reason a letter gives: mamori.rights.grounds.

_CODE = r"^[a-z][a-z0-9_-]{1,63}$"


RequestKind = Literal[
    "purpose_notice",
    "disclosure",
    "provision_records",
    "correction",
    "stop_use",
    "erasure",
    "stop_provision",
    "restriction",
    "portability",
    "objection",
]


class RequestOpen(InputModel):
    """A request taken by staff (phone, letter, counter) or filed by the person (web)."""

    kind: RequestKind
    regime: Literal["appi", "gdpr"] | None = None  # None: GDPR if a subject's origin is EU/UK, else APPI
    channel: Literal["web", "phone", "letter", "counter", "email"] = "web"
    emails: list[EmailStr] = Field(default_factory=list, max_length=3)
    phones: list[str] = Field(default_factory=list, max_length=3)
    customer_id: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{32}$"
    )  # claimed; verified only by staff
    categories: list[str] | None = Field(default=None, max_length=20)
    purpose: str | None = Field(default=None, pattern=_CODE)
    stop_scope: Literal["purpose", "all", "provision"] | None = None
    ground: (
        Literal[
            "unlawful_handling",
            "unlawful_provision",
            "no_longer_needed",
            "reportable_leak",
            "harm_to_rights",
            "consent_withdrawn",
            "objection",
            "direct_marketing",
            "other",
        ]
        | None
    ) = None
    # The published notice's version the person was shown before submitting (R-21-2): required on the public
    # intake (web), recorded on the request.
    notice_version: int | None = Field(default=None, ge=1)
    agent_kind: Literal["legal_representative", "mandated_agent"] | None = None
    agent_document: (
        Literal["family_register", "guardianship_registry", "power_of_attorney", "seal_certificate"] | None
    ) = None
    fee_yen: int | None = Field(default=None, ge=0, le=10_000)
    received_at: datetime | None = None  # a letter's arrival; default now

    @field_validator("phones")
    @classmethod
    def _phones(cls, value: list[str]) -> list[str]:
        for p in value:
            if not 6 <= len(p) <= 32:
                raise Invalid("電話番号は6〜32文字で入力してください", "phone must be 6-32 characters")
        return value

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        import re

        for c in value:
            if not re.fullmatch(r"^[a-z0-9_:.-]{1,64}$", c):
                raise Invalid(
                    "区分は customers:contact のような「データ源:区分」の形です",
                    "category must be a code like 'customers:contact'",
                )
        return value


class IdentifierView(BaseModel):
    id: str
    kind: str
    verified: bool
    method: str | None = None
    document: str | None = None
    checked_by: str | None = None


class EventView(BaseModel):
    seq: int
    event: str
    actor: str
    at: datetime
    rule_ids: list[str]
    details: dict[str, Any]


class RequestView(BaseModel):
    receipt_no: str | None = None  # 受付番号 readable on the phone (R-2026-000123)
    id: str
    kind: str
    regime: str
    channel: str
    status: str
    outcome: str | None = None
    # the answer on its way (issue 18): sending / undelivered / posting; delivered once closed
    answer_state: str | None = None
    received_at: datetime
    due_on: date
    extended_due_on: date | None = None
    effective_due_on: date
    overdue: bool
    days_left: int
    agent_kind: str | None = None
    agent_document: str | None = None
    categories: list[str] | None = None
    purpose: str | None = None
    stop_scope: str | None = None
    fee_yen: int | None = None
    refusal_ground: str | None = None
    withheld_count: int = 0
    subject_ids: list[str] = Field(default_factory=list)
    identifiers: list[IdentifierView] = Field(default_factory=list)
    events: list[EventView] = Field(default_factory=list)
    rule_id: str


class PublicReceipt(BaseModel):
    """What the person gets back from the public endpoint: never whether they are a customer."""

    request_id: str
    receipt_no: str | None = None
    token: str = Field(description="この請求の照会・本人確認に使う秘密の値（再表示されません）")
    due_on: date
    message: str


class PublicStatus(BaseModel):
    request_id: str
    receipt_no: str | None = None
    kind: str
    status: str
    outcome: str | None = None
    # answered: the answer is given (its e-mail may still be on its way; the request closes on delivery)
    answered: bool = False
    due_on: date
    verified_identifiers: int
    categories_held: dict[str, int] | None = None  # after verification only
    # Before verification: how many more codes may be tried (0: the code expired or the 5th wrong code locked the
    # request; the person then turns to the contact point). The same for a stranger's address as for a customer's.
    attempts_left: int = 0


class RecordOut(BaseModel):
    source: str
    category: str
    record_id: str
    data: dict[str, Any]
    acquired_from: str | None = None
    purposes: list[str] = Field(default_factory=list)
    occurred_at: datetime | None = None


class DisclosurePackage(BaseModel):
    request_id: str
    kind: str
    regime: str
    rule_ids: list[str]
    generated_at: datetime
    subject_ids: list[str]
    purposes: list[dict[str, str]]
    records: list[RecordOut]
    recipients: list[dict[str, Any]]
    refused_categories: dict[str, str] = Field(default_factory=dict)  # category → ground (R-33-2)
    refusal_explanation: str | None = None  # the concrete reason for the refused parts (法第36条)
    receipt_no: str | None = None  # 受付番号 readable on the phone (R-2026-000123)
    received_at: datetime | None = None  # when the request was received (the letter names the request's date)
    fee_yen: int | None = None  # R-38-1
    lang: str = "ja"  # the language the person made the request in: the letter's language
    no_data: bool = False  # "no data held" is itself a disclosure (R-33-1)


class CorrectionOut(BaseModel):
    source: str
    category: str
    record_id: str
    field: str
    before: Any
    after: Any


class Outcome(BaseModel):
    request_id: str
    kind: str
    outcome: str
    rule_ids: list[str]
    corrections: list[CorrectionOut] = Field(default_factory=list)
    erased: dict[str, int] = Field(default_factory=dict)  # source → records
    recipients_to_notify: list[dict[str, Any]] = Field(default_factory=list)  # G-19
    suppressions: list[str] = Field(default_factory=list)
    notice_ja: str = ""


# -- request and response bodies of the REST API (api.py) ------------------------------------------------------


class IdentifierIn(InputModel):
    kind: Literal["email", "phone"]
    value: str = Field(min_length=3, max_length=254)


class SendCodeIn(InputModel):
    identifier_id: str = Field(pattern=r"^[0-9a-f]{32}$")


class VerifyIn(InputModel):
    method: Literal["email_code", "callback", "id_document", "login"]
    identifier_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    code: str | None = Field(default=None, pattern=r"^\d{6}$")
    customer_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    document: str | None = Field(default=None, max_length=32)


class VerifyOut(BaseModel):
    verified: bool
    # How many customers the verified identifier reached: shown to the privacy officer only; null for other staff,
    # so that a call-back cannot be used to learn whether a number belongs to a customer (issue 17).
    customers_reached: int | None
    attempts_left: int | None = None


class ScopeIn(InputModel):
    categories: list[Annotated[str, Field(pattern=r"^[a-z0-9_.-]{1,32}:[a-z0-9_.-]{1,32}$")]] = Field(
        min_length=1, max_length=20
    )


class CorrectionIn(InputModel):
    source: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,31}$")
    record_id: str = Field(min_length=1, max_length=64)
    changes: dict[str, str | None] = Field(min_length=1, max_length=20)


class FulfilIn(InputModel):
    format: Literal["json", "csv", "html", "pdf"] = "json"
    partial_refusals: dict[str, Annotated[str, Field(pattern=r"^[a-z_]{3,32}$")]] = Field(
        default_factory=dict,
        max_length=20,
        description="一部不開示: データ源:区分 → 事由（請求の法令の事由）",
    )
    refusal_explanation: str | None = Field(
        default=None, max_length=2000, description="一部不開示の具体的な理由（本人に伝えます。法第36条）"
    )
    corrections: list[CorrectionIn] = Field(default_factory=list, max_length=50)


class FulfilOut(BaseModel):
    outcome: Outcome
    package: DisclosurePackage | None = None


class RefuseIn(InputModel):
    ground: str = Field(pattern=r"^[a-z_]{3,32}$", description="不対応の事由（請求の法令の事由のみ）")
    explanation: str = Field(
        min_length=1, max_length=2000, description="本人に伝える具体的な理由（必須。法第36条）"
    )
    alternative: str | None = Field(
        default=None, max_length=2000, description="利用停止等に代えてとる措置（法第35条ただし書）"
    )


class ExtendIn(InputModel):
    months: int = Field(ge=1, le=2)
    reason: Literal["complexity", "volume"]


class FeeIn(InputModel):
    yen: int = Field(ge=0, le=10_000)


class PublicRequestIn(InputModel):
    kind: RequestKind
    regime: Literal["appi", "gdpr"] | None = None
    email: EmailStr = Field(max_length=254, description="登録済みのメールアドレス（確認コードを送ります）")
    customer_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    categories: list[Annotated[str, Field(pattern=r"^[a-z0-9_.-]{1,32}:[a-z0-9_.-]{1,32}$")]] | None = Field(
        default=None, max_length=20
    )
    purpose: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_-]{1,63}$")
    stop_scope: Literal["purpose", "all", "provision"] | None = None
    # Required by R-21-2, checked by the service (a missing or unknown version is refused with code
    # notice_not_shown and the rule id, not as a bare schema error).
    notice_version: int | None = Field(
        default=None,
        ge=1,
        description="公表事項の版（必須。フォームが送信前に示した版。R-21-2） / the notice version the form "
        "showed (required)",
    )


class PublicVerifyIn(InputModel):
    code: str = Field(pattern=r"^\d{6}$")


class PublicScopeIn(InputModel):
    categories: list[Annotated[str, Field(pattern=r"^[a-z0-9_.-]{1,32}:[a-z0-9_.-]{1,32}$")]] = Field(
        min_length=1, max_length=20
    )
