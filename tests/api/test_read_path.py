"""Issue 16: the purpose-checked read at the speed of the machine — and still exactly as strict.

Statements are counted on every engine of the runtime (SQLAlchemy's cursor events see each SQL statement sent);
the caches the read path uses are checked against changes made by ANOTHER runtime on the same stores (what a
second server worker or a CLI command does), not only by this one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from mamori.consent import service as consent_service
from mamori.consent.schemas import ConsentIn
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.runtime import Runtime
from mamori.purposes import service as purposes_service
from mamori.staff import service as staff_service
from mamori.staff.schemas import ApiTokenCreate
from tests.factories import make_customer
from tests.staff.helpers import own_token

API = "/api/v1"
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


class Statements:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def of(self, store: str) -> list[str]:
        return [s for name, s in self.seen if name == store]

    def data(self, store: str) -> list[str]:
        return [s for s in self.of(store) if not s.lstrip().upper().startswith(CONTROL)]


@contextmanager
def counting(rt: Runtime) -> Iterator[Statements]:
    engines: dict[int, tuple[str, Engine]] = {}
    for name, engine in (
        ("data", rt.data_engine),
        ("data", rt.read_engine),
        ("keystore", rt.keystore_engine),
        ("keystore", rt.keystore_read_engine),
        ("audit", rt.audit_engine),
    ):
        engines.setdefault(id(engine), (name, engine))
    found = Statements()
    listeners = []
    for name, engine in engines.values():

        def on_execute(conn, cursor, statement, params, context, many, name=name):  # noqa: ANN001
            found.seen.append((name, statement))

        def on_begin(conn, name=name):  # noqa: ANN001
            found.seen.append((name, "BEGIN"))

        event.listen(engine, "before_cursor_execute", on_execute)
        event.listen(engine, "begin", on_begin)
        listeners.append((engine, on_execute, on_begin))
    try:
        yield found
    finally:
        for engine, on_execute, on_begin in listeners:
            event.remove(engine, "before_cursor_execute", on_execute)
            event.remove(engine, "begin", on_begin)


@pytest.fixture
def actors(api):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return {name: staff_service.actor_for(ctx, name) for name in ("po", "support", "admin")}


def _token(api, purposes: list[str]) -> dict[str, str]:
    issued = own_token(
        api.rt, "support", api.secrets["support"], ApiTokenCreate(name="sync", purposes=purposes)
    )
    return {"Authorization": f"Bearer {issued.token}"}


def _audit_entries(rt: Runtime) -> int:
    with rt.audit_engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM audit_entries").scalar_one())


def test_a_purpose_checked_read_runs_at_most_four_statements_besides_the_audit_append(api, actors):
    cid = make_customer(api.rt, actors["po"])
    other = make_customer(
        api.rt, actors["po"], name="佐藤 花子", email="hanako@example.jp", phone="080-1111-2222"
    )
    headers = {**_token(api, ["contract"]), "Mamori-Purpose": "contract"}
    client, _ = api.client()
    assert client.get(f"{API}/customers/{other}", headers=headers).status_code == 200  # warms token + catalog
    api.rt.keystore.clear_cache()  # the worst case: the person's data key is read from the keystore
    before = _audit_entries(api.rt)
    with counting(api.rt) as seen:
        r = client.get(f"{API}/customers/{cid}", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "山田 太郎" and r.json()["emails"] == ["taro.yamada@example.jp"]
    data = seen.data("data") + seen.data("keystore")
    assert len(data) <= 4, data
    assert len(seen.data("keystore")) == 1  # the key was read (cache cleared)...
    assert "BEGIN IMMEDIATE" not in seen.of("keystore")  # ...without the keystore's write lock
    assert "BEGIN IMMEDIATE" not in seen.of("data")  # a GET never takes the data store's write lock
    assert not any("staff_api_tokens" in s for s in data)  # the token check came from its short cache
    # the audit append is still there, committed before the answer was sent
    assert any(s.startswith("INSERT INTO audit_entries") for s in seen.of("audit"))
    assert _audit_entries(api.rt) == before + 1


def test_the_read_answers_exactly_what_the_slower_path_answered(api, actors):
    """Masking, notices, provenance and contact points: the one-round-trip read against the per-table reads."""
    cid = make_customer(api.rt, actors["po"], purposes=("contract", "marketing-email"))
    from mamori.customers import service as customers_service
    from mamori.customers.schemas import AttributeIn
    from mamori.kernel.policy import Category

    with api.rt.transaction(actors["po"], "contract") as ctx:
        customers_service.add_attribute(
            ctx, cid, AttributeIn(key="rank", category=Category.ATTRIBUTE, value="gold")
        )
    headers = {**_token(api, ["contract", "marketing-email"])}
    client, _ = api.client()
    contract = client.get(f"{API}/customers/{cid}", headers={**headers, "Mamori-Purpose": "contract"}).json()
    assert contract["attributes"] == [{"key": "rank", "category": "attribute", "value": "gold"}]
    assert contract["phones"] == ["+819012345678"] or contract["phones"] == ["090-1234-5678"]
    assert [p["channel"] for p in contract["provenance"]] == ["web_form"]
    assert contract["notified_purposes"] == ["contract", "marketing-email"]
    assert {n["purpose"] for n in contract["notices"]} == {"contract", "marketing-email"}
    # marketing-email needs consent (none given yet): refused, with the rule that refused it
    r = client.get(f"{API}/customers/{cid}", headers={**headers, "Mamori-Purpose": "marketing-email"})
    assert r.status_code == 403 and r.json().get("rule_id")
    # and only identifier + contact are within it once consented: the attribute is masked, never decrypted
    with api.rt.transaction(actors["po"]) as ctx:
        consent_service.grant(ctx, cid, "marketing-email", ConsentIn(method="checkbox", evidence="form-1"))
    mail = client.get(
        f"{API}/customers/{cid}", headers={**headers, "Mamori-Purpose": "marketing-email"}
    ).json()
    assert mail["attributes"] == [{"key": "rank", "category": "attribute", "value": None}]
    assert "attr:rank" in mail["masked"] and mail["emails"] == ["taro.yamada@example.jp"]


def test_consent_withdrawn_elsewhere_takes_effect_on_the_very_next_read(api, actors):
    cid = make_customer(api.rt, actors["po"])
    with api.rt.transaction(actors["po"]) as ctx:
        consent_service.grant(ctx, cid, "marketing-email", ConsentIn(method="checkbox", evidence="form-1"))
    headers = {**_token(api, ["marketing-email"]), "Mamori-Purpose": "marketing-email"}
    client, _ = api.client()
    assert client.get(f"{API}/customers/{cid}", headers=headers).status_code == 200
    assert client.get(f"{API}/customers/{cid}", headers=headers).status_code == 200
    other = Runtime(api.rt.settings, clock=api.rt.clock)  # another process on the same stores
    try:
        with other.transaction(actors["po"]) as ctx:
            consent_service.withdraw(
                ctx, cid, "marketing-email", ConsentIn(method="web_form", evidence="form-2")
            )
    finally:
        other.close()
    r = client.get(f"{API}/customers/{cid}", headers=headers)
    assert r.status_code == 403, r.text


def test_a_purpose_retired_by_another_process_is_refused_on_the_next_read(api, actors):
    cid = make_customer(api.rt, actors["po"])
    headers = {**_token(api, ["contract"]), "Mamori-Purpose": "contract"}
    client, _ = api.client()
    assert client.get(f"{API}/customers/{cid}", headers=headers).status_code == 200
    assert client.get(f"{API}/customers/{cid}", headers=headers).status_code == 200  # catalog now cached
    other = Runtime(api.rt.settings, clock=api.rt.clock)
    try:
        with other.transaction(actors["po"]) as ctx:
            purposes_service.retire(ctx, "contract")
    finally:
        other.close()
    r = client.get(f"{API}/customers/{cid}", headers=headers)
    assert r.status_code == 403 and r.json()["rule_id"] == "R-17-1", r.text


def test_a_purpose_revised_by_another_process_applies_its_stricter_consent_need_at_once(api, actors):
    cid = make_customer(api.rt, actors["po"])
    headers = {**_token(api, ["contract"]), "Mamori-Purpose": "contract"}
    client, _ = api.client()
    assert client.get(f"{API}/customers/{cid}", headers=headers).status_code == 200
    other = Runtime(api.rt.settings, clock=api.rt.clock)
    try:
        with other.transaction(actors["po"]) as ctx:
            current = purposes_service.show(ctx, "contract")
            from tests.factories import PURPOSES

            purposes_service.revise(ctx, PURPOSES["contract"].model_copy(update={"consent_appi": True}))
            assert purposes_service.show(ctx, "contract").version == current.version + 1
    finally:
        other.close()
    r = client.get(f"{API}/customers/{cid}", headers=headers)
    assert r.status_code == 403, r.text  # the person was never asked; the stricter need applies at once


def test_the_token_check_is_cached_but_a_revocation_here_is_immediate(api):
    headers = {**_token(api, ["contract"]), "Mamori-Purpose": "contract"}
    client, _ = api.client()
    assert client.get(f"{API}/customers", headers=headers).status_code == 200
    with counting(api.rt) as seen:
        assert client.get(f"{API}/customers", headers=headers).status_code == 200
    assert not any("staff_api_tokens" in s for s in seen.data("data"))
    with api.rt.transaction(SYSTEM_ACTOR) as ctx:
        for t in staff_service.list_tokens(ctx):
            staff_service.revoke_token(ctx, t.id)
    assert client.get(f"{API}/customers", headers=headers).status_code == 401


def test_disabling_the_user_here_ends_a_cached_token_at_once(api):
    headers = {**_token(api, ["contract"]), "Mamori-Purpose": "contract"}
    client, _ = api.client()
    assert client.get(f"{API}/customers", headers=headers).status_code == 200
    with api.rt.transaction(SYSTEM_ACTOR) as ctx:
        staff_service.disable(ctx, "support")
    assert client.get(f"{API}/customers", headers=headers).status_code == 401


def test_a_token_revoked_by_another_process_stops_working_within_its_short_lifetime(api):
    from datetime import timedelta

    from mamori.staff.service.common import TOKEN_CHECK_LIFETIME

    headers = {**_token(api, ["contract"]), "Mamori-Purpose": "contract"}
    client, _ = api.client()
    assert client.get(f"{API}/customers", headers=headers).status_code == 200
    other = Runtime(api.rt.settings, clock=api.rt.clock)
    try:
        with other.transaction(SYSTEM_ACTOR) as ctx:
            for t in staff_service.list_tokens(ctx):
                staff_service.revoke_token(ctx, t.id)
    finally:
        other.close()
    api.rt.clock.advance(TOKEN_CHECK_LIFETIME + timedelta(seconds=1))
    assert client.get(f"{API}/customers", headers=headers).status_code == 401
