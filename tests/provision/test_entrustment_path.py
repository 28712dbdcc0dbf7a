"""One path per legal act (issue 13 P1): `mamori provide --basis entrustment` runs the processors handover checks
(running 委託契約 with that outsourcee, passed selection evaluation, fields and purpose within the contract, per
person covered / notified / not stopped; R-25-1, R-27-2, R-21-1, R-35-1) and writes the handover log as well as
the provision record; `--basis succession` refuses persons not notified or stopped (R-21-1, R-35-1); a handover
to a foreign outsourcee outside the EU/UK also writes provision records (R-28-1, R-29-1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select

from mamori.consent import service as consent_service
from mamori.kernel import registry
from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.runtime import Runtime, open_runtime
from mamori.kernel.settings import get_settings
from mamori.processors import service as processors_service
from mamori.processors.models import ProcessorHandover, ProcessorHandoverSubject
from mamori.processors.schemas import CustomersIn, EvaluationIn
from mamori.provision import service as provision_service
from mamori.provision.models import ProvisionRecord
from mamori.staff import service as staff_service
from tests.factories import make_customer
from tests.processors.conftest import all_meet, contract_data
from tests.provision.conftest import add_cp, add_sheet, consent
from tests.provision.test_cli import cli, j  # noqa: F401  (the `cli` fixture: init + demo)

PO = ("--as", "hoshino")
FIELDS = ["name", "emails", "address"]


@contextmanager
def store() -> Iterator[tuple[Runtime, Actor]]:
    """The CLI's store, opened beside it for setting up the contract and checking what was written."""
    rt = open_runtime(get_settings())
    try:
        with rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
            po = staff_service.actor_for(s, "hoshino")
        yield rt, po
    finally:
        rt.close()


@dataclass
class Setup:
    cp: str
    contract: str | None
    notified: str  # covered, notified of "contract"
    not_notified: str  # covered, notified of marketing-email only
    stopped: str  # covered, notified, use stopped (R-35-1)
    uncovered: str  # notified, not covered by the contract


def setup(
    *,
    country: str = "JP",
    contract: bool = True,
    activate: bool = True,
    purposes: tuple[str, ...] = ("contract",),
    **cp_extra: object,
) -> Setup:
    with store() as (rt, po):
        cp = add_cp(rt, po, kind="outsourcee", country=country, name="架空発送代行株式会社", **cp_extra)
        ids = [
            make_customer(rt, po, name=f"委託 {i}郎", email=f"entrust{i}@example.jp", purposes=p)
            for i, p in enumerate((("contract",), ("marketing-email",), ("contract",), ("contract",)))
        ]
        notified, not_notified, stopped, uncovered = ids
        with rt.transaction(po) as ctx:
            consent_service.suppress(ctx, stopped, "purpose", "contract", "req-stop-1")
        contract_id = None
        if contract:
            with rt.transaction(po) as ctx:
                c = processors_service.add_contract(
                    ctx,
                    contract_data(
                        cp,
                        purposes=list(purposes),
                        fields=FIELDS,
                        starts_on=date(2026, 1, 1),
                        ends_on=date(2099, 12, 31),
                    ),
                )
                processors_service.evaluate(ctx, c.id, all_meet())
                if activate:
                    processors_service.activate(ctx, c.id)
                processors_service.assign_customers(
                    ctx, c.id, CustomersIn(customer_ids=[notified, not_notified, stopped])
                )
                contract_id = c.id
    return Setup(cp, contract_id, notified, not_notified, stopped, uncovered)


def provide(
    run,
    s: Setup,
    *ids: str,
    fields: tuple[str, ...] = ("name", "email"),
    purpose: str = "contract",
    extra: tuple[str, ...] = (),
):
    args = [*PO, "provide", "--to", s.cp, "-p", purpose, "--basis", "entrustment", *extra]
    for f in fields:
        args += ["-f", f]
    for cid in ids:
        args += ["-c", cid]
    return run(*args, "--json")


def counts(contract: str | None = None) -> tuple[int, int]:
    """(provision records, handover log entries) in the store."""
    with store() as (rt, _po), rt.sessions() as s:
        recs = s.scalar(select(func.count()).select_from(ProvisionRecord)) or 0
        q = select(func.count()).select_from(ProcessorHandover)
        if contract is not None:
            q = q.where(ProcessorHandover.contract_id == contract)
        return recs, s.scalar(q) or 0


