"""E-mail campaigns through the CLI (``mamori contact campaign …``) and the staff web pages (``/contact/campaigns``):
the happy path through the same service, bad input in one line / a 422 page, roles refused with the rule id, a
write without its CSRF token refused."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from mamori.cli.main import app
from tests.contact import test_campaigns as _campaigns
from tests.contact.conftest import NEWSLETTER, OUTBOUND
from tests.contact.test_campaigns import (
    BODY,
    OPERATOR,
    Story,
    _sends,
    signed_in_api,
)
from tests.factories import point_env_at

story = _campaigns.story  # the fixtures of the campaign tests
make_story = _campaigns.make_story


def _cli(s: Story, monkeypatch):  # noqa: ANN202
    settings = s.rt.settings
    point_env_at(
        monkeypatch,
        settings,
        MAMORI_MAIL_BACKEND="smtp",
        MAMORI_SMTP_HOST="127.0.0.1",
        MAMORI_SMTP_PORT=settings.smtp_port,
        MAMORI_SMTP_SECURITY="none",
        MAMORI_MAIL_FROM=settings.mail_from,
        **{f"MAMORI_{k.upper()}": v for k, v in OPERATOR.items()},
    )
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


def test_cli_create_list_show_send_bounce(story: Story, monkeypatch, tmp_path):
    s = story
    run = _cli(s, monkeypatch)
    body = tmp_path / "body.txt"
    body.write_text(BODY, encoding="utf-8")
    r = run(
        "--as", "analyst", "contact", "campaign", "create", "--name", "冬", "-p", NEWSLETTER.code,
        "--subject", "冬の新商品", "--body-file", str(body), "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    cid = json.loads(r.stdout)["id"]
    listed = json.loads(run("--as", "analyst", "contact", "campaign", "list", "--json").stdout)
    assert [c["id"] for c in listed] == [cid]
    shown = run("--as", "analyst", "contact", "campaign", "show", cid, "--preview")
    assert shown.exit_code == 0 and "送信者: 架空商事株式会社" in shown.stdout
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in shown.stdout
    sent = run("--as", "analyst", "contact", "campaign", "send", cid, "--json")
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.stdout)["queued"] == 1
    assert len(s.handler.wait(1)) == 1
    again = run("--as", "analyst", "contact", "campaign", "send", cid)
    assert again.exit_code == 1 and "already_sent" in again.stderr
    (row,) = _sends(s)
    b = run("--as", "analyst", "contact", "campaign", "bounce", row.id, "--reason", "5.1.1", "--json")
    assert b.exit_code == 0 and json.loads(b.stdout)["status"] == "bounced"


def test_cli_bad_input_and_roles(story: Story, monkeypatch):
    s = story
    run = _cli(s, monkeypatch)
    base = ("contact", "campaign", "create", "--name", "x", "--subject", "件名")
    r = run("--as", "analyst", *base, "-p", NEWSLETTER.code, "--body", "{email} 様")
    assert r.exit_code == 1 and "unknown_placeholder" in r.stderr and r.stderr.strip().count("\n") == 0
    r = run("--as", "analyst", *base, "-p", OUTBOUND.code, "--body", "本文")
    assert r.exit_code == 1 and "R-18-1" in r.stderr
    r = run("--as", "analyst", *base, "-p", "no-such", "--body", "本文")
    assert r.exit_code == 1 and "purpose_unknown" in r.stderr
    r = run("--as", "analyst", "contact", "campaign", "create", "--name", "x", "--subject", " ",
            "-p", NEWSLETTER.code, "--body", "本文")  # fmt: skip
    assert r.exit_code == 1 and "invalid_input" in r.stderr
    for role in ("sato", "support"):
        r = run("--as", role, *base, "-p", NEWSLETTER.code, "--body", "本文")
        assert r.exit_code == 3 and "R-23-2" in r.stderr
    r = run("--as", "analyst", "contact", "campaign", "bounce", "0" * 32, "--reason", "5.1.1")
    assert r.exit_code == 1 and "send_not_found" in r.stderr


# -- the staff web pages ----------------------------------------------------------------------------------------


def test_web_new_campaign_page_preview_and_send(story: Story):
    s = story
    api = signed_in_api(s)
    c, csrf = api.client("analyst2")
    form = c.get("/contact/campaigns/new")
    assert form.status_code == 200
    assert f'value="{NEWSLETTER.code}"' in form.text and f'value="{OUTBOUND.code}"' not in form.text
    data = {"csrf": csrf, "name": "冬", "purpose": NEWSLETTER.code, "subject": "冬の新商品", "body": BODY}
    no_csrf = c.post("/contact/campaigns", data={**data, "csrf": ""}, follow_redirects=False)
    assert no_csrf.status_code == 403
    bad = c.post("/contact/campaigns", data={**data, "body": "{email}"}, follow_redirects=False)
    assert bad.status_code == 422 and "{name}" in bad.text
    made = c.post("/contact/campaigns", data=data, follow_redirects=False)
    assert made.status_code == 303
    url = made.headers["location"]
    assert re.fullmatch(r"/contact/campaigns/[0-9a-f]{32}", url)
    page = c.get(url)
    assert page.status_code == 200
    assert "送信者: 架空商事株式会社" in page.text and "配信停止をご希望の方は" in page.text
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in page.text
    assert page.headers["cache-control"] == "no-store"
    listing = c.get("/contact/campaigns")
    assert listing.status_code == 200 and url in listing.text
    sent = c.post(url + "/send", data={"csrf": csrf}, follow_redirects=False)
    assert sent.status_code == 303
    assert len(s.handler.wait(1)) == 1
    after = c.get(url)
    assert 'id="queued">1<' in after.text and "/send" not in after.text
    twice = c.post(url + "/send", data={"csrf": csrf}, follow_redirects=False)
    assert twice.status_code == 409


def test_web_pages_refuse_sales_and_support(story: Story):
    s = story
    api = signed_in_api(s)
    for user in ("sato2", "support2"):
        c, csrf = api.client(user)
        assert c.get("/contact/campaigns").status_code == 403
        assert c.get("/contact/campaigns/new").status_code == 403
        r = c.post(
            "/contact/campaigns",
            data={"csrf": csrf, "name": "x", "purpose": NEWSLETTER.code, "subject": "s", "body": "b"},
        )
        assert r.status_code == 403
    anonymous = api.client()[0].get("/contact/campaigns", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/sign-in"
