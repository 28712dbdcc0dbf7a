"""``Idempotency-Key`` on ``POST /api/v1/customers`` (issue 19): a retry with the same key and body gives the first
answer and creates nothing twice; the same key with another body is refused (422 idempotency_key_reused); keys
are per actor, kept 24 hours, stored only as a hash; two requests with one key at once create one customer."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from mamori.customers import service as customers_service
from mamori.customers.models import Customer
from mamori.kernel import idempotency
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.idempotency import IdempotencyKey
from mamori.staff.schemas import ApiTokenCreate
from tests.staff.helpers import own_token

URL = "/api/v1/customers"
SCOPE = "POST /api/v1/customers"


def body(name: str = "冪等 花子", email: str = "idem@example.jp") -> dict:
    return {
        "customer": {"name": name, "kana": "ベキトウ ハナコ", "emails": [email]},
        "provenance": {"method": "direct", "channel": "web_form", "notice_version": "n-2026"},
        "purposes": ["contract"],
    }


def customers(api) -> int:
    with api.rt.sessions() as s:
        return int(s.execute(select(func.count()).select_from(Customer)).scalar_one())


def key_rows(api) -> list[IdempotencyKey]:
    with api.rt.sessions() as s:
        return list(s.scalars(select(IdempotencyKey)))


def post(c, csrf: str, payload: dict, key: str | None):
    headers = {"X-CSRF-Token": csrf}
    if key is not None:
        headers["Idempotency-Key"] = key
    return c.post(URL, json=payload, headers=headers)


def test_the_same_key_and_body_give_the_first_answer_and_create_once(api):
    c, csrf = api.client("sato")
    first = post(c, csrf, body(), "order-2026-0001")
    assert first.status_code == 201, first.text
    again = post(c, csrf, body(), "order-2026-0001")
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    # the same request written differently (key order) is the same request
    reordered = {k: body()[k] for k in ("purposes", "provenance", "customer")}
    assert post(c, csrf, reordered, "order-2026-0001").json() == first.json()
    assert customers(api) == 1
    rows = key_rows(api)
    assert len(rows) == 1 and rows[0].status_code == 201 and rows[0].resource_id == first.json()["id"]


def test_the_key_is_stored_only_as_a_hash_with_the_actor(api):
    c, csrf = api.client("sato")
    key = "client-key-7f3a"
    assert post(c, csrf, body(), key).status_code == 201
    (row,) = key_rows(api)
    actor = f"staff:{api.ids['sato']}"
    assert row.id == hashlib.sha256(f"{actor}\x00{SCOPE}\x00{key}".encode()).hexdigest()
    with api.rt.data_engine.connect() as conn:
        dumped = " ".join(str(v) for v in conn.execute(text("SELECT * FROM idempotency_keys")).one())
    assert key not in dumped and "冪等" not in dumped and "idem@example.jp" not in dumped


def test_the_same_key_with_another_body_is_refused_and_creates_nothing(api):
    c, csrf = api.client("sato")
    assert post(c, csrf, body(), "k-1").status_code == 201
    r = post(c, csrf, body(name="別人 太郎", email="other@example.jp"), "k-1")
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["code"] == "idempotency_key_reused"
    assert "k-1" not in r.text and "別人" not in r.text and "other@example.jp" not in r.text
    assert customers(api) == 1


def test_keys_are_per_actor(api):
    sato, sato_csrf = api.client("sato")
    po, po_csrf = api.client("po")
    a = post(sato, sato_csrf, body(), "shared-key")
    b = post(po, po_csrf, body(), "shared-key")
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]
    assert customers(api) == 2


def test_without_a_key_the_same_body_creates_twice_as_before(api):
    c, csrf = api.client("sato")
    a = post(c, csrf, body(), None)
    b = post(c, csrf, body(), None)
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]
    assert customers(api) == 2 and key_rows(api) == []


def test_an_expired_key_is_forgotten_and_deleted_lazily(api):
    c, csrf = api.client("sato")
    first = post(c, csrf, body(), "nightly-1").json()["id"]
    old = post(c, csrf, body(email="old@example.jp"), "nightly-0").json()["id"]
    assert old != first and len(key_rows(api)) == 2
    api.rt.clock.advance(timedelta(hours=24, seconds=1))
    c, csrf = api.client("sato")  # the session has expired meanwhile
    again = post(c, csrf, body(), "nightly-1")
    assert again.status_code == 201 and again.json()["id"] != first  # a new request after 24 hours
    rows = key_rows(api)  # nightly-0's row went with the expired ones; nightly-1 is the new one
    assert [r.resource_id for r in rows] == [again.json()["id"]]
    assert customers(api) == 3


def test_within_24_hours_the_key_still_replays(api):
    c, csrf = api.client("sato")
    first = post(c, csrf, body(), "late-retry").json()["id"]
    api.rt.clock.advance(timedelta(hours=23, minutes=59))
    c, csrf = api.client("sato")
    assert post(c, csrf, body(), "late-retry").json()["id"] == first
    assert customers(api) == 1


@pytest.mark.parametrize("key", ["", "x" * 201, "tab\tinside", "trailing-del\x7f"])
def test_a_bad_key_is_refused_with_422_and_creates_nothing(api, key):
    c, csrf = api.client("sato")
    try:
        r = post(c, csrf, body(), key)
    except Exception:  # noqa: BLE001 - the HTTP client itself refuses some control characters
        pytest.skip("the client does not send this header value")
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "bad_idempotency_key" and (not key or key not in r.text)
    assert customers(api) == 0 and key_rows(api) == []


def test_a_key_of_200_characters_is_accepted(api):
    c, csrf = api.client("sato")
    assert post(c, csrf, body(), "k" * 200).status_code == 201


@pytest.mark.parametrize("key", ["", "a" * 201, "a\x00b", "a\nb", "a\x1bb", "a\u200bb", "a\x85b"])
def test_check_key_refuses_empty_long_and_control_characters(key):
    with pytest.raises(ValidationFailed) as exc:
        idempotency.check_key(key)
    assert exc.value.code == "bad_idempotency_key"


def test_unauthenticated_and_unauthorised_requests_leave_no_key(api):
    anon, _ = api.client()
    r = anon.post(URL, json=body(), headers={"Idempotency-Key": "anon-1"})
    assert r.status_code == 401
    analyst, csrf = api.client("analyst")  # may not create customers
    r = post(analyst, csrf, body(), "analyst-1")
    assert r.status_code == 403
    assert customers(api) == 0 and key_rows(api) == []
    r = analyst.post(URL, json=body(), headers={"Idempotency-Key": "no-csrf"})  # cookie write without CSRF
    assert r.status_code == 403 and key_rows(api) == []


def test_a_failed_request_does_not_burn_its_key(api):
    c, csrf = api.client("sato")
    bad = body()
    bad["purposes"] = ["no-such-purpose"]
    r = post(c, csrf, bad, "retry-after-fix")
    assert r.status_code in (403, 422), r.text
    assert key_rows(api) == []
    fixed = post(c, csrf, body(), "retry-after-fix")
    assert fixed.status_code == 201 and customers(api) == 1


def test_the_header_is_documented_in_the_openapi(api):
    spec = TestClient(api.app).get("/openapi.json").json()
    params = spec["paths"]["/api/v1/customers"]["post"]["parameters"]
    (header,) = [p for p in params if p["name"] == "Idempotency-Key"]
    assert header["in"] == "header" and not header.get("required", False)
    assert "idempotency_key_reused" in header["description"] and "24" in header["description"]


# -- two requests with one key at once ------------------------------------------------------------------------


@pytest.fixture
def slow_create(monkeypatch):
    """Make the create take a while, so the second request arrives while the first still holds its key."""
    real = customers_service.create
    entered = threading.Event()

    def slow(*args, **kwargs):
        entered.set()
        time.sleep(0.4)
        return real(*args, **kwargs)

    monkeypatch.setattr(customers_service, "create", slow)
    return entered


def _token_headers(api, username: str = "sato") -> dict[str, str]:
    token = own_token(
        api.rt, username, api.secrets[username], ApiTokenCreate(name="t", purposes=["contract"])
    )
    return {"Authorization": f"Bearer {token.token}"}


def _race(api, headers: dict[str, str], payloads: list[dict]) -> list:
    results: list = [None] * len(payloads)

    def send(i: int) -> None:
        with TestClient(api.app, base_url="https://testserver", raise_server_exceptions=False) as client:
            results[i] = client.post(URL, json=payloads[i], headers=headers)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(payloads))]
    for t in threads:
        t.start()
        time.sleep(0.1)  # the first is inside its transaction (slow create) when the next one starts
    for t in threads:
        t.join(60)
    return results


def test_two_requests_with_one_key_at_once_create_one_customer(api, slow_create):
    headers = {**_token_headers(api), "Idempotency-Key": "double-click"}
    a, b = _race(api, headers, [body(), body()])
    assert slow_create.is_set()
    assert a.status_code == b.status_code == 201, (a.text, b.text)
    assert a.json()["id"] == b.json()["id"]
    assert customers(api) == 1 and len(key_rows(api)) == 1


def test_two_different_requests_with_one_key_at_once_one_wins_one_is_refused(api, slow_create):
    headers = {**_token_headers(api), "Idempotency-Key": "clash"}
    a, b = _race(api, headers, [body(), body(name="別人 次郎", email="jiro@example.jp")])
    codes = sorted([a.status_code, b.status_code])
    assert codes == [201, 422], (a.text, b.text)
    refused = a if a.status_code == 422 else b
    assert refused.json()["code"] == "idempotency_key_reused"
    assert customers(api) == 1