def last_line(result) -> str:
    return [ln for ln in result.stderr.splitlines() if ln.strip()][-1]


# -- entrustment through provide ---------------------------------------------------------------------------------


def test_entrustment_without_any_contract_is_refused_R_25_1(cli):  # noqa: F811
    s = setup(contract=False)
    before = counts()
    r = provide(cli, s, s.notified, fields=("name", "email", "address", "birth_date"))
    assert r.exit_code != 0
    assert "R-25-1" in last_line(r) and "no_contract" in last_line(r)
    assert "entrust0@example.jp" not in r.output
    assert counts() == before  # nothing provided, nothing recorded


def test_entrustment_under_a_contract_not_running_is_refused_R_25_1(cli):  # noqa: F811
    s = setup(activate=False)  # a draft: evaluated, never started
    r = provide(cli, s, s.notified)
    assert r.exit_code != 0 and "R-25-1" in last_line(r) and "contract_not_running" in last_line(r)
    assert counts(s.contract) == (counts()[0], 0)


def test_entrustment_after_a_failed_re_evaluation_is_refused_R_25_1(cli):  # noqa: F811
    s = setup()
    assert s.contract is not None
    with store() as (rt, po), rt.transaction(po) as ctx:
        items = dict(all_meet().items)
        items["technical"] = "falls_short"
        processors_service.evaluate(ctx, s.contract, EvaluationIn(items=items, note="再評価で不足"))
    r = provide(cli, s, s.notified)
    assert r.exit_code != 0 and "R-25-1" in last_line(r) and "evaluation_not_passed" in last_line(r)


def test_entrustment_of_a_field_outside_the_contract_is_refused_R_25_1(cli):  # noqa: F811
    s = setup()
    r = provide(cli, s, s.notified, fields=("name", "birth_date"))
    assert r.exit_code != 0 and "R-25-1" in last_line(r) and "field_not_needed" in last_line(r)
    assert counts(s.contract)[1] == 0


def test_entrustment_for_a_purpose_outside_the_contract_is_refused_R_27_2(cli):  # noqa: F811
    s = setup()
    r = provide(cli, s, s.notified, purpose="marketing-email")
    assert r.exit_code != 0 and "R-27-2" in last_line(r) and "purpose_outside_contract" in last_line(r)
    assert counts(s.contract)[1] == 0


def test_entrustment_refuses_uncovered_not_notified_and_stopped_persons_R_25_1_R_21_1_R_35_1(cli):  # noqa: F811
    s = setup()
    r = provide(cli, s, s.notified, s.not_notified, s.stopped, s.uncovered)
    assert r.exit_code != 0
    lines = r.stderr.splitlines()
    assert f"{s.not_notified} [R-21-1] not_notified" in lines
    assert f"{s.stopped} [R-35-1] use_stopped" in lines
    assert f"{s.uncovered} [R-25-1] not_covered" in lines
    assert not any(ln.startswith(s.notified) for ln in lines)
    assert counts(s.contract)[1] == 0  # all or nothing: no handover logged


def test_entrustment_happy_path_writes_handover_log_and_provision_record_R_25_1_R_29_3(cli):  # noqa: F811
    s = setup()
    before_records, _ = counts()
    r = provide(cli, s, s.notified, s.not_notified, extra=("--skip-refused",))
    got = j(r)
    assert got["provided"] == 1 and got["contract_id"] == s.contract and got["handover_id"]
    assert [x["customer_id"] for x in got["rows"]] == [s.notified]
    assert got["rows"][0]["email"] == "entrust0@example.jp"
    assert [(x["customer_id"], x["rule_id"]) for x in got["refused"]] == [(s.not_notified, "R-21-1")]
    with store() as (rt, _po), rt.sessions() as db:
        log = db.get(ProcessorHandover, got["handover_id"])
        assert log is not None and log.contract_id == s.contract and log.method == "provide"
        assert log.customer_count == 1 and log.withheld_count == 1 and list(log.fields) == ["name", "email"]
        subjects = list(
            db.scalars(
                select(ProcessorHandoverSubject.customer_id).where(
                    ProcessorHandoverSubject.handover_id == log.id
                )
            )
        )
        assert subjects == [s.notified]
        rec = db.scalars(
            select(ProvisionRecord).where(ProvisionRecord.provision_id == got["provision_id"])
        ).one()
        assert rec.customer_id == s.notified and rec.exempt_code == "27-5-1"
    assert counts()[0] == before_records + 1
    # the processors view of the contract lists the handover too
    log_cli = j(cli(*PO, "processors", "handovers", s.contract or "", "--json"))
    assert [h["id"] for h in log_cli] == [got["handover_id"]]


