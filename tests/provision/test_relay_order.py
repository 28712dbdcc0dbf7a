"""Relay in the seed's order (seed 001 case 2): the requester asks → staff delivers the message → the other
customer answers later (by phone or e-mail) whether their contact may be shared. Delivery and the answer are
independent; the contact (with its provision record, R-27-1 / R-29-2) is handed over only when both have happened
and the answer was "share"; errors name the relay's real state (never ``already_answered`` before an answer)."""

from __future__ import annotations

import base64
import json
import secrets

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.kernel.errors import Conflict, PolicyDenied, ValidationFailed
from mamori.kernel.settings import reset_settings_cache
from mamori.provision import service
from mamori.provision.schemas import RelayConsentIn, RelayOpenIn
from mamori.provision.service import relay
from tests.api.conftest import Api
from tests.factories import make_customer

PO = ("--as", "hoshino")
SUPPORT = ("--as", "takahashi")
ANALYST = ("--as", "ito")
API = "/api/v1"


def _pair(runtime, actor):
    asker = make_customer(runtime, actor, name="依頼 太郎", email="asker@example.jp", phone="090-2345-6789")
    other = make_customer(runtime, actor, name="相手 花子", email="other@example.jp", phone="080-1111-2222")
    return asker, other


# --- service ---------------------------------------------------------------------------------------------------


def test_deliver_first_then_share_hands_the_contact_over_R_27_1_R_29_2(runtime, actors):
    po = actors["support"]
    asker, other = _pair(runtime, actors["po"])
    with runtime.transaction(po) as ctx:
        r = relay.open_relay(
            ctx, RelayOpenIn(requester_id=asker, target_id=other, message="先日は失礼しました")
        )
    with runtime.transaction(po) as ctx:
        got = relay.deliver(ctx, r.id)
    # delivered before any answer: the relay stays open for the answer, nothing is provided yet
    assert got.message == "先日は失礼しました" and got.contact is None
    assert got.status == "delivered" and got.answer is None and not got.closed and not got.contact_provided
    with runtime.transaction(actors["po"]) as ctx:
        assert service.list_records(ctx, customer_id=other) == []
    with pytest.raises(Conflict) as e, runtime.transaction(po) as ctx:  # a second delivery names the state
        relay.deliver(ctx, r.id)
    assert e.value.code == "already_delivered" and e.value.details["status"] == "delivered"
    assert "回答待ち" in e.value.message_ja
    # the other customer phones back later and agrees to share: the contact is handed over now, with its record
    with runtime.transaction(po) as ctx:
        ans = relay.consent(
            ctx, r.id, RelayConsentIn(method="oral", evidence="折返し電話", share_contact=True)
        )
    assert ans.status == "completed" and ans.closed and ans.contact_provided and ans.answer == "agreed"
    assert ans.contact == {"email": "other@example.jp", "phone": "+818011112222"}
    assert ans.message is None  # the message was dropped at delivery
    with runtime.transaction(actors["po"]) as ctx:
        recs = service.list_records(ctx, customer_id=other)
    assert len(recs) == 1 and recs[0].recipient_label == f"customer:{asker}" and recs[0].kind == "consent"
    # now (and only now) the answer is recorded: a second answer is refused as already answered
    with pytest.raises(Conflict) as e, runtime.transaction(po) as ctx:
        relay.consent(ctx, r.id, RelayConsentIn(method="email"))
    assert e.value.code == "already_answered" and e.value.details["status"] == "completed"
    with runtime.transaction(po) as ctx:
        shown = relay.show(ctx, r.id)
    assert shown.status == "completed" and shown.contact is None and shown.message is None


def test_deliver_first_then_decline_or_no_share_closes_without_contact(runtime, actors):
    sup = actors["support"]
    asker, other = _pair(runtime, actors["po"])
    with runtime.transaction(sup) as ctx:
        a = relay.open_relay(ctx, RelayOpenIn(requester_id=asker, target_id=other, message="一"))
        b = relay.open_relay(ctx, RelayOpenIn(requester_id=asker, target_id=other, message="二"))
        relay.deliver(ctx, a.id)
        relay.deliver(ctx, b.id)
    with runtime.transaction(sup) as ctx:  # declined by e-mail after delivery
        declined = relay.consent(ctx, a.id, RelayConsentIn(method="email", agree=False))
        kept = relay.consent(ctx, b.id, RelayConsentIn(method="oral"))  # agrees, but does not share
    assert (
        declined.status == "declined" and declined.closed and declined.contact is None and declined.delivered
    )
    assert kept.status == "completed" and kept.contact is None and not kept.contact_provided
    with runtime.transaction(actors["po"]) as ctx:
        assert service.list_records(ctx, customer_id=other) == []
    with pytest.raises(Conflict) as e, runtime.transaction(sup) as ctx:
        relay.deliver(ctx, a.id)
    assert e.value.code == "declined" and e.value.details["status"] == "declined"


