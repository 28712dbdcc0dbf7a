"""The rights API: the person's public endpoints (no login, throttled, no existence oracle) and staff routes."""

from __future__ import annotations

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.rights.helpers import last_code, outbox

API = "/api/v1"
A_EMAIL = "hanako.sato@example.jp"
B_EMAIL = "jiro.suzuki@example.com"


@pytest.fixture
def api(runtime):
    return Api(runtime)


@pytest.fixture
def people(api):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
        po = staff_service.actor_for(s, "po")
    a = make_customer(api.rt, po, name="佐藤 花子", email=A_EMAIL, phone="090-1111-2222")
    b = make_customer(api.rt, po, name="鈴木 次郎", email=B_EMAIL, phone="080-9876-5432")
    return {"a": a, "b": b}


def problem(r, status, code=None, rule=None):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    if code:
        assert body["code"] == code
    if rule:
        assert body["rule_id"] == rule
    return body


def test_public_request_verify_scope_and_staff_fulfil_R_37_1_R_33_1(api, people, published_notice):
    public, _ = api.client()
    # given the person files a disclosure request with their email, naming B's customer id as well
    r = public.post(
        f"{API}/privacy-requests",
        json={
            "kind": "disclosure",
            "email": A_EMAIL,
            "notice_version": published_notice,
            "customer_id": people["b"],
        },
    )
    assert r.status_code == 202, r.text
    receipt = r.json()
    rid, token = receipt["request_id"], receipt["token"]
    unknown = public.post(
        f"{API}/privacy-requests",
        json={"kind": "disclosure", "email": "nobody@example.org", "notice_version": published_notice},
    )
    # the answer never says whether the person is a customer
    assert unknown.status_code == 202 and set(unknown.json()) == set(receipt)
    assert unknown.json()["message"] == receipt["message"]
    assert r.headers["cache-control"] == "no-store"
    hdr = {"Mamori-Request-Token": token}
    status = public.get(f"{API}/privacy-requests/{rid}", headers=hdr).json()
    assert status["verified_identifiers"] == 0 and status["categories_held"] is None
    problem(public.get(f"{API}/privacy-requests/{rid}", headers={"Mamori-Request-Token": "x" * 32}), 404)
    problem(public.get(f"{API}/privacy-requests/{'0' * 32}", headers=hdr), 404, "request_not_found")
    # nothing can be scoped before verification
    problem(
        public.post(
            f"{API}/privacy-requests/{rid}/scope", headers=hdr, json={"categories": ["customers:contact"]}
        ),
        403,
        rule="R-37-1",
    )
    code = last_code(api.rt, A_EMAIL)
    wrong = "000000" if code != "000000" else "111111"
    problem(
        public.post(f"{API}/privacy-requests/{rid}/verify", headers=hdr, json={"code": wrong}),
        403,
        rule="R-37-1",
    )
    ok = public.post(f"{API}/privacy-requests/{rid}/verify", headers=hdr, json={"code": code})
    assert ok.status_code == 200, ok.text
    held = ok.json()["categories_held"]
    assert held["customers:contact"] == 2 and held["customers:profile"] == 1
    scoped = public.post(
        f"{API}/privacy-requests/{rid}/scope",
        headers=hdr,
        json={"categories": ["customers:profile", "customers:contact"]},
    )
    assert scoped.status_code == 200, scoped.text
    # staff: the board, then the package (never stored)
    po, csrf = api.client("po")
    board = po.get(f"{API}/rights").json()
    assert rid in [b["id"] for b in board]
    shown = po.get(f"{API}/rights/{rid}").json()
    assert shown["subject_ids"] == [people["a"]] and shown["categories"] == [
        "customers:contact",
        "customers:profile",
    ]
    got = po.post(f"{API}/rights/{rid}/fulfil", headers={"X-CSRF-Token": csrf}, json={"format": "json"})
    assert got.status_code == 200, got.text
    body = got.json()
    text = got.text
    assert body["outcome"]["outcome"] == "partial"  # B's id was claimed but never verified
    assert "佐藤 花子" in text and A_EMAIL in text and "鈴木" not in text and B_EMAIL not in text
    assert {r["category"] for r in body["package"]["records"]} == {"profile", "contact"}
    assert public.get(f"{API}/privacy-requests/{rid}", headers=hdr).json()["status"] == "closed"
    # the person downloads the answer with the token: only their own data, never stored
    pkg = public.get(f"{API}/privacy-requests/{rid}/package", headers=hdr)
    assert pkg.status_code == 200, pkg.text
    assert "佐藤 花子" in pkg.text and "鈴木" not in pkg.text and B_EMAIL not in pkg.text
    assert pkg.headers["cache-control"] == "no-store"
    pdf = public.get(f"{API}/privacy-requests/{rid}/package?format=pdf", headers=hdr)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    problem(
        public.get(f"{API}/privacy-requests/{rid}/package", headers={"Mamori-Request-Token": "y" * 32}), 404
    )
    problem(public.get(f"{API}/privacy-requests/{rid}/package?format=docx", headers=hdr), 422)
    # an unanswered request has nothing to download
    other = public.post(
        f"{API}/privacy-requests",
        json={"kind": "disclosure", "email": "nobody2@example.org", "notice_version": published_notice},
    ).json()
    problem(
        public.get(
            f"{API}/privacy-requests/{other['request_id']}/package",
            headers={"Mamori-Request-Token": other["token"]},
        ),
        403,
        "no_package",
        "R-33-1",
    )
    # after the download period the answer is gone
    from datetime import timedelta

    api.rt.clock.advance(timedelta(days=31))
    problem(public.get(f"{API}/privacy-requests/{rid}/package", headers=hdr), 403, "package_expired")


