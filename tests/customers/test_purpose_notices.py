"""Purpose versions compared per person (R-17-2, R-21-1), notices and notice exceptions (R-21-3), and the GDPR
lawful basis of a purpose (G-6) — through `mamori` (CliRunner) and the REST API, as a user would."""

from __future__ import annotations

import json

import pytest

from mamori.consent import service as consent_service
from mamori.consent.schemas import ConsentIn
from mamori.customers import service as customers_service
from mamori.customers.schemas import AttributeIn, CustomerCreate, ProvenanceIn
from mamori.kernel.policy import Category
from tests.api.conftest import Api
from tests.factories import demo_cli

PO = ("--as", "hoshino")
SUPPORT_TEXT = {
    "--title-ja": "お問い合わせへの対応",
    "--title-en": "Answering your inquiries",
    "--text-ja": "お問い合わせ・ご相談に回答し、対応の経緯を記録するために、氏名・連絡先・お問い合わせ履歴・生年月日を利用します。",
    "--text-en": "We use your name, contact details, inquiry history and birth date to answer your inquiries.",
}


@pytest.fixture
def cli(tmp_path, monkeypatch):
    yield from demo_cli(tmp_path, monkeypatch, customers=4)


@pytest.fixture
def api(runtime):
    return Api(runtime)


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(result, rule_id: str, code: str | None = None) -> str:
    assert result.exit_code != 0, result.output
    assert rule_id in result.output, result.output
    if code:
        assert code in result.output, result.output
    return str(result.output)


def opts(d: dict[str, str]) -> list[str]:
    return [x for k, v in d.items() for x in (k, v)]


def revise_support_with_birth_date(cli):
    """A widened revision: the support purpose now also covers the attribute category (birth date …)."""
    return cli(
        *PO,
        "purposes",
        "revise",
        "support",
        *opts(SUPPORT_TEXT),
        "--categories",
        "identifier,contact,behaviour,attribute",
        "--lawful-basis",
        "legitimate_interests",
        "--balancing-ref",
        "LIA-2026-04-support",
    )


def support_ids(cli) -> list[str]:
    return [c["id"] for c in j(cli(*PO, "customers", "list", "-p", "support", "--json"))["items"]]


def show(cli, cid: str, purpose: str, *who: str):
    return j(cli(*(who or PO), "customers", "show", cid, "-p", purpose, "--json"))


# -- R-17-2 / R-21-1: what the person was told -------------------------------------------------------------------


def test_widened_revision_masks_new_fields_until_the_person_is_notified_R_17_2_R_21_1(cli):
    ids = support_ids(cli)
    assert len(ids) == 4
    a = ids[0]
    assert "birth_date" in show(cli, a, "support")["masked"]

    out = revise_support_with_birth_date(cli)
    assert out.exit_code == 0, out.output
    assert "4" in out.stdout and "pending-notice" in out.stdout  # how many persons now need the new notice

    # told only v1: the field v2 added stays masked for this person, and cannot be written
    before = show(cli, a, "support")
    assert "birth_date" in before["masked"] and before["birth_date"] is None
    notice = next(n for n in before["notices"] if n["purpose"] == "support")
    assert notice["version"] == 1 and notice["current_version"] == 2 and notice["pending"] is True
    refused(
        cli(*PO, "customers", "update", a, "-p", "support", "--birth-date", "1990-01-02"),
        "R-17-2",
        "purpose_version_not_notified",
    )

    done = j(
        cli(*PO, "customers", "notify", "--purpose", "support", "--method", "notified", "-c", a, "--json")
    )
    assert done["recorded"] == [a] and done["version"] == 2
    after = show(cli, a, "support")
    assert "birth_date" not in after["masked"] and after["birth_date"]
    assert "birth_date" in show(cli, ids[1], "support")["masked"]  # the others still on v1
    assert j(cli(*PO, "customers", "update", a, "-p", "support", "--birth-date", "1990-01-02", "--json"))

    # notifying again changes nothing
    again = j(cli(*PO, "customers", "notify", "-p", "support", "--method", "notified", "-c", a, "--json"))
    assert again["recorded"] == [] and again["already_current"] == [a]


