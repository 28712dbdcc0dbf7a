"""Issue 17: every refusal on every path is audited — a sweep over the kinds of refusal that can be triggered
(policy denial on read, on an export, on a handover, a rep out of scope, an API token used for a purpose it does
not carry, a refusal a service raised itself), each leaving a ``deny`` entry that names the rule and the refusal
and never a value. The kernel helpers (``mamori.kernel.auditing``) that audit refusals are tested directly too:
written once per unit of work, on the audit store's own connection (a rollback does not erase them), ids only.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from mamori.customers import service as customers_service
from mamori.kernel.auditing import (
    audits_refusals,
    record_edge_refusal,
    record_escaped_refusal,
    record_refusal,
    refusals_audited,
)
from mamori.kernel.context import SYSTEM_ACTOR, Context
from mamori.kernel.errors import MamoriError, PolicyDenied
from mamori.kernel.http.deps import Principal, require_token_purpose
from mamori.processors import service as processors_service
from mamori.processors.schemas import HandoverIn
from mamori.provision import service as provision_service
from mamori.provision.schemas import ProvideIn
from tests.api.conftest import Api
from tests.factories import make_customer, seed_basics
from tests.processors.conftest import add_counterparty, contract_data

SECRET = "山田 太郎"


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


def last_seq(rt) -> int:
    tail = rt.audit.tail(1)
    return tail[-1].seq if tail else 0


def denials_since(rt, seq: int):
    return [e for e in rt.audit.tail(10_000) if e.seq > seq and e.decision == "deny"]


def refused(rt, actor, purpose, fn, errors=PolicyDenied) -> tuple[MamoriError, list]:
    """Run ``fn(ctx)`` in a unit of work that the refusal rolls back; return the error and the deny entries."""
    before = last_seq(rt)
    with pytest.raises(errors) as exc, rt.transaction(actor, purpose) as ctx:
        fn(ctx)
    return exc.value, denials_since(rt, before)


def no_value(entries) -> None:
    for e in entries:
        assert SECRET not in repr(e) and SECRET not in json.dumps(e.details, ensure_ascii=False)


# -- the sweep ----------------------------------------------------------------------------------------------------


def test_every_kind_of_refusal_leaves_one_deny_entry_with_its_rule(runtime, actors):
    cid = make_customer(runtime, actors["sato"], name=SECRET, purposes=("contract",))
    po = actors["po"]
    party = add_counterparty(runtime, po)
    with runtime.transaction(po) as ctx:
        draft = processors_service.add_contract(ctx, contract_data(party)).id
    cases = {
        # policy denial on a read: a purpose never notified to this person
        "read": (
            actors["sato"],
            "partner-sharing",
            lambda ctx: customers_service.get(ctx, cid),
            ("purpose_not_notified", "R-21-1"),
        ),
        # a sales rep reaching another team's customer
        "out_of_scope": (
            actors["suzuki"],
            "contract",
            lambda ctx: customers_service.get(ctx, cid),
            ("out_of_scope", "R-23-2"),
        ),
        # a role that may not list customers at all
        "role": (
            actors["analyst"],
            "contract",
            lambda ctx: customers_service.list_page(ctx),
            ("role_not_permitted", "R-23-2"),
        ),
        # an export: the handover file of a contract that is not running
        "handover": (
            po,
            None,
            lambda ctx: processors_service.handover(ctx, draft, HandoverIn()),
            ("contract_not_running", "R-25-1"),
        ),
        # an export: the handover file with a field the work does not need
        "handover_fields": (
            po,
            None,
            lambda ctx: processors_service.handover(ctx, draft, HandoverIn(fields=["address"])),
            ("contract_not_running", "R-25-1"),  # the contract is checked first
        ),
        # an export to a third party by a role that may not provide
        "provide_role": (
            actors["sato"],
            "contract",
            lambda ctx: provision_service.provide(
                ctx, ProvideIn(counterparty_id=party, purpose="contract", fields=["name"], customer_ids=[cid])
            ),
            ("role_not_permitted", "R-23-2"),
        ),
    }
    for name, (actor, purpose, fn, (code, rule)) in cases.items():
        error, entries = refused(runtime, actor, purpose, fn)
        assert error.code == code, name
        assert [(e.reason, e.rule_ids[0]) for e in entries] == [(code, rule)], name
        no_value(entries)


def test_the_web_audit_export_refused_to_a_sales_rep_is_audited(runtime):
    api = Api(runtime)
    c, _ = api.client("sato")
    before = last_seq(runtime)
    r = c.get("/audit/export.csv")
    assert r.status_code == 403 and "R-23-2" in r.text
    assert [(e.action, e.reason) for e in denials_since(runtime, before)] == [
        ("audit.read", "role_not_permitted")
    ]


# -- the kernel helpers -------------------------------------------------------------------------------------------


def _raw_refusal(**details: object) -> PolicyDenied:
    return PolicyDenied(
        f"{SECRET} さんには提供できません。",  # a message may name things; the audit entry never copies it
        "refused",
        rule_id="R-27-1",
        code="sweep_refusal",
        details={"counterparty_id": "c" * 32, "status": "draft", "name": SECRET, **details},
    )


def test_a_refusal_a_service_raises_itself_survives_the_rollback_once_and_without_values(runtime, actors):
    def fn(ctx: Context) -> None:
        with refusals_audited(ctx, "sweep.action", ["s" * 32]):
            ctx.session.execute(text("SELECT 1"))
            raise _raw_refusal(fields=["name", "address"])

    error, entries = refused(runtime, actors["po"], "contract", fn)
    (entry,) = entries
    assert entry.action == "sweep.action" and entry.reason == "sweep_refusal"
    assert entry.rule_ids == ("R-27-1",) and entry.subject_ids == ("s" * 32,)
    assert entry.fields == ("address", "name")  # field names as the error names them
    assert entry.details == {"counterparty_id": "c" * 32, "status": "draft"}  # ids and states only
    assert entry.purpose == "contract" and entry.actor == actors["po"].label
    no_value(entries)


def test_a_refusal_already_audited_is_not_written_twice(runtime, actors):
    @audits_refusals("sweep.outer")
    def service_fn(ctx: Context) -> None:
        with refusals_audited(ctx, "sweep.inner"):
            raise _raw_refusal()

    def fn(ctx: Context) -> None:
        try:
            service_fn(ctx)
        except PolicyDenied as exc:
            record_escaped_refusal(ctx, exc)  # what the edge's unit of work does (see the report)
            record_refusal(ctx, "sweep.again", (), exc)
            raise

    _, entries = refused(runtime, actors["po"], None, fn)
    assert [e.action for e in entries] == ["sweep.inner"]


def test_an_escaped_refusal_is_filed_under_the_last_action_authorised(runtime, actors):
    cid = make_customer(runtime, actors["sato"], purposes=("contract",))

    def fn(ctx: Context) -> None:
        try:
            customers_service.get(ctx, cid)  # authorised and read: no refusal
            raise _raw_refusal()
        except PolicyDenied as exc:
            record_escaped_refusal(ctx, exc)
            raise

    _, entries = refused(runtime, actors["sato"], "contract", fn)
    assert [(e.action, e.reason, e.rule_ids) for e in entries] == [
        ("customer.read", "sweep_refusal", ("R-27-1",))
    ]


def test_a_token_used_for_a_purpose_it_does_not_carry_is_audited_at_the_edge(runtime, actors):
    """The refusal is made before any Context exists (kernel/http/deps.py ``require_token_purpose``)."""
    who = Principal(actor=actors["support"], via="token", purposes=frozenset({"contract"}))
    before = last_seq(runtime)
    with pytest.raises(PolicyDenied) as exc:
        require_token_purpose(who, "marketing-email")
    record_edge_refusal(runtime, who.actor, "marketing-email", "api.token.purpose", exc.value)
    record_edge_refusal(runtime, who.actor, "<script>x", "api.token.purpose", exc.value)
    first, second = denials_since(runtime, before)
    assert (first.reason, first.rule_ids, first.purpose) == (
        "token_purpose_not_allowed",
        ("R-23-2",),
        "marketing-email",
    )
    assert first.actor == actors["support"].label
    assert second.purpose is None  # a purpose not shaped like a code is never echoed into the log


def test_a_provision_refused_by_its_basis_is_audited_through_the_unit_of_work(runtime, actors):
    cid = make_customer(runtime, actors["po"], purposes=("contract",))
    party = add_counterparty(runtime, actors["po"])  # an outsourcee: opt-out never applies to it (R-27-1)
    data = ProvideIn(
        counterparty_id=party, purpose="contract", fields=["name"], customer_ids=[cid], basis="opt_out"
    )
    error, entries = refused(
        runtime, actors["po"], "contract", lambda ctx: provision_service.provide(ctx, data)
    )
    assert error.code == "basis_not_applicable"
    assert [e.reason for e in entries] == ["basis_not_applicable"]


def test_system_actor_refusals_are_audited_too(runtime):
    def fn(ctx: Context) -> None:
        with refusals_audited(ctx, "sweep.system"):
            raise _raw_refusal()

    _, entries = refused(runtime, SYSTEM_ACTOR, None, fn)
    assert [e.actor_role for e in entries] == ["system"]
