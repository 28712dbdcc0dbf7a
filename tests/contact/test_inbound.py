"""The call center's inbound screen (issue 20, seed 003 Q1 「どこで私の情報を知ったのか」 and Q2 「もう電話してこないで」):
find the caller by phone number in any Japanese form, see the purposes they were notified of and where their data
came from, record do-not-contact in one step — through the service, ``mamori contact find``, the API and the web
page. Unknown number → a neutral "not found"; roles without ``contact.reach`` refused (R-23-2); a sales rep sees
only their own customers; bad input is a clear error that never echoes the number; the number is never in a URL
or the audit log."""

from __future__ import annotations

import json
import re
from urllib.parse import quote, unquote

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app as cli_app
from mamori.consent import service as consent_service
from mamori.contact.service import inbound
from mamori.customers import service as customers_service
from mamori.customers.schemas import CustomerCreate, ProvenanceIn
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from mamori.kernel.policy import Category
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeCreate
from tests.api.conftest import Api
from tests.contact.conftest import staff_actors
from tests.factories import make_customer, point_env_at

API = "/api/v1"
NUMBER = "03-1234-5678"
FORMS = ("03-1234-5678", "０３１２３４５６７８", "+81 3-1234-5678", "0312345678")
# every way the number could leak into a URL or the audit log
NUMBER_TRACES = ("1234-5678", "12345678", "１２３４", "+81312345678", "0312345678")
ACQUISITION = "2026年秋の展示会で名刺交換"
HREF = re.compile(r'(?:href|action|hx-post|hx-get|src)="([^"]*)"')

SURVEY = PurposeCreate(
    code="survey",
    title_ja="アンケートの集計",
    title_en="Survey statistics",
    text_ja="アンケートの回答を集計するため、属性（職業など）を利用します（氏名は利用しません）。",
    text_en="Counting survey answers from attributes (no names).",
    categories=[Category.ATTRIBUTE],
)


@pytest.fixture
def api(runtime):
    return Api(runtime)


@pytest.fixture
def people(api):
    """caller: sato's customer calling from NUMBER (met at an event); theirs: suzuki's; noconsent: notified of
    marketing-email (which needs consent) without consent."""
    with api.rt.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.add(ctx, SURVEY)
    actors = staff_actors(api.rt, ["po", "sato", "suzuki", "support", "analyst"])
    data = CustomerCreate(
        name="着信 花子",
        kana="チャクシン ハナコ",
        phones=[NUMBER],
        emails=["hanako.inbound@example.jp"],
        occupation="会社員",
    )
    with api.rt.transaction(actors["sato"]) as ctx:
        caller = customers_service.create(
            ctx,
            data,
            provenance=ProvenanceIn(
                method="direct", channel="event", notice_version="n-2026", acquisition=ACQUISITION
            ),
            purposes=["contract", "survey"],
        ).id
    theirs = make_customer(
        api.rt, actors["suzuki"], name="他担当 次郎", email="jiro@example.jp", phone="090-2222-3333"
    )
    noconsent = make_customer(
        api.rt,
        actors["sato"],
        name="同意 なし",
        email="none@example.jp",
        phone="090-4444-5555",
        purposes=("marketing-email",),
    )
    return {"actors": actors, "caller": caller, "theirs": theirs, "noconsent": noconsent}


def _find(api, people, who: str, phone: str, purpose: str = "contract") -> inbound.InboundFind:
    with api.rt.transaction(people["actors"][who], purpose) as ctx:
        return inbound.find(ctx, phone)


# -- service ---------------------------------------------------------------------------------------------------


def test_the_number_in_any_japanese_form_finds_the_caller_with_purposes_and_provenance(api, people):
    for form in FORMS:
        got = _find(api, people, "support", form)
        assert [c.customer_id for c in got.callers] == [people["caller"]], form
    card = got.callers[0]
    assert card.allowed and card.name == "着信 花子" and card.kana == "チャクシン ハナコ"
    by_code = {p.code: p for p in card.purposes}
    assert set(by_code) == {"contract", "survey"}
    assert by_code["contract"].title_ja == "契約の履行" and by_code["contract"].version == 1
    assert by_code["survey"].method and by_code["survey"].notified_at is not None
    assert [(s.method, s.channel, s.acquisition) for s in card.sources] == [("direct", "event", ACQUISITION)]
    assert card.do_not_contact == [] and card.stopped == [] and card.channels["phone"] == "none"