def test_answer_first_still_works_and_errors_name_the_state(runtime, actors):
    sup = actors["support"]
    asker, other = _pair(runtime, actors["po"])
    with runtime.transaction(sup) as ctx:
        r = relay.open_relay(ctx, RelayOpenIn(requester_id=asker, target_id=other, message="m"))
        ans = relay.consent(ctx, r.id, RelayConsentIn(method="oral", share_contact=True))
    assert ans.status == "consented" and ans.contact is None and not ans.delivered
    with pytest.raises(Conflict) as e, runtime.transaction(sup) as ctx:
        relay.consent(ctx, r.id, RelayConsentIn(method="oral"))
    assert e.value.code == "already_answered" and e.value.details["status"] == "consented"
    assert "not delivered yet" in e.value.message_en
    with runtime.transaction(sup) as ctx:
        done = relay.deliver(ctx, r.id)
    assert done.status == "completed" and done.contact == {
        "email": "other@example.jp",
        "phone": "+818011112222",
    }
    with pytest.raises(ValidationFailed), runtime.transaction(sup) as ctx:
        r2 = relay.open_relay(ctx, RelayOpenIn(requester_id=asker, target_id=other, message="m"))
        relay.consent(ctx, r2.id, RelayConsentIn(method="oral", agree=False, share_contact=True))
    with pytest.raises(PolicyDenied), runtime.transaction(actors["analyst"]) as ctx:
        relay.show(ctx, r.id)


# --- CLI -------------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("MAMORI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MAMORI_KEK", base64.b64encode(secrets.token_bytes(32)).decode())
    for k in ("MAMORI_DATABASE_URL", "MAMORI_KEYSTORE_URL", "MAMORI_AUDIT_URL", "MAMORI_AS", "MAMORI_LANG"):
        monkeypatch.delenv(k, raising=False)
    reset_settings_cache()
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    assert run("init").exit_code == 0
    assert run("demo", "--customers", "4").exit_code == 0
    yield run
    reset_settings_cache()


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_relay_in_the_seeds_order_through_the_cli(cli):
    ids = [
        c["id"]
        for c in j(cli(*PO, "customers", "list", "-p", "contract", "--limit", "10", "--json"))["items"]
    ]
    a, b = ids[0], ids[1]
    opened = j(
        cli(
            *SUPPORT,
            "provision",
            "relay",
            "open",
            "--from",
            a,
            "--to",
            b,
            "--message",
            "謝罪文です",
            "--json",
        )
    )
    assert opened["status"] == "open" and opened["disclosure_refused_rule"] == "R-27-1"
    rid = opened["id"]
    out = cli(*SUPPORT, "provision", "relay", "deliver", rid)  # staff passes the message on first
    assert out.exit_code == 0 and "謝罪文です" in out.stdout and f"relay consent {rid}" in out.stdout
    shown = j(cli(*SUPPORT, "provision", "relay", "show", rid, "--json"))
    assert shown["status"] == "delivered" and shown["message"] is None and shown["answer"] is None
    again = cli(*SUPPORT, "provision", "relay", "deliver", rid)
    assert (
        again.exit_code != 0
        and "already_delivered" in again.output
        and "already_answered" not in again.output
    )
    # the other customer answers later by e-mail: they agree to share → the contact is handed over now
    ans = j(
        cli(*SUPPORT, "provision", "relay", "consent", rid, "--method", "email", "--share-contact", "--json")
    )
    assert ans["status"] == "completed" and ans["contact_provided"] is True and ans["contact"] is not None
    recs = j(cli(*PO, "provision", "records", "list", "--customer", b, "--json"))
    assert [r["recipient_label"] for r in recs] == [f"customer:{a}"]
    twice = cli(*SUPPORT, "provision", "relay", "consent", rid)
    assert twice.exit_code != 0 and "already_answered" in twice.output
    denied = cli(*ANALYST, "provision", "relay", "show", rid)
    assert denied.exit_code == 3
    bad = cli(*SUPPORT, "provision", "relay", "consent", rid, "--method", "telepathy")
    assert bad.exit_code != 0 and "invalid_input" in bad.output and "telepathy" not in bad.output


# --- API -------------------------------------------------------------------------------------------------------


def post(c, csrf, path, body=None):
    return c.post(f"{API}{path}", json=body, headers={"X-CSRF-Token": csrf})


def test_relay_in_the_seeds_order_through_the_api(runtime):
    api = Api(runtime)
    sup, csrf = api.client("support")
    from mamori.kernel.context import SYSTEM_ACTOR
    from mamori.staff import service as staff_service

    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as s:
        po = staff_service.actor_for(s, "po")
    a, b = _pair(runtime, po)
    r = post(sup, csrf, "/relays", {"requester_id": a, "target_id": b, "message": "お詫びの手紙"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    d = post(sup, csrf, f"/relays/{rid}/deliver")
    assert (
        d.status_code == 200 and d.json()["message"] == "お詫びの手紙" and d.json()["status"] == "delivered"
    )
    again = post(sup, csrf, f"/relays/{rid}/deliver")
    assert again.status_code == 409 and again.json()["code"] == "already_delivered"
    assert "お詫び" not in again.text
    ans = post(sup, csrf, f"/relays/{rid}/consent", {"method": "oral", "share_contact": True})
    assert ans.status_code == 200, ans.text
    assert ans.json()["status"] == "completed" and ans.json()["contact"]["email"] == "other@example.jp"
    recs = sup.get(f"{API}/provision-records", params={"customer_id": b})
    if recs.status_code == 200:  # support may not list records; the privacy officer can
        assert len(recs.json()) == 1
    pc, pcsrf = api.client("po")
    assert len(pc.get(f"{API}/provision-records", params={"customer_id": b}).json()) == 1
    twice = post(sup, csrf, f"/relays/{rid}/consent", {"method": "oral"})
    assert twice.status_code == 409 and twice.json()["code"] == "already_answered"
    bad = post(sup, csrf, f"/relays/{rid}/consent", {"method": "telepathy"})
    assert bad.status_code == 422
    other, ocsrf = api.client("analyst")
    assert post(other, ocsrf, f"/relays/{rid}/deliver").status_code == 403
