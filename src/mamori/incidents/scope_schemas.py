"""Shapes of an incident's scope (issue 22 "Deliver" 2; R-26-1, R-26-7). Validators never echo the value they
reject; nothing here carries a personal value — ids, field NAMES, categories, codes and counts only."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag, field_validator, model_validator

from mamori.kernel.schemas import InputModel

METHODS = ("audit", "provision", "processor_handover", "ids", "filter", "estimate")
METHOD_LABELS = {
    "audit": ("監査ログ（閲覧・出力の記録）", "audit log (reads and exports)"),
    "provision": ("第三者提供の記録", "provision record"),
    "processor_handover": ("委託先への引渡し", "handover to an outsourcee"),
    "ids": ("顧客IDの一覧", "list of customer ids"),
    "filter": ("条件による抽出", "filter over customers"),
    "estimate": ("人数の見込み（最大）", "estimated maximum"),
}
# The categories an item of the scope falls in (customers' data categories, with "financial" from the inventory).
CATEGORY_LABELS = {
    "identifier": ("識別子（氏名等）", "identifiers"),
    "contact": ("連絡先", "contact details"),
    "attribute": ("属性", "attributes"),
    "behaviour": ("行動・履歴", "behaviour"),
    "sensitive": ("要配慮個人情報", "sensitive (要配慮)"),
    "financial": ("財産的被害のおそれがある情報", "may cause financial loss"),
}


def field_label(name: str, lang: str = "ja") -> str:
    """A field NAME in words (氏名, 電話番号 …; ``attr:<key>`` as 属性「key」), for the CLI and the pages."""
    from mamori.kernel import labels

    if name.startswith("attr:"):
        return f"属性「{name[5:]}」" if lang != "en" else f"attribute “{name[5:]}”"
    base, _, part = name.partition(":")
    if part:  # e.g. activities:sensitive — the 要配慮 notes of the activities
        extra = (
            ("（要配慮個人情報の記載）", " (sensitive notes)")
            if part == "sensitive"
            else (f"（{part}）", f" ({part})")
        )
        return field_label(base, lang) + extra[1 if lang == "en" else 0]
    for key in (f"customer_field.{name}", f"field.{name}", f"field.{name.removesuffix('s')}"):
        if labels.has(key):
            return labels.label(key, lang)
    return name


MAX_IDS = 100_000  # customer ids in one list (an import batch is at most 20 000 rows)
MAX_FIELDS = 100
MAX_ESTIMATE = 100_000_000
_FIELD = re.compile(r"^[a-z][a-z0-9_]{0,39}(:[A-Za-z0-9][A-Za-z0-9_.\-]{0,63})?$")
_ID = re.compile(r"^[0-9A-Za-z_-]{1,32}$")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("タイムゾーン付きの日時で指定してください / give a time zone")
    return value


def _fields(value: list[str]) -> list[str]:
    if len(value) > MAX_FIELDS:
        raise ValueError(f"項目は {MAX_FIELDS} 個までです / at most {MAX_FIELDS} fields")
    for name in value:
        if not isinstance(name, str) or _FIELD.fullmatch(name) is None:
            raise ValueError(
                "項目名は英小文字・数字・_（属性は attr:キー）です / a field name is lower-case letters, digits "
                "and _ (an attribute attr:<key>)"
            )
    return list(dict.fromkeys(value))


class AuditScopeIn(InputModel):
    """Everything a staff account, a session or an API token read or exported between two times."""

    method: Literal["audit"] = "audit"
    username: str | None = Field(default=None, max_length=64)
    session_id: str | None = Field(default=None, max_length=32)
    token_id: str | None = Field(default=None, max_length=32)
    since: datetime
    until: datetime

    _aware_times = field_validator("since", "until")(_aware)

    @model_validator(mode="after")
    def _one_actor(self) -> AuditScopeIn:
        given = [v for v in (self.username, self.session_id, self.token_id) if v]
        if len(given) != 1:
            raise ValueError(
                "ユーザー名・セッションID・トークンIDのいずれか1つを指定してください / give exactly one of "
                "username, session_id, token_id"
            )
        if self.username is not None and _USER.fullmatch(self.username) is None:
            raise ValueError("ユーザー名の形式が正しくありません / not a user name")
        for value in (self.session_id, self.token_id):
            if value is not None and _ID.fullmatch(value) is None:
                raise ValueError("IDの形式が正しくありません / not an id")
        if self.since >= self.until:
            raise ValueError("開始は終了より前にしてください / since must be before until")
        return self


class ProvisionScopeIn(InputModel):
    """The people of one provision (an export to a third party) and the fields provided."""

    method: Literal["provision"] = "provision"
    provision_id: str = Field(pattern=r"^[0-9A-Za-z_-]{1,32}$")


class HandoverScopeIn(InputModel):
    """The people of one handover to an outsourcee and the fields handed over."""

    method: Literal["processor_handover"] = "processor_handover"
    handover_id: str = Field(pattern=r"^[0-9A-Za-z_-]{1,32}$")


class IdsScopeIn(InputModel):
    """A list of customer ids and the fields concerned."""

    method: Literal["ids"] = "ids"
    ids: list[str] = Field(min_length=1, max_length=MAX_IDS)
    fields: list[str] = Field(min_length=1)

    _check_fields = field_validator("fields")(_fields)

    @field_validator("ids")
    @classmethod
    def _ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not isinstance(item, str) or _ID.fullmatch(item) is None:
                raise ValueError("顧客IDの形式が正しくありません / not a customer id")
        return list(dict.fromkeys(value))


class ScopeFilter(InputModel):
    """A filter over customers that needs no decryption: every condition given must hold (AND)."""

    purpose: str | None = Field(default=None, max_length=64)  # notified of this purpose
    import_job_id: str | None = Field(default=None, pattern=r"^[0-9A-Za-z_-]{1,32}$")
    origin: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")  # JP / EU / UK …
    owner: str | None = Field(default=None, max_length=64)  # the owning rep's user name
    team: str | None = Field(default=None, max_length=64)
    created_since: datetime | None = None
    created_until: datetime | None = None

    _aware_times = field_validator("created_since", "created_until")(_aware)

    @model_validator(mode="after")
    def _some(self) -> ScopeFilter:
        if not any(
            v is not None
            for v in (
                self.purpose,
                self.import_job_id,
                self.origin,
                self.owner,
                self.team,
                self.created_since,
                self.created_until,
            )
        ):
            raise ValueError("条件を1つ以上指定してください / give at least one condition")
        if self.purpose is not None and _CODE.fullmatch(self.purpose) is None:
            raise ValueError("利用目的コードの形式が正しくありません / not a purpose code")
        if self.owner is not None and _USER.fullmatch(self.owner) is None:
            raise ValueError("ユーザー名の形式が正しくありません / not a user name")
        if self.team is not None and _CODE.fullmatch(self.team.lower()) is None:
            raise ValueError("チーム名の形式が正しくありません / not a team name")
        if self.created_since and self.created_until and self.created_since >= self.created_until:
            raise ValueError("開始は終了より前にしてください / since must be before until")
        return self

    def params(self) -> dict[str, str]:
        """The filter as recorded with the scope: codes, ids and times only."""
        out: dict[str, str] = {}
        for name in ("purpose", "import_job_id", "origin", "owner", "team"):
            value = getattr(self, name)
            if value is not None:
                out[name] = str(value)
        for name in ("created_since", "created_until"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.isoformat()
        return out


class FilterScopeIn(ScopeFilter):
    method: Literal["filter"] = "filter"
    fields: list[str] = Field(min_length=1)

    _check_fields = field_validator("fields")(_fields)


class EstimateScopeIn(InputModel):
    """An unknown count entered as a maximum (R-26-1: the maximum counts when the number is uncertain)."""

    method: Literal["estimate"] = "estimate"
    maximum: int = Field(ge=1, le=MAX_ESTIMATE)
    fields: list[str] = Field(min_length=1)

    _check_fields = field_validator("fields")(_fields)


def _method_of(value: Any) -> str | None:
    method = value.get("method") if isinstance(value, dict) else getattr(value, "method", None)
    return method if isinstance(method, str) and method in METHODS else None


# Discriminated by ``method`` (a callable discriminator: InputModel's before-validator covers every field).
ScopeIn = Annotated[
    Annotated[AuditScopeIn, Tag("audit")]
    | Annotated[ProvisionScopeIn, Tag("provision")]
    | Annotated[HandoverScopeIn, Tag("processor_handover")]
    | Annotated[IdsScopeIn, Tag("ids")]
    | Annotated[FilterScopeIn, Tag("filter")]
    | Annotated[EstimateScopeIn, Tag("estimate")],
    Discriminator(_method_of),
]


class ScopeRead(BaseModel):
    """One method used to draw the scope, with its parameters and what it found."""

    id: str
    incident_id: str
    method: str
    params: dict[str, str | int | None]
    persons: int
    maximum: int | None
    items: dict[str, int]  # field name -> people this method found with it
    created_at: datetime
    created_by: str
    removed_at: datetime | None = None
    removed_by: str | None = None


class ScopeSummary(BaseModel):
    """The scope of an incident as the page shows it: counts by item and category, never a value."""

    incident_id: str
    persons: int  # distinct people in scope (counted, by id)
    maximum: int  # the larger of persons and the estimates' maxima (R-26-1)
    items: dict[str, int]  # field name -> people
    categories: dict[str, int]  # category -> people
    sensitive: int  # people with a 要配慮 item
    financial: int  # people with an item whose misuse may cause financial loss
    eu: int
    uk: int
    scopes: list[ScopeRead]
