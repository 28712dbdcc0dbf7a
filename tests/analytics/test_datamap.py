"""The data map (issue 24, item 5): the stores (the registered subject data sources and the inventory's storage
locations), and the flows drawn from the registries — collection, provision with its basis, entrustment,
sub-entrustment, joint use, storage by a provider — with a cross-border transfer created here shown with its
country and its safeguard. Only the privacy officer and the administrator may see it (R-23-2). Synthetic data
only: organisations are fictitious companies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from mamori.analytics.kpi_schemas import DataMap
from mamori.analytics.service import datamap as datamap_service
from mamori.inventory import service as inventory_service
from mamori.inventory.schemas import LocationIn
from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.db import new_id
from mamori.kernel.errors import PolicyDenied
from mamori.kernel.policy import Category
from mamori.kernel.runtime import Runtime
from mamori.kernel.settings import reset_settings_cache
from mamori.processors.models import ProcessorContract, ProcessorSubcontract
from mamori.provision.models import Counterparty, JointUseDeclaration, Provision
from tests.analytics.test_kpi import cli_app, mounted_api
from tests.factories import make_customer, point_env_at, seed_basics


def counterparty(rt: Runtime, kind: str, name: str, country: str) -> str:
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        now = ctx.clock.now()
        cp = Counterparty(
            id=new_id(),
            kind=kind,
            name=name,
            address="架空の所在地 1-1",
            representative="代表者",
            country=country,
            created_at=now,
            created_by="test",
            updated_at=now,
        )
        ctx.session.add(cp)
        return cp.id


def draw(rt: Runtime, actor: Actor) -> DataMap:
    with rt.transaction(actor, readonly=True) as ctx:
        return datamap_service.data_map(ctx)


@pytest.fixture
def world(runtime: Runtime) -> dict[str, Any]:
    actors = seed_basics(runtime)
    make_customer(runtime, actors["sato"])
    rt = runtime
    partner = counterparty(rt, "third_party", "Fictional Partners Inc.", "US")
    courier = counterparty(rt, "outsourcee", "架空配送株式会社", "JP")
    group = counterparty(rt, "joint_user", "架空グループ販売株式会社", "JP")
    cloud = counterparty(rt, "outsourcee", "Fictional Cloud Pte. Ltd.", "SG")
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        now = ctx.clock.now()
        for n, at in ((3, now - timedelta(days=20)), (2, now - timedelta(days=2))):
            ctx.session.add(
                Provision(
                    id=new_id(),
                    counterparty_id=partner,
                    purpose="partner-sharing",
                    basis="consent",
                    fields="name,emails",
                    out_format="csv",
                    person_count=n,
                    provided_at=at,
                    provided_by="test",
                )
            )
        contract = ProcessorContract(
            id=new_id(),
            counterparty_id=courier,
            work="商品の配送",
            purposes=["contract"],
            fields=["name", "address", "phones"],
            clauses=[],
            starts_on=now.date(),
            ends_on=now.date() + timedelta(days=365),
            status="active",
            created_at=now,
            created_by="test",
        )
        ctx.session.add(contract)
        ctx.session.flush()
        sub = ProcessorSubcontract(
            id=new_id(),
            contract_id=contract.id,
            subcontractor="Fictional Logistics Vietnam Co.",
            country="VN",
            work="倉庫の運営",
            methods="アクセス制御",
            status="approved",
            requested_at=now,
            requested_by="test",
        )
        ctx.session.add(sub)
        ctx.session.add(
            JointUseDeclaration(
                id=new_id(),
                code="group-sales",
                items="name,emails",
                member_ids=group,
                users_scope="当社グループ",
                purposes="contract",
                responsible_name="架空商事株式会社",
                responsible_address="東京都千代田区1-1",
                responsible_representative="代表取締役",
                notified_at=now,
                effective_from=now,
                created_at=now,
                created_by="test",
            )
        )
    with rt.transaction(actors["po"]) as ctx:
        inventory_service.add_location(
            ctx,
            LocationIn(
                code="sg-cloud",
                name="クラウドの顧客データベース（シンガポール）",
                kind="cloud",
                operator="Fictional Cloud Pte. Ltd.",
                country="SG",
                handles_data=True,
                counterparty_id=cloud,
                categories=[Category.IDENTIFIER, Category.CONTACT],
                foreign_note="シンガポールの個人データ保護法（PDPA）を確認した。",
            ),
        )
    return {
        "actors": actors,
        "partner": partner,
        "courier": courier,
        "group": group,
        "cloud": cloud,
        "sub": sub.id,
    }


def flows_to(m: DataMap, node: str) -> list[Any]:
    return [f for f in m.flows if f.to == node]


def test_a_cross_border_provision_shows_its_country_basis_and_safeguard(runtime: Runtime, world: Any) -> None:
    m = draw(runtime, world["actors"]["po"])
    (flow,) = flows_to(m, f"counterparty:{world['partner']}")
    assert flow.from_ == "self" and flow.basis == "consent" and flow.cross_border == "US"
    assert flow.items == ["emails", "name"] and flow.categories == ["contact", "identifier"]
    assert flow.purposes == ["partner-sharing"] and flow.count == 5  # 3 + 2 people provided
    assert flow.basis_ja and flow.basis_en and flow.rule_ids == ["R-27-1"]
    assert (
        flow.safeguard_ja and "同意" in flow.safeguard_ja and flow.safeguard_en
    )  # R-28-1: per-person consent
    node = next(n for n in m.nodes if n.id == f"counterparty:{world['partner']}")
    assert (node.kind, node.name, node.country) == ("third_party", "Fictional Partners Inc.", "US")


def test_entrustment_sub_entrustment_joint_use_and_storage(runtime: Runtime, world: Any) -> None:
    m = draw(runtime, world["actors"]["admin"])
    (courier,) = flows_to(m, f"counterparty:{world['courier']}")
    assert courier.basis == "entrustment" and courier.cross_border is None
    assert courier.items == ["name", "address", "phones"] and courier.categories == ["contact", "identifier"]
    (sub,) = flows_to(m, f"subcontract:{world['sub']}")
    assert sub.from_ == f"counterparty:{world['courier']}" and sub.basis == "sub_entrustment"
    assert sub.cross_border == "VN"
    (joint,) = flows_to(m, f"counterparty:{world['group']}")
    assert joint.basis == "joint_use" and joint.purposes == ["contract"]
    (cloud,) = flows_to(m, f"counterparty:{world['cloud']}")
    assert cloud.basis == "storage" and cloud.cross_border == "SG"
    assert sorted({f.cross_border for f in m.flows if f.cross_border}) == ["SG", "US", "VN"]
    assert any("SG, US, VN" in n.ja for n in m.notes)


def test_stores_from_the_registry_and_the_inventory(runtime: Runtime, world: Any) -> None:
    m = draw(runtime, world["actors"]["po"])
    stores = {s.id: s for s in m.stores}
    customers = stores["source:customers"]
    assert {"customers", "activities", "provenance", "contact_points"} <= set(customers.tables)
    assert {"identifier", "contact", "attribute", "behaviour"} <= set(customers.categories)
    assert {"source:consent", "source:provision"} <= set(stores)  # what the slices registered
    assert stores["source:consent"].tables == ["consent_events"]
    location = stores["location:sg-cloud"]
    assert (location.kind, location.country, location.handles_data) == ("location", "SG", True)
    (collection,) = [f for f in m.flows if f.basis == "collection"]
    assert (collection.from_, collection.to, collection.count) == ("person", "store:source:customers", 1)
    assert "name" in collection.items
    assert {p.code for p in m.purposes} >= {"contract", "partner-sharing"}
    entry = runtime.audit.search(action="analytics.datamap", limit=1)[0]
    assert entry.details["cross_border"] == 3 and entry.details["flows"] == len(m.flows)


def test_the_json_names_the_flows_ends_from_and_to(runtime: Runtime, world: Any) -> None:
    dumped = json.loads(draw(runtime, world["actors"]["po"]).model_dump_json())
    assert all("from" in f and "to" in f and "from_" not in f for f in dumped["flows"])


@pytest.mark.parametrize("who", ["sato", "support", "analyst"])
def test_other_roles_are_refused(runtime: Runtime, world: Any, who: str) -> None:
    with pytest.raises(PolicyDenied) as refused:
        draw(runtime, world["actors"][who])
    assert refused.value.rule_id == "R-23-2"
    assert runtime.audit.search(action="analytics.datamap", limit=1) == []


# -- CLI and API ------------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(runtime: Runtime, world: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    point_env_at(monkeypatch, runtime.settings)
    runner = CliRunner()
    app = cli_app()

    def invoke(user: str, *args: str) -> Any:
        return runner.invoke(app, ["--as", user, "analytics", "datamap", *args])

    yield invoke
    reset_settings_cache()


def test_cli_datamap(cli: Any) -> None:
    r = cli("po", "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert any(f["cross_border"] == "US" and f["from"] == "self" for f in got["flows"])
    r = cli("admin")
    assert r.exit_code == 0 and "保管場所" in r.stdout and "US" in r.stdout
    for who in ("sato", "support", "analyst"):
        r = cli(who)
        assert r.exit_code == PolicyDenied.exit_code and "R-23-2" in r.stderr


def test_api_datamap(runtime: Runtime) -> None:
    api = mounted_api(runtime)
    partner = counterparty(runtime, "third_party", "Fictional Partners Inc.", "US")
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.add(
            Provision(
                id=new_id(),
                counterparty_id=partner,
                purpose="partner-sharing",
                basis="consent",
                fields="name",
                out_format="csv",
                person_count=1,
                provided_at=ctx.clock.now(),
                provided_by="test",
            )
        )
    admin, _ = api.client("admin")
    r = admin.get("/api/v1/analytics/datamap")
    assert r.status_code == 200, r.text
    assert [
        f["cross_border"] for f in r.json()["flows"] if f["from"] == "self" and f["basis"] == "consent"
    ] == ["US"]
    for who in ("sato", "support", "analyst"):
        c, _ = api.client(who)
        r = c.get("/api/v1/analytics/datamap")
        assert r.status_code == 403 and r.json()["rule_id"] == "R-23-2"
