"""The /mail staff page (issue 18): the queue's status for the privacy officer and the admin, a retry button for a
failed message (CSRF), 403 for a sales rep — over a REAL SMTP server in-process (aiosmtpd); never an address."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api
from tests.kernel.mail_support import Recorder, smtp_server

ADDRESS = "midori.kato@example.jp"


@pytest.fixture
def world(smtp_rt):
    """An Api over an SMTP-backed runtime, one message refused for good (550) and one delivered."""
    from mamori.kernel.mail import Mail, enqueue

    handler = Recorder(rcpt_reply="550 5.1.1 midori.kato@example.jp: unknown")
    with smtp_server(handler) as port:
        rt = smtp_rt(port)
        api = Api(rt)
        with rt.transaction() as ctx:
            failed = enqueue(
                ctx, Mail(to=ADDRESS, subject="確認コードのお知らせ", text="コード 551234", topic="test.web")
            )
        handler.rcpt_reply = None
        with rt.transaction() as ctx:
            sent = enqueue(ctx, Mail(to=ADDRESS, subject="受付", text="受け付けました", topic="test.web"))
        handler.wait(1)
        yield api, handler, failed, sent


def test_the_privacy_officer_sees_the_queue_without_any_address(world):
    api, _, failed, sent = world
    po, _ = api.client("po")
    r = po.get("/mail")
    assert r.status_code == 200
    html = r.text
    assert f'id="mail-{failed}"' in html and "smtp_5xx" in html
    assert f'id="mail-{sent}"' not in html
    assert '<td id="mail-count-failed">1</td>' in html and '<td id="mail-count-sent">1</td>' in html
    assert f'action="/mail/{failed}/retry"' in html and 'name="csrf"' in html
    for secret in (ADDRESS, "確認コードのお知らせ", "551234", "midori"):
        assert secret not in html
    admin, _ = api.client("admin")
    assert admin.get("/mail").status_code == 200


@pytest.mark.parametrize("user", ["sato", "support", "analyst"])
def test_other_roles_get_403(world, user):
    api, handler, failed, _ = world
    c, csrf = api.client(user)
    r = c.get("/mail")
    assert r.status_code == 403 and failed not in r.text
    r = c.post(f"/mail/{failed}/retry", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 403
    assert len(handler.received) == 1  # nothing sent again


def test_signed_out_goes_to_sign_in(world):
    api, _, failed, _ = world
    c, _ = api.client(None)
    assert c.get("/mail", follow_redirects=False).headers["location"] == "/sign-in"
    assert c.post(f"/mail/{failed}/retry", follow_redirects=False).headers["location"] == "/sign-in"


def test_retry_needs_the_csrf_token_then_sends_the_message_again(world):
    api, handler, failed, _ = world
    po, csrf = api.client("po")
    refused = po.post(f"/mail/{failed}/retry", data={"csrf": "forged"}, follow_redirects=False)
    assert refused.status_code == 403 and len(handler.received) == 1
    r = po.post(f"/mail/{failed}/retry", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/mail?done=requeued"
    got = handler.wait(2)
    assert [g.rcpt_tos for g in got] == [[ADDRESS], [ADDRESS]]
    page = po.get("/mail?done=requeued").text
    assert 'id="mail-done"' in page and f'id="mail-{failed}"' not in page
    assert '<td id="mail-count-sent">2</td>' in page
    again = po.post(f"/mail/{failed}/retry", data={"csrf": csrf}, follow_redirects=False)
    assert again.status_code == 422
    missing = po.post(f"/mail/{'0' * 32}/retry", data={"csrf": csrf}, follow_redirects=False)
    assert missing.status_code == 404
    bad = po.post("/mail/not-an-id/retry", data={"csrf": csrf}, follow_redirects=False)
    assert bad.status_code == 404
