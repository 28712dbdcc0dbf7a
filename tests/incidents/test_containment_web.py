"""The incident page's containment section (issue 22 "Deliver" 7) without a browser: the fragment lists the
measures and offers a form per step with a confirmation; a step posted from it takes effect (the revoked session's
cookie no longer opens the web app) and is recorded; other roles get the 403 page (audited) and nothing changes;
bad input is a 404 / 422 answer that never echoes the value; a post without the CSRF token changes nothing."""

from __future__ import annotations

import re

import pytest

from mamori.incidents.service import containment
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.incidents.support import new_incident

HTMX = {"HX-Request": "true"}


@pytest.fixture
def api(runtime) -> Api:
    return Api(runtime)


def _actor(api: Api, username: str):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.actor_for(ctx, username)


@pytest.fixture
def incident(api: Api):
    return new_incident(api.rt, _actor(api, "po"))


def _measures(api: Api, key: str):
    with api.rt.transaction(_actor(api, "po"), readonly=True) as ctx:
        return containment.measures(ctx, key)


def _signed_in(client) -> bool:
    r = client.get("/", follow_redirects=False)
    return not (r.status_code == 303 and r.headers["location"] == "/sign-in")


def _session_ids(api: Api, username: str) -> list[str]:
    with api.rt.transaction(_actor(api, "po"), readonly=True) as ctx:
        return [s.id for s in staff_service.contain_sessions_of(ctx, username)]


def test_the_fragment_offers_each_step_with_a_confirmation(api, incident):
    po, _ = api.client("po")
    r = po.get(f"/incidents/{incident.ref}/containment")
    assert r.status_code == 200, r.text
    assert "<html" not in r.text  # a fragment, no layout
    assert "封じ込め" in r.text and "R-26-7" in r.text and "まだ措置は記録されていません" in r.text
    for kind in ("disable_account", "revoke_sessions", "revoke_session", "revoke_tokens", "revoke_token"):
        assert f'id="contain-{kind}"' in r.text
    assert 'id="contain-suspend_outsourcee"' in r.text  # processor.manage is the privacy officer's
    assert 'id="contain-rotate_keys"' not in r.text and "管理者（admin）だけ" in r.text
    assert r.text.count('name="confirm" value="yes" required') == 6 and "hx-confirm=" in r.text
    admin, _ = api.client("admin")
    r = admin.get(f"/incidents/{incident.id}/containment")
    assert r.status_code == 200 and 'id="contain-rotate_keys"' in r.text
    assert 'id="contain-suspend_outsourcee"' not in r.text


