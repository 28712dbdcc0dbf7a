"""The scope of an incident from evidence (issue 22 "Deliver" 2; R-26-1, R-26-7): the service.

Reads are made through the real services by actors that came through a real sign-in (``validate_session``) or a
real API token (``validate_api_token``), so the audit log holds what it holds in production (``details.via``).
Synthetic data only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from mamori.customers import service as customers_service
from mamori.incidents.models import IncidentScope, IncidentSubject
from mamori.incidents.scope_schemas import ScopeFilter
from mamori.incidents.service import scope as service
from mamori.inventory.models import DataItem
from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.runtime import Runtime
from mamori.staff import service as staff_service
from mamori.staff.schemas import ApiTokenCreate
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.incidents.support import new_incident
from tests.staff.helpers import PASSWORD, code_now, own_token


def actor(rt: Runtime, username: str) -> Actor:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.actor_for(ctx, username)


def session_actor(api: Api, username: str) -> tuple[Actor, str]:
    """Sign ``username`` in (a real session) and return the actor the edge builds from it, and the session id."""
    rt = api.rt
    rt.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
    signed = staff_service.sign_in(rt, username, PASSWORD, code_now(rt, api.secrets[username]))
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        who = staff_service.validate_session(ctx, signed.token)
    assert who.via == f"session:{signed.session_id}"
    return who, signed.session_id


def token_actor(api: Api, username: str) -> tuple[Actor, str]:
    """A real API token of ``username`` and the actor the API edge builds from it, and the token id."""
    rt = api.rt
    issued = own_token(rt, username, api.secrets[username], ApiTokenCreate(name="t", purposes=["contract"]))
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        who, _ = staff_service.validate_api_token(ctx, issued.token)
    assert who.via == f"token:{issued.id}"
    return who, issued.id


def read(rt: Runtime, who: Actor, cid: str) -> None:
    with rt.transaction(who, "contract") as ctx:
        customers_service.get(ctx, cid)


def in_ctx(rt: Runtime, who: Actor, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with rt.transaction(who) as ctx:
        return fn(ctx, *args, **kwargs)


def subjects(rt: Runtime, incident_id: str) -> dict[str, IncidentSubject]:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        rows = ctx.session.execute(
            select(IncidentSubject).where(IncidentSubject.incident_id == incident_id)
        ).scalars()
        return {r.customer_id: r for r in rows}


def scope_count(rt: Runtime) -> int:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return int(ctx.session.execute(select(func.count()).select_from(IncidentScope)).scalar_one())


@dataclass
class Reads:
    api: Api
    po: Actor
    incident: str
    session_id: str
    since: datetime
    until: datetime
    a: str
    b: str
    other_session: str
    before: str
    after: str
    denied: str


@pytest.fixture
def reads(runtime: Runtime) -> Reads:
    """Seed 001 case 5: sato's session S1 reads a and b inside the window; outside it (before, after), through
    another session S2 (other_session), and a refused read of suzuki's customer (denied) are not the scope."""
    api = Api(runtime)
    sato, suzuki, po = actor(runtime, "sato"), actor(runtime, "suzuki"), actor(runtime, "po")
    a, b, other, before, after = (
        make_customer(runtime, sato, email=f"c{i}@example.jp", phone=None) for i in range(5)
    )
    denied = make_customer(runtime, suzuki, email="d@example.jp", phone=None)
    incident = new_incident(runtime, po).id
    s1, session_id = session_actor(api, "sato")
    s2, _ = session_actor(api, "sato")
    read(runtime, s1, before)
    runtime.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    since = runtime.clock.now()
    runtime.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    read(runtime, s1, a)
    read(runtime, s1, b)
    read(runtime, s1, a)
    read(runtime, s2, other)
    with pytest.raises(PolicyDenied):
        read(runtime, s1, denied)
    runtime.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    until = runtime.clock.now()
    read(runtime, s1, after)
    return Reads(api, po, incident, session_id, since, until, a, b, other, before, after, denied)


def test_a_sessions_reads_between_two_times_become_the_scope(runtime: Runtime, reads: Reads) -> None:
    got = in_ctx(
        runtime,
        reads.po,
        service.from_audit,
        reads.incident,
        session_id=reads.session_id,
        since=reads.since,
        until=reads.until,
    )
    assert got.method == "audit" and got.persons == 2
    assert got.params == {
        "session_id": reads.session_id,
        "since": reads.since.isoformat(),
        "until": reads.until.isoformat(),
    }
    assert got.items["name"] == 2 and got.items["emails"] == 2 and got.items["address"] == 2
    people = subjects(runtime, reads.incident)
    assert set(people) == {reads.a, reads.b}  # not before/after, not S2's read, not the refused read
    row = people[reads.a]
    assert "name" in json.loads(row.fields) and "emails" in json.loads(row.fields)
    assert {"identifier", "contact"} <= set(json.loads(row.categories))
    assert row.origin == "JP" and row.sensitive is False and row.financial is False
    # audited with the incident, the scope, the method and the count — never the people's ids
    entry = runtime.audit.search(action="incident.scope", limit=1)[0]
    assert entry.details["incident_id"] == reads.incident and entry.details["scope_id"] == got.id
    assert entry.details["method"] == "audit" and entry.details["persons"] == 2
    assert entry.subject_ids == () and entry.rule_ids == ("R-26-1", "R-26-7")


