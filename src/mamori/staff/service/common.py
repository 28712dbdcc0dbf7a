"""What the staff service modules share: limits, the one authentication error, actors, look-ups, revocation."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import update

from mamori.kernel.audit import AuditEntry
from mamori.kernel.auditing import authorise
from mamori.kernel.context import Actor, ActorKind, Context, Role
from mamori.kernel.errors import NotFound, Unauthenticated
from mamori.kernel.memo import TtlCache
from mamori.kernel.policy import Action, Resource
from mamori.staff import queries
from mamori.staff.models import StaffApiToken, StaffSession, StaffUser

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


class AuthenticationFailed(Unauthenticated):
    """Sign-in refused or session/token not valid. One code and message for every cause (no enumeration)."""

    code = "unauthenticated"
    http_status = 401


def sign_in_failed() -> AuthenticationFailed:
    return AuthenticationFailed(
        "サインインできませんでした。ユーザー名・パスワード・確認コードを確かめてください。",
        "Sign-in failed: check the user name, password and verification code.",
    )


def session_invalid() -> AuthenticationFailed:
    return AuthenticationFailed(
        "セッションが無効か期限切れです。もう一度サインインしてください。",
        "The session is invalid or has expired; sign in again.",
    )


def token_invalid() -> AuthenticationFailed:
    return AuthenticationFailed(
        "API トークンが無効か期限切れです。",
        "The API token is invalid, revoked or expired.",
    )


# Refusal codes of a credential whose account or grant has ended (issue 25: a leaver's token still in use).
DEAD_CREDENTIAL_ACTION = "staff.credential_refused"


def record_dead_credential(ctx: Context, user: StaffUser, via: str, reason: str) -> None:
    """Audit the use of a session or API token that exists but no longer opens anything — the account is
    disabled, the credential revoked or expired — under the account it belongs to, with ``via`` naming it (the
    row id, never the secret), on the audit store's own connection (the refusal rolls the request back). The
    monitoring slice raises an alert on the first one of a disabled account (issue 25). Unknown or malformed
    credentials name nobody and stay unaudited here (the sign-in throttle covers guessing)."""
    kind = ActorKind.OUTSOURCEE if user.role == Role.OUTSOURCEE.value else ActorKind.STAFF
    ctx.runtime.audit.append(
        [
            AuditEntry(
                actor=f"{kind.value}:{user.id}",
                actor_role=user.role,
                action=DEAD_CREDENTIAL_ACTION,
                purpose=None,
                subject_ids=(),
                fields=(),
                decision="deny",
                reason=reason,
                details={"via": via, "active": bool(user.active)},
                at=ctx.clock.now(),
            )
        ]
    )


def token_digest(token: str) -> str:
    """SHA-256 (hex) of a session or API token: what the database keeps instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def data_subject(staff_id: str) -> str:
    """The keystore subject whose data key encrypts this staff member's TOTP secret."""
    return f"staff:{staff_id}"


def actor_of(user: StaffUser, role: Role | None = None) -> Actor:
    effective = role or Role(user.role)
    kind = ActorKind.OUTSOURCEE if effective == Role.OUTSOURCEE else ActorKind.STAFF
    return Actor(kind=kind, id=user.id, name=user.username, role=effective, team=user.team)


# An unknown or unmatched sign-in is audited under this actor; the submitted user name is never logged.
UNKNOWN_ACTOR = Actor(kind=ActorKind.STAFF, id="unknown", name="unknown", role=Role.ANALYST)


def require_manage(ctx: Context) -> None:
    authorise(ctx, Action.STAFF_MANAGE, Resource(kind="staff"))


def find_user(ctx: Context, username: str) -> StaffUser:
    user = ctx.session.execute(queries.by_username(username)).scalar_one_or_none()
    if user is None:
        raise NotFound(
            f"スタッフ「{username}」が見つかりません。",
            f"No staff user '{username}'.",
            code="unknown_staff",
        )
    return user


def is_self(ctx: Context, user: StaffUser) -> bool:
    return ctx.actor.kind in (ActorKind.STAFF, ActorKind.OUTSOURCEE) and ctx.actor.id == user.id


def end_sessions(ctx: Context, staff_id: str, reason: str, *, keep: str | None = None) -> int:
    stmt = (
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=ctx.clock.now(), revoked_reason=reason)
    )
    if keep is not None:
        stmt = stmt.where(StaffSession.id != keep)
    result = ctx.session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


# A valid token's check is trusted from memory this long (no database round trip on each API call). Revoking a
# token or disabling its user in this process clears the cache at once; another process (a second server
# worker, the CLI) stops accepting a revoked token within this lifetime (ADR 0016).
TOKEN_CHECK_LIFETIME = timedelta(seconds=5)


def checked_tokens(ctx: Context) -> TtlCache[object]:
    return ctx.runtime.caches.ttl("staff.api_tokens", TOKEN_CHECK_LIFETIME)


def forget_checked_tokens(ctx: Context) -> None:
    """Called by every change that may end a token (revocation, disabling the user)."""
    checked_tokens(ctx).clear()


def end_tokens(ctx: Context, staff_id: str) -> int:
    forget_checked_tokens(ctx)
    result = ctx.session.execute(
        update(StaffApiToken)
        .where(StaffApiToken.staff_id == staff_id, StaffApiToken.revoked_at.is_(None))
        .values(revoked_at=ctx.clock.now())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def mfa_required(role: Role) -> bool:
    return role in MFA_REQUIRED_ROLES
