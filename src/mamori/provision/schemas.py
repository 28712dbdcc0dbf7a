"""Input and output shapes of the provision slice."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, field_validator

from mamori.kernel.schemas import InputModel
from mamori.kernel.validation import Invalid

COUNTERPARTY_KINDS = ("third_party", "outsourcee", "joint_user", "succession")
CounterpartyKind = Literal["third_party", "outsourcee", "joint_user", "succession"]
CONSENT_METHODS = ("checkbox", "button", "email", "oral", "paper", "web_form")
ConsentMethod = Literal["checkbox", "button", "email", "oral", "paper", "web_form"]
# Art. 27(1) exceptions the system accepts for provision without consent (R-27-1 ①-④).
EXCEPTION_CODES = ("law", "life", "public_health", "state")
ExceptionCode = Literal["law", "life", "public_health", "state"]
RECEIPT_VARIANTS = ("opt_out", "consent", "referable", "non_operator", "succession")
# "succession": data acquired by merger / split / business transfer (事業承継) from a predecessor (R-18-2).
ReceiptVariant = Literal["opt_out", "consent", "referable", "non_operator", "succession"]
PURPOSE_PATTERN = r"^[a-z][a-z0-9_-]{1,63}$"
ID_PATTERN = r"^[0-9a-f]{32}$"


def _when(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise Invalid("時差（例: +09:00）を付けて指定してください", "a date-time needs a UTC offset")
    if not 1990 <= value.year <= 2200:
        raise Invalid("年は1990年から2200年の間で指定してください", "the year must be between 1990 and 2200")
    return value


# Input date-times: aware (an offset is required) and within a sane range.
When = Annotated[datetime, AfterValidator(_when)]
FieldName = Annotated[str, StringConstraints(pattern=r"^(attr:)?[a-z][a-z0-9_]{0,63}$")]
ItemName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^,]+$")]
PurposeCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,63}$")]
EntityId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


def _country(value: str) -> str:
    v = value.strip().upper()
    if len(v) != 2 or not v.isascii() or not v.isalpha():
        raise Invalid(
            "国・地域は ISO 3166 の2文字コードで指定してください（例: JP）",
            "country must be an ISO 3166 alpha-2 code",
        )
    return v


class CounterpartyIn(InputModel):
    kind: CounterpartyKind
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=300)
    representative: str = Field(min_length=1, max_length=200)
    # The counterparty's own number (代表 / フリーダイヤル): kept, not redacted, by ``mamori text`` (issue 23).
    phone: str | None = Field(default=None, max_length=40, pattern=r"^\+?[0-9()\- ]{6,40}$")
    country: str = "JP"
    public_body: bool = False
    system_kind: Literal["contract", "cbpr"] | None = None
    system_reference: str | None = Field(default=None, max_length=200)
    system_reviewed_at: When | None = None

    @field_validator("country")
    @classmethod
    def _c(cls, v: str) -> str:
        return _country(v)


class CounterpartyRead(BaseModel):
    id: str
    kind: str
    name: str
    address: str
    representative: str
    phone: str | None = None
    country: str
    foreign: bool
    equivalent_country: bool  # EU / UK (R-28-1 (a))
    public_body: bool
    system_kind: str | None
    system_reference: str | None
    system_reviewed_at: datetime | None
    system_review_due: datetime | None
    system_stopped: bool
    sheet_version: int | None  # the current R-28-2 information sheet
    alerts: list[str]  # e.g. "R-28-3: review overdue"
    created_at: datetime


class InfoSheetIn(InputModel):
    protection_system: str = Field(min_length=1, max_length=10000)
    recipient_measures: str = Field(min_length=1, max_length=10000)


class InfoSheetRead(BaseModel):
    counterparty_id: str
    version: int
    country: str
    protection_system: str
    recipient_measures: str
    created_at: datetime
    created_by: str


class ReviewIn(InputModel):
    reviewed_at: When | None = None
    ok: bool = True  # False: continued compliance became difficult → stop providing (R-28-3)
    next_due: When | None = None


class ProvisionConsentIn(InputModel):
    customer_id: str = Field(pattern=ID_PATTERN)
    counterparty_id: str = Field(pattern=ID_PATTERN)
    purpose: str = Field(pattern=PURPOSE_PATTERN)
    method: ConsentMethod
    evidence: str | None = Field(default=None, max_length=200)
    sheet_version: int | None = Field(default=None, ge=1)


class ProvisionConsentRead(BaseModel):
    id: str
    customer_id: str
    counterparty_id: str
    purpose: str
    method: str
    evidence: str | None
    foreign: bool
    sheet_version: int | None
    granted_at: datetime
    withdrawn_at: datetime | None
    recorded_by: str


class ExceptionIn(InputModel):
    """A recorded Art. 27(1) exception: which, who decided and why (no personal data in ``reason``)."""

    code: ExceptionCode
    decided_by: str = Field(min_length=1, max_length=80)
    reason: str = Field(min_length=1, max_length=2000)


class ProvideIn(InputModel):
    counterparty_id: str = Field(pattern=ID_PATTERN)
    purpose: str = Field(pattern=PURPOSE_PATTERN)
    fields: list[FieldName] = Field(min_length=1, max_length=50)
    customer_ids: list[EntityId] | None = Field(default=None, max_length=100000)
    notified_purpose: str | None = Field(default=None, pattern=PURPOSE_PATTERN)  # query: customers notified
    basis: Literal["consent", "exception", "opt_out", "joint_use", "entrustment", "succession"] = "consent"
    exception: ExceptionIn | None = None
    opt_out_filing_id: str | None = Field(default=None, pattern=ID_PATTERN)
    joint_use_id: str | None = Field(default=None, pattern=ID_PATTERN)
    continuous: bool = False  # continuous / repeated provision: one bulk record (R-29-1)
    medium: Literal["system", "contract"] = "system"  # a contract serving as the record (規則19(3))
    skip_refused: bool = False
    out_format: Literal["csv", "json"] = "json"

    @field_validator("fields")
    @classmethod
    def _fields(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))


class Refusal(BaseModel):
    customer_id: str
    rule_id: str
    reason: str


class ProvisionResult(BaseModel):
    provision_id: str | None
    counterparty_id: str
    purpose: str
    basis: str
    fields: list[str]
    provided: int
    refused: list[Refusal]
    record_ids: list[str]
    rows: list[dict[str, str | None]]  # the export: customer id + the allowed fields
    contract_id: str | None = None  # entrustment: the 委託契約 it ran under (R-25-1)
    handover_id: str | None = None  # entrustment: the processors handover log entry (R-25-1)


class ProvisionPreview(BaseModel):
    """A dry run of a provision: who would be provided (ids only) and who refused, with rule ids (no values)."""

    counterparty_id: str
    purpose: str
    basis: str
    fields: list[str]
    selected: int
    provided_ids: list[str]
    refused: list[Refusal]


class ProvisionSummary(BaseModel):
    """One act of providing (what ``provide`` wrote), for the page shown after it: no values, no refused ids."""

    provision_id: str
    counterparty_id: str
    purpose: str
    basis: str
    exception_code: str | None
    fields: list[str]
    provided: int
    refused: int
    record_ids: list[str]
    provided_at: datetime


class RecordRead(BaseModel):
    id: str
    direction: str
    kind: str
    customer_id: str | None
    counterparty_id: str | None
    recipient_label: str | None
    counterparty_name: str
    counterparty_address: str
    counterparty_representative: str
    counterparty_country: str
    purpose: str | None
    items: list[str]
    consent_fact: str | None
    exempt_code: str | None
    bulk: bool
    medium: str
    first_at: datetime
    last_at: datetime
    created_at: datetime
    retention_until: datetime
    subject: dict[str, str | None] | None = None  # identifying information (show only)


class ReceiveIn(InputModel):
    counterparty_id: str = Field(pattern=ID_PATTERN)
    variant: ReceiptVariant
    identity_confirmed_by: str = Field(min_length=1, max_length=200)
    acquisition: str = Field(min_length=1, max_length=2000)
    acquisition_lawful: bool
    ppc_publication_confirmed: bool = False
    consent_confirmed: bool = False
    # succession (R-18-2): our purpose codes that applied before the succession; the data is used only for these
    prior_purposes: list[PurposeCode] = Field(default_factory=list, max_length=50)


class ReceiptRead(BaseModel):
    id: str
    counterparty_id: str
    variant: str
    items: list[str]
    person_count: int
    import_job_id: str | None
    received_at: datetime
    record_ids: list[str]
    created: int
    rejected: int


class ReceiptDetail(ReceiptRead):
    """One receipt with the R-30-1 confirmation made when it was received (for the receipt page)."""

    identity_confirmed_by: str
    acquisition: str
    ppc_publication_confirmed: bool
    consent_confirmed: bool
    prior_purposes: list[str]
    received_by: str


class JointUseIn(InputModel):
    code: str = Field(pattern=PURPOSE_PATTERN)
    items: list[FieldName] = Field(min_length=1, max_length=50)
    member_ids: list[EntityId] = Field(min_length=1, max_length=200)
    users_scope: str = Field(min_length=1, max_length=2000)
    purposes: list[PurposeCode] = Field(min_length=1, max_length=50)
    responsible_name: str = Field(min_length=1, max_length=200)
    responsible_address: str = Field(min_length=1, max_length=300)
    responsible_representative: str = Field(min_length=1, max_length=200)
    notified_at: When
    effective_from: When


JOINT_USE_ITEMS = (
    "responsible_name",
    "responsible_address",
    "responsible_representative",
    "responsible_party",
    "purposes",
    "items",
    "members",
)


class JointUseChangeIn(InputModel):
    item: Literal[
        "responsible_name",
        "responsible_address",
        "responsible_representative",
        "responsible_party",
        "purposes",
        "items",
        "members",
    ]
    new_value: str = Field(min_length=1, max_length=2000)
    notified_at: When
    effective_at: When
    consent_reference: str | None = Field(default=None, max_length=200)


class JointUseChangeRead(BaseModel):
    seq: int
    item: str
    old_value: str
    new_value: str
    notified_at: datetime
    effective_at: datetime
    consent_reference: str | None
    version: int


class JointUseRead(BaseModel):
    id: str
    code: str
    items: list[str]
    member_ids: list[str]
    users_scope: str
    purposes: list[str]
    responsible_name: str
    responsible_address: str
    responsible_representative: str
    version: int
    notified_at: datetime
    effective_from: datetime
    changes: list[JointUseChangeRead]


class OptOutIn(InputModel):
    counterparty_id: str | None = Field(default=None, pattern=ID_PATTERN)
    purpose: str = Field(pattern=PURPOSE_PATTERN)
    items: list[FieldName] = Field(min_length=1, max_length=50)
    acquisition: str = Field(min_length=1, max_length=2000)
    provision_method: str = Field(min_length=1, max_length=2000)
    request_method: str = Field(min_length=1, max_length=2000)
    filed_at: When
    ppc_reference: str | None = Field(default=None, max_length=200)
    ppc_published_at: When | None = None
    notified_at: When
    objection_days: int = Field(default=30, ge=1, le=3650)
    start_at: When


OPT_OUT_ADVANCE_ITEMS = ("items", "acquisition", "provision_method", "request_method", "start_at")
OPT_OUT_PROMPT_ITEMS = ("operator", "stop")


class OptOutChangeIn(InputModel):
    item: Literal[
        "items", "acquisition", "provision_method", "request_method", "start_at", "operator", "stop"
    ]
    new_value: str = Field(min_length=1, max_length=2000)
    notified_at: When
    filed_at: When
    effective_at: When


class OptOutRead(BaseModel):
    id: str
    counterparty_id: str | None
    purpose: str
    items: list[str]
    filed_at: datetime
    ppc_reference: str | None
    ppc_published_at: datetime | None
    notified_at: datetime
    objection_days: int
    start_at: datetime
    stopped_at: datetime | None
    version: int
    usable: bool
    problems: list[str]


class ReferableConfirmIn(InputModel):
    counterparty_id: str = Field(pattern=ID_PATTERN)
    items: list[ItemName] = Field(min_length=1, max_length=50)
    method: Literal["declaration", "evidence_check"]
    evidence: str = Field(min_length=1, max_length=200)
    foreign_info_confirmed: bool = False
    sheet_version: int | None = Field(default=None, ge=1)


class ReferableProvideIn(InputModel):
    counterparty_id: str = Field(pattern=ID_PATTERN)
    items: list[ItemName] = Field(min_length=1, max_length=50)
    count: int = Field(ge=1, le=100_000_000)
    linkage_expected: bool
    confirmation_id: str | None = Field(default=None, pattern=ID_PATTERN)
    continuous: bool = False


class ReferableResult(BaseModel):
    counterparty_id: str
    items: list[str]
    count: int
    confirmation_id: str | None
    record_id: str | None


class RelayOpenIn(InputModel):
    requester_id: str = Field(pattern=ID_PATTERN)
    target_id: str = Field(pattern=ID_PATTERN)
    message: str = Field(min_length=1, max_length=4000)


class RelayConsentIn(InputModel):
    method: ConsentMethod
    evidence: str | None = Field(default=None, max_length=200)
    agree: bool = True
    share_contact: bool = False


class RelayRead(BaseModel):
    id: str
    requester_id: str
    target_id: str
    status: str  # open / consented / delivered / completed / declined (service/relay.py)
    share_contact: bool
    consented_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    answer: Literal["agreed", "declined"] | None = None  # the other customer's answer, once recorded
    delivered: bool = False  # the message was passed on
    contact_provided: bool = False  # the contact was handed over (with its provision record, R-29-2)
    closed: bool = False  # nothing more can happen
    disclosure_refused_rule: str | None = None
    message: str | None = None  # only from deliver (once)
    contact: dict[str, str | None] | None = None  # only at the hand-over (R-29-2)


class PurgeResult(BaseModel):
    purged: int
    kept: int
    expired: int  # past their retention (R-29-4)
    dry_run: bool


# -- request and response bodies of the REST API (api.py) ------------------------------------------------------


class CounterpartyDetail(BaseModel):
    counterparty: CounterpartyRead
    sheets: list[InfoSheetRead]


class ConfirmationRead(BaseModel):
    confirmation_id: str


class ImproperIn(InputModel):
    customer_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    reference: str = Field(min_length=1, max_length=200)


class ReceiveRequest(ReceiveIn):
    purposes: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,63}$")]] = Field(
        min_length=1, max_length=20
    )
    csv: str = Field(
        min_length=1, max_length=5_000_000, description="CSV text (UTF-8), as for customers import"
    )
    skip_bad_rows: bool = False


class ReceiveResponse(BaseModel):
    import_: dict[str, object] = Field(alias="import")
    receipt: ReceiptRead | None
