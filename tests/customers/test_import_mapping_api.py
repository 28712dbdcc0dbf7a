"""REST: /api/v1/customers/import-mappings[/{name}] — list, show, save (PUT), delete; problem+json on 401 / 403 /
404 / 422; the path is not taken for a customer id by GET /customers/{customer_id}."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi import APIRouter

from mamori.customers.api_mappings import router
from tests.api.conftest import Api

API = "/api/v1"
BASE = f"{API}/customers/import-mappings"
BODY = {
    "fields": {
        "name": {"columns": ["姓", "名"], "join": True, "sep": " "},
        "phone": {"columns": ["電話1", "電話2"]},
        "address": "都道府県+住所+建物",
        "attr:note": {"columns": ["備考"]},
    },
    "values": {"gender": {"1": "male", "2": "female"}},
    "id_system": "営業部台帳",
}


@pytest.fixture
def api(runtime):
    a = Api(runtime)
    paths = {getattr(r, "path", None) for r in a.app.router.routes}
    if BASE not in paths:
        # Not mounted by mamori.api.app yet: mount it the way it must be, before the customers router.
        sub = APIRouter()
        sub.include_router(router, prefix=API)
        a.app.router.routes[0:0] = sub.routes
    return a


def url(name: str) -> str:
    return f"{BASE}/{quote(name)}"


def test_put_get_list_delete(api):
    c, csrf = api.client("po")
    h = {"X-CSRF-Token": csrf}
    r = c.put(url("営業部"), json=BODY, headers=h)
    assert r.status_code == 200, r.text
    saved = r.json()
    assert saved["name"] == "営業部" and saved["mapping"]["fields"]["address"]["join"] is True
    assert saved["mapping"]["attributes"] == {"note": "attribute"}
    r = c.get(BASE)
    assert r.status_code == 200 and [m["name"] for m in r.json()] == ["営業部"]
    r = c.get(url("営業部"))
    assert r.status_code == 200 and r.json()["mapping"] == saved["mapping"]
    replaced = c.put(url("営業部"), json={"fields": {"name": "氏名"}}, headers=h)
    assert replaced.status_code == 200 and list(replaced.json()["mapping"]["fields"]) == ["name"]
    assert len(c.get(BASE).json()) == 1
    r = c.delete(url("営業部"), headers=h)
    assert r.status_code == 204
    assert c.get(BASE).json() == []


def test_list_is_not_taken_for_a_customer_id(api):
    c, _ = api.client("po")
    r = c.get(BASE)
    assert r.status_code == 200 and r.json() == []


def test_unauthenticated_is_401(api):
    c, _ = api.client(None)
    for method, path in (("get", BASE), ("get", url("x")), ("put", url("x")), ("delete", url("x"))):
        r = c.request(method.upper(), path, json=BODY if method == "put" else None)
        assert r.status_code == 401, (method, path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")


def test_a_role_that_may_not_import_is_403(api):
    po, csrf = api.client("po")
    assert po.put(url("shared"), json=BODY, headers={"X-CSRF-Token": csrf}).status_code == 200
    c, csrf = api.client("analyst")
    h = {"X-CSRF-Token": csrf}
    for r in (
        c.get(BASE),
        c.get(url("shared")),
        c.put(url("mine"), json=BODY, headers=h),
        c.delete(url("shared"), headers=h),
    ):
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["rule_id"] == "R-23-2"
    assert [m["name"] for m in po.get(BASE).json()] == ["shared"]


def test_a_missing_mapping_is_404(api):
    c, csrf = api.client("po")
    for r in (c.get(url("nothing")), c.delete(url("nothing"), headers={"X-CSRF-Token": csrf})):
        assert r.status_code == 404 and r.json()["code"] == "mapping_not_found"


@pytest.mark.parametrize(
    ("name", "body", "code"),
    [
        ("ok", {"fields": {"name": {"columns": ["姓", "名"]}}}, "mapping_conflict"),
        (
            "ok",
            {"fields": {"name": "氏名", "attr:x": "病歴"}, "attributes": {"x": "sensitive"}},
            "mapping_sensitive",
        ),
        ("ok", {"fields": {"namae": "氏名"}}, "bad_mapping"),
        ("ok", {"fields": {}}, "bad_mapping"),
        ("ok", {"fields": {"name": "氏名"}, "values": {"owner": {"山田花子": 3}}}, "bad_mapping"),
        ("bad name", {"fields": {"name": "氏名"}}, None),
    ],
)
def test_bad_input_is_422_without_values(api, name, body, code):
    c, csrf = api.client("po")
    r = c.put(url(name), json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    if code is not None:
        assert r.json()["code"] == code
    if code == "mapping_sensitive":
        assert r.json()["rule_id"] == "R-20-2"
    assert "山田花子" not in r.text and "病歴" not in r.text
    assert c.get(BASE).json() == []


def test_a_cookie_write_without_csrf_is_refused(api):
    c, _ = api.client("po")
    r = c.put(url("x"), json=BODY)
    assert r.status_code == 403 and r.json()["code"] == "csrf_rejected"
    assert c.get(BASE).json() == []
