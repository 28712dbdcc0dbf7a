"""Accuracy (issue 21, R-22-1): each customer's last confirmation date, a confirmation, and the records due for one —
through the service, the CLI and the API.

A confirmation is a customer update for the declared purpose (``customer.update``: a rep their own customers),
audited ``customer.confirm`` with rule R-22-1; the list of records due is scoped to those the caller may confirm
and holds ids, owners and dates only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from mamori.customers.models import Customer
from mamori.customers.service import accuracy
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.runtime import Runtime
from mamori.kernel.settings import reset_settings_cache
from tests.api.conftest import Api
from tests.factories import make_customer, point_env_at, seed_basics

YEAR = timedelta(days=365)


def _confirmed_at(rt: Runtime, cid: str) -> Any:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return ctx.session.execute(select(Customer.confirmed_at).where(Customer.id == cid)).scalar_one()


def _set_confirmed(rt: Runtime, cid: str, at: Any) -> None:
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.execute(update(Customer).where(Customer.id == cid).values(confirmed_at=at))


@pytest.fixture
def book(runtime: Runtime) -> dict[str, Any]:
    actors = seed_basics(runtime)
    old = make_customer(runtime, actors["sato"], email="old@example.jp", phone=None)
    runtime.clock.advance(400 * timedelta(days=1))
    fresh = make_customer(runtime, actors["sato"], email="fresh@example.jp", phone=None)
    other = make_customer(runtime, actors["suzuki"], email="other@example.jp", phone=None)
    return {"actors": actors, "old": old, "fresh": fresh, "other": other}


def test_a_new_record_is_confirmed_when_created(runtime: Runtime, book: dict[str, Any]) -> None:
    assert _confirmed_at(runtime, book["fresh"]) == runtime.clock.now()
    assert _confirmed_at(runtime, book["old"]) == runtime.clock.now() - timedelta(days=400)


def test_confirm_sets_now_and_is_audited(runtime: Runtime, book: dict[str, Any]) -> None:
    runtime.clock.advance(timedelta(hours=1))
    with runtime.transaction(book["actors"]["sato"], "contract") as ctx:
        done = accuracy.confirm(ctx, book["old"])
    assert done.confirmed_at == runtime.clock.now()
    assert done.previous_confirmed_at == runtime.clock.now() - timedelta(days=400, hours=1)
    assert _confirmed_at(runtime, book["old"]) == runtime.clock.now()
    entry = runtime.audit.search(action="customer.confirm", limit=5)[0]
    assert entry.rule_ids == ("R-22-1",) and entry.subject_ids == (book["old"],)
    assert entry.fields == ("confirmed_at",) and entry.decision == "allow"


def test_unconfirmed_lists_the_old_records_of_the_scope(runtime: Runtime, book: dict[str, Any]) -> None:
    a = book["actors"]
    with runtime.transaction(a["po"]) as ctx:
        due = accuracy.unconfirmed(ctx, older_than_days=365, limit=10)
        assert accuracy.count_unconfirmed(ctx, older_than_days=365) == 1
        assert [d.customer_id for d in accuracy.unconfirmed(ctx, older_than_days=1, limit=10)] == [
            book["old"]
        ]
    assert [d.customer_id for d in due] == [book["old"]]
    assert (
        due[0].owner_id == a["sato"].id and due[0].owner == a["sato"].name and due[0].confirmed_at is not None
    )
    _set_confirmed(runtime, book["other"], runtime.clock.now() - 2 * YEAR)
    with runtime.transaction(a["sato"]) as ctx:  # a rep sees only their own customers (R-23-2)
        assert [d.customer_id for d in accuracy.unconfirmed(ctx, older_than_days=365, limit=10)] == [
            book["old"]
        ]
    with runtime.transaction(a["suzuki"]) as ctx:
        assert [d.customer_id for d in accuracy.unconfirmed(ctx, older_than_days=365, limit=10)] == [
            book["other"]
        ]
    _set_confirmed(runtime, book["fresh"], None)
    with runtime.transaction(a["po"]) as ctx:  # never confirmed first, then the oldest
        listed = [d.customer_id for d in accuracy.unconfirmed(ctx, older_than_days=365, limit=10)]
    assert listed == [book["fresh"], book["other"], book["old"]]
    entry = runtime.audit.search(action="customer.unconfirmed", limit=5)[0]
    assert entry.rule_ids == ("R-22-1",) and entry.subject_ids == () and entry.details["count"] == 3


def test_confirm_takes_the_record_off_the_list(runtime: Runtime, book: dict[str, Any]) -> None:
    a = book["actors"]
    with runtime.transaction(a["sato"], "contract") as ctx:
        accuracy.confirm(ctx, book["old"])
    with runtime.transaction(a["sato"]) as ctx:
        assert accuracy.unconfirmed(ctx, older_than_days=365, limit=10) == []


def test_refusals(runtime: Runtime, book: dict[str, Any]) -> None:
    a = book["actors"]
    before = _confirmed_at(runtime, book["other"])
    with pytest.raises(PolicyDenied) as refused, runtime.transaction(a["sato"], "contract") as ctx:
        accuracy.confirm(ctx, book["other"])  # suzuki's customer
    assert refused.value.rule_id == "R-23-2"
    with pytest.raises(PolicyDenied) as refused, runtime.transaction(a["analyst"], "contract") as ctx:
        accuracy.confirm(ctx, book["old"])
    assert refused.value.rule_id == "R-23-2"
    with pytest.raises(PolicyDenied) as refused, runtime.transaction(a["sato"]) as ctx:
        accuracy.confirm(ctx, book["old"])  # no purpose declared
    assert refused.value.rule_id == "R-18-1"
    with pytest.raises(PolicyDenied) as refused, runtime.transaction(a["analyst"]) as ctx:
        accuracy.unconfirmed(ctx, older_than_days=365, limit=10)
    assert refused.value.rule_id == "R-23-2" and refused.value.code == "role_not_permitted"
    assert _confirmed_at(runtime, book["other"]) == before  # nothing changed
    denied = runtime.audit.search(action="customer.unconfirmed", limit=5)[0]
    assert denied.decision == "deny" and denied.rule_ids == ("R-23-2",)


def test_bad_input(runtime: Runtime, book: dict[str, Any]) -> None:
    a = book["actors"]
    with pytest.raises(NotFound), runtime.transaction(a["po"], "contract") as ctx:
        accuracy.confirm(ctx, "0" * 32)
    for days, limit in ((0, 10), (3651, 10), (365, 0), (365, 10001)):
        with pytest.raises(ValidationFailed), runtime.transaction(a["po"]) as ctx:
            accuracy.unconfirmed(ctx, older_than_days=days, limit=limit)


# -- CLI ------------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(runtime: Runtime, book: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from mamori.cli.main import app

    point_env_at(monkeypatch, runtime.settings)
    runner = CliRunner()

    def run(user: str, *args: str) -> Any:
        return runner.invoke(app, ["--as", user, "customers", *args])

    yield run
    reset_settings_cache()


def test_cli_confirm_and_unconfirmed(runtime: Runtime, book: dict[str, Any], cli: Any) -> None:
    # the CLI runs on the wall clock: make the old record two years old from now
    import datetime as dt

    _set_confirmed(runtime, book["old"], dt.datetime.now(dt.UTC) - 2 * YEAR)
    r = cli("sato", "unconfirmed", "--json")
    assert r.exit_code == 0, r.output
    listed = json.loads(r.stdout)
    assert listed["total"] == 1 and [c["customer_id"] for c in listed["customers"]] == [book["old"]]
    r = cli("sato", "unconfirmed")
    assert r.exit_code == 0 and book["old"] in r.stdout and "確認が必要な顧客: 1人" in r.stdout
    r = cli("sato", "confirm", book["old"], "-p", "contract", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["customer_id"] == book["old"]
    r = cli("sato", "unconfirmed", "--json")
    assert json.loads(r.stdout)["total"] == 0


def test_cli_refusals_and_bad_input(book: dict[str, Any], cli: Any) -> None:
    r = cli("sato", "confirm", book["other"], "-p", "contract")
    assert r.exit_code != 0 and "R-23-2" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = cli("analyst", "unconfirmed")
    assert r.exit_code != 0 and "R-23-2" in r.stderr
    r = cli("po", "unconfirmed", "--days", "0")
    assert r.exit_code != 0 and len(r.stderr.strip().splitlines()) == 1


# -- API ------------------------------------------------------------------------------------------------------

API = "/api/v1/customers"


def test_api_confirm_and_unconfirmed(runtime: Runtime) -> None:
    api = Api(runtime)
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        from mamori.staff import service as staff_service

        sato = staff_service.actor_for(ctx, "sato")
        suzuki = staff_service.actor_for(ctx, "suzuki")
    mine = make_customer(runtime, sato, email="mine@example.jp", phone=None)
    theirs = make_customer(runtime, suzuki, email="theirs@example.jp", phone=None)
    runtime.clock.advance(400 * timedelta(days=1))
    c, csrf = api.client("sato")
    r = c.get(f"{API}/unconfirmed")
    assert r.status_code == 200, r.text
    assert [x["customer_id"] for x in r.json()["customers"]] == [mine] and r.json()["total"] == 1
    r = c.post(f"{API}/{mine}/confirm", headers={"X-CSRF-Token": csrf, "Mamori-Purpose": "contract"})
    assert r.status_code == 200, r.text
    assert r.json()["customer_id"] == mine
    assert c.get(f"{API}/unconfirmed").json()["total"] == 0
    # someone else's customer: refused with the rule, nothing changed
    r = c.post(f"{API}/{theirs}/confirm", headers={"X-CSRF-Token": csrf, "Mamori-Purpose": "contract"})
    assert r.status_code in (403, 404) and r.headers["content-type"].startswith("application/problem+json")
    assert _confirmed_at(runtime, theirs) < runtime.clock.now() - YEAR
    # bad input: 422 problem+json, no value echoed
    r = c.get(f"{API}/unconfirmed", params={"days": "0"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    r = c.post(f"{API}/not-an-id/confirm", headers={"X-CSRF-Token": csrf, "Mamori-Purpose": "contract"})
    assert r.status_code == 422 and "not-an-id" not in r.text
    # a role that may not confirm
    a, _ = api.client("analyst")
    r = a.get(f"{API}/unconfirmed")
    assert r.status_code == 403 and r.json()["rule_id"] == "R-23-2"
