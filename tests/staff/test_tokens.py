"""API tokens (issue 17): shown once, stored hashed, allowed purposes, expiry, revocation — and who may make one.

A person's token is made by that person, from a session that checked a TOTP code, with the person's own role; a
machine client has a service account whose tokens an administrator issues. Nobody (an administrator included)
makes a token that acts as somebody else; the refusal is audited and names R-23-5.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from mamori.kernel.context import SYSTEM_ACTOR, Role
from mamori.kernel.errors import PolicyDenied
from mamori.staff import service as staff_service
from mamori.staff.models import StaffApiToken
from mamori.staff.schemas import ApiTokenCreate, ServiceAccountCreate
from mamori.staff.service import AuthenticationFailed
from tests.staff.helpers import PASSWORD, code_now, make_staff, own_token, service_token, system_ctx


def issue(rt, username="crm-sync", **kw):
    """A service account's token, issued by the administrator (the system actor here)."""
    data = ApiTokenCreate(name=kw.pop("name", "crm sync"), **kw)
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        return staff_service.create_token(ctx, username, data)


def add_service(rt, username="crm-sync", role=Role.SUPPORT, team=None):
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        return staff_service.add_service(
            ctx, ServiceAccountCreate(username=username, display_name=username, role=role, team=team)
        )


def actor(rt, username):
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.actor_for(ctx, username)


def validate(rt, clock, token):
    with rt.sessions() as s, s.begin():
        return staff_service.validate_api_token(system_ctx(rt, s), token)


def token_count(rt) -> int:
    with rt.sessions() as s:
        return int(s.execute(select(func.count(StaffApiToken.id))).scalar_one())


def denials(rt, action="staff.token_created"):
    rt.drain_outbox()
    return [e for e in rt.audit.tail(500) if e.action == action and e.decision == "deny"]


def signed_in(rt, username, secret):
    rt.clock.advance(timedelta(seconds=30))
    return staff_service.sign_in(rt, username, PASSWORD, code_now(rt, secret) if secret else None)


# -- finding: an administrator could mint a token for another user, with any role ----------------------------------


def test_admin_cannot_create_a_token_for_another_person(runtime, clock):
    make_staff(runtime, "sato", Role.SALES)
    _, admin_secret = make_staff(runtime, "admin", Role.ADMIN)
    admin_session = signed_in(runtime, "admin", admin_secret)  # even with the admin's own MFA session
    for role in (None, Role.ADMIN, Role.PRIVACY_OFFICER):
        with pytest.raises(PolicyDenied) as err, runtime.transaction(actor(runtime, "admin")) as ctx:
            staff_service.create_token(
                ctx,
                "sato",
                ApiTokenCreate(name="x", role=role),
                session_digest=staff_service.token_digest(admin_session.token),
            )
        assert err.value.code == "token_for_other_user" and err.value.rule_id == "R-23-5"
    assert token_count(runtime) == 0
    refused = denials(runtime)
    assert len(refused) == 3 and {e.actor for e in refused} == {actor(runtime, "admin").label}
    assert {e.reason for e in refused} == {"token_for_other_user"}


def test_the_system_actor_cannot_create_a_persons_token_either(runtime, clock):
    make_staff(runtime, "sato", Role.SALES)
    with pytest.raises(PolicyDenied) as err, runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.create_token(ctx, "sato", ApiTokenCreate(name="x"))
    assert err.value.code == "token_for_other_user"


def test_owner_creates_own_token_after_mfa_and_it_is_audited_as_them(runtime, clock):
    sato_id, secret = make_staff(runtime, "sato", Role.SALES, team="east")
    issued = own_token(runtime, "sato", secret, ApiTokenCreate(name="my sync", purposes=["contract"]))
    acting, purposes = validate(runtime, clock, issued.token)
    assert (
        acting.id == sato_id and acting.name == "sato" and acting.role == Role.SALES and acting.team == "east"
    )
    assert purposes == frozenset({"contract"})
    runtime.drain_outbox()
    created = [
        e for e in runtime.audit.tail(200) if e.action == "staff.token_created" and e.decision == "allow"
    ]
    assert [e.actor for e in created] == [acting.label]


