"""Small helpers for the staff tests (synthetic staff only)."""

from __future__ import annotations

from datetime import timedelta

import pyotp
from sqlalchemy.orm import Session

from mamori.kernel.context import SYSTEM_ACTOR, Context, Role
from mamori.kernel.runtime import Runtime
from mamori.staff import service as staff_service
from mamori.staff import totp
from mamori.staff.schemas import ApiTokenCreate, ApiTokenIssued, StaffCreate

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


def own_token(rt: Runtime, username: str, secret: str | None, data: ApiTokenCreate) -> ApiTokenIssued:
    """Issue 17: a person's API token is made by that person, from a session signed in with a TOTP code.

    Signs ``username`` in (password + the code of the next 30-second step: each step is usable once) and creates
    the token as them with that session."""
    rt.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
    signed = staff_service.sign_in(rt, username, PASSWORD, code_now(rt, secret))
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        actor = staff_service.actor_for(ctx, username)
    with rt.transaction(actor) as ctx:
        return staff_service.create_token(
            ctx, username, data, session_digest=staff_service.token_digest(signed.token)
        )


def service_token(rt: Runtime, username: str, role: Role, data: ApiTokenCreate) -> ApiTokenIssued:
    """A machine client's token: a service account ``username`` (created when missing) and a token an
    administrator issues it (the system actor stands for the administrator here)."""
    from mamori.staff.schemas import ServiceAccountCreate

    with rt.transaction(SYSTEM_ACTOR) as ctx:
        if not any(u.username == username for u in staff_service.list_staff(ctx)):
            staff_service.add_service(
                ctx, ServiceAccountCreate(username=username, display_name=username, role=role)
            )
        return staff_service.create_token(ctx, username, data)
