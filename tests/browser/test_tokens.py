"""Issue 17 in a real browser: a person makes their own API token on "My API tokens" (signed in with a
verification code), it acts as them within its purposes, and they revoke it; bad input and signed-out visits."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.browser.conftest import Live, sign_in

pytestmark = pytest.mark.browser


def _api(live: Live, token: str, purpose: str) -> tuple[int, dict[str, object]]:
    req = urllib.request.Request(
        live.url + "/api/v1/customers?limit=1",
        headers={"Authorization": f"Bearer {token}", "Mamori-Purpose": purpose},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 - the test's own loopback server
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_my_tokens_page_issues_a_token_that_acts_as_me_within_its_purposes(page, live: Live):
    page.goto(live.url + "/staff/me/tokens")
    assert page.url.startswith(live.url + "/sign-in")  # signed out: the sign-in page, nothing shown
    sign_in(page, live, "sato")
    page.get_by_role("link", name="API トークン").click()
    assert page.get_by_role("heading", name="自分の API トークン").is_visible()
    # bad input: a purpose code that is not a code is refused with a message, and no token is made
    page.get_by_label("トークンの名前").fill("crm-sync")
    page.get_by_label("使ってよい利用目的").fill("<b>bad purpose</b>")
    page.get_by_role("button", name="発行する").click()
    assert page.locator("#api-token").count() == 0
    assert "<b>bad purpose</b>" not in page.content()
    page.goto(live.url + "/staff/me/tokens")
    page.get_by_label("トークンの名前").fill("crm-sync")
    page.get_by_label("使ってよい利用目的").fill("contract")
    page.get_by_role("button", name="発行する").click()
    token = page.locator("#api-token").inner_text().strip()
    assert token.startswith("mamori_")
    status, _ = _api(live, token, "contract")
    assert status == 200
    status, body = _api(live, token, "marketing-email")
    assert (
        status == 403 and body["code"] == "token_purpose_not_allowed" and "marketing-email" not in str(body)
    )
    # the list shows it; revoking it ends it at once
    page.goto(live.url + "/staff/me/tokens")
    row = page.locator("tr", has_text="crm-sync").first
    with page.expect_navigation():
        row.get_by_role("button", name="失効させる").click()
    with page.expect_navigation():  # a confirmation step: revoking cannot be undone
        page.get_by_role("button", name="失効を確定する").click()
    page.goto(live.url + "/staff/me/tokens")
    assert page.locator("tr.retired", has_text="crm-sync").count() >= 1
    status, body = _api(live, token, "contract")
    assert status == 401
