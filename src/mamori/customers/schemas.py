"""Pydantic shapes of the customers slice. Validators never echo the value they reject."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Literal, get_args

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from mamori.kernel.crypto.blind_index import phone_e164
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.jptext import PREFECTURES as PREFECTURES  # re-exported: the customers slice's names
from mamori.kernel.jptext import clean_postal as clean_postal
from mamori.kernel.jptext import complete_address, fold, parse_date, split_phone
from mamori.kernel.jptext import prefecture_of as prefecture_of
from mamori.kernel.policy import Category
from mamori.kernel.schemas import InputModel
from mamori.kernel.validation import Invalid

# Limits on what one person's record may hold (issue 17: one customer with 20,000 e-mails was accepted). Generous
# for a real company — a person has a handful of addresses and numbers — and small enough that one request cannot
# swell a record, a search index or a disclosure package. A longer list is refused as a whole (422 / one line).
MAX_PHONES = 20  # telephone numbers per customer
MAX_EMAILS = 20  # e-mail addresses per customer
MAX_ATTRIBUTES = 100  # extensible attributes per request
MAX_PURPOSES = 50  # purposes notified at collection, per request


# Field → data category: what a purpose must cover for the field to come back unmasked.
FIELD_CATEGORIES: dict[str, Category] = {
    "name": Category.IDENTIFIER,
    "kana": Category.IDENTIFIER,
    "birth_date": Category.ATTRIBUTE,
    "gender": Category.ATTRIBUTE,
    "postal_code": Category.CONTACT,
    "address": Category.CONTACT,
    "phones": Category.CONTACT,
    "emails": Category.CONTACT,
    "occupation": Category.ATTRIBUTE,
    "employer": Category.ATTRIBUTE,
    "activities": Category.BEHAVIOUR,
}
# Issue 20: which contact channels each contact field serves. Under a purpose that names channels, a field whose
# every channel is blocked for the person (do-not-contact, a missing opt-in) is masked by the policy engine.
FIELD_CHANNELS: dict[str, tuple[str, ...]] = {
    "phones": ("phone", "sms"),
    "emails": ("email",),
    "postal_code": ("post", "visit"),
    "address": ("post", "visit"),
}

SCALAR_FIELDS = ("name", "kana", "birth_date", "gender", "postal_code", "address", "occupation", "employer")
GENDERS = ("female", "male", "other", "unknown")
_KANA = re.compile(r"^[\u3041-\u3096\u30a1-\u30fa\u30fc\u30fb\s\u3000]+$")


def clean_email(value: str) -> str:
    try:
        return validate_email(
            unicodedata.normalize("NFKC", value).strip(), check_deliverability=False
        ).normalized
    except EmailNotValidError:
        raise Invalid("メールアドレスの形式が正しくありません", "not a valid address") from None


def _bad_phone() -> Invalid:
    return Invalid(
        "電話番号の形式が正しくありません（例: 090-1234-5678 または +81-90-1234-5678）",
        "not a valid Japanese or international number",
    )


def clean_phone(value: str) -> str:
    """E.164, or ``E.164;ext=NNN`` (RFC 3966) when an extension was given: ``TEL:03-1234-5678（内線123）`` →
    ``+81312345678;ext=123``; full-width digits, every dash form, a 9–10 digit number Excel stripped of its 0."""
    number, extension = split_phone(value)
    try:
        e164 = phone_e164(number)
    except ValidationFailed:
        raise _bad_phone() from None
    return e164 if extension is None else f"{e164};ext={extension}"


def clean_kana(value: str) -> str:
    v = fold(value)
    if not _KANA.match(v):
        raise Invalid(
            "フリガナはカタカナまたはひらがなで入力してください", "kana only (katakana or hiragana)"
        )
    return v


def parse_birth_date(value: str | date) -> date:
    """Every form :func:`mamori.kernel.jptext.parse_date` reads (西暦, 和暦 incl. letters and 元年, Excel serials)."""
    if isinstance(value, date):
        return value
    return parse_date(value)


def clean_address(value: str, postal_code: str | None = None) -> str:
    """The folded address; one without a 都道府県 gets the postal code's (Japan Post's data); Invalid if it has
    none and the postal code cannot give it."""
    return complete_address(value, postal_code)


# 政令5 grounds for records that are not 保有個人データ (R-16-4); see customers.service.subjects.
WithheldGround = Literal["seirei5-1", "seirei5-2", "seirei5-3", "seirei5-4"]


class AttributeIn(InputModel):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    value: str = Field(min_length=1, max_length=2000)
    category: Category = Category.ATTRIBUTE
    withheld: WithheldGround | None = None  # 政令5: not 保有個人データ, left out of disclosure (R-16-4)


# Provenance kinds whose data comes from a provider: they enter only through the receipt path (R-30-1, R-18-2).
PROVIDER_METHODS = frozenset({"third_party", "succession"})


class ReceiptIn(InputModel):
    """The R-30-1 confirmation for data from a provider (third party) or a predecessor (succession, R-18-2).

    Blank or missing values are refused by the service naming the rule (R-30-1), not by the schema."""

    counterparty_id: str = Field(default="", max_length=32, description="登録済みの提供元（提供先ID）")
    variant: Literal["opt_out", "consent", "referable", "non_operator", "succession"] | None = None
    identity_confirmed_by: str = Field(
        default="", max_length=200, description="提供元の確認方法 (R-30-1 (a))"
    )
    acquisition: str = Field(default="", max_length=2000, description="提供元の取得の経緯 (R-30-1 (b))")
    acquisition_lawful: bool = False
    ppc_publication_confirmed: bool = False
    consent_confirmed: bool = False
    prior_purposes: list[str] = Field(
        default_factory=list, max_length=50, description="事業承継: 承継前の利用目的コード (R-18-2)"
    )


class AttributeWrite(AttributeIn):
    """An attribute added to an existing person (API body). 要配慮 (category sensitive) needs the person's consent
    in the ledger or a recorded Art. 20(2) exception (R-20-2)."""

    sensitive_exception: str | None = Field(default=None, max_length=32)


MAX_CAMPAIGN_CODE = 64
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LONG_DIGIT_RUN = re.compile(r"\d{10,}")  # a phone number (10 or 11 digits), a card or account number


def campaign_code(value: str | None) -> str | None:
    """The acquisition campaign's code (issue 24, CAC per campaign), e.g. ``2026秋フェア`` or ``ad-2026-11``:
    1–64 characters after NFKC and trimming, no control character, no ``@`` and no run of 10 or more digits —
    so that an e-mail address or a phone number cannot be stored as a plaintext code. Empty → None. Refused
    ``bad_campaign_code`` (422; the message never repeats the value)."""
    if value is None:
        return None
    code = unicodedata.normalize("NFKC", value).strip()
    if not code:
        return None
    if (
        len(code) > MAX_CAMPAIGN_CODE
        or _CONTROL_CHARACTERS.search(code)
        or "@" in code
        or _LONG_DIGIT_RUN.search(code)
    ):
        raise ValidationFailed(
            f"キャンペーンコードは{MAX_CAMPAIGN_CODE}文字以内で、制御文字・@・10桁以上の数字の並びを含めずに"
            "指定してください（メールアドレスや電話番号は指定できません）。",
            f"A campaign code is 1-{MAX_CAMPAIGN_CODE} characters with no control character, no @ and no run of "
            "10 or more digits (never an e-mail address or a phone number).",
            code="bad_campaign_code",
        )
    return code


class ProvenanceIn(InputModel):
    method: Literal["direct", "third_party", "public", "succession"] = "direct"
    channel: str | None = Field(default=None, max_length=32)
    notice_version: str | None = Field(default=None, max_length=64)
    source: str | None = Field(default=None, max_length=200)
    # 取得の経緯: how the data was acquired, as the person would be told (issue 19; shown in disclosure)
    acquisition: str | None = Field(default=None, max_length=400)
    receipt: ReceiptIn | None = None  # required for third_party / succession (R-30-1)
    # The acquisition campaign's code (issue 24: CAC per campaign); checked by campaign_code (bad_campaign_code)
    campaign: str | None = None

    @field_validator("campaign", mode="before")
    @classmethod
    def _campaign(cls, v: object) -> object:
        # Before InputModel's control-character check, so every bad code is refused alike; ValidationFailed (not a
        # ValueError) leaves pydantic as it is: one line in the CLI, a 422 bad_campaign_code from the API.
        return campaign_code(v) if isinstance(v, str) else v


class SensitiveConsentIn(InputModel):
    """Consent to acquire 要配慮 data obtained at collection (R-20-2): written to the consent ledger in the same
    transaction, before the value is stored."""

    method: Literal["checkbox", "button", "email", "oral", "paper", "web_form"]
    evidence: str | None = Field(default=None, max_length=200)


class CustomerCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    kana: str | None = Field(default=None, max_length=200)
    birth_date: date | None = None
    gender: Literal["female", "male", "other", "unknown"] | None = None
    postal_code: str | None = None
    address: str | None = Field(default=None, max_length=400)
    phones: list[str] = Field(default_factory=list, max_length=MAX_PHONES)
    emails: list[str] = Field(default_factory=list, max_length=MAX_EMAILS)
    occupation: str | None = Field(default=None, max_length=200)
    employer: str | None = Field(default=None, max_length=200)
    attributes: list[AttributeIn] = Field(default_factory=list, max_length=MAX_ATTRIBUTES)
    origin: str = Field(default="JP", pattern=r"^[A-Z]{2}$")

    @field_validator("kana")
    @classmethod
    def _kana(cls, v: str | None) -> str | None:
        return clean_kana(v) if v else None

    @field_validator("birth_date", mode="before")
    @classmethod
    def _birth(cls, v: object) -> object:
        if v in (None, ""):
            return None
        if isinstance(v, str | date):
            return parse_birth_date(v)
        return v

    @field_validator("postal_code")
    @classmethod
    def _postal(cls, v: str | None) -> str | None:
        return clean_postal(v) if v else None

    @field_validator("address")
    @classmethod
    def _address(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None or not v.strip():
            return None
        # folded; without a 都道府県, the one of the postal code given with it (validated before: field order)
        return clean_address(v, info.data.get("postal_code"))

    @field_validator("phones")
    @classmethod
    def _phones(cls, v: list[str]) -> list[str]:
        return [clean_phone(p) for p in v if p.strip()]

    @field_validator("emails")
    @classmethod
    def _emails(cls, v: list[str]) -> list[str]:
        return [clean_email(e) for e in v if e.strip()]


class CustomerUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kana: str | None = Field(default=None, max_length=200)
    birth_date: date | None = None
    gender: Literal["female", "male", "other", "unknown"] | None = None
    postal_code: str | None = None
    address: str | None = Field(default=None, max_length=400)
    occupation: str | None = Field(default=None, max_length=200)
    employer: str | None = Field(default=None, max_length=200)
    add_phones: list[str] = Field(default_factory=list, max_length=MAX_PHONES)
    add_emails: list[str] = Field(default_factory=list, max_length=MAX_EMAILS)

    _kana = field_validator("kana")(CustomerCreate._kana.__func__)  # type: ignore[attr-defined]
    _birth = field_validator("birth_date", mode="before")(CustomerCreate._birth.__func__)  # type: ignore[attr-defined]
    _postal = field_validator("postal_code")(CustomerCreate._postal.__func__)  # type: ignore[attr-defined]
    _address = field_validator("address")(CustomerCreate._address.__func__)  # type: ignore[attr-defined]
    _phones = field_validator("add_phones")(CustomerCreate._phones.__func__)  # type: ignore[attr-defined]
    _emails = field_validator("add_emails")(CustomerCreate._emails.__func__)  # type: ignore[attr-defined]


class ActivityIn(InputModel):
    kind: Literal["purchase", "inquiry", "call", "note"]
    body: str | None = Field(default=None, max_length=20000)
    amount: int | None = Field(default=None, ge=0)
    occurred_at: datetime | None = None
    withheld: WithheldGround | None = None  # 政令5: e.g. "seirei5-2" for a malicious-claimer record (R-16-4)


class ActivityRead(BaseModel):
    id: str
    kind: str
    occurred_at: datetime
    body: str | None
    amount: int | None


class ProvenanceRead(BaseModel):
    method: str
    channel: str | None
    notice_version: str | None
    source: str | None
    acquired_at: datetime
    campaign: str | None = None  # the acquisition campaign's code (issue 24)


class AttributeRead(BaseModel):
    key: str
    category: Category
    value: str | None


class PurposeNoticeRead(BaseModel):
    """How one purpose was notified to this person (R-21-1): the version, how and when — or the recorded notice
    exception with its ground (R-21-3). ``pending``: only an older version was notified (R-17-2)."""

    purpose: str
    version: int
    current_version: int | None = None
    method: str
    customer_id: str | None = None
    notified_at: datetime
    exception_ground: str | None = None
    exception_by: str | None = None
    pending: bool = False


class ExternalIdRead(BaseModel):
    """A customer's number in another system (顧客番号, issue 19); ``value`` is None when the purpose does not
    cover identifiers (``external_ids`` is then in the view's ``masked``)."""

    system: str
    value: str | None


class CustomerView(BaseModel):
    """A customer as the current purpose allows: masked fields are None and listed in `masked`."""

    id: str
    owner_id: str | None
    origin: str
    purpose: str
    name: str | None = None
    kana: str | None = None
    birth_date: date | None = None
    gender: str | None = None
    postal_code: str | None = None
    address: str | None = None
    occupation: str | None = None
    employer: str | None = None
    phones: list[str] = Field(default_factory=list)
    emails: list[str] = Field(default_factory=list)
    attributes: list[AttributeRead] = Field(default_factory=list)
    activities: list[ActivityRead] = Field(default_factory=list)
    provenance: list[ProvenanceRead] = Field(default_factory=list)
    notified_purposes: list[str] = Field(default_factory=list)
    notices: list[PurposeNoticeRead] = Field(default_factory=list)
    masked: list[str] = Field(default_factory=list)
    version: int = 1
    external_ids: list[ExternalIdRead] = Field(default_factory=list)  # 顧客番号 (issue 19)


class CustomerSummary(BaseModel):
    id: str
    name: str | None
    kana: str | None
    prefecture: str | None
    masked: list[str] = Field(default_factory=list)
    notice: PurposeNoticeRead | None = (
        None  # the notice of the declared purpose to this person (R-21-1/R-21-3)
    )


class NoteWarning(BaseModel):
    type: str
    rule_id: str | None
    message_ja: str
    message_en: str


# -- request and response bodies of the REST API (api.py) ------------------------------------------------------


class CustomerCreateRequest(InputModel):
    customer: CustomerCreate
    provenance: ProvenanceIn = ProvenanceIn()
    purposes: list[str] = Field(
        min_length=1, max_length=MAX_PURPOSES, description="取得時に明示・通知した利用目的 (R-21-1/R-21-2)"
    )
    sensitive_basis: str | None = None
    sensitive_consent: SensitiveConsentIn | None = Field(
        default=None, description="取得時に得た要配慮の取得同意（同意台帳に記録, R-20-2）"
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "customer": {
                        "name": "山田 太郎",
                        "kana": "ヤマダ タロウ",
                        "emails": ["taro@example.jp"],
                        "phones": ["090-1234-5678"],
                        "address": "東京都渋谷区神宮前1-2-3",
                    },
                    "provenance": {
                        "method": "direct",
                        "channel": "web_form",
                        "notice_version": "privacy-notice-2026-04",
                    },
                    "purposes": ["contract"],
                }
            ]
        }
    }