def test_staff_fulfil_returns_a_pdf_letter_R_33_1(api, people):
    po, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    r = po.post(
        f"{API}/rights", headers=h, json={"kind": "disclosure", "channel": "letter", "emails": [A_EMAIL]}
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    ident = r.json()["identifiers"][0]["id"]
    problem(po.post(f"{API}/rights/{rid}/fulfil", headers=h, json={"format": "pdf"}), 403, rule="R-37-1")
    assert (
        po.post(f"{API}/rights/{rid}/send-code", headers=h, json={"identifier_id": ident}).status_code == 204
    )
    bad = po.post(
        f"{API}/rights/{rid}/verify",
        headers=h,
        json={"method": "email_code", "identifier_id": ident, "code": "999999"},
    )
    if last_code(api.rt, A_EMAIL) != "999999":
        assert bad.json() == {"verified": False, "customers_reached": 0, "attempts_left": 4}
    good = po.post(
        f"{API}/rights/{rid}/verify",
        headers=h,
        json={"method": "email_code", "identifier_id": ident, "code": last_code(api.rt, A_EMAIL)},
    )
    assert good.json()["verified"] is True and good.json()["customers_reached"] == 1
    problem(
        po.post(f"{API}/rights/{rid}/verify", headers=h, json={"method": "login"}), 422, "login_unavailable"
    )
    assert po.get(f"{API}/rights/{rid}/categories").json()["customers:profile"] == 1
    pdf = po.post(f"{API}/rights/{rid}/fulfil", headers=h, json={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and pdf.headers["mamori-outcome"] == "fulfilled"
    # answered with the package staff hand over: refused until the letter is recorded as posted
    problem(
        po.post(f"{API}/rights/{rid}/extend", headers=h, json={"months": 1, "reason": "volume"}),
        403,
        "request_answered",
    )


def test_public_endpoints_are_throttled_per_identifier_and_per_request(api, people, published_notice):
    public, _ = api.client()
    for _ in range(5):
        assert (
            public.post(
                f"{API}/privacy-requests",
                json={"kind": "disclosure", "email": A_EMAIL, "notice_version": published_notice},
            ).status_code
            == 202
        )
    problem(
        public.post(
            f"{API}/privacy-requests",
            json={"kind": "disclosure", "email": A_EMAIL, "notice_version": published_notice},
        ),
        429,
        "too_many_attempts",
    )
    # the same limit applies whatever the case / spacing of the address
    problem(
        public.post(
            f"{API}/privacy-requests",
            json={"kind": "erasure", "email": " Hanako.Sato@example.jp", "notice_version": published_notice},
        ),
        429,
    )
    r = public.post(
        f"{API}/privacy-requests",
        json={"kind": "disclosure", "email": B_EMAIL, "notice_version": published_notice},
    )
    rid, hdr = r.json()["request_id"], {"Mamori-Request-Token": r.json()["token"]}
    statuses = [
        public.post(f"{API}/privacy-requests/{rid}/verify", headers=hdr, json={"code": "123456"}).status_code
        for _ in range(11)
    ]
    assert statuses[-1] == 429 and 429 not in statuses[:10]
    # after 5 wrong codes even the right one fails
    code = last_code(api.rt, B_EMAIL)
    assert (
        public.post(f"{API}/privacy-requests/{rid}/verify", headers=hdr, json={"code": code}).status_code
        == 429
    )
    sent = [m for m in outbox(api.rt) if m["to"] == B_EMAIL]
    assert len(sent) == 1


def test_public_bad_input_is_refused_without_echo(api):
    public, _ = api.client()
    for body in (
        {"kind": "disclosure"},
        {"kind": "gossip", "email": A_EMAIL},
        {"kind": "disclosure", "email": "not-an-email"},
        {"kind": "disclosure", "email": A_EMAIL, "customer_id": "../../etc"},
        {"kind": "disclosure", "email": A_EMAIL, "categories": ["DROP TABLE"]},
        {"kind": "disclosure", "email": "secret-\x00@example.jp"},
    ):
        r = public.post(f"{API}/privacy-requests", json=body)
        assert r.status_code == 422, (body, r.text)
        assert "secret" not in r.text and "not-an-email" not in r.text
    problem(public.get(f"{API}/privacy-requests/{'a' * 32}"), 422)  # token header missing
    problem(public.get(f"{API}/privacy-requests/nothex", headers={"Mamori-Request-Token": "x" * 20}), 422)


def test_staff_routes_authorisation_matrix_R_23_2(api, people):
    anon, _ = api.client()
    problem(anon.get(f"{API}/rights"), 401)
    problem(anon.post(f"{API}/rights", json={"kind": "disclosure"}), 401)
    analyst, acsrf = api.client("analyst")
    problem(
        analyst.post(
            f"{API}/rights", headers={"X-CSRF-Token": acsrf}, json={"kind": "disclosure", "emails": [A_EMAIL]}
        ),
        403,
        rule="R-23-2",
    )
    sato, scsrf = api.client("sato")
    r = sato.post(
        f"{API}/rights", headers={"X-CSRF-Token": scsrf}, json={"kind": "stop_use", "emails": [A_EMAIL]}
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    problem(sato.get(f"{API}/rights"), 403, rule="R-23-2")
    problem(sato.get(f"{API}/rights/{rid}"), 403, rule="R-23-2")
    problem(
        sato.post(f"{API}/rights/{rid}/fulfil", headers={"X-CSRF-Token": scsrf}, json={}), 403, rule="R-23-2"
    )
    problem(
        sato.post(
            f"{API}/rights/{rid}/refuse",
            headers={"X-CSRF-Token": scsrf},
            json={"ground": "not_justified", "explanation": "調査の結果、理由がありません"},
        ),
        403,
        rule="R-23-2",
    )
    # CSRF is required for cookie writes
    problem(
        sato.post(f"{API}/rights", json={"kind": "disclosure", "emails": [A_EMAIL]}), 403, "csrf_rejected"
    )
    po, pcsrf = api.client("po")
    h = {"X-CSRF-Token": pcsrf}
    fee = problem(po.post(f"{API}/rights/{rid}/fee", headers=h, json={"yen": 500}), 403, rule="R-38-1")
    assert fee["article"] == "法第38条"  # staff see the rule id and the article it implements
    problem(
        po.post(f"{API}/rights/{rid}/extend", headers=h, json={"months": 1, "reason": "volume"}),
        403,
        rule="R-39-1",
    )
    problem(po.post(f"{API}/rights/{rid}/extend", headers=h, json={"months": 3, "reason": "volume"}), 422)
    problem(
        po.post(
            f"{API}/rights/{rid}/refuse",
            headers=h,
            json={"ground": "harm_to_person", "explanation": "調査の結果、理由がありません"},
        ),
        422,
        "bad_ground",
    )
    problem(  # 法第36条: a refusal goes out only with a concrete reason
        po.post(
            f"{API}/rights/{rid}/refuse", headers=h, json={"ground": "not_justified", "explanation": "理由"}
        ),
        422,
        "explanation_required",
    )
    problem(po.get(f"{API}/rights/{'0' * 32}"), 404, "request_not_found")
    problem(po.post(f"{API}/rights", headers=h, json={"kind": "disclosure", "fee_yen": 999999}), 422)
    r = po.post(
        f"{API}/rights/{rid}/refuse",
        headers=h,
        json={"ground": "not_justified", "explanation": "法令上の保存義務があり、消去できません"},
    )
    assert r.status_code == 200 and r.json()["outcome"] == "refused"
    assert (
        "法令上の保存義務" not in r.text
    )  # the explanation goes to the person (and sealed), not into the view


def test_every_staff_route_refuses_roles_without_the_permission_R_23_2(api, people):
    po, pcsrf = api.client("po")
    rid = po.post(
        f"{API}/rights", headers={"X-CSRF-Token": pcsrf}, json={"kind": "disclosure", "emails": [A_EMAIL]}
    ).json()["id"]
    routes = [
        ("GET", f"{API}/rights", None),
        ("GET", f"{API}/rights/{rid}", None),
        ("GET", f"{API}/rights/{rid}/categories", None),
        ("POST", f"{API}/rights/{rid}/scope", {"categories": ["customers:contact"]}),
        ("POST", f"{API}/rights/{rid}/fulfil", {"format": "json"}),
        (
            "POST",
            f"{API}/rights/{rid}/refuse",
            {"ground": "harm_to_person", "explanation": "第三者の権利を害するため"},
        ),
        ("POST", f"{API}/rights/{rid}/extend", {"months": 1, "reason": "volume"}),
        ("POST", f"{API}/rights/{rid}/fee", {"yen": 100}),
        (
            "POST",
            f"{API}/rights/{rid}/verify",
            {"method": "id_document", "customer_id": people["a"], "document": "passport"},
        ),
    ]
    intake = [
        ("POST", f"{API}/rights/{rid}/identifiers", {"kind": "phone", "value": "090-1111-2222"}),
        ("POST", f"{API}/rights/{rid}/send-code", {"identifier_id": "0" * 32}),
    ]
    analyst, acsrf = api.client("analyst")
    support, scsrf = api.client("support")
    for method, path, body in routes + intake:
        problem(analyst.request(method, path, json=body, headers={"X-CSRF-Token": acsrf}), 403, rule="R-23-2")
    for method, path, body in routes:
        problem(support.request(method, path, json=body, headers={"X-CSRF-Token": scsrf}), 403, rule="R-23-2")
    # support may take identifiers and send codes; bad input is 422 without echo
    ok = support.post(
        f"{API}/rights/{rid}/identifiers",
        headers={"X-CSRF-Token": scsrf},
        json={"kind": "phone", "value": "090-1111-2222"},
    )
    assert ok.status_code == 200 and ok.json()["verified"] is False
    bad = support.post(
        f"{API}/rights/{rid}/identifiers",
        headers={"X-CSRF-Token": scsrf},
        json={"kind": "phone", "value": "secret-value"},
    )
    problem(bad, 422)
    assert "secret-value" not in bad.text
    problem(
        support.post(
            f"{API}/rights/{rid}/send-code", headers={"X-CSRF-Token": scsrf}, json={"identifier_id": "0" * 32}
        ),
        404,
    )
    problem(
        support.post(
            f"{API}/rights/{rid}/verify", headers={"X-CSRF-Token": scsrf}, json={"method": "email_code"}
        ),
        422,
    )
    problem(
        support.post(
            f"{API}/rights/{rid}/verify",
            headers={"X-CSRF-Token": scsrf},
            json={"method": "callback", "identifier_id": ok.json()["id"], "code": "12"},
        ),
        422,
    )


def test_public_request_without_the_shown_notice_is_refused_R_21_2(api, people):
    public, _ = api.client()
    from sqlalchemy import text

    from tests.rights.notice_support import publish

    def count() -> int:
        with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
            return int(ctx.session.execute(text("SELECT count(*) FROM rights_requests")).scalar_one())

    # no notice published: nothing can name a shown version
    body = {"kind": "disclosure", "email": A_EMAIL}
    problem(public.post(f"{API}/privacy-requests", json=body), 422, "notice_not_shown", "R-21-2")
    problem(
        public.post(f"{API}/privacy-requests", json={**body, "notice_version": 1}),
        422,
        "notice_not_shown",
        "R-21-2",
    )
    version = publish(api.rt)
    # published, but the form did not say which version it showed, or named one that does not exist
    missing = problem(public.post(f"{API}/privacy-requests", json=body), 422, "notice_not_shown", "R-21-2")
    assert "公表事項" in missing["detail"] and A_EMAIL not in str(missing)
    problem(
        public.post(f"{API}/privacy-requests", json={**body, "notice_version": version + 1}),
        422,
        "notice_not_shown",
        "R-21-2",
    )
    assert count() == 0 and not [m for m in outbox(api.rt) if m["to"] == A_EMAIL]  # nothing stored or sent
    ok = public.post(f"{API}/privacy-requests", json={**body, "notice_version": version})
    assert ok.status_code == 202, ok.text
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        stored = ctx.session.execute(
            text("SELECT notice_version FROM rights_requests WHERE id = :i"),
            {"i": ok.json()["request_id"]},
        ).scalar_one()
    assert stored == version
