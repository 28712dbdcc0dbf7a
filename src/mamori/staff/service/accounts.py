"""Staff accounts: add, list, disable / enable, passwords and the TOTP second factor (admin-only unless a user
acts on their own account)."""

from __future__ import annotations

from datetime import datetime

from mamori.kernel.auditing import record_denial, record_write
from mamori.kernel.clock import ensure_aware
from mamori.kernel.context import Actor, Context, Role
from mamori.kernel.db import new_id
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied
from mamori.kernel.policy import Action, Decision, Resource, decide
from mamori.staff import passwords, queries, totp
from mamori.staff.models import StaffUser
from mamori.staff.schemas import ServiceAccountCreate, StaffCreate, StaffOverview, StaffRead
from mamori.staff.service.common import (
    MAX_PASSWORD_INPUT,
    TOTP_COLUMN,
    TOTP_TABLE,
    AuthenticationFailed,
    data_subject,
    end_sessions,
    end_tokens,
    find_user,
    is_self,
    require_manage,
)
from mamori.staff.service.training import cleared_actor

# -- users ---------------------------------------------------------------------------------------------------


def add(ctx: Context, data: StaffCreate) -> StaffRead:
    # Outsourcee operator accounts are opened by whoever supervises outsourcees (R-25-1) as well as by an admin.
    if (
        data.role != Role.OUTSOURCEE
        or not decide(ctx, Action.PROCESSOR_MANAGE, Resource(kind="staff")).allowed
    ):
        require_manage(ctx)
    return _create(ctx, data, "person")


def add_service(ctx: Context, data: ServiceAccountCreate) -> StaffRead:
    """A machine client's own account (admin): no password, no TOTP, no interactive sign-in; it acts only through
    the API tokens an administrator issues it (:func:`.tokens.create_token`), and everything it does is audited
    under its own name. Its role is never admin or system (the schema refuses them)."""
    require_manage(ctx)
    return _create(ctx, data, "service")


def service_account(ctx: Context, username: str) -> StaffRead:
    """A service account by user name (admin); NotFound for a person's account."""
    require_manage(ctx)
    user = ctx.session.execute(queries.by_username(username)).scalar_one_or_none()
    if user is None or not user.is_service:
        raise NotFound(
            "サービスアカウントが見つかりません。", "No such service account.", code="unknown_service_account"
        )
    return StaffRead.model_validate(user)


def _create(ctx: Context, data: StaffCreate, kind: str) -> StaffRead:
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
        kind=kind,
    )
    ctx.session.add(user)
    ctx.session.flush()
    ctx.runtime.keystore.create_data_keys([data_subject(user.id)])
    action = "staff.service_account_added" if kind == "service" else "staff.add"
    record_write(ctx, action, (), ("username", "role"), details={"staff_id": user.id, "role": user.role})
    return StaffRead.model_validate(user)


def service_account_refused(ctx: Context, user: StaffUser, action: str) -> None:
    """A service account has no password, no second factor and no interactive use: refused (audited)."""
    if not user.is_service:
        return
    record_denial(
        ctx,
        action,
        [],
        Decision(False, ("R-23-5",), code="service_account_no_sign_in", reason_en="service account"),
    )
    raise PolicyDenied(
        "サービスアカウントはサインインできません（パスワード・二要素認証なし、API トークンでのみ動作）。",
        "A service account cannot sign in (no password, no second factor; it acts only through its API tokens).",
        rule_id="R-23-5",
        code="service_account_no_sign_in",
    )


def list_all(ctx: Context) -> list[StaffRead]:
    """Every staff user (administrators only)."""
    require_manage(ctx)
    return list_staff(ctx)


def list_staff(ctx: Context) -> list[StaffRead]:
    """Every staff user, without a permission check (for the edges: demo seeding, first-run set-up)."""
    return [StaffRead.model_validate(u) for u in ctx.session.execute(queries.all_staff()).scalars()]


def _overview(user: StaffUser, now: datetime) -> StaffOverview:
    until = ensure_aware(user.locked_until) if user.locked_until is not None else None
    locked = until is not None and until > now
    return StaffOverview.model_validate(user).model_copy(
        update={"locked": locked, "locked_until": until if locked else None}
    )


def get(ctx: Context, staff_id: str) -> StaffOverview:
    """One staff user by their opaque id (administrators only; the web pages name staff by id, not username)."""
    require_manage(ctx)
    user = ctx.session.execute(queries.by_id(staff_id)).scalar_one_or_none()
    if user is None:
        raise NotFound("スタッフが見つかりません。", "No such staff user.", code="unknown_staff")
    return _overview(user, ctx.clock.now())


def overview(ctx: Context) -> list[StaffOverview]:
    """Every staff user with whether the account is locked out now (administrators only)."""
    require_manage(ctx)
    now = ctx.clock.now()
    return [_overview(u, now) for u in ctx.session.execute(queries.all_staff()).scalars()]


def any_staff(ctx: Context) -> bool:
    """Whether any staff user exists yet (first-run set-up creates the first administrator otherwise)."""
    return ctx.session.execute(queries.all_staff().limit(1)).first() is not None


