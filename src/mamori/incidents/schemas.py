"""Pydantic shapes of the incidents slice. Validators never echo the value they reject.

Other modules of the slice add their own shapes in ``<topic>_schemas.py`` next to this file (scope_schemas,
report_schemas, notice_schemas, containment_schemas) so the owners of each part do not edit one file.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from mamori.kernel.schemas import InputModel

KINDS = ("leak", "loss", "damage")  # 漏えい / 滅失 / 毀損
KIND_LABELS = {"leak": ("漏えい", "leak"), "loss": ("滅失", "loss"), "damage": ("毀損", "damage")}
CAUSES = (
    "external_attack",
    "insider",
    "misdelivery",
    "loss_theft",
    "misconfiguration",
    "remote_work",
    "outsourcee",
    "other",
)
CAUSE_LABELS = {
    "external_attack": ("外部からの攻撃（不正アクセス等）", "external attack"),
    "insider": ("従業者による持ち出し等", "insider"),
    "misdelivery": ("誤送付・誤送信", "misdelivery"),
    "loss_theft": ("紛失・盗難", "loss or theft"),
    "misconfiguration": ("設定誤り", "misconfiguration"),
    "remote_work": ("在宅勤務中の露出（画面の盗み見等）", "exposure during remote work"),
    "outsourcee": ("委託先での事案", "at an outsourcee"),
    "other": ("その他", "other"),
}
# Causes that are acts with a wrongful purpose against the operator (R-26-1 trigger (3)) unless the officer says
# otherwise with a reason.
WRONGFUL_CAUSES = frozenset({"external_attack", "insider"})
ROLES = ("operator", "outsourcee")
STATUSES = ("open", "closed")
GDPR_RISKS = ("none", "risk", "high")

Kind = Literal["leak", "loss", "damage"]
Cause = Literal[
    "external_attack",
    "insider",
    "misdelivery",
    "loss_theft",
    "misconfiguration",
    "remote_work",
    "outsourcee",
    "other",
]


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("タイムゾーン付きの日時で指定してください / give a time zone")
    return value


class IncidentIn(InputModel):
    """Registering an incident (R-26-1, R-26-2): what happened and when the company knew."""

    title: str = Field(min_length=1, max_length=200)
    kind: Kind
    suspected: bool = False
    occurred_at: datetime | None = None
    known_at: datetime
    known_by: str = Field(min_length=1, max_length=100)
    discovered_by: str = Field(min_length=1, max_length=200)
    cause: Cause
    cause_detail: str | None = Field(default=None, max_length=4000)
    role: Literal["operator", "outsourcee"] = "operator"
    entrustor_name: str | None = Field(default=None, max_length=200)
    counterparty_id: str | None = Field(default=None, max_length=32)
    contract_id: str | None = Field(default=None, max_length=32)

    _aware_times = field_validator("occurred_at", "known_at")(_aware)


class IncidentUpdate(InputModel):
    """Changing the register; every field optional (None: unchanged). ``expect_version`` guards a stale edit."""

    expect_version: int | None = None
    title: str | None = Field(default=None, min_length=1, max_length=200)
    kind: Kind | None = None
    suspected: bool | None = None
    occurred_at: datetime | None = None
    known_at: datetime | None = None
    known_by: str | None = Field(default=None, min_length=1, max_length=100)
    discovered_by: str | None = Field(default=None, min_length=1, max_length=200)
    cause: Cause | None = None
    cause_detail: str | None = Field(default=None, max_length=4000)
    role: Literal["operator", "outsourcee"] | None = None
    entrustor_name: str | None = Field(default=None, max_length=200)
    counterparty_id: str | None = Field(default=None, max_length=32)
    contract_id: str | None = Field(default=None, max_length=32)
    wrongful_purpose: bool | None = None
    encryption_exempt: bool | None = None
    encryption_reason: str | None = Field(default=None, max_length=300)
    pseudonymised: bool | None = None
    gdpr_risk: Literal["none", "risk", "high"] | None = None
    gdpr_reason: str | None = Field(default=None, max_length=300)
    secondary_damage: str | None = Field(default=None, max_length=4000)
    actions_to_persons: str | None = Field(default=None, max_length=4000)
    publication: str | None = Field(default=None, max_length=4000)
    prevention: str | None = Field(default=None, max_length=4000)
    other: str | None = Field(default=None, max_length=4000)

    _aware_times = field_validator("occurred_at", "known_at")(_aware)


class IncidentRead(BaseModel):
    """The register row as shown (no personal value)."""

    id: str
    number: int
    ref: str  # 事案番号 as shown, e.g. "INC-0003"
    title: str
    kind: str
    suspected: bool
    occurred_at: datetime | None
    known_at: datetime
    known_by: str
    discovered_by: str
    cause: str
    cause_detail: str | None
    role: str
    entrustor_name: str | None
    counterparty_id: str | None
    contract_id: str | None
    wrongful_purpose: bool | None
    encryption_exempt: bool
    encryption_reason: str | None
    pseudonymised: bool
    gdpr_risk: str | None
    gdpr_reason: str | None
    secondary_damage: str | None
    actions_to_persons: str | None
    publication: str | None
    prevention: str | None
    other: str | None
    prelim_filed_at: datetime | None
    final_filed_at: datetime | None
    gdpr_filed_at: datetime | None
    entrustor_notified_at: datetime | None
    status: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    version: int