class Created(BaseModel):
    id: str


class CustomerImportRequest(InputModel):
    """A CSV import through the API (as ``customers import``); third-party / succession data carries its receipt
    facts in ``provenance.receipt`` and is written with its receipt in one transaction (R-30-1)."""

    csv: str | None = Field(default=None, min_length=1, max_length=5_000_000, description="CSV text (UTF-8)")
    file_base64: str | None = Field(
        default=None,
        min_length=1,
        max_length=14_000_000,
        description="または、ファイルそのもの（base64）: .xlsx、Shift_JIS(CP932) / UTF-16 の CSV・TSV",
    )
    file_name: str = Field(
        default="import.csv",
        max_length=200,
        pattern=r"^[^/\\\x00-\x1f]+$",
        description="ファイル名（拡張子で形式を補助）",
    )
    source: str = Field(default="", max_length=200, description="取得元（第三者・事業承継は提供元の登録名）")
    purposes: list[str] = Field(min_length=1, max_length=20)
    provenance: ProvenanceIn = ProvenanceIn(channel="import")
    map: list[str] = Field(
        default_factory=list, max_length=200, description="列の対応付け（CLI の --map と同じ: 姓+名=name）"
    )
    seps: list[str] = Field(default_factory=list, max_length=50, description="結合の区切り（address= など）")
    mapping_name: str | None = Field(default=None, max_length=64, description="保存済みの対応付けの名前")
    sheet: str | None = Field(default=None, max_length=100, description="Excel のシート名")
    id_system: str | None = Field(default=None, max_length=200, description="顧客番号の発番元")
    skip_bad_rows: bool = False
    dry_run: bool = False
    on_duplicate: Literal["report", "merge", "create"] = "report"

    @model_validator(mode="after")
    def _one_file(self) -> CustomerImportRequest:
        if (self.csv is None) == (self.file_base64 is None):
            raise Invalid(
                "csv か file_base64 のどちらか一方を指定してください", "give exactly one of csv / file_base64"
            )
        return self


