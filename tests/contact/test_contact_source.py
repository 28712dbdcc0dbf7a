"""The contact slice's subject source (issue 20): the campaign messages sent to a person are part of their
disclosure (ids, campaign, status — never an address or a body) and are deleted at erasure."""

from __future__ import annotations

from mamori.contact.models import Campaign, CampaignSend
from mamori.kernel import registry
from mamori.kernel.context import SYSTEM_ACTOR
from tests.contact.conftest import NEWSLETTER, add_purposes, person
from tests.factories import seed_basics


def _sent(rt, cid: str) -> None:
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        now = ctx.clock.now()
        ctx.session.add(
            Campaign(
                id="c" * 32,
                name="冬のご案内",
                purpose_code=NEWSLETTER.code,
                purpose_version=1,
                channel="email",
                subject="s",
                body="b",
                status="sent",
                created_at=now,
                created_by="test",
            )
        )
        ctx.session.flush()
        ctx.session.add(
            CampaignSend(id="s" * 32, campaign_id="c" * 32, customer_id=cid, status="sent", queued_at=now)
        )


def test_disclosure_lists_the_messages_sent_and_erasure_deletes_them(runtime):
    actors = seed_basics(runtime)
    add_purposes(runtime)
    cid = person(runtime, actors["sato"], 41, purposes=(NEWSLETTER.code,))
    other = person(runtime, actors["sato"], 42, purposes=(NEWSLETTER.code,))
    _sent(runtime, cid)
    source = next(s for s in registry.sources() if s.name == "contact")
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        assert source.summary(ctx, cid) == {"contact_send": 1} and source.summary(ctx, other) == {}
        [record] = source.export(ctx, cid)
        assert record.category == "contact_send" and record.data["campaign"] == "冬のご案内"
        assert record.data["status"] == "sent" and record.purposes == (NEWSLETTER.code,)
        assert "person41@example.jp" not in repr(record)
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        assert source.erase(ctx, cid) == 1
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        assert source.export(ctx, cid) == [] and source.summary(ctx, cid) == {}
