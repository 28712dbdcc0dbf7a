"""/healthz, /readyz and /metrics through the HTTP interface (issue 17, deliver 4).

No sign-in for health and readiness, nothing personal in them, 503 problem+json naming the part that is not
ready (never a URL, a path or an error text); /metrics only to a direct loopback client (the real-server test in
test_edge_ops_server.py shows the labels).
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.api.edge_ops_support import owner_engine


def _as_owner(rt, part: str, statement: str) -> None:
    engine = owner_engine(rt, part)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def _client(api, client: tuple[str, int] | None = None) -> TestClient:
    kwargs = {"client": client} if client else {}
    return TestClient(api.app, base_url="https://testserver", raise_server_exceptions=False, **kwargs)


def test_healthz_and_readyz_answer_without_sign_in(api):
    c = _client(api)
    r = c.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert r.headers["cache-control"] == "no-store" and r.headers["x-request-id"]
    r = c.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "status": "ready",
        "parts": {"data_store": "ok", "keystore": "ok", "audit_store": "ok"},
    }
    # not part of the API's schema, and only GET
    assert "/healthz" not in c.get("/openapi.json").json()["paths"]
    assert c.post("/readyz").status_code == 405


def _secrets_of(api) -> list[str]:
    s = api.rt.settings
    return [
        s.kek or "",
        s.resolved_database_url(),
        s.resolved_keystore_url(),
        s.resolved_audit_url(),
        str(s.home_path),
        str(s.resolved_key_dir()),
    ]


def test_readyz_names_a_data_store_behind_its_migrations(api):
    _as_owner(api.rt, "data", "UPDATE alembic_version SET version_num = '0001'")
    c = _client(api)
    r = c.get("/readyz")
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "not_ready"
    assert body["errors"] == [{"part": "data_store", "problem": "not_migrated"}]
    assert "データストア" in body["detail"]
    assert "data store: not migrated" in c.get("/readyz", headers={"accept-language": "en"}).json()["detail"]
    for secret in _secrets_of(api):
        assert secret not in r.text
    assert c.get("/healthz").status_code == 200  # alive, not ready


def test_readyz_names_a_keystore_or_audit_store_without_its_schema(api):
    _as_owner(api.rt, "audit", "DROP TABLE audit_head")
    r = _client(api).get("/readyz")
    assert r.status_code == 503
    assert r.json()["errors"] == [{"part": "audit_store", "problem": "schema_missing"}]
    _as_owner(api.rt, "keystore", "DROP TABLE kek_checks")
    r = _client(api).get("/readyz")
    parts = {e["part"]: e["problem"] for e in r.json()["errors"]}
    assert parts == {"keystore": "schema_missing", "audit_store": "schema_missing"}
    for secret in _secrets_of(api):
        assert secret not in r.text


def test_metrics_only_for_a_direct_loopback_client(api):
    # the test client's address is not loopback: the same 404 as a page that does not exist
    r = _client(api).get("/metrics")
    assert r.status_code == 404 and "http_requests_total" not in r.text
    loop = _client(api, ("127.0.0.1", 50000))
    cid = "ab" * 16
    assert loop.get(f"/api/v1/customers/{cid}", params={"email": "zqx@example.com"}).status_code == 401
    r = loop.get("/metrics")
    assert r.status_code == 200
    assert 'handler="/api/v1/customers/{customer_id}"' in r.text
    assert cid not in r.text and "zqx" not in r.text
    assert loop.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 404
    assert _client(api, ("::1", 50000)).get("/metrics").status_code == 200
    assert _client(api, ("10.0.0.8", 50000)).get("/metrics").status_code == 404
    assert "/metrics" not in loop.get("/openapi.json").json()["paths"]
