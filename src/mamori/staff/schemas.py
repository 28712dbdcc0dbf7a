from __future__ import annotations

import re
from datetime import date, datetime

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


# -- human measures (R-23-3): training courses, completions, pledges, the policy (issue 21) ------------------------

COURSE_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# A certificate or attendance-sheet number: letters, digits and a few separators — never a name or other personal value.
REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./#-]{0,63}$")
MAX_PLEDGE_BODY = 20_000
EARLIEST_COMPLETION = date(2000, 1, 1)
# Roles the training policy may cover: those that may see personal data. Admin (who sees none), the system and the
# data subject are never gated.
TRAINABLE_ROLES: tuple[Role, ...] = (
    Role.PRIVACY_OFFICER,
    Role.SALES,
    Role.SUPPORT,
    Role.ANALYST,
    Role.OUTSOURCEE,
)
DEFAULT_POLICY_ROLES: tuple[Role, ...] = (Role.SALES, Role.SUPPORT, Role.ANALYST, Role.PRIVACY_OFFICER)


def _title(v: str) -> str:
    v = v.strip()
    if not 1 <= len(v) <= 200:
        raise Invalid("件名は1〜200文字で指定してください", "title: 1–200 characters")
    return v


class CourseCreate(InputModel):
    code: str
    title: str
    validity_days: int = Field(ge=1, le=3650)
    required: bool = True

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not COURSE_CODE.match(v):
            raise Invalid(
                "研修コードは英小文字・数字・_ - の1〜64文字で指定してください",
                "code: lower-case letters, digits, _ - (1–64 chars)",
            )
        return v

    @field_validator("title")
    @classmethod
    def _course_title(cls, v: str) -> str:
        return _title(v)


class CourseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str
    title: str
    validity_days: int
    required: bool
    created_at: datetime
    retired_at: datetime | None = None


class CompletionCreate(InputModel):
    """A completion recorded by the officer: who, which course, when (default: today, JST), certificate number."""

    username: str
    course: str
    completed_on: date | None = None
    reference: str | None = None

    @field_validator("username")
    @classmethod
    def _username(cls, v: str) -> str:
        if not USERNAME.match(v):
            raise Invalid(
                "ユーザー名は英小文字・数字・_ . - の2〜64文字で指定してください",
                "username: lower-case letters, digits, _ . - (2–64 chars)",
            )
        return v

    @field_validator("completed_on")
    @classmethod
    def _completed_on(cls, v: date | None) -> date | None:
        if v is not None and v < EARLIEST_COMPLETION:
            raise Invalid("受講日が古すぎます（2000年以降）", "completed_on: too early (2000 or later)")
        return v

    @field_validator("course")
    @classmethod
    def _course(cls, v: str) -> str:
        if not COURSE_CODE.match(v):
            raise Invalid("研修コードの形式が正しくありません", "course: not a course code")
        return v

    @field_validator("reference")
    @classmethod
    def _reference(cls, v: str | None) -> str | None:
        if v is None or v.strip() == "":
            return None
        if not REFERENCE.match(v.strip()):
            raise Invalid(
                "証明書番号は英数字と _ . / # - の1〜64文字で指定してください（氏名などは書かないでください）",
                "reference: letters, digits, _ . / # - (1–64 chars; no names)",
            )
        return v.strip()


class CompletionRead(BaseModel):
    id: str
    user_id: str
    username: str
    course: str
    completed_at: datetime
    expires_at: datetime
    reference: str | None = None


class PledgePublish(InputModel):
    title: str
    body: str = Field(max_length=MAX_PLEDGE_BODY)

    @field_validator("title")
    @classmethod
    def _pledge_title(cls, v: str) -> str:
        return _title(v)

    @field_validator("body")
    @classmethod
    def _body(cls, v: str) -> str:
        v = v.replace("\r\n", "\n").strip()
        if not v:
            raise Invalid("誓約書の本文を入力してください", "body: the pledge text is required")
        return v


class PledgeVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    title: str
    body: str
    sha256: str
    published_at: datetime
    signed: int = 0  # how many staff signed this version


class PledgeSign(InputModel):
    """``username`` None: the caller signs; else the officer records that person's signature on paper."""

    username: str | None = None
    version: int | None = Field(default=None, ge=1)  # the version the signer read (refused if not the latest)

    @field_validator("username")
    @classmethod
    def _username(cls, v: str | None) -> str | None:
        if v is not None and not USERNAME.match(v):
            raise Invalid(
                "ユーザー名は英小文字・数字・_ . - の2〜64文字で指定してください",
                "username: lower-case letters, digits, _ . - (2–64 chars)",
            )
        return v


class PledgeRead(BaseModel):
    id: str
    user_id: str
    username: str
    version: int
    signed_at: datetime
    self_signed: bool


class TrainingPolicyUpdate(InputModel):
    enforced: bool
    roles: list[Role] = Field(default_factory=lambda: list(DEFAULT_POLICY_ROLES), max_length=10)

    @field_validator("roles")
    @classmethod
    def _roles(cls, v: list[Role]) -> list[Role]:
        for role in v:
            if role not in TRAINABLE_ROLES:
                raise Invalid(
                    "研修を必須にできるのは個人データを扱う役割（privacy_officer・sales・support・analyst・outsourcee）だけです",
                    "roles: only roles that handle personal data (privacy_officer, sales, support, analyst, outsourcee)",
                )
        return sorted(set(v), key=lambda r: TRAINABLE_ROLES.index(r))


class TrainingPolicyRead(BaseModel):
    enforced: bool
    roles: list[Role]
    updated_at: datetime | None = None


class CourseStatus(BaseModel):
    code: str
    title: str
    required: bool
    state: str  # "current" | "expiring" (within 30 days) | "expired" | "missing"
    completed_at: datetime | None = None
    expires_at: datetime | None = None


class TrainingStatus(BaseModel):
    user_id: str
    username: str
    role: Role
    covered: bool  # the policy's roles include this role
    enforced: bool  # the policy is switched on
    courses: list[CourseStatus]
    pledge_version: int | None  # the latest published version (None: no pledge published yet)
    pledge_signed: bool  # signed the latest version (True when none is published)
    signed_version: int | None  # the latest version this person signed
    current: bool  # every required course current (or expiring) and the latest pledge signed

    @property
    def missing(self) -> list[str]:
        return [c.code for c in self.courses if c.required and c.state in ("expired", "missing")]


class OverdueEntry(BaseModel):
    user_id: str
    username: str
    role: Role
    courses: dict[str, str]  # required course code -> "expired" | "missing"
    pledge_missing: bool