def test_pending_notice_lists_exactly_the_persons_still_on_the_old_version_R_17_2(cli):
    ids = support_ids(cli)
    assert j(cli(*PO, "customers", "pending-notice", "support", "--json"))["pending"] == []
    assert revise_support_with_birth_date(cli).exit_code == 0
    j(cli(*PO, "customers", "notify", "-p", "support", "--method", "stated", "-c", ids[0], "--json"))
    listed = j(cli(*PO, "customers", "pending-notice", "support", "--json"))
    assert listed["current_version"] == 2
    assert sorted(p["customer_id"] for p in listed["pending"]) == sorted(ids[1:])
    assert {p["notified_version"] for p in listed["pending"]} == {1}

    everyone = j(
        cli(*PO, "customers", "notify", "-p", "support", "--method", "published", "--all-pending", "--json")
    )
    assert sorted(everyone["recorded"]) == sorted(ids[1:])
    assert j(cli(*PO, "customers", "pending-notice", "support", "--json"))["pending"] == []
    text = cli(*PO, "customers", "pending-notice", "support")
    assert text.exit_code == 0 and "0" in text.stdout


def test_notify_refuses_bad_targets_and_a_purpose_never_notified_R_18_1(cli):
    ids = support_ids(cli)
    refused(cli(*PO, "customers", "notify", "-p", "support", "--method", "notified"), "notice_targets")
    bad = cli(*PO, "customers", "notify", "-p", "support", "--method", "shouted", "-c", ids[0])
    assert bad.exit_code != 0 and "invalid_input" in bad.output
    refused(
        cli(*PO, "customers", "notify", "-p", "nope", "--method", "notified", "-c", ids[0]),
        "R-17-1",
        "purpose_unknown",
    )
    # a purpose the person was never told of cannot be "notified" into use: that needs consent (R-18-1)
    new = j(
        cli(
            *PO,
            "customers",
            "add",
            "--name",
            "架空 一郎",
            "--email",
            "ichiro@example.jp",
            "-p",
            "contract",
            "--channel",
            "web_form",
            "--notice-version",
            "n-2026",
            "--json",
        )
    )["id"]
    refused(
        cli(*PO, "customers", "notify", "-p", "marketing-email", "--method", "notified", "-c", new),
        "R-18-1",
        "purpose_never_notified",
    )


def test_notice_commands_refuse_roles_without_the_notice_right_R_23_2(cli):
    ids = support_ids(cli)
    for who in (("--as", "sato"), ("--as", "takahashi"), ("--as", "ito")):
        refused(cli(*who, "customers", "pending-notice", "support", "--json"), "R-23-2")
        refused(
            cli(*who, "customers", "notify", "-p", "support", "--method", "notified", "-c", ids[0]), "R-23-2"
        )
        refused(
            cli(*who, "customers", "notice-exception", ids[0], "-p", "support", "--ground", "harm_to_person"),
            "R-23-2",
        )


# -- R-21-3: notice exceptions ----------------------------------------------------------------------------------


def test_notice_exception_stands_in_for_the_notice_only_with_a_ground_R_21_3(cli):
    ids = support_ids(cli)
    a = ids[0]
    assert revise_support_with_birth_date(cli).exit_code == 0
    refused(
        cli(*PO, "customers", "notice-exception", a, "-p", "support"), "R-21-3", "exception_ground_missing"
    )
    bad = cli(*PO, "customers", "notice-exception", a, "-p", "support", "--ground", "because")
    assert bad.exit_code != 0 and "invalid_input" in bad.output
    assert "birth_date" in show(cli, a, "support")["masked"]  # nothing recorded by the refusals

    rec = j(
        cli(
            *PO,
            "customers",
            "notice-exception",
            a,
            "-p",
            "support",
            "--ground",
            "obvious_from_circumstances",
            "--json",
        )
    )
    assert rec["method"] == "exception" and rec["version"] == 2
    assert rec["exception_ground"] == "obvious_from_circumstances" and rec["exception_by"]
    view = show(cli, a, "support")
    assert "birth_date" not in view["masked"]  # treated as notified of v2
    notice = next(n for n in view["notices"] if n["purpose"] == "support")
    assert notice["exception_ground"] == "obvious_from_circumstances" and notice["pending"] is False
    text = cli(*PO, "customers", "show", a, "-p", "support")
    flat = "".join(text.stdout.split())  # the table wraps long cells
    assert (
        "通知等の例外（法第21条第4項）:取得の状況からみて利用目的が明らか" in flat
    )  # in the person's record, in words
    assert "obvious_from_circumstances" in flat  # with the code staff type back (--ground)

    listed = j(cli(*PO, "customers", "pending-notice", "support", "--json"))
    assert a not in [p["customer_id"] for p in listed["pending"]]
    assert [(e["customer_id"], e["exception_ground"]) for e in listed["exceptions"]] == [
        (a, "obvious_from_circumstances")
    ]
    page = j(cli(*PO, "customers", "list", "-p", "support", "--json"))["items"]
    assert next(i for i in page if i["id"] == a)["notice"]["exception_ground"] == "obvious_from_circumstances"
    tail = cli(*PO, "audit", "tail", "-n", "20", "--json")
    assert tail.exit_code == 0 and "purpose.notice_exception" in tail.stdout