def actor_for(ctx: Context, username: str) -> Actor:
    """The Actor for an active staff user (used by the edges to build a Context; ``ctx`` may be a system one)."""
    user = ctx.session.execute(queries.by_username(username)).scalar_one_or_none()
    if user is None or not user.active:
        raise NotFound(
            f"有効なスタッフ「{username}」が見つかりません。",
            f"No active staff user '{username}'.",
            code="unknown_staff",
        )
    service_account_refused(ctx, user, "staff.act_as")
    return cleared_actor(ctx, user)  # R-23-3: not cleared while the training policy gates this user


def disable(ctx: Context, username: str) -> StaffRead:
    """Disable an account: no more sign-in; every session and API token of it is revoked (ASVS5 7.4.2)."""
    require_manage(ctx)
    user = find_user(ctx, username)
    disable_user(ctx, user)
    return StaffRead.model_validate(user)


def disable_user(ctx: Context, user: StaffUser, *, contained: bool = False) -> tuple[int, int]:
    """Disable ``user`` (authorised by the caller): sessions and tokens revoked, one ``staff.disable`` entry
    (``contained``: done as an incident's containment step). One's own account is refused. Returns (sessions
    revoked, tokens revoked)."""
    if is_self(ctx, user):
        raise Conflict(
            "自分自身のアカウントは無効にできません。",
            "You cannot disable your own account.",
            code="cannot_disable_self",
        )
    user.active = False
    sessions = end_sessions(ctx, user.id, "disabled")
    tokens = end_tokens(ctx, user.id)
    ctx.session.flush()
    details: dict[str, str | int | bool | None] = {
        "staff_id": user.id,
        "sessions_revoked": sessions,
        "tokens_revoked": tokens,
    }
    if contained:
        details["contained"] = True
    record_write(ctx, "staff.disable", (), ("active",), details=details)
    return sessions, tokens


# The roles an account may be moved between (an outsourcee operator is another kind of account; ADR 0013).
CHANGEABLE_ROLES = frozenset({Role.ADMIN, Role.PRIVACY_OFFICER, Role.SALES, Role.SUPPORT, Role.ANALYST})


def change_role(ctx: Context, username: str, role: Role) -> StaffRead:
    """Move an account to another role (administrator; issue 25: an access review's change). Its sessions and API
    tokens end — a token carries the role it was issued with, and the new role may need MFA it did not — so the
    person signs in again under the new role. Refused for one's own account, for an outsourcee operator's account
    or towards that role, and when the role is the same. Audited ``staff.role_change`` (old and new role)."""
    require_manage(ctx)
    user = find_user(ctx, username)
    if is_self(ctx, user):
        raise Conflict(
            "自分自身の役割は変更できません。",
            "You cannot change your own role.",
            code="cannot_change_own_role",
        )
    old = Role(user.role)
    if role not in CHANGEABLE_ROLES or old not in CHANGEABLE_ROLES:
        raise Conflict(
            "委託先の担当者の役割は変更できません（委託先のアカウントは委託契約とともに管理します）。",
            "An outsourcee operator's role cannot be changed (those accounts follow their contract).",
            code="role_not_changeable",
        )
    if role == old:
        raise Conflict("役割はすでにその役割です。", "The account already has that role.", code="same_role")
    user.role = role.value
    sessions = end_sessions(ctx, user.id, "role_changed")
    tokens = end_tokens(ctx, user.id)
    ctx.session.flush()
    record_write(
        ctx,
        "staff.role_change",
        (),
        ("role",),
        details={
            "staff_id": user.id,
            "from": old.value,
            "to": role.value,
            "sessions_revoked": sessions,
            "tokens_revoked": tokens,
        },
    )
    return StaffRead.model_validate(user)


def enable(ctx: Context, username: str) -> StaffRead:
    """Re-enable a disabled account (its old sessions and tokens stay revoked)."""
    require_manage(ctx)
    user = find_user(ctx, username)
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
    user = find_user(ctx, username)
    service_account_refused(ctx, user, "staff.password_set")
    decision = decide(ctx, Action.STAFF_MANAGE, Resource(kind="staff"))
    self_service = False
    if not decision.allowed:
        if not is_self(ctx, user):
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
    revoked = end_sessions(ctx, user.id, "password_changed", keep=keep_session_id)
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
    user = find_user(ctx, username)
    if not (is_self(ctx, user) and not user.mfa_enrolled):
        require_manage(ctx)
    service_account_refused(ctx, user, "staff.totp_enrolled")
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
    require_manage(ctx)
    user = find_user(ctx, username)
    user.totp_secret_enc = None
    user.totp_last_step = None
    revoked = end_sessions(ctx, user.id, "mfa_reset")
    ctx.session.flush()
    record_write(
        ctx,
        "staff.totp_reset",
        (),
        ("totp_secret",),
        details={"staff_id": user.id, "sessions_revoked": revoked},
    )
    return StaffRead.model_validate(user)