class CustomerPage(BaseModel):
    items: list[CustomerSummary]
    next_cursor: str | None


class FindRequest(InputModel):
    """Exact-match lookup. Personal values go in the body, never in the URL."""

    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, max_length=200)
    kana: str | None = Field(default=None, max_length=200)
    customer_no: str | None = Field(
        default=None, max_length=200, description="顧客番号（他システムでの番号, issue 19） / customer number"
    )
    system: str | None = Field(
        default=None,
        max_length=200,
        description="顧客番号の発行元（省略時はすべての発行元） / the number's issuing system (all when omitted)",
    )


class ActivityCreated(BaseModel):
    id: str
    warnings: list[NoteWarning]


# -- purpose notices (R-17-2, R-21-1, R-21-3) ------------------------------------------------------------------

NoticeMethod = Literal["notified", "stated", "published"]
# How the purpose reached a person collected directly, by channel (R-21-1 / R-21-2): 明示 (stated, 法第21条第2項)
# only where the person hands over the data in writing — a form on paper or on the web, a letter, an e-mail;
# on the phone, at the counter, in a visit or at an event it is 通知 (notified, 法第21条第1項). A channel not
# listed is not known to be in writing: notified.
WRITTEN_CHANNELS = frozenset(
    {"web_form", "web", "form", "paper", "application", "contract", "letter", "post", "email", "survey"}
)


