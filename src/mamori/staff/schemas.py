from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mamori.kernel.context import Role
from mamori.kernel.schemas import InputModel
from mamori.kernel.validation import Invalid

USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
PURPOSE_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
TOKEN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


class StaffCreate(InputModel):
    username: str
    display_name: str
    role: Role
    team: str | None = None

    @field_validator("username")
    @classmethod
    def _username(cls, v: str) -> str:
        if not USERNAME.match(v):
            raise Invalid(
                "ユーザー名は英小文字・数字・_ . - の2〜64文字で指定してください",
                "username: lower-case letters, digits, _ . - (2–64 chars)",
            )
        return v

    @field_validator("role")
    @classmethod
    def _staff_role(cls, v: Role) -> Role:
        # The system role (every permission) and the person role (the data subject) are never staff accounts.
        if v in (Role.SYSTEM, Role.PERSON):
            raise Invalid("スタッフの役割ではありません", "role: not a staff role")
        return v


class StaffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    username: str
    display_name: str
    role: Role
    team: str | None
    active: bool
    password_set: bool = False
    mfa_enrolled: bool = False
    kind: str = "person"  # "service": a machine client's account (no sign-in; admin-issued tokens only)


class ServiceAccountCreate(StaffCreate):
    """A machine client's own account (issue 17): no password, no interactive sign-in, never admin or system."""

    @field_validator("role")
    @classmethod
    def _service_role(cls, v: Role) -> Role:
        if v in (Role.ADMIN, Role.SYSTEM, Role.PERSON):
            raise Invalid(
                "サービスアカウントに管理者・システムの役割は付けられません",
                "role: a service account cannot be admin or system",
            )
        return v


class SignedIn(BaseModel):
    """The result of a successful sign-in. ``token`` is the session secret: give it to the client once."""

    session_id: str
    token: str = Field(repr=False)
    staff_id: str
    username: str
    role: Role
    expires_at: datetime  # absolute expiry
    idle_expires_at: datetime  # expiry if no request comes before it


class SessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    staff_id: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class ApiTokenCreate(InputModel):
    name: str
    role: Role | None = None  # None: the staff user's own role
    purposes: list[str] = Field(default_factory=list, max_length=50)
    expires_in_days: int = Field(default=90, ge=1, le=365)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not TOKEN_NAME.match(v):
            raise Invalid(
                "名前は英数字・空白・_ . - の1〜64文字で指定してください",
                "name: letters, digits, space _ . - (1–64 chars)",
            )
        return v

    @field_validator("role")
    @classmethod
    def _role(cls, v: Role | None) -> Role | None:
        if v in (Role.SYSTEM, Role.PERSON):
            raise Invalid(
                "システム・ご本人の役割はトークンに付与できません",
                "role: the system and person roles cannot be given to a token",
            )
        return v

    @field_validator("purposes")
    @classmethod
    def _purposes(cls, v: list[str]) -> list[str]:
        for code in v:
            if not PURPOSE_CODE.match(code):
                raise Invalid(
                    "利用目的のコードは英小文字・数字・_ - で指定してください",
                    "purposes: lower-case purpose codes (letters, digits, _ -)",
                )
        return sorted(set(v))


class ApiTokenRead(BaseModel):
    id: str
    staff_id: str
    username: str
    name: str
    role: Role
    purposes: list[str]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenIssued(ApiTokenRead):
    """Returned once at creation: ``token`` is never stored nor shown again."""

    token: str = Field(repr=False)


class StaffOverview(StaffRead):
    """A row of the staff administration page: the account and whether it is locked out right now."""

    locked: bool = False
    locked_until: datetime | None = None


class EnrolmentStarted(BaseModel):
    """The password was right and the account must enrol a TOTP second factor first (first sign-in, or after an
    administrator's 2FA reset). ``ticket`` goes in the enrolment form; ``secret`` and ``provisioning_uri`` are
    shown to the user once (QR code and manual entry) and never logged."""

    ticket: str = Field(repr=False)
    provisioning_uri: str = Field(repr=False)
    secret: str = Field(repr=False)
    staff_id: str
    username: str
    expires_at: datetime
    wrong_code: bool = False  # shown again because the code entered was wrong
    attempts_left: int = 0  # wrong codes still allowed before the user must sign in again
