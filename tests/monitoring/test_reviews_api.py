"""The access-review endpoints under /api/v1/monitoring/reviews (issue 25 "Deliver" 3): start, decide, close,
verify and read; one's own line and other roles are refused (403 problem+json, R-23-2, audited); bad input is
404 / 409 / 422 problem+json that never echoes the value and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.conftest import Api
from tests.staff.helpers import PASSWORD, code_now

BASE = "/api/v1/monitoring/reviews"


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()


@pytest.fixture
def po(api: Api):
    return api.client("po")


@pytest.fixture
def admin(api: Api):
    return api.client("admin")


def _start(client, csrf, **body):
    r = client.post(BASE, json=body or None, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    return r.json()


def _decide(client, csrf, review: dict, username: str, **body):
    line = next(x for x in review["items"] if x["username"] == username)
    return client.post(
        f"{BASE}/{review['ref']}/lines/{line['id']}",
        json={"decision": "confirm", **body},
        headers={"X-CSRF-Token": csrf},
    )


def test_start_decide_close_verify(api, po, admin):
    (po_client, po_csrf), (admin_client, admin_csrf) = po, admin
    due = po_client.get(f"{BASE}/due")
    assert due.status_code == 200, due.text
    assert due.json()["period"] == {"label": "2026-Q4", "start": "2026-10-01", "end": "2026-12-31"}
    assert due.json()["overdue"] is True and due.json()["open_review"] is None

    review = _start(po_client, po_csrf)
    assert review["ref"] == "AR-2026-Q4" and review["status"] == "open"
    flags = {x["username"]: set(x["flags"]) for x in review["items"]}
    # admin and po signed in just now; the others never did
    assert flags == {
        "admin": {"admin"},
        "po": set(),
        "sato": {"unused"},
        "suzuki": {"unused"},
        "support": {"unused"},
        "analyst": {"unused"},
    }
    assert po_client.get(f"{BASE}/due").json()["open_review"]["ref"] == "AR-2026-Q4"

    own = _problem(_decide(po_client, po_csrf, review, "po"), 403)
    assert own["code"] == "own_line" and own["rule_id"] == "R-23-2"
    early = _problem(po_client.post(f"{BASE}/{review['ref']}/close", headers={"X-CSRF-Token": po_csrf}), 409)
    assert early["code"] == "lines_undecided" and early["detail_en"].startswith("6 line(s)")

    changed = _decide(po_client, po_csrf, review, "analyst", decision="change", change="disable", note="異動")
    assert changed.status_code == 200, changed.text
    assert (changed.json()["decision"], changed.json()["change"]) == ("change", "disable")
    api.rt.clock.advance(
        timedelta(seconds=30)
    )  # the analyst, with the right password and code, is refused now
    anonymous, _ = api.client()
    sign_in = {"username": "analyst", "password": PASSWORD, "totp": code_now(api.rt, api.secrets["analyst"])}
    assert _problem(anonymous.post("/api/v1/auth/sign-in", json=sign_in), 401)["code"] == "unauthenticated"
    assert _decide(admin_client, admin_csrf, review, "po").status_code == 200
    for username in ("admin", "sato", "suzuki", "support"):
        assert _decide(po_client, po_csrf, review, username).status_code == 200

    closed = po_client.post(f"{BASE}/{review['id']}/close", headers={"X-CSRF-Token": po_csrf})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and len(closed.json()["digest"]) == 64
    assert closed.json()["changes"] == 1 and closed.json()["decided"] == 6
    check = admin_client.get(f"{BASE}/{review['ref']}/verify")
    assert check.status_code == 200 and check.json()["ok"] is True
    assert check.json()["audited"] == check.json()["stored"] == closed.json()["digest"]

    after = _problem(_decide(admin_client, admin_csrf, review, "sato"), 409)
    assert after["code"] == "review_closed"
    again = admin_client.post(f"{BASE}/{review['ref']}/close", headers={"X-CSRF-Token": admin_csrf})
    assert _problem(again, 409)["code"] == "review_closed"

    listed = admin_client.get(BASE)
    assert listed.status_code == 200 and [x["ref"] for x in listed.json()] == ["AR-2026-Q4"]
    shown = admin_client.get(f"{BASE}/ar-2026-q4")
    assert shown.status_code == 200 and len(shown.json()["items"]) == 6
    assert shown.json()["digest"] == closed.json()["digest"]


def test_bad_input_is_refused_without_echo_and_changes_nothing(api, po):
    client, csrf = po
    bad_period = client.post(BASE, json={"period": "2026-Q9<x>"}, headers={"X-CSRF-Token": csrf})
    body = _problem(bad_period, 422)
    assert "<x>" not in bad_period.text and body["code"] == "invalid_input"
    future = _problem(client.post(BASE, json={"period": "2027-Q2"}, headers={"X-CSRF-Token": csrf}), 422)
    assert future["code"] == "period_in_future"
    assert client.get(BASE).json() == []

    review = _start(client, csrf)
    assert _problem(client.post(BASE, headers={"X-CSRF-Token": csrf}), 409)["code"] == "review_open"
    cases = [
        ({"decision": "maybe"}, "invalid_input"),
        ({"decision": "change"}, "invalid_input"),
        ({"decision": "change", "change": "drop-table"}, "invalid_input"),
        ({"decision": "change", "change": "role:person"}, "bad_change"),
        ({"decision": "confirm", "note": "x" * 1001}, "invalid_input"),
    ]
    for body_in, code in cases:
        r = _decide(client, csrf, review, "sato", **body_in)
        problem = _problem(r, 422)
        assert problem["code"] == code, body_in
        assert "drop-table" not in r.text
    assert _problem(client.get(f"{BASE}/AR-2026-Q1"), 404)["code"] == "review_not_found"
    assert client.get(f"{BASE}/not-a-key").status_code in (404, 422)
    missing = client.post(
        f"{BASE}/{review['ref']}/lines/{'0' * 32}",
        json={"decision": "confirm"},
        headers={"X-CSRF-Token": csrf},
    )
    assert _problem(missing, 404)["code"] == "line_not_found"
    assert client.post(f"{BASE}/{review['ref']}/lines/xyz", json={"decision": "confirm"}).status_code in (
        403,
        422,
    )
    assert _problem(client.get(f"{BASE}/{review['ref']}/verify"), 409)["code"] == "review_not_closed"
    assert client.get(f"{BASE}/{review['ref']}").json()["decided"] == 0


@pytest.mark.parametrize("who", ["sato", "analyst"])
def test_other_roles_are_refused_on_every_endpoint_and_audited(api, po, who):
    po_client, po_csrf = po
    review = _start(po_client, po_csrf)
    line = next(x for x in review["items"] if x["username"] == "support")
    client, csrf = api.client(who)
    h = {"X-CSRF-Token": csrf}
    calls = [
        client.get(BASE),
        client.get(f"{BASE}/due"),
        client.post(BASE, headers=h),
        client.get(f"{BASE}/{review['ref']}"),
        client.post(
            f"{BASE}/{review['ref']}/lines/{line['id']}",
            json={"decision": "change", "change": "disable"},
            headers=h,
        ),
        client.post(f"{BASE}/{review['ref']}/close", headers=h),
        client.get(f"{BASE}/{review['ref']}/verify"),
    ]
    for r in calls:
        problem = _problem(r, 403)
        assert problem["rule_id"] == "R-23-2" and problem["code"] == "role_not_permitted"
    label = f"staff:{api.ids[who]}"
    denied = [
        e
        for e in api.rt.audit.tail(100)
        if e.actor == label and e.action == "monitoring.access_review" and e.decision == "deny"
    ]
    assert len(denied) == len(calls)
    after = po_client.get(f"{BASE}/{review['ref']}").json()
    assert after["decided"] == 0 and after["status"] == "open"
