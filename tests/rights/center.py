"""Helpers for the privacy center's page tests (tests/rights/test_center_*.py): file a request through the pages
as a browser would (a same-site form post), read the receipt, the cookie and the form token."""

from __future__ import annotations

import re

from sqlalchemy import text

from mamori.kernel.context import SYSTEM_ACTOR
from mamori.rights.web.public import COOKIE

ORIGIN = {"origin": "https://testserver"}
A_EMAIL = "hanako.sato@example.jp"
B_EMAIL = "jiro.suzuki@example.com"
STRANGER = "nobody.here@example.org"


def fields(version: int | None, email: str, kind: str = "disclosure", **extra: object) -> dict[str, object]:
    data: dict[str, object] = {"kind": kind, "email": email, **extra}
    if version is not None:
        data["notice_version"] = str(version)
    return data


def start(client, version: int, email: str, kind: str = "disclosure", **extra: object) -> str:
    """Send the form (as its 確認 page does) and follow to 完了; the request id."""
    r = client.post(
        "/privacy/requests/send",
        data=fields(version, email, kind, **extra),
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    found = re.fullmatch(r"/privacy/requests/([0-9a-f]{32})/received(\?lang=en)?", r.headers["location"])
    assert found, r.headers["location"]
    return found.group(1)


def code_for(rt, to: str) -> str:
    """The last one-time code sent to ``to`` (Japanese or English mail)."""
    from tests.rights.helpers import outbox

    for msg in reversed(outbox(rt)):
        if msg["to"] == to:
            found = re.search(r"(?:コード|[Cc]ode)\s*[:：]\s*(\d{6})\b", msg["body"])
            assert found, "no code in the mail"
            return found.group(1)
    raise AssertionError("no mail to this address")


def form_token(html: str) -> str:
    found = re.search(r'name="form" value="([0-9a-f]{64})"', html)
    assert found, "no form token on the page"
    return found.group(1)


def verify(client, rid: str, code: str, token: str | None = None, q: str = ""):
    if token is None:
        token = form_token(client.get(f"/privacy/requests/{rid}").text)
    return client.post(
        f"/privacy/requests/{rid}/verify{q}",
        data={"code": code, "form": token},
        headers=ORIGIN,
        follow_redirects=False,
    )


def count_requests(rt) -> int:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return int(ctx.session.execute(text("SELECT count(*) FROM rights_requests")).scalar_one())


def attempts(rt, rid: str) -> list[int]:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        rows = ctx.session.execute(
            text("SELECT code_attempts FROM rights_identifiers WHERE request_id = :r AND kind = 'email'"),
            {"r": rid},
        )
        return [int(n) for (n,) in rows]


def normalised(html: str, *values: str) -> str:
    """A page with the request's own values (id, receipt number, form token, dates) blanked."""
    for v in values:
        html = html.replace(v, "<X>")
    html = re.sub(r"R-\d{4}-\d{6}", "<RECEIPT>", html)
    html = re.sub(r'name="form" value="[0-9a-f]{64}"', 'name="form" value="<FORM>"', html)
    return re.sub(r"\d{4}年\d{1,2}月\d{1,2}日", "<DATE>", html)


__all__ = ["A_EMAIL", "B_EMAIL", "COOKIE", "ORIGIN", "STRANGER"]