def notice_method_for(provenance: ProvenanceIn) -> NoticeMethod:
    """The method recorded for the purposes notified at collection when none is given: stated (明示) for data
    the person gave directly in writing, notified (通知) for other direct collection (phone, counter, oral),
    published (公表) for data from a third party, public sources or a predecessor (法第21条第1項)."""
    if provenance.method != "direct":
        return "published"
    channel = (provenance.channel or "").strip().lower().replace("-", "_")
    return "stated" if channel in WRITTEN_CHANNELS else "notified"


# ACT 21(4) (R-21-3): (1) notice would harm the life, body, property or other rights of the person or another;
# (2) it would harm the operator's rights or legitimate interests; (3) cooperation with a state duty;
# (4) the purpose is obvious from the circumstances of the acquisition.
NoticeExceptionGround = Literal[
    "harm_to_person", "harm_to_operator", "state_cooperation", "obvious_from_circumstances"
]
NOTICE_EXCEPTION_GROUNDS: tuple[str, ...] = get_args(NoticeExceptionGround)


class NoticeIn(InputModel):
    """Record that persons were notified of the purpose's current version (R-17-2 / R-21-1)."""

    purpose: str = Field(min_length=1, max_length=64)
    method: NoticeMethod
    customer_ids: list[str] = Field(default_factory=list, max_length=10000)
    all_pending: bool = False


