"""The privacy officer's queue of held import rows in the staff web app (issue 19): the list without a value, one row
opened for a purpose (masked outside it), approve with the R-21-1 statement, reject with a reason; CSRF on every
write; a sales rep sees only their own rows' status and opens nothing; unknown ids are 404."""

from __future__ import annotations

import re

import pytest

from mamori.customers.models import Customer
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.customers.test_import_pending import hold_one, make_job, pending_row, person

HREF = re.compile(r'(?:href|action)="([^"]*)"')


@pytest.fixture
def api(runtime):
    return Api(runtime)


@pytest.fixture
def actors(api):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return {u: staff_service.actor_for(ctx, u) for u in ("po", "sato", "suzuki")}


def page_ok(r) -> None:
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    assert "unsafe-inline" not in r.headers["content-security-policy"] and 'style="' not in r.text


def no_value_in_urls(r, values) -> None:
    for url in HREF.findall(r.text) + [str(r.url), r.headers.get("location", "")]:
        for v in values:
            assert v not in url


def test_every_page_needs_a_session(api):
    anon, _ = api.client()
    pid = "a" * 32
    for method, path in [
        ("GET", "/imports/pending"),
        ("GET", f"/imports/pending/{pid}"),
        ("POST", f"/imports/pending/{pid}/approve"),
        ("POST", f"/imports/pending/{pid}/reject"),
    ]:
        r = anon.request(method, path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/sign-in", path


def test_the_officer_lists_opens_and_approves(api, actors):
    po = actors["po"]
    p = person()
    pid = hold_one(api.rt, po, make_job(api.rt, po), p, line=4, notified=("partner-sharing",))
    c, csrf = api.client("po")
    r = c.get("/imports/pending")
    page_ok(r)
    assert "承認待ちの取り込み行" in r.text and f'href="/imports/pending/{pid}"' in r.text
    assert "通知済みの利用目的が不足" in r.text and "R-21-1" in r.text
    assert "契約の履行（contract）" in r.text and "提携先への提供（partner-sharing）" in r.text
    for value in p.values():
        assert value not in r.text
    r = c.get(f"/imports/pending/{pid}")
    page_ok(r)
    assert "この行を開く目的" in r.text and p["name"] not in r.text
    r = c.get(f"/imports/pending/{pid}", params={"purpose": "partner-sharing"})
    page_ok(r)
    assert p["name"] in r.text and p["email"] in r.text
    assert p["employer"] not in r.text and "●●●" in r.text  # outside identifier / contact: masked, not sent
    no_value_in_urls(r, p.values())
    r = c.get(f"/imports/pending/{pid}", params={"purpose": "contract"})
    page_ok(r)
    assert p["employer"] in r.text and 'name="notified_confirmed"' in r.text and 'name="reason"' in r.text

    # without the statement that the purposes were notified: refused with the rule, nothing written
    r = c.post(f"/imports/pending/{pid}/approve", data={"csrf": csrf, "method": "notified"})
    assert r.status_code == 403 and "R-21-1" in r.text
    assert pending_row(api.rt, pid).status == "pending"
    r = c.post(
        f"/imports/pending/{pid}/approve",
        data={"csrf": csrf, "notified_confirmed": "1", "method": "notified"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/imports/pending?done=approved"
    row = pending_row(api.rt, pid)
    assert row.status == "approved" and row.row_enc is None and api.rt.keystore.is_destroyed(pid)
    with api.rt.sessions() as s:
        assert s.get(Customer, row.customer_id) is not None
    r = c.get("/imports/pending?done=approved")
    page_ok(r)
    assert "承認しました" in r.text and "該当する行はありません" in r.text


def test_reject_needs_a_reason_from_the_list(api, actors):
    po = actors["po"]
    pid = hold_one(api.rt, po, make_job(api.rt, po), person())
    c, csrf = api.client("po")
    r = c.post(f"/imports/pending/{pid}/reject", data={"csrf": csrf, "reason": "気分"})
    assert r.status_code == 422
    r = c.post(
        f"/imports/pending/{pid}/approve", data={"csrf": csrf, "notified_confirmed": "1", "method": "x"}
    )
    assert r.status_code == 422
    assert pending_row(api.rt, pid).status == "pending"
    r = c.post(
        f"/imports/pending/{pid}/reject", data={"csrf": csrf, "reason": "duplicate"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/imports/pending?done=rejected"
    assert pending_row(api.rt, pid).status == "rejected" and api.rt.keystore.is_destroyed(pid)
    r = c.post(f"/imports/pending/{pid}/reject", data={"csrf": csrf, "reason": "duplicate"})
    assert r.status_code == 409  # decided once


def test_writes_without_the_csrf_token_change_nothing(api, actors):
    po = actors["po"]
    pid = hold_one(api.rt, po, make_job(api.rt, po), person())
    c, _ = api.client("po")
    for path, data in (
        (f"/imports/pending/{pid}/approve", {"notified_confirmed": "1", "method": "notified"}),
        (f"/imports/pending/{pid}/reject", {"reason": "other"}),
    ):
        assert c.post(path, data=data).status_code == 403
        assert c.post(path, data={**data, "csrf": "0" * 64}).status_code == 403
    assert pending_row(api.rt, pid).status == "pending" and api.rt.keystore.has_data_key(pid)


def test_a_sales_rep_sees_only_their_own_rows_and_decides_nothing(api, actors):
    sato, po = actors["sato"], actors["po"]
    p = person()
    own = hold_one(api.rt, sato, make_job(api.rt, sato), p, owner_id=sato.id, line=9)
    other = hold_one(api.rt, po, make_job(api.rt, po), person(), line=3)
    c, csrf = api.client("sato")
    r = c.get("/imports/pending")
    page_ok(r)
    assert "承認待ち" in r.text and "<td>9</td>" in r.text and "<td>3</td>" not in r.text
    assert f"/imports/pending/{own}" not in r.text and f"/imports/pending/{other}" not in r.text
    r = c.get(f"/imports/pending/{own}", params={"purpose": "contract"})
    assert r.status_code == 403 and "R-23-2" in r.text and p["name"] not in r.text
    r = c.post(f"/imports/pending/{own}/approve", data={"csrf": csrf, "notified_confirmed": "1"})
    assert r.status_code == 403 and "R-23-2" in r.text
    r = c.post(f"/imports/pending/{own}/reject", data={"csrf": csrf, "reason": "other"})
    assert r.status_code == 403
    assert pending_row(api.rt, own).status == "pending"
    s, _ = api.client("support")  # may neither import nor decide
    r = s.get("/imports/pending")
    assert r.status_code == 403 and "R-23-2" in r.text


def test_bad_ids_filters_and_purposes(api, actors):
    po = actors["po"]
    pid = hold_one(api.rt, po, make_job(api.rt, po), person())
    c, csrf = api.client("po")
    for path in ("/imports/pending/not-an-id", f"/imports/pending/{'0' * 32}?purpose=contract"):
        assert c.get(path).status_code == 404, path
    r = c.post(f"/imports/pending/{'0' * 32}/approve", data={"csrf": csrf, "notified_confirmed": "1"})
    assert r.status_code == 404
    assert c.get("/imports/pending?status=done").status_code == 422
    assert c.get("/imports/pending?job=../x").status_code == 422
    assert c.get(f"/imports/pending/{pid}?purpose=nope").status_code == 422
    r = c.get(f"/imports/pending/{pid}", params={"purpose": "health-service"})  # not a purpose of the row
    assert r.status_code == 403 and "R-18-1" in r.text


def test_english_pages(api, actors):
    po = actors["po"]
    pid = hold_one(api.rt, po, make_job(api.rt, po), person())
    c, _ = api.client("po")
    c.cookies.set("mamori_lang", "en")
    r = c.get("/imports/pending")
    page_ok(r)
    assert "Imported rows awaiting approval" in r.text and "Purposes not notified" in r.text
    r = c.get(f"/imports/pending/{pid}", params={"purpose": "contract"})
    page_ok(r)
    assert "Approve and add" in r.text