# -- G-6: the GDPR lawful basis -----------------------------------------------------------------------------------


SURVEY = {
    "--title-ja": "満足度調査",
    "--title-en": "Satisfaction survey",
    "--text-ja": "ご購入後の満足度調査のご連絡のため、氏名とメールアドレスを利用します。",
    "--text-en": "Asking about satisfaction after a purchase, by email.",
    "--categories": "identifier,contact",
}


def _person(cli, name: str, email: str, origin: str, *purposes: str) -> str:
    ps = [x for p in purposes for x in ("-p", p)]
    return j(
        cli(
            *PO,
            "customers",
            "add",
            "--name",
            name,
            "--email",
            email,
            "--origin",
            origin,
            *ps,
            "--channel",
            "web_form",
            "--notice-version",
            "n-2026",
            "--json",
        )
    )["id"]


def test_gdpr_subject_is_refused_for_a_purpose_without_a_lawful_basis_G_6(cli):
    added = cli(*PO, "purposes", "add", "survey", *opts(SURVEY), "--json")
    assert j(added)["lawful_basis"] is None and any("G-6" in w for w in j(added)["warnings"])
    eu = _person(cli, "Anna Schmidt", "anna@example.de", "DE", "survey", "contract")
    jp = _person(cli, "架空 花子", "hanako@example.jp", "JP", "survey", "contract")
    assert show(cli, jp, "survey")["emails"] == ["hanako@example.jp"]  # the APPI needs no GDPR basis
    refused(cli(*PO, "customers", "show", eu, "-p", "survey"), "G-6", "lawful_basis_missing")
    assert show(cli, eu, "contract")["emails"] == ["anna@example.de"]  # contract has one (demo: contract)

    # the basis comes with a new version: it reaches the person once notified of it
    revised = cli(
        *PO,
        "purposes",
        "revise",
        "survey",
        *opts(SURVEY),
        "--lawful-basis",
        "legitimate_interests",
        "--balancing-ref",
        "LIA-2026-11-survey",
        "--json",
    )
    assert j(revised)["lawful_basis"] == "legitimate_interests" and j(revised)["pending_notice"] == 2
    refused(cli(*PO, "customers", "show", eu, "-p", "survey"), "G-6", "lawful_basis_missing")
    j(cli(*PO, "customers", "notify", "-p", "survey", "--method", "notified", "--all-pending", "--json"))
    assert show(cli, eu, "survey")["emails"] == ["anna@example.de"]
    shown = j(cli(*PO, "purposes", "show", "survey", "--json"))
    assert shown["balancing_ref"] == "LIA-2026-11-survey"


