"""Shapes of the contact slice's lists and checks (issue 20). A list's rows hold only the channel's fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from mamori.kernel.schemas import InputModel

# Why a person was left out of a list, in the order a report shows them (Japanese, English). The policy's
# decision codes, then the list's own reasons.
EXCLUSION_LABELS: dict[str, tuple[str, str]] = {
    "purpose_not_notified": ("利用目的が未通知", "purpose not notified"),
    "not_notified": ("利用目的が未通知", "purpose not notified"),
    "consent_missing": ("同意なし", "no consent"),
    "consent_withdrawn": ("同意撤回", "consent withdrawn"),
    "use_stopped": ("利用停止", "use stopped"),
    "do_not_contact": ("連絡拒否（この手段）", "do not contact (this channel)"),
    "optin_missing": ("配信同意（オプトイン）なし", "no opt-in"),
    "optin_withdrawn": ("配信停止（オプトイン撤回）", "opt-in withdrawn"),
    "channel_not_in_purpose": (
        "目的に含まれない連絡手段（通知した版）",
        "channel not in the notified purpose",
    ),
    "lawful_basis_missing": ("GDPR の適法性の根拠なし", "no GDPR lawful basis"),
    "purpose_version_not_notified": ("新しい版が未通知", "new version not notified"),
    "out_of_scope": ("担当範囲外", "outside your data scope"),
    "no_running_contract": ("委託契約なし", "no running contract"),
    "outside_contract": ("委託契約の範囲外", "outside the contract"),
    "erased": ("消去済み", "erased"),
    "no_contact_point": ("連絡先なし", "no contact point for the channel"),
    "masked": ("連絡先を表示できない", "contact point withheld"),
    "not_found": ("該当なし", "not found"),
    "not_in_segment": ("条件に該当しない", "outside the segment"),
}

CustomerId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9a-f]{1,32}$")]
Channel = Literal["phone", "email", "post", "sms", "visit"]


@dataclass(frozen=True)
class ContactList:
    """A built call or mailing list.

    ``rows``: ONE ROW PER PERSON, each with ``customer_id`` and the columns in ``fields`` — the person's name and
    kana and the channel's contact point: the first one registered (for SMS the first mobile number), or for
    post the postal code and address. A person is called or mailed once per list; their other numbers come
    with the check before the contact (``contact check``). ``excluded``: reason code → how many people were
    left out for it; ``considered``: how many people were looked at (the actor's row scope, or the ids given).
    """

    build_id: str
    purpose: str
    purpose_version: int
    channel: str
    segment: str | None
    fields: tuple[str, ...]
    rows: list[dict[str, str | None]]
    excluded: dict[str, int]
    considered: int
    output_sha256: str = ""
    masked: tuple[str, ...] = field(default=())

    @property
    def included(self) -> int:
        return len(self.rows)


class ListRequest(InputModel):
    """``POST /api/v1/contact/lists``."""

    purpose: str = Field(min_length=1, max_length=64)
    channel: str = Field(min_length=1, max_length=16)
    segment: str | None = Field(default=None, max_length=400)
    ids: list[CustomerId] | None = Field(default=None, max_length=100_000)
    format: Literal["json", "csv"] = "json"


class ListRead(BaseModel):
    build_id: str
    purpose: str
    purpose_version: int
    channel: str
    segment: str | None
    fields: list[str]
    considered: int
    included: int
    excluded: dict[str, int]
    output_sha256: str
    rows: list[dict[str, str | None]]

    @classmethod
    def of(cls, built: ContactList) -> ListRead:
        return cls.model_construct(
            build_id=built.build_id,
            purpose=built.purpose,
            purpose_version=built.purpose_version,
            channel=built.channel,
            segment=built.segment,
            fields=list(built.fields),
            considered=built.considered,
            included=built.included,
            excluded=built.excluded,
            output_sha256=built.output_sha256,
            rows=built.rows,
        )


class ReachRequest(InputModel):
    """``POST /api/v1/contact/reach``."""

    customer_id: str = Field(min_length=1, max_length=32, pattern=r"^[0-9a-f]{1,32}$")
    purpose: str = Field(min_length=1, max_length=64)
    channel: str = Field(min_length=1, max_length=16)


class ReachRead(BaseModel):
    """May this person be contacted on this channel for this purpose, and by what (decrypted, audited)."""

    customer_id: str
    purpose: str
    purpose_version: int
    channel: str
    allowed: bool = True
    name: str | None = None
    kana: str | None = None
    contact_points: list[str] = []  # every phone number (SMS: mobile numbers) or e-mail address of the person
    postal_code: str | None = None
    address: str | None = None
