"""Staff users, sign-in, sessions and API tokens. The only writer of the staff tables.

Writes take the Context first and are admin-only (``Action.STAFF_MANAGE``) unless a user acts on their own
account. ``sign_in`` and the validators are edge functions: there is no actor before them.

Security baseline (SECURITY.md §3, ADR 0004):
- passwords: argon2id m=19456 KiB, t=2, p=1, re-hashed at sign-in when the parameters change (ASVS5 6.2, 11.4.2);
- TOTP for every role that sees personal data, and for admins (ASVS5 6.3.3); one use per code (ASVS5 6.5.1);
- lock-out: an increasing delay after repeated failures, never more than 100 failures per account per hour
  (ASVS4.0.3 2.2.1); one answer for unknown user, wrong password, wrong code and locked account (ASVS5 6.3.8);
- server-side sessions: 256-bit random token stored as SHA-256 (ASVS5 7.2.3), new at every sign-in (7.2.4),
  idle 30 min / absolute 12 h (ASVS4.0.3 3.3.2), revoked at sign-out (7.4.1) and when the account is disabled (7.4.2);
- API tokens: ``mamori_<random>``, shown once, stored as SHA-256, fixed role, allowed purposes, expiry.
Audit entries name staff, session and token ids only — never a password, code, secret or token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from mamori.kernel.auditing import authorise, record_denial, record_info, record_write
from mamori.kernel.clock import Clock, ensure_aware
from mamori.kernel.context import Actor, ActorKind, Context, Role
from mamori.kernel.db import new_id, unit_of_work
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied, Unauthenticated, ValidationFailed
from mamori.kernel.policy import Action, Decision, Resource, decide
from mamori.kernel.runtime import Runtime
from mamori.staff import passwords, queries, totp
from mamori.staff.models import StaffApiToken, StaffSession, StaffSignInFailure, StaffUser
from mamori.staff.schemas import (
    ApiTokenCreate,
    ApiTokenIssued,
    ApiTokenRead,
    SignedIn,
    StaffCreate,
    StaffRead,
)

IDLE_TIMEOUT = timedelta(minutes=30)  # ASVS4.0.3 3.3.2 (L2): re-authenticate after 30 min idle …
ABSOLUTE_TIMEOUT = timedelta(hours=12)  # … or 12 h in total
SESSION_TOKEN_BYTES = 32  # 256 bits ≥ the 128 bits of ASVS5 7.2.3
API_TOKEN_PREFIX = "mamori_"  # noqa: S105 (a prefix, not a secret)
API_TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 256
MAX_USERNAME_LENGTH = 64
MAX_PASSWORD_INPUT = 1024  # longer input is refused without hashing it (hashing cost is a DoS lever)
# Roles that see personal data must use a second factor (ASVS5 6.3.3 at L2); admins too: they manage staff.
MFA_REQUIRED_ROLES = frozenset({Role.ADMIN, Role.PRIVACY_OFFICER, Role.SALES, Role.SUPPORT, Role.OUTSOURCEE})
# last_seen_at / last_used_at are written at most once a minute per session or token, so that a burst of API
# requests does not turn every read into a write. Idle expiry can then come up to this much early, never late.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)
TOTP_TABLE = "staff_users"
TOTP_COLUMN = "totp_secret"


@dataclass(frozen=True)
class LockoutPolicy:
    """Slow-down and lock-out per account over a sliding window (ASVS4.0.3 2.2.1: ≤ 100 failures per hour).

    The first ``free_failures - 1`` failures cost nothing; from the ``free_failures``-th on, each failure locks
    the account for ``first_delay`` doubled per further failure, at most ``max_delay``; at ``hourly_cap`` failures
    in the window the account stays locked until the oldest of them leaves the window. Attempts made while
    locked are refused without checking the password and are not counted (a lock must not be extendable by
    an attacker into a permanent denial of service).
    """

    free_failures: int = 10
    first_delay: timedelta = timedelta(seconds=2)
    max_delay: timedelta = timedelta(minutes=15)
    hourly_cap: int = 100
    window: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if not 1 <= self.hourly_cap <= 100 or self.free_failures < 1 or self.window < timedelta(hours=1):
            raise ValueError("lock-out policy: 1 ≤ hourly_cap ≤ 100, free_failures ≥ 1, window ≥ 1 h")

    def delay_after(self, failures: int) -> timedelta:
        if failures < self.free_failures:
            return timedelta(0)
        exponent = min(failures - self.free_failures, 30)
        delay: timedelta = self.first_delay * (2**exponent)
        return min(delay, self.max_delay)


DEFAULT_LOCKOUT = LockoutPolicy()


class AuthenticationFailed(Unauthenticated):
    """Sign-in refused or session/token not valid. One code and message for every cause (no enumeration)."""

    code = "unauthenticated"
    http_status = 401


def _sign_in_failed() -> AuthenticationFailed:
    return AuthenticationFailed(
        "サインインできませんでした。ユーザー名・パスワード・確認コードを確かめてください。",
        "Sign-in failed: check the user name, password and verification code.",
    )


def _session_invalid() -> AuthenticationFailed:
    return AuthenticationFailed(
        "セッションが無効か期限切れです。もう一度サインインしてください。",
        "The session is invalid or has expired; sign in again.",
    )


def _token_invalid() -> AuthenticationFailed:
    return AuthenticationFailed(
        "API トークンが無効か期限切れです。",
        "The API token is invalid, revoked or expired.",
    )


def token_digest(token: str) -> str:
    """SHA-256 (hex) of a session or API token: what the database keeps instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def data_subject(staff_id: str) -> str:
    """The keystore subject whose data key encrypts this staff member's TOTP secret."""
    return f"staff:{staff_id}"


