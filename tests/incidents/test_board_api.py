"""/api/v1/incidents (issue 22): register, board, show, change, classification, filings, close, mine — the happy
path, bad input (422 problem+json without the value), other roles refused (403 with R-23-2, audited)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.api.conftest import Api

API = "/api/v1/incidents"
BODY = {
    "title": "設定誤りによる顧客メールアドレスの公開",
    "kind": "leak",
    "suspected": True,
    "known_at": "2026-12-04T10:00:00+09:00",
    "known_by": "情報システム部",
    "discovered_by": "外部からの指摘",
    "cause": "insider",
}


@pytest.fixture
def api(runtime):
    return Api(runtime)


def test_register_board_show_edit_classify_file_close(api: Api):
    api.rt.clock.at = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    sales, sales_csrf = api.client("sato")
    r = sales.post(API, json=BODY, headers={"X-CSRF-Token": sales_csrf})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["ref"] == "INC-0001" and made["known_at"].startswith("2026-12-04T01:00:00")
    mine = sales.get(f"{API}/mine")
    assert mine.status_code == 200 and [m["ref"] for m in mine.json()] == ["INC-0001"]
    assert set(mine.json()[0]) == {"id", "ref", "title", "status", "created_at"}
    c, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    board = c.get(API).json()
    assert [b["ref"] for b in board] == ["INC-0001"] and board[0]["triggers"] == ["wrongful"]
    assert board[0]["next_kind"] == "prelim" and board[0]["final_due"] == "2027-02-01"
    assert c.get(API, params={"status": "closed"}).json() == []
    shown = c.get(f"{API}/INC-0001")
    assert shown.status_code == 200 and shown.json()["deadlines"]["final_days"] == 60
    assert c.get(f"{API}/{made['id']}").json()["incident"]["id"] == made["id"]
    cls = c.get(f"{API}/1/classification").json()
    assert [t["code"] for t in cls["triggers"]] == ["wrongful"] and cls["reportable"] is True
    r = c.patch(f"{API}/1", json={"expect_version": 1, "prevention": "持ち出し制限の強化"}, headers=h)
    assert r.status_code == 200 and r.json()["version"] == 2
    stale = c.patch(f"{API}/1", json={"expect_version": 1, "other": "古い版"}, headers=h)
    assert stale.status_code == 409 and stale.headers["content-type"].startswith("application/problem+json")
    owed = c.post(f"{API}/1/close", headers=h)
    assert owed.status_code == 409 and owed.json()["rule_id"] == "R-26-3"
    r = c.post(f"{API}/1/filings", json={"what": "final", "at": "2026-12-05T09:00:00+09:00"}, headers=h)
    assert r.status_code == 200 and r.json()["final_filed_at"].startswith("2026-12-05T00:00:00")
    closed = c.post(f"{API}/1/close", headers=h)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert c.get(API, params={"status": "open"}).json() == []


def test_bad_input_is_422_problem_json_without_the_value(api: Api):
    c, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    naive = c.post(API, json={**BODY, "known_at": "2026-12-04T10:00:00"}, headers=h)
    assert naive.status_code == 422 and naive.headers["content-type"].startswith("application/problem+json")
    unknown = c.post(API, json={**BODY, "cause": "sabotage-by-aliens"}, headers=h)
    assert unknown.status_code == 422 and "sabotage-by-aliens" not in unknown.text
    personal = "山田太郎さん（taro.yamada@example.jp）宛の誤送信"
    pii = c.post(API, json={**BODY, "cause_detail": personal}, headers=h)
    assert pii.status_code == 422 and pii.json()["code"] == "personal_data_in_text"
    assert "山田" not in pii.text and "taro.yamada" not in pii.text
    assert c.post(API, json=BODY, headers=h).status_code == 201
    pii = c.patch(f"{API}/1", json={"other": "連絡先 090-1234-5678"}, headers=h)
    assert pii.status_code == 422 and "090-1234-5678" not in pii.text
    assert c.post(f"{API}/1/filings", json={"what": "nothing"}, headers=h).status_code == 422
    assert (
        c.post(f"{API}/1/filings", json={"what": "prelim", "at": "2026-12-05T09:00"}, headers=h).status_code
        == 422
    )
    assert c.get(f"{API}/9999").status_code == 404
    assert c.get(f"{API}/not-a-key").status_code == 422
    assert c.get(API, params={"status": "bogus"}).status_code == 422
    assert c.post(API, json=BODY).status_code == 403  # no CSRF


def test_other_roles_are_refused_with_r_23_2_and_audited(api: Api):
    c, csrf = api.client("po")
    assert c.post(API, json=BODY, headers={"X-CSRF-Token": csrf}).status_code == 201
    for user in ("sato", "support", "analyst"):
        cu, token = api.client(user)
        hu = {"X-CSRF-Token": token}
        for method, path, body in (
            ("GET", API, None),
            ("GET", f"{API}/1", None),
            ("GET", f"{API}/1/classification", None),
            ("PATCH", f"{API}/1", {"title": "変更"}),
            ("POST", f"{API}/1/filings", {"what": "prelim"}),
            ("POST", f"{API}/1/close", None),
        ):
            r = cu.request(method, path, json=body, headers=hu)
            assert r.status_code == 403 and r.json()["rule_id"] == "R-23-2", (user, path, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
    denied = [e for e in api.rt.audit.tail(200) if e.decision == "deny" and e.action == "incident.read"]
    assert len(denied) >= 3
    admin, token = api.client("admin")
    assert admin.get(API).status_code == 200  # reads the board
    assert admin.patch(f"{API}/1", json={"title": "変更"}, headers={"X-CSRF-Token": token}).status_code == 403
