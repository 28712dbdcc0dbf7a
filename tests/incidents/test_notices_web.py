"""The notices section of the incident page (GET /incidents/{key}/notices, an htmx fragment) and its posts: send,
substitute measure, letters to print and posted — CSRF, bad input 422 without the value, other roles refused."""

from __future__ import annotations

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.incidents.notice_support import A_EMAIL, outbox, people, put_in_scope, to
from tests.incidents.support import new_incident

HX = {"HX-Request": "true"}


@pytest.fixture
def api(runtime):
    return Api(runtime)


def _case(api: Api):  # noqa: ANN202
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        po = staff_service.actor_for(ctx, "po")
        sato = staff_service.actor_for(ctx, "sato")
    who = people(api.rt, po)
    inc = new_incident(api.rt, sato)
    put_in_scope(api.rt, inc.id, {cid: {"origin": "DE" if k == "eu" else "JP"} for k, cid in who.items()})
    return inc, who


def test_web_fragment_send_substitute_and_letters(api: Api):
    inc, who = _case(api)
    c, csrf = api.client("po")
    frag = c.get(f"/incidents/{inc.ref}/notices", headers=HX)
    assert frag.status_code == 200, frag.text
    assert 'id="plan-email">3' in frag.text and 'id="plan-no-contact">1' in frag.text
    assert "通知する" in frag.text and "<html" not in frag.text  # a fragment, no layout
    assert A_EMAIL not in frag.text and "通知 一郎" not in frag.text
    page = c.get(f"/incidents/{inc.ref}/notices")  # without JavaScript: the same section as a page
    assert page.status_code == 200 and "<html" in page.text and 'id="plan-email">3' in page.text

    sent = c.post(f"/incidents/{inc.ref}/notices", data={"csrf": csrf}, headers=HX)
    assert sent.status_code == 200, sent.text
    assert 'id="notices-result"' in sent.text and 'id="notice-log"' in sent.text
    assert 'id="no-contact-list"' in sent.text and who["none"] in sent.text
    assert len(to(api.rt, A_EMAIL)) == 1 and A_EMAIL not in sent.text

    plain = c.post(f"/incidents/{inc.id}/notices", data={"csrf": csrf}, follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"] == f"/incidents/{inc.id}#notices"
    assert len(to(api.rt, A_EMAIL)) == 1  # idempotent

    bad = c.post(
        f"/incidents/{inc.ref}/substitute",
        data={"csrf": csrf, "kind": "billboard", "note": "秘密の値"},
        headers=HX,
    )
    assert bad.status_code == 422 and 'id="notices-errors"' in bad.text and "秘密の値" not in bad.text
    ok = c.post(
        f"/incidents/{inc.ref}/substitute",
        data={"csrf": csrf, "kind": "inquiry_line", "note": "専用窓口 0120-000-000"},
        headers=HX,
    )
    assert ok.status_code == 200 and "代替措置を記録しました" in ok.text
    assert 'id="no-contact-list"' not in ok.text

    letters = c.get(f"/incidents/{inc.ref}/letters")
    assert letters.status_code == 200 and "郵送 三郎 様" in letters.text and inc.ref in letters.text
    pdf = c.get(f"/incidents/{inc.ref}/letters", params={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    posted = c.post(f"/incidents/{inc.ref}/letters/sent", data={"csrf": csrf}, headers=HX)
    assert posted.status_code == 200 and "郵送済みとして記録しました" in posted.text


def test_web_csrf_bad_key_and_roles(api: Api):
    inc, _ = _case(api)
    c, csrf = api.client("po")
    assert c.post(f"/incidents/{inc.ref}/notices", data={"csrf": ""}, headers=HX).status_code == 403
    assert c.get("/incidents/bad key/notices", headers=HX).status_code == 404
    assert c.get("/incidents/INC-9999/notices", headers=HX).status_code == 404
    for user in ("admin", "sato", "support", "analyst"):
        cu, token = api.client(user)
        r = cu.post(f"/incidents/{inc.ref}/notices", data={"csrf": token}, headers=HX)
        assert r.status_code == 403 and "R-23-2" in r.text, (user, r.text)
        r = cu.get(f"/incidents/{inc.ref}/letters")
        assert r.status_code == 403
        frag = cu.get(f"/incidents/{inc.ref}/notices", headers=HX)
        assert frag.status_code == (200 if user == "admin" else 403)
    assert outbox(api.rt) == []