def _actor(user: StaffUser, role: Role | None = None) -> Actor:
    effective = role or Role(user.role)
    kind = ActorKind.OUTSOURCEE if effective == Role.OUTSOURCEE else ActorKind.STAFF
    return Actor(kind=kind, id=user.id, name=user.username, role=effective, team=user.team)


# An unknown or unmatched sign-in is audited under this actor; the submitted user name is never logged.
UNKNOWN_ACTOR = Actor(kind=ActorKind.STAFF, id="unknown", name="unknown", role=Role.ANALYST)


def _require_manage(ctx: Context) -> None:
    authorise(ctx, Action.STAFF_MANAGE, Resource(kind="staff"))


def _user(ctx: Context, username: str) -> StaffUser:
    user = ctx.session.execute(queries.by_username(username)).scalar_one_or_none()
    if user is None:
        raise NotFound(
            f"スタッフ「{username}」が見つかりません。",
            f"No staff user '{username}'.",
            code="unknown_staff",
        )
    return user


def _is_self(ctx: Context, user: StaffUser) -> bool:
    return ctx.actor.kind in (ActorKind.STAFF, ActorKind.OUTSOURCEE) and ctx.actor.id == user.id


# -- users ---------------------------------------------------------------------------------------------------


def add(ctx: Context, data: StaffCreate) -> StaffRead:
    # Outsourcee operator accounts are opened by whoever supervises outsourcees (R-25-1) as well as by an admin.
    if (
        data.role != Role.OUTSOURCEE
        or not decide(ctx, Action.PROCESSOR_MANAGE, Resource(kind="staff")).allowed
    ):
        _require_manage(ctx)
    if ctx.session.execute(queries.by_username(data.username)).scalar_one_or_none() is not None:
        raise Conflict(
            f"スタッフ「{data.username}」は既に存在します。",
            f"Staff user '{data.username}' already exists.",
            code="staff_exists",
        )
    user = StaffUser(
        id=new_id(),
        username=data.username,
        display_name=data.display_name,
        role=data.role.value,
        team=data.team,
        active=True,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(user)
    ctx.session.flush()
    ctx.runtime.keystore.create_data_keys([data_subject(user.id)])
    record_write(ctx, "staff.add", (), ("username", "role"), details={"staff_id": user.id, "role": user.role})
    return StaffRead.model_validate(user)


def list_all(ctx: Context) -> list[StaffRead]:
    """Every staff user (administrators only)."""
    _require_manage(ctx)
    return list_staff(ctx.session)


def list_staff(session: Session) -> list[StaffRead]:
    return [StaffRead.model_validate(u) for u in session.execute(queries.all_staff()).scalars()]


def actor_for(session: Session, username: str) -> Actor:
    """The Actor for an active staff user (used by the edges to build a Context)."""
    user = session.execute(queries.by_username(username)).scalar_one_or_none()
    if user is None or not user.active:
        raise NotFound(
            f"有効なスタッフ「{username}」が見つかりません。",
            f"No active staff user '{username}'.",
            code="unknown_staff",
        )
    return _actor(user)


def _revoke_sessions(ctx: Context, staff_id: str, reason: str, *, keep: str | None = None) -> int:
    stmt = (
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=ctx.clock.now(), revoked_reason=reason)
    )
    if keep is not None:
        stmt = stmt.where(StaffSession.id != keep)
    result = ctx.session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


