"""First-sign-in TOTP enrolment in the staff web app (issue 15) without a browser.

An account whose role needs a second factor and has none (new, or reset by an admin) gets, after the right
password and only then, an enrolment page: the QR code as inline SVG, the key for manual entry, a code field —
and no session yet. The right code stores the secret and signs in; a wrong one keeps the page with an error; an
expired or used-up ticket goes back to sign-in. The pending secret is never in the database in plaintext. The
JSON API's sign-in is unchanged (no enrolment there).
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mamori.kernel.context import SYSTEM_ACTOR, Role
from mamori.staff import service, totp
from mamori.staff.models import StaffTotpEnrolment
from tests.api.conftest import Api
from tests.staff.helpers import PASSWORD, code_now, make_staff

GENERIC = "ユーザー名、パスワード又は確認コードが正しくありません"


@pytest.fixture
def api(runtime):
    a = Api(runtime)
    a.ids["newbie"], _ = make_staff(runtime, "newbie", Role.SUPPORT, mfa=False)
    return a


def user(api, username):
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return next(u for u in service.list_staff(ctx) if u.username == username)


def pending(api) -> list[StaffTotpEnrolment]:
    with api.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return list(ctx.session.execute(select(StaffTotpEnrolment)).scalars())


def page_headers(r) -> None:
    assert r.headers["cache-control"] == "no-store"
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in r.text and 'style="' not in r.text


def start(api, username="newbie"):
    c, _ = api.client()
    r = c.post("/sign-in", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return c, r


def secret_of(page) -> str:
    m = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text)
    assert m, page.text
    return m.group(1).replace(" ", "")


def ticket_of(page) -> str:
    m = re.search(r'name="ticket" value="([^"]+)"', page.text)
    assert m
    return m.group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def db_files(api) -> list[Path]:
    out = []
    for url in (api.rt.settings.database_url, api.rt.settings.audit_url, api.rt.settings.keystore_url):
        base = Path(str(url).removeprefix("sqlite:///"))
        out += [p for p in (base, Path(f"{base}-wal")) if p.exists()]
    return out


# -- no enrolment before the password --------------------------------------------------------------------------------


def test_wrong_password_is_the_generic_failure_and_no_enrolment(api):
    c, _ = api.client()
    unknown = c.post("/sign-in", data={"username": "nobody", "password": "wrong"})
    bad = c.post("/sign-in", data={"username": "newbie", "password": "wrong"})
    assert bad.status_code == 401 and GENERIC in bad.text
    assert bad.text == unknown.text  # nothing tells that this account would enrol
    assert "svg" not in bad.text and "ticket" not in bad.text
    assert pending(api) == []


def test_right_password_shows_the_qr_code_and_no_session_yet(api):
    c, r = start(api)
    page_headers(r)
    assert "二要素認証の登録" in r.text
    assert re.search(r"<svg [^>]*role=\"img\"", r.text) and "<path" in r.text  # the QR code, inline SVG
    assert "set-cookie" not in r.headers and "__Host-mamori_session" not in c.cookies
    secret = secret_of(r)
    assert len(secret) == totp.SECRET_BASE32_LEN
    assert "otpauth://" not in r.text  # the URI is in the QR code only
    assert c.get("/", follow_redirects=False).status_code == 303  # not signed in
    assert len(pending(api)) == 1 and not user(api, "newbie").mfa_enrolled


def test_wrong_code_keeps_the_page_with_an_error(api):
    c, r = start(api)
    secret = secret_of(r)
    bad = c.post("/sign-in/enrol", data={"ticket": ticket_of(r), "code": wrong(code_now(api.rt, secret))})
    assert bad.status_code == 401
    page_headers(bad)
    assert "確認コードが正しくありません" in bad.text and "あと4回" in bad.text
    assert "<svg" in bad.text and secret_of(bad) == secret and ticket_of(bad) == ticket_of(r)
    assert "set-cookie" not in bad.headers
    assert c.get("/", follow_redirects=False).status_code == 303
    assert not user(api, "newbie").mfa_enrolled


def test_right_code_enrols_signs_in_and_the_next_sign_in_needs_a_code(api):
    c, r = start(api)
    secret = secret_of(r)
    done = c.post(
        "/sign-in/enrol",
        data={"ticket": ticket_of(r), "code": code_now(api.rt, secret)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/"
    cookie = done.headers["set-cookie"]
    assert cookie.startswith("__Host-mamori_session=") and "HttpOnly" in cookie and "Secure" in cookie
    assert "samesite=strict" in cookie.lower()
    home = c.get("/")
    assert home.status_code == 200 and "コールセンター担当者" in home.text
    assert user(api, "newbie").mfa_enrolled and pending(api) == []
    # the ticket is used up
    again = c.post("/sign-in/enrol", data={"ticket": ticket_of(r), "code": code_now(api.rt, secret)})
    assert again.status_code == 401 and "無効か期限切れ" in again.text
    # next time: password alone fails like any wrong sign-in; with the code it works
    other, _ = api.client()
    no_code = other.post("/sign-in", data={"username": "newbie", "password": PASSWORD})
    assert no_code.status_code == 401 and GENERIC in no_code.text and "<svg" not in no_code.text
    same_step = other.post(
        "/sign-in", data={"username": "newbie", "password": PASSWORD, "totp": code_now(api.rt, secret)}
    )
    assert same_step.status_code == 401  # the enrolment used this step's code (one use per code)
    api.rt.clock.advance(timedelta(seconds=30))
    ok = other.post(
        "/sign-in",
        data={"username": "newbie", "password": PASSWORD, "totp": code_now(api.rt, secret)},
        follow_redirects=False,
    )
    assert ok.status_code == 303


def test_an_expired_ticket_is_refused(api):
    c, r = start(api)
    secret = secret_of(r)
    api.rt.clock.advance(timedelta(minutes=10, seconds=1))
    late = c.post("/sign-in/enrol", data={"ticket": ticket_of(r), "code": code_now(api.rt, secret)})
    assert late.status_code == 401 and "無効か期限切れ" in late.text
    assert "set-cookie" not in late.headers and not user(api, "newbie").mfa_enrolled
    # signing in again starts a new enrolment with a new key (the expired one is gone)
    _, again = start(api)
    assert secret_of(again) != secret and len(pending(api)) == 1


def test_a_forged_ticket_or_cross_site_post_is_refused(api):
    c, r = start(api)
    code = code_now(api.rt, secret_of(r))
    forged = c.post("/sign-in/enrol", data={"ticket": "x" * 43, "code": code})
    assert forged.status_code == 401 and "無効か期限切れ" in forged.text
    cross = c.post(
        "/sign-in/enrol",
        data={"ticket": ticket_of(r), "code": code},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403 and "set-cookie" not in cross.headers
    assert not user(api, "newbie").mfa_enrolled


def test_too_many_wrong_codes_end_the_enrolment(api):
    c, r = start(api)
    secret, ticket = secret_of(r), ticket_of(r)
    for n in range(service.MAX_ENROLMENT_ATTEMPTS - 1):
        bad = c.post("/sign-in/enrol", data={"ticket": ticket, "code": wrong(code_now(api.rt, secret))})
        assert bad.status_code == 401 and f"あと{service.MAX_ENROLMENT_ATTEMPTS - n - 1}回" in bad.text
    last = c.post("/sign-in/enrol", data={"ticket": ticket, "code": wrong(code_now(api.rt, secret))})
    assert (
        last.status_code == 401 and "もう一度サインインしてください" in last.text and "<svg" not in last.text
    )
    assert pending(api) == []
    right = c.post("/sign-in/enrol", data={"ticket": ticket, "code": code_now(api.rt, secret)})
    assert right.status_code == 401 and not user(api, "newbie").mfa_enrolled


def _assert_not_stored(api, secret: str) -> None:
    """What someone holding the store would read: the SQLite files (and their WAL) byte for byte; on PostgreSQL
    every row of the staff tables as the server returns it (bytea in hex)."""
    url = api.rt.settings.database_url
    if url.startswith("sqlite"):
        files = db_files(api)
        assert Path(url.removeprefix("sqlite:///")) in files
        for path in files:
            assert secret.encode() not in path.read_bytes(), path
        return
    from sqlalchemy import text

    with api.rt.sessions() as s:
        dumped = "\n".join(
            s.execute(
                text(
                    "SELECT row_to_json(t)::text FROM staff_totp_enrolments t "
                    "UNION ALL SELECT row_to_json(u)::text FROM staff_users u"
                )
            ).scalars()
        )
    assert dumped  # the rows were read
    assert secret not in dumped and secret.encode().hex() not in dumped


def test_the_pending_secret_is_never_stored_in_plaintext(api):
    c, r = start(api)
    secret = secret_of(r)
    row = pending(api)[0]
    assert secret.encode() not in bytes(row.secret_enc)
    api.rt.drain_outbox()
    _assert_not_stored(api, secret)
    c.post("/sign-in/enrol", data={"ticket": ticket_of(r), "code": code_now(api.rt, secret)})
    assert user(api, "newbie").mfa_enrolled
    _assert_not_stored(api, secret)
    # and the audit log names ids only
    entries = api.rt.audit.tail(200)
    actions = {e.action for e in entries}
    assert {"staff.totp_enrolment_started", "staff.totp_enrolled", "staff.sign_in"} <= actions
    dumped = json.dumps([dataclasses.asdict(e) for e in entries], default=str, ensure_ascii=False)
    assert secret not in dumped and ticket_of(r) not in dumped


def test_the_api_sign_in_keeps_refusing_an_account_without_2fa(api):
    c, _ = api.client()
    r = c.post("/api/v1/auth/sign-in", json={"username": "newbie", "password": PASSWORD})
    assert r.status_code == 401
    assert pending(api) == []


def test_after_an_admin_reset_the_next_sign_in_enrols_again(api):
    admin, csrf = api.client("admin")
    done = admin.post(f"/staff/{api.ids['support']}/reset-2fa", data={"csrf": csrf, "confirm": "1"})
    assert done.status_code == 200
    old = api.secrets["support"]
    c, r = start(api, "support")
    secret = secret_of(r)
    assert secret != old
    ok = c.post(
        "/sign-in/enrol",
        data={"ticket": ticket_of(r), "code": code_now(api.rt, secret)},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and user(api, "support").mfa_enrolled


def test_enrolment_page_in_english(api):
    c, _ = api.client()
    c.cookies.set("mamori_lang", "en")
    r = c.post("/sign-in", data={"username": "newbie", "password": PASSWORD})
    assert r.status_code == 200 and "Set up two-factor authentication" in r.text and "<svg" in r.text
