"""REST routes of the PPC report and the entrustor notice (issue 22, R-26-4 / R-26-5)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader

from tests.api.conftest import USERS, Api
from tests.incidents.report_support import actors_of, add_scope, set_fields, story
from tests.incidents.support import new_incident


@pytest.fixture
def s(runtime) -> dict[str, Any]:
    api = Api(runtime)
    return {"api": api, "rt": runtime, **story(runtime, actors_of(runtime, list(USERS)))}


def test_draft_list_and_export(s: dict[str, Any]) -> None:
    api, inc = s["api"], s["incident"]
    c, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    r = c.post(f"/api/v1/incidents/{inc.ref}/reports", json={"stage": "prelim"}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 1 and [i["number"] for i in r.json()["body"]["items"]] == list(range(1, 10))
    r = c.post(f"/api/v1/incidents/{inc.id}/reports", json={"stage": "prelim"}, headers=h)
    assert r.status_code == 200 and r.json()["stored"] is False and r.json()["version"] == 1
    set_fields(s["rt"], inc.id, prevention="設定変更の二重確認を手順化する。")
    r = c.post(f"/api/v1/incidents/{inc.ref}/reports", json={"stage": "final"}, headers=h)
    assert r.status_code == 201
    r = c.get(f"/api/v1/incidents/{inc.ref}/reports")
    assert r.status_code == 200
    both = r.json()
    assert both["prelim"]["version"] == 1 and both["final"]["version"] == 1
    changed = [d["number"] for d in both["diff"] if d["changed"]]
    assert 8 in changed and 2 not in changed and 3 not in changed  # unknown items: 調査中 → 判明次第…
    assert both["diff"][7]["final"].startswith("設定変更の二重確認") and both["diff"][7]["prelim"] == "調査中"
    pdf = c.get(f"/api/v1/incidents/{inc.ref}/reports/prelim/1.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "(2) 漏えい等が発生し" in text and "調査中" in text
    html = c.get(f"/api/v1/incidents/{inc.ref}/reports/final/latest", params={"format": "html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert 'id="item-8"' in html.text and "二重確認" in html.text and "試験" not in html.text
    js = c.get(f"/api/v1/incidents/{inc.ref}/reports/final/1.json")
    assert js.status_code == 200 and js.json()["stage"] == "final"
    assert c.get(f"/api/v1/incidents/{inc.ref}/reports/final/1").json()["version"] == 1


def test_bad_input_is_422_without_echo(s: dict[str, Any]) -> None:
    api, inc = s["api"], s["incident"]
    c, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    for bad in ({"stage": "entrustor"}, {"stage": "試験一郎"}, {}):
        r = c.post(f"/api/v1/incidents/{inc.ref}/reports", json=bad, headers=h)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        assert "試験一郎" not in r.text
    c.post(f"/api/v1/incidents/{inc.ref}/reports", json={"stage": "prelim"}, headers=h)
    r = c.get(f"/api/v1/incidents/{inc.ref}/reports/prelim/1.docx")
    assert r.status_code == 422 and r.json()["code"] == "bad_format"
    r = c.get(f"/api/v1/incidents/{inc.ref}/reports/draft/1", params={"format": "pdf"})
    assert r.status_code == 422 and r.json()["code"] == "bad_stage"
    assert c.get(f"/api/v1/incidents/{inc.ref}/reports/prelim/x1.pdf").status_code == 422
    assert c.get(f"/api/v1/incidents/{inc.ref}/reports/prelim/7.pdf").status_code == 404
    assert c.get("/api/v1/incidents/INC-0999/reports").status_code == 404


def test_unauthorised_roles_are_refused_and_audited(s: dict[str, Any]) -> None:
    api, inc, rt = s["api"], s["incident"], s["rt"]
    for user in ("sato", "admin", "analyst"):
        c, csrf = api.client(user)
        r = c.post(
            f"/api/v1/incidents/{inc.ref}/reports", json={"stage": "prelim"}, headers={"X-CSRF-Token": csrf}
        )
        assert r.status_code == 403 and r.json()["rule_id"] == "R-23-2", user
    a, _ = api.client("admin")
    assert a.get(f"/api/v1/incidents/{inc.ref}/reports").status_code == 200  # the administrator reads
    n, _ = api.client("analyst")
    assert n.get(f"/api/v1/incidents/{inc.ref}/reports").status_code == 403
    assert n.get(f"/api/v1/incidents/{inc.ref}/reports/prelim/1.pdf").status_code == 403
    denied = [(e.actor_role, e.action) for e in rt.audit.tail(300) if e.decision == "deny"]
    assert ("sales", "incident.manage") in denied and ("analyst", "incident.read") in denied
    assert a.get(f"/api/v1/incidents/{inc.ref}/reports").json()["versions"] == []


def test_an_outsourcees_incident_produces_the_entrustor_notice_R_26_5(s: dict[str, Any]) -> None:
    api, rt = s["api"], s["rt"]
    c, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    r = c.post(f"/api/v1/incidents/{s['incident'].ref}/entrustor-notice", headers=h)
    assert r.status_code == 422 and r.json()["rule_id"] == "R-26-5" and r.json()["code"] == "not_outsourcee"
    inc = new_incident(
        rt, s["actors"]["sato"], role="outsourcee", entrustor_name="架空百貨店株式会社", cause="misdelivery"
    )
    add_scope(rt, inc.id, {s["customers"][0]: ["name", "address"], s["customers"][1]: ["name"]})
    r = c.post(f"/api/v1/incidents/{inc.ref}/entrustor-notice", headers=h)
    assert r.status_code == 201, r.text
    notice = r.json()
    assert notice["stage"] == "entrustor" and notice["body"]["addressee"] == "架空百貨店株式会社"
    assert notice["body"]["items"][2]["facts"]["persons"] == 2
    pdf = c.get(f"/api/v1/incidents/{inc.ref}/reports/entrustor/latest.pdf")
    assert pdf.status_code == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "架空百貨店株式会社 御中" in text and "委託元への通知" in text
    assert c.post(f"/api/v1/incidents/{inc.ref}/entrustor-notice", headers=h).status_code == 200
    n, ncsrf = api.client("support")
    assert (
        n.post(f"/api/v1/incidents/{inc.ref}/entrustor-notice", headers={"X-CSRF-Token": ncsrf}).status_code
        == 403
    )
