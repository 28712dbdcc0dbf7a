"""The privacy center answers a stranger's address exactly as a customer's (issue 18): the same receipt and
status pages, a code mail with no data, and after verification plainly "nothing held"; the fifth wrong code
locks the request (R-37-1); the throttles are the API's, on the same counters, with a 429 page in words."""

from __future__ import annotations

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.rights.service.core import CODE_MAX_ATTEMPTS, FILE_PER_IDENTIFIER, VERIFY_PER_REQUEST
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.rights.center import (
    A_EMAIL,
    ORIGIN,
    STRANGER,
    attempts,
    fields,
    form_token,
    normalised,
    start,
    verify,
)
from tests.rights.helpers import last_code, outbox


@pytest.fixture
def api(runtime):
    return Api(runtime)


@pytest.fixture
def hanako(api):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
        po = staff_service.actor_for(s, "po")
    return make_customer(api.rt, po, name="佐藤 花子", email=A_EMAIL, phone="090-1111-2222")


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_a_strangers_address_gets_the_same_pages_as_a_customers(api, published_notice, hanako):
    pages = {}
    for who, email in (("customer", A_EMAIL), ("stranger", STRANGER)):
        c, _ = api.client()
        rid = start(c, published_notice, email)
        done = c.get(f"/privacy/requests/{rid}/received")
        status = c.get(f"/privacy/requests/{rid}")
        wrong = verify(c, rid, _wrong(last_code(api.rt, email)))
        pages[who] = [
            (r.status_code, normalised(r.text, rid, form_token(status.text))) for r in (done, status, wrong)
        ]
    assert pages["customer"] == pages["stranger"]
    # both got exactly one mail: the code, nothing else
    to_stranger = [m for m in outbox(api.rt) if m["to"] == STRANGER]
    assert len(to_stranger) == 1
    assert "佐藤" not in to_stranger[0]["body"] and "090" not in to_stranger[0]["body"]


def test_after_verification_a_stranger_is_told_plainly_that_nothing_is_held(api, published_notice, hanako):
    c, _ = api.client()
    rid = start(c, published_notice, STRANGER)
    assert verify(c, rid, last_code(api.rt, STRANGER)).status_code == 303
    page = c.get(f"/privacy/requests/{rid}").text
    assert 'id="nothing-held"' in page and "お預かりしていません" in page
    assert 'name="categories"' not in page and "佐藤" not in page
    # no more than the API shows: the status has no categories
    c2, _ = api.client()
    rid2 = start(c2, published_notice, A_EMAIL)
    assert verify(c2, rid2, last_code(api.rt, A_EMAIL)).status_code == 303
    page2 = c2.get(f"/privacy/requests/{rid2}").text
    assert 'id="nothing-held"' not in page2 and 'value="customers:contact"' in page2
    assert "佐藤" not in page2  # categories and counts, never the values


def test_the_fifth_wrong_code_locks_the_request_R_37_1(api, published_notice, hanako):
    c, _ = api.client()
    rid = start(c, published_notice, A_EMAIL)
    code = last_code(api.rt, A_EMAIL)
    token = form_token(c.get(f"/privacy/requests/{rid}").text)
    for n in range(1, CODE_MAX_ATTEMPTS):
        r = verify(c, rid, _wrong(code), token)
        assert r.status_code == 422 and f"あと{CODE_MAX_ATTEMPTS - n}回入力できます" in r.text
    fifth = verify(c, rid, _wrong(code), token)
    assert fifth.status_code == 403 and 'id="locked"' in fifth.text and "お問い合わせ窓口" in fifth.text
    assert 'name="code"' not in fifth.text
    # even the right code is refused now, and it is not counted further
    again = verify(c, rid, code, token)
    assert again.status_code == 403 and 'id="locked"' in again.text
    assert attempts(api.rt, rid) == [CODE_MAX_ATTEMPTS]
    page = c.get(f"/privacy/requests/{rid}").text
    assert 'id="locked"' in page and 'name="code"' not in page and "本人確認済み" not in page
    # the API agrees: not verified
    status = c.get(
        f"/api/v1/privacy-requests/{rid}", headers={"Mamori-Request-Token": c.cookies.get("mamori_request")}
    )
    assert status.json()["verified_identifiers"] == 0 and status.json()["attempts_left"] == 0


def test_an_expired_code_cannot_be_used(api, published_notice, hanako):
    from datetime import timedelta

    c, _ = api.client()
    rid = start(c, published_notice, A_EMAIL)
    code = last_code(api.rt, A_EMAIL)
    token = form_token(c.get(f"/privacy/requests/{rid}").text)
    api.rt.clock.advance(timedelta(minutes=16))
    r = verify(c, rid, code, token)
    assert r.status_code == 403 and 'id="locked"' in r.text
    assert 'id="locked"' in c.get(f"/privacy/requests/{rid}").text


def test_filing_is_throttled_per_address_with_the_apis_counter(api, published_notice):
    c, _ = api.client()
    # three through the API and two through the pages: the address's budget of five is spent
    for _ in range(3):
        body = {"kind": "disclosure", "email": STRANGER, "notice_version": published_notice}
        assert c.post("/api/v1/privacy-requests", json=body).status_code == 202
    for _ in range(FILE_PER_IDENTIFIER - 3):
        start(c, published_notice, STRANGER)
    r = c.post(
        "/privacy/requests/send",
        data=fields(published_notice, STRANGER),
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert r.status_code == 429
    assert "しばらく" in r.text and "1時間" in r.text and STRANGER not in r.text
    assert "<html" in r.text and "Traceback" not in r.text


def test_code_attempts_are_throttled_per_request(api, published_notice, hanako):
    c, _ = api.client()
    rid = start(c, published_notice, A_EMAIL)
    token = form_token(c.get(f"/privacy/requests/{rid}").text)
    hdr = {"Mamori-Request-Token": c.cookies.get("mamori_request")}
    # attempts through the API count against the same per-request budget
    for _ in range(VERIFY_PER_REQUEST - 1):
        c.post(f"/api/v1/privacy-requests/{rid}/verify", headers=hdr, json={"code": "123456"})
    assert verify(c, rid, "123456", token).status_code in (403, 422)
    r = verify(c, rid, "123456", token)
    assert r.status_code == 429 and "しばらく" in r.text
