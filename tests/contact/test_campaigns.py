"""E-mail campaigns under the 特定電子メール法 (issue 20, deliverable 4), through a REAL SMTP server in-process
(aiosmtpd): only opted-in people get the message; every message names the sender, its address and the complaint
contact and carries the unsubscribe link and the RFC 8058 headers; the one-click POST writes do-not-contact at
once and the next list build leaves the person out; failures, bounces, a second send, roles and bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mamori.consent import service as consent_service
from mamori.consent.schemas import ConsentIn
from mamori.contact.campaign_schemas import CampaignCreate
from mamori.contact.models import CampaignSend
from mamori.contact.service import campaigns, lists
from mamori.kernel import mail
from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.policy import Category
from mamori.kernel.runtime import Runtime
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeCreate
from tests.contact.conftest import NEWSLETTER, OUTBOUND, add_purposes, do_not_contact, opt_in, person
from tests.factories import seed_basics
from tests.kernel.mail_support import Recorder, smtp_server

BASE = "https://privacy.example.co.jp"
OPERATOR = {
    "operator_name": "架空商事株式会社",
    "operator_address": "東京都千代田区丸の内1-1-1",
    "privacy_contact": "privacy@example.co.jp",
    "public_base_url": BASE,
}
BODY = "{name} 様\n\n新商品のご案内です。\n"


@dataclass
class Story:
    rt: Runtime
    handler: Recorder
    actors: dict[str, Actor]
    ids: dict[str, str] = field(default_factory=dict)


def _runtime(settings_factory, clock, port: int, **overrides: object) -> Runtime:
    from mamori import composition

    composition.register_all()
    values: dict[str, object] = dict(
        mail_backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_timeout=5.0,
        mail_from="news@example.co.jp",
        **OPERATOR,
    )
    values.update(overrides)
    rt = Runtime(settings_factory(**values), clock=clock)
    rt.init()
    return rt


@pytest.fixture
def make_story(settings_factory, clock) -> Iterator:
    """``make_story(refuse=False, **settings)``: three people notified of the newsletter — ``in`` opted in,
    ``never`` never did, ``dnc`` opted in and then asked for no more e-mail. ``refuse``: the SMTP server refuses
    every recipient (550)."""
    with ExitStack() as stack:

        def make(*, refuse: bool = False, **overrides: object) -> Story:
            handler = Recorder(rcpt_reply="550 5.1.1 no such user" if refuse else None)
            port = stack.enter_context(smtp_server(handler))
            rt = _runtime(settings_factory, clock, port, **overrides)
            stack.callback(rt.close)
            actors = seed_basics(rt)
            add_purposes(rt)
            po = actors["po"]
            s = Story(rt, handler, actors)
            both = ("contract", NEWSLETTER.code, OUTBOUND.code)
            s.ids["in"] = person(rt, actors["sato"], 1, purposes=both)
            s.ids["never"] = person(rt, actors["sato"], 2, purposes=both)
            s.ids["dnc"] = person(rt, actors["sato"], 3, purposes=both)
            opt_in(rt, po, s.ids["in"], "email")
            opt_in(rt, po, s.ids["dnc"], "email")
            do_not_contact(rt, po, s.ids["dnc"], "email")
            return s

        yield make


@pytest.fixture
def story(make_story) -> Story:
    return make_story()


def _create(s: Story, actor: str = "analyst", **kw: str) -> str:
    data = CampaignCreate(
        **{
            "name": "冬の新商品",
            "purpose": NEWSLETTER.code,
            "subject": "{name}様へ 冬の新商品",
            "body": BODY,
            **kw,
        }
    )
    with s.rt.transaction(s.actors[actor]) as ctx:
        return campaigns.create(ctx, data).id


def _send(s: Story, cid: str, actor: str = "analyst"):
    with s.rt.transaction(s.actors[actor]) as ctx:
        return campaigns.send(ctx, cid)


def _sends(s: Story) -> list[CampaignSend]:
    with s.rt.transaction(SYSTEM_ACTOR) as ctx:
        rows = list(ctx.session.execute(select(CampaignSend)).scalars())
        for r in rows:
            ctx.session.expunge(r)
        return rows


def _email_list(s: Story) -> set[str]:
    with s.rt.transaction(s.actors["analyst"], NEWSLETTER.code) as ctx:
        return {r["customer_id"] or "" for r in lists.build(ctx, channel="email").rows}


def _web(s: Story) -> TestClient:
    from mamori.api.app import create_app

    return TestClient(create_app(s.rt), base_url="https://testserver", raise_server_exceptions=True)


# -- the journey ------------------------------------------------------------------------------------------------


def test_campaign_reaches_only_the_opted_in_person_with_sender_footer_and_one_click_headers(story: Story):
    s = story
    cid = _create(s)
    sent = _send(s, cid)
    assert sent.status == "sent" and sent.queued == 1
    assert sent.excluded.get("do_not_contact", 0) + sent.excluded.get("optin_withdrawn", 0) == 1
    assert sum(sent.excluded.values()) == 2  # never (no opt-in) and dnc
    got = s.handler.wait(1)
    assert len(s.handler.received) == 1
    env = got[0]
    assert env.rcpt_tos == ["person1@example.jp"]
    msg = env.message
    assert msg["From"] == "news@example.co.jp"
    assert msg["Subject"] == "試験 太郎1様へ 冬の新商品"
    text = msg.get_content().replace("\r\n", "\n")
    assert text.startswith("試験 太郎1 様\n\n新商品のご案内です。")
    assert "送信者: 架空商事株式会社" in text
    assert "住所: 東京都千代田区丸の内1-1-1" in text
    assert "privacy@example.co.jp" in text
    assert "配信停止をご希望の方は" in text
    link = msg["List-Unsubscribe"].strip().strip("<>")
    assert link.startswith(BASE + "/u/") and link in text
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    rows = _sends(s)
    assert [(r.customer_id, r.status) for r in rows] == [(s.ids["in"], "sent")]
    token = link.rsplit("/", 1)[1]
    assert rows[0].token_digest == campaigns.token_digest(token) and len(token) >= 43
    # the counts on the campaign
    with s.rt.transaction(s.actors["analyst"]) as ctx:
        shown = campaigns.show(ctx, cid)
    assert shown.sends == {"sent": 1} and shown.list_build_id
    entries = {e.action: e for e in s.rt.audit.tail(50)}
    created, sent_entry = entries["contact.campaign.created"], entries["contact.campaign.sent"]
    assert created.details["campaign_id"] == cid and list(created.subject_ids) == []
    assert sent_entry.details["queued"] == 1 and sent_entry.details["excluded"] == 2
    assert "TE-4" in sent_entry.rule_ids and "TE-3" in sent_entry.rule_ids
    assert "person1" not in repr(sent_entry) and "試験" not in repr(sent_entry)


def test_one_click_post_from_a_mail_client_writes_do_not_contact_and_the_next_list_leaves_the_person_out(
    story: Story,
):
    s = story
    _send(s, _create(s))
    msg = s.handler.wait(1)[0].message
    link = msg["List-Unsubscribe"].strip().strip("<>")
    assert _email_list(s) == {s.ids["in"]}
    client = _web(s)  # no sign-in, no cookie, no CSRF token: as a mail provider posts (RFC 8058)
    r = client.post(
        urlsplit(link).path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200 and "配信停止のお手続きを受け付けました" in r.text
    assert not client.cookies
    with s.rt.transaction(s.actors["po"]) as ctx:
        summary = consent_service.show(ctx, s.ids["in"])
    assert "email" in summary.do_not_contact
    line = summary.events[-1]
    assert (line.kind, line.target, line.action, line.method) == ("channel", "email", "opt_out", "email")
    (row,) = _sends(s)
    assert line.evidence == f"campaign-send:{row.id}" and "@" not in (line.evidence or "")
    assert line.recorded_by == SYSTEM_ACTOR.label
    assert row.status == "unsubscribed" and row.unsubscribed_at is not None
    assert _email_list(s) == set()  # at once: the next build leaves the person out
    with s.rt.transaction(s.actors["analyst"], NEWSLETTER.code) as ctx:
        excluded = lists.build(ctx, channel="email").excluded
    # in and dnc opted in, then out: a withdrawn opt-in (TE-3); never: no opt-in at all
    assert excluded == {"optin_withdrawn": 2, "optin_missing": 1}
    # idempotent, and a used token answers the same page
    again = client.post(urlsplit(link).path, data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200 and again.text == r.text
    with s.rt.transaction(s.actors["po"]) as ctx:
        assert len([e for e in consent_service.show(ctx, s.ids["in"]).events if e.action == "opt_out"]) == 1
    entry = next(e for e in s.rt.audit.tail(20) if e.action == "contact.unsubscribed")
    assert list(entry.subject_ids) == [s.ids["in"]]


def test_the_page_button_unsubscribes_and_an_unknown_token_gets_the_same_page(story: Story):
    s = story
    _send(s, _create(s))
    path = urlsplit(s.handler.wait(1)[0].message["List-Unsubscribe"].strip().strip("<>")).path
    client = _web(s)
    fake = "/u/" + "A" * 43
    page = client.get(path)
    unknown_page = client.get(fake)
    assert page.status_code == unknown_page.status_code == 200
    # the same page but for its own address (the language switch reloads it)
    assert page.text.replace(path, "/u/T") == unknown_page.text.replace(fake, "/u/T")
    assert "配信を停止する" in page.text
    unknown = client.post(fake)
    done = client.post(path)
    assert unknown.status_code == done.status_code == 200
    assert unknown.text.replace(fake, "/u/T") == done.text.replace(path, "/u/T")
    with s.rt.transaction(s.actors["po"]) as ctx:
        line = consent_service.show(ctx, s.ids["in"]).events[-1]
    assert (line.target, line.action, line.method) == ("email", "opt_out", "button")


def test_a_refused_recipient_is_recorded_as_failed_with_its_code(make_story):
    s = make_story(refuse=True)
    sent = _send(s, _create(s))
    assert sent.queued == 1
    (row,) = _sends(s)
    assert (row.status, row.reason) == ("failed", "smtp_5xx") and row.finished_at is not None
    assert s.handler.received == []
    # the server accepts again and staff put the message back in the queue: the send is then sent
    s.handler.rcpt_reply = None
    with s.rt.transaction(s.actors["po"]) as ctx:
        mail.retry(ctx, row.mail_message_id or "")
    assert len(s.handler.wait(1)) == 1
    (row,) = _sends(s)
    assert (row.status, row.reason) == ("sent", None)


def test_bounce_is_recorded_once_and_only_for_a_delivered_send(story: Story):
    s = story
    _send(s, _create(s))
    (row,) = _sends(s)
    with s.rt.transaction(s.actors["analyst"]) as ctx:
        done = campaigns.bounce(ctx, row.id, "5.1.1")
    assert (done.status, done.reason) == ("bounced", "5.1.1")
    with pytest.raises(Conflict), s.rt.transaction(s.actors["analyst"]) as ctx:
        campaigns.bounce(ctx, row.id, "5.1.1")
    with pytest.raises(ValidationFailed), s.rt.transaction(s.actors["analyst"]) as ctx:
        campaigns.bounce(ctx, row.id, "mailbox full <x@y>")
    with pytest.raises(NotFound), s.rt.transaction(s.actors["analyst"]) as ctx:
        campaigns.bounce(ctx, "0" * 32, "5.1.1")


def test_a_campaign_is_sent_once(story: Story):
    s = story
    cid = _create(s)
    _send(s, cid)
    with pytest.raises(Conflict) as exc:
        _send(s, cid)
    assert exc.value.code == "already_sent"
    assert len(s.handler.wait(1)) == 1 and len(_sends(s)) == 1


@pytest.mark.parametrize("role", ["sato", "support"])
def test_sales_and_support_may_neither_draft_nor_send(story: Story, role: str):
    s = story
    with pytest.raises(PolicyDenied) as exc:
        _create(s, actor=role)
    assert exc.value.rule_id == "R-23-2"
    cid = _create(s)
    with pytest.raises(PolicyDenied) as exc:
        _send(s, cid, actor=role)
    assert exc.value.rule_id == "R-23-2"
    assert _sends(s) == [] and s.handler.received == []


def test_no_sender_address_configured_refuses_with_te_4(make_story):
    s = make_story(operator_address=None)
    cid = _create(s)
    with pytest.raises(PolicyDenied) as exc:
        _send(s, cid)
    assert (exc.value.rule_id, exc.value.code) == ("TE-4", "sender_not_configured")
    assert _sends(s) == []
    with s.rt.transaction(s.actors["analyst"]) as ctx:
        assert campaigns.show(ctx, cid).status == "draft"


def test_bad_input_is_refused_with_clear_codes(story: Story):
    s = story
    with pytest.raises(NotFound) as exc:
        _create(s, purpose="no-such-purpose")
    assert exc.value.code == "purpose_unknown"
    with pytest.raises(ValidationFailed) as exc:
        _create(s, purpose=OUTBOUND.code)  # phone, post, sms: no e-mail
    assert (exc.value.code, exc.value.rule_id) == ("channel_not_in_purpose", "R-18-1")
    with pytest.raises(ValidationFailed) as exc:
        _create(s, body="{name} 様 {email} へ")
    assert exc.value.code == "unknown_placeholder" and "{email}" not in exc.value.message_ja
    with pytest.raises(ValidationFailed):
        _create(s, subject="{0.__class__}")
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        CampaignCreate(name="x", purpose=NEWSLETTER.code, subject="  ", body=BODY)


def test_the_sends_table_holds_no_address_no_body_and_no_token(story: Story, backend: str):
    if backend != "sqlite":
        pytest.skip("read with the sqlite3 module from outside the process")
    s = story
    _send(s, _create(s))
    msg = s.handler.wait(1)[0].message
    token = msg["List-Unsubscribe"].strip().strip("<>").rsplit("/", 1)[1]
    path = str(s.rt.settings.database_url).removeprefix("sqlite:///")
    # another process opens the file, as an attacker holding a copy of it would (no key, no mamori)
    script = (
        "import sqlite3, sys\n"
        "con = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)\n"
        "for table in ('contact_sends', 'contact_campaigns'):\n"
        "    for row in con.execute('SELECT * FROM ' + table):\n"
        "        print(repr(tuple(row)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, path],
        capture_output=True,
        check=True,
        timeout=60,
        env={"PYTHONIOENCODING": "utf-8", "PATH": os.environ.get("PATH", "")},
    ).stdout
    lines = out.splitlines()
    assert len(lines) == 2  # one send, one campaign
    send_line = lines[0]
    for secret in ("person1@example.jp", "試験", "新商品", token, "架空商事"):
        assert secret.encode() not in send_line
    assert "試験 太郎1".encode() not in lines[1]  # the template only, never a filled-in name


def signed_in_api(s: Story):  # noqa: ANN201
    """The API helpers of tests/api on the story's runtime, with users who can sign in: analyst2, support2, sato2
    (the roles of analyst, support and sato)."""
    from mamori.api.app import create_app
    from tests.api.conftest import USERS, Api
    from tests.staff.helpers import make_staff

    api = Api.__new__(Api)
    api.rt, api.secrets, api.ids, api.step_offset = s.rt, {}, {}, {}
    api.app = create_app(s.rt)
    for name in ("analyst2", "support2", "sato2"):
        role, team = USERS[name.rstrip("2")]
        api.ids[name], api.secrets[name] = make_staff(s.rt, name, role, team=team)
    return api


# -- the API ----------------------------------------------------------------------------------------------------


def test_api_create_send_show_and_bounce(story: Story):
    s = story
    api = signed_in_api(s)
    c, csrf = api.client("analyst2")
    h = {"X-CSRF-Token": csrf}
    bad = c.post(
        "/api/v1/contact/campaigns",
        json={"name": "n", "purpose": NEWSLETTER.code, "subject": "件名", "body": "{email}"},
        headers=h,
    )
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_placeholder"
    assert "{email}" not in bad.text
    r = c.post(
        "/api/v1/contact/campaigns",
        json={"name": "冬", "purpose": NEWSLETTER.code, "subject": "件名", "body": BODY},
        headers=h,
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert [x["id"] for x in c.get("/api/v1/contact/campaigns").json()] == [cid]
    preview = c.get(f"/api/v1/contact/campaigns/{cid}/preview").json()
    assert "送信者: 架空商事株式会社" in preview["text"] and preview["sender_configured"] is True
    other, other_csrf = api.client("support2")
    refused = other.post(f"/api/v1/contact/campaigns/{cid}/send", headers={"X-CSRF-Token": other_csrf})
    assert refused.status_code == 403 and refused.json()["rule_id"] == "R-23-2"
    sent = c.post(f"/api/v1/contact/campaigns/{cid}/send", headers=h)
    assert sent.status_code == 200, sent.text
    assert sent.json()["queued"] == 1
    again = c.post(f"/api/v1/contact/campaigns/{cid}/send", headers=h)
    assert again.status_code == 409
    (row,) = _sends(s)
    assert c.get(f"/api/v1/contact/campaigns/{cid}").json()["sends"] == {"sent": 1}
    b = c.post(f"/api/v1/contact/campaigns/sends/{row.id}/bounce", json={"reason": "5.1.1"}, headers=h)
    assert b.status_code == 200 and b.json()["status"] == "bounced"
    bad_reason = c.post(f"/api/v1/contact/campaigns/sends/{row.id}/bounce", json={"reason": "a b"}, headers=h)
    assert bad_reason.status_code == 422


def test_a_purpose_that_needs_consent_sends_to_its_consenting_people_only(story: Story):
    """A campaign under a purpose whose notice asks for consent (consent_appi): the campaign as a whole is allowed,
    each person is decided by the list builder — only the one who consented (and opted in) receives it. Before this
    was fixed, the whole campaign was refused with consent_missing (R-18-1)."""
    s = story
    members = PurposeCreate(
        code="member-news",
        title_ja="会員向けのご案内",
        title_en="News for members",
        text_ja="ご同意いただいた会員の方に、会員向けのご案内をメールでお送りするため、氏名とメールアドレスを利用します。",
        text_en="Member news by e-mail to members who consented, using name and e-mail address.",
        categories=[Category.IDENTIFIER, Category.CONTACT],
        channels=["email"],
        marketing=True,
        consent_appi=True,
    )
    po = s.actors["po"]
    with s.rt.transaction(SYSTEM_ACTOR) as ctx:
        purposes_service.add(ctx, members)
    yes = person(s.rt, s.actors["sato"], 7, purposes=(members.code,))
    no = person(s.rt, s.actors["sato"], 8, purposes=(members.code,))
    for cid in (yes, no):
        opt_in(s.rt, po, cid, "email")
    with s.rt.transaction(po) as ctx:
        consent_service.grant(ctx, yes, members.code, ConsentIn(method="checkbox", evidence="form-25"))
    cid = _create(s, purpose=members.code)
    sent = _send(s, cid)
    assert sent.status == "sent" and sent.queued == 1
    assert sent.excluded == {
        "consent_missing": 1,
        "purpose_not_notified": 3,
    }  # the story's three: not told of it
    assert [(r.customer_id, r.status) for r in _sends(s) if r.campaign_id == cid] == [(yes, "sent")]
    assert s.handler.wait(1)[0].rcpt_tos == ["person7@example.jp"]
