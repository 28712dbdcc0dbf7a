"""The provision REST routes: the privacy officer provides with per-person refusals (403, details.refused),
receipts through the customers import, joint use / opt-out / referable / relay routes, denials for other roles,
and bad input (422)."""

from __future__ import annotations

import re

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from tests.api.conftest import Api
from tests.factories import make_customer

API = "/api/v1"
CP = {
    "kind": "third_party",
    "name": "架空提携株式会社",
    "address": "東京都港区架空1-1",
    "representative": "代表 架空",
}


@pytest.fixture
def api(runtime):
    return Api(runtime)


def post(c, csrf, path, body=None):
    return c.post(f"{API}{path}", json=body, headers={"X-CSRF-Token": csrf})


def test_provide_via_api_with_refusals_R_27_1(api):
    po, csrf = api.client("po")
    cp = post(po, csrf, "/counterparties", CP).json()["id"]
    a = make_customer(api.rt, _actor(api, "po"), email="a@example.jp")
    b = make_customer(api.rt, _actor(api, "po"), email="b@example.jp")
    r = post(
        po,
        csrf,
        "/provision-consents",
        {"customer_id": a, "counterparty_id": cp, "purpose": "contract", "method": "paper"},
    )
    assert r.status_code == 201, r.text
    body = {"counterparty_id": cp, "purpose": "contract", "fields": ["name", "email"], "customer_ids": [a, b]}
    r = post(po, csrf, "/provisions", body)
    assert r.status_code == 403
    problem = r.json()
    assert problem["rule_id"] == "R-27-1"
    assert f"{b} [R-27-1]" in problem["detail"] and a not in problem["detail"]
    r = post(po, csrf, "/provisions", {**body, "skip_refused": True})
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["rows"] == [{"customer_id": a, "name": "山田 太郎", "email": "a@example.jp"}]
    recs = po.get(f"{API}/provision-records", params={"customer_id": a}).json()
    assert len(recs) == 1 and recs[0]["kind"] == "consent"
    assert po.get(f"{API}/provision-records/{recs[0]['id']}").json()["subject"] == {"name": "山田 太郎"}
    assert post(po, csrf, "/provision-records/purge-expired").json()["purged"] == 0
    listed = po.get(f"{API}/counterparties").json()
    assert [c["id"] for c in listed] == [cp]


def _actor(api, name):
    from mamori.staff import service as staff_service

    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
        return staff_service.actor_for(s, name)


def test_other_roles_are_denied_and_bad_input_is_422(api):
    po, csrf = api.client("po")
    cp = post(po, csrf, "/counterparties", CP).json()["id"]
    for who in ("sato", "analyst", "support"):
        c, tok = api.client(who)
        assert c.get(f"{API}/counterparties").status_code == 403
        assert post(c, tok, "/counterparties", CP).status_code == 403
        r = post(
            c,
            tok,
            "/provisions",
            {"counterparty_id": cp, "purpose": "contract", "fields": ["name"], "customer_ids": ["a" * 32]},
        )
        assert r.status_code == 403
    for path, body in (
        ("/counterparties", {**CP, "kind": "friend"}),
        ("/counterparties", {**CP, "country": "JPN"}),
        ("/provisions", {"counterparty_id": cp, "purpose": "contract", "fields": []}),
        (
            "/provisions",
            {"counterparty_id": cp, "purpose": "contract", "fields": ["name"], "customer_ids": ["x"]},
        ),
        (
            "/opt-out-filings",
            {
                "purpose": "contract",
                "items": ["name"],
                "acquisition": "a",
                "provision_method": "b",
                "request_method": "c",
                "filed_at": "2026-11-01T00:00:00",
                "notified_at": "2026-11-01T00:00:00+09:00",
                "start_at": "2026-12-10T00:00:00+09:00",
            },
        ),
        ("/relays", {"requester_id": "a" * 32, "target_id": "b" * 32, "message": ""}),
        (
            "/referable/provisions",
            {"counterparty_id": cp, "items": ["cookie_id"], "count": 0, "linkage_expected": True},
        ),
    ):
        assert post(po, csrf, path, body).status_code == 422, (path, body)
    assert po.get(f"{API}/provision-records/not-an-id").status_code == 422
    assert po.get(f"{API}/counterparties/{'0' * 32}").status_code == 404
    assert po.get(f"{API}/counterparties", params={"kind": "friend"}).status_code == 422


