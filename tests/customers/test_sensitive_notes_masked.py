"""Issue 17 (what a purpose may see): a note the scanner flags 要配慮 is stored under the category "sensitive" and
masked — a placeholder, never the text — for every read whose purpose does not cover 要配慮 data (R-20-2,
R-2.3-1), through the service, the API (JSON), the CLI (--json) and the customer page (HTML); the read's audit
entry names what was withheld (the field and how many, rule R-20-2), never the text.

On c98babe a note stored with 要配慮 consent came back in clear under "contract" (a sales purpose that covers
behaviour but not 要配慮 data).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from mamori.consent import service as consent_service
from mamori.consent.schemas import ConsentIn
from mamori.customers import service
from mamori.customers.models import Activity
from mamori.customers.schemas import ActivityIn
from mamori.customers.service.core.reads import SENSITIVE_NOTES, WITHHELD_NOTE
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.errors import MamoriError, PolicyDenied
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer, seed_basics

NOTE = "持病の糖尿病で通院中とのこと。"  # 病歴 (R-2.3-1 (4)): the scanner flags it 要配慮
SECRET = "糖尿病"
PLAIN = "配送日の確認"
API = "/api/v1"


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


def with_sensitive_note(rt, actor, *, purposes=("contract", "health-service")) -> str:
    """A customer whose 要配慮 consent is in the ledger, with one 要配慮 note and one plain note."""
    cid = make_customer(rt, actor, purposes=purposes)
    with rt.transaction(actor) as ctx:
        consent_service.grant_sensitive(ctx, cid, ConsentIn(method="paper", evidence="同意書-7"))
    with rt.transaction(actor, "health-service") as ctx:
        service.add_activity(ctx, cid, ActivityIn(kind="call", body=NOTE))
        service.add_activity(ctx, cid, ActivityIn(kind="call", body=PLAIN))
    return cid


def categories(rt, cid) -> list[str | None]:
    with rt.sessions() as s:
        return sorted(
            (c or "") for c in s.scalars(select(Activity.category).where(Activity.customer_id == cid))
        )


def reads_of(rt, cid):
    return [e for e in rt.audit.entries(cid, limit=1000) if e.action == "customer.read"]


def test_a_sensitive_note_is_stored_under_the_sensitive_category_R_2_3_1(runtime, actors):
    cid = with_sensitive_note(runtime, actors["po"])
    assert categories(runtime, cid) == ["behaviour", "sensitive"]
    # 要配慮 beside ordinary personal information (an e-mail address): still the sensitive category
    with runtime.transaction(actors["po"], "health-service") as ctx:
        service.add_activity(ctx, cid, ActivityIn(kind="note", body=f"{NOTE} 連絡は hanako@example.jp へ。"))
    assert categories(runtime, cid) == ["behaviour", "sensitive", "sensitive"]
    writes = [e for e in runtime.audit.entries(cid, limit=1000) if e.action == "activity.write"]
    assert [e.rule_ids for e in writes] == [("R-20-2",), (), ("R-20-2",)]
    assert all(SECRET not in json.dumps(e.details, ensure_ascii=False) for e in writes)


def test_a_sensitive_note_is_masked_under_a_purpose_that_does_not_cover_it_R_20_2(runtime, actors):
    cid = with_sensitive_note(runtime, actors["sato"])
    with runtime.transaction(actors["sato"], "contract", readonly=True) as ctx:
        view = service.get(ctx, cid)
    bodies = sorted(a.body or "" for a in view.activities)
    assert bodies == sorted([PLAIN, WITHHELD_NOTE["ja"]])
    assert SENSITIVE_NOTES in view.masked
    assert SECRET not in view.model_dump_json()
    # the read's audit entry: what was withheld and under which rule — never the text
    entry = reads_of(runtime, cid)[-1]
    assert entry.purpose == "contract" and "R-20-2" in entry.rule_ids
    assert entry.details["withheld_category"] == "sensitive" and entry.details["withheld"] == 1
    assert SENSITIVE_NOTES in str(entry.details["masked"])
    assert all(SECRET not in repr(e) for e in runtime.audit.tail(1000))


def test_the_same_note_is_shown_for_a_purpose_that_covers_sensitive_data_with_consent(runtime, actors):
    cid = with_sensitive_note(runtime, actors["po"])
    with runtime.transaction(actors["po"], "health-service", readonly=True) as ctx:
        view = service.get(ctx, cid)
    assert sorted(a.body or "" for a in view.activities) == sorted([NOTE, PLAIN])
    assert SENSITIVE_NOTES not in view.masked
    assert "R-20-2" not in reads_of(runtime, cid)[-1].rule_ids


def test_after_the_sensitive_consent_is_withdrawn_the_note_is_masked_even_for_its_purpose(runtime, actors):
    cid = with_sensitive_note(runtime, actors["po"])
    with runtime.transaction(actors["po"]) as ctx:
        consent_service.withdraw_sensitive(ctx, cid, ConsentIn(method="paper"))
    with runtime.transaction(actors["po"], "health-service", readonly=True) as ctx:
        view = service.get(ctx, cid)
    assert SECRET not in view.model_dump_json() and SENSITIVE_NOTES in view.masked


def test_plain_notes_alone_are_shown_and_nothing_is_reported_withheld(runtime, actors):
    cid = make_customer(runtime, actors["sato"], purposes=("contract",))
    with runtime.transaction(actors["sato"], "contract") as ctx:
        service.add_activity(ctx, cid, ActivityIn(kind="call", body=PLAIN))
    with runtime.transaction(actors["sato"], "contract", readonly=True) as ctx:
        view = service.get(ctx, cid)
    assert [a.body for a in view.activities] == [PLAIN] and SENSITIVE_NOTES not in view.masked
    assert "withheld" not in reads_of(runtime, cid)[-1].details


def test_a_note_written_before_notes_had_a_category_is_classified_when_read(runtime, actors):
    cid = with_sensitive_note(runtime, actors["sato"])
    with runtime.sessions() as s, s.begin():  # as an older store holds it (migration 0018 left it NULL)
        s.execute(update(Activity).where(Activity.customer_id == cid).values(category=None))
    with runtime.transaction(actors["sato"], "contract", readonly=True) as ctx:
        view = service.get(ctx, cid)
    assert SECRET not in view.model_dump_json()
    assert sorted(a.body or "" for a in view.activities) == sorted([PLAIN, WITHHELD_NOTE["ja"]])
    with runtime.transaction(actors["po"], "health-service", readonly=True) as ctx:
        assert NOTE in [a.body for a in service.get(ctx, cid).activities]


def test_unauthorized_readers_get_nothing_and_the_refusal_is_audited(runtime, actors):
    cid = with_sensitive_note(runtime, actors["sato"])
    # another team's rep: out of scope (on PostgreSQL row-level security hides the row, and the service still
    # decides and audits the same refusal); an analyst: the role may not read customers
    for who, codes in (("suzuki", ("out_of_scope",)), ("analyst", ("role_not_permitted",))):
        with pytest.raises(MamoriError) as exc, runtime.transaction(actors[who], "contract") as ctx:
            service.get(ctx, cid)
        assert exc.value.code in (*codes, "customer_not_found") and SECRET not in exc.value.one_line()
        denied = [e for e in runtime.audit.tail(50) if e.decision == "deny" and e.actor_role != "system"]
        assert denied[-1].reason in codes and denied[-1].actor == actors[who].label


def test_english_placeholder(runtime, actors):
    cid = with_sensitive_note(runtime, actors["sato"])
    with runtime.transaction(actors["sato"], "contract", lang="en", readonly=True) as ctx:
        view = service.get(ctx, cid)
    assert WITHHELD_NOTE["en"] in [a.body for a in view.activities]


# -- API (JSON) and the customer page (HTML) ----------------------------------------------------------------------


@pytest.fixture
def api(runtime):
    return Api(runtime)


def _api_customer(api) -> str:
    c, csrf = api.client("sato")
    body = {
        "customer": {"name": "要配慮 花子", "emails": ["hanako@example.jp"]},
        "provenance": {"method": "direct", "channel": "web_form", "notice_version": "n-2026"},
        "purposes": ["contract", "health-service"],
    }
    r = c.post(f"{API}/customers", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    cid = str(r.json()["id"])
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        po = staff_service.actor_for(ctx, "po")
    with api.rt.transaction(po) as ctx:
        consent_service.grant_sensitive(ctx, cid, ConsentIn(method="paper"))
    with api.rt.transaction(po, "health-service") as ctx:
        service.add_activity(ctx, cid, ActivityIn(kind="call", body=NOTE))
    return cid


def test_api_activities_json_never_holds_the_text_under_contract(api):
    cid = _api_customer(api)
    sato, _ = api.client("sato")
    r = sato.get(f"{API}/customers/{cid}/activities", headers={"Mamori-Purpose": "contract"})
    assert r.status_code == 200, r.text
    assert SECRET not in r.text and [a["body"] for a in r.json()] == [WITHHELD_NOTE["ja"]]
    po, _ = api.client("po")
    r = po.get(f"{API}/customers/{cid}/activities", headers={"Mamori-Purpose": "health-service"})
    assert [a["body"] for a in r.json()] == [NOTE]
    suzuki, _ = api.client("suzuki")  # another rep's customer: 404, nothing of the note
    r = suzuki.get(f"{API}/customers/{cid}/activities", headers={"Mamori-Purpose": "contract"})
    assert r.status_code in (403, 404) and SECRET not in r.text


def test_customer_page_html_never_holds_the_text_under_contract(api):
    cid = _api_customer(api)
    c, csrf = api.client("sato")
    r = c.post(f"/customers/{cid}/open", data={"csrf": csrf, "purpose": "contract"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = c.get(f"/customers/{cid}")
    assert page.status_code == 200, page.text
    assert SECRET not in page.text and WITHHELD_NOTE["ja"] in page.text


# -- the CLI (--json and the table) -------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path, monkeypatch):
    from tests.factories import demo_cli

    for run in demo_cli(tmp_path, monkeypatch, customers=1):
        r = run(
            "--as",
            "hoshino",
            "purposes",
            "add",
            "health",
            "--title-ja",
            "健康相談",
            "--title-en",
            "Health counselling",
            "--text-ja",
            "健康相談サービスの提供のため、ご同意の上で氏名・連絡先・ご相談の記録と既往歴などの要配慮個人情報を利用します。",
            "--text-en",
            "Health counselling with consent, using your name, contact details, records and medical history.",
            "--categories",
            "identifier,contact,behaviour,sensitive",
        )
        assert r.exit_code == 0, r.output
        yield run


def test_cli_show_never_prints_the_text_under_contract(cli):
    sato = ("--as", "sato")
    r = cli(*sato, "customers", "add", "--name", "要配慮 花子", "-p", "contract", "-p", "health", "--json")
    assert r.exit_code == 0, r.output
    cid = json.loads(r.stdout)["id"]
    assert cli("--as", "hoshino", "consent", "grant", cid, "--sensitive", "--method", "paper").exit_code == 0
    r = cli(*sato, "customers", "note", cid, "-p", "health", "--kind", "call", "--body", NOTE)
    assert r.exit_code == 0, r.output
    shown = cli(*sato, "customers", "show", cid, "-p", "contract", "--json")
    assert shown.exit_code == 0, shown.output
    assert SECRET not in shown.stdout
    view = json.loads(shown.stdout)
    assert [a["body"] for a in view["activities"]] == [WITHHELD_NOTE["ja"]]
    assert SENSITIVE_NOTES in view["masked"]
    table = cli(*sato, "customers", "show", cid, "-p", "contract")
    assert table.exit_code == 0 and SECRET not in table.output
    health = cli(*sato, "customers", "show", cid, "-p", "health", "--json")
    assert NOTE in [a["body"] for a in json.loads(health.stdout)["activities"]]
    # the read that withheld it, read back with `mamori audit tail`
    tail = json.loads(cli("--as", "hoshino", "audit", "tail", "-n", "30", "--json").stdout)
    withheld = [e for e in tail if e["action"] == "customer.read" and e["details"].get("withheld")]
    assert withheld and withheld[0]["rule_ids"] == ["R-20-2"] and SECRET not in json.dumps(tail)


# -- the 要配慮 refusals on the write paths are audited (once, never the value) ----------------------------------


def test_refused_sensitive_writes_are_audited_once_without_the_value_R_20_2(runtime, actors):
    from mamori.customers.schemas import AttributeIn, CustomerUpdate

    cid = make_customer(runtime, actors["po"], purposes=("contract", "health-service"))

    def deny_entries(since: int):
        return [e for e in runtime.audit.tail(1000) if e.seq > since and e.decision == "deny"]

    cases = (
        ("contract", lambda ctx: service.add_attribute(ctx, cid, AttributeIn(key="memo", value=NOTE))),
        ("contract", lambda ctx: service.update(ctx, cid, CustomerUpdate(occupation=NOTE))),
        ("health-service", lambda ctx: service.add_activity(ctx, cid, ActivityIn(kind="call", body=NOTE))),
    )
    expected = ("sensitive_untagged", "sensitive_in_free_text", "sensitive_in_note")
    for (purpose, fn), code in zip(cases, expected, strict=True):
        since = runtime.audit.tail(1)[-1].seq
        with pytest.raises(PolicyDenied) as exc, runtime.transaction(actors["po"], purpose) as ctx:
            fn(ctx)
        assert exc.value.code == code
        entries = deny_entries(since)
        assert [(e.reason, e.rule_ids) for e in entries] == [(code, ("R-20-2",))], code
        assert SECRET not in repr(entries)
