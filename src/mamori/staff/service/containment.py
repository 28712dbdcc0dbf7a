"""Containment of an incident (issue 22, R-26-7): disable an account, list and revoke its sessions, revoke its API
tokens — for whoever runs the incident (``staff.contain``: the administrator and the privacy officer), without the
rest of ``staff.manage``.

Each function authorises ``staff.contain``, does what the administrator's own functions do (the same revocation
internals: a revoked session no longer validates, a revoked token is forgotten by the token cache at once),
audits the staff action under its usual code with ``contained: True`` and returns the staff id and counts. The incident slice
records the step as a measure of the incident and audits it with the incident id.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from mamori.kernel.auditing import authorise, record_write
from mamori.kernel.context import Context
from mamori.kernel.errors import NotFound
from mamori.kernel.policy import Action, Resource
from mamori.staff import queries
from mamori.staff.models import StaffSession, StaffUser
from mamori.staff.schemas import SessionRead
from mamori.staff.service.accounts import disable_user
from mamori.staff.service.common import (
    end_sessions,
    end_tokens,
    forget_checked_tokens,
)

_ID = re.compile(r"^[0-9a-f]{32}$")


def _require_contain(ctx: Context) -> None:
    authorise(ctx, Action.STAFF_CONTAIN, Resource(kind="staff"))


def _user(ctx: Context, username: str) -> StaffUser:
    """The staff user; NotFound that does not repeat the name given (unlike ``common.find_user``)."""
    user = ctx.session.execute(queries.by_username(username)).scalar_one_or_none()
    if user is None:
        raise NotFound("スタッフが見つかりません。", "No such staff user.", code="unknown_staff")
    return user


def _unknown_session() -> NotFound:
    return NotFound("セッションが見つかりません。", "No such session.", code="unknown_session")


def _unknown_token() -> NotFound:
    return NotFound("API トークンが見つかりません。", "No such API token.", code="unknown_token")


def contain_disable(ctx: Context, username: str) -> tuple[str, dict[str, int]]:
    """Disable an account: no more sign-in, every session and API token of it revoked (ASVS5 7.4.2).

    Counts: ``disabled`` (0 when it already was), ``sessions_revoked``, ``tokens_revoked``. One's own account is
    refused (Conflict), as in :func:`.accounts.disable`."""
    _require_contain(ctx)
    user = _user(ctx, username)
    disabled = 1 if user.active else 0
    sessions, tokens = disable_user(ctx, user, contained=True)
    return user.id, {"disabled": disabled, "sessions_revoked": sessions, "tokens_revoked": tokens}


def contain_sessions_of(ctx: Context, username: str) -> list[SessionRead]:
    """The account's sessions not revoked yet (ids and times only), oldest first."""
    _require_contain(ctx)
    user = _user(ctx, username)
    rows = ctx.session.execute(queries.open_sessions(user.id).order_by(StaffSession.created_at)).scalars()
    return [SessionRead.model_validate(r) for r in rows]


def contain_revoke_sessions(ctx: Context, username: str) -> tuple[str, dict[str, int]]:
    """Sign an account out everywhere (its sessions revoked; the account stays enabled)."""
    _require_contain(ctx)
    user = _user(ctx, username)
    revoked = end_sessions(ctx, user.id, "contained")
    ctx.session.flush()
    record_write(
        ctx,
        "staff.sessions_revoked",
        (),
        (),
        details={"staff_id": user.id, "sessions_revoked": revoked, "contained": True},
    )
    return user.id, {"sessions_revoked": revoked}


def contain_revoke_session(ctx: Context, session_id: str) -> tuple[str, dict[str, int]]:
    """Revoke one session by its public id (as named in the audit log's ``via``); returns the staff id and
    ``sessions_revoked`` (0 when it had already ended)."""
    _require_contain(ctx)
    if not isinstance(session_id, str) or not _ID.match(session_id):
        raise _unknown_session()
    found = ctx.session.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.staff_id)
        .where(StaffSession.id == session_id)
    ).one_or_none()
    if found is None:
        raise _unknown_session()
    row, user = found
    revoked = 0
    if row.revoked_at is None:
        row.revoked_at = ctx.clock.now()
        row.revoked_reason = "contained"
        revoked = 1
        ctx.session.flush()
    record_write(
        ctx,
        "staff.sessions_revoked",
        (),
        (),
        details={"staff_id": user.id, "session_id": row.id, "sessions_revoked": revoked, "contained": True},
    )
    return user.id, {"sessions_revoked": revoked}


def contain_revoke_tokens(ctx: Context, username: str) -> tuple[str, dict[str, int]]:
    """Revoke every API token of an account (the token cache forgets them at once)."""
    _require_contain(ctx)
    user = _user(ctx, username)
    revoked = end_tokens(ctx, user.id)
    ctx.session.flush()
    record_write(
        ctx,
        "staff.token_revoked",
        (),
        (),
        details={"staff_id": user.id, "tokens_revoked": revoked, "contained": True},
    )
    return user.id, {"tokens_revoked": revoked}


def contain_revoke_token(ctx: Context, token_id: str) -> tuple[str, dict[str, int]]:
    """Revoke one API token by its id; returns the owner's staff id and ``tokens_revoked`` (0: already)."""
    _require_contain(ctx)
    if not isinstance(token_id, str) or not _ID.match(token_id):
        raise _unknown_token()
    found = ctx.session.execute(queries.token_by_id(token_id)).one_or_none()
    if found is None:
        raise _unknown_token()
    row, user = found
    revoked = 0
    if row.revoked_at is None:
        row.revoked_at = ctx.clock.now()
        revoked = 1
        ctx.session.flush()
        forget_checked_tokens(ctx)
    record_write(
        ctx,
        "staff.token_revoked",
        (),
        (),
        details={"staff_id": user.id, "token_id": row.id, "tokens_revoked": revoked, "contained": True},
    )
    return user.id, {"tokens_revoked": revoked}
