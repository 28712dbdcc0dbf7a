"""First-sign-in TOTP enrolment (issue 15): an account whose role needs a second factor and has none yet (a new
account, or one whose 2FA an administrator reset) enrols it right after a correct password, instead of being
refused with ``mfa_not_enrolled``.

1. ``sign_in(…, enrol=True)`` (the web sign-in) — as a sign-in, except that a correct password for such an account
   begins an enrolment (:func:`begin`): a new TOTP secret sealed under the staff member's data key, and an opaque
   ticket (256-bit random, kept as SHA-256) valid for ``ENROLMENT_TIMEOUT``. The caller shows the QR code of the
   provisioning URI and the secret for manual entry. A wrong password fails exactly as any sign-in does.
2. ``finish_enrolment(ctx, ticket, code)`` (in :mod:`.sessions`, beside the sign-in it completes) — the right code
   makes the secret the account's second factor and opens a session; a wrong one counts as a failed sign-in and
   gives the enrolment back (``wrong_code``) until ``MAX_ENROLMENT_ATTEMPTS``; an unknown, used or expired ticket
   is refused (:class:`EnrolmentInvalid`): sign in again.

The JSON API's ``/api/v1/auth/sign-in`` keeps ``enrol=False`` (no enrolment there). Audit: the start is a write
entry (``staff.totp_enrolment_started``), the end ``staff.totp_enrolled`` and ``staff.sign_in``, refusals
``staff.totp_enrolment`` denials — with staff and enrolment ids only, never the secret, code or ticket.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from mamori.kernel.auditing import record_write
from mamori.kernel.clock import ensure_aware
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.staff import totp
from mamori.staff.models import StaffTotpEnrolment, StaffUser
from mamori.staff.schemas import EnrolmentStarted
from mamori.staff.service.common import MAX_TOKEN_LENGTH, AuthenticationFailed, data_subject, token_digest

ENROLMENT_TIMEOUT = timedelta(minutes=10)
ENROLMENT_TICKET_BYTES = 32
MAX_ENROLMENT_ATTEMPTS = 5
ENROLMENT_TABLE = "staff_totp_enrolments"
ENROLMENT_COLUMN = "secret"


class EnrolmentInvalid(AuthenticationFailed):
    """The enrolment ticket is unknown, used up or expired: sign in again."""

    code = "enrolment_invalid"


def enrolment_invalid() -> EnrolmentInvalid:
    return EnrolmentInvalid(
        "二要素認証の登録手続きが無効か期限切れです。もう一度サインインしてください。",
        "The two-factor enrolment is invalid or has expired. Please sign in again.",
    )


def begin(ctx: Context, user: StaffUser, now: datetime) -> EnrolmentStarted:
    """After the right password of an account that must enrol (inside the sign-in's write transaction): a new
    pending secret, sealed, and its ticket. An earlier pending enrolment of the account ends, and so does every
    expired one."""
    ctx.session.execute(
        delete(StaffTotpEnrolment).where(
            (StaffTotpEnrolment.staff_id == user.id) | (StaffTotpEnrolment.expires_at <= now)
        )
    )
    secret = totp.new_secret()
    ticket = secrets.token_urlsafe(ENROLMENT_TICKET_BYTES)
    row = StaffTotpEnrolment(
        id=new_id(),
        ticket_hash=token_digest(ticket),
        staff_id=user.id,
        created_at=now,
        expires_at=now + ENROLMENT_TIMEOUT,
        attempts=0,
    )
    row.secret_enc = seal(ctx, row, secret)
    ctx.session.add(row)
    ctx.session.flush()
    record_write(
        ctx, "staff.totp_enrolment_started", (), (), details={"staff_id": user.id, "enrolment_id": row.id}
    )
    return started(row, user, ticket, secret)


def seal(ctx: Context, row: StaffTotpEnrolment, secret: str) -> bytes:
    return ctx.runtime.cipher.encrypt(
        data_subject(row.staff_id), ENROLMENT_TABLE, ENROLMENT_COLUMN, row.id, secret
    )


def unseal(ctx: Context, row: StaffTotpEnrolment) -> str:
    return ctx.runtime.cipher.decrypt(
        data_subject(row.staff_id), ENROLMENT_TABLE, ENROLMENT_COLUMN, row.id, row.secret_enc
    )


def started(
    row: StaffTotpEnrolment, user: StaffUser, ticket: str, secret: str, *, wrong_code: bool = False
) -> EnrolmentStarted:
    return EnrolmentStarted(
        ticket=ticket,
        provisioning_uri=totp.provisioning_uri(secret, user.username),
        secret=secret,
        staff_id=user.id,
        username=user.username,
        expires_at=ensure_aware(row.expires_at),
        wrong_code=wrong_code,
        attempts_left=max(MAX_ENROLMENT_ATTEMPTS - row.attempts, 0),
    )


def find(ctx: Context, ticket: str) -> tuple[StaffTotpEnrolment, StaffUser] | None:
    """The pending enrolment of ``ticket`` and its account, or None."""
    if not ticket or len(ticket) > MAX_TOKEN_LENGTH:
        return None
    found = ctx.session.execute(
        select(StaffTotpEnrolment, StaffUser)
        .join(StaffUser, StaffUser.id == StaffTotpEnrolment.staff_id)
        .where(StaffTotpEnrolment.ticket_hash == token_digest(ticket))
    ).one_or_none()
    return (found[0], found[1]) if found is not None else None


def refusal(row: StaffTotpEnrolment, user: StaffUser, now: datetime) -> str | None:
    """Why the pending enrolment may no longer finish, else None."""
    if now >= ensure_aware(row.expires_at):
        return "expired"
    if row.attempts >= MAX_ENROLMENT_ATTEMPTS:
        return "too_many_attempts"
    if not user.active or user.password_hash is None:
        return "inactive"
    if user.totp_secret_enc is not None:
        return "already_enrolled"
    changed = user.password_changed_at
    if changed is not None and ensure_aware(changed) > ensure_aware(row.created_at):
        return "password_changed"
    return None
