"""The one-click unsubscribe of a campaign message (特定電子メール法 3条3項 / TE-3, RFC 8058).

The link in every campaign message is ``/u/<token>``; the token is random and only its sha256 is stored
(``CampaignSend.token_digest``). A POST to it — the page's button, or a mail client's one-click POST (body
``List-Unsubscribe=One-Click``, no cookie, no CSRF token) — writes a do-not-contact line for e-mail into the consent
ledger AT ONCE, as the system actor (method ``button`` or ``email``, evidence = the send id, never the address), and
marks the send ``unsubscribed``. The next e-mail list build leaves the person out (do_not_contact).

An unknown token and a used one answer exactly like a good one (the caller gets no oracle of who is subscribed);
a second POST changes nothing.
"""

from __future__ import annotations

import re
from typing import Literal

from sqlalchemy import select

from mamori.consent import service as consent_service
from mamori.consent.schemas import ConsentIn
from mamori.contact.models import CampaignSend
from mamori.contact.service.campaigns import CHANNEL, token_digest
from mamori.kernel.auditing import record_write
from mamori.kernel.context import Context
from mamori.law.rules import TE_3

A_UNSUBSCRIBED = "contact.unsubscribed"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,128}$")  # secrets.token_urlsafe(32) is 43 characters

Method = Literal["button", "email"]


def well_formed(token: str) -> bool:
    return bool(TOKEN.match(token or ""))


def unsubscribe(ctx: Context, token: str, *, method: Method) -> bool:
    """Honour an unsubscribe (``ctx``: the system actor). True when a subscription was stopped now; False for an
    unknown, malformed or already used token — callers answer the same either way."""
    if not well_formed(token):
        return False
    row = ctx.session.execute(
        select(CampaignSend).where(CampaignSend.token_digest == token_digest(token))
    ).scalar_one_or_none()
    if row is None or row.status == "unsubscribed":
        return False
    consent_service.do_not_contact(
        ctx, row.customer_id, CHANNEL, ConsentIn(method=method, evidence=f"campaign-send:{row.id}")
    )
    now = ctx.clock.now()
    row.status = "unsubscribed"
    row.unsubscribed_at = now
    if row.finished_at is None:
        row.finished_at = now
    ctx.session.flush()
    record_write(
        ctx,
        A_UNSUBSCRIBED,
        [row.customer_id],
        (),
        rule_ids=(TE_3.id,),
        details={"campaign_id": row.campaign_id, "send_id": row.id, "method": method},
    )
    return True


def known(ctx: Context, token: str) -> bool:
    """Whether a token belongs to a send (for throttling guesses only; never shown to the caller)."""
    if not well_formed(token):
        return False
    found = ctx.session.execute(
        select(CampaignSend.id).where(CampaignSend.token_digest == token_digest(token))
    ).first()
    return found is not None