def test_lawful_basis_input_is_checked_G_6(cli):
    refused(
        cli(*PO, "purposes", "add", "s1", *opts(SURVEY), "--lawful-basis", "legitimate_interests"),
        "G-6",
        "balancing_record_missing",
    )
    refused(
        cli(*PO, "purposes", "add", "s2", *opts(SURVEY), "--lawful-basis", "contract", "--consent-gdpr"),
        "G-6",
        "lawful_basis_conflict",
    )
    refused(
        cli(
            *PO, "purposes", "add", "s3", *opts(SURVEY), "--lawful-basis", "contract", "--art9", "health_care"
        ),
        "G-6",
        "art9_without_sensitive",
    )
    bad = cli(*PO, "purposes", "add", "s4", *opts(SURVEY), "--lawful-basis", "because")
    assert bad.exit_code != 0 and "invalid_input" in bad.output
    # --consent-gdpr alone still means the basis is consent (older callers)
    assert (
        j(cli(*PO, "purposes", "add", "s5", *opts(SURVEY), "--consent-gdpr", "--json"))["lawful_basis"]
        == "consent"
    )
    listed = {p["code"]: p for p in j(cli(*PO, "purposes", "list", "--json"))}
    assert listed["support"]["lawful_basis"] == "legitimate_interests"  # the demo's purposes have a basis
    assert listed["contract"]["lawful_basis"] == "contract"
    assert (
        listed["marketing-email"]["lawful_basis"] == "consent" and listed["marketing-email"]["consent_gdpr"]
    )
    shown = cli(*PO, "purposes", "show", "support")
    assert shown.exit_code == 0 and "LIA-2026-04-support" in shown.stdout
    refused(
        cli("--as", "sato", "purposes", "add", "s6", *opts(SURVEY), "--lawful-basis", "contract"), "R-23-2"
    )


# -- through the REST API -----------------------------------------------------------------------------------------


