from __future__ import annotations

import re
from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, Field, field_validator

from mamori.kernel.policy import CHANNELS, Category
from mamori.kernel.schemas import InputModel
from mamori.kernel.validation import Invalid

CODE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")

# G-6: the GDPR Art. 6(1) lawful bases, (a) … (f).
LawfulBasis = Literal[
    "consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests"
]
LAWFUL_BASES: tuple[str, ...] = get_args(LawfulBasis)
# G-6: the GDPR Art. 9(2) conditions for special categories, (a) … (j).
Art9Condition = Literal[
    "explicit_consent",  # (a)
    "employment",  # (b) employment, social security and social protection law
    "vital_interests",  # (c) the person cannot consent
    "nonprofit_body",  # (d) foundation, association or other not-for-profit body
    "made_public",  # (e) manifestly made public by the person
    "legal_claims",  # (f) legal claims or courts
    "substantial_public_interest",  # (g)
    "health_care",  # (h) preventive or occupational medicine, health or social care
    "public_health",  # (i)
    "archiving_research",  # (j) archiving, scientific or historical research, statistics
]
ART9_CONDITIONS: tuple[str, ...] = get_args(Art9Condition)
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$")


class PurposeCreate(InputModel):
    code: str
    title_ja: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=200)
    text_ja: str = Field(min_length=1)
    text_en: str = Field(min_length=1)
    categories: list[Category] = Field(min_length=1)
    third_party: bool = False
    consent_appi: bool = False
    consent_gdpr: bool = False
    retention_days: int | None = Field(default=None, ge=1)
    # G-6. Without a lawful basis, ``consent_gdpr`` gives ``consent``; otherwise none is recorded and a GDPR
    # subject's data is refused for the purpose. With one, ``consent_gdpr`` follows from it (basis == consent).
    lawful_basis: LawfulBasis | None = None
    balancing_ref: str | None = None  # legitimate interests: the id of the balancing record (LIA)
    art9_condition: Art9Condition | None = None  # special categories (sensitive): the Art. 9(2) condition
    art10: bool = False  # covers criminal-offence data (Art. 10)
    # Issue 20: the channels the purpose contacts people by (電話 / メール / 郵送 / SMS / 訪問); none: no contact.
    channels: list[str] = Field(default_factory=list, max_length=len(CHANNELS))
    marketing: bool = False  # advertising (広告宣伝): e-mail and SMS need the person's prior opt-in (TE-3)
    # Issue 24: includes analysis / profiling (分析・プロファイリングを含む). R-17-1: the Japanese notice text must say
    # so (分析 / プロファイリング) and the purpose must cover the behaviour or attribute category it analyses.
    profiling: bool = False

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if c not in CHANNELS]
        if bad:
            raise Invalid(
                "連絡手段は " + " / ".join(CHANNELS) + " から選んでください",
                "channels: each one of " + ", ".join(CHANNELS),
            )
        return [c for c in CHANNELS if c in v]  # one order, no repeats

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not CODE.match(v):
            raise Invalid(
                "コードは英小文字・数字・_ - の2〜64文字で指定してください",
                "code: lower-case letters, digits, _ - (2–64 chars)",
            )
        return v

    @field_validator("balancing_ref")
    @classmethod
    def _ref(cls, v: str | None) -> str | None:
        if v is not None and not _REF.match(v):
            raise Invalid(
                "利益衡量の記録のIDは英数字・. _ : / - の1〜100文字で指定してください",
                "balancing_ref: an id of letters, digits and . _ : / - (1–100 chars)",
            )
        return v


class PurposeRead(BaseModel):
    code: str
    version: int
    title_ja: str
    title_en: str
    text_ja: str
    text_en: str
    categories: list[Category]
    third_party: bool
    consent_appi: bool
    consent_gdpr: bool
    retention_days: int | None
    retired: bool
    created_at: datetime
    lawful_basis: str | None = None
    balancing_ref: str | None = None
    art9_condition: str | None = None
    art10: bool = False
    channels: list[str] = []
    marketing: bool = False
    profiling: bool = False  # issue 24: includes analysis / profiling (分析・プロファイリングを含む)
    warnings: list[str] = []
    # after a revision: how many persons were notified of an older version only and need the new notice
    pending_notice: int | None = None
