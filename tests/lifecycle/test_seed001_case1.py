"""Seed 001 case 1, end to end (issue 21): 退職する営業担当者Aさんの顧客をBさんが引き継ぎ、挨拶のDMを出す.

Rep A owns 20 customers and leaves (disabled): no sales user sees them. The handover to rep B, who has not been
trained, is refused with R-23-3 and nothing moves. Once B's training completion and pledge are recorded, the bulk
handover goes through, is audited, B sees the customers and A's book is empty (no orphans). B's greeting e-mail
reaches only the customers notified of its purpose with e-mail allowed: five were never told of it and one asked
for no more e-mail — the mail outbox shows exactly who got it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from mamori.consent import service as consent_service
from mamori.consent.schemas import ConsentIn
from mamori.customers import service as customers_service
from mamori.customers.models import Customer
from mamori.customers.service import ownership
from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.errors import PolicyDenied
from mamori.kernel.runtime import Runtime
from mamori.lifecycle.models import Handover
from mamori.lifecycle.schemas import GreetingIn, HandoverCreate
from mamori.lifecycle.service import handover
from mamori.purposes import service as purposes_service
from mamori.staff import service as staff_service
from mamori.staff.schemas import StaffCreate
from mamori.staff.service import training
from tests.factories import make_customer, seed_basics
from tests.lifecycle.handover_support import ACCOUNT_CARE, require_training, train
from tests.lifecycle.handover_support import mail_runtime as mail_runtime  # noqa: F401  (fixture)

GREETING = GreetingIn(
    purpose=ACCOUNT_CARE.code,
    subject="担当者交代のご挨拶",
    body="{name} 様\n\nこのたび前任の青木に代わり、担当となりました馬場です。今後ともよろしくお願いいたします。\n",
)


def _actor(rt: Runtime, username: str) -> Actor:
    """The actor as a sign-in builds it now (``cleared`` follows the training policy, R-23-3)."""
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.actor_for(ctx, username)


def _owners(rt: Runtime, ids: list[str]) -> set[str | None]:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return set(ctx.session.execute(select(Customer.owner_id).where(Customer.id.in_(ids))).scalars())


def _outbox(rt: Runtime) -> list[dict[str, object]]:
    folder = Path(rt.settings.home_path) / "outbox"
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def test_departing_rep_handover_training_and_greeting(mail_runtime: Runtime) -> None:
    rt = mail_runtime
    actors = seed_basics(rt)
    po, admin = actors["po"], actors["admin"]
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.add(ctx, ACCOUNT_CARE)
        staff_service.add(ctx, StaffCreate(username="aoki", display_name="青木", role="sales", team="east"))
        staff_service.add(ctx, StaffCreate(username="baba", display_name="馬場", role="sales", team="east"))
    a = _actor(rt, "aoki")

    # -- rep A's book: 20 customers; 15 notified of account-care, 5 only of the contract; one later asks for no e-mail
    ids: list[str] = []
    emails: dict[str, str] = {}
    for n in range(20):
        notified = ("contract", ACCOUNT_CARE.code) if n < 15 else ("contract",)
        email = f"kokyaku{n:02d}@example.jp"
        cid = make_customer(rt, a, name=f"顧客 {n:02d}", email=email, phone=None, purposes=notified)
        ids.append(cid)
        emails[cid] = email
    opted_out = ids[3]
    with rt.transaction(po) as ctx:
        consent_service.do_not_contact(ctx, opted_out, "email", ConsentIn(method="oral"))
    expected = {emails[c] for c in ids[:15] if c != opted_out}
    assert len(expected) == 14

    # -- the company requires a current training and the signed pledge (R-23-3); the officer is trained
    require_training(rt, po)
    train(rt, po, "po")
    with rt.transaction(po) as ctx:
        training.set_policy(ctx, True)
    po = _actor(rt, "po")
    assert po.cleared

    # -- A leaves: disabled. Their customers are orphaned: no sales user sees them
    with rt.transaction(admin) as ctx:
        staff_service.disable(ctx, "aoki")
    b = _actor(rt, "baba")
    assert not b.cleared  # untrained: every personal-data action of B is refused (R-23-3)
    with pytest.raises(PolicyDenied) as orphan, rt.transaction(b, "contract") as ctx:
        customers_service.get(ctx, ids[0])
    assert orphan.value.rule_id in ("R-23-2", "R-23-3")
    with rt.transaction(po, readonly=True) as ctx:
        assert ownership.owned_counts(ctx, [a.id, b.id]) == {a.id: 20, b.id: 0}

    # -- the wizard's plan: A's 20 customers; B is not offered (not current on training)
    with rt.transaction(po) as ctx:
        plan = handover.plan(ctx, "aoki")
    assert plan.customers == 20 and sorted(plan.customer_ids) == sorted(ids)
    assert "baba" not in [s.username for s in plan.candidates]
    assert "baba" in [s.username for s in plan.not_ready]

    # -- handing over to untrained B is refused with R-23-3, and nothing moves
    with pytest.raises(PolicyDenied) as refused, rt.transaction(po) as ctx:
        handover.run(ctx, HandoverCreate.model_validate({"from": "aoki", "to": "baba"}))
    assert refused.value.code == "training_required" and refused.value.rule_id == "R-23-3"
    assert _owners(rt, ids) == {a.id}
    denials = rt.audit.search(action="customer.reassign", decision="deny", limit=10)
    assert [d.reason for d in denials] == ["training_required"] and "R-23-3" in denials[0].rule_ids
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert ctx.session.execute(select(Handover)).first() is None

    # -- B is trained: the completion recorded and the pledge signed, through the staff service
    train(rt, po, "baba")
    with rt.transaction(po) as ctx:
        assert training.status_of(ctx, "baba").current
        assert "baba" in [s.username for s in handover.plan(ctx, "aoki").candidates]

    # -- the bulk handover goes through and is audited
    with rt.transaction(po) as ctx:
        done = handover.run(ctx, HandoverCreate.model_validate({"from": "aoki", "to": "baba"}))
    assert done.customers == 20 and sorted(done.customer_ids) == sorted(ids)
    assert _owners(rt, ids) == {b.id}
    [moved] = rt.audit.search(action="customer.reassign", decision="allow", limit=10)
    assert sorted(moved.subject_ids) == sorted(ids) and moved.fields == ("owner_id",)
    assert moved.details["handover_id"] == done.id and moved.details["to_staff_id"] == b.id
    assert moved.details["from_staff_id"] == a.id and moved.details["count"] == 20
    [recorded] = rt.audit.search(action="lifecycle.handover", limit=10)
    assert recorded.details["customers"] == 20 and recorded.rule_ids == ("R-23-3",)
    assert not set(recorded.subject_ids)  # the handover's own entry names staff ids and counts only
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        row = ctx.session.get(Handover, done.id)
        assert row is not None and (row.from_user, row.to_user, row.customers) == (a.id, b.id, 20)
        assert row.reason == "departure" and row.by == po.label

    # -- B now sees them; A's book is empty: nobody is orphaned
    b = _actor(rt, "baba")
    assert b.cleared
    with rt.transaction(b, "contract", readonly=True) as ctx:
        assert customers_service.get(ctx, ids[0]).id == ids[0]
        page, _ = customers_service.list_page(ctx, limit=100)
    assert sorted(c.id for c in page) == sorted(ids)
    with rt.transaction(po, readonly=True) as ctx:
        assert ownership.owned_counts(ctx, [a.id, b.id]) == {a.id: 0, b.id: 20}

    # -- B greets the customers handed over: only those notified of account-care with e-mail allowed
    with rt.transaction(b) as ctx:
        greeted = handover.greet(ctx, done.id, GREETING)
    assert greeted.queued == 14
    assert greeted.excluded == {"do_not_contact": 1, "purpose_not_notified": 5}
    sent = _outbox(rt)
    assert {str(m["to"]) for m in sent} == expected
    assert all(m["subject"] == GREETING.subject for m in sent)
    assert all("馬場" in str(m["body"]) and "配信停止" in str(m["body"]) for m in sent)  # the TE-4 footer too
    assert {s for m in sent for s in m["subject_ids"]} == {c for c in ids[:15] if c != opted_out}  # type: ignore[attr-defined]
    [greeting_entry] = rt.audit.search(action="lifecycle.handover_greeting", limit=10)
    assert greeting_entry.details["queued"] == 14 and greeting_entry.details["excluded"] == 6
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        row = ctx.session.get(Handover, done.id)
        assert row is not None and row.campaign_id == greeted.campaign_id
    # sent once per handover
    with pytest.raises(Exception) as again, rt.transaction(b) as ctx:
        handover.greet(ctx, done.id, GREETING)
    assert getattr(again.value, "code", "") == "already_greeted"
    assert len(_outbox(rt)) == 14