def test_the_purpose_masks_what_it_does_not_cover(api, people):
    card = _find(api, people, "support", NUMBER, purpose="survey").callers[0]
    assert card.allowed and card.name is None and card.kana is None and "name" in card.masked
    assert {p.code for p in card.purposes} == {"contract", "survey"}  # the notices are the answer to Q1 too


def test_do_not_contact_in_one_step_is_in_the_ledger_and_shown_R_35_1(api, people):
    cid = people["caller"]
    with api.rt.transaction(people["actors"]["support"], "contract") as ctx:
        card = inbound.record_do_not_contact(ctx, cid, ["sms", "phone", "phone"], reference="call-0042")
    assert card.do_not_contact == ["phone", "sms"] and card.channels["phone"] == "opt_out"
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        ledger = consent_service.show(ctx, cid)
    assert ledger.do_not_contact == ["phone", "sms"]
    lines = [e for e in ledger.events if e.kind == "channel"]
    assert {(e.target, e.action, e.method, e.evidence) for e in lines} == {
        ("phone", "opt_out", "oral", "call-0042"),
        ("sms", "opt_out", "oral", "call-0042"),
    }
    assert _find(api, people, "support", "0312345678").callers[0].do_not_contact == ["phone", "sms"]
    with (
        pytest.raises(ValidationFailed) as e,
        api.rt.transaction(people["actors"]["support"], "contract") as ctx,
    ):
        inbound.record_do_not_contact(ctx, cid, [])
    assert e.value.code == "channel_required"
    with (
        pytest.raises(ValidationFailed) as e,
        api.rt.transaction(people["actors"]["support"], "contract") as ctx,
    ):
        inbound.record_do_not_contact(ctx, cid, ["fax"])
    assert e.value.code == "bad_channel"


def test_unknown_number_is_an_empty_answer_and_bad_input_a_clear_error(api, people):
    assert _find(api, people, "support", "03-9999-0000").callers == []
    for bad, code in (
        ("", "phone_required"),
        ("   ", "phone_required"),
        ("abc", "bad_phone"),
        ("ｘｙｚ", "bad_phone"),
        ("0" * 41, "bad_phone"),
    ):
        with pytest.raises(ValidationFailed) as e:
            _find(api, people, "support", bad)
        assert e.value.code == code
        assert bad.strip() == "" or bad not in e.value.message_ja + e.value.message_en


def test_roles_analyst_refused_sales_sees_only_their_own_R_23_2(api, people):
    with pytest.raises(PolicyDenied) as e:
        _find(api, people, "analyst", NUMBER)
    assert e.value.rule_id == "R-23-2" and e.value.code == "role_not_permitted"
    assert [c.customer_id for c in _find(api, people, "po", NUMBER).callers] == [people["caller"]]
    assert [c.customer_id for c in _find(api, people, "sato", NUMBER).callers] == [people["caller"]]
    assert _find(api, people, "sato", "090-2222-3333").callers == []  # suzuki's customer: not shown
    assert [c.customer_id for c in _find(api, people, "suzuki", "09022223333").callers] == [people["theirs"]]
    with pytest.raises(PolicyDenied), api.rt.transaction(people["actors"]["sato"], "contract") as ctx:
        inbound.record_do_not_contact(ctx, people["theirs"], ["phone"])


def test_a_match_the_purpose_may_not_read_is_shown_as_refused_with_its_rule(api, people):
    got = _find(api, people, "support", "090-4444-5555", purpose="marketing-email")
    (card,) = got.callers
    assert not card.allowed and card.customer_id == people["noconsent"] and card.name is None
    assert card.refusal_code == "consent_missing" and card.rule_ids
    assert card.purposes == [] and card.sources == []
    # sato's own customer: refused the same way; suzuki (another rep): not shown at all (R-23-2 before any purpose)
    (own,) = _find(api, people, "sato", "090-4444-5555", purpose="marketing-email").callers
    assert not own.allowed and own.refusal_code == "consent_missing"
    assert _find(api, people, "suzuki", "090-4444-5555", purpose="marketing-email").callers == []


def test_every_find_is_audited_with_ids_never_the_number(api, people):
    before = len(api.rt.audit.tail(5000))
    _find(api, people, "support", FORMS[1])
    _find(api, people, "support", "03-9999-0000")
    entries = api.rt.audit.tail(5000)[before:]
    finds = [e for e in entries if e.action == "contact.inbound.find"]
    assert [list(e.subject_ids) for e in finds] == [[people["caller"]], []]
    assert finds[0].details["shown"] == 1 and finds[1].details["shown"] == 0
    dumped = json.dumps(
        [[e.action, e.subject_ids, e.fields, e.details, e.reason] for e in entries], ensure_ascii=False
    )
    for trace in (*NUMBER_TRACES, "99990000", "9999-0000"):
        assert trace not in dumped


