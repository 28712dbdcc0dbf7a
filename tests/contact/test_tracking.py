"""Open and click measurement of campaign e-mail (brief T, issue 24 item 4), through a REAL SMTP server in-process
and the real public routes: a tracked campaign's links lead through ``/c/<token>/<n>`` to the stored link (never an
open redirect), the HTML alternative carries the 1×1 image ``/o/<token>.gif``, the footer says what is recorded,
a GDPR subject gets the untracked message, the refusal under a purpose without behaviour data (R-18-1) on the
CLI / API / web, the disclosure shows the open and click times, and the token is in no table, audit entry or log.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from mamori.cli.main import app as cli_app
from mamori.contact.campaign_schemas import CampaignCreate
from mamori.contact.models import Campaign, CampaignSend
from mamori.contact.service import campaigns, tracking
from mamori.kernel import registry
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.errors import PolicyDenied
from mamori.kernel.policy import Category
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeCreate
from tests.contact.conftest import NEWSLETTER, add_purposes, opt_in, person
from tests.contact.test_campaigns import OPERATOR, Story, _runtime, signed_in_api
from tests.factories import point_env_at, seed_basics
from tests.kernel.mail_support import Recorder, smtp_server

BASE = OPERATOR["public_base_url"]
TRACKED = PurposeCreate(
    code="news-measured",
    title_ja="メールマガジン（開封・クリックの計測あり）",
    title_en="E-mail newsletter (opens and clicks measured)",
    text_ja="ご同意いただいた方に新商品のご案内をメールでお送りし、配信効果の測定のため、氏名・メールアドレスと、"
    "メールの開封・リンクのクリックの記録（行動履歴）を利用します。",
    text_en="Advertising e-mail to those who opted in, using name and e-mail address, and the record of opens "
    "and link clicks to measure it.",
    categories=[Category.IDENTIFIER, Category.CONTACT, Category.BEHAVIOUR],
    channels=["email"],
    marketing=True,
    lawful_basis="legitimate_interests",
    balancing_ref="LIA-test-tracking",
)
SHOP = "https://shop.example.co.jp/winter?item=12&ref=mail"
MAP = "http://maps.example.jp/store(1)"
BODY = f"{{name}} 様\n\n新商品はこちら: {SHOP}。\n店舗の地図（{MAP}）もどうぞ。\nもう一度: {SHOP}\n"


@pytest.fixture
def story(settings_factory, clock) -> Iterator[Story]:
    """Three people notified of TRACKED and opted in to e-mail: ``jp1``, ``jp2`` (origin JP) and ``de`` (origin
    DE: under the GDPR)."""
    with ExitStack() as stack:
        handler = Recorder()
        port = stack.enter_context(smtp_server(handler))
        rt = _runtime(settings_factory, clock, port)
        stack.callback(rt.close)
        actors = seed_basics(rt)
        add_purposes(rt)
        with rt.transaction(SYSTEM_ACTOR) as ctx:
            purposes_service.add(ctx, TRACKED)
        s = Story(rt, handler, actors)
        both = ("contract", TRACKED.code, NEWSLETTER.code)
        s.ids["jp1"] = person(rt, actors["sato"], 1, purposes=both)
        s.ids["jp2"] = person(rt, actors["sato"], 2, purposes=both)
        s.ids["de"] = person(rt, actors["sato"], 3, purposes=both, origin="DE")
        for key in ("jp1", "jp2", "de"):
            opt_in(rt, actors["po"], s.ids[key], "email")
        yield s


def _create(s: Story, tracking_option: str, purpose: str = TRACKED.code) -> str:
    data = CampaignCreate(
        name="冬の新商品", purpose=purpose, subject="冬の新商品", body=BODY, tracking=tracking_option
    )
    with s.rt.transaction(s.actors["analyst"]) as ctx:
        return campaigns.create(ctx, data).id


def _send(s: Story, cid: str) -> dict[str, object]:
    with s.rt.transaction(s.actors["analyst"]) as ctx:
        sent = campaigns.send(ctx, cid)
    got = s.handler.wait(sent.queued)
    assert len(got) == 3
    return {env.rcpt_tos[0]: env.message for env in got}


def _rows(s: Story) -> dict[str, CampaignSend]:
    with s.rt.transaction(SYSTEM_ACTOR) as ctx:
        rows = list(ctx.session.execute(select(CampaignSend)).scalars())
        for r in rows:
            ctx.session.expunge(r)
    by_customer = {r.customer_id: r for r in rows}
    return {k: by_customer[v] for k, v in s.ids.items()}


def _plain(msg) -> str:  # noqa: ANN001
    return msg.get_body(("plain",)).get_content().replace("\r\n", "\n")


def _html(msg) -> str | None:  # noqa: ANN001
    part = msg.get_body(("html",))
    return part.get_content() if part is not None else None


def _client(s: Story) -> TestClient:
    from mamori.api.app import create_app

    return TestClient(create_app(s.rt), base_url="https://testserver", follow_redirects=False)


def _token_of(text: str) -> str:
    m = re.search(re.escape(BASE) + r"/c/([A-Za-z0-9_-]+)/0", text)
    assert m, text
    return m.group(1)


# -- the journey ------------------------------------------------------------------------------------------------


def test_tracked_links_footer_redirect_counts_and_pixel(story: Story, clock, caplog):
    s = story
    caplog.set_level(logging.DEBUG)
    cid = _create(s, "opens_clicks")
    with s.rt.transaction(s.actors["analyst"]) as ctx:
        shown = campaigns.show(ctx, cid)
        preview = campaigns.preview(ctx, cid)
    assert shown.tracking == "opens_clicks" and shown.links == [SHOP, MAP]
    assert tracking.FOOTER_OPENS_CLICKS in preview.text
    mails = _send(s, cid)
    text = _plain(mails["person1@example.jp"])
    token = _token_of(text)
    # every link rewritten to its index in the stored list; the original URLs are gone from the text
    assert f"新商品はこちら: {BASE}/c/{token}/0。" in text
    assert f"店舗の地図（{BASE}/c/{token}/1）" in text
    assert f"もう一度: {BASE}/c/{token}/0" in text
    assert SHOP not in text and MAP not in text
    assert tracking.FOOTER_OPENS_CLICKS in text and "送信者: 架空商事株式会社" in text
    unsubscribe_token = mails["person1@example.jp"]["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]
    assert unsubscribe_token != token  # a second random token, not the unsubscribe one
    html = _html(mails["person1@example.jp"])
    assert html is not None and '<pre style="white-space:pre-wrap;font-family:inherit">' in html
    assert f'<img src="{BASE}/o/{token}.gif" width="1" height="1"' in html
    assert f'<a href="{BASE}/c/{token}/0">' in html and "試験 太郎1 様" in html
    assert tracking.FOOTER_OPENS_CLICKS in html
    rows = _rows(s)
    assert rows["jp1"].tracked and rows["jp1"].clicks == 0 and rows["jp1"].opened_at is None
    assert rows["jp1"].track_digest == tracking.digest(token)

    c = _client(s)
    r = c.get(f"/c/{token}/0")
    assert r.status_code == 302 and r.headers["location"] == SHOP
    assert r.headers["referrer-policy"] == "no-referrer"
    first = _rows(s)["jp1"]
    assert first.clicks == 1 and first.clicked_at is not None and first.opened_at == first.clicked_at
    clock.advance(timedelta(minutes=5))
    r = c.get(f"/c/{token}/1")
    assert r.status_code == 302 and r.headers["location"] == MAP
    second = _rows(s)["jp1"]
    assert (
        second.clicks == 2 and second.clicked_at == first.clicked_at and second.opened_at == first.opened_at
    )
    # the image: the same GIF for every token, no-store; the first fetch of jp2 records their open
    token2 = _token_of(_plain(mails["person2@example.jp"]))
    img = c.get(f"/o/{token2}.gif")
    assert img.status_code == 200 and img.content == tracking.PIXEL
    assert img.headers["content-type"] == "image/gif" and img.headers["cache-control"] == "no-store"
    jp2 = _rows(s)["jp2"]
    assert jp2.opened_at is not None and jp2.clicked_at is None and jp2.clicks == 0
    # unknown token / index out of range / not a number: a neutral 404, nothing recorded
    before = {k: (v.clicks, v.opened_at, v.clicked_at) for k, v in _rows(s).items()}
    for path in (f"/c/{'x' * 43}/0", f"/c/{token}/2", f"/c/{token}/-1", f"/c/{token}/a", f"/c/{token2}/9"):
        r = c.get(path)
        assert r.status_code == 404 and "リンクが見つかりません" in r.text, path
        assert "location" not in r.headers
    unknown = c.get(f"/o/{'y' * 43}.gif")
    assert unknown.status_code == 200 and unknown.content == tracking.PIXEL
    assert {k: (v.clicks, v.opened_at, v.clicked_at) for k, v in _rows(s).items()} == before
    # the campaign's counts
    with s.rt.transaction(s.actors["analyst"]) as ctx:
        shown = campaigns.show(ctx, cid)
        listed = {x.customer_id: x for x in campaigns.sends(ctx, cid)}
    assert (shown.tracked, shown.opened, shown.clicked) == (2, 2, 1)
    assert listed[s.ids["jp1"]].clicks == 2 and listed[s.ids["jp1"]].clicked_at is not None
    assert listed[s.ids["de"]].tracked is False
    # the token is in no table row, no audit entry and no log line
    with s.rt.transaction(SYSTEM_ACTOR) as ctx:
        stored = repr(
            [
                {k: v for k, v in vars(r).items() if not k.startswith("_")}
                for r in [
                    *ctx.session.execute(select(CampaignSend)).scalars(),
                    *ctx.session.execute(select(Campaign)).scalars(),
                ]
            ]
        )
    assert token not in stored and token2 not in stored
    entries = s.rt.audit.tail(200)
    actions = [e.action for e in entries]
    assert actions.count("contact.tracked.click") == 1 and actions.count("contact.tracked.open") == 1
    click = next(e for e in entries if e.action == "contact.tracked.click")
    assert {k: click.details[k] for k in ("campaign_id", "send_id", "link")} == {
        "campaign_id": cid,
        "send_id": first.id,
        "link": 0,
    }
    assert list(click.subject_ids) == [s.ids["jp1"]]
    assert token not in repr(entries) and token2 not in repr(entries)
    # mamori's own log lines (the access log holds the route template, never the path); the test client's and
    # the test SMTP server's loggers are not mamori's
    ours = repr([vars(r) for r in caplog.records if r.name.startswith("mamori")])
    assert "/c/{token}/{n}" in ours and token not in ours and token2 not in ours


def test_clicks_only_has_no_image_and_its_own_footer_line(story: Story):
    s = story
    cid = _create(s, "clicks")
    mails = _send(s, cid)
    msg = mails["person1@example.jp"]
    text = _plain(msg)
    token = _token_of(text)
    assert tracking.FOOTER_CLICKS in text and tracking.FOOTER_OPENS_CLICKS not in text
    html = _html(msg)
    assert html is not None and "/o/" not in html and f'href="{BASE}/c/{token}/0"' in html
    c = _client(s)
    assert c.get(f"/o/{token}.gif").content == tracking.PIXEL
    assert _rows(s)["jp1"].opened_at is None  # a clicks-only campaign records no open from the image
    assert c.get(f"/c/{token}/0").status_code == 302
    row = _rows(s)["jp1"]
    assert row.clicks == 1 and row.opened_at is not None  # a click counts as an open


def test_a_gdpr_subject_gets_plain_links_no_image_and_an_untracked_row(story: Story):
    s = story
    cid = _create(s, "opens_clicks")
    mails = _send(s, cid)
    msg = mails["person3@example.jp"]
    text = _plain(msg)
    assert SHOP in text and MAP in text and "/c/" not in text
    assert tracking.FOOTER_OPENS_CLICKS not in text and tracking.FOOTER_CLICKS not in text
    assert _html(msg) is None
    row = _rows(s)["de"]
    assert row.tracked is False and row.track_digest is None
    # an untracked campaign: nobody is tracked, the message is as before
    cid2 = _create(s, "none")
    s.handler.received.clear()
    mails = _send(s, cid2)
    assert all("/c/" not in _plain(m) and _html(m) is None for m in mails.values())


def test_tracking_is_refused_under_a_purpose_without_behaviour_data(story: Story):
    s = story
    with pytest.raises(PolicyDenied) as refused:
        _create(s, "clicks", purpose=NEWSLETTER.code)
    assert refused.value.rule_id == "R-18-1" and refused.value.code == "tracking_not_in_purpose"
    assert "行動履歴" in refused.value.message("ja") and "behaviour" in refused.value.message("en")
    with s.rt.transaction(SYSTEM_ACTOR) as ctx:
        assert ctx.session.execute(select(Campaign)).first() is None
    denied = [e for e in s.rt.audit.tail(20) if e.decision != "allow"]
    assert denied and "R-18-1" in denied[-1].rule_ids
    _create(s, "none", purpose=NEWSLETTER.code)  # untracked: allowed as before


def test_disclosure_shows_open_and_click_times_and_erasure_deletes_them(story: Story):
    s = story
    mails = _send(s, _create(s, "opens_clicks"))
    token = _token_of(_plain(mails["person1@example.jp"]))
    assert _client(s).get(f"/c/{token}/1").status_code == 302
    row = _rows(s)["jp1"]
    source = next(x for x in registry.sources() if x.name == "contact")
    with s.rt.transaction(SYSTEM_ACTOR) as ctx:
        [record] = source.export(ctx, s.ids["jp1"])
        [untracked] = source.export(ctx, s.ids["de"])
    assert record.data["tracked"] is True and record.data["clicks"] == 1
    assert record.data["opened_at"] == row.opened_at.isoformat()
    assert record.data["clicked_at"] == row.clicked_at.isoformat()
    assert untracked.data["tracked"] is False and untracked.data["opened_at"] is None
    assert token not in repr(record)
    with s.rt.transaction(SYSTEM_ACTOR) as ctx:
        assert source.erase(ctx, s.ids["jp1"]) == 1
    with s.rt.transaction(SYSTEM_ACTOR) as ctx:
        assert source.export(ctx, s.ids["jp1"]) == []
    assert _client(s).get(f"/c/{token}/0").status_code == 404  # the erased send's link leads nowhere now


# -- the CLI and the API ----------------------------------------------------------------------------------------


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
    return lambda *args: runner.invoke(cli_app, list(args), catch_exceptions=False)


def test_cli_tracking_create_show_sends_and_refusals(story: Story, monkeypatch):
    s = story
    run = _cli(s, monkeypatch)
    base = ("contact", "campaign", "create", "--name", "冬", "--subject", "冬の新商品", "--body", BODY)
    r = run("--as", "analyst", *base, "-p", TRACKED.code, "--tracking", "opens_clicks", "--json")
    assert r.exit_code == 0, r.output
    made = json.loads(r.stdout)
    assert made["tracking"] == "opens_clicks" and made["links"] == [SHOP, MAP]
    shown = run("--as", "analyst", "contact", "campaign", "show", made["id"], "--preview")
    assert "開封とクリックを計測" in shown.stdout and tracking.FOOTER_OPENS_CLICKS in shown.stdout
    listed = run("--as", "analyst", "contact", "campaign", "list")
    assert "opens_clicks" in listed.stdout
    assert run("--as", "analyst", "contact", "campaign", "send", made["id"]).exit_code == 0
    msg = {e.rcpt_tos[0]: e.message for e in s.handler.wait(3)}["person1@example.jp"]
    token = _token_of(_plain(msg))
    assert _client(s).get(f"/c/{token}/0").status_code == 302
    rows = json.loads(run("--as", "analyst", "contact", "campaign", "sends", made["id"], "--json").stdout)
    mine = next(x for x in rows if x["customer_id"] == s.ids["jp1"])
    assert mine["tracked"] is True and mine["clicks"] == 1 and mine["clicked_at"] and mine["opened_at"]
    table = run("--as", "analyst", "contact", "campaign", "sends", made["id"])
    assert table.exit_code == 0 and s.ids["jp1"][:8] in table.stdout
    # under a purpose without behaviour data: one line, R-18-1, exit 3 (PolicyDenied)
    r = run("--as", "analyst", *base, "-p", NEWSLETTER.code, "--tracking", "clicks")
    assert r.exit_code == 3 and "R-18-1" in r.stderr and "tracking_not_in_purpose" in r.stderr
    assert r.stderr.strip().count("\n") == 0
    # a bad value: a usage error (exit 2), nothing created
    r = run("--as", "analyst", *base, "-p", TRACKED.code, "--tracking", "always")
    assert r.exit_code == 2
    # a role without contact.campaign
    r = run("--as", "support", *base, "-p", TRACKED.code, "--tracking", "clicks")
    assert r.exit_code == 3 and "R-23-2" in r.stderr
    listed = json.loads(run("--as", "analyst", "contact", "campaign", "list", "--json").stdout)
    assert len(listed) == 1


def test_api_tracking_field_problem_json_422_and_roles(story: Story):
    s = story
    api = signed_in_api(s)
    c, csrf = api.client("analyst2")
    h = {"X-CSRF-Token": csrf}
    body = {"name": "冬", "subject": "冬の新商品", "body": BODY}
    r = c.post(
        "/api/v1/contact/campaigns",
        json={**body, "purpose": NEWSLETTER.code, "tracking": "clicks"},
        headers=h,
    )
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "tracking_not_in_purpose" and r.json()["rule_id"] == "R-18-1"
    r = c.post(
        "/api/v1/contact/campaigns", json={**body, "purpose": TRACKED.code, "tracking": "pixel"}, headers=h
    )
    assert r.status_code == 422 and "pixel" not in r.text
    other, other_csrf = api.client("support2")
    r = other.post(
        "/api/v1/contact/campaigns",
        json={**body, "purpose": TRACKED.code, "tracking": "clicks"},
        headers={"X-CSRF-Token": other_csrf},
    )
    assert r.status_code == 403
    r = c.post(
        "/api/v1/contact/campaigns", json={**body, "purpose": TRACKED.code, "tracking": "clicks"}, headers=h
    )
    assert r.status_code == 201 and r.json()["tracking"] == "clicks"
    cid = r.json()["id"]
    assert c.get("/api/v1/contact/campaigns").json()[0]["tracking"] == "clicks"
    assert c.post(f"/api/v1/contact/campaigns/{cid}/send", headers=h).status_code == 200
    msg = {e.rcpt_tos[0]: e.message for e in s.handler.wait(3)}["person2@example.jp"]
    token = _token_of(_plain(msg))
    assert c.get(f"/c/{token}/0", follow_redirects=False).status_code == 302
    shown = c.get(f"/api/v1/contact/campaigns/{cid}").json()
    assert (shown["tracked"], shown["opened"], shown["clicked"]) == (2, 1, 1)
    sends = c.get(f"/api/v1/contact/campaigns/{cid}/sends").json()
    mine = next(x for x in sends if x["customer_id"] == s.ids["jp2"])
    assert mine["clicks"] == 1 and mine["clicked_at"] and urlsplit(BASE).netloc not in json.dumps(sends)
