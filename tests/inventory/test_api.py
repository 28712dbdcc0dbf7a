"""/api/v1/inventory: storage locations with their rules (R-23-7, R-28-4), the role matrix with no side effects,
bad input, the data dictionary (G-6) and the generated ROPA and countries (G-30)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mamori.customers.schemas import AttributeIn
from mamori.inventory.models import DataItem, StorageLocation
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.policy import Category
from mamori.processors import service as processors_service
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.processors.conftest import add_counterparty, contract_data

P = "/api/v1/inventory"
ROLES = ["admin", "po", "sato", "suzuki", "support", "analyst"]


@pytest.fixture
def api(runtime):
    return Api(runtime)


def _actor(api, username):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
        return staff_service.actor_for(s, username)


def _count(rt, model) -> int:
    with rt.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _location(code: str, **extra):
    return {"code": code, "name": "保管場所", "kind": "cloud", "operator": "Example Cloud Inc.", **extra}


def test_api_locations_refuse_foreign_without_note_and_handling_without_link_R_23_7_R_28_4(api):
    client, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    r = client.post(f"{P}/locations", json=_location("us-saas", country="US"), headers=h)
    assert r.status_code == 422 and r.json()["rule_id"] == "R-23-7"
    assert r.json()["code"] == "foreign_understanding_missing"
    r = client.post(f"{P}/locations", json=_location("jp-saas", handles_data=True), headers=h)
    assert r.status_code == 422 and r.json()["rule_id"] == "R-28-4"
    assert _count(api.rt, StorageLocation) == 0

    r = client.post(f"{P}/locations", json=_location("jp-saas", region="東京"), headers=h)
    assert r.status_code == 201 and r.json()["country"] == "JP"
    r = client.patch(f"{P}/locations/jp-saas", json={"country": "US"}, headers=h)
    assert r.status_code == 422 and r.json()["rule_id"] == "R-23-7"
    r = client.patch(f"{P}/locations/jp-saas", json={"handles_data": True}, headers=h)
    assert r.status_code == 422 and r.json()["rule_id"] == "R-28-4"
    assert client.get(f"{P}/locations/jp-saas").json()["country"] == "JP"
    r = client.patch(
        f"{P}/locations/jp-saas",
        json={"country": "US", "foreign_note": "州法と分野別の法律（架空）"},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["foreign"]
    cp = add_counterparty(api.rt, _actor(api, "po"), kind="third_party", country="US")
    r = client.patch(f"{P}/locations/jp-saas", json={"handles_data": True, "counterparty_id": cp}, headers=h)
    assert r.status_code == 200 and r.json()["counterparty_kind"] == "third_party"
    r = client.post(f"{P}/locations/jp-saas/retire", headers=h)
    assert r.status_code == 200 and r.json()["retired"]
    assert client.get(f"{P}/locations", params={"active": "true"}).json() == []


def test_api_bad_input_is_422_without_echo(api):
    client, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    secret = "ZZ-not-a-kind-ZZ"
    r = client.post(f"{P}/locations", json=_location("x1", kind=secret), headers=h)
    assert r.status_code == 422 and secret not in r.text
    r = client.post(f"{P}/locations", json=_location("x1", country="Japan"), headers=h)
    assert r.status_code == 422 and "Japan" not in r.text
    r = client.post(f"{P}/locations", json=_location("x1", purposes=["no-such-purpose"]), headers=h)
    assert r.status_code == 404 and r.json()["code"] == "purpose_unknown"
    r = client.put(f"{P}/items/Bad Key", json={"appi_category": "identifier"}, headers=h)
    assert r.status_code in (404, 422)
    r = client.put(f"{P}/items/attr:x", json={"appi_category": "sensitive"}, headers=h)
    assert r.status_code == 422 and r.json()["rule_id"] == "R-2.3-1"
    r = client.get(f"{P}/ropa", params={"format": "xml"})
    assert r.status_code == 422
    assert _count(api.rt, StorageLocation) == 0 and _count(api.rt, DataItem) == 0


# endpoint → roles allowed (others 403, nothing written)
MATRIX = {
    "list": {"admin", "po"},
    "add": {"admin", "po"},
    "tag": {"po"},
    "ropa": {"admin", "po"},
    "countries": {"admin", "po"},
    "items": {"admin", "po"},
}


@pytest.mark.parametrize("role", ROLES)
def test_api_inventory_role_matrix_R_23_2(api, role):
    client, csrf = api.client(role)
    h = {"X-CSRF-Token": csrf}
    failures = []
    for endpoint, allowed in MATRIX.items():
        before = (_count(api.rt, StorageLocation), _count(api.rt, DataItem))
        if endpoint == "list":
            r = client.get(f"{P}/locations")
        elif endpoint == "add":
            r = client.post(f"{P}/locations", json=_location(f"loc-{role}"), headers=h)
        elif endpoint == "tag":
            r = client.put(f"{P}/items/attr:hobby", json={"appi_category": "attribute"}, headers=h)
        else:
            r = client.get(f"{P}/{endpoint}")
        want = (201 if endpoint == "add" else 200) if role in allowed else 403
        if r.status_code != want:
            failures.append((endpoint, r.status_code, want))
        if want == 403:
            if r.json().get("rule_id") != "R-23-2":
                failures.append((endpoint, "rule", r.json().get("rule_id")))
            if (_count(api.rt, StorageLocation), _count(api.rt, DataItem)) != before:
                failures.append((endpoint, "side effect"))
    assert failures == []
    anonymous, _ = api.client(None)
    assert anonymous.get(f"{P}/ropa").status_code == 401


def test_api_ropa_and_countries_are_generated_from_the_registries_G_30_G_6(api):
    po = _actor(api, "po")
    make_customer(
        api.rt,
        _actor(api, "sato"),
        purposes=("contract",),
        attributes=[AttributeIn(key="hobby", value="釣り", category=Category.ATTRIBUTE)],
    )
    outsourcee = add_counterparty(api.rt, po, country="IE")
    with api.rt.transaction(po) as ctx:
        contract = processors_service.add_contract(ctx, contract_data(outsourcee)).id
    client, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    r = client.post(
        f"{P}/locations",
        json=_location(
            "sg-crm",
            country="SG",
            region="ap-southeast-1",
            foreign_note="PDPA（架空の説明）",
            purposes=["contract"],
        ),
        headers=h,
    )
    assert r.status_code == 201, r.text
    callcenter = add_counterparty(api.rt, po)
    r = client.post(
        f"{P}/locations",
        json=_location(
            "callcenter-system",
            kind="outsourcee_system",
            handles_data=True,
            counterparty_id=callcenter,
            purposes=["contract"],
        ),
        headers=h,
    )
    assert r.status_code == 201, r.text

    items = {i["key"]: i for i in client.get(f"{P}/items").json()}
    assert items["attr:hobby"]["in_use"] and items["attr:hobby"]["source"] == "attribute"
    assert not items["attr:hobby"]["reviewed"]
    r = client.put(
        f"{P}/items/attr:hobby", json={"appi_category": "attribute", "description": "趣味"}, headers=h
    )
    assert r.status_code == 200 and r.json()["reviewed"]
    r = client.put(
        f"{P}/items/attr:record",
        json={
            "appi_category": "sensitive",
            "sensitive_kind": "criminal_procedure",
            "gdpr_article9": "health",
        },
        headers=h,
    )
    assert r.status_code == 422 and r.json()["rule_id"] == "G-6"

    record = client.get(f"{P}/ropa").json()
    acts = {a["purpose"]: a for a in record["activities"]}
    assert set(acts) >= {"contract", "marketing-email", "partner-sharing"}
    contract_act = acts["contract"]
    outs = [x for x in contract_act["recipients"] if x["kind"] == "outsourcee"]
    assert [(x["counterparty_id"], x["country"]) for x in outs] == [(outsourcee, "IE"), (callcenter, "JP")]
    assert contract in outs[0]["detail"] and "adequacy" in outs[0]["safeguard"]
    assert "callcenter-system" in outs[1]["detail"]  # R-28-4: the provider handling the data is a recipient
    assert [(s["code"], s["country"]) for s in contract_act["storage"]] == [
        ("callcenter-system", "JP"),
        ("sg-crm", "SG"),
    ]
    assert all(x["counterparty_id"] != callcenter for x in acts["marketing-email"]["recipients"])
    assert "attr:hobby" in contract_act["data_items"]
    assert contract_act["retention"] == "未設定 / not set"
    assert (
        acts["marketing-email"]["lawful_basis"].startswith("consent")
        or "GDPR" in acts["marketing-email"]["lawful_basis"]
    )
    assert any(
        "third-party provision stated" in n for n in record["notes"]
    )  # partner-sharing: no recipient yet
    csv_text = client.get(f"{P}/ropa", params={"format": "csv"})
    assert csv_text.status_code == 200 and csv_text.headers["content-type"].startswith("text/csv")
    assert "IE" in csv_text.text

    countries = {c["country"]: c for c in client.get(f"{P}/countries").json()}
    assert set(countries) == {"IE", "SG"}
    assert countries["IE"]["equivalent_country"] and countries["IE"]["entries"][0]["ref"] == outsourcee
    assert countries["SG"]["entries"][0]["understanding"] == "PDPA（架空の説明）"
    md = client.get(f"{P}/countries", params={"format": "md"})
    assert md.status_code == 200 and "## SG" in md.text
