"""要配慮 wherever it is written (issue 13 P3, R-20-2, R-2.3-1): attribute values and free-text fields are scanned
like notes; a 要配慮 value is stored only tagged sensitive and only with a consent line in the ledger (or a recorded
exception), and it is masked for a purpose that does not cover it — through the CLI (CliRunner) and the API."""

from __future__ import annotations

import json

import pytest

from mamori.customers import service
from mamori.customers.schemas import AttributeIn, CustomerUpdate
from mamori.kernel.errors import PolicyDenied
from mamori.kernel.policy import Category
from tests.api.conftest import Api
from tests.factories import demo_cli, make_customer

PO = ("--as", "hoshino")
API = "/api/v1"
DIABETES = "糖尿病で通院中"


@pytest.fixture
def cli(tmp_path, monkeypatch):
    for run in demo_cli(tmp_path, monkeypatch, customers=2):
        r = run(
            *PO,
            "purposes",
            "add",
            "health",
            "--title-ja",
            "健康相談",
            "--title-en",
            "Health counselling",
            "--text-ja",
            "健康相談サービスの提供のため、ご同意の上で氏名・連絡先と既往歴などの要配慮個人情報を利用します。",
            "--text-en",
            "Health counselling with consent, using your name, contact details and medical history.",
            "--categories",
            "identifier,contact,sensitive",
        )
        assert r.exit_code == 0, r.output
        yield run


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(result, rule_id: str, code: str) -> None:
    assert result.exit_code != 0, result.output
    assert rule_id in result.output and code in result.output, result.output
    assert DIABETES not in result.output  # never the value in an error


def listed(cli) -> int:
    return len(j(cli(*PO, "customers", "list", "-p", "contract", "--limit", "500", "--json"))["items"])


ADD = (
    "customers",
    "add",
    "--name",
    "要配慮 花子",
    "--email",
    "hanako@example.jp",
    "-p",
    "contract",
    "-p",
    "health",
)


def test_cli_sensitive_value_as_an_ordinary_attribute_is_refused_R_20_2(cli):
    before = listed(cli)
    refused(cli(*PO, *ADD, "--attr", f"memo={DIABETES}"), "R-20-2", "sensitive_untagged")
    refused(cli(*PO, *ADD, "--occupation", DIABETES), "R-20-2", "sensitive_in_free_text")
    assert listed(cli) == before


def test_cli_sensitive_basis_consent_without_a_ledger_line_is_refused_R_20_2(cli):
    before = listed(cli)
    refused(
        cli(*PO, *ADD, "--attr", f"memo={DIABETES}:sensitive", "--sensitive-basis", "consent"),
        "R-20-2",
        "sensitive_consent_not_in_ledger",
    )
    refused(cli(*PO, *ADD, "--attr", f"memo={DIABETES}:sensitive"), "R-20-2", "sensitive_consent_missing")
    assert listed(cli) == before


def test_cli_sensitive_value_with_consent_is_stored_as_sensitive_and_masked_outside_its_purpose_R_20_2(cli):
    cid = j(
        cli(
            *PO,
            *ADD,
            "--attr",
            f"memo={DIABETES}:sensitive",
            "--sensitive-consent",
            "paper",
            "--sensitive-consent-evidence",
            "同意書 No.7",
            "--json",
        )  # fmt: skip
    )["id"]
    consent = j(cli(*PO, "consent", "show", cid, "--json"))
    assert consent["sensitive"] == "granted"
    health = j(cli(*PO, "customers", "show", cid, "-p", "health", "--json"))
    assert [(a["key"], a["category"], a["value"]) for a in health["attributes"]] == [
        ("memo", "sensitive", DIABETES)
    ]
    contract = j(cli(*PO, "customers", "show", cid, "-p", "contract", "--json"))
    assert contract["attributes"][0]["value"] is None and "attr:memo" in contract["masked"]


def test_cli_update_with_sensitive_free_text_is_refused_R_20_2(cli):
    cid = j(cli(*PO, *ADD, "--json"))["id"]
    refused(cli(*PO, "customers", "update", cid, "-p", "contract", "--employer", DIABETES), "R-20-2",
            "sensitive_in_free_text")  # fmt: skip
    assert j(cli(*PO, "customers", "show", cid, "-p", "contract", "--json"))["employer"] is None


