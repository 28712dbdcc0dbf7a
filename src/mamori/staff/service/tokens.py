"""API tokens: ``mamori_<random>``, shown once, stored as SHA-256, fixed role, allowed purposes, expiry."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import cast

from mamori.kernel.auditing import record_write
from mamori.kernel.clock import ensure_aware
from mamori.kernel.context import Actor, Context, Role
from mamori.kernel.db import new_id
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from mamori.staff import queries
from mamori.staff.models import StaffApiToken, StaffUser
from mamori.staff.schemas import ApiTokenCreate, ApiTokenIssued, ApiTokenRead
from mamori.staff.service.common import (
    API_TOKEN_BYTES,
    API_TOKEN_PREFIX,
    LAST_SEEN_RESOLUTION,
    MAX_TOKEN_LENGTH,
    actor_of,
    checked_tokens,
    find_user,
    forget_checked_tokens,
    require_manage,
    token_digest,
    token_invalid,
)

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
    require_manage(ctx)
    user = find_user(ctx, username)
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
    require_manage(ctx)
    return [_token_read(t, u) for t, u in ctx.session.execute(queries.tokens(username)).all()]


def revoke_token(ctx: Context, token_id: str) -> ApiTokenRead:
    require_manage(ctx)
    found = ctx.session.execute(queries.token_by_id(token_id)).one_or_none()
    if found is None:
        raise NotFound("API トークンが見つかりません。", "No such API token.", code="unknown_token")
    row, user = found
    if row.revoked_at is None:
        row.revoked_at = ctx.clock.now()
        ctx.session.flush()
        forget_checked_tokens(ctx)
        record_write(ctx, "staff.token_revoked", (), (), details={"staff_id": user.id, "token_id": row.id})
    return _token_read(row, user)


def validate_api_token(ctx: Context, token: str) -> tuple[Actor, frozenset[str]]:
    """The Actor (the token's staff user with the token's role) and the purposes the token may declare.

    Refused (:class:`AuthenticationFailed`) when malformed, unknown, revoked, expired or the user is disabled.
    ``ctx`` is the authentication edge's system Context; the caller commits (last-used update) and must refuse any
    purpose outside the returned set.
    """
    if not token.startswith(API_TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        raise token_invalid()
    digest = token_digest(token)
    now = ctx.clock.now()
    cached = checked_tokens(ctx).get(digest, now)
    if cached is not None:
        actor, purposes, expires_at = cast(tuple[Actor, frozenset[str], datetime], cached)
        if now < expires_at:
            return actor, purposes
    found = ctx.session.execute(queries.token_with_user(digest)).one_or_none()
    if found is None:
        raise token_invalid()
    row, user = found
    if row.revoked_at is not None or not user.active or now >= ensure_aware(row.expires_at):
        raise token_invalid()
    if row.last_used_at is None or now - ensure_aware(row.last_used_at) >= LAST_SEEN_RESOLUTION:
        row.last_used_at = now
        ctx.session.flush()
    actor = actor_of(user, Role(row.role))
    purposes = frozenset(p for p in row.purposes.split(",") if p)
    checked_tokens(ctx).put(digest, (actor, purposes, ensure_aware(row.expires_at)), now)
    return actor, purposes


def require_purpose_allowed(purposes: frozenset[str], purpose: str | None) -> None:
    """Refuse a purpose the API token was not issued for (R-23-2: the data scope of each user)."""
    if purpose is not None and purpose not in purposes:
        raise PolicyDenied(
            f"この API トークンは利用目的「{purpose}」に使えません。",
            f"This API token is not allowed for purpose '{purpose}'.",
            rule_id="R-23-2",
            code="token_purpose_not_allowed",
        )
