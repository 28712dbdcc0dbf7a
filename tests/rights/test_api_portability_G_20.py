"""G-20 through the staff API: a portability request is answered with machine-readable data (json / csv); a letter
format (pdf / html) is refused as problem+json naming G-20, and nothing is fulfilled."""

from __future__ import annotations

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.rights.helpers import last_code

API = "/api/v1"
EMAIL = "lena.vogel@example.de"


@pytest.fixture
def api(runtime):
    return Api(runtime)


def test_api_portability_is_machine_readable_G_20(api):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
        po_actor = staff_service.actor_for(s, "po")
    cid = make_customer(api.rt, po_actor, name="Lena Vogel", kana=None, email=EMAIL, phone=None, origin="DE")
    po, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    r = po.post(
        f"{API}/rights",
        headers=h,
        json={"kind": "portability", "regime": "gdpr", "channel": "email", "emails": [EMAIL]},
    )
    assert r.status_code == 201, r.text
    rid, ident = r.json()["id"], r.json()["identifiers"][0]["id"]
    assert (
        po.post(f"{API}/rights/{rid}/send-code", headers=h, json={"identifier_id": ident}).status_code == 204
    )
    code = last_code(api.rt, EMAIL)
    verified = po.post(
        f"{API}/rights/{rid}/verify",
        headers=h,
        json={"method": "email_code", "identifier_id": ident, "code": code},
    )
    assert verified.json()["verified"] is True

    for fmt in ("pdf", "html"):
        bad = po.post(f"{API}/rights/{rid}/fulfil", headers=h, json={"format": fmt})
        assert bad.status_code == 422, bad.text
        assert bad.headers["content-type"].startswith("application/problem+json")
        body = bad.json()
        assert body["code"] == "portability_format" and body["rule_id"] == "G-20"
        assert "Lena" not in bad.text
    assert po.get(f"{API}/rights/{rid}").json()["status"] != "closed"  # the refusal fulfilled nothing

    got = po.post(f"{API}/rights/{rid}/fulfil", headers=h, json={"format": "json"})
    assert got.status_code == 200, got.text
    package = got.json()["package"]
    assert package["kind"] == "portability" and "G-20" in package["rule_ids"]
    assert package["subject_ids"] == [cid]