def test_cli_attr_on_an_existing_person_needs_the_tag_and_the_consent_first_R_20_2(cli):
    cid = j(cli(*PO, *ADD, "--json"))["id"]
    attr = ("customers", "attr", cid, "-p", "health", "--key", "memo", "--value", DIABETES)
    refused(cli(*PO, *attr), "R-20-2", "sensitive_untagged")
    refused(cli(*PO, *attr, "--category", "sensitive"), "R-20-2", "sensitive_consent_missing")
    assert cli(*PO, "consent", "grant", cid, "--sensitive", "--method", "paper").exit_code == 0
    assert j(cli(*PO, *attr, "--category", "sensitive", "--json"))["category"] == "sensitive"
    shown = j(cli(*PO, "customers", "show", cid, "-p", "health", "--json"))
    assert [(a["key"], a["value"]) for a in shown["attributes"]] == [("memo", DIABETES)]


def test_service_add_attribute_refuses_an_untagged_sensitive_value_R_20_2(runtime, actors):
    cid = make_customer(runtime, actors["po"], purposes=("contract", "health-service"))
    with runtime.transaction(actors["po"], "contract") as ctx, pytest.raises(PolicyDenied) as exc:
        service.add_attribute(ctx, cid, AttributeIn(key="memo", value=DIABETES))
    assert exc.value.rule_id == "R-20-2" and exc.value.code == "sensitive_untagged"
    with runtime.transaction(actors["po"], "contract") as ctx, pytest.raises(PolicyDenied):
        service.update(ctx, cid, CustomerUpdate(occupation="前科あり"))
    with runtime.transaction(actors["po"], "health-service") as ctx, pytest.raises(PolicyDenied) as exc:
        service.add_attribute(ctx, cid, AttributeIn(key="memo", value=DIABETES, category=Category.SENSITIVE))
    assert exc.value.rule_id == "R-20-2"  # tagged, but no consent in the ledger


@pytest.fixture
def actors(runtime):
    from tests.factories import seed_basics

    return seed_basics(runtime)


# -- the REST API ---------------------------------------------------------------------------------------------


@pytest.fixture
def api(runtime):
    return Api(runtime)


def post(c, csrf, path, body):
    return c.post(f"{API}{path}", json=body, headers={"X-CSRF-Token": csrf})


def test_api_sensitive_value_needs_the_tag_and_a_consent_line_and_is_masked_R_20_2(api):
    po, csrf = api.client("po")
    person = {"name": "要配慮 花子", "emails": ["hanako@example.jp"]}
    body = {
        "purposes": ["contract", "health-service"],
        "provenance": {"method": "direct", "channel": "counter"},
    }
    plain = {**person, "attributes": [{"key": "memo", "value": DIABETES}]}
    r = post(po, csrf, "/customers", {**body, "customer": plain})
    assert (
        r.status_code == 403 and r.json()["rule_id"] == "R-20-2" and r.json()["code"] == "sensitive_untagged"
    )
    tagged = {**person, "attributes": [{"key": "memo", "value": DIABETES, "category": "sensitive"}]}
    r = post(po, csrf, "/customers", {**body, "customer": tagged, "sensitive_basis": "consent"})
    assert r.status_code == 403 and r.json()["code"] == "sensitive_consent_not_in_ledger"
    assert DIABETES not in r.text
    consent = {"method": "checkbox", "evidence": "web-form"}
    r = post(po, csrf, "/customers", {**body, "customer": tagged, "sensitive_consent": consent})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    got = po.get(f"{API}/customers/{cid}", headers={"Mamori-Purpose": "health-service"}).json()
    assert [(a["key"], a["category"], a["value"]) for a in got["attributes"]] == [
        ("memo", "sensitive", DIABETES)
    ]
    got = po.get(f"{API}/customers/{cid}", headers={"Mamori-Purpose": "contract"}).json()
    assert got["attributes"][0]["value"] is None and "attr:memo" in got["masked"]
    plain_cid = post(po, csrf, "/customers", {**body, "customer": person}).json()["id"]
    r = po.post(
        f"{API}/customers/{plain_cid}/attributes",
        json={"key": "memo", "value": DIABETES},
        headers={"X-CSRF-Token": csrf, "Mamori-Purpose": "contract"},
    )
    assert r.status_code == 403 and r.json()["code"] == "sensitive_untagged"
    analyst, a_csrf = api.client("analyst")  # no customer.create: refused
    r = post(analyst, a_csrf, "/customers", {**body, "customer": tagged, "sensitive_consent": consent})
    assert r.status_code == 403
