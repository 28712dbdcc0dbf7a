"""Issue 17, inputs: a consent dated 2099 was accepted and counted as given now. A consent, withdrawal or
do-not-contact line dated in the future (beyond 5 minutes of clock skew) is refused with R-CNS-1 on every path
(API, service, bulk), and nothing is written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mamori.consent import service
from mamori.consent.models import ConsentEvent
from mamori.consent.schemas import ConsentIn
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.errors import ValidationFailed
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer

API = "/api/v1"


@pytest.fixture
def api(runtime):
    return Api(runtime)


def _lines(rt) -> int:
    with rt.sessions() as s:
        return int(s.execute(select(func.count()).select_from(ConsentEvent)).scalar_one())


def _actor(rt, username):
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
        return staff_service.actor_for(s, username)


def test_the_api_refuses_a_consent_dated_in_the_future(api):
    sato = _actor(api.rt, "sato")
    cid = make_customer(api.rt, sato, purposes=("contract",))
    before = _lines(api.rt)
    c, csrf = api.client("sato")
    now = api.rt.clock.now()
    url, h = f"{API}/customers/{cid}/consents", {"X-CSRF-Token": csrf}
    body = {"action": "grant", "purpose": "marketing-email", "method": "checkbox"}
    for when in (
        "2099-01-01T00:00:00+09:00",
        "2099-01-01T00:00:00",
        (now + timedelta(minutes=6)).isoformat(),
    ):
        r = c.post(url, headers=h, json={**body, "occurred_at": when})
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "consent_in_future" and r.json()["rule_id"] == "R-CNS-1"
        assert "2099" not in r.text
    assert _lines(api.rt) == before
    with api.rt.transaction(sato) as ctx:
        assert "marketing-email" not in service.show(ctx, cid).purposes
    # an analyst is refused for the role first (R-23-2), whatever the date
    a, acsrf = api.client("analyst")
    r = a.post(
        url, headers={"X-CSRF-Token": acsrf}, json={**body, "occurred_at": "2099-01-01T00:00:00+09:00"}
    )
    assert r.status_code == 403 and _lines(api.rt) == before
    # within the clock skew, and in the past, it is recorded
    for when in (now + timedelta(minutes=4), now - timedelta(days=3)):
        r = c.post(url, headers=h, json={**body, "occurred_at": when.isoformat()})
        assert r.status_code == 201, r.text
    assert _lines(api.rt) == before + 2


def test_every_service_path_refuses_a_future_date(api):
    po = _actor(api.rt, "po")
    cid = make_customer(api.rt, po, purposes=("contract",))
    before = _lines(api.rt)
    future = ConsentIn(method="paper", occurred_at=api.rt.clock.now() + timedelta(days=365 * 70))
    calls = (
        lambda ctx: service.grant(ctx, cid, "marketing-email", future),
        lambda ctx: service.withdraw(ctx, cid, "marketing-email", future),
        lambda ctx: service.grant_sensitive(ctx, cid, future),
        lambda ctx: service.do_not_contact(ctx, cid, "phone", future),
        lambda ctx: service.allow_contact(ctx, cid, "phone", future),
        lambda ctx: service.bulk_grant(ctx, [(cid, "marketing-email", "granted", future)]),
    )
    for call in calls:
        with pytest.raises(ValidationFailed) as exc, api.rt.transaction(po) as ctx:
            call(ctx)
        assert exc.value.code == "consent_in_future" and exc.value.rule_id == "R-CNS-1"
    assert _lines(api.rt) == before
