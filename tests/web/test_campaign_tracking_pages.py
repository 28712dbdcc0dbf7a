"""The staff pages of campaign measurement (brief T): the draft form's tracking select, the refusal under a purpose
without behaviour data (R-18-1) and a bad value (422) without creating anything, a role without campaigns refused,
and the campaign page showing what was measured per send after a click through the public ``/c/`` route."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from mamori.contact.models import Campaign
from mamori.contact.service import tracking
from mamori.kernel.context import SYSTEM_ACTOR
from tests.contact.conftest import NEWSLETTER
from tests.contact.test_campaigns import Story, signed_in_api
from tests.contact.test_tracking import BASE, BODY, TRACKED, _plain, story

__all__ = ["story"]  # the fixture of the tracking tests


def _campaigns(s: Story) -> int:
    with s.rt.transaction(SYSTEM_ACTOR) as ctx:
        return int(ctx.session.execute(select(func.count()).select_from(Campaign)).scalar_one())


def test_form_select_refusals_and_the_measured_campaign_page(story: Story):
    s = story
    api = signed_in_api(s)
    c, csrf = api.client("analyst2")
    form = c.get("/contact/campaigns/new")
    assert form.status_code == 200
    assert '<select id="c-tracking" name="tracking"' in form.text
    assert 'value="opens_clicks"' in form.text and "開封とリンクのクリックを計測" in form.text
    data = {"csrf": csrf, "name": "冬", "subject": "冬の新商品", "body": BODY}
    refused = c.post(
        "/contact/campaigns",
        data={**data, "purpose": NEWSLETTER.code, "tracking": "clicks"},
        follow_redirects=False,
    )
    assert refused.status_code == 403 and "R-18-1" in refused.text and "行動履歴" in refused.text
    bad = c.post(
        "/contact/campaigns",
        data={**data, "purpose": TRACKED.code, "tracking": "always"},
        follow_redirects=False,
    )
    assert bad.status_code == 422
    no_csrf = c.post(
        "/contact/campaigns",
        data={**data, "csrf": "", "purpose": TRACKED.code, "tracking": "clicks"},
        follow_redirects=False,
    )
    assert no_csrf.status_code == 403
    other, other_csrf = api.client("support2")
    r = other.post(
        "/contact/campaigns",
        data={**data, "csrf": other_csrf, "purpose": TRACKED.code, "tracking": "clicks"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert _campaigns(s) == 0
    made = c.post(
        "/contact/campaigns",
        data={**data, "purpose": TRACKED.code, "tracking": "opens_clicks"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    url = made.headers["location"]
    page = c.get(url)
    assert 'id="tracking">開封とリンクのクリック<' in page.text
    assert tracking.FOOTER_OPENS_CLICKS in page.text  # the preview's footer says so
    assert "計測" in c.get("/contact/campaigns").text
    assert c.post(url + "/send", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    msg = {e.rcpt_tos[0]: e.message for e in s.handler.wait(3)}["person1@example.jp"]
    token = re.search(re.escape(BASE) + r"/c/([A-Za-z0-9_-]+)/0", _plain(msg)).group(1)  # type: ignore[union-attr]
    assert c.get(f"/c/{token}/0", follow_redirects=False).status_code == 302
    after = c.get(url)
    assert 'id="measured">2 / 1 / 1<' in after.text  # tracked (JP people) / opened / clicked
    assert 'id="sends-table"' in after.text and token not in after.text
