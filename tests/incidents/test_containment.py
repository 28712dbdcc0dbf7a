"""Containment from an incident (issue 22 "Deliver" 7; R-26-7), through the service: each step really takes effect
(a revoked session no longer validates, a disabled account cannot sign in, a revoked token is refused, a suspended
outsourcee operator is refused a covered customer, the KEK version changes), is recorded as a measure with counts
and audited with the incident id; other roles are refused and audited; bad input records nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mamori.customers import service as customers_service
from mamori.incidents.models import IncidentMeasure
from mamori.incidents.service import containment
from mamori.kernel.context import SYSTEM_ACTOR, Actor, Role
from mamori.kernel.errors import Conflict, MamoriError, NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.runtime import Runtime
from mamori.processors import service as processors_service
from mamori.processors.schemas import CustomersIn
from mamori.staff import service as staff_service
from mamori.staff.schemas import ApiTokenCreate
from tests.incidents.support import make_customer, new_incident, seed_basics
from tests.processors.conftest import add_counterparty, add_operator, running_contract
from tests.staff.helpers import PASSWORD, code_now, make_staff, own_token


@pytest.fixture
def actors(runtime: Runtime) -> dict[str, Actor]:
    return seed_basics(runtime)


@pytest.fixture
def rep(runtime: Runtime) -> str | None:
    """A sales rep who signs in (password and TOTP): ``ito``; returns the TOTP secret."""
    _, secret = make_staff(runtime, "ito", Role.SALES, team="east")
    return secret


def sign_in(rt: Runtime, username: str, secret: str | None) -> tuple[str, str]:
    rt.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
    signed = staff_service.sign_in(rt, username, PASSWORD, code_now(rt, secret))
    return signed.session_id, signed.token


def session_works(rt: Runtime, token: str) -> bool:
    try:
        with rt.transaction(SYSTEM_ACTOR) as ctx:
            staff_service.validate_session(ctx, token)
    except MamoriError:
        return False
    return True


def token_works(rt: Runtime, token: str) -> bool:
    try:
        with rt.transaction(SYSTEM_ACTOR) as ctx:
            staff_service.validate_api_token(ctx, token)
    except MamoriError:
        return False
    return True


def measure_count(rt: Runtime) -> int:
    with rt.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(IncidentMeasure)) or 0)


def contain_entries(rt: Runtime) -> list:
    return [e for e in rt.audit.tail(60) if e.action == "incident.contain" and e.decision == "allow"]


# -- accounts, sessions, tokens ------------------------------------------------------------------------------


def test_disable_account_from_the_incident_ends_sign_in_and_its_sessions(runtime, actors, rep):
    inc = new_incident(runtime, actors["po"])
    _, token = sign_in(runtime, "ito", rep)
    assert session_works(runtime, token)
    with runtime.transaction(actors["po"]) as ctx:
        m = containment.disable_account(ctx, inc.ref, "ito")
    assert m.kind == "disable_account" and m.target == "ito" and m.incident_id == inc.id
    assert m.result == {"disabled": 1, "sessions_revoked": 1, "tokens_revoked": 0}
    assert not session_works(runtime, token)
    runtime.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
    with pytest.raises(MamoriError):
        staff_service.sign_in(runtime, "ito", PASSWORD, code_now(runtime, rep))
    entry = contain_entries(runtime)[-1]
    assert entry.rule_ids == ("R-26-7",)
    assert entry.details["incident_id"] == inc.id and entry.details["measure_id"] == m.id
    assert entry.details["kind"] == "disable_account" and entry.details["sessions_revoked"] == 1
    assert entry.details["disabled"] == 1 and isinstance(entry.details["staff_id"], str)
    assert "ito" not in str(entry.details)  # the opaque staff id, never the user name
    staff_entry = [e for e in runtime.audit.tail(60) if e.action == "staff.disable"][-1]
    assert staff_entry.details["contained"] is True and staff_entry.actor == actors["po"].label


def test_revoke_one_session_by_its_public_id_leaves_the_others(runtime, actors, rep):
    inc = new_incident(runtime, actors["po"])
    first_id, first = sign_in(runtime, "ito", rep)
    _, second = sign_in(runtime, "ito", rep)
    with runtime.transaction(actors["po"]) as ctx:
        listed = staff_service.contain_sessions_of(ctx, "ito")
        assert [s.id for s in listed][0] == first_id and len(listed) == 2
        m = containment.revoke_session(ctx, inc.id, first_id)
    assert m.result == {"sessions_revoked": 1} and m.target == first_id
    assert not session_works(runtime, first) and session_works(runtime, second)
    assert contain_entries(runtime)[-1].details["session_id"] == first_id
    # again: nothing left to revoke, recorded with a zero count
    with runtime.transaction(actors["po"]) as ctx:
        again = containment.revoke_session(ctx, inc.id, first_id.upper())
    assert again.result == {"sessions_revoked": 0}


def test_revoke_all_sessions_keeps_the_account(runtime, actors, rep):
    inc = new_incident(runtime, actors["po"])
    _, a = sign_in(runtime, "ito", rep)
    _, b = sign_in(runtime, "ito", rep)
    with runtime.transaction(actors["admin"]) as ctx:  # the administrator holds incident.contain too
        m = containment.revoke_sessions(ctx, inc.id, "ito")
    assert m.result == {"sessions_revoked": 2}
    assert not session_works(runtime, a) and not session_works(runtime, b)
    _, c = sign_in(runtime, "ito", rep)  # the account itself still signs in
    assert session_works(runtime, c)


def test_revoke_tokens_one_and_all(runtime, actors, rep):
    inc = new_incident(runtime, actors["po"])
    one = own_token(runtime, "ito", rep, ApiTokenCreate(name="sync", purposes=["contract"]))
    two = own_token(runtime, "ito", rep, ApiTokenCreate(name="report", purposes=["contract"]))
    assert token_works(runtime, one.token) and token_works(runtime, two.token)
    with runtime.transaction(actors["po"]) as ctx:
        m = containment.revoke_token(ctx, inc.id, one.id)
    assert m.result == {"tokens_revoked": 1} and m.target == one.id
    assert not token_works(runtime, one.token) and token_works(runtime, two.token)
    with runtime.transaction(actors["po"]) as ctx:
        m = containment.revoke_tokens(ctx, inc.id, "ito")
    assert m.result == {"tokens_revoked": 1}
    assert not token_works(runtime, two.token)
    assert contain_entries(runtime)[-1].details["kind"] == "revoke_tokens"


# -- the outsourcee ----------------------------------------------------------------------------------------------


def test_suspend_outsourcee_stops_its_operators_and_resume_restores_R_25_1(runtime, actors):
    po = actors["po"]
    party = add_counterparty(runtime, po)
    covered = make_customer(runtime, actors["sato"], name="架空 花子", email="hanako@example.jp")
    contract = running_contract(runtime, po, party)
    with runtime.transaction(po) as ctx:
        processors_service.assign_customers(ctx, contract, CustomersIn(customer_ids=[covered]))
    operator = add_operator(runtime, po, contract)
    with runtime.transaction(operator, "contract") as ctx:
        assert customers_service.get(ctx, covered).name == "架空 花子"
    inc = new_incident(runtime, po, cause="outsourcee", contract_id=contract)
    with runtime.transaction(actors["admin"]) as ctx, pytest.raises(PolicyDenied):
        containment.suspend_outsourcee(ctx, inc.id, contract)  # processor.manage is the privacy officer's
    assert measure_count(runtime) == 0
    with runtime.transaction(po) as ctx:
        m = containment.suspend_outsourcee(ctx, inc.id, contract)
    assert m.result == {"suspended": 1, "operators": 1} and m.target == contract
    with pytest.raises(PolicyDenied) as refused, runtime.transaction(operator, "contract") as ctx:
        customers_service.get(ctx, covered)
    assert refused.value.rule_id == "R-25-1"
    assert contain_entries(runtime)[-1].details["contract_id"] == contract
    suspended = [e for e in runtime.audit.tail(30) if e.action == "processors.contract.suspend"]
    assert suspended[-1].details["contract_id"] == contract and suspended[-1].details["reason"] == "incident"
    with runtime.transaction(po) as ctx:
        assert containment.suspend_outsourcee(ctx, inc.id, contract).result["suspended"] == 0
        processors_service.resume(ctx, contract)
        with pytest.raises(Conflict):
            processors_service.resume(ctx, contract)
    with runtime.transaction(operator, "contract") as ctx:
        assert customers_service.get(ctx, covered).name == "架空 花子"


# -- keys ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def file_kek_runtime(settings_factory, clock):
    """A runtime whose KEK is a key file (a new version can be made), as `mamori init` sets up."""
    from mamori import composition
    from mamori.kernel.runtime import Runtime as Rt

    composition.register_all()
    rt = Rt(settings_factory(kek=None, kek_provider="file"), clock=clock)
    rt.init()
    yield rt
    rt.close()


def test_rotate_keys_is_the_administrators_and_changes_the_kek_version(file_kek_runtime):
    rt = file_kek_runtime
    actors = seed_basics(rt)
    customer = make_customer(rt, actors["sato"])
    inc = new_incident(rt, actors["po"])
    before = rt.kek.current_version()
    with pytest.raises(PolicyDenied) as refused, rt.transaction(actors["po"]) as ctx:
        containment.rotate_keys(ctx, inc.id)
    assert refused.value.code == "keys_rotate_admin_only" and "admin" in refused.value.message("en")
    assert rt.kek.current_version() == before and measure_count(rt) == 0
    denied = [e for e in rt.audit.tail(20) if e.decision == "deny"][-1]
    assert denied.action == "keys.rotate" and denied.actor == actors["po"].label
    seen: list[tuple[int, int]] = []
    with rt.transaction(actors["admin"]) as ctx:
        m = containment.rotate_keys(ctx, inc.id, progress=lambda d, t: seen.append((d, t)))
    assert rt.kek.current_version() == before + 1
    assert m.result["from_version"] == before and m.result["to_version"] == before + 1
    assert m.result["rewrapped"] > 0 and m.result["remaining_on_old"] == 0 and seen
    with rt.transaction(actors["sato"], "contract") as ctx:  # the data still opens under the new KEK
        assert customers_service.get(ctx, customer).name == "山田 太郎"
    keys_entry = [e for e in rt.audit.tail(20) if e.action == "keys.rotate"][-1]
    assert keys_entry.details["incident_id"] == inc.id


def test_rotate_keys_with_an_environment_kek_rotates_nothing_and_records_nothing(runtime, actors):
    inc = new_incident(runtime, actors["po"])
    with pytest.raises(Conflict) as refused, runtime.transaction(actors["admin"]) as ctx:
        containment.rotate_keys(ctx, inc.id)
    assert refused.value.code == "kek_not_rotated"
    assert measure_count(runtime) == 0


# -- who may, bad input, the list -----------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["sato", "support", "analyst"])
def test_other_roles_are_refused_and_audited_R_23_2(runtime, actors, rep, username):
    inc = new_incident(runtime, actors["po"])
    _, token = sign_in(runtime, "ito", rep)
    for step in (
        lambda ctx: containment.disable_account(ctx, inc.id, "ito"),
        lambda ctx: containment.revoke_sessions(ctx, inc.id, "ito"),
        lambda ctx: containment.rotate_keys(ctx, inc.id),
        lambda ctx: containment.measures(ctx, inc.id),
    ):
        with pytest.raises(PolicyDenied) as refused, runtime.transaction(actors[username]) as ctx:
            step(ctx)
        assert refused.value.rule_id == "R-23-2"
    assert session_works(runtime, token) and measure_count(runtime) == 0
    denied = [e for e in runtime.audit.tail(20) if e.decision == "deny"]
    assert {e.action for e in denied} >= {"incident.contain", "incident.read"}
    assert all(e.actor == actors[username].label for e in denied[-4:])


def test_bad_input_records_nothing(runtime, actors):
    inc = new_incident(runtime, actors["po"])
    cases = [
        (lambda ctx: containment.disable_account(ctx, inc.id, "nobody"), NotFound),
        (lambda ctx: containment.revoke_session(ctx, inc.id, "0" * 32), NotFound),
        (lambda ctx: containment.revoke_session(ctx, inc.id, "not-an-id"), ValidationFailed),
        (lambda ctx: containment.revoke_token(ctx, inc.id, "f" * 32), NotFound),
        (lambda ctx: containment.suspend_outsourcee(ctx, inc.id, "a" * 32), NotFound),
        (lambda ctx: containment.revoke_tokens(ctx, inc.id, "Bad Name"), ValidationFailed),
        (lambda ctx: containment.disable_account(ctx, "INC-0099", "sato"), NotFound),
        (lambda ctx: containment.disable_account(ctx, inc.id, "po"), Conflict),  # one's own account
    ]
    for step, error in cases:
        with pytest.raises(error), runtime.transaction(actors["po"]) as ctx:
            step(ctx)
    assert measure_count(runtime) == 0
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert staff_service.actor_for(ctx, "sato").name == "sato"  # still active


def test_measures_lists_the_steps_oldest_first(runtime, actors, rep):
    inc = new_incident(runtime, actors["po"])
    sign_in(runtime, "ito", rep)
    with runtime.transaction(actors["po"]) as ctx:
        containment.revoke_sessions(ctx, inc.id, "ito")
    runtime.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    with runtime.transaction(actors["po"]) as ctx:
        containment.revoke_tokens(ctx, inc.id, "ito")
    with runtime.transaction(actors["admin"], readonly=True) as ctx:
        got = containment.measures(ctx, inc.ref)
    assert [m.kind for m in got] == ["revoke_sessions", "revoke_tokens"]
    assert got[0].result == {"sessions_revoked": 1} and got[0].by == actors["po"].label


def test_processors_suspend_and_resume_guard_their_states_R_25_1(runtime, actors):
    """The processors service's direct suspension (added for containment): a draft cannot be suspended, the reason
    is a code, and a contract with an unremedied failed audit does not resume."""
    from datetime import date

    from mamori.processors.schemas import AuditResultIn, AuditScheduleIn
    from tests.processors.conftest import contract_data

    po = actors["po"]
    party = add_counterparty(runtime, po)
    running = running_contract(runtime, po, party)
    with runtime.transaction(po) as ctx:
        draft = processors_service.add_contract(ctx, contract_data(party, reference="C-DRAFT")).id
        with pytest.raises(Conflict):
            processors_service.suspend(ctx, draft, "incident")
        with pytest.raises(ValidationFailed):
            processors_service.suspend(ctx, running, "Free text reason")
    with runtime.transaction(po) as ctx:
        audit = processors_service.schedule_audit(ctx, running, AuditScheduleIn(due_on=date(2026, 11, 20)))
        processors_service.record_audit(
            ctx,
            audit.id,
            AuditResultIn(result="failed", performed_on=date(2026, 11, 22), findings="ログ未取得"),
        )
    with pytest.raises(Conflict) as refused, runtime.transaction(po) as ctx:
        processors_service.resume(ctx, running)
    assert refused.value.code == "audit_not_remedied" and refused.value.rule_id == "R-25-1"
    with runtime.transaction(actors["admin"]) as ctx, pytest.raises(PolicyDenied):
        processors_service.resume(ctx, running)
    entries = [e.action for e in runtime.audit.tail(30)]
    assert "processors.contract.suspend" not in entries