class NoticeExceptionIn(InputModel):
    """A notice exception (R-21-3) for one person and purpose: it stands in for the notice of the current
    version. The ground is required; who decided is the acting staff member."""

    purpose: str = Field(min_length=1, max_length=64)
    ground: NoticeExceptionGround | None = None


class NoticeResult(BaseModel):
    purpose: str
    version: int
    method: str
    recorded: list[str]
    already_current: list[str] = Field(default_factory=list)
    # R-18-2: persons received by succession, held back from a newer version without their consent
    held_back: list[str] = Field(default_factory=list)


class PendingNotice(BaseModel):
    customer_id: str
    notified_version: int
    method: str
    notified_at: datetime


class PendingNoticeList(BaseModel):
    """Who still needs the notice of the current version (R-17-2), and who stands on a notice exception."""

    purpose: str
    current_version: int
    pending: list[PendingNotice]
    exceptions: list[PurposeNoticeRead] = Field(default_factory=list)


# -- ownership (issue 21) -------------------------------------------------------------------------------------------

OWNER_CHANGE_REASONS: tuple[str, ...] = ("departure", "reassignment")
OwnerChangeReason = Literal["departure", "reassignment"]
# One owner change moves at most this many customers (a bulk transfer of a whole book; ids only, no value).
MAX_OWNER_CHANGE = 50_000
_STAFF_REF = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"
_CUSTOMER_ID = r"^[0-9a-f]{32}$"


