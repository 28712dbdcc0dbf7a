"""Issue 16 / ADR 0016: the server admits MAMORI_HTTP_CONCURRENCY requests at once and sizes its worker threads
and every store's connection pool from that figure, so an admitted request never waits for a connection."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from mamori import composition
from mamori.api.app import create_app
from mamori.kernel.context import SYSTEM_ACTOR, Role
from mamori.kernel.runtime import Runtime
from mamori.purposes import service as purposes_service
from mamori.staff import service as staff_service
from mamori.staff.schemas import ApiTokenCreate
from tests.factories import PURPOSES, make_customer
from tests.staff.helpers import make_staff, own_token

SECRETS: dict[int, str | None] = {}

CONCURRENCY = 3


@pytest.fixture
def small_server(settings_factory, clock):
    composition.register_all()
    rt = Runtime(settings_factory(http_concurrency=CONCURRENCY), clock=clock)
    rt.init()
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        for p in PURPOSES.values():
            purposes_service.add(ctx, p)
    _, secret = make_staff(rt, "support", Role.SUPPORT)
    token = own_token(rt, "support", secret, ApiTokenCreate(name="t", purposes=["contract"])).token
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        actor = staff_service.actor_for(ctx, "support")
    ids = [
        make_customer(rt, actor, name=f"山田 {i}郎", email=f"u{i}@example.jp", phone=f"090-1234-{1000 + i}")
        for i in range(6)
    ]
    SECRETS[id(rt)] = secret  # the support user's TOTP secret: each round signs in to create its own token
    yield rt, token, ids
    rt.close()


def test_pools_are_sized_from_the_concurrency_figure(small_server):
    rt, _, _ = small_server
    for engine in {
        rt.data_engine,
        rt.read_engine,
        rt.keystore_engine,
        rt.keystore_read_engine,
        rt.audit_engine,
    }:
        assert engine.pool.size() == CONCURRENCY  # type: ignore[attr-defined]


def test_no_more_requests_than_the_figure_hold_a_connection_at_once(small_server):
    rt, token, ids = small_server
    app = create_app(rt)
    peak = {"now": 0, "max": 0}
    lock = threading.Lock()

    def out(*_args):  # noqa: ANN002
        with lock:
            peak["now"] += 1
            peak["max"] = max(peak["max"], peak["now"])

    def back(*_args):  # noqa: ANN002
        with lock:
            peak["now"] -= 1

    pool = rt.read_engine.pool
    event.listen(pool, "checkout", out)
    event.listen(pool, "checkin", back)
    headers = {"Authorization": f"Bearer {token}", "Mamori-Purpose": "contract"}
    try:
        with TestClient(app, base_url="https://testserver") as client:
            with ThreadPoolExecutor(max_workers=12) as workers:
                codes = list(
                    workers.map(
                        lambda i, h=headers: (
                            client.get(f"/api/v1/customers/{ids[i % len(ids)]}", headers=h).status_code
                        ),
                        range(60),
                    )
                )
    finally:
        event.remove(pool, "checkout", out)
        event.remove(pool, "checkin", back)
    assert codes == [200] * 60
    # each admitted request holds at most one read connection at a time: never more than the figure at once,
    # so the pool (of that size) never made a request wait
    assert 1 <= peak["max"] <= CONCURRENCY, peak


def test_a_bad_concurrency_figure_is_refused(settings_factory):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        settings_factory(http_concurrency=0)


def test_concurrent_first_uses_of_a_token_all_succeed(small_server):
    """The first use of a token writes its last-used time; on SQLite, concurrent first uses used to fail with
    "database is locked" (503) when one committed after another's read began. Each is now checked again on a
    transaction that waits for the write lock."""
    rt, _, ids = small_server
    app = create_app(rt)
    codes: list[int] = []
    with TestClient(app, base_url="https://testserver") as client:
        for round_ in range(8):
            token = own_token(
                rt, "support", SECRETS[id(rt)], ApiTokenCreate(name=f"r{round_}", purposes=["contract"])
            ).token
            headers = {"Authorization": f"Bearer {token}", "Mamori-Purpose": "contract"}
            with ThreadPoolExecutor(max_workers=12) as workers:
                codes += list(
                    workers.map(
                        lambda i, h=headers: (
                            client.get(f"/api/v1/customers/{ids[i % len(ids)]}", headers=h).status_code
                        ),
                        range(12),
                    )
                )
    assert codes == [200] * len(codes)
