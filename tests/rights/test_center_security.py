"""The privacy center's defences (issue 18): no cookie before a request is started; every POST must come from
this site (Origin / Referer, no cookie needed) and, once there is a request, carry a form token bound to its
token; the same "not found" page for an unknown request and a wrong or missing cookie; no personal data in any
URL, log line or error page."""

from __future__ import annotations

import json
import logging
import re

import pytest

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.rights.center import (
    A_EMAIL,
    COOKIE,
    ORIGIN,
    count_requests,
    fields,
    form_token,
    normalised,
    start,
    verify,
)
from tests.rights.helpers import last_code

MARKER = "zq-marker-7731"


@pytest.fixture
def api(runtime):
    return Api(runtime)


@pytest.fixture
def hanako(api):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
        po = staff_service.actor_for(s, "po")
    return make_customer(api.rt, po, name="佐藤 花子", email=A_EMAIL, phone="090-1111-2222")


def test_no_cookie_before_the_person_starts_a_request(api, published_notice):
    c, _ = api.client()
    for r in (
        c.get("/privacy"),  # the notice slice's pages: read before a request, set nothing either
        c.get("/privacy/notice"),
        c.get(f"/privacy/notice/{published_notice}"),
        c.get("/privacy/requests/new"),
        c.get("/privacy/requests/new?lang=en"),
        c.post("/privacy/requests/new", data=fields(published_notice, A_EMAIL), headers=ORIGIN),
        c.post("/privacy/requests/new", data=fields(published_notice, "bad"), headers=ORIGIN),
        c.get(f"/privacy/requests/{'0' * 32}"),
    ):
        assert "set-cookie" not in r.headers, r.request.url
    assert not c.cookies
    start(c, published_notice, A_EMAIL)
    assert list(c.cookies.keys()) == [COOKIE]


@pytest.mark.parametrize(
    "headers",
    [
        {},  # says nothing of where it came from
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"referer": "https://evil.example/privacy/requests/new"},
        {"referer": "https://testserver.evil.example/x"},
        {"sec-fetch-site": "cross-site"},
    ],
)
def test_a_post_from_another_site_is_refused_and_files_nothing(api, published_notice, headers):
    c, _ = api.client()
    for path in ("/privacy/requests/new", "/privacy/requests/send"):
        r = c.post(path, data=fields(published_notice, A_EMAIL), headers=headers, follow_redirects=False)
        assert r.status_code == 403, (path, headers)
        assert A_EMAIL not in r.text
    assert count_requests(api.rt) == 0 and not c.cookies


@pytest.mark.parametrize(
    "headers",
    [ORIGIN, {"referer": "https://testserver/privacy/requests/new"}, {"sec-fetch-site": "same-origin"}],
)
def test_a_same_site_post_is_taken(api, published_notice, headers):
    c, _ = api.client()
    r = c.post(
        "/privacy/requests/send",
        data=fields(published_notice, A_EMAIL),
        headers=headers,
        follow_redirects=False,
    )
    assert r.status_code == 303 and count_requests(api.rt) == 1


def test_code_and_scope_posts_need_this_site_and_the_form_token(api, published_notice, hanako):
    c, _ = api.client()
    rid = start(c, published_notice, A_EMAIL)
    code = last_code(api.rt, A_EMAIL)
    good = form_token(c.get(f"/privacy/requests/{rid}").text)
    cases = [
        ({"code": code}, ORIGIN),  # no form token
        ({"code": code, "form": "0" * 64}, ORIGIN),  # a wrong one
        ({"code": code, "form": good}, {"origin": "https://evil.example"}),  # from another site
        ({"code": code, "form": good}, {}),
    ]
    for data, headers in cases:
        r = c.post(f"/privacy/requests/{rid}/verify", data=data, headers=headers, follow_redirects=False)
        assert r.status_code == 403, (data, headers)
        r = c.post(
            f"/privacy/requests/{rid}/scope",
            data={**data, "categories": ["customers:contact"]},
            headers=headers,
            follow_redirects=False,
        )
        assert r.status_code == 403
    # nothing was tried: the code still works, first time
    assert verify(c, rid, code, good).status_code == 303
    # another browser (no cookie) cannot post for this request
    other, _ = api.client()
    r = other.post(f"/privacy/requests/{rid}/verify", data={"code": code, "form": good}, headers=ORIGIN)
    assert r.status_code == 404