def test_the_account_covers_every_session_of_the_user(runtime: Runtime, reads: Reads) -> None:
    got = in_ctx(
        runtime,
        reads.po,
        service.from_audit,
        reads.incident,
        username="sato",
        since=reads.since,
        until=reads.until,
    )
    assert got.persons == 3 and set(subjects(runtime, reads.incident)) == {
        reads.a,
        reads.b,
        reads.other_session,
    }


def test_a_tokens_reads_become_the_scope(runtime: Runtime) -> None:
    api = Api(runtime)
    sato, po = actor(runtime, "sato"), actor(runtime, "po")
    a, b = (make_customer(runtime, sato, email=f"t{i}@example.jp", phone=None) for i in range(2))
    incident = new_incident(runtime, po).id
    tok, token_id = token_actor(api, "sato")
    web, _ = session_actor(api, "sato")
    since = runtime.clock.now()
    read(runtime, tok, a)
    read(runtime, web, b)  # the same user through a session: not the token's
    until = runtime.clock.now() + timedelta(seconds=1)
    got = in_ctx(runtime, po, service.from_audit, incident, token_id=token_id, since=since, until=until)
    assert got.persons == 1 and set(subjects(runtime, incident)) == {a}
    assert got.params["token_id"] == token_id


def test_unknown_session_and_bad_period_are_refused(runtime: Runtime, reads: Reads) -> None:
    with pytest.raises(NotFound):
        in_ctx(
            runtime,
            reads.po,
            service.from_audit,
            reads.incident,
            session_id="0" * 32,
            since=reads.since,
            until=reads.until,
        )
    with pytest.raises(ValidationFailed):
        in_ctx(
            runtime,
            reads.po,
            service.from_audit,
            reads.incident,
            session_id=reads.session_id,
            since=reads.until,
            until=reads.since,
        )
    assert scope_count(runtime) == 0


def test_unauthorised_roles_are_refused_and_audited(runtime: Runtime, reads: Reads) -> None:
    for username in ("sato", "admin", "analyst"):
        with pytest.raises(PolicyDenied):
            in_ctx(
                runtime,
                actor(runtime, username),
                service.from_audit,
                reads.incident,
                session_id=reads.session_id,
                since=reads.since,
                until=reads.until,
            )
        denial = runtime.audit.search(action="incident.scope", decision="deny", limit=1)[0]
        assert denial.actor == actor(runtime, username).label
    assert scope_count(runtime) == 0
    with pytest.raises(PolicyDenied):  # reading the scope needs incident.read
        in_ctx(runtime, actor(runtime, "sato"), service.summary, reads.incident)


@pytest.fixture
def basics(runtime: Runtime) -> dict[str, Actor]:
    from tests.factories import seed_basics

    return seed_basics(runtime)


def test_ids_with_unknown_ids_write_nothing(runtime: Runtime, basics: dict[str, Actor]) -> None:
    po = basics["po"]
    cid = make_customer(runtime, basics["sato"])
    incident = new_incident(runtime, po).id
    with pytest.raises(ValidationFailed) as exc:
        in_ctx(runtime, po, service.from_ids, incident, [cid, "x" * 32, "y" * 32], ["name"])
    assert exc.value.details["count"] == 2 and "2" in exc.value.message_en and cid not in exc.value.message_en
    assert scope_count(runtime) == 0 and subjects(runtime, incident) == {}
    got = in_ctx(runtime, po, service.from_ids, incident, [cid], ["name", "emails"])
    assert got.persons == 1 and got.params == {"count": 1, "fields": "emails,name"}