def test_a_token_needs_the_owners_own_live_mfa_session(runtime, clock):
    _, secret = make_staff(runtime, "sato", Role.SALES)
    _, suzuki_secret = make_staff(runtime, "suzuki", Role.SALES)
    make_staff(runtime, "ito", Role.ANALYST, mfa=False)  # analysts need no second factor: no MFA session
    data = ApiTokenCreate(name="x")

    def attempt(username, digest):
        with pytest.raises(PolicyDenied) as err, runtime.transaction(actor(runtime, username)) as ctx:
            staff_service.create_token(ctx, username, data, session_digest=digest)
        return err.value

    assert attempt("sato", None).code == "token_needs_mfa_session"
    assert attempt("sato", "not a digest").code == "token_needs_mfa_session"
    other = signed_in(runtime, "suzuki", suzuki_secret)  # somebody else's MFA session
    assert attempt("sato", staff_service.token_digest(other.token)).code == "token_needs_mfa_session"
    no_mfa = signed_in(runtime, "ito", None)
    err = attempt("ito", staff_service.token_digest(no_mfa.token))
    assert err.code == "token_needs_mfa_session" and err.rule_id == "R-23-5"
    mine = signed_in(runtime, "sato", secret)
    with runtime.sessions() as s, s.begin():
        staff_service.sign_out(system_ctx(runtime, s), mine.token)
    assert attempt("sato", staff_service.token_digest(mine.token)).code == "token_needs_mfa_session"
    idle = signed_in(runtime, "sato", secret)
    clock.advance(timedelta(minutes=31))
    assert attempt("sato", staff_service.token_digest(idle.token)).code == "token_needs_mfa_session"
    assert token_count(runtime) == 0
    assert len(denials(runtime)) == 6


def test_an_owners_token_has_the_owners_role_only(runtime, clock):
    _, secret = make_staff(runtime, "sato", Role.SALES)
    for role in (Role.ADMIN, Role.PRIVACY_OFFICER, Role.SUPPORT):
        with pytest.raises(PolicyDenied) as err:
            own_token(runtime, "sato", secret, ApiTokenCreate(name="x", role=role))
        assert err.value.code == "token_role_above_owner" and err.value.rule_id == "R-23-5"
    assert own_token(runtime, "sato", secret, ApiTokenCreate(name="x", role=Role.SALES)).role == Role.SALES
    assert token_count(runtime) == 1


# -- service accounts -------------------------------------------------------------------------------------------


def test_service_account_token_acts_as_the_service_account(runtime, clock):
    account = add_service(runtime, team="east")
    issued = issue(runtime, purposes=["contract", "support"])
    assert issued.token.startswith("mamori_") and len(issued.token) >= 7 + 43
    acting, purposes = validate(runtime, clock, issued.token)
    assert acting.id == account.id and acting.name == "crm-sync" and acting.role == Role.SUPPORT
    assert acting.team == "east" and purposes == frozenset({"contract", "support"})
    staff_service.require_purpose_allowed(purposes, "contract")
    with pytest.raises(PolicyDenied) as err:
        staff_service.require_purpose_allowed(purposes, "marketing-email")
    assert err.value.rule_id == "R-23-2" and err.value.code == "token_purpose_not_allowed"
    with pytest.raises(PolicyDenied) as err:  # a service account's token has its role, no other
        issue(runtime, role=Role.SALES)
    assert err.value.code == "token_role_above_owner"


def test_token_purpose_refusal_does_not_echo_the_purpose():
    probe = "zz-<script>-probe"
    with pytest.raises(PolicyDenied) as err:
        staff_service.require_purpose_allowed(frozenset({"contract"}), probe)
    assert probe not in err.value.one_line("ja") + err.value.one_line("en") + str(err.value.to_dict("en"))


def test_service_account_never_signs_in_nor_acts_without_a_token(runtime, clock):
    add_service(runtime)
    with pytest.raises(AuthenticationFailed):
        staff_service.sign_in(runtime, "crm-sync", PASSWORD, "123456")
    with pytest.raises(PolicyDenied) as err, runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.set_password(ctx, "crm-sync", "a long enough password")
    assert err.value.code == "service_account_no_sign_in"
    with pytest.raises(PolicyDenied), runtime.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.enroll_totp(ctx, "crm-sync")
    with pytest.raises(PolicyDenied) as err:  # the CLI's --as: no self-declared service account either
        actor(runtime, "crm-sync")
    assert err.value.code == "service_account_no_sign_in"


@pytest.mark.parametrize("role", ["admin", "system", "person"])
def test_service_account_is_never_admin_or_system(role):
    with pytest.raises(ValidationError):
        ServiceAccountCreate(username="svc", display_name="svc", role=role)


