"""The web app's shell in a real browser: sign-in with TOTP, the idle lock, CSRF, /docs offline, accessibility."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.browser.conftest import Live, shot, sign_in

pytestmark = pytest.mark.browser


def serious_violations(page) -> list[str]:
    """axe-core (from the axe-playwright-python package, injected by the test): serious or critical rules broken."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def test_sign_in_with_totp_and_the_home_page_in_japanese(page, live: Live):
    page.goto(live.url + "/")
    assert page.url == live.url + "/sign-in"  # not signed in: the sign-in page
    assert serious_violations(page) == []
    shot(page, "sign-in")
    sign_in(page, live, "hoshino")
    assert page.get_by_role("heading", name="ホーム").is_visible()
    assert "個人情報保護管理者" in page.content()  # the role in words, not privacy_officer
    assert "privacy_officer" not in page.inner_text("body")
    assert serious_violations(page) == []
    shot(page, "home")
    page.get_by_role("button", name="English").click()
    assert page.get_by_role("heading", name="Home").is_visible()
    assert "Privacy officer" in page.inner_text("body")


def test_a_wrong_code_signs_nobody_in(page, live: Live):
    login = live.logins["sato"]
    page.goto(live.url + "/sign-in")
    page.get_by_label("ユーザー名").fill(login.username)
    page.get_by_label("パスワード").fill(login.password)
    page.get_by_label("確認コード（二要素認証、6桁）").fill(
        "000000" if login.code() != "000000" else "111111"
    )
    page.get_by_role("button", name="サインイン").click()
    assert (
        page.get_by_role("alert")
        .inner_text()
        .startswith("ユーザー名、パスワード又は確認コードが正しくありません")
    )
    page.goto(live.url + "/")
    assert page.url == live.url + "/sign-in"


def test_the_idle_lock_warns_then_locks_and_the_server_refuses_the_session(page, live: Live):
    """Seed 001 case 5: MAMORI_SESSION_IDLE_MINUTES=2 here; the browser clock is moved on, not waited for."""
    page.clock.install()
    sign_in(page, live, "sato")
    warning = page.locator("#idle-warning")
    assert warning.is_hidden()
    page.clock.fast_forward("01:01")
    page.wait_for_timeout(1500)
    assert warning.is_visible() and "まもなく画面をロックします" in warning.inner_text()
    page.clock.fast_forward("01:05")
    page.wait_for_url(live.url + "/locked")
    assert "画面をロックしました" in page.inner_text("body")
    page.goto(live.url + "/")
    assert page.url == live.url + "/sign-in"  # the session was ended on the server, not only on the screen


def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(page, live: Live):
    sign_in(page, live, "takahashi")
    page.evaluate("document.querySelector('form[action=\"/sign-out\"] input[name=csrf]').remove()")
    page.get_by_role("button", name="サインアウト").click()
    assert "CSRF トークンがないか一致しません" in page.inner_text("body")
    page.goto(live.url + "/")
    assert page.get_by_role(
        "heading", name="ホーム"
    ).is_visible()  # still signed in: the sign-out did not happen


def test_docs_work_offline_every_asset_from_the_app(page, live: Live):
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(urlparse(r.url).netloc))
    page.goto(live.url + "/docs")
    page.wait_for_selector(".swagger-ui .title")
    assert "mamori API" in page.inner_text(".swagger-ui .title")
    assert hosts == {urlparse(live.url).netloc}  # no CDN