def test_revoke_the_sales_reps_session_from_the_page_ends_its_cookie(api, incident):
    rep, _ = api.client("sato")
    assert _signed_in(rep)
    sid = _session_ids(api, "sato")[-1]
    po, csrf = api.client("po")
    listed = po.post(
        f"/incidents/{incident.ref}/containment/sessions",
        data={"csrf": csrf, "username": "sato"},
        headers=HTMX,
    )
    assert listed.status_code == 200 and sid in listed.text
    r = po.post(
        f"/incidents/{incident.ref}/containment",
        data={"csrf": csrf, "kind": "revoke_session", "target": sid, "confirm": "yes"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/incidents/{incident.id}#containment"
    assert not _signed_in(rep)
    got = _measures(api, incident.id)
    assert [(m.kind, m.target, m.result) for m in got] == [("revoke_session", sid, {"sessions_revoked": 1})]
    page = po.get(f"/incidents/{incident.ref}/containment")
    assert f'id="measure-{got[0].id}"' in page.text and "セッションの失効" in page.text
    assert "失効したセッション: 1" in page.text


def test_an_htmx_post_re_renders_the_fragment_with_a_notice(api, incident):
    api.client("suzuki")
    po, csrf = api.client("po")
    r = po.post(
        f"/incidents/{incident.ref}/containment",
        data={"csrf": csrf, "kind": "disable_account", "target": "suzuki", "confirm": "yes"},
        headers=HTMX,
    )
    assert r.status_code == 200, r.text
    assert "アカウントの無効化を実施し、事案の措置として記録しました" in r.text
    assert "無効化したアカウント: 1" in r.text


def test_without_the_confirmation_nothing_happens(api, incident):
    rep, _ = api.client("sato")
    po, csrf = api.client("po")
    r = po.post(
        f"/incidents/{incident.ref}/containment",
        data={"csrf": csrf, "kind": "revoke_sessions", "target": "sato"},
        headers=HTMX,
    )
    assert r.status_code == 422 and "確認欄にチェックしてください" in r.text
    assert _signed_in(rep) and _measures(api, incident.id) == []


@pytest.mark.parametrize("username", ["sato", "support", "analyst"])
def test_other_roles_get_the_403_page_and_nothing_changes(api, incident, username):
    victim, _ = api.client("suzuki")
    c, csrf = api.client(username)
    r = c.get(f"/incidents/{incident.ref}/containment")
    assert r.status_code == 403 and "の権限では、この操作はできません" in r.text
    for body in (
        {"kind": "revoke_sessions", "target": "suzuki", "confirm": "yes"},
        {
            "kind": "revoke_session",
            "target": "not-an-id",
        },  # bad input: still the refusal, not the input errors
    ):
        r = c.post(f"/incidents/{incident.ref}/containment", data={"csrf": csrf, **body})
        assert r.status_code == 403, r.text
        assert "R-23-2" in r.text and "入力内容" not in r.text
    assert _signed_in(victim) and _measures(api, incident.id) == []
    denied = [e for e in api.rt.audit.tail(10) if e.decision == "deny" and e.action == "incident.contain"]
    assert denied and denied[-1].actor == f"staff:{api.ids[username]}"


def test_bad_input_and_unknown_targets_record_nothing_and_echo_nothing(api, incident):
    po, csrf = api.client("po")
    url = f"/incidents/{incident.ref}/containment"
    r = po.post(url, data={"csrf": csrf, "kind": "revoke_session", "target": "0" * 32, "confirm": "yes"})
    assert r.status_code == 404
    r = po.post(
        url, data={"csrf": csrf, "kind": "revoke_session", "target": "0" * 32, "confirm": "yes"}, headers=HTMX
    )
    assert r.status_code == 404 and "セッションが見つかりません" in r.text
    r = po.post(url, data={"csrf": csrf, "kind": "revoke_token", "target": "secret-value!", "confirm": "yes"})
    assert r.status_code == 422 and "secret-value" not in r.text
    r = po.post(url, data={"csrf": csrf, "kind": "wipe", "target": "sato", "confirm": "yes"}, headers=HTMX)
    assert r.status_code == 422 and 'id="containment-errors"' in r.text
    r = po.post(url, data={"csrf": csrf, "kind": "disable_account", "target": "nobody", "confirm": "yes"})
    assert r.status_code == 404 and "nobody" not in r.text
    r = po.post(
        url,
        data={"csrf": csrf, "kind": "disable_account", "target": "nobody", "confirm": "yes"},
        headers=HTMX,
    )
    assert r.status_code == 404 and "スタッフが見つかりません" in r.text and "nobody" not in r.text
    assert po.get("/incidents/INC-0099/containment").status_code == 404
    assert po.get("/incidents/bad%20key/containment").status_code == 404
    assert _measures(api, incident.id) == []


def test_without_csrf_or_signed_out_nothing_changes(api, incident):
    rep, _ = api.client("sato")
    po, csrf = api.client("po")
    url = f"/incidents/{incident.ref}/containment"
    body = {"kind": "revoke_sessions", "target": "sato", "confirm": "yes"}
    for sent in ({}, {"csrf": "0" * 64}):
        r = po.post(url, data={**body, **sent})
        assert r.status_code == 403 and "CSRF" in r.text
    out, _ = api.client()
    r = out.post(url, data={**body, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/sign-in"
    r = out.get(url, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/sign-in"
    assert _signed_in(rep) and _measures(api, incident.id) == []
    assert re.search(r"sato", r.headers.get("location", "")) is None
