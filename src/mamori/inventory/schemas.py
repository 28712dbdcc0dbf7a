"""Input and output shapes of the inventory slice: storage locations, data items, the ROPA and the countries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from mamori.kernel.policy import Category
from mamori.kernel.schemas import InputModel
from mamori.kernel.validation import Invalid

HOME_COUNTRY = "JP"
LOCATION_KINDS = ("database", "backup", "file_share", "cloud", "outsourcee_system")
LocationKind = Literal["database", "backup", "file_share", "cloud", "outsourcee_system"]
# R-2.3-1: the 11 kinds of 要配慮個人情報 (ACT 2(3) (1)-(6); 政令2 (7)-(11)).
SENSITIVE_KINDS = (
    "race",  # 人種
    "creed",  # 信条
    "social_status",  # 社会的身分
    "medical_history",  # 病歴
    "criminal_record",  # 犯罪の経歴
    "crime_victim",  # 犯罪により害を被った事実
    "disability",  # 心身の機能の障害
    "health_check",  # 健康診断等の結果
    "medical_treatment",  # 医師等による指導・診療・調剤
    "criminal_procedure",  # 刑事事件に関する手続
    "juvenile_proceedings",  # 少年の保護事件に関する手続
)
SensitiveKind = Literal[
    "race",
    "creed",
    "social_status",
    "medical_history",
    "criminal_record",
    "crime_victim",
    "disability",
    "health_check",
    "medical_treatment",
    "criminal_procedure",
    "juvenile_proceedings",
]
# G-6: the GDPR Art. 9(1) special categories.
ARTICLE9_CATEGORIES = (
    "racial_ethnic",
    "political",
    "religious",
    "trade_union",
    "genetic",
    "biometric",
    "health",
    "sex_life",
)
Article9 = Literal[
    "racial_ethnic", "political", "religious", "trade_union", "genetic", "biometric", "health", "sex_life"
]
ARTICLE10 = "article10"
# G-6 "these sets ≠ 要配慮, so tag both": the GDPR tag a 要配慮 kind must carry (any one of the set; "article10" =
# criminal data under Art. 10, which is not an Art. 9 category). Kinds absent here have no GDPR counterpart of
# their own (社会的身分, 犯罪被害): the privacy officer tags them as the facts require.
EXPECTED_GDPR: dict[str, frozenset[str]] = {
    "race": frozenset({"racial_ethnic"}),
    "creed": frozenset({"religious", "political"}),
    "medical_history": frozenset({"health"}),
    "disability": frozenset({"health"}),
    "health_check": frozenset({"health", "genetic"}),
    "medical_treatment": frozenset({"health"}),
    "criminal_record": frozenset({ARTICLE10}),
    "criminal_procedure": frozenset({ARTICLE10}),
    "juvenile_proceedings": frozenset({ARTICLE10}),
}

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,63}$")]
PurposeCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,63}$")]
EntityId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
ItemKey = Annotated[str, StringConstraints(pattern=r"^(attr:)?[a-z][a-z0-9_]{0,63}$")]
ITEM_KEY_PATTERN = r"^(attr:)?[a-z][a-z0-9_]{0,63}$"


def country_code(value: str) -> str:
    v = value.strip().upper()
    if len(v) != 2 or not v.isascii() or not v.isalpha():
        raise Invalid(
            "国・地域は ISO 3166 の2文字コードで指定してください（例: JP）",
            "country must be an ISO 3166 alpha-2 code",
        )
    return v


class LocationIn(InputModel):
    code: Code
    name: str = Field(min_length=1, max_length=200)
    kind: LocationKind
    operator: str = Field(min_length=1, max_length=200)
    country: str = HOME_COUNTRY
    region: str | None = Field(default=None, max_length=100)
    handles_data: bool = False
    counterparty_id: EntityId | None = None
    categories: list[Category] = Field(default_factory=list)
    purposes: list[PurposeCode] = Field(default_factory=list)
    foreign_note: str | None = Field(default=None, max_length=4000)
    note: str | None = Field(default=None, max_length=2000)

    @field_validator("country")
    @classmethod
    def _c(cls, v: str) -> str:
        return country_code(v)


class LocationUpdate(InputModel):
    """Only the fields given change (``code`` never does)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: LocationKind | None = None
    operator: str | None = Field(default=None, min_length=1, max_length=200)
    country: str | None = None
    region: str | None = Field(default=None, max_length=100)
    handles_data: bool | None = None
    counterparty_id: EntityId | None = None
    categories: list[Category] | None = None
    purposes: list[PurposeCode] | None = None
    foreign_note: str | None = Field(default=None, max_length=4000)
    note: str | None = Field(default=None, max_length=2000)

    @field_validator("country")
    @classmethod
    def _c(cls, v: str | None) -> str | None:
        return country_code(v) if v is not None else None


