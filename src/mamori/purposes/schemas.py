from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from mamori.kernel.policy import Category
from mamori.kernel.schemas import InputModel

CODE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")


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

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not CODE.match(v):
            raise ValueError("code: lower-case letters, digits, _ - (2–64 chars)")
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
    warnings: list[str] = []