def test_flags_from_categories_and_the_union_of_two_methods(
    runtime: Runtime, basics: dict[str, Actor]
) -> None:
    po = basics["po"]
    jp = make_customer(runtime, basics["sato"])
    eu = make_customer(runtime, basics["sato"], email="eu@example.jp", origin="EU")
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        now = ctx.clock.now()
        ctx.session.add(
            DataItem(
                key="attr:card_number",
                appi_category="attribute",
                financial=True,
                updated_at=now,
                updated_by="t",
            )
        )
        ctx.session.add(
            DataItem(
                key="attr:illness",
                appi_category="sensitive",
                sensitive_kind="medical_history",
                updated_at=now,
                updated_by="t",
            )
        )
    incident = new_incident(runtime, po).id
    first = in_ctx(runtime, po, service.from_ids, incident, [jp, eu], ["name"])
    in_ctx(runtime, po, service.from_ids, incident, [jp], ["attr:card_number"])
    in_ctx(runtime, po, service.from_ids, incident, [eu], ["activities:sensitive"])
    people = subjects(runtime, incident)
    assert len(people) == 2  # one row per person
    assert json.loads(people[jp].fields) == ["attr:card_number", "name"] and people[jp].financial
    assert "financial" in json.loads(people[jp].categories) and not people[jp].sensitive
    assert people[eu].sensitive and not people[eu].financial and people[eu].origin == "EU"
    assert people[jp].scope_id == first.id  # the first method that found them
    in_ctx(runtime, po, service.from_ids, incident, [eu], ["attr:illness"])
    assert subjects(runtime, incident)[eu].sensitive
    s = in_ctx(runtime, po, service.summary, incident)
    assert (s.persons, s.sensitive, s.financial, s.eu, s.uk) == (2, 1, 1, 1, 0)
    assert s.items == {"activities:sensitive": 1, "attr:card_number": 1, "attr:illness": 1, "name": 2}
    assert (
        s.categories["identifier"] == 2 and s.categories["sensitive"] == 1 and s.categories["financial"] == 1
    )


def test_estimate_counts_as_a_maximum(runtime: Runtime, basics: dict[str, Actor]) -> None:
    po = basics["po"]
    cid = make_customer(runtime, basics["sato"])
    incident = new_incident(runtime, po).id
    in_ctx(runtime, po, service.from_ids, incident, [cid], ["emails"])
    got = in_ctx(runtime, po, service.estimate, incident, 1500, ["emails"])
    assert got.persons == 0 and got.maximum == 1500 and got.items == {"emails": 1500}
    s = in_ctx(runtime, po, service.summary, incident)
    assert s.persons == 1 and s.maximum == 1500


def test_filter_by_origin_and_owner(runtime: Runtime, basics: dict[str, Actor]) -> None:
    po = basics["po"]
    mine = make_customer(runtime, basics["sato"])
    eu = make_customer(runtime, basics["sato"], email="e@example.jp", origin="EU")
    theirs = make_customer(runtime, basics["suzuki"], email="s@example.jp")
    incident = new_incident(runtime, po).id
    got = in_ctx(runtime, po, service.from_filter, incident, ScopeFilter(owner="sato"), ["name"])
    assert got.persons == 2 and got.params == {"owner": "sato", "fields": "name"}
    assert set(subjects(runtime, incident)) == {mine, eu}
    got = in_ctx(
        runtime, po, service.from_filter, incident, ScopeFilter(origin="EU", purpose="contract"), ["name"]
    )
    assert got.persons == 1
    assert theirs not in subjects(runtime, incident)
    now = runtime.clock.now()
    got = in_ctx(
        runtime,
        po,
        service.from_filter,
        incident,
        ScopeFilter(
            created_since=now - timedelta(hours=1), created_until=now + timedelta(hours=1), team="west"
        ),
        ["name"],
    )
    assert got.persons == 1 and theirs in subjects(runtime, incident)
    assert (
        got.params["team"] == "west" and got.params["created_since"] == (now - timedelta(hours=1)).isoformat()
    )
    before = ScopeFilter(created_until=now - timedelta(minutes=1))
    assert in_ctx(runtime, po, service.from_filter, incident, before, ["name"]).persons == 0


def test_provision_scope(runtime: Runtime, basics: dict[str, Actor]) -> None:
    from mamori.provision import service as provision_service
    from tests.provision.conftest import add_cp, consent, customers, provide_in

    po = basics["po"]
    cp = add_cp(runtime, po)
    a, b, c = customers(runtime, po, 3)
    consent(runtime, po, a, cp)
    consent(runtime, po, b, cp)
    with runtime.transaction(po) as ctx:
        res = provision_service.provide(ctx, provide_in(cp, [a, b]))
    incident = new_incident(runtime, po).id
    got = in_ctx(runtime, po, service.from_provision, incident, res.provision_id)
    assert got.persons == 2 and got.items == {"email": 2, "name": 2}
    assert got.params == {"provision_id": res.provision_id}
    people = subjects(runtime, incident)
    assert set(people) == {a, b} and set(json.loads(people[a].categories)) == {"contact", "identifier"}
    with pytest.raises(NotFound):
        in_ctx(runtime, po, service.from_provision, incident, "0" * 32)