def test_unknown_request_and_wrong_cookie_look_the_same(api, published_notice):
    c, _ = api.client()
    rid = start(c, published_notice, A_EMAIL)
    token = c.cookies.get(COOKIE)
    stranger, _ = api.client()
    missing = stranger.get(f"/privacy/requests/{rid}")
    stranger.cookies.set(COOKIE, "x" * 32, domain="testserver", path=f"/privacy/requests/{rid}")
    wrong = stranger.get(f"/privacy/requests/{rid}")
    unknown_id = "f" * 32
    stranger.cookies.set(COOKIE, token, domain="testserver", path=f"/privacy/requests/{unknown_id}")
    unknown = stranger.get(f"/privacy/requests/{unknown_id}")
    bodies = {normalised(r.text, rid, unknown_id) for r in (missing, wrong, unknown)}
    assert {r.status_code for r in (missing, wrong, unknown)} == {404}
    assert len(bodies) == 1
    assert "請求が見つかりません" in missing.text and "お問い合わせ窓口" in missing.text
    for path in ("/received", "/package?format=pdf"):
        assert stranger.get(f"/privacy/requests/{rid}{path}").status_code == 404
    assert c.get("/privacy/requests/not-an-id").status_code in (404, 422)
    assert MARKER not in c.get(f"/privacy/requests/{MARKER}").text


def test_bad_input_is_never_echoed(api, published_notice, hanako):
    c, _ = api.client()
    for data in (
        fields(published_notice, f"<b>{MARKER}@@"),
        fields(published_notice, A_EMAIL, kind=f"{MARKER}"),
        fields(published_notice, A_EMAIL, purpose=f"<i>{MARKER}"),
        fields(published_notice, A_EMAIL, categories=[f"{MARKER}:x"]),
    ):
        for path in ("/privacy/requests/new", "/privacy/requests/send"):
            r = c.post(path, data=data, headers=ORIGIN, follow_redirects=False)
            assert r.status_code == 422, (path, data)
            assert MARKER not in r.text and "入力内容を確認してください" in r.text
    assert count_requests(api.rt) == 0
    rid = start(c, published_notice, A_EMAIL)
    r = verify(c, rid, f"1<{MARKER}")
    assert r.status_code == 422 and "6桁の数字" in r.text and MARKER not in r.text


def test_no_personal_data_in_urls_or_log_lines(api, published_notice, hanako, caplog):
    caplog.set_level(logging.DEBUG)
    c, _ = api.client()
    seen: list[str] = []
    c.event_hooks["request"] = [lambda req: seen.append(str(req.url))]
    c.get("/privacy/requests/new")
    c.post("/privacy/requests/new", data=fields(published_notice, A_EMAIL), headers=ORIGIN)
    r = c.post("/privacy/requests/send", data=fields(published_notice, A_EMAIL), headers=ORIGIN)
    rid = re.search(r"/privacy/requests/([0-9a-f]{32})", str(r.url)).group(1)
    code = last_code(api.rt, A_EMAIL)
    verify(c, rid, "000000" if code != "000000" else "111111")
    verify(c, rid, code)
    c.get(f"/privacy/requests/{rid}")
    c.post("/privacy/requests/send", data=fields(published_notice, f"{MARKER}@@"), headers=ORIGIN)
    token = c.cookies.get(COOKIE)
    assert seen and all(A_EMAIL not in u and code not in u and token not in u for u in seen), seen
    logged = caplog.text + "".join(str(rec.args) for rec in caplog.records)
    assert A_EMAIL not in logged and "hanako" not in logged and MARKER not in logged
    assert code not in logged and token not in logged


