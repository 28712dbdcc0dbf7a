"""The access-review pages without a browser (issue 25 "Deliver" 3): the list with the period now due and the start
button; a review's lines with flags as badges, 研修/誓約 ✓✗ and a form per line (none on one's own line); closing
shows 封印済み with the digest and the check. Other roles get the refusal page (audited) and change nothing; bad
input is a 404 / 422 / 409 page that never echoes the value; a post without the CSRF token changes nothing."""

from __future__ import annotations

import re

import pytest

from mamori.monitoring.service import reviews
from tests.api.conftest import Api
from tests.monitoring.review_fixtures import Attacker


def _actor(api: Api, username: str):
    from mamori.kernel.context import SYSTEM_ACTOR
    from mamori.staff import service as staff_service

    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.actor_for(ctx, username)


def _review(api: Api, key: str):
    with api.rt.transaction(_actor(api, "admin"), readonly=True) as ctx:
        return reviews.get(ctx, key)


@pytest.fixture
def po(api: Api):
    return api.client("po")


def _start(client, csrf) -> str:
    r = client.post("/monitoring/reviews", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303, r.text
    found = re.fullmatch(r"/monitoring/reviews/([0-9a-f]{32})", r.headers["location"])
    assert found
    return found.group(1)


def _line_id(api: Api, review_id: str, username: str) -> str:
    return next(x.id for x in _review(api, review_id).items if x.username == username)


def test_start_decide_close_and_the_seal_on_the_page(api, po):
    client, csrf = po
    page = client.get("/monitoring/reviews")
    assert page.status_code == 200, page.text
    assert "アクセス権の定期見直し" in page.text and 'id="due-period">2026-Q4<' in page.text
    assert (
        'id="due-overdue"' in page.text
        and 'id="start-review"' in page.text
        and 'id="no-reviews"' in page.text
    )

    review_id = _start(client, csrf)
    shown = client.get(f"/monitoring/reviews/{review_id}")
    assert shown.status_code == 200
    assert 'id="review-ref">AR-2026-Q4<' in shown.text
    assert 'id="flag-sato-unused"' in shown.text and "未使用" in shown.text  # sato never signed in
    assert 'id="flag-admin-admin"' in shown.text and 'id="flag-po-' not in shown.text
    assert (
        'id="decide-sato"' in shown.text and 'id="decide-po"' not in shown.text
    )  # no form on one's own line
    assert "自分の行は他の担当者が判断します" in shown.text
    assert "✓ 済" in shown.text and "（日本時間）" in shown.text  # po's own sign-in, in Japan time
    assert 'id="close-review"' in shown.text and 'id="undecided"' in shown.text

    line = _line_id(api, review_id, "support")
    r = client.post(
        f"/monitoring/reviews/{review_id}/lines/{line}",
        data={"csrf": csrf, "decision": "change", "change": "disable", "note": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/monitoring/reviews/{review_id}#line-{line}"
    for username in ("admin", "sato", "suzuki", "analyst"):
        r = client.post(
            f"/monitoring/reviews/{review_id}/lines/{_line_id(api, review_id, username)}",
            data={
                "csrf": csrf,
                "decision": "confirm",
                "change": "disable",
            },  # a confirmation ignores the select
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
    admin, admin_csrf = api.client("admin")
    r = admin.post(
        f"/monitoring/reviews/{review_id}/lines/{_line_id(api, review_id, 'po')}",
        data={"csrf": admin_csrf, "decision": "confirm"},
        follow_redirects=False,
    )
    assert r.status_code == 303

    closed = client.post(
        f"/monitoring/reviews/{review_id}/close", data={"csrf": csrf}, follow_redirects=False
    )
    assert closed.status_code == 303 and closed.headers["location"] == f"/monitoring/reviews/{review_id}#seal"
    sealed = client.get(f"/monitoring/reviews/{review_id}")
    digest = _review(api, review_id).digest
    assert 'id="sealed">封印済み<' in sealed.text and f'id="digest">{digest}<' in sealed.text
    assert "記録は封印のとおりです" in sealed.text and 'class="line-form"' not in sealed.text
    assert 'id="close-review"' not in sealed.text
    listed = client.get("/monitoring/reviews")
    assert 'id="review-AR-2026-Q4"' in listed.text and "封印済み" in listed.text

    attacker = Attacker(api.rt.settings)  # an edit of the data store shows on the page
    try:
        attacker.sql("UPDATE access_review_lines SET note = ? WHERE id = ?", "後から追記", line)
    finally:
        attacker.close()
    tampered = client.get(f"/monitoring/reviews/{review_id}")
    assert "記録が封印と一致しません" in tampered.text and 'id="verify-audit"' in tampered.text


def test_bad_input_and_a_missing_csrf_token_change_nothing(api, po):
    client, csrf = po
    assert client.post("/monitoring/reviews", data={}, follow_redirects=False).status_code == 403
    bad = client.post("/monitoring/reviews", data={"csrf": csrf, "period": "2026-Q7<b>"})
    assert bad.status_code == 422 and "2026-Q7" not in bad.text
    future = client.post("/monitoring/reviews", data={"csrf": csrf, "period": "2099-Q1"})
    assert future.status_code == 422 and "まだ始まっていない期間" in future.text
    review_id = _start(client, csrf)
    again = client.post("/monitoring/reviews", data={"csrf": csrf})
    assert again.status_code == 409 and "AR-2026-Q4" in again.text

    line = _line_id(api, review_id, "sato")
    url = f"/monitoring/reviews/{review_id}/lines/{line}"
    assert client.post(url, data={"decision": "confirm"}).status_code == 403  # no CSRF token
    for form, status in (
        ({"decision": "maybe"}, 422),
        ({"decision": "change", "change": ""}, 422),
        ({"decision": "change", "change": "role:system"}, 422),
        ({"decision": "confirm", "note": "x" * 1001}, 422),
    ):
        r = client.post(url, data={"csrf": csrf, **form})
        assert r.status_code == status, form
        assert "role:system" not in r.text
    assert (
        client.post(
            f"/monitoring/reviews/{review_id}/lines/{'0' * 32}", data={"csrf": csrf, "decision": "confirm"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/monitoring/reviews/{review_id}/lines/x", data={"csrf": csrf, "decision": "confirm"}
        ).status_code
        == 404
    )
    assert client.get("/monitoring/reviews/AR-2026-Q1").status_code == 404
    assert client.get("/monitoring/reviews/..%2Fetc").status_code == 404
    early = client.post(f"/monitoring/reviews/{review_id}/close", data={"csrf": csrf})
    assert early.status_code == 409 and "判断していない行が6件" in early.text
    assert _review(api, review_id).decided == 0


@pytest.mark.parametrize("who", ["sato", "analyst"])
def test_other_roles_get_the_refusal_page_and_change_nothing(api, po, who):
    po_client, po_csrf = po
    review_id = _start(po_client, po_csrf)
    line = _line_id(api, review_id, "support")
    client, csrf = api.client(who)
    answers = [
        client.get("/monitoring/reviews"),
        client.post("/monitoring/reviews", data={"csrf": csrf}),
        client.get(f"/monitoring/reviews/{review_id}"),
        client.post(
            f"/monitoring/reviews/{review_id}/lines/{line}",
            data={"csrf": csrf, "decision": "change", "change": "disable"},
        ),
        client.post(f"/monitoring/reviews/{review_id}/close", data={"csrf": csrf}),
    ]
    for r in answers:
        assert r.status_code == 403 and "R-23-2" in r.text
    label = f"staff:{api.ids[who]}"
    denied = [
        e
        for e in api.rt.audit.tail(100)
        if e.actor == label and e.action == "monitoring.access_review" and e.decision == "deny"
    ]
    assert len(denied) == len(answers)
    assert _review(api, review_id).decided == 0