def test_entrustment_without_the_processors_gate_is_refused_R_25_1(cli, monkeypatch):  # noqa: F811
    s = setup()
    monkeypatch.setattr(registry, "_entrustment_gates", [])
    r = provide(cli, s, s.notified)
    assert r.exit_code != 0 and "R-25-1" in last_line(r) and "entrustment_unavailable" in last_line(r)


def test_entrustment_by_other_roles_is_refused(cli):  # noqa: F811
    s = setup()
    for who in ("sato", "takahashi", "ito"):
        args = ["--as", who, "provide", "--to", s.cp, "-p", "contract", "--basis", "entrustment"]
        r = cli(*args, "-f", "name", "-c", s.notified)
        assert r.exit_code != 0 and "R-23-2" in last_line(r)
    assert counts(s.contract)[1] == 0


def test_entrustment_with_bad_input_is_refused(cli):  # noqa: F811
    s = setup()
    r = cli(
        *PO, "provide", "--to", s.cp, "-p", "contract", "--basis", "entrust", "-f", "name", "-c", s.notified
    )
    assert r.exit_code != 0
    r = provide(cli, s, s.notified, fields=("password",))
    assert r.exit_code != 0 and "unknown_field" in last_line(r)


# -- succession ------------------------------------------------------------------------------------------------


def test_succession_refuses_not_notified_and_stopped_persons_R_21_1_R_35_1(cli):  # noqa: F811
    s = setup(contract=False)
    with store() as (rt, po):
        heir = add_cp(rt, po, kind="succession", name="架空承継株式会社")
    args = [
        *PO,
        "provide",
        "--to",
        heir,
        "-p",
        "contract",
        "--basis",
        "succession",
        "-f",
        "name",
        "-f",
        "email",
    ]
    r = cli(*args, "-c", s.notified, "-c", s.not_notified, "-c", s.stopped)
    assert r.exit_code != 0
    lines = r.stderr.splitlines()
    assert f"{s.not_notified} [R-21-1] not_notified" in lines
    assert f"{s.stopped} [R-35-1] use_stopped" in lines
    got = j(cli(*args, "-c", s.notified, "-c", s.not_notified, "-c", s.stopped, "--skip-refused", "--json"))
    assert got["provided"] == 1 and [x["customer_id"] for x in got["rows"]] == [s.notified]
    with store() as (rt, _po), rt.sessions() as db:
        rec = db.scalars(
            select(ProvisionRecord).where(ProvisionRecord.provision_id == got["provision_id"])
        ).one()
        assert rec.exempt_code == "27-5-2" and rec.customer_id == s.notified


# -- processors handover abroad --------------------------------------------------------------------------------


def test_handover_to_a_us_outsourcee_writes_provision_records_R_28_1_R_29_1(cli, tmp_path):  # noqa: F811
    s = setup(country="US", system_kind="contract")  # a 基準適合体制 is the R-28-1 basis
    before, _ = counts()
    rec = j(cli(*PO, "processors", "handover", s.contract or "", "--out", str(tmp_path / "h.csv"), "--json"))
    assert rec["customer_count"] == 1  # the notified one; not notified / stopped withheld
    with store() as (rt, _po), rt.sessions() as db:
        recs = list(db.scalars(select(ProvisionRecord).where(ProvisionRecord.counterparty_id == s.cp)))
    assert [(r.customer_id, r.kind, r.exempt_code, r.purpose) for r in recs] == [
        (s.notified, "entrustment", None, "contract")
    ]
    assert counts()[0] == before + 1
    listed = j(cli(*PO, "provision", "records", "list", "--customer", s.notified, "--json"))
    assert [x["kind"] for x in listed] == ["entrustment"]


def test_handover_to_an_eu_outsourcee_needs_no_provision_record_R_28_1(cli, tmp_path):  # noqa: F811
    s = setup(country="DE")
    before, _ = counts()
    rec = j(cli(*PO, "processors", "handover", s.contract or "", "--out", str(tmp_path / "h.csv"), "--json"))
    assert rec["customer_count"] == 1
    assert counts()[0] == before