def test_handover_scope_and_remove(runtime: Runtime, basics: dict[str, Actor]) -> None:
    from mamori.processors import service as processors_service
    from mamori.processors.schemas import CustomersIn, HandoverIn
    from tests.processors.conftest import add_counterparty, running_contract

    po = basics["po"]
    cp = add_counterparty(runtime, po)
    covered = make_customer(runtime, basics["sato"], email="h@example.jp")
    other = make_customer(runtime, basics["sato"], email="o@example.jp")
    contract_id = running_contract(runtime, po, cp)
    with runtime.transaction(po) as ctx:
        processors_service.assign_customers(ctx, contract_id, CustomersIn(customer_ids=[covered]))
        handover = processors_service.handover(ctx, contract_id, HandoverIn())
    incident = new_incident(runtime, po).id
    got = in_ctx(runtime, po, service.from_processor_handover, incident, handover.record.id)
    assert got.persons == 1 and got.items == {"kana": 1, "name": 1, "phones": 1}
    assert set(subjects(runtime, incident)) == {covered}
    extra = in_ctx(runtime, po, service.estimate, incident, 10, ["name"])
    ids_scope = in_ctx(runtime, po, service.from_ids, incident, [covered, other], ["emails"])
    # removing the handover scope rebuilds the people from the list of ids (who it found is kept): both stay,
    # with only the list's field; the handover's fields are gone
    in_ctx(runtime, po, service.remove, incident, got.id)
    people = subjects(runtime, incident)
    assert set(people) == {covered, other}
    assert json.loads(people[covered].fields) == ["emails"] and json.loads(people[other].fields) == ["emails"]
    removed = in_ctx(runtime, po, service.remove, incident, ids_scope.id)
    assert removed.removed_at is not None
    assert subjects(runtime, incident) == {}
    in_ctx(runtime, po, service.remove, incident, extra.id)
    assert in_ctx(runtime, po, service.scopes, incident) == []
    assert len(in_ctx(runtime, po, service.scopes, incident, include_removed=True)) == 3
    with pytest.raises(NotFound):
        in_ctx(runtime, po, service.remove, incident, got.id)
    entry = runtime.audit.search(action="incident.scope_remove", limit=1)[0]
    assert entry.details["scope_id"] == extra.id and entry.details["incident_id"] == incident


def test_subject_ids_for_notices_and_holds(runtime: Runtime, basics: dict[str, Actor]) -> None:
    po = basics["po"]
    a = make_customer(runtime, basics["sato"])
    incident = new_incident(runtime, po).id
    in_ctx(runtime, po, service.from_ids, incident, [a], ["name"])
    from mamori.incidents.service.register import find

    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert service.subject_ids(ctx, find(ctx, incident)) == [a]


def test_audit_reads_window_chunks_and_via_are_exact(runtime: Runtime) -> None:
    """``AuditWriter.reads``: since inclusive, until exclusive, every entry once across chunks (entries sharing a
    time included), ``via`` matched exactly (``token:ab`` is not ``token:abc``), decisions and actions filtered."""
    from mamori.kernel.audit import AuditEntry

    t0 = runtime.clock.now()

    def entry(at_s: int, via: str, decision: str = "allow", action: str = "customer.read") -> AuditEntry:
        return AuditEntry(
            actor="staff:x",
            actor_role="sales",
            action=action,
            purpose=None,
            subject_ids=(f"c{at_s}-{via}-{decision}-{action}",),
            fields=("name",),
            decision=decision,
            details={"via": via},
            at=t0 + timedelta(seconds=at_s),
        )

    runtime.audit.append(
        [
            entry(0, "token:ab"),
            entry(0, "token:ab"),  # the same time twice: the keyset (at, seq) must not skip or repeat it
            entry(1, "token:ab"),
            entry(1, "token:abc"),
            entry(2, "token:ab", decision="deny"),
            entry(2, "token:ab", action="consent.read"),
            entry(3, "token:ab"),  # at until: excluded
        ]
    )
    until = t0 + timedelta(seconds=3)
    got = list(runtime.audit.reads("staff:x", t0, until, via="token:ab", actions=("customer.read",), chunk=1))
    assert [e.at for e in got] == [t0, t0, t0 + timedelta(seconds=1)]
    assert len({e.seq for e in got}) == 3 and all(e.fields == ("name",) for e in got)
    assert len(list(runtime.audit.reads(["staff:x", "outsourcee:x"], t0, until, via="token:abc"))) == 1
    both = list(
        runtime.audit.reads("staff:x", t0, until, via="token:ab", decision=("allow", "deny"), chunk=2)
    )
    assert sorted(e.decision for e in both) == ["allow", "allow", "allow", "allow", "deny"]
    assert list(runtime.audit.reads("staff:y", t0, until)) == []
