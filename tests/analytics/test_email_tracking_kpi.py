"""The e-mail open and click rates (brief T, issue 24 item 4) on a hand-computed case: four measured sends that
reached the person, one opened (the image) and one clicked (a click is an open too) → open rate 2/4 = 50 %, click
rate 1/4 = 25 %; a measured send that bounced and an unmeasured one are left out of the denominator and counted
apart. No measured send → None with the note. Opens and clicks are recorded by the contact slice's own service."""

from __future__ import annotations

import json

from sqlalchemy import update

from mamori.contact.models import Campaign, CampaignSend
from mamori.contact.service import tracking
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.db import new_id
from tests.analytics import test_kpi
from tests.analytics.test_kpi import PERIOD, Shop, add_campaign, jst, one, report

shop = test_kpi.shop  # the fixture of the KPI tests


def _send(shop: Shop, campaign: str, who: str, status: str, *, measured: bool) -> str:
    token = tracking.digest(f"token-{who}-{status}-{measured}").hex()  # 64 characters, well formed
    with shop.rt.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.add(
            CampaignSend(
                id=new_id(),
                campaign_id=campaign,
                customer_id=shop.ids[who],
                status=status,
                queued_at=jst(2026, 3, 3),
                tracked=measured,
                track_digest=tracking.digest(token) if measured else None,
                clicks=0,
            )
        )
    return token


def _measured_campaign(shop: Shop) -> str:
    campaign = add_campaign(shop.rt, sent_at=jst(2026, 3, 3))
    with shop.rt.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.execute(
            update(Campaign)
            .where(Campaign.id == campaign)
            .values(tracking="opens_clicks", links=json.dumps(["https://shop.example.jp/"]))
        )
    return campaign


def test_open_and_click_rates_hand_computed(shop: Shop) -> None:
    campaign = _measured_campaign(shop)
    tokens = {who: _send(shop, campaign, who, "sent", measured=True) for who in "ABC"}
    tokens["D"] = _send(shop, campaign, "D", "unsubscribed", measured=True)  # reached them, then unsubscribed
    bounced = _send(shop, campaign, "E", "bounced", measured=True)  # never reached: not in the denominator
    _send(shop, campaign, "A", "sent", measured=False)  # e.g. a GDPR subject: counted apart
    with shop.rt.transaction(SYSTEM_ACTOR) as ctx:
        assert tracking.opened(ctx, tokens["A"]) is True
        assert tracking.opened(ctx, tokens["A"]) is False  # the first open only
        assert tracking.click(ctx, tokens["B"], 0) == "https://shop.example.jp/"
        assert (
            tracking.click(ctx, tokens["B"], 0) == "https://shop.example.jp/"
        )  # twice: still one send clicked
        assert tracking.click(ctx, tokens["C"], 1) is None  # no such link: nothing recorded
        assert tracking.opened(ctx, bounced) is True  # recorded on the row, but a bounce is not delivered
    r = report(shop.rt, shop.actors["analyst"], **PERIOD)
    opens, clicks = one(r, "email_open_rate"), one(r, "email_click_rate")
    assert opens.value == 50.0 and clicks.value == 25.0
    assert opens.evidence.denominator == 4 and opens.evidence.numerator == 2
    assert clicks.evidence.denominator == 4 and clicks.evidence.numerator == 1
    figures = opens.evidence.figures
    assert figures["tracked_sends"] == 4 and figures["opened"] == 2 and figures["clicked"] == 1
    assert figures["untracked_sends"] == 1 and figures["sends_bounced"] == 1 and figures["campaigns"] == 1
    assert "下限" in (opens.note_ja or "") and "Apple Mail" in (opens.note_en or "")


def test_no_measured_send_gives_none_with_the_note(shop: Shop) -> None:
    campaign = add_campaign(shop.rt, sent_at=jst(2026, 3, 3))
    for who in "ABC":
        _send(shop, campaign, who, "sent", measured=False)
    r = report(shop.rt, shop.actors["analyst"], **PERIOD)
    for code in ("email_open_rate", "email_click_rate"):
        k = one(r, code)
        assert k.value is None and "計測ありの配信がありません" in (k.note_ja or "")
        assert k.evidence.denominator == 0 and k.evidence.figures["untracked_sends"] == 3
    # outside the period: nothing of it counts
    r = report(shop.rt, shop.actors["analyst"], start=PERIOD["start"], end=PERIOD["start"])
    assert one(r, "email_open_rate").evidence.figures["untracked_sends"] == 0
