"""Small helpers for the staff tests (synthetic staff only)."""

from __future__ import annotations

import pyotp
from sqlalchemy.orm import Session

from mamori.kernel.context import SYSTEM_ACTOR, Context, Role
from mamori.kernel.runtime import Runtime
from mamori.staff import service as staff_service
from mamori.staff import totp
from mamori.staff.schemas import StaffCreate

PASSWORD = "correct horse battery staple"


def make_staff(
    rt: Runtime,
    username: str,
    role: Role = Role.SALES,
    *,
    password: str | None = PASSWORD,
    mfa: bool = True,
    team: str | None = None,
) -> tuple[str, str | None]:
    """Create a staff user with a password and (optionally) TOTP; returns (staff id, TOTP secret)."""
    secret = None
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        user = staff_service.add(
            ctx, StaffCreate(username=username, display_name=username, role=role, team=team)
        )
        if password is not None:
            staff_service.set_password(ctx, username, password)
        if mfa:
            uri = staff_service.enroll_totp(ctx, username)
            secret = pyotp.parse_uri(uri).secret
    return user.id, secret


def code_now(rt: Runtime, secret: str | None, steps_back: int = 0) -> str:
    assert secret is not None
    return totp.code_at_step(secret, totp.step_at(rt.clock.now()) - steps_back)


def system_ctx(rt: Runtime, session: Session) -> Context:
    """The auth edge's system Context over a test session (not committed unless the test commits it)."""
    return Context(actor=SYSTEM_ACTOR, session=session, runtime=rt, clock=rt.clock)