def test_the_served_flow_logs_neither_the_address_nor_the_code(runtime, tmp_path):
    """``mamori serve`` with JSON logs at DEBUG (read from its log file, outside the process): the whole flow —
    form, confirm, send, receipt, a wrong code, the right code, the status, a refused input — leaves neither the
    address nor the code nor the token in a log line."""
    import httpx

    from tests.api.test_edge_ops_server import served
    from tests.rights.notice_support import publish

    version = publish(runtime)
    address = "zq.center.marker@example.com"
    with served(runtime, tmp_path, MAMORI_LOG_FORMAT="json", MAMORI_LOG_LEVEL="DEBUG") as (base, log):
        origin = {"origin": base}
        with httpx.Client(base_url=base, timeout=30) as c:
            assert c.get("/privacy/requests/new").status_code == 200
            assert (
                c.post("/privacy/requests/new", data=fields(version, address), headers=origin).status_code
                == 200
            )
            r = c.post("/privacy/requests/send", data=fields(version, address), headers=origin)
            assert r.status_code == 303, r.text
            rid = r.headers["location"].split("/")[3]
            token = c.cookies.get(COOKIE)
            assert c.get(r.headers["location"]).status_code == 200
            code = last_code(runtime, address)
            form = form_token(c.get(f"/privacy/requests/{rid}").text)
            wrong = "000000" if code != "000000" else "111111"
            r = c.post(f"/privacy/requests/{rid}/verify", data={"code": wrong, "form": form}, headers=origin)
            assert r.status_code == 422
            r = c.post(f"/privacy/requests/{rid}/verify", data={"code": code, "form": form}, headers=origin)
            assert r.status_code == 303
            assert c.get(f"/privacy/requests/{rid}").status_code == 200
            assert (
                c.post(
                    "/privacy/requests/send", data=fields(version, f"{MARKER}@@"), headers=origin
                ).status_code
                == 422
            )
    text = log.read_text(encoding="utf-8")
    access = [
        r for r in map(json.loads, filter(str.strip, text.splitlines())) if r.get("logger") == "mamori.access"
    ]
    routes = {(r["method"], r["route"], r["status"]) for r in access}  # the access log is there, by route
    assert ("POST", "/privacy/requests/{rid}/verify", 422) in routes and (
        "POST",
        "/privacy/requests/send",
        303,
    ) in routes
    for secret in (address, "zq.center.marker", code, token, MARKER):
        assert secret not in text, secret


def test_the_address_and_the_code_are_in_no_database_file_in_plaintext(api, published_notice, hanako):
    """Read from outside: the raw bytes of the SQLite data, keystore and audit files (with -wal / -shm) after a
    request filed and verified through the pages hold neither the typed address nor the code nor the token."""
    if api.rt.settings.resolved_database_url().startswith("postgresql"):
        pytest.skip("files are the point: SQLite")
    from pathlib import Path

    c, _ = api.client()
    typed = "zq.Typed.Center@example.org"  # a stranger's address, as typed
    rid = start(c, published_notice, typed)
    code = last_code(api.rt, typed)
    token = c.cookies.get(COOKIE)
    assert verify(c, rid, code).status_code == 303
    files = []
    for engine in (api.rt.data_engine, api.rt.keystore_engine, api.rt.audit_engine):
        db = Path(str(engine.url.database)).resolve()
        files += [p for p in db.parent.glob(db.name + "*") if p.is_file()]
    assert files
    # the scan reads the right files: the receipt number (not personal) is there in plain bytes
    receipt = re.search(r"R-\d{4}-\d{6}", c.get(f"/privacy/requests/{rid}").text).group(0)
    assert any(receipt.encode() in p.read_bytes() for p in files)
    for path in files:
        raw = path.read_bytes()
        for secret in (typed, typed.lower(), "zq.typed.center", token, f"コード: {code}", f"Code: {code}"):
            assert secret.encode() not in raw, (path.name, secret)
