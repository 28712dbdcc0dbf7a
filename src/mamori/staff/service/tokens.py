"""API tokens: ``mamori_<random>``, shown once, stored as SHA-256, fixed role, allowed purposes, expiry.

Issue 17: a person's token is created by that person after a second factor, with their own role; a machine
client gets a service account of its own, whose tokens an administrator issues. Nobody creates a token that acts
as somebody else; an administrator lists and revokes any token.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from typing import cast

from mamori.kernel.auditing import record_denial, record_write
from mamori.kernel.clock import ensure_aware
from mamori.kernel.context import Actor, ActorKind, Context, Role
from mamori.kernel.db import new_id
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied
from mamori.kernel.policy import Action, Decision, Resource, decide
from mamori.staff import queries
from mamori.staff.models import StaffApiToken, StaffSession, StaffUser
from mamori.staff.schemas import ApiTokenCreate, ApiTokenIssued, ApiTokenRead
from mamori.staff.service.common import (
    API_TOKEN_BYTES,
    API_TOKEN_PREFIX,
    LAST_SEEN_RESOLUTION,
    MAX_TOKEN_LENGTH,
    checked_tokens,
    forget_checked_tokens,
    record_dead_credential,
    require_manage,
    token_digest,
    token_invalid,
)
from mamori.staff.service.training import cleared_actor

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


IDENTITY_RULE = (
    "R-23-5"  # identification and authentication: a token acts as its owner, never as someone else
)


def _refuse(ctx: Context, code: str, ja: str, en: str, *, staff_id: str | None = None) -> PolicyDenied:
    """Audit a refused token creation under the one who asked (never the token or the request's values)."""
    record_denial(
        ctx,
        "staff.token_created",
        [],
        Decision(False, (IDENTITY_RULE,), code=code, reason_en=en),
    )
    return PolicyDenied(ja, en, rule_id=IDENTITY_RULE, code=code)


def _mfa_session_of(ctx: Context, session_digest: str | None) -> StaffSession | None:
    """The caller's own live session that checked a second factor, or None."""
    if not session_digest or len(session_digest) != 64:
        return None
    found = ctx.session.execute(queries.session_with_user(session_digest)).one_or_none()
    if found is None:
        return None
    row, user = found
    now = ctx.clock.now()
    live = (
        row.revoked_at is None
        and now < ensure_aware(row.expires_at)
        and now < ensure_aware(row.last_seen_at) + timedelta(seconds=row.idle_seconds)
        and user.active
        and not user.is_service
    )
    if not live or not row.mfa or user.id != ctx.actor.id or ctx.actor.kind not in OWN_KINDS:
        return None
    return row


OWN_KINDS = (ActorKind.STAFF, ActorKind.OUTSOURCEE)


def create_token(
    ctx: Context, username: str, data: ApiTokenCreate, *, session_digest: str | None = None
) -> ApiTokenIssued:
    """Issue an API token for ``username``; the token is in the result only (stored as its SHA-256).

    Two cases, nothing else (issue 17: an administrator could mint a token for anyone, with any role):

    - a person's token is created by that person, from their own signed-in session that checked a TOTP code
      (``session_digest``: the SHA-256 of the web/API/CLI session token), with the person's own role — an
      administrator cannot create one for somebody else;
    - a service account's token is issued by an administrator, with the service account's role.

    The token acts as its owner: everything done with it is audited under the owner's (or service account's)
    identity. Refusals are audited (``staff.token_created``, deny) and name rule R-23-5.
    """
    user = ctx.session.execute(queries.by_username(username)).scalar_one_or_none()
    if user is not None and user.is_service:
        require_manage(ctx)
    elif user is None or user.id != ctx.actor.id or ctx.actor.kind not in OWN_KINDS:
        raise _refuse(
            ctx,
            "token_for_other_user",
            "API トークンは本人だけが作れます（管理者も他人のトークンは作れません。機械クライアントにはサービス"
            "アカウントを使ってください）。",
            "An API token can be created only by its owner (an administrator cannot create one for someone "
            "else; give machine clients a service account).",
        )
    elif _mfa_session_of(ctx, session_digest) is None:
        raise _refuse(
            ctx,
            "token_needs_mfa_session",
            "API トークンを作るには、確認コード（二要素認証）でサインインしたセッションが必要です。",
            "Creating an API token needs a session signed in with a verification code (second factor).",
        )
    if not user.active:
        raise Conflict(
            "無効なアカウントにはトークンを発行できません。",
            "Cannot issue a token for a disabled account.",
            code="staff_disabled",
        )
    role = data.role or Role(user.role)
    if role != Role(user.role):
        raise _refuse(
            ctx,
            "token_role_above_owner",
            "API トークンの役割は持ち主の役割と同じでなければなりません。",
            "An API token has its owner's role, no other.",
        )
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
            "service_account": user.is_service,
        },
    )
    return ApiTokenIssued(**_token_read(row, user).model_dump(), token=token)


def _may_manage(ctx: Context) -> bool:
    return decide(ctx, Action.STAFF_MANAGE, Resource(kind="staff")).allowed


def list_tokens(ctx: Context, username: str | None = None) -> list[ApiTokenRead]:
    """Every token (an administrator), or the caller's own tokens (anyone signed in as a person)."""
    if _may_manage(ctx):
        return [_token_read(t, u) for t, u in ctx.session.execute(queries.tokens(username)).all()]
    if ctx.actor.kind not in OWN_KINDS or (username is not None and username != ctx.actor.name):
        require_manage(ctx)  # refused and audited
    rows = ctx.session.execute(queries.tokens(staff_id=ctx.actor.id)).all()
    return [_token_read(t, u) for t, u in rows]


def revoke_token(ctx: Context, token_id: str) -> ApiTokenRead:
    """Revoke a token: an administrator any token, anyone their own."""
    found = ctx.session.execute(queries.token_by_id(token_id)).one_or_none()
    own = found is not None and ctx.actor.kind in OWN_KINDS and found[1].id == ctx.actor.id
    if not own:
        require_manage(ctx)
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
        reason = (
            "account_disabled"
            if not user.active
            else "token_revoked"
            if row.revoked_at is not None
            else "token_expired"
        )
        record_dead_credential(ctx, user, f"token:{row.id}", reason)
        raise token_invalid()
    if row.last_used_at is None or now - ensure_aware(row.last_used_at) >= LAST_SEEN_RESOLUTION:
        row.last_used_at = now
        ctx.session.flush()
    # R-23-3: cached with the token (cleared on any change); ``via`` names the token in the audit log (issue 22)
    actor = replace(cleared_actor(ctx, user, Role(row.role)), via=f"token:{row.id}")
    purposes = frozenset(p for p in row.purposes.split(",") if p)
    checked_tokens(ctx).put(digest, (actor, purposes, ensure_aware(row.expires_at)), now)
    return actor, purposes


def require_purpose_allowed(purposes: frozenset[str], purpose: str | None) -> None:
    """Refuse a purpose the API token was not issued for (R-23-2: the data scope of each user).

    The message does not repeat the submitted purpose (no request input in an error body, issue 17)."""
    if purpose is not None and purpose not in purposes:
        raise PolicyDenied(
            "この API トークンは、指定された利用目的には使えません。",
            "This API token is not allowed for the declared purpose.",
            rule_id="R-23-2",
            code="token_purpose_not_allowed",
        )