# -- CLI -------------------------------------------------------------------------------------------------------


def test_cli_contact_find_prints_the_id_and_consent_dnc_then_shows_it(api, people, monkeypatch):
    point_env_at(monkeypatch, api.rt.settings)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli_app, list(args), catch_exceptions=False)

    cid = people["caller"]
    r = run("--as", "support", "contact", "find", "--phone", "+81312345678", "-p", "contract", "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert [c["customer_id"] for c in got["callers"]] == [cid]
    assert got["callers"][0]["sources"][0]["acquisition"] == ACQUISITION
    r = run("--as", "support", "contact", "find", "--phone", "０３－１２３４－５６７８", "-p", "contract")
    assert r.exit_code == 0, r.output
    assert (
        cid in r.stdout and "着信 花子" in r.stdout and "契約の履行" in r.stdout and ACQUISITION in r.stdout
    )
    assert f"mamori consent dnc {cid} --channel phone" in r.stdout
    r = run("--as", "support", "consent", "dnc", cid, "--channel", "phone")
    assert r.exit_code == 0, r.output
    r = run("--as", "support", "consent", "show", cid, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["do_not_contact"] == ["phone"]
    r = run("--as", "support", "contact", "find", "--phone", NUMBER, "-p", "contract", "--json")
    assert json.loads(r.stdout)["callers"][0]["do_not_contact"] == ["phone"]
    r = run("--as", "support", "contact", "find", "--phone", "03-9999-0000", "-p", "contract")
    assert r.exit_code == 0 and "見つかりませんでした" in r.stdout
    r = run("--as", "analyst", "contact", "find", "--phone", NUMBER, "-p", "contract")
    assert r.exit_code == 3 and "R-23-2" in r.output
    r = run("--as", "support", "contact", "find", "--phone", "not-a-phone", "-p", "contract")
    assert r.exit_code != 0 and "bad_phone" in r.output and "not-a-phone" not in r.output
    r = run("--as", "support", "contact", "find", "--phone", "", "-p", "contract")
    assert r.exit_code != 0 and "phone_required" in r.output


# -- API -------------------------------------------------------------------------------------------------------


def test_api_find_then_record_with_the_consent_api(api, people):
    c, csrf = api.client("support")
    h = {"X-CSRF-Token": csrf, "Mamori-Purpose": "contract"}
    r = c.post(f"{API}/contact/inbound/find", json={"phone": "0312345678"}, headers=h)
    assert r.status_code == 200, r.text
    (card,) = r.json()["callers"]
    cid = card["customer_id"]
    assert cid == people["caller"] and card["name"] == "着信 花子"
    assert {p["code"] for p in card["purposes"]} == {"contract", "survey"}
    r = c.post(
        f"{API}/customers/{cid}/contact-preferences",
        json={"channel": "phone", "allow": False, "method": "oral"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201, r.text
    r = c.post(f"{API}/contact/inbound/find", json={"phone": "+81 3 1234 5678"}, headers=h)
    assert r.json()["callers"][0]["do_not_contact"] == ["phone"]
    r = c.post(f"{API}/contact/inbound/find", json={"phone": "03-9999-0000"}, headers=h)
    assert r.status_code == 200 and r.json()["callers"] == []
    for bad in ("", "電話番号です", "0" * 41):
        r = c.post(f"{API}/contact/inbound/find", json={"phone": bad}, headers=h)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        assert (bad and bad in r.text) is False or bad == ""
    r = c.post(f"{API}/contact/inbound/find", json={}, headers=h)
    assert r.status_code == 422
    a, acsrf = api.client("analyst")
    r = a.post(
        f"{API}/contact/inbound/find",
        json={"phone": NUMBER},
        headers={"X-CSRF-Token": acsrf, "Mamori-Purpose": "contract"},
    )
    assert r.status_code == 403 and r.json()["rule_id"] == "R-23-2"
    s, scsrf = api.client("sato")
    r = s.post(
        f"{API}/contact/inbound/find",
        json={"phone": "090-2222-3333"},
        headers={"X-CSRF-Token": scsrf, "Mamori-Purpose": "contract"},
    )
    assert r.status_code == 200 and r.json()["callers"] == []


# -- web page --------------------------------------------------------------------------------------------------


def _no_number_in_urls(r) -> None:
    urls = HREF.findall(r.text)
    if "location" in r.headers:
        urls.append(r.headers["location"])
    urls.append(str(r.url))
    for url in urls:
        for trace in NUMBER_TRACES:
            assert trace not in unquote(url) and quote(trace) not in url, url


def test_web_inbound_page_find_and_one_step_dnc(api, people):
    c, csrf = api.client("support")
    r = c.get("/contact/inbound")
    assert r.status_code == 200 and 'name="phone"' in r.text and 'method="post"' in r.text
    assert r.headers["cache-control"] == "no-store"
    r = c.post(
        "/contact/inbound/find", data={"csrf": csrf, "purpose": "contract", "phone": "０３１２３４５６７８"}
    )
    assert r.status_code == 200, r.text
    assert "着信 花子" in r.text and "契約の履行" in r.text and "アンケートの集計" in r.text
    assert ACQUISITION in r.text and people["caller"] in r.text
    _no_number_in_urls(r)
    # htmx: the results alone
    r = c.post(
        "/contact/inbound/find",
        data={"csrf": csrf, "purpose": "contract", "phone": NUMBER},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and "<html" not in r.text and "着信 花子" in r.text
    r = c.post("/contact/inbound/find", data={"csrf": csrf, "purpose": "contract", "phone": "03-9999-0000"})
    assert r.status_code == 200 and "見つかりませんでした" in r.text
    r = c.post("/contact/inbound/find", data={"csrf": csrf, "purpose": "contract", "phone": "abc-defg"})
    assert r.status_code == 422 and "abc-defg" not in r.text
    r = c.post("/contact/inbound/find", data={"csrf": csrf, "purpose": "contract", "phone": ""})
    assert r.status_code == 422
    r = c.post("/contact/inbound/find", data={"csrf": csrf, "purpose": "nope", "phone": NUMBER})
    assert r.status_code == 422
    # a match the purpose may not read: shown as refused with its rule id, and the request form still there
    r = c.post(
        "/contact/inbound/find", data={"csrf": csrf, "purpose": "marketing-email", "phone": "090-4444-5555"}
    )
    assert r.status_code == 200 and people["noconsent"] in r.text and "同意 なし" not in r.text
    assert "この目的では表示できない方" in r.text and 'class="rule">R-' in r.text
    assert 'name="channel"' in r.text
    # one-step do-not-contact: phone and e-mail ticked, then the page shows the new state
    cid = people["caller"]
    r = c.post("/contact/inbound/dnc", data={"purpose": "contract", "customer_id": cid, "channel": "phone"})
    assert r.status_code == 403  # no CSRF token: refused, nothing written
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert consent_service.show(ctx, cid).do_not_contact == []
    r = c.post(
        "/contact/inbound/dnc",
        data={
            "csrf": csrf,
            "purpose": "contract",
            "customer_id": cid,
            "channel": ["phone", "email"],
            "reference": "call-7",
        },
    )
    assert r.status_code == 200, r.text
    assert "連絡停止を記録しました" in r.text and "（停止済み）" in r.text
    _no_number_in_urls(r)
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        assert consent_service.show(ctx, cid).do_not_contact == ["email", "phone"]
    r = c.post(
        "/contact/inbound/dnc",
        data={"csrf": csrf, "purpose": "contract", "customer_id": cid},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 422 and r.headers["hx-retarget"] == f"#dnc-message-{cid}"
    c.cookies.set("mamori_lang", "en")
    r = c.post("/contact/inbound/find", data={"csrf": csrf, "purpose": "contract", "phone": NUMBER})
    assert r.status_code == 200 and "Purposes notified to this person" in r.text and "Contract" in r.text
    a, acsrf = api.client("analyst")
    assert a.get("/contact/inbound").status_code == 403
    r = a.post("/contact/inbound/find", data={"csrf": acsrf, "purpose": "contract", "phone": NUMBER})
    assert r.status_code == 403 and "着信 花子" not in r.text
    s, scsrf = api.client("sato")
    r = s.post(
        "/contact/inbound/dnc",
        data={"csrf": scsrf, "purpose": "contract", "customer_id": people["theirs"], "channel": "phone"},
    )
    assert r.status_code in (403, 404) and "他担当" not in r.text