def _revoke_tokens(ctx: Context, staff_id: str) -> int:
    result = ctx.session.execute(
        update(StaffApiToken)
        .where(StaffApiToken.staff_id == staff_id, StaffApiToken.revoked_at.is_(None))
        .values(revoked_at=ctx.clock.now())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def disable(ctx: Context, username: str) -> StaffRead:
    """Disable an account: no more sign-in; every session and API token of it is revoked (ASVS5 7.4.2)."""
    _require_manage(ctx)
    user = _user(ctx, username)
    if _is_self(ctx, user):
        raise Conflict(
            "自分自身のアカウントは無効にできません。",
            "You cannot disable your own account.",
            code="cannot_disable_self",
        )
    user.active = False
    sessions = _revoke_sessions(ctx, user.id, "disabled")
    tokens = _revoke_tokens(ctx, user.id)
    ctx.session.flush()
    record_write(
        ctx,
        "staff.disable",
        (),
        ("active",),
        details={"staff_id": user.id, "sessions_revoked": sessions, "tokens_revoked": tokens},
    )
    return StaffRead.model_validate(user)


def enable(ctx: Context, username: str) -> StaffRead:
    """Re-enable a disabled account (its old sessions and tokens stay revoked)."""
    _require_manage(ctx)
    user = _user(ctx, username)
    user.active = True
    user.locked_until = None
    ctx.session.flush()
    record_write(ctx, "staff.enable", (), ("active",), details={"staff_id": user.id})
    return StaffRead.model_validate(user)


# -- passwords -----------------------------------------------------------------------------------------------


def set_password(
    ctx: Context,
    username: str,
    password: str,
    *,
    current_password: str | None = None,
    keep_session_id: str | None = None,
) -> StaffRead:
    """Set a password: an admin for anyone; a user for themselves with their current password (ASVS5 6.2.3).

    Every session of the account except ``keep_session_id`` is revoked (ASVS5 7.4.3).
    """
    user = _user(ctx, username)
    decision = decide(ctx, Action.STAFF_MANAGE, Resource(kind="staff"))
    self_service = False
    if not decision.allowed:
        if not _is_self(ctx, user):
            record_denial(ctx, Action.STAFF_MANAGE, [], decision)
            decision.raise_if_denied()
        self_service = True
        if (
            current_password is None
            or user.password_hash is None
            or len(current_password) > MAX_PASSWORD_INPUT
            or not passwords.verify_password(user.password_hash, current_password)
        ):
            record_denial(
                ctx,
                "staff.password_set",
                [],
                Decision(False, (), code="current_password_wrong", reason_en="wrong current password"),
            )
            raise AuthenticationFailed(
                "現在のパスワードが正しくありません。",
                "The current password is wrong.",
            )
    passwords.check_policy(password, username=user.username)
    now = ctx.clock.now()
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = now
    user.locked_until = None
    revoked = _revoke_sessions(ctx, user.id, "password_changed", keep=keep_session_id)
    ctx.session.flush()
    record_write(
        ctx,
        "staff.password_set",
        (),
        ("password_hash",),
        details={"staff_id": user.id, "self_service": self_service, "sessions_revoked": revoked},
    )
    return StaffRead.model_validate(user)


# -- TOTP ----------------------------------------------------------------------------------------------------


def enroll_totp(ctx: Context, username: str) -> str:
    """Give the account a new TOTP secret; returns the otpauth:// provisioning URI (show it once, never log it).

    An admin may (re-)enrol anyone; a user may enrol themselves only while they have no second factor yet.
    """
    user = _user(ctx, username)
    if not (_is_self(ctx, user) and not user.mfa_enrolled):
        _require_manage(ctx)
    secret = totp.new_secret()
    user.totp_secret_enc = ctx.runtime.cipher.encrypt(
        data_subject(user.id), TOTP_TABLE, TOTP_COLUMN, user.id, secret
    )
    user.totp_last_step = None
    ctx.session.flush()
    record_write(ctx, "staff.totp_enrolled", (), ("totp_secret",), details={"staff_id": user.id})
    return totp.provisioning_uri(secret, user.username)


def reset_2fa(ctx: Context, username: str) -> StaffRead:
    """Remove the account's second factor and revoke its sessions (admin). Enrol again with ``enroll_totp``."""
    _require_manage(ctx)
    user = _user(ctx, username)
    user.totp_secret_enc = None
    user.totp_last_step = None
    revoked = _revoke_sessions(ctx, user.id, "mfa_reset")
    ctx.session.flush()
    record_write(
        ctx,
        "staff.totp_reset",
        (),
        ("totp_secret",),
        details={"staff_id": user.id, "sessions_revoked": revoked},
    )
    return StaffRead.model_validate(user)


def mfa_required(role: Role) -> bool:
    return role in MFA_REQUIRED_ROLES


# -- sign-in -------------------------------------------------------------------------------------------------


def _failures(session: Session, staff_id: str, since: datetime) -> tuple[int, datetime | None]:
    count, oldest = session.execute(queries.failures_since(staff_id, since)).one()
    return int(count or 0), ensure_aware(oldest) if oldest is not None else None


def _precheck(
    session: Session, user: StaffUser | None, password: str, now: datetime, lockout: LockoutPolicy
) -> str | None:
    """Why the password must not even be checked (unknown, disabled, no password, locked), else None."""
    if user is None:
        return "unknown_user"
    if len(password) > MAX_PASSWORD_INPUT:
        return "input_too_long"
    if not user.active or user.password_hash is None:
        return "inactive" if not user.active else "no_password"
    count, _ = _failures(session, user.id, now - lockout.window)
    locked_until = ensure_aware(user.locked_until) if user.locked_until is not None else None
    if (locked_until is not None and locked_until > now) or count >= lockout.hourly_cap:
        return "locked"
    return None


def _check_second_factor(
    runtime: Runtime, user: StaffUser, totp_code: str | None, now: datetime
) -> str | None:
    """None when no code is needed or the code is good (and then marks its step used), else the reason."""
    if not (mfa_required(Role(user.role)) or user.mfa_enrolled):
        return None
    if user.totp_secret_enc is None:
        return "mfa_not_enrolled"
    secret = runtime.cipher.decrypt(
        data_subject(user.id), TOTP_TABLE, TOTP_COLUMN, user.id, user.totp_secret_enc
    )
    step = totp.accepted_step(secret, totp_code or "", now, user.totp_last_step)
    if step is None:
        return "bad_totp"
    user.totp_last_step = step
    return None


COUNTED_FAILURES = frozenset({"bad_password", "bad_totp", "input_too_long"})


def _count_failure(session: Session, user: StaffUser, now: datetime, lockout: LockoutPolicy) -> int:
    session.execute(
        delete(StaffSignInFailure).where(
            StaffSignInFailure.staff_id == user.id, StaffSignInFailure.at <= now - lockout.window
        )
    )
    session.add(StaffSignInFailure(staff_id=user.id, at=now))
    session.flush()
    count, oldest = _failures(session, user.id, now - lockout.window)
    until = now + lockout.delay_after(count)
    if count >= lockout.hourly_cap and oldest is not None:
        until = max(until, oldest + lockout.window)
    if until > now:
        user.locked_until = until
    session.flush()
    return count


def sign_in(
    runtime: Runtime,
    username: str,
    password: str,
    totp_code: str | None = None,
    *,
    clock: Clock | None = None,
    idle_timeout: timedelta = IDLE_TIMEOUT,
    absolute_timeout: timedelta = ABSOLUTE_TIMEOUT,
    lockout: LockoutPolicy = DEFAULT_LOCKOUT,
) -> SignedIn:
    """Check user name, password and (where required) TOTP code; open a new server-side session.

    An edge function with its own transactions: a failure must be remembered (lock-out) even though the
    sign-in raises, so the failure counter is committed before :class:`AuthenticationFailed` is raised. The
    argon2 verification runs between a short read and the write, outside any transaction.
    Every failure cause gives the same error and, as far as hashing goes, the same time.
    """
    if idle_timeout <= timedelta(0) or absolute_timeout < idle_timeout:
        raise ValueError("session timeouts: 0 < idle_timeout ≤ absolute_timeout")
    clock = clock or runtime.clock
    now = clock.now()
    result: SignedIn | None = None
    failures = 0
    actor = UNKNOWN_ACTOR
    # 1. a short read: who, and may the password be checked at all
    with unit_of_work(runtime.sessions) as session:
        user = None
        if 0 < len(username) <= MAX_USERNAME_LENGTH:
            user = session.execute(queries.by_username(username)).scalar_one_or_none()
        reason = _precheck(session, user, password, now, lockout)
        staff_id = user.id if user is not None else None
        seen_hash = user.password_hash if user is not None else None
        if user is not None:
            actor = _actor(user)
    # 2. argon2 outside any transaction (SQLite holds its write lock for a whole transaction); the same cost
    #    for every path, so timing does not tell an unknown user from a wrong password
    if reason is None and seen_hash is not None:
        if not passwords.verify_password(seen_hash, password):
            reason = "bad_password"
    else:
        passwords.burn_verify(password[:MAX_PASSWORD_INPUT])
    # 3. the write: re-check under the lock (a concurrent attempt may have locked the account or used the
    #    code), then either open the session or count the failure
    with unit_of_work(runtime.sessions) as session:
        user = session.execute(queries.by_id(staff_id)).scalar_one_or_none() if staff_id is not None else None
        if reason is None and user is not None:
            if user.password_hash != seen_hash:
                reason = "changed_meanwhile"
            else:
                reason = _precheck(session, user, password, now, lockout) or _check_second_factor(
                    runtime, user, totp_code, now
                )
        if reason is None and user is not None:
            if passwords.needs_rehash(seen_hash or ""):
                user.password_hash = passwords.hash_password(password)
            session.execute(delete(StaffSignInFailure).where(StaffSignInFailure.staff_id == user.id))
            user.locked_until = None
            token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
            row = StaffSession(
                id=new_id(),
                token_hash=token_digest(token),
                staff_id=user.id,
                created_at=now,
                last_seen_at=now,
                idle_seconds=int(idle_timeout.total_seconds()),
                expires_at=now + absolute_timeout,
            )
            session.add(row)
            session.flush()
            result = SignedIn(
                session_id=row.id,
                token=token,
                staff_id=user.id,
                username=user.username,
                role=Role(user.role),
                expires_at=row.expires_at,
                idle_expires_at=now + idle_timeout,
            )
        elif reason in COUNTED_FAILURES and user is not None:
            failures = _count_failure(session, user, now, lockout)
        audit_ctx = Context(actor=actor, session=session, runtime=runtime, clock=clock)
    # committed: now the audit entries (read/deny entries go to the audit store directly)
    if result is not None:
        record_info(
            audit_ctx, "staff.sign_in", details={"staff_id": result.staff_id, "session_id": result.session_id}
        )
        return result
    record_denial(
        audit_ctx,
        "staff.sign_in",
        [],
        Decision(False, (), code=f"sign_in_{reason}", reason_en="sign-in refused"),
    )
    if failures:
        record_info(
            audit_ctx,
            "staff.sign_in_failures",
            details={"staff_id": actor.id, "failures_in_window": failures},
        )
    raise _sign_in_failed()


def validate_session(session: Session, token: str, clock: Clock) -> Actor:
    """The Actor of a valid session token, updating its last use; :class:`AuthenticationFailed` otherwise.

    Refused when unknown, revoked, idle longer than the session's idle timeout, past its absolute expiry, or
    when the account is disabled. The caller commits (the last-seen update, written at most once per
    ``LAST_SEEN_RESOLUTION``).
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise _session_invalid()
    found = session.execute(queries.session_with_user(token_digest(token))).one_or_none()
    if found is None:
        raise _session_invalid()
    row, user = found
    now = clock.now()
    idle_deadline = ensure_aware(row.last_seen_at) + timedelta(seconds=row.idle_seconds)
    if (
        row.revoked_at is not None
        or not user.active
        or now >= ensure_aware(row.expires_at)
        or now >= idle_deadline
        or not hmac.compare_digest(row.token_hash, token_digest(token))
    ):
        raise _session_invalid()
    if now - ensure_aware(row.last_seen_at) >= LAST_SEEN_RESOLUTION:
        row.last_seen_at = now
        session.flush()
    return _actor(user)


def sign_out(session: Session, runtime: Runtime, token: str, clock: Clock) -> bool:
    """Revoke the session of ``token`` (ASVS5 7.4.1). True when a live session was revoked."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return False
    found = session.execute(queries.session_with_user(token_digest(token))).one_or_none()
    if found is None:
        return False
    row, user = found
    if row.revoked_at is not None:
        return False
    row.revoked_at = clock.now()
    row.revoked_reason = "signed_out"
    session.flush()
    ctx = Context(actor=_actor(user), session=session, runtime=runtime, clock=clock)
    record_info(ctx, "staff.sign_out", details={"staff_id": user.id, "session_id": row.id})
    return True


def revoke_sessions(ctx: Context, username: str) -> int:
    """Sign an account out everywhere (admin, or the user themselves). Returns how many sessions ended."""
    user = _user(ctx, username)
    if not _is_self(ctx, user):
        _require_manage(ctx)
    revoked = _revoke_sessions(ctx, user.id, "revoked")
    ctx.session.flush()
    record_write(
        ctx, "staff.sessions_revoked", (), (), details={"staff_id": user.id, "sessions_revoked": revoked}
    )
    return revoked


# -- API tokens ----------------------------------------------------------------------------------------------


def _token_read(token: StaffApiToken, user: StaffUser) -> ApiTokenRead:
    return ApiTokenRead(
        id=token.id,
        staff_id=user.id,
        username=user.username,
        name=token.name,
        role=Role(token.role),
        purposes=[p for p in token.purposes.split(",") if p],
        created_at=ensure_aware(token.created_at),
        expires_at=ensure_aware(token.expires_at),
        last_used_at=ensure_aware(token.last_used_at) if token.last_used_at else None,
        revoked_at=ensure_aware(token.revoked_at) if token.revoked_at else None,
    )


def create_token(ctx: Context, username: str, data: ApiTokenCreate) -> ApiTokenIssued:
    """Issue an API token acting as ``username`` with ``data.role`` (default: the user's role), limited to
    ``data.purposes`` and expiring after ``data.expires_in_days``. The token is in the result only (admin)."""
    _require_manage(ctx)
    user = _user(ctx, username)
    if not user.active:
        raise Conflict(
            "無効なアカウントにはトークンを発行できません。",
            "Cannot issue a token for a disabled account.",
            code="staff_disabled",
        )
    role = data.role or Role(user.role)
    if role == Role.SYSTEM:
        raise ValidationFailed("システムロールのトークンは作れません。", "No token may have the system role.")
    now = ctx.clock.now()
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(API_TOKEN_BYTES)
    row = StaffApiToken(
        id=new_id(),
        token_hash=token_digest(token),
        staff_id=user.id,
        name=data.name,
        role=role.value,
        purposes=",".join(data.purposes),
        created_at=now,
        created_by=ctx.actor.label,
        expires_at=now + timedelta(days=data.expires_in_days),
    )
    ctx.session.add(row)
    ctx.session.flush()
    record_write(
        ctx,
        "staff.token_created",
        (),
        ("token_hash",),
        details={
            "staff_id": user.id,
            "token_id": row.id,
            "role": role.value,
            "purposes": row.purposes,
            "expires_in_days": data.expires_in_days,
        },
    )
    return ApiTokenIssued(**_token_read(row, user).model_dump(), token=token)


def list_tokens(ctx: Context, username: str | None = None) -> list[ApiTokenRead]:
    _require_manage(ctx)
    return [_token_read(t, u) for t, u in ctx.session.execute(queries.tokens(username)).all()]


def revoke_token(ctx: Context, token_id: str) -> ApiTokenRead:
    _require_manage(ctx)
    found = ctx.session.execute(queries.token_by_id(token_id)).one_or_none()
    if found is None:
        raise NotFound("API トークンが見つかりません。", "No such API token.", code="unknown_token")
    row, user = found
    if row.revoked_at is None:
        row.revoked_at = ctx.clock.now()
        ctx.session.flush()
        record_write(ctx, "staff.token_revoked", (), (), details={"staff_id": user.id, "token_id": row.id})
    return _token_read(row, user)


def validate_api_token(session: Session, token: str, clock: Clock) -> tuple[Actor, frozenset[str]]:
    """The Actor (the token's staff user with the token's role) and the purposes the token may declare.

    Refused (:class:`AuthenticationFailed`) when malformed, unknown, revoked, expired or the user is disabled.
    The caller commits (last-used update) and must refuse any purpose outside the returned set.
    """
    if not token.startswith(API_TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        raise _token_invalid()
    found = session.execute(queries.token_with_user(token_digest(token))).one_or_none()
    if found is None:
        raise _token_invalid()
    row, user = found
    now = clock.now()
    if row.revoked_at is not None or not user.active or now >= ensure_aware(row.expires_at):
        raise _token_invalid()
    if row.last_used_at is None or now - ensure_aware(row.last_used_at) >= LAST_SEEN_RESOLUTION:
        row.last_used_at = now
        session.flush()
    return _actor(user, Role(row.role)), frozenset(p for p in row.purposes.split(",") if p)


def require_purpose_allowed(purposes: frozenset[str], purpose: str | None) -> None:
    """Refuse a purpose the API token was not issued for (R-23-2: the data scope of each user)."""
    if purpose is not None and purpose not in purposes:
        raise PolicyDenied(
            f"この API トークンは利用目的「{purpose}」に使えません。",
            f"This API token is not allowed for purpose '{purpose}'.",
            rule_id="R-23-2",
            code="token_purpose_not_allowed",
        )
