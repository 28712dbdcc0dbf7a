"""Staff users, sign-in, sessions and API tokens. The only writer of the staff tables.

Every use case takes the Context first. Writes are admin-only (``Action.STAFF_MANAGE``) unless a user acts on
their own account. The functions that run before any actor exists (``actor_for``, ``validate_session``,
``validate_api_token``, ``sign_out``) take the edge's system Context (``Runtime.transaction(SYSTEM_ACTOR)``);
``sign_in`` alone takes the Runtime, because it runs its own transactions (the failure counter must be
committed even though the sign-in raises).

Modules: ``accounts`` (users, passwords, TOTP), ``containment`` (an incident's containment steps, issue 22), ``sessions`` (sign-in, sessions, sign-out), ``enrolment``
(first-sign-in TOTP enrolment for the web sign-in), ``tokens`` (API tokens), ``training`` (courses,
completions, pledges, the training policy and the R-23-3 gate of every actor built here), ``common`` (limits, the one
authentication error, look-ups shared by the others).

Security baseline (SECURITY.md §3, ADR 0004):
- passwords: argon2id m=19456 KiB, t=2, p=1, re-hashed at sign-in when the parameters change (ASVS5 6.2, 11.4.2);
- TOTP for every role that sees personal data, and for admins (ASVS5 6.3.3); one use per code (ASVS5 6.5.1);
- lock-out: an increasing delay after repeated failures, never more than 100 failures per account per hour
  (ASVS4.0.3 2.2.1); one answer for unknown user, wrong password, wrong code and locked account (ASVS5 6.3.8);
- server-side sessions: 256-bit random token stored as SHA-256 (ASVS5 7.2.3), new at every sign-in (7.2.4),
  idle 30 min / absolute 12 h (ASVS4.0.3 3.3.2), revoked at sign-out (7.4.1) and when the account is disabled (7.4.2);
- API tokens: ``mamori_<random>``, shown once, stored as SHA-256, fixed role, allowed purposes, expiry; created
  by their owner from a session that checked a second factor, with the owner's role; machine clients have
  service accounts (``add_service``, no sign-in) whose tokens an administrator issues (issue 17);
- equal timing for every failed sign-in: a dummy argon2 check and the same database and audit work.
Audit entries name staff, session and token ids only — never a password, code, secret or token.
"""

from __future__ import annotations

from mamori.staff.service.accounts import (
    actor_for,
    add,
    add_service,
    any_staff,
    change_role,
    disable,
    enable,
    enroll_totp,
    get,
    list_all,
    list_staff,
    overview,
    reset_2fa,
    service_account,
    set_password,
)
from mamori.staff.service.common import (
    ABSOLUTE_TIMEOUT,
    API_TOKEN_BYTES,
    API_TOKEN_PREFIX,
    IDLE_TIMEOUT,
    LAST_SEEN_RESOLUTION,
    MAX_PASSWORD_INPUT,
    MAX_TOKEN_LENGTH,
    MAX_USERNAME_LENGTH,
    MFA_REQUIRED_ROLES,
    SESSION_TOKEN_BYTES,
    TOTP_COLUMN,
    TOTP_TABLE,
    UNKNOWN_ACTOR,
    AuthenticationFailed,
    data_subject,
    mfa_required,
    token_digest,
)
from mamori.staff.service.containment import (
    contain_disable,
    contain_revoke_session,
    contain_revoke_sessions,
    contain_revoke_token,
    contain_revoke_tokens,
    contain_sessions_of,
)
from mamori.staff.service.enrolment import (
    ENROLMENT_TIMEOUT,
    MAX_ENROLMENT_ATTEMPTS,
    EnrolmentInvalid,
)
from mamori.staff.service.sessions import (
    BROWSER_CHANNELS,
    CHANNELS,
    COUNTED_FAILURES,
    DEFAULT_LOCKOUT,
    LockoutPolicy,
    finish_enrolment,
    revoke_sessions,
    sign_in,
    sign_out,
    validate_session,
)
from mamori.staff.service.tokens import (
    create_token,
    list_tokens,
    require_purpose_allowed,
    revoke_token,
    validate_api_token,
)
from mamori.staff.service.training import (
    EXPIRING_WITHIN,
    add_course,
    cleared_actor,
    expiry_check,
    is_cleared,
    latest_pledge,
    list_courses,
    list_pledges,
    overdue,
    policy,
    publish_pledge,
    record_completion,
    require_current,
    retire_course,
    set_policy,
    sign_pledge,
    status,
    status_of,
)

__all__ = [
    "ABSOLUTE_TIMEOUT",
    "API_TOKEN_BYTES",
    "API_TOKEN_PREFIX",
    "BROWSER_CHANNELS",
    "CHANNELS",
    "COUNTED_FAILURES",
    "DEFAULT_LOCKOUT",
    "ENROLMENT_TIMEOUT",
    "EXPIRING_WITHIN",
    "IDLE_TIMEOUT",
    "LAST_SEEN_RESOLUTION",
    "MAX_PASSWORD_INPUT",
    "MAX_TOKEN_LENGTH",
    "MAX_USERNAME_LENGTH",
    "MFA_REQUIRED_ROLES",
    "SESSION_TOKEN_BYTES",
    "TOTP_COLUMN",
    "TOTP_TABLE",
    "UNKNOWN_ACTOR",
    "AuthenticationFailed",
    "EnrolmentInvalid",
    "LockoutPolicy",
    "MAX_ENROLMENT_ATTEMPTS",
    "actor_for",
    "add",
    "add_course",
    "cleared_actor",
    "expiry_check",
    "is_cleared",
    "latest_pledge",
    "list_courses",
    "list_pledges",
    "overdue",
    "policy",
    "publish_pledge",
    "record_completion",
    "require_current",
    "retire_course",
    "set_policy",
    "sign_pledge",
    "status",
    "status_of",
    "add_service",
    "any_staff",
    "contain_disable",
    "contain_revoke_session",
    "contain_revoke_sessions",
    "contain_revoke_token",
    "contain_revoke_tokens",
    "contain_sessions_of",
    "create_token",
    "data_subject",
    "change_role",
    "disable",
    "enable",
    "enroll_totp",
    "finish_enrolment",
    "get",
    "list_all",
    "list_staff",
    "list_tokens",
    "mfa_required",
    "overview",
    "require_purpose_allowed",
    "reset_2fa",
    "revoke_sessions",
    "revoke_token",
    "service_account",
    "set_password",
    "sign_in",
    "sign_out",
    "token_digest",
    "validate_api_token",
    "validate_session",
]
