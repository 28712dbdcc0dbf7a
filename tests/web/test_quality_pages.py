"""The data-quality pages (issue 21, R-22-1) without a browser: ``/quality`` (the score, a bar per part, the
distribution, the records due for confirmation with a 確認済みにする button), the htmx confirmation, and the
customer page's block (最終確認日 with 和暦, the customer's score).

The happy path, an unauthorised role, a rep confirming someone else's customer, bad input (422), a write without
its CSRF token changing nothing, no personal value on any page, CSP and no-store."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from mamori.customers.models import Customer
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.runtime import Runtime
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.web.test_customers_pages import page_headers

PERSONAL = ("山田", "ヤマダ", "example.jp", "090", "+8190", "渋谷", "150-0001", "1985")
HTMX = {"HX-Request": "true"}


def _no_values(text: str) -> None:
    # ids, CSRF tokens and digests are random: a "090" or "1985" inside one is not a value
    text = re.sub(r"[0-9A-Za-z_-]{16,}", "<token>", text)
    for value in PERSONAL:
        assert value not in text, value


def _confirmed_at(rt: Runtime, cid: str) -> Any:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return ctx.session.execute(select(Customer.confirmed_at).where(Customer.id == cid)).scalar_one()


@pytest.fixture
def site(runtime: Runtime) -> dict[str, Any]:
    api = Api(runtime)
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        sato = staff_service.actor_for(ctx, "sato")
        suzuki = staff_service.actor_for(ctx, "suzuki")
    mine = make_customer(runtime, sato, email="m@example.jp")
    theirs = make_customer(runtime, suzuki, email="t@example.jp", phone="090-2222-3333")
    runtime.clock.advance(timedelta(days=400))
    return {"api": api, "mine": mine, "theirs": theirs}


def test_quality_page_shows_the_score_and_the_records_due(site: dict[str, Any]) -> None:
    c, _ = site["api"].client("po")
    r = c.get("/quality")
    assert r.status_code == 200, r.text
    page_headers(r)
    assert "データ品質" in r.text and r.text.count("<meter") >= 4 + 5  # a bar per part and per band
    assert site["mine"] in r.text and site["theirs"] in r.text and "確認済みにする" in r.text
    assert f'hx-post="/quality/confirm/{site["mine"]}"' in r.text
    _no_values(r.text)
    r = c.get("/quality", headers={"accept-language": "en"}, params={"lang": "en"})
    assert r.status_code == 200 and "Data quality" in r.text and "Mark confirmed" in r.text


def test_a_rep_sees_only_their_own_records(site: dict[str, Any]) -> None:
    c, _ = site["api"].client("sato")
    r = c.get("/quality")
    assert r.status_code == 200 and site["mine"] in r.text and site["theirs"] not in r.text


def test_confirm_button_confirms_the_row(runtime: Runtime, site: dict[str, Any]) -> None:
    c, csrf = site["api"].client("sato")
    r = c.post(f"/quality/confirm/{site['mine']}", data={"csrf": csrf, "purpose": "contract"}, headers=HTMX)
    assert r.status_code == 200, r.text
    assert r.text.startswith(f'<tr id="due-{site["mine"]}"') and "確認済み" in r.text and "令和" in r.text
    assert _confirmed_at(runtime, site["mine"]) == runtime.clock.now()
    r = c.get("/quality")
    assert f'hx-post="/quality/confirm/{site["mine"]}"' not in r.text  # off the list
    r = c.post(f"/quality/confirm/{site['mine']}", data={"csrf": csrf, "purpose": "contract"})  # without htmx
    assert r.status_code == 200 and "確認を記録しました" in r.text


def test_confirm_refusals_and_bad_input(runtime: Runtime, site: dict[str, Any]) -> None:
    c, csrf = site["api"].client("sato")
    before = _confirmed_at(runtime, site["theirs"])
    r = c.post(f"/quality/confirm/{site['theirs']}", data={"csrf": csrf, "purpose": "contract"}, headers=HTMX)
    assert r.status_code == 404  # someone else's customer looks like no customer (the denial is audited)
    r = c.post(f"/quality/confirm/{site['mine']}", data={"purpose": "contract"}, headers=HTMX)
    assert r.status_code == 403  # no CSRF token
    r = c.post(f"/quality/confirm/{site['mine']}", data={"csrf": csrf, "purpose": ""}, headers=HTMX)
    assert r.status_code == 422
    r = c.post("/quality/confirm/not-an-id", data={"csrf": csrf, "purpose": "contract"}, headers=HTMX)
    assert r.status_code == 404 and "not-an-id" not in r.text
    assert _confirmed_at(runtime, site["theirs"]) == before
    assert _confirmed_at(runtime, site["mine"]) < runtime.clock.now() - timedelta(days=365)
    a, _ = site["api"].client("analyst")
    r = a.get("/quality")
    assert r.status_code == 403 and "R-23-2" in r.text
    r = c.get("/quality", params={"days": "zero"})
    assert r.status_code == 422 and "zero" not in r.text


def test_customer_page_shows_the_last_confirmation_and_score(runtime: Runtime, site: dict[str, Any]) -> None:
    c, csrf = site["api"].client("po")
    r = c.post(
        f"/customers/{site['mine']}/open", data={"csrf": csrf, "purpose": "contract"}, follow_redirects=True
    )
    assert r.status_code == 200, r.text
    assert f'hx-get="/quality/customers/{site["mine"]}"' in r.text
    r = c.get(f"/quality/customers/{site['mine']}", headers=HTMX)
    assert r.status_code == 200, r.text
    assert "最終確認日" in r.text and "令和" in r.text and "確認が必要です" in r.text and "<meter" in r.text
    _no_values(r.text)
    rep, _ = site["api"].client("sato")
    assert rep.get(f"/quality/customers/{site['theirs']}", headers=HTMX).status_code == 404
    support, _ = site["api"].client("support")
    assert support.get(f"/quality/customers/{site['mine']}", headers=HTMX).status_code == 204
