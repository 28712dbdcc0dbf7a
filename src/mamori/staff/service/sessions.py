"""Sign-in, server-side sessions and sign-out (ASVS5 6.3, 7.2, 7.4; ASVS4.0.3 2.2.1 lock-out, 3.3.2 timeouts)."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, overload

from sqlalchemy import delete
from sqlalchemy.orm import Session

from mamori.kernel.auditing import record_denial, record_info, record_write
from mamori.kernel.clock import Clock, ensure_aware
from mamori.kernel.context import Actor, Context, Role
from mamori.kernel.db import new_id, unit_of_work
from mamori.kernel.outbox import OUTBOX_PENDING
from mamori.kernel.policy import Decision
from mamori.kernel.runtime import Runtime
from mamori.staff import passwords, queries, totp
from mamori.staff.models import StaffSession, StaffSignInFailure, StaffSignInMiss, StaffUser
from mamori.staff.schemas import EnrolmentStarted, SignedIn
from mamori.staff.service import enrolment
from mamori.staff.service.common import (
    ABSOLUTE_TIMEOUT,
    IDLE_TIMEOUT,
    LAST_SEEN_RESOLUTION,
    MAX_PASSWORD_INPUT,
    MAX_TOKEN_LENGTH,
    MAX_USERNAME_LENGTH,
    SESSION_TOKEN_BYTES,
    TOTP_COLUMN,
    TOTP_TABLE,
    UNKNOWN_ACTOR,
    actor_of,
    data_subject,
    end_sessions,
    find_user,
    is_self,
    mfa_required,
    record_dead_credential,
    require_manage,
    session_invalid,
    sign_in_failed,
    token_digest,
)
from mamori.staff.service.enrolment import MAX_ENROLMENT_ATTEMPTS
from mamori.staff.service.training import cleared_actor


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


# -- sign-in -------------------------------------------------------------------------------------------------


def _failures(session: Session, staff_id: str, since: datetime) -> tuple[int, datetime | None]:
    count, oldest = session.execute(queries.failures_since(staff_id, since)).one()
    return int(count or 0), ensure_aware(oldest) if oldest is not None else None


def _precheck(
    session: Session, user: StaffUser | None, password: str, now: datetime, lockout: LockoutPolicy
) -> str | None:
    """Why the password must not even be checked (unknown, disabled, no password, locked), else None.

    Every case runs the same failure-count query (an unknown name for an id no account has): equal work."""
    count, _ = _failures(session, user.id if user is not None else NO_STAFF_ID, now - lockout.window)
    if user is None:
        return "unknown_user"
    if user.is_service:  # a machine client's account never signs in (it has no password either)
        return "service_account"
    if len(password) > MAX_PASSWORD_INPUT:
        return "input_too_long"
    if not user.active or user.password_hash is None:
        return "inactive" if not user.active else "no_password"
    locked_until = ensure_aware(user.locked_until) if user.locked_until is not None else None
    if (locked_until is not None and locked_until > now) or count >= lockout.hourly_cap:
        return "locked"
    return None


NO_STAFF_ID = "0" * 32  # no account has it (ids are random): the look-ups of an unknown name use it


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


def _count_miss(session: Session, now: datetime, lockout: LockoutPolicy) -> int:
    """A failure not charged to an account (unknown name, disabled, locked…): the same statements and the same
    commit as :func:`_count_failure`, so that the database work does not tell the cases apart (issue 17: the
    extra write of a counted failure let timing tell a real user name from an unknown one)."""
    session.execute(delete(StaffSignInMiss).where(StaffSignInMiss.at <= now - lockout.window))
    session.add(StaffSignInMiss(at=now))
    session.flush()
    count, _ = session.execute(queries.misses_since(now - lockout.window)).one()
    session.flush()
    return int(count or 0)


CHANNELS = frozenset({"web", "api", "cli"})
BROWSER_CHANNELS = frozenset({"web", "api"})  # the session cookie: the web sign-in and the API's sign-in


def _open_session(
    session: Session,
    user: StaffUser,
    now: datetime,
    *,
    idle_timeout: timedelta,
    absolute_timeout: timedelta,
    channel: str = "web",
) -> SignedIn:
    """After a complete sign-in: clear the failure counter and the lock, and open a new server-side session.

    ``mfa`` is true when the account has a second factor: then this sign-in has just checked its code (every
    account with TOTP must give it), and only such a session may create API tokens."""
    if channel not in CHANNELS:
        raise ValueError(f"session channel: one of {sorted(CHANNELS)}")
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
        mfa=user.mfa_enrolled,
        channel=channel,
    )
    session.add(row)
    session.flush()
    return SignedIn(
        session_id=row.id,
        token=token,
        staff_id=user.id,
        username=user.username,
        role=Role(user.role),
        expires_at=row.expires_at,
        idle_expires_at=now + idle_timeout,
    )


@overload
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
    enrol: Literal[False] = False,
    channel: str = "web",
) -> SignedIn: ...


@overload
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
    enrol: Literal[True],
    channel: str = "web",
) -> SignedIn | EnrolmentStarted: ...


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
    enrol: bool = False,
    channel: str = "web",
) -> SignedIn | EnrolmentStarted:
    """Check user name, password and (where required) TOTP code; open a new server-side session.

    An edge function with its own transactions: a failure must be remembered (lock-out) even though the
    sign-in raises, so the failure counter is committed before :class:`AuthenticationFailed` is raised. The
    argon2 verification runs between a short read and the write, outside any transaction.
    Every failure cause gives the same error and, as far as hashing goes, the same time.

    An account that must use a second factor and has none yet is refused — unless ``enrol`` (the web sign-in):
    then the right password begins a TOTP enrolment (:func:`.enrolment.begin`) and its
    :class:`EnrolmentStarted` is returned instead; :func:`finish_enrolment` completes it. Nothing tells that
    enrolment would follow before the password is checked: a wrong password fails as always.

    Equal timing (issue 17): every failure costs one argon2 verification (a dummy one when there is no password to
    check), one write transaction (a counted failure of the account, or an uncharged miss) and one
    ``staff.sign_in_failures`` audit entry. ``channel`` names the client ("web", "api", "cli").
    """
    if idle_timeout <= timedelta(0) or absolute_timeout < idle_timeout:
        raise ValueError("session timeouts: 0 < idle_timeout ≤ absolute_timeout")
    clock = clock or runtime.clock
    now = clock.now()
    result: SignedIn | EnrolmentStarted | None = None
    failures = 0
    misses = 0
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
            actor = actor_of(user)
    # 2. argon2 outside any transaction (SQLite holds its write lock for a whole transaction); the same cost
    #    for every path, so timing does not tell an unknown user from a wrong password
    if reason is None and seen_hash is not None:
        if not passwords.verify_password(seen_hash, password):
            reason = "bad_password"
    else:
        passwords.burn_verify(password[:MAX_PASSWORD_INPUT])
    # 3. the write: re-check under the lock (a concurrent attempt may have locked the account or used the
    #    code), then either open the session (or begin the enrolment) or count the failure
    with unit_of_work(runtime.sessions) as session:
        audit_ctx = Context(actor=actor, session=session, runtime=runtime, clock=clock)
        user = session.execute(queries.by_id(staff_id or NO_STAFF_ID)).scalar_one_or_none()
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
            result = _open_session(
                session,
                user,
                now,
                idle_timeout=idle_timeout,
                absolute_timeout=absolute_timeout,
                channel=channel,
            )
        elif reason == "mfa_not_enrolled" and enrol and user is not None:
            result = enrolment.begin(audit_ctx, user, now)
        elif reason in COUNTED_FAILURES and user is not None:
            failures = _count_failure(session, user, now, lockout)
        else:
            misses = _count_miss(session, now, lockout)
    # committed: now the audit entries (read/deny entries go to the audit store directly)
    if audit_ctx.memo.get(OUTBOX_PENDING):
        runtime.drain_outbox()
    if isinstance(result, SignedIn):
        record_info(
            audit_ctx, "staff.sign_in", details={"staff_id": result.staff_id, "session_id": result.session_id}
        )
        return result
    if result is not None:
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
    else:  # the same audit work for a failure not charged to an account (never the submitted name)
        record_info(
            audit_ctx,
            "staff.sign_in_failures",
            details={"staff_id": actor.id, "uncharged_in_window": misses},
        )
    raise sign_in_failed()


def finish_enrolment(
    ctx: Context,
    ticket: str,
    code: str,
    *,
    idle_timeout: timedelta = IDLE_TIMEOUT,
    absolute_timeout: timedelta = ABSOLUTE_TIMEOUT,
    lockout: LockoutPolicy = DEFAULT_LOCKOUT,
) -> SignedIn | EnrolmentStarted:
    """The code from the secret of a first-sign-in enrolment (``sign_in(…, enrol=True)``).

    Right: the secret becomes the account's second factor (this code's step used) and a session opens
    (:class:`SignedIn`). Wrong: the failure counts towards the lock-out like a wrong sign-in code and the same
    enrolment comes back with ``wrong_code`` (while ``attempts_left``). Unknown, expired, used up, or the account
    disabled, locked or already enrolled: :class:`EnrolmentInvalid` (sign in again).
    ``ctx`` is the edge's system Context; the caller commits — a wrong code must stay counted, so it is a result,
    not an exception. Audited as the account's own user.
    """
    if idle_timeout <= timedelta(0) or absolute_timeout < idle_timeout:
        raise ValueError("session timeouts: 0 < idle_timeout ≤ absolute_timeout")
    now = ctx.clock.now()
    found = enrolment.find(ctx, ticket)
    if found is None:
        record_denial(
            ctx,
            "staff.totp_enrolment",
            [],
            Decision(False, (), code="enrolment_unknown", reason_en="unknown"),
        )
        raise enrolment.enrolment_invalid()
    row, user = found
    as_user = Context(
        actor=actor_of(user),
        session=ctx.session,
        runtime=ctx.runtime,
        clock=ctx.clock,
        lang=ctx.lang,
        memo=ctx.memo,  # write-audit entries are drained when the caller's transaction commits
    )
    reason = enrolment.refusal(row, user, now) or _precheck(ctx.session, user, "", now, lockout)
    secret = enrolment.unseal(ctx, row) if reason is None else ""
    step = totp.accepted_step(secret, code, now, None) if reason is None else None
    if reason is None and step is None:
        row.attempts += 1
        failures = _count_failure(ctx.session, user, now, lockout)
        record_denial(
            as_user,
            "staff.totp_enrolment",
            [],
            Decision(False, (), code="enrolment_bad_totp", reason_en="bad code"),
        )
        record_info(
            as_user, "staff.sign_in_failures", details={"staff_id": user.id, "failures_in_window": failures}
        )
        if row.attempts >= MAX_ENROLMENT_ATTEMPTS:  # used up: the pending secret goes (attempts_left 0)
            ctx.session.delete(row)
            ctx.session.flush()
        return enrolment.started(row, user, ticket, secret, wrong_code=True)
    if reason is not None or step is None:
        record_denial(
            as_user,
            "staff.totp_enrolment",
            [],
            Decision(False, (), code=f"enrolment_{reason}", reason_en="enrolment refused"),
        )
        raise enrolment.enrolment_invalid()
    user.totp_secret_enc = ctx.runtime.cipher.encrypt(
        data_subject(user.id), TOTP_TABLE, TOTP_COLUMN, user.id, secret
    )
    user.totp_last_step = step  # this code is used: the next sign-in needs a later one (RFC 6238 §5.2)
    ctx.session.delete(row)
    result = _open_session(
        ctx.session, user, now, idle_timeout=idle_timeout, absolute_timeout=absolute_timeout
    )
    record_write(
        as_user,
        "staff.totp_enrolled",
        (),
        ("totp_secret",),
        details={"staff_id": user.id, "enrolment_id": row.id, "self_service": True},
    )
    record_info(
        as_user,
        "staff.sign_in",
        details={"staff_id": result.staff_id, "session_id": result.session_id, "enrolled": True},
    )
    return result


def validate_session(ctx: Context, token: str, *, channels: frozenset[str] = BROWSER_CHANNELS) -> Actor:
    """The Actor of a valid session token, updating its last use; :class:`AuthenticationFailed` otherwise.

    Refused when unknown, revoked, idle longer than the session's idle timeout, past its absolute expiry, when
    the account is disabled, or when the session was opened by another kind of client than ``channels`` (a CLI
    session is not a browser cookie, and a browser's session does not sign in the CLI). ``ctx`` is the authentication edge's system Context (there is no actor yet);
    the caller commits (the last-seen update, written at most once per ``LAST_SEEN_RESOLUTION``).
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise session_invalid()
    found = ctx.session.execute(queries.session_with_user(token_digest(token))).one_or_none()
    if found is None:
        raise session_invalid()
    row, user = found
    now = ctx.clock.now()
    idle_deadline = ensure_aware(row.last_seen_at) + timedelta(seconds=row.idle_seconds)
    if (
        row.revoked_at is not None
        or row.channel not in channels
        or user.is_service
        or not user.active
        or now >= ensure_aware(row.expires_at)
        or now >= idle_deadline
        or not hmac.compare_digest(row.token_hash, token_digest(token))
    ):
        if not user.active and hmac.compare_digest(row.token_hash, token_digest(token)):
            record_dead_credential(ctx, user, f"session:{row.id}", "account_disabled")
        raise session_invalid()
    if now - ensure_aware(row.last_seen_at) >= LAST_SEEN_RESOLUTION:
        row.last_seen_at = now
        ctx.session.flush()
    # R-23-3: not cleared while the training policy gates this user; ``via`` names the session in the audit log
    return replace(cleared_actor(ctx, user), via=f"session:{row.id}")


def sign_out(ctx: Context, token: str) -> bool:
    """Revoke the session of ``token`` (ASVS5 7.4.1). True when a live session was revoked.

    ``ctx`` may be a system Context: the sign-out is audited as the session's own user."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return False
    found = ctx.session.execute(queries.session_with_user(token_digest(token))).one_or_none()
    if found is None:
        return False
    row, user = found
    if row.revoked_at is not None:
        return False
    row.revoked_at = ctx.clock.now()
    row.revoked_reason = "signed_out"
    ctx.session.flush()
    as_user = Context(
        actor=actor_of(user), session=ctx.session, runtime=ctx.runtime, clock=ctx.clock, lang=ctx.lang
    )
    record_info(as_user, "staff.sign_out", details={"staff_id": user.id, "session_id": row.id})
    return True


def revoke_sessions(ctx: Context, username: str) -> int:
    """Sign an account out everywhere (admin, or the user themselves). Returns how many sessions ended."""
    user = find_user(ctx, username)
    if not is_self(ctx, user):
        require_manage(ctx)
    revoked = end_sessions(ctx, user.id, "revoked")
    ctx.session.flush()
    record_write(
        ctx, "staff.sessions_revoked", (), (), details={"staff_id": user.id, "sessions_revoked": revoked}
    )
    return revoked