def _eu_health_world(api):
    """A purpose covering special-category data with a basis but no Art. 9(2) condition; an EU and a JP person
    with a health attribute (recorded exception at acquisition) and sensitive consent in the ledger."""
    from mamori.kernel.context import SYSTEM_ACTOR

    po, csrf = api.client("po")
    body = {
        "code": "eu-health",
        "title_ja": "健康相談",
        "title_en": "Health counselling",
        "text_ja": "健康相談サービスの提供のため、ご同意の上で既往歴などの要配慮個人情報を利用します（分析は行いません）。",
        "text_en": "Health counselling with consent, using medical history.",
        "categories": ["identifier", "contact", "sensitive"],
        "lawful_basis": "contract",
    }
    r = po.post("/api/v1/purposes", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    assert r.json()["art9_condition"] is None and any("G-6" in w for w in r.json()["warnings"])
    ids = {}
    for origin, name in (("DE", "Anna Schmidt"), ("JP", "架空 花子")):
        data = CustomerCreate(
            name=name,
            emails=[f"{origin.lower()}@example.jp"],
            origin=origin,
            attributes=[
                AttributeIn(key="medical_history", value="高血圧で通院中", category=Category.SENSITIVE)
            ],
        )
        with api.rt.transaction(SYSTEM_ACTOR) as ctx:
            view = customers_service.create(
                ctx,
                data,
                provenance=ProvenanceIn(method="direct", channel="paper_form", notice_version="n-2026"),
                purposes=["eu-health"],
                sensitive_basis="law",
            )
        with api.rt.transaction(SYSTEM_ACTOR) as ctx:
            consent_service.grant_sensitive(ctx, view.id, ConsentIn(method="paper", evidence="同意書-9"))
        ids[origin] = view.id
    return po, csrf, body, ids


def _medical(client, cid: str) -> str | None:
    r = client.get(f"/api/v1/customers/{cid}", headers={"Mamori-Purpose": "eu-health"})
    assert r.status_code == 200, r.text
    return next(a["value"] for a in r.json()["attributes"] if a["key"] == "medical_history")


def test_api_special_categories_masked_for_gdpr_subjects_without_an_art9_condition_G_6(api):
    po, csrf, body, ids = _eu_health_world(api)
    assert _medical(po, ids["JP"]) == "高血圧で通院中"
    assert _medical(po, ids["DE"]) is None  # Art. 9: no 9(2) condition on the purpose
    revised = po.post(
        "/api/v1/purposes/eu-health/versions",
        json={**body, "art9_condition": "health_care"},
        headers={"X-CSRF-Token": csrf},
    )
    assert revised.status_code == 201, revised.text
    assert revised.json()["pending_notice"] == 2 and revised.json()["version"] == 2
    assert _medical(po, ids["DE"]) is None  # told only v1, which had no 9(2) condition
    pending = po.get("/api/v1/customers/pending-notice", params={"purpose": "eu-health"})
    assert pending.status_code == 200, pending.text
    assert sorted(p["customer_id"] for p in pending.json()["pending"]) == sorted(ids.values())
    r = po.post(
        "/api/v1/customers/notices",
        json={"purpose": "eu-health", "method": "notified", "customer_ids": [ids["DE"]]},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200, r.text
    assert r.json()["recorded"] == [ids["DE"]]
    assert _medical(po, ids["DE"]) == "高血圧で通院中"
    pending = po.get("/api/v1/customers/pending-notice", params={"purpose": "eu-health"})
    assert [p["customer_id"] for p in pending.json()["pending"]] == [ids["JP"]]


def test_api_notice_exception_and_refusals_R_21_3(api):
    po, csrf, _body, ids = _eu_health_world(api)
    url = f"/api/v1/customers/{ids['JP']}/notice-exceptions"
    r = po.post(url, json={"purpose": "eu-health"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and r.json()["rule_id"] == "R-21-3"
    r = po.post(url, json={"purpose": "eu-health", "ground": "whim"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and "whim" not in r.text
    r = po.post(
        url, json={"purpose": "eu-health", "ground": "harm_to_operator"}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 201, r.text
    assert r.json()["exception_ground"] == "harm_to_operator" and r.json()["method"] == "exception"
    view = po.get(f"/api/v1/customers/{ids['JP']}", headers={"Mamori-Purpose": "eu-health"}).json()
    assert [n["exception_ground"] for n in view["notices"]] == ["harm_to_operator"]

    sato, sato_csrf = api.client("sato")
    r = sato.get("/api/v1/customers/pending-notice", params={"purpose": "eu-health"})
    assert r.status_code == 403 and r.json()["rule_id"] == "R-23-2"
    r = sato.post(
        "/api/v1/customers/notices",
        json={"purpose": "eu-health", "method": "notified", "all_pending": True},
        headers={"X-CSRF-Token": sato_csrf},
    )
    assert r.status_code == 403 and r.json()["rule_id"] == "R-23-2"
    r = sato.post(
        url, json={"purpose": "eu-health", "ground": "harm_to_person"}, headers={"X-CSRF-Token": sato_csrf}
    )
    assert r.status_code == 403 and r.json()["rule_id"] == "R-23-2"
    anon, _ = api.client()
    assert anon.get("/api/v1/customers/pending-notice", params={"purpose": "eu-health"}).status_code == 401
    assert po.get("/api/v1/customers/pending-notice", params={"purpose": "Bad!"}).status_code == 422
    assert po.get("/api/v1/customers/pending-notice", params={"purpose": "nope"}).status_code == 404


# -- the slices that hand data on ----------------------------------------------------------------------------------


def test_read_fields_for_a_purpose_follow_the_version_notified_to_each_person_R_17_2(runtime):
    from mamori.customers.schemas import NoticeIn
    from mamori.customers.service import notices, subjects
    from mamori.kernel.context import SYSTEM_ACTOR
    from mamori.purposes import service as purposes_service
    from tests.factories import PURPOSES, make_customer, seed_basics

    actors = seed_basics(runtime)
    a = make_customer(runtime, actors["po"], email="a@example.jp", purposes=("marketing-email",))
    b = make_customer(runtime, actors["po"], email="b@example.jp", purposes=("marketing-email",))
    for cid in (a, b):
        with runtime.transaction(actors["po"]) as ctx:
            consent_service.grant(ctx, cid, "marketing-email", ConsentIn(method="checkbox", evidence="f-1"))
    wider = PURPOSES["marketing-email"].model_copy(
        update={"categories": [Category.IDENTIFIER, Category.CONTACT, Category.ATTRIBUTE]}
    )
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        assert purposes_service.revise(ctx, wider).pending_notice == 2
    with runtime.transaction(actors["po"]) as ctx:
        notices.notify(ctx, NoticeIn(purpose="marketing-email", method="notified", customer_ids=[a]))
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        got = subjects.read_fields(ctx, [a, b], ["name", "email", "birth_date"], purpose="marketing-email")
        plain = subjects.read_fields(ctx, [b], ["birth_date"])
    assert got[a]["birth_date"] == "1985-01-02" and got[a]["email"] == "a@example.jp"
    assert got[b]["birth_date"] is None and got[b]["email"] == "b@example.jp"  # b was told v1 only
    assert plain[b]["birth_date"] == "1985-01-02"  # without a purpose: the caller decided (rights, records)
