"""API tokens for machine clients: shown once, stored hashed, fixed role, allowed purposes, expiry, revocation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from mamori.kernel.context import SYSTEM_ACTOR, Role
from mamori.kernel.errors import PolicyDenied
from mamori.staff import service as staff_service
from mamori.staff.models import StaffApiToken
from mamori.staff.schemas import ApiTokenCreate
from mamori.staff.service import AuthenticationFailed
from tests.staff.helpers import make_staff, system_ctx


def issue(rt, username="crm-sync", **kw):
    data = ApiTokenCreate(name=kw.pop("name", "crm sync"), **kw)
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        return staff_service.create_token(ctx, username, data)


def validate(rt, clock, token):
    with rt.sessions() as s, s.begin():
        return staff_service.validate_api_token(system_ctx(rt, s), token)


def test_token_acts_as_its_user_with_its_role_and_purposes(runtime, clock):
    staff_id, _ = make_staff(runtime, "crm-sync", Role.SUPPORT, password=None, mfa=False, team="east")
    issued = issue(runtime, purposes=["contract", "support"], role=Role.SALES)
    assert issued.token.startswith("mamori_") and len(issued.token) >= 7 + 43
    actor, purposes = validate(runtime, clock, issued.token)
    assert actor.id == staff_id and actor.role == Role.SALES and actor.team == "east"
    assert purposes == frozenset({"contract", "support"})
    staff_service.require_purpose_allowed(purposes, "contract")
    with pytest.raises(PolicyDenied) as err:
        staff_service.require_purpose_allowed(purposes, "marketing-email")
    assert err.value.rule_id == "R-23-2" and err.value.code == "token_purpose_not_allowed"


def test_token_stored_only_as_hash_and_listed_without_secret(runtime, clock):
    make_staff(runtime, "crm-sync", Role.SUPPORT, password=None, mfa=False)
    issued = issue(runtime)
    with runtime.sessions() as s:
        stored = s.execute(select(StaffApiToken.token_hash)).scalar_one()
    assert stored == staff_service.token_digest(issued.token) and issued.token not in stored
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        listed = staff_service.list_tokens(ctx)
    assert [t.id for t in listed] == [issued.id]
    assert issued.token not in listed[0].model_dump_json()
    assert "token" not in listed[0].model_dump()
    assert issued.token not in repr(issued)


def test_token_defaults_to_user_role_and_expires(runtime, clock):
    make_staff(runtime, "crm-sync", Role.SUPPORT, password=None, mfa=False)
    issued = issue(runtime, expires_in_days=1)
    actor, purposes = validate(runtime, clock, issued.token)
    assert actor.role == Role.SUPPORT and purposes == frozenset()
    clock.advance(timedelta(days=1))
    with pytest.raises(AuthenticationFailed) as err:
        validate(runtime, clock, issued.token)
    assert err.value.code == "unauthenticated" and err.value.http_status == 401


def test_revoked_token_refused(runtime, clock):
    make_staff(runtime, "crm-sync", Role.SUPPORT, password=None, mfa=False)
    issued = issue(runtime)
    other = issue(runtime, name="second")
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        assert staff_service.revoke_token(ctx, issued.id).revoked_at is not None
    with pytest.raises(AuthenticationFailed):
        validate(runtime, clock, issued.token)
    validate(runtime, clock, other.token)  # the other token still works


def test_disabled_user_tokens_refused_and_revoked(runtime, clock):
    make_staff(runtime, "crm-sync", Role.SUPPORT, password=None, mfa=False)
    issued = issue(runtime)
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.disable(ctx, "crm-sync")
    with pytest.raises(AuthenticationFailed):
        validate(runtime, clock, issued.token)
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.enable(ctx, "crm-sync")
    with pytest.raises(AuthenticationFailed):  # re-enabling does not bring revoked tokens back
        validate(runtime, clock, issued.token)


@pytest.mark.parametrize("token", ["", "mamori_", "mamori_" + "A" * 43, "Bearer x", "x" * 1000])
def test_garbage_tokens_refused(runtime, clock, token):
    with pytest.raises(AuthenticationFailed):
        validate(runtime, clock, token)


def test_only_admin_issues_lists_and_revokes(runtime, clock):
    make_staff(runtime, "crm-sync", Role.SUPPORT, password=None, mfa=False)
    make_staff(runtime, "po", Role.PRIVACY_OFFICER, mfa=False)
    issued = issue(runtime)
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as s:
        po = staff_service.actor_for(s, "po")
    for call in (
        lambda ctx: staff_service.create_token(ctx, "crm-sync", ApiTokenCreate(name="x")),
        lambda ctx: staff_service.list_tokens(ctx),
        lambda ctx: staff_service.revoke_token(ctx, issued.id),
    ):
        with pytest.raises(PolicyDenied) as err, runtime.transaction(po) as ctx:
            call(ctx)
        assert err.value.rule_id == "R-23-2"
    validate(runtime, clock, issued.token)  # nothing was revoked


@pytest.mark.parametrize(
    "bad",
    [
        {"name": ""},
        {"name": "x", "role": "system"},
        {"name": "x", "purposes": ["Not A Code"]},
        {"name": "x", "expires_in_days": 0},
        {"name": "x", "expires_in_days": 366},
        {"name": "x" * 65},
    ],
)
def test_token_request_validation(bad):
    with pytest.raises(ValidationError):
        ApiTokenCreate(**bad)


def test_unknown_token_id_not_found(runtime):
    with pytest.raises(Exception) as err, runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.revoke_token(ctx, "0" * 32)
    assert getattr(err.value, "code", None) == "unknown_token"


def test_system_and_person_roles_are_never_given_to_staff_or_tokens():
    import pydantic

    from mamori.kernel.context import Role
    from mamori.staff.schemas import StaffCreate

    for role in ("system", "person"):
        with pytest.raises(pydantic.ValidationError):
            StaffCreate(username="mallory", display_name="m", role=role)
    assert StaffCreate(username="ok", display_name="o", role=Role.OUTSOURCEE).role == Role.OUTSOURCEE
    for role in ("system", "person"):
        with pytest.raises(pydantic.ValidationError):
            ApiTokenCreate(name="x", role=role)