def test_receipt_joint_use_opt_out_referable_relay_routes_R_30_1_R_27_4_R_31_1(api):
    po, csrf = api.client("po")
    provider = post(po, csrf, "/counterparties", {**CP, "name": "架空名簿株式会社"}).json()["id"]
    receipt = {
        "counterparty_id": provider,
        "variant": "consent",
        "identity_confirmed_by": "申告書",
        "acquisition": "会員登録時の同意",
        "acquisition_lawful": False,
        "consent_confirmed": True,
        "purposes": ["contract"],
        "csv": "name,email\n受領 一郎,ichiro@example.jp\n",
    }
    r = post(po, csrf, "/receipts", receipt)
    assert r.status_code == 403 and r.json()["rule_id"] == "R-20-1"
    r = post(po, csrf, "/receipts", {**receipt, "acquisition_lawful": True})
    assert r.status_code == 201, r.text
    assert r.json()["receipt"]["person_count"] == 1
    assert len(po.get(f"{API}/provision-records", params={"direction": "received"}).json()) == 1

    member = post(po, csrf, "/counterparties", {**CP, "kind": "joint_user", "name": "架空子会社"}).json()[
        "id"
    ]
    decl = {
        "code": "group",
        "items": ["name", "email"],
        "member_ids": [member],
        "users_scope": "架空グループ各社",
        "purposes": ["contract"],
        "responsible_name": "架空HD",
        "responsible_address": "東京都千代田区架空",
        "responsible_representative": "代表 架空",
        "notified_at": "2026-11-01T00:00:00+09:00",
        "effective_from": "2026-11-10T00:00:00+09:00",
    }
    d = post(po, csrf, "/joint-uses", decl)
    assert d.status_code == 201, d.text
    r = post(
        po,
        csrf,
        f"/joint-uses/{d.json()['id']}/changes",
        {
            "item": "purposes",
            "new_value": "contract,marketing-email",
            "notified_at": "2026-11-23T00:00:00+09:00",
            "effective_at": "2026-11-23T00:00:00+09:00",
        },
    )
    assert r.status_code == 403 and r.json()["rule_id"] == "R-27-3"
    r = post(
        po,
        csrf,
        f"/joint-uses/{d.json()['id']}/changes",
        {
            "item": "responsible_name",
            "new_value": "x" * 201,
            "notified_at": "2026-11-23T00:00:00+09:00",
            "effective_at": "2026-11-23T00:00:00+09:00",
        },
    )
    assert r.status_code == 422
    assert po.get(f"{API}/joint-uses/{d.json()['id']}").json()["version"] == 1

    r = post(
        po,
        csrf,
        "/opt-out-filings",
        {
            "purpose": "contract",
            "items": ["name"],
            "acquisition": "web",
            "provision_method": "csv",
            "request_method": "form",
            "filed_at": "2026-11-01T00:00:00+09:00",
            "notified_at": "2026-11-01T00:00:00+09:00",
            "start_at": "2026-11-10T00:00:00+09:00",
        },
    )
    assert r.status_code == 403 and r.json()["rule_id"] == "R-27-4"

    r = post(
        po,
        csrf,
        "/referable/provisions",
        {"counterparty_id": provider, "items": ["cookie_id"], "count": 5, "linkage_expected": True},
    )
    assert r.status_code == 403 and r.json()["rule_id"] == "R-31-1"

    a = make_customer(api.rt, _actor(api, "po"), email="a@example.jp")
    b = make_customer(api.rt, _actor(api, "po"), email="b@example.jp")
    r = post(po, csrf, "/relays", {"requester_id": a, "target_id": b, "message": "ご連絡ください"})
    assert r.status_code == 201 and r.json()["disclosure_refused_rule"] == "R-27-1"
    rid = r.json()["id"]
    assert (
        post(po, csrf, f"/relays/{rid}/consent", {"method": "oral", "agree": False}).json()["status"]
        == "declined"
    )
    assert post(po, csrf, f"/relays/{rid}/deliver").status_code == 409


