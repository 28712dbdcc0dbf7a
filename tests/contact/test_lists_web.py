"""``/contact/lists`` in the staff web app (issue 20): the form, the counts, the CSV download."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mamori.kernel.runtime import Runtime
from tests.api.conftest import USERS, Api
from tests.contact.conftest import OUTBOUND, World, populate, staff_actors

HREF = re.compile(r'(?:href|action|hx-post|hx-get|src)="([^"]*)"')
PERSONAL = ["試験", "シケン", "+8190", "person1@example.jp", "090-1234"]


@pytest.fixture
def setup(runtime: Runtime) -> tuple[Api, World]:
    api = Api(runtime)
    return api, populate(runtime, staff_actors(runtime, USERS))


def _no_personal_data(r: Any) -> None:
    for url in HREF.findall(r.text):
        assert not any(v in url for v in PERSONAL), url
    assert not any(v in r.text for v in PERSONAL)


def test_form_build_and_download(setup: tuple[Api, World]) -> None:
    api, w = setup
    c, csrf = api.client("support")
    page = c.get("/contact/lists")
    assert page.status_code == 200
    assert OUTBOUND.code in page.text and "電話" in page.text
    assert page.headers["cache-control"] == "no-store"
    r = c.post(
        "/contact/lists", data={"csrf": csrf, "purpose": OUTBOUND.code, "channel": "phone", "segment": ""}
    )
    assert r.status_code == 200, r.text
    assert "連絡拒否（この手段）" in r.text and "消去済み" in r.text and "利用停止" in r.text
    assert "5人" in r.text or "5 人" in r.text
    _no_personal_data(r)
    d = c.post(
        "/contact/lists/download",
        data={"csrf": csrf, "purpose": OUTBOUND.code, "channel": "phone", "segment": ""},
    )
    assert d.status_code == 200
    assert d.headers["content-disposition"].startswith("attachment;")
    assert d.content.startswith(b"\xef\xbb\xbfcustomer_id,name,kana,phone\r\n")
    assert w.ids["ok"].encode() in d.content and w.ids["dnc"].encode() not in d.content


def test_without_csrf_nothing_is_built(setup: tuple[Api, World]) -> None:
    api, _ = setup
    c, _ = api.client("support")
    r = c.post("/contact/lists/download", data={"purpose": OUTBOUND.code, "channel": "phone"})
    assert r.status_code == 403
    assert b"customer_id" not in r.content


def test_refusals_and_bad_input_in_words(setup: tuple[Api, World]) -> None:
    api, _ = setup
    c, csrf = api.client("admin")
    r = c.post("/contact/lists", data={"csrf": csrf, "purpose": OUTBOUND.code, "channel": "phone"})
    assert r.status_code == 403 and "R-23-2" in r.text
    c, csrf = api.client("support")
    bad = c.post("/contact/lists", data={"csrf": csrf, "purpose": OUTBOUND.code, "channel": "fax"})
    assert bad.status_code == 422 and "fax" not in bad.text
    seg = c.post(
        "/contact/lists",
        data={"csrf": csrf, "purpose": OUTBOUND.code, "channel": "phone", "segment": "colour=青森"},
    )
    assert seg.status_code == 422 and "青森" not in seg.text
    other = c.post("/contact/lists", data={"csrf": csrf, "purpose": OUTBOUND.code, "channel": "email"})
    assert other.status_code == 403 and "R-18-1" in other.text


def test_signed_out_goes_to_sign_in(setup: tuple[Api, World]) -> None:
    api, _ = setup
    c, _ = api.client()
    r = c.get("/contact/lists", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/sign-in"
