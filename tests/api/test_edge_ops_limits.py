"""Request body and field-count limits (issue 17, "inputs at their limits"): 413 / 422 problem+json answered by
the outermost middleware, before routing, dependencies or sign-in, in Japanese or English, never echoing input.

Small limits are configured here (2 KiB for a request, 8 KiB for an upload, 5 fields) so the tests stay cheap;
the defaults (1 MiB / 64 MiB / 200) are checked against the settings. The "rest of the body is not read" half of
the guarantee needs a real socket: see tests/api/test_edge_ops_server.py.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from mamori.kernel.http.middleware import UPLOAD_ROUTES, is_upload_route
from tests.api.conftest import Api

MARKER = "zqxmarker4711"
SMALL = {"max_request_bytes": 2048, "max_upload_bytes": 8192, "max_form_fields": 5}


@pytest.fixture
def small_api(settings_factory, clock):
    from mamori import composition as bootstrap
    from mamori.kernel.runtime import Runtime

    bootstrap.register_all()
    rt = Runtime(settings_factory(**SMALL), clock=clock)
    rt.init()
    yield Api(rt)
    rt.close()


def _client(api: Api) -> TestClient:
    return TestClient(api.app, base_url="https://testserver", raise_server_exceptions=False)


def _is_problem(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code and body["status"] == status
    assert MARKER not in r.text
    assert r.headers.get("x-request-id")
    return body


def test_defaults_are_sane():
    from mamori.kernel.settings import Settings

    s = Settings()
    assert (
        s.max_request_bytes == 1_048_576 and s.max_upload_bytes == 64 * 1_048_576 and s.max_form_fields == 200
    )


def test_body_over_the_limit_is_413_before_sign_in(small_api):
    c = _client(small_api)
    big = json.dumps({"username": MARKER * 200, "password": "x", "totp": "123456"})
    assert len(big) > 2048
    # the public endpoint (no sign-in at all) and a signed-in-only one: 413, not 422 / 401
    for path in ("/api/v1/privacy-requests", "/api/v1/auth/sign-in", "/api/v1/customers"):
        r = c.post(path, content=big, headers={"content-type": "application/json"})
        body = _is_problem(r, 413, "request_too_large")
        assert "2048" in body["detail"] and "本文" in body["detail"]
    r = c.post("/api/v1/customers", content=big, headers={"accept-language": "en"})
    assert _is_problem(r, 413, "request_too_large")["detail"].startswith("The request body is too large")
    # just under the limit, the route answers as before (401 without a session)
    r = c.post("/api/v1/customers", json={"note": "x" * 1500})
    assert r.status_code == 401


def test_streamed_body_is_counted_without_content_length(small_api):
    c = _client(small_api)

    def chunks():
        for _ in range(10):
            yield (MARKER * 40).encode()  # 520 bytes a chunk, 5200 in all, no Content-Length

    r = c.post("/api/v1/privacy-requests", content=chunks(), headers={"content-type": "application/json"})
    _is_problem(r, 413, "request_too_large")
    r = c.post("/api/v1/customers", content=chunks(), headers={"content-type": "application/octet-stream"})
    _is_problem(r, 413, "request_too_large")


def test_upload_routes_get_the_upload_limit(small_api):
    assert {m for m, _, _ in UPLOAD_ROUTES} == {"POST"}
    assert is_upload_route("POST", "/imports/preview") and is_upload_route("POST", "/provision/receipts/new")
    assert not is_upload_route("GET", "/imports/preview") and not is_upload_route(
        "POST", "/imports/preview/x"
    )
    c = _client(small_api)
    files = {"file": ("a.csv", b"x" * 5000, "text/csv")}
    for path in ("/imports/preview", "/provision/receipts/new"):
        # 5 KB: over the request limit, within the upload limit → the page answers (signed out → sign-in); a
        # renamed page would answer 404 here and lose its larger limit
        r = c.post(path, files=files, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/sign-in"), (path, r.status_code)
        # 10 KB: over the upload limit → 413 before the page
        r = c.post(path, files={"file": ("a.csv", MARKER.encode() * 800, "text/csv")}, follow_redirects=False)
        _is_problem(r, 413, "request_too_large")
    # the same 5 KB multipart body to any other route is over the request limit
    r = c.post("/customers/search", files=files, follow_redirects=False)
    _is_problem(r, 413, "request_too_large")
    # the API's CSV imports carry the file as JSON text: the upload limit, not the request limit
    body = {"csv": "x" * 5000}
    for path in ("/api/v1/customers/imports", "/api/v1/receipts"):
        assert c.post(path, json=body).status_code == 401  # past the limits: sign-in is what refuses it
        _is_problem(c.post(path, json={"csv": MARKER * 800}), 413, "request_too_large")
    _is_problem(c.post("/api/v1/customers", json=body), 413, "request_too_large")


def test_too_many_json_keys_or_too_deep_is_422(small_api):
    c = _client(small_api)
    six = {f"{MARKER}{i}": MARKER for i in range(6)}
    body = _is_problem(c.post("/api/v1/auth/sign-in", json=six), 422, "too_many_fields")
    assert "5" in body["detail"]
    nested = {"a": {"b": {"c": {"d": {"e": {"f": six}}}}}}  # a nested object counts on its own
    _is_problem(c.post("/api/v1/privacy-requests", json=nested), 422, "too_many_fields")
    _is_problem(c.post("/api/v1/privacy-requests", json=[six]), 422, "too_many_fields")
    deep: object = MARKER
    for _ in range(40):
        deep = [deep]
    _is_problem(c.post("/api/v1/privacy-requests", json=deep), 422, "too_deeply_nested")
    # very deep JSON (the parser's own recursion limit) is refused the same way, not a 500
    r = c.post("/api/v1/privacy-requests", content="[" * 1500 + "]" * 1500)
    _is_problem(r, 413, "request_too_large")  # 3000 bytes: over 2 KiB first
    r = c.post("/api/v1/privacy-requests", content="[" * 1000 + "]" * 1000)
    _is_problem(r, 422, "too_deeply_nested")
    en = c.post("/api/v1/auth/sign-in", json=six, headers={"accept-language": "en"}).json()
    assert en["detail"].startswith("Too many fields")
    # five keys are fine: the route decides (a failed sign-in)
    r = c.post("/api/v1/auth/sign-in", json={"username": "nobody", "password": "x", "totp": "123456"})
    assert r.status_code == 401


def test_too_many_form_fields_is_422(small_api):
    c = _client(small_api)
    form = {f"f{i}": MARKER for i in range(6)}
    _is_problem(c.post("/sign-in", data=form), 422, "too_many_fields")
    # multipart outside the upload routes: read whole, parts counted (seven parts, the file included)
    files = {"file": ("a.csv", b"name\n", "text/csv")}
    _is_problem(c.post("/sign-in", data=form, files=files), 422, "too_many_fields")
    # an upload: parts counted as the page streams them (it reads only for a signed-in user)
    signed, _csrf = small_api.client("admin")
    r = signed.post("/imports/preview", data=form, files=files, follow_redirects=False)
    _is_problem(r, 422, "too_many_fields")
    r = signed.post("/imports/preview", data={"csrf": "x"}, files=files, follow_redirects=False)
    assert r.status_code != 422 or "too_many_fields" not in r.text
    # within the limit the page answers (a failed sign-in renders the form again)
    r = c.post("/sign-in", data={"username": "nobody", "password": "x", "totp": "123456"})
    assert r.status_code == 401 and "text/html" in r.headers["content-type"]
