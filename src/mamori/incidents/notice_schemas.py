"""Shapes of the notices to the people (R-26-6, G-34): the plan, the send result, the send log, the substitute
measure. Ids, codes and counts only — never an address or a name. Validators never echo the value they reject."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from mamori.kernel.schemas import InputModel

CHANNELS = ("email", "letter", "substitute")
STATUSES = ("queued", "sent", "failed", "no_contact", "substitute")
SUBSTITUTE_KINDS = ("publication", "inquiry_line")
CHANNEL_LABELS = {
    "email": ("メール", "e-mail"),
    "letter": ("書面（郵送）", "letter"),
    "substitute": ("代替措置", "substitute measure"),
}
STATUS_LABELS = {
    "queued": ("送信待ち", "queued"),
    "sent": ("送付済み", "sent"),
    "failed": ("送信失敗", "failed"),
    "no_contact": ("連絡先なし", "no usable contact"),
    "substitute": ("代替措置済み", "substitute measure"),
}
SUBSTITUTE_LABELS = {
    "publication": ("事案の公表", "publication"),
    "inquiry_line": ("問合せ窓口の設置", "inquiry line"),
}

Channel = Literal["email", "letter"]


def _default_channels() -> list[Channel]:
    return ["email", "letter"]


class NoticePlan(BaseModel):
    """Who would be notified how (R-26-6): counts and customer ids, no contact value."""

    incident_id: str
    ref: str
    persons: int  # people in scope
    email: int  # with an e-mail address on file
    letter: int  # a postal address only
    no_contact: int  # erased, or neither e-mail nor postal address
    already: int  # people who already have a notice row that is not retried (queued / sent / substitute)
    eu: int  # people in scope with EU/UK origin (G-34 wording)
    email_ids: list[str] = Field(default_factory=list)
    letter_ids: list[str] = Field(default_factory=list)
    no_contact_ids: list[str] = Field(default_factory=list)
    already_ids: list[str] = Field(default_factory=list)


class NoticeSendIn(InputModel):
    """A send: the channels in order of preference; ``hold_back`` records that notice is held back while early
    notice would increase the damage (R-26-6) and sends nothing."""

    channel_preference: list[Channel] = Field(default_factory=_default_channels, min_length=1)
    hold_back: bool = False

    @field_validator("channel_preference")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("同じ送付方法が重複しています / a channel is named twice")
        return value


class NoticeSendResult(BaseModel):
    """What a send did: counts per channel, the people skipped (already notified) and those without contact."""

    incident_id: str
    ref: str
    held_back: bool = False
    email: int = 0
    letter: int = 0
    no_contact: int = 0
    skipped: int = 0
    eu: int = 0
    rule_ids: list[str] = Field(default_factory=list)
    no_contact_ids: list[str] = Field(default_factory=list)


class NoticeRead(BaseModel):
    """One line of the send log: the person by id, how and when — never the address."""

    id: str
    customer_id: str
    channel: str
    status: str
    at: datetime
    by: str
    mail_id: str | None = None
    measure_id: str | None = None


class SubstituteIn(InputModel):
    """A substitute for notice when it is impossible (R-26-6): publication (the URL) or an inquiry line (its
    number) — a fact about the company, never a person's value."""

    kind: Literal["publication", "inquiry_line"]
    note: str = Field(min_length=1, max_length=300)

    @field_validator("note")
    @classmethod
    def _one_line(cls, value: str) -> str:
        text = value.strip()
        if not text or any(c in text for c in "\r\n\0"):
            raise ValueError("1行で入力してください / give one line")
        return text


class SubstituteResult(BaseModel):
    measure_id: str
    incident_id: str
    kind: str
    persons: int  # notices marked "substitute"


class LettersMarkIn(InputModel):
    """Letters posted: the people (by customer id) whose letter went out; empty = every queued letter."""

    customer_ids: list[str] = Field(default_factory=list, max_length=100_000)

    @field_validator("customer_ids")
    @classmethod
    def _ids(cls, value: list[str]) -> list[str]:
        for v in value:
            if not (len(v) == 32 and all(c in "0123456789abcdef" for c in v)):
                raise ValueError("顧客IDの形式が正しくありません / malformed customer id")
        return value