class OwnerChange(InputModel):
    """``PATCH /customers/{id}/owner``: the staff member who takes the customer over (user name or staff id)."""

    to: str = Field(min_length=1, max_length=64, pattern=_STAFF_REF)
    reason: OwnerChangeReason = "reassignment"


class OwnerTransfer(InputModel):
    """``POST /customers/owner-transfers``: move customers to another staff member — every customer of ``from_``
    (``from``), or only ``customer_ids`` (which must then all be theirs when ``from`` is given)."""

    from_: str | None = Field(default=None, alias="from", min_length=1, max_length=64, pattern=_STAFF_REF)
    to: str = Field(min_length=1, max_length=64, pattern=_STAFF_REF)
    customer_ids: list[str] | None = Field(default=None, max_length=MAX_OWNER_CHANGE)
    reason: OwnerChangeReason = "reassignment"

    model_config = {**InputModel.model_config, "populate_by_name": True}

    @field_validator("customer_ids")
    @classmethod
    def _ids(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if not value:
                raise ValueError("customer_ids must not be empty")
            if any(not re.fullmatch(_CUSTOMER_ID, v) for v in value):
                raise ValueError("customer_ids must be customer ids")
        return value

    @model_validator(mode="after")
    def _something(self) -> OwnerTransfer:
        if self.from_ is None and self.customer_ids is None:
            raise ValueError("give from or customer_ids")
        return self


class OwnershipResult(BaseModel):
    """An owner change: who took the customers over, how many moved, how many were theirs already. Ids only."""

    to_staff_id: str
    to_username: str
    changed: int
    unchanged: int
    customer_ids: list[str]
    reason: str


# -- accuracy (issue 21) ------------------------------------------------------------------------------------------
# R-22-1: when each customer's data was last confirmed with the person, and who is due for it. Ids and dates only.

CONFIRMATION_PERIOD_DAYS = 365  # a record not confirmed for longer is due for confirmation (R-22-1)
MAX_CONFIRMATION_DAYS = 3650
MAX_UNCONFIRMED_LIMIT = 10000


class ConfirmationRead(BaseModel):
    """A confirmation recorded: the staff member confirmed the data with the person (R-22-1)."""

    customer_id: str
    confirmed_at: datetime
    previous_confirmed_at: datetime | None = None


class DueForConfirmation(BaseModel):
    """A live customer whose data was not confirmed within the period (no value)."""

    customer_id: str
    owner_id: str | None = None
    owner: str | None = None  # the owner's user name
    confirmed_at: datetime | None = None


class UnconfirmedQuery(InputModel):
    """``GET /api/v1/customers/unconfirmed`` / ``mamori customers unconfirmed``: the period and the page size."""

    days: int = Field(default=CONFIRMATION_PERIOD_DAYS, ge=1, le=MAX_CONFIRMATION_DAYS)
    limit: int = Field(default=100, ge=1, le=MAX_UNCONFIRMED_LIMIT)


class UnconfirmedList(BaseModel):
    older_than_days: int
    before: datetime  # confirmed before this (or never): due
    total: int  # due in the actor's scope, all of them
    customers: list[DueForConfirmation]
