"""The incidents web pages (issue 22): the board (sorted, overdue in red), registering by any member of staff, the
incident page with its sections, the classification fragment, editing, filing and closing; bad input 422 without
the value; other roles refused with the rule id."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.api.conftest import Api

FORM = {
    "title": "委託先サーバの設定誤りによる公開",
    "kind": "leak",
    "suspected": "1",
    "known_at": "2026-12-04T10:00",
    "known_by": "情報システム部",
    "discovered_by": "外部からの指摘",
    "cause": "external_attack",
    "cause_detail": "",
    "role": "operator",
}


@pytest.fixture
def api(runtime):
    runtime.clock.at = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)
    return Api(runtime)


def test_a_sales_rep_registers_and_sees_the_number_but_not_the_board(api: Api):
    c, csrf = api.client("sato")
    form = c.get("/incidents/new")
    assert form.status_code == 200 and "漏えい等事案の登録" in form.text
    r = c.post("/incidents", data={**FORM, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 200 and 'id="made-ref">INC-0001<' in r.text
    mine = c.get("/incidents/mine")
    assert mine.status_code == 200 and "INC-0001" in mine.text
    board = c.get("/incidents")
    assert board.status_code == 403 and "R-23-2" in board.text and "INC-0001" not in board.text
    assert c.get("/incidents/1").status_code == 403
    denied = [e for e in api.rt.audit.tail(50) if e.decision == "deny" and e.action == "incident.read"]
    assert denied


def test_the_officer_registers_sees_the_board_in_order_and_overdue_in_red(api: Api):
    c, csrf = api.client("po")
    r = c.post("/incidents", data={**FORM, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and re.match(r"^/incidents/[0-9a-f]{32}$", r.headers["location"])
    later = {**FORM, "title": "誤送信", "known_at": "2026-12-09T09:00", "cause": "insider"}
    assert c.post("/incidents", data={**later, "csrf": csrf}, follow_redirects=False).status_code == 303
    page = c.get("/incidents")
    assert page.status_code == 200
    assert page.text.index("INC-0001") < page.text.index("INC-0002")  # overdue (速報 8 Dec) first
    assert 'id="row-INC-0001" class="has-overdue"' in page.text and 'id="row-INC-0002" class=""' in page.text
    assert "令和" in page.text  # 和暦
    incident = c.get(r.headers["location"])
    assert incident.status_code == 200
    for part in ("scope", "report", "notices", "containment"):
        assert f'hx-get="{r.headers["location"]}/{part}"' in incident.text
    assert "不正の目的" in incident.text and "2027年2月1日" in incident.text
    fragment = c.get(f"{r.headers['location']}/classification", headers={"HX-Request": "true"})
    assert (
        fragment.status_code == 200 and "<html" not in fragment.text and 'id="cls-persons"' in fragment.text
    )


def test_edit_file_and_close_from_the_page(api: Api):
    c, csrf = api.client("po")
    loc = c.post("/incidents", data={**FORM, "csrf": csrf}, follow_redirects=False).headers["location"]
    edit = c.get(f"{loc}/edit")
    assert edit.status_code == 200 and 'name="version" value="1"' in edit.text
    data = {
        **FORM,
        "csrf": csrf,
        "version": "1",
        "wrongful": "no",
        "cause": "misconfiguration",
        "prevention": "公開設定の点検",
    }
    r = c.post(f"{loc}/edit", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = c.get(loc).text
    assert "公開設定の点検" in page and "不要" in page  # no trigger: no report
    secret = "山田太郎さん（090-1234-5678）"
    bad = c.post(f"{loc}/edit", data={**data, "version": "2", "other": secret}, follow_redirects=False)
    assert bad.status_code == 422 and "090-1234-5678" not in bad.text and "山田太郎" not in bad.text
    stale = c.post(f"{loc}/edit", data={**data, "version": "1", "title": "古い版"}, follow_redirects=False)
    assert stale.status_code == 409
    filed = c.post(
        f"{loc}/filings",
        data={"csrf": csrf, "what": "prelim", "at": "2026-12-05T09:00"},
        follow_redirects=False,
    )
    assert filed.status_code == 303
    assert "2026年12月5日 09:00" in c.get(loc).text
    closed = c.post(f"{loc}/close", data={"csrf": csrf}, follow_redirects=False)
    assert closed.status_code == 303
    assert 'id="incident-status">終了' in c.get(loc).text


def test_bad_input_and_csrf(api: Api):
    c, csrf = api.client("po")
    bad = c.post("/incidents", data={**FORM, "csrf": csrf, "cause": "aliens-did-it"}, follow_redirects=False)
    assert bad.status_code == 422 and "aliens-did-it" not in bad.text
    address = "taro.yamada@example.jp"
    bad = c.post(
        "/incidents",
        data={**FORM, "csrf": csrf, "cause_detail": f"{address} に誤送信"},
        follow_redirects=False,
    )
    assert bad.status_code == 422 and address not in bad.text
    bad = c.post("/incidents", data={**FORM, "csrf": csrf, "known_at": ""}, follow_redirects=False)
    assert bad.status_code == 422
    assert c.post("/incidents", data=FORM, follow_redirects=False).status_code == 403  # no CSRF
    assert c.get("/incidents/9999").status_code == 404
    assert c.get("/incidents/..%2Fetc").status_code in (404, 422)


def test_admin_reads_but_cannot_edit(api: Api):
    c, csrf = api.client("po")
    loc = c.post("/incidents", data={**FORM, "csrf": csrf}, follow_redirects=False).headers["location"]
    a, acsrf = api.client("admin")
    assert a.get("/incidents").status_code == 200
    page = a.get(loc)
    assert page.status_code == 200 and 'id="filing-form"' not in page.text
    assert a.get(f"{loc}/edit").status_code == 403
    r = a.post(f"{loc}/close", data={"csrf": acsrf}, follow_redirects=False)
    assert r.status_code == 403 and "R-23-2" in r.text
