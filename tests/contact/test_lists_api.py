"""``POST /api/v1/contact/lists`` and ``POST /api/v1/contact/reach`` (issue 20)."""

from __future__ import annotations

from typing import Any

import pytest

from mamori.kernel.runtime import Runtime
from tests.api.conftest import USERS, Api
from tests.api.test_api import problem
from tests.contact.conftest import NEWSLETTER, OUTBOUND, World, populate, staff_actors

LISTS = "/api/v1/contact/lists"
REACH = "/api/v1/contact/reach"


@pytest.fixture
def setup(runtime: Runtime) -> tuple[Api, World]:
    api = Api(runtime)
    return api, populate(runtime, staff_actors(runtime, USERS))


def _post(api: Api, user: str, path: str, body: dict[str, Any], **headers: str) -> Any:
    c, csrf = api.client(user)
    return c.post(path, json=body, headers={"X-CSRF-Token": csrf, **headers})


def test_list_json_holds_rows_and_counts(setup: tuple[Api, World]) -> None:
    api, w = setup
    r = _post(api, "support", LISTS, {"purpose": OUTBOUND.code, "channel": "phone"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["fields"] == ["customer_id", "name", "kana", "phone"]
    assert body["included"] == len(body["rows"]) == 5
    assert body["excluded"]["do_not_contact"] == 1 and body["excluded"]["erased"] == 1
    assert w.ids["dnc"] not in {row["customer_id"] for row in body["rows"]}
    assert all(set(row) == set(body["fields"]) for row in body["rows"])


def test_list_as_csv(setup: tuple[Api, World]) -> None:
    api, _ = setup
    r = _post(api, "support", LISTS, {"purpose": OUTBOUND.code, "channel": "phone"}, Accept="text/csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbfcustomer_id,name,kana,phone\r\n")
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["mamori-list-build"]
    r2 = _post(api, "support", LISTS, {"purpose": OUTBOUND.code, "channel": "post", "format": "csv"})
    assert r2.content.startswith(b"\xef\xbb\xbfcustomer_id,name,kana,postal_code,address\r\n")


def test_sales_rep_gets_own_customers_and_admin_is_refused(setup: tuple[Api, World]) -> None:
    api, w = setup
    r = _post(api, "suzuki", LISTS, {"purpose": OUTBOUND.code, "channel": "phone"})
    assert [row["customer_id"] for row in r.json()["rows"]] == [w.ids["ok2"]]
    refused = _post(api, "admin", LISTS, {"purpose": OUTBOUND.code, "channel": "phone"})
    problem(refused, 403, "role_not_permitted", "R-23-2")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"purpose": "no-such", "channel": "phone"}, 403, "purpose_unknown"),
        ({"purpose": OUTBOUND.code, "channel": "fax"}, 422, "bad_channel"),
        ({"purpose": OUTBOUND.code, "channel": "email"}, 403, "channel_not_in_purpose"),
        ({"purpose": OUTBOUND.code, "channel": "phone", "segment": "colour=青森"}, 422, "bad_segment"),
        ({"channel": "phone"}, 422, None),
        ({"purpose": OUTBOUND.code, "channel": "phone", "ids": ["青森 太郎"]}, 422, None),
    ],
)
def test_list_bad_input(
    setup: tuple[Api, World], body: dict[str, Any], status: int, code: str | None
) -> None:
    api, _ = setup
    r = _post(api, "support", LISTS, body)
    problem(r, status, code)
    assert "青森" not in r.text


def test_reach_allowed_and_refused(setup: tuple[Api, World]) -> None:
    api, w = setup
    ok = _post(
        api, "support", REACH, {"customer_id": w.ids["ok"], "purpose": OUTBOUND.code, "channel": "phone"}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["contact_points"] == ["+819012345601"]
    dnc = _post(
        api, "support", REACH, {"customer_id": w.ids["dnc"], "purpose": OUTBOUND.code, "channel": "phone"}
    )
    body = problem(dnc, 403, "do_not_contact", "R-35-1")
    assert "+8190" not in dnc.text and "試験" not in str(body)
    mail = _post(
        api, "analyst", REACH, {"customer_id": w.ids["never"], "purpose": NEWSLETTER.code, "channel": "email"}
    )
    problem(mail, 403, "role_not_permitted", "R-23-2")  # marketing lists, but does not call people one by one
    optin = _post(
        api, "po", REACH, {"customer_id": w.ids["never"], "purpose": NEWSLETTER.code, "channel": "email"}
    )
    problem(optin, 403, "optin_missing", "TE-3")
    missing = _post(
        api, "support", REACH, {"customer_id": "f" * 32, "purpose": OUTBOUND.code, "channel": "phone"}
    )
    problem(missing, 404, "customer_not_found")
    bad = _post(
        api, "support", REACH, {"customer_id": "not-an-id", "purpose": OUTBOUND.code, "channel": "phone"}
    )
    problem(bad, 422)