Z = "0" * 32
WHEN = "2026-11-01T00:00:00+09:00"
# every provision route with a well-formed request
ROUTES = [
    ("post", "/counterparties", CP),
    ("get", "/counterparties", None),
    ("get", f"/counterparties/{Z}", None),
    ("post", f"/counterparties/{Z}/sheets", {"protection_system": "s", "recipient_measures": "m"}),
    ("post", f"/counterparties/{Z}/reviews", {}),
    (
        "post",
        "/provision-consents",
        {"customer_id": Z, "counterparty_id": Z, "purpose": "contract", "method": "oral"},
    ),
    ("get", "/provision-consents", None),
    ("post", f"/provision-consents/{Z}/withdraw", None),
    (
        "post",
        "/provisions",
        {"counterparty_id": Z, "purpose": "contract", "fields": ["name"], "customer_ids": [Z]},
    ),
    ("post", "/provision-lineage/improper", {"customer_id": Z, "reference": "r"}),
    ("get", "/provision-records", None),
    ("get", f"/provision-records/{Z}", None),
    ("post", "/provision-records/purge-expired", None),
    (
        "post",
        "/receipts",
        {
            "counterparty_id": Z,
            "variant": "non_operator",
            "identity_confirmed_by": "i",
            "acquisition": "a",
            "acquisition_lawful": True,
            "purposes": ["contract"],
            "csv": "name\nx\n",
        },
    ),
    (
        "post",
        "/joint-uses",
        {
            "code": "jx",
            "items": ["name"],
            "member_ids": [Z],
            "users_scope": "s",
            "purposes": ["contract"],
            "responsible_name": "n",
            "responsible_address": "a",
            "responsible_representative": "r",
            "notified_at": WHEN,
            "effective_from": WHEN,
        },
    ),
    ("get", "/joint-uses", None),
    ("get", f"/joint-uses/{Z}", None),
    (
        "post",
        f"/joint-uses/{Z}/changes",
        {"item": "purposes", "new_value": "contract", "notified_at": WHEN, "effective_at": WHEN},
    ),
    (
        "post",
        "/opt-out-filings",
        {
            "purpose": "contract",
            "items": ["name"],
            "acquisition": "a",
            "provision_method": "b",
            "request_method": "c",
            "filed_at": WHEN,
            "notified_at": WHEN,
            "start_at": "2026-12-10T00:00:00+09:00",
        },
    ),
    ("get", "/opt-out-filings", None),
    ("get", f"/opt-out-filings/{Z}", None),
    (
        "post",
        f"/opt-out-filings/{Z}/changes",
        {"item": "stop", "new_value": "v", "notified_at": WHEN, "filed_at": WHEN, "effective_at": WHEN},
    ),
    (
        "post",
        "/referable/confirmations",
        {"counterparty_id": Z, "items": ["cookie_id"], "method": "declaration", "evidence": "e"},
    ),
    (
        "post",
        "/referable/provisions",
        {"counterparty_id": Z, "items": ["cookie_id"], "count": 1, "linkage_expected": False},
    ),
    ("post", "/relays", {"requester_id": Z, "target_id": "1" * 32, "message": "m"}),
    ("post", f"/relays/{Z}/consent", {"method": "oral"}),
    ("post", f"/relays/{Z}/deliver", None),
]


def test_every_provision_route_refuses_other_roles_and_is_documented(api):
    paths = {
        (m.lower(), r.path.removeprefix(API))
        for r in api.app.routes
        if "provision" in getattr(r, "tags", [])
        for m in getattr(r, "methods", ())
    }
    covered = {(m, p.replace(Z, "{x}").replace("1" * 32, "{x}")) for m, p, _ in ROUTES}
    normalised = {(m, re.sub(r"\{[a-z_]+\}", "{x}", p)) for m, p in paths}
    assert normalised <= covered, normalised - covered
    c, tok = api.client("analyst")
    for method, path, body in ROUTES:
        if method == "get":
            r = c.get(f"{API}{path}")
        else:
            r = c.post(f"{API}{path}", json=body, headers={"X-CSRF-Token": tok})
        assert r.status_code == 403, (path, r.status_code, r.text)
        assert r.json()["rule_id"] == "R-23-2"
    anonymous, _ = api.client(None)
    assert anonymous.get(f"{API}/counterparties").status_code == 401
