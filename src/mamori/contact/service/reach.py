"""The check before a contact (issue 20): "I am about to call / mail this person on this channel for ctx.purpose".

The policy engine decides (``contact.reach`` with ``Resource.channel``) on the person's facts, as for a list:
refused → PolicyDenied naming the rule (R-35-1 do-not-contact or stop-use, TE-3 / R-CNS-1 a missing or withdrawn
opt-in, R-18-1 a channel the purpose does not name or a purpose not notified, R-23-2 outside the actor's scope);
allowed → the person's contact points for the channel, decrypted. Audited either way (ids and codes only).
"""

from __future__ import annotations

from mamori.contact.permissions import CONTACT_REACH
from mamori.contact.schemas import ReachRead
from mamori.customers.service.contactable import (
    ERASED,
    MASKED,
    NO_CONTACT_POINT,
    NOT_FOUND,
    contactable,
)
from mamori.customers.service.core.common import hidden_resource
from mamori.kernel.auditing import audits_refusals, authorise, record_denial, record_read
from mamori.kernel.context import Context
from mamori.kernel.errors import NotFound
from mamori.kernel.policy import Decision


def _not_found(customer_id: str) -> NotFound:
    return NotFound(
        "顧客が見つかりません。",
        "Customer not found.",
        code="customer_not_found",
        details={"customer_id": customer_id},
    )


@audits_refusals(CONTACT_REACH)
def check(ctx: Context, customer_id: str, channel: str) -> ReachRead:
    """May ``customer_id`` be contacted on ``channel`` for ``ctx.purpose``? PolicyDenied (audited) if not; else
    their contact points for the channel (every phone / mobile number / e-mail address, or the postal address),
    audited as a read."""
    result = contactable(ctx, CONTACT_REACH, channel, ids=[customer_id])
    person = result.people[0]
    if person.code == NOT_FOUND:
        hidden = hidden_resource(
            ctx, customer_id
        )  # PostgreSQL: another rep's customer, hidden by row security
        if hidden is not None:
            authorise(ctx, CONTACT_REACH, hidden, [customer_id])  # refused and audited (R-23-2)
    if person.code in (NOT_FOUND, ERASED):
        record_denial(
            ctx, CONTACT_REACH, [customer_id], Decision(False, (), frozenset(), "", "", "not_found")
        )
        raise _not_found(customer_id)
    decision = person.decision
    if decision is not None and not decision.allowed:
        record_denial(ctx, CONTACT_REACH, [customer_id], decision)
        decision.raise_if_denied()
    values = person.values
    shown = [f for f in ("name", "kana", "postal_code", "address") if values.get(f) is not None]
    if person.points:
        shown.append("phones" if channel in ("phone", "sms") else "emails")
    record_read(
        ctx,
        CONTACT_REACH,
        [customer_id],
        shown,
        masked=person.masked,
        details={
            "channel": channel,
            "contact_points": len(person.points),
            "no_contact_point": person.code in (NO_CONTACT_POINT, MASKED),
        },
    )
    return ReachRead(
        customer_id=customer_id,
        purpose=result.facts.code,
        purpose_version=result.purpose_version,
        channel=channel,
        allowed=True,
        name=values.get("name"),
        kana=values.get("kana"),
        contact_points=list(person.points),
        postal_code=values.get("postal_code"),
        address=values.get("address"),
    )
