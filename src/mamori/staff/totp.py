"""TOTP (RFC 6238) second factor with one-time use, on top of pyotp (no database here).

- Secret: 160 bits from a CSPRNG (``pyotp.random_base32`` uses ``secrets``): RFC 4226 §4, ASVS5 6.5.3.
- Step 30 s, 6 digits, SHA-1: what every authenticator app supports.
- Window: the current step and the one before it (RFC 6238 §5.2 allows "at most one time step" of delay).
  ASVS5 6.5.5 wants a TOTP to live at most 30 s; accepting the previous step lets a code live up to 60 s. We
  accept that for clock drift and typing time (see ADR 0004) and offset it by strict single use.
- Single use (RFC 6238 §5.2 "MUST NOT accept the second attempt", ASVS5 6.5.1): pyotp keeps no replay state,
  so the caller stores the last accepted step per user and only a strictly later step is accepted.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

STEP_SECONDS = 30
DIGITS = 6
SECRET_BASE32_LEN = 32  # 32 base32 characters = 160 bits
ISSUER = "mamori"
ACCEPTED_PAST_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32(length=SECRET_BASE32_LEN)


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app scans (contains the secret: show it once, never log it)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=ISSUER
    )


def step_at(when: datetime) -> int:
    return int(when.timestamp()) // STEP_SECONDS


def code_at_step(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(step * STEP_SECONDS)


def accepted_step(secret: str, code: str, when: datetime, last_used_step: int | None) -> int | None:
    """The step ``code`` belongs to if it is valid now and not used before, else None.

    Valid steps: the current one and ``ACCEPTED_PAST_STEPS`` before it, each strictly after ``last_used_step``.
    """
    candidate = code.strip().replace(" ", "")
    if len(candidate) != DIGITS or not candidate.isascii() or not candidate.isdigit():
        return None
    now_step = step_at(when)
    found: int | None = None
    for step in range(now_step - ACCEPTED_PAST_STEPS, now_step + 1):
        # compare every candidate step (constant work), keep the newest match
        if hmac.compare_digest(code_at_step(secret, step), candidate):
            found = step
    if found is None or (last_used_step is not None and found <= last_used_step):
        return None
    return found
