"""Issue 17: a refused handover to an outsourcee leaves an audit entry — one, naming the rule and the refusal —
through the service, the web page and the CLI; the entry is written on the audit store's own connection, so the
rollback of the refused handover does not erase it. Other refusals of the processors slice (a contract that
cannot start, the entrustment gate of ``provide --basis entrustment``) are audited the same way.

On c98babe ``ensure_running`` / ``check_fields`` raised PolicyDenied with nothing written to the audit log.
"""

from __future__ import annotations

import json

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.errors import PolicyDenied
from mamori.processors import service
from mamori.processors.schemas import HandoverIn
from mamori.processors.service.access import ENTRUSTMENT_GATE
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.processors.conftest import add_counterparty, contract_data


def denials(rt, action: str, after: int = 0):
    return [e for e in rt.audit.tail(10_000) if e.seq > after and e.decision == "deny" and e.action == action]


def last_seq(rt) -> int:
    tail = rt.audit.tail(1)
    return tail[-1].seq if tail else 0


def draft(rt, po, party: str) -> str:
    with rt.transaction(po) as ctx:
        return service.add_contract(ctx, contract_data(party, reference="C-DRAFT")).id


def test_a_handover_under_a_contract_that_is_not_running_is_audited_once_R_25_1(runtime, world):
    contract = draft(runtime, world.po, world.counterparty_id)
    before = last_seq(runtime)
    with pytest.raises(PolicyDenied) as exc, runtime.transaction(world.po) as ctx:
        service.handover(ctx, contract, HandoverIn())
    assert exc.value.code == "contract_not_running"
    (entry,) = denials(runtime, "processors.handover", before)
    assert entry.rule_ids == ("R-25-1",) and entry.reason == "contract_not_running"
    assert entry.details["contract_id"] == contract and entry.details["status"] == "draft"
    assert entry.actor_role == "privacy_officer"
    with runtime.transaction(world.po, readonly=True) as ctx:
        assert service.list_handovers(ctx, contract) == []  # the business transaction rolled back


def test_a_handover_of_fields_the_work_does_not_need_is_audited_with_the_field_names(runtime, world):
    before = last_seq(runtime)
    with pytest.raises(PolicyDenied), runtime.transaction(world.po) as ctx:
        service.handover(ctx, world.contract_id, HandoverIn(fields=["name", "address"]))
    (entry,) = denials(runtime, "processors.handover", before)
    assert entry.reason == "field_not_needed" and entry.rule_ids == ("R-25-1",)
    assert entry.fields == ("address",)  # the field's name only, never a value
    assert "東京都" not in json.dumps(entry.details, ensure_ascii=False)


def test_a_handover_by_a_role_that_may_not_is_audited_once_R_23_2(runtime, world):
    before = last_seq(runtime)
    with pytest.raises(PolicyDenied), runtime.transaction(world.actors["sato"]) as ctx:
        service.handover(ctx, world.contract_id, HandoverIn())
    entries = [e for e in runtime.audit.tail(100) if e.seq > before and e.decision == "deny"]
    assert [(e.reason, e.rule_ids) for e in entries] == [("role_not_permitted", ("R-23-2",))]


def test_a_contract_that_cannot_start_and_a_refused_entrustment_are_audited(runtime, world):
    contract = draft(runtime, world.po, world.counterparty_id)
    before = last_seq(runtime)
    with pytest.raises(PolicyDenied), runtime.transaction(world.po) as ctx:
        service.activate(ctx, contract)
    (entry,) = denials(runtime, "processors.contract.activate", before)
    assert entry.reason == "evaluation_not_passed" and entry.rule_ids == ("R-25-1",)
    # provide --basis entrustment: a purpose the contract does not cover (R-27-2 (a))
    before = last_seq(runtime)
    with pytest.raises(PolicyDenied), runtime.transaction(world.po, "marketing-email") as ctx:
        ENTRUSTMENT_GATE.check(ctx, world.counterparty_id, "marketing-email", ["name"], [world.covered])
    (entry,) = denials(runtime, "processors.handover", before)
    assert entry.reason == "purpose_outside_contract" and entry.rule_ids == ("R-27-2",)
    # a counterparty with no contract at all
    other = add_counterparty(runtime, world.po)
    before = last_seq(runtime)
    with pytest.raises(PolicyDenied), runtime.transaction(world.po, "contract") as ctx:
        ENTRUSTMENT_GATE.check(ctx, other, "contract", ["name"], [world.covered])
    (entry,) = denials(runtime, "processors.handover", before)
    assert entry.reason == "no_contract" and entry.details["counterparty_id"] == other


# -- the web page ---------------------------------------------------------------------------------------------------


@pytest.fixture
def api(runtime):
    return Api(runtime)


def test_a_refused_handover_on_the_web_page_is_audited_once(api):
    rt = api.rt
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        po = staff_service.actor_for(ctx, "po")
        sato = staff_service.actor_for(ctx, "sato")
    party = add_counterparty(rt, po)
    make_customer(rt, sato)
    contract = draft(rt, po, party)
    c, csrf = api.client("po")
    before = last_seq(rt)
    r = c.post(f"/outsourcees/{contract}/handover", data={"csrf": csrf})
    assert r.status_code == 403 and "R-25-1" in r.text and "content-disposition" not in r.headers
    (entry,) = denials(rt, "processors.handover", before)
    assert entry.reason == "contract_not_running" and entry.rule_ids == ("R-25-1",)
    assert entry.actor == po.label and entry.actor_role == "privacy_officer"
    # another role on the page: refused, one entry (the role refusal)
    s, s_csrf = api.client("sato")
    before = last_seq(rt)
    r = s.post(f"/outsourcees/{contract}/handover", data={"csrf": s_csrf})
    assert r.status_code == 403
    assert [e.reason for e in rt.audit.tail(100) if e.seq > before and e.decision == "deny"] == [
        "role_not_permitted"
    ]


# -- the CLI, read back with `mamori audit tail` ------------------------------------------------------------------


@pytest.mark.slow
def test_a_refused_handover_through_the_cli_is_read_back_with_audit_tail(tmp_path, monkeypatch):
    from tests.factories import demo_cli

    for run in demo_cli(tmp_path, monkeypatch, customers=2):
        po = ("--as", "hoshino")
        from mamori.kernel.runtime import open_runtime
        from mamori.kernel.settings import get_settings

        rt = open_runtime(get_settings())
        try:
            with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
                hoshino = staff_service.actor_for(ctx, "hoshino")
            party = add_counterparty(rt, hoshino)
            contract = draft(rt, hoshino, party)
        finally:
            rt.close()
        out = tmp_path / "handover.csv"
        r = run(*po, "processors", "handover", contract, "--out", str(out))
        assert r.exit_code == 3 and "R-25-1" in r.output and not out.exists()
        tail = run(*po, "audit", "tail", "-n", "20", "--json")
        assert tail.exit_code == 0, tail.output
        refused = [
            e
            for e in json.loads(tail.stdout)
            if e["action"] == "processors.handover" and e["decision"] == "deny"
        ]
        assert len(refused) == 1
        assert refused[0]["reason"] == "contract_not_running" and refused[0]["rule_ids"] == ["R-25-1"]
