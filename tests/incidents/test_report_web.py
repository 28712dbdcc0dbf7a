"""The incident page's report section (issue 22, R-26-4 / R-26-5): 速報 and 確報 side by side, drafting, versions,
downloads, the entrustor notice."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.conftest import USERS, Api
from tests.incidents.report_support import actors_of, add_scope, set_fields, story
from tests.incidents.support import new_incident

HX = {"HX-Request": "true"}


@pytest.fixture
def s(runtime) -> dict[str, Any]:
    api = Api(runtime)
    return {"api": api, "rt": runtime, **story(runtime, actors_of(runtime, list(USERS)))}


def test_draft_from_the_page_side_by_side_and_versions(s: dict[str, Any]) -> None:
    api, inc, rt = s["api"], s["incident"], s["rt"]
    c, csrf = api.client("po")
    r = c.get(f"/incidents/{inc.id}/report", headers=HX)
    assert r.status_code == 200 and 'id="report-none"' in r.text and 'id="draft-prelim"' in r.text
    assert "<html" not in r.text  # a fragment
    r = c.post(f"/incidents/{inc.id}/report", data={"csrf": csrf, "stage": "prelim"}, headers=HX)
    assert r.status_code == 200 and 'id="report-notice"' in r.text and "速報 第1版を作成しました" in r.text
    assert 'id="report-item-9"' in r.text and "調査中" in r.text and "試験" not in r.text
    assert f"/api/v1/incidents/{inc.id}/reports/prelim/1.pdf" in r.text
    set_fields(rt, inc.id, secondary_damage="二次被害なし。")
    r = c.post(
        f"/incidents/{inc.id}/report", data={"csrf": csrf, "stage": "prelim"}, follow_redirects=False
    )  # a plain post: back to the incident page
    assert r.status_code == 303 and r.headers["location"] == f"/incidents/{inc.id}#report"
    c.post(f"/incidents/{inc.id}/report", data={"csrf": csrf, "stage": "final"}, headers=HX)
    page = c.get(f"/incidents/{inc.ref}/report", headers=HX).text
    assert "速報 第2版" in page and "確報 第1版" in page
    row5 = re.search(r'<tr id="report-item-5"[^>]*>(.*?)</tr>', page, re.S)
    assert row5 and "二次被害なし。" in row5.group(1)
    # choose the first 速報: item (5) was unknown then, and differs from the 確報
    old = c.get(f"/incidents/{inc.id}/report?prelim=1", headers=HX).text
    row5 = re.search(r'<tr id="report-item-5"([^>]*)>(.*?)</tr>', old, re.S)
    assert row5 and 'class="changed"' in row5.group(1) and "調査中" in row5.group(2)
    pr = c.get(f"/incidents/{inc.id}/report/print?stage=prelim&version=1")
    assert pr.status_code == 200 and 'id="item-1"' in pr.text and "(9) その他参考となる事項" in pr.text
    # unchanged: not stored again
    r = c.post(f"/incidents/{inc.id}/report", data={"csrf": csrf, "stage": "final"}, headers=HX)
    assert "変わっていないため" in r.text


def test_bad_input_and_refusals(s: dict[str, Any]) -> None:
    api, inc = s["api"], s["incident"]
    c, csrf = api.client("po")
    r = c.post(f"/incidents/{inc.id}/report", data={"csrf": csrf, "stage": "試験"}, headers=HX)
    assert r.status_code == 422 and 'id="report-failure"' in r.text and "試験" not in r.text
    r = c.post(f"/incidents/{inc.id}/report", data={"stage": "prelim"}, headers=HX)
    assert r.status_code == 403  # no CSRF token
    assert c.get("/incidents/INC-0999/report", headers=HX).status_code == 404
    r = c.post(f"/incidents/{inc.id}/entrustor-notice", data={"csrf": csrf}, headers=HX)
    assert r.status_code == 422 and "R-26-5" in r.text
    admin, acsrf = api.client("admin")
    page = admin.get(f"/incidents/{inc.id}/report", headers=HX)
    assert page.status_code == 200 and 'id="draft-prelim"' not in page.text  # reads, may not draft
    r = admin.post(f"/incidents/{inc.id}/report", data={"csrf": acsrf, "stage": "prelim"}, headers=HX)
    assert r.status_code == 403
    n, _ = api.client("sato")
    assert n.get(f"/incidents/{inc.id}/report", headers=HX).status_code == 403
    denied = {(e.actor_role, e.action) for e in s["rt"].audit.tail(300) if e.decision == "deny"}
    assert ("admin", "incident.manage") in denied and ("sales", "incident.read") in denied


def test_an_outsourcees_incident_shows_the_entrustor_notice_R_26_5(s: dict[str, Any]) -> None:
    api, rt = s["api"], s["rt"]
    inc = new_incident(
        rt, s["actors"]["sato"], role="outsourcee", entrustor_name="架空百貨店株式会社", cause="misdelivery"
    )
    add_scope(rt, inc.id, {s["customers"][0]: ["name"]})
    c, csrf = api.client("po")
    page = c.get(f"/incidents/{inc.id}/report", headers=HX).text
    assert 'id="entrustor-none"' in page and 'id="draft-entrustor"' in page
    r = c.post(f"/incidents/{inc.id}/entrustor-notice", data={"csrf": csrf}, headers=HX)
    assert r.status_code == 200 and 'id="entrustor-notice"' in r.text and "架空百貨店株式会社" in r.text
    assert f"/api/v1/incidents/{inc.id}/reports/entrustor/1.pdf" in r.text
    pdf = c.get(f"/api/v1/incidents/{inc.id}/reports/entrustor/1.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
