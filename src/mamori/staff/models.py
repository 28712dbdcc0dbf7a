"""Tables of the staff slice: users, sign-in failures, server-side sessions and API tokens.

Secrets are never stored in the clear: passwords as argon2id hashes, TOTP secrets encrypted under the staff
member's own data key (subject ``staff:<id>``), session and API tokens as SHA-256 hex digests.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from mamori.kernel.db import Base, UtcDateTime


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # argon2id PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash); None = no password yet (cannot sign in)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # base32 TOTP secret sealed with the staff member's data key (AAD: table, column, row id)
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # the last accepted 30-second step: a code for this step or an earlier one is refused (RFC 6238 §5.2)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # "person" (signs in) or "service" (a machine client: no password, no sign-in, only admin-issued tokens)
    kind: Mapped[str] = mapped_column(String(16), default="person", server_default=text("'person'"))

    @property
    def is_service(self) -> bool:
        return self.kind == "service"

    @property
    def mfa_enrolled(self) -> bool:
        return self.totp_secret_enc is not None

    @property
    def password_set(self) -> bool:
        return self.password_hash is not None


class StaffSignInFailure(Base):
    """One failed sign-in of a known account (counted per account over a sliding hour)."""

    __tablename__ = "staff_sign_in_failures"
    __table_args__ = (Index("ix_staff_sign_in_failures_staff_at", "staff_id", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    staff_id: Mapped[str] = mapped_column(String(32), ForeignKey("staff_users.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class StaffSignInMiss(Base):
    """One failed sign-in not charged to an account (unknown name, disabled or locked account): the time only.

    Written so that every failed sign-in does the same database work as a counted one (no timing oracle)."""

    __tablename__ = "staff_sign_in_misses"
    __table_args__ = (Index("ix_staff_sign_in_misses_at", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class StaffSession(Base):
    """A server-side, revocable sign-in session; the client holds the token, we keep only its SHA-256."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    idle_seconds: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)  # absolute expiry
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # True when this sign-in checked a TOTP code (the only sessions that may create API tokens)
    mfa: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # which client opened it: "web" or "api" (the browser cookie) or "cli" (`mamori login`, kept in a 0600 file)
    channel: Mapped[str] = mapped_column(String(8), default="web", server_default=text("'web'"))


class StaffApiToken(Base):
    """A bearer token for a machine client: acts as its staff user, with a fixed role and allowed purposes."""

    __tablename__ = "staff_api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    purposes: Mapped[str] = mapped_column(String(1000))  # comma-separated purpose codes ("" = none)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class StaffTotpEnrolment(Base):
    """A first-sign-in TOTP enrolment in progress (issue 15): the password was right, the account must enrol a
    second factor, and the code from the new secret has not been entered yet.

    The client holds an opaque ticket; we keep its SHA-256. The pending secret is sealed under the staff member's
    data key (AAD: this table, column ``secret``, row id), never stored in the clear. It lives 10 minutes and a few
    wrong codes, then the user signs in again.
    """

    __tablename__ = "staff_totp_enrolments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ticket_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


# -- human measures (R-23-3): training and pledges (issue 21) ---------------------------------------------------


class TrainingCourse(Base):
    """A course staff must hold (e.g. 個人情報保護基礎研修), valid for ``validity_days`` after each completion."""

    __tablename__ = "staff_training_courses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    validity_days: Mapped[int] = mapped_column(Integer)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class TrainingCompletion(Base):
    """One staff member completed one course: valid until ``expires_at``. ``reference`` is a certificate number."""

    __tablename__ = "staff_training_completions"
    __table_args__ = (Index("ix_staff_training_completions_user_course", "user_id", "course_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("staff_training_courses.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id"), index=True)
    completed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    reference: Mapped[str | None] = mapped_column(String(64), nullable=True)


class PledgeVersion(Base):
    """A version of the confidentiality pledge (誓約書); publishing a new one means everyone signs again."""

    __tablename__ = "staff_pledge_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_by: Mapped[str | None] = mapped_column(String(80), nullable=True)


class Pledge(Base):
    """A staff member signed a pledge version (self, or recorded by the officer from paper)."""

    __tablename__ = "staff_pledges"
    __table_args__ = (UniqueConstraint("user_id", "version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id"), index=True)
    version: Mapped[int] = mapped_column(ForeignKey("staff_pledge_versions.version"))
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_by: Mapped[str | None] = mapped_column(String(80), nullable=True)


class TrainingPolicy(Base):
    """Whether staff of ``roles`` (comma-separated) need a current training and pledge to handle personal data."""

    __tablename__ = "staff_training_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # always 1
    enforced: Mapped[bool] = mapped_column(Boolean, default=False)
    roles: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