# -- the API ---------------------------------------------------------------------------------------------------

API = "/api/v1"


def _api_world(api) -> tuple[str, str, str, str]:
    from tests.processors.conftest import running_contract
    from tests.provision.test_api import _actor

    po = _actor(api, "po")
    cp = add_cp(api.rt, po, kind="outsourcee", name="架空発送代行株式会社")
    a = make_customer(api.rt, po, email="a@example.jp", purposes=("contract",))
    b = make_customer(api.rt, po, email="b@example.jp", purposes=("marketing-email",))
    contract = running_contract(api.rt, po, cp, fields=FIELDS)
    with api.rt.transaction(po) as ctx:
        processors_service.assign_customers(ctx, contract, CustomersIn(customer_ids=[a, b]))
    return cp, contract, a, b


@pytest.fixture
def api(runtime):
    from tests.api.conftest import Api

    return Api(runtime)


def test_entrustment_through_the_api_runs_the_processors_checks_R_25_1_R_27_2(api):
    cp, contract, a, b = _api_world(api)
    po, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    body = {"counterparty_id": cp, "purpose": "contract", "fields": ["name", "email"], "basis": "entrustment"}
    r = po.post(f"{API}/provisions", json={**body, "customer_ids": [a, b]}, headers=h)
    assert r.status_code == 403 and r.json()["rule_id"] == "R-21-1"
    assert f"{b} [R-21-1]" in r.json()["detail"]
    r = po.post(f"{API}/provisions", json={**body, "customer_ids": [a], "fields": ["birth_date"]}, headers=h)
    assert r.status_code == 403 and r.json()["rule_id"] == "R-25-1" and r.json()["code"] == "field_not_needed"
    r = po.post(
        f"{API}/provisions", json={**body, "customer_ids": [a], "purpose": "marketing-email"}, headers=h
    )
    assert r.status_code == 403 and r.json()["rule_id"] == "R-27-2"
    r = po.post(f"{API}/provisions", json={**body, "customer_ids": [a]}, headers=h)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["contract_id"] == contract and got["handover_id"] and got["provided"] == 1
    log = po.get(f"{API}/processors/contracts/{contract}/handovers").json()
    assert [x["id"] for x in log] == [got["handover_id"]]
    recs = po.get(f"{API}/provision-records", params={"customer_id": a}).json()
    assert [x["exempt_code"] for x in recs] == ["27-5-1"]
    assert "a@example.jp" not in json.dumps(log)
    sato, tok = api.client("sato")
    r = sato.post(f"{API}/provisions", json={**body, "customer_ids": [a]}, headers={"X-CSRF-Token": tok})
    assert r.status_code == 403


def test_foreign_handover_through_the_service_records_each_person_R_29_1(runtime):
    """The processors service path (no CLI): a US outsourcee under a valid 基準適合体制 gets records, each
    naming the handover; the person's disclosure lists both the handover and the provision record."""
    from tests.factories import seed_basics
    from tests.processors.conftest import running_contract

    actors = seed_basics(runtime)
    po = actors["po"]
    cp = add_cp(runtime, po, kind="outsourcee", country="US", name="Fictional Mailing Inc.")
    v = add_sheet(runtime, po, cp)
    a = make_customer(runtime, po, email="a@example.jp", purposes=("contract",))
    consent(runtime, po, a, cp, sheet=v)  # the R-28-1 basis: foreign consent with the current sheet
    contract = running_contract(runtime, po, cp, fields=FIELDS)
    with runtime.transaction(po) as ctx:
        processors_service.assign_customers(ctx, contract, CustomersIn(customer_ids=[a]))
        from mamori.processors.schemas import HandoverIn

        got = processors_service.handover(ctx, contract, HandoverIn(fields=["name"]))
    with runtime.sessions() as db:
        recs = list(db.scalars(select(ProvisionRecord).where(ProvisionRecord.counterparty_id == cp)))
    assert [(r.customer_id, r.kind) for r in recs] == [(a, "entrustment")]
    assert got.record.id in (recs[0].consent_fact or "")
    with runtime.transaction(po) as ctx:  # R-29-2: the record says whose data it was
        shown = provision_service.show_record(ctx, recs[0].id)
    assert shown.subject == {"name": "山田 太郎"} and shown.items == ["name"] and shown.exempt_code is None