class LocationRead(BaseModel):
    id: str
    code: str
    name: str
    kind: str
    operator: str
    country: str
    region: str | None
    foreign: bool
    equivalent_country: bool  # EU / UK (R-28-1 (a))
    handles_data: bool
    counterparty_id: str | None
    counterparty_name: str | None
    counterparty_kind: str | None
    categories: list[Category]
    purposes: list[str]  # empty: holds data of every purpose
    foreign_note: str | None
    note: str | None
    retired: bool
    created_at: datetime
    updated_at: datetime


class ItemIn(InputModel):
    appi_category: Category
    sensitive_kind: SensitiveKind | None = None
    gdpr_article9: Article9 | None = None
    gdpr_article10: bool = False
    # Misuse may cause financial loss (a card number, a bank account, a payment login): R-26-1 trigger (2).
    financial: bool = False
    description: str | None = Field(default=None, max_length=500)


class ItemRead(BaseModel):
    key: str
    source: Literal["field", "attribute", "registered"]
    in_use: bool  # a customer field, or an attribute key some customer has
    reviewed: bool  # the privacy officer has tagged it
    appi_category: Category
    sensitive: bool  # 要配慮 (R-2.3-1)
    sensitive_kind: str | None
    gdpr_article9: str | None
    gdpr_article10: bool
    financial: bool = False  # R-26-1 trigger (2): a leak of it is reportable even for one person
    description: str | None
    notes: list[str] = []  # where the APPI and GDPR tags differ, and why that is expected


class Controller(BaseModel):
    name: str
    address: str
    representative: str
    privacy_contact: str
    eu_representative: str
    not_set: list[str]  # the settings still missing


class Recipient(BaseModel):
    kind: str  # third_party / outsourcee / sub_outsourcee / joint_user
    counterparty_id: str | None
    name: str
    country: str
    foreign: bool
    safeguard: str  # domestic / adequacy / 基準適合体制 / per-person consent, in words
    detail: str | None = None  # contract id and status, the joint-use code …


class StorageRef(BaseModel):
    code: str
    name: str
    kind: str
    country: str
    region: str | None
    handles_data: bool


class Activity(BaseModel):
    purpose: str
    version: int
    title_ja: str
    title_en: str
    description_ja: str
    description_en: str
    lawful_basis: str
    data_categories: list[str]
    data_items: list[str]
    sensitive_kinds: list[str]  # 要配慮 (R-2.3-1)
    gdpr_article9: list[str]
    gdpr_article10: bool
    subjects: list[str]
    recipients: list[Recipient]
    transfers: list[Recipient]  # recipients abroad (third countries) with their safeguards
    storage: list[StorageRef]
    retention: str
    retired: bool


class Ropa(BaseModel):
    """GDPR Art. 30(1) record of processing activities (G-30), generated from the registries."""

    generated_at: datetime
    controller: Controller
    activities: list[Activity]
    security_measures: list[str]
    notes: list[str]


class CountryEntry(BaseModel):
    kind: str  # storage / third_party / outsourcee / joint_user / succession / sub_outsourcee
    ref: str  # storage code, counterparty id or subcontract id
    name: str
    safeguard: str
    understanding: str | None  # R-23-7 外的環境の把握 / R-28-2 the country's system, as recorded


class Country(BaseModel):
    country: str
    equivalent_country: bool
    entries: list[CountryEntry]