def test_only_an_admin_adds_service_accounts_and_issues_their_tokens(runtime, clock):
    _, secret = make_staff(runtime, "po", Role.PRIVACY_OFFICER)
    add_service(runtime)
    with pytest.raises(PolicyDenied) as err, runtime.transaction(actor(runtime, "po")) as ctx:
        staff_service.add_service(
            ctx, ServiceAccountCreate(username="svc2", display_name="s", role=Role.ANALYST)
        )
    assert err.value.rule_id == "R-23-2"
    po_session = signed_in(runtime, "po", secret)
    with pytest.raises(PolicyDenied), runtime.transaction(actor(runtime, "po")) as ctx:
        staff_service.create_token(
            ctx,
            "crm-sync",
            ApiTokenCreate(name="x"),
            session_digest=staff_service.token_digest(po_session.token),
        )
    assert token_count(runtime) == 0


# -- storage, expiry, revocation, listing ---------------------------------------------------------------------


def test_token_stored_only_as_hash_and_listed_without_secret(runtime, clock):
    add_service(runtime)
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


def test_token_defaults_to_the_accounts_role_and_expires(runtime, clock):
    add_service(runtime)
    issued = issue(runtime, expires_in_days=1)
    acting, purposes = validate(runtime, clock, issued.token)
    assert acting.role == Role.SUPPORT and purposes == frozenset()
    clock.advance(timedelta(days=1))
    with pytest.raises(AuthenticationFailed) as err:
        validate(runtime, clock, issued.token)
    assert err.value.code == "unauthenticated" and err.value.http_status == 401


def test_revoked_token_refused(runtime, clock):
    add_service(runtime)
    issued = issue(runtime)
    other = issue(runtime, name="second")
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        assert staff_service.revoke_token(ctx, issued.id).revoked_at is not None
    with pytest.raises(AuthenticationFailed):
        validate(runtime, clock, issued.token)
    validate(runtime, clock, other.token)  # the other token still works


def test_disabled_account_tokens_refused_and_revoked(runtime, clock):
    add_service(runtime)
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


def test_owners_list_and_revoke_their_own_tokens_admins_any(runtime, clock):
    _, sato_secret = make_staff(runtime, "sato", Role.SALES)
    _, suzuki_secret = make_staff(runtime, "suzuki", Role.SALES)
    make_staff(runtime, "admin", Role.ADMIN)
    mine = own_token(runtime, "sato", sato_secret, ApiTokenCreate(name="mine"))
    theirs = own_token(runtime, "suzuki", suzuki_secret, ApiTokenCreate(name="theirs"))
    svc = service_token(runtime, "crm-sync", Role.SUPPORT, ApiTokenCreate(name="svc"))
    with runtime.transaction(actor(runtime, "sato")) as ctx:
        assert [t.id for t in staff_service.list_tokens(ctx)] == [mine.id]
    with pytest.raises(PolicyDenied), runtime.transaction(actor(runtime, "sato")) as ctx:
        staff_service.list_tokens(ctx, "suzuki")
    with pytest.raises(PolicyDenied), runtime.transaction(actor(runtime, "sato")) as ctx:
        staff_service.revoke_token(ctx, theirs.id)
    with pytest.raises(PolicyDenied), runtime.transaction(actor(runtime, "sato")) as ctx:
        staff_service.revoke_token(ctx, svc.id)
    validate(runtime, clock, theirs.token)
    with runtime.transaction(actor(runtime, "sato")) as ctx:
        assert staff_service.revoke_token(ctx, mine.id).revoked_at is not None
    with runtime.transaction(actor(runtime, "admin")) as ctx:
        assert {t.id for t in staff_service.list_tokens(ctx)} == {mine.id, theirs.id, svc.id}
        staff_service.revoke_token(ctx, theirs.id)
    for token in (mine.token, theirs.token):
        with pytest.raises(AuthenticationFailed):
            validate(runtime, clock, token)
    validate(runtime, clock, svc.token)


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

    from mamori.staff.schemas import StaffCreate

    for role in ("system", "person"):
        with pytest.raises(pydantic.ValidationError):
            StaffCreate(username="mallory", display_name="m", role=role)
    assert StaffCreate(username="ok", display_name="o", role=Role.OUTSOURCEE).role == Role.OUTSOURCEE
    for role in ("system", "person"):
        with pytest.raises(pydantic.ValidationError):
            ApiTokenCreate(name="x", role=role)
