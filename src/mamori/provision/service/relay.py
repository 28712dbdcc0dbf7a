"""Relay instead of disclosure (seed 001 case 2): a customer asks for another customer's contact. Giving it would
be provision to a third party without the other person's consent (R-27-1), so the request is refused and a
relayed message is offered: the message is stored encrypted and delivered by staff; the other customer's
contact is provided only after their own recorded consent."""

from __future__ import annotations

from mamori.customers.service import subjects
from mamori.kernel.auditing import authorise as _authorise
from mamori.kernel.auditing import record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import Conflict, NotFound, ValidationFailed
from mamori.kernel.policy import Action, Resource
from mamori.law.rules import R_27_1, R_29_2
from mamori.provision import queries
from mamori.provision.models import RelayRequest
from mamori.provision.schemas import RelayConsentIn, RelayOpenIn, RelayRead
from mamori.provision.service.common import aware
from mamori.provision.service.records import write_record

TABLE = "relay_requests"
CONTACT_FIELDS = ("email", "phone")


def _read(r: RelayRequest, **extra: object) -> RelayRead:
    return RelayRead(
        id=r.id,
        requester_id=r.requester_id,
        target_id=r.target_id,
        status=r.status,
        share_contact=r.share_contact,
        consented_at=aware(r.consented_at) if r.consented_at else None,
        delivered_at=aware(r.delivered_at) if r.delivered_at else None,
        created_at=aware(r.created_at),
        **extra,
    )


def _get(ctx: Context, relay_id: str) -> RelayRequest:
    row = ctx.session.execute(queries.relay(relay_id)).scalar_one_or_none()
    if row is None:
        raise NotFound("取次依頼が見つかりません。", "Relay request not found.", code="not_found")
    return row


def can_manage(ctx: Context, subject_ids: list[str] | None = None) -> None:
    """Relays are run by the call center (support) and the privacy officer."""
    _authorise(ctx, Action.RELAY, Resource(kind="relay"), subject_ids or [])


def open_relay(ctx: Context, data: RelayOpenIn) -> RelayRead:
    """Refuse the disclosure (R-27-1) and store the requester's message, encrypted under their data key."""
    can_manage(ctx, [data.requester_id, data.target_id])
    if data.requester_id == data.target_id:
        raise ValidationFailed(
            "依頼者と相手が同じです。", "Requester and target are the same.", code="same_person"
        )
    live = subjects.existing(ctx, [data.requester_id, data.target_id])
    if data.requester_id not in live or data.target_id not in live:
        raise NotFound("顧客が見つかりません。", "Customer not found.", code="customer_not_found")
    now = ctx.clock.now()
    rid = new_id()
    row = RelayRequest(
        id=rid,
        requester_id=data.requester_id,
        target_id=data.target_id,
        message_enc=ctx.runtime.cipher.encrypt(data.requester_id, TABLE, "message", rid, data.message),
        status="open",
        share_contact=False,
        created_at=now,
        created_by=ctx.actor.label,
    )
    ctx.session.add(row)
    ctx.session.flush()
    record_write(
        ctx,
        "provision.relay.open",
        [data.requester_id, data.target_id],
        ["relay_message"],
        rule_ids=(R_27_1.id,),
    )
    return _read(row, disclosure_refused_rule=R_27_1.id)


def consent(ctx: Context, relay_id: str, data: RelayConsentIn) -> RelayRead:
    """Record the target's answer: agree to receive the message, and optionally to share their contact."""
    can_manage(ctx)
    row = _get(ctx, relay_id)
    can_manage(ctx, [row.target_id])
    if row.status not in ("open",):
        raise Conflict("この取次依頼には既に回答があります。", "Already answered.", code="already_answered")
    if data.share_contact and not data.agree:
        raise ValidationFailed(
            "連絡先の提供に同意するには取次にも同意が必要です。",
            "Sharing the contact requires agreeing to the relay.",
            code="inconsistent_answer",
        )
    row.status = "consented" if data.agree else "declined"
    row.share_contact = data.share_contact
    row.consent_method = data.method
    row.consent_evidence = data.evidence
    row.consented_at = ctx.clock.now()
    ctx.session.flush()
    record_write(
        ctx,
        "provision.relay.consent",
        [row.target_id],
        ["relay_consent"],
        rule_ids=(R_27_1.id,),
        details={"agree": data.agree, "share_contact": data.share_contact},
    )
    return _read(row)


def deliver(ctx: Context, relay_id: str) -> RelayRead:
    """Hand the message to staff for delivery (once; the stored message is then dropped). When the target
    consented to share their contact, it is returned for the requester and a provision record is written."""
    can_manage(ctx)
    row = _get(ctx, relay_id)
    can_manage(ctx, [row.requester_id, row.target_id])
    if row.status == "declined":
        raise Conflict("相手が取次を断りました。", "The other customer declined.", code="declined")
    if row.status == "delivered" or row.message_enc is None:
        raise Conflict("既に取次済みです。", "Already delivered.", code="already_delivered")
    message = ctx.runtime.cipher.decrypt(row.requester_id, TABLE, "message", row.id, row.message_enc)
    contact: dict[str, str | None] | None = None
    if row.status == "consented" and row.share_contact:
        values = subjects.read_fields(ctx, [row.target_id], [*CONTACT_FIELDS, "name"])
        person = values.get(row.target_id, {})
        contact = {f: person.get(f) for f in CONTACT_FIELDS}
        write_record(
            ctx,
            direction="provided",
            kind="consent",
            customer_id=row.target_id,
            counterparty=None,
            purpose=None,
            items=list(CONTACT_FIELDS),
            consent_fact=f"relay consent ({row.consent_method}) {row.id}",
            subject={"name": person.get("name")},
            recipient_label=f"customer:{row.requester_id}",
            org=("individual (customer)", "-", "-", "JP"),
        )
    row.status = "delivered"
    row.message_enc = None  # minimisation: the message is not kept after delivery
    row.delivered_at = ctx.clock.now()
    row.delivered_by = ctx.actor.label
    ctx.session.flush()
    record_write(
        ctx,
        "provision.relay.deliver",
        [row.requester_id, row.target_id],
        ["relay_message", *(CONTACT_FIELDS if contact else ())],
        rule_ids=(R_27_1.id, R_29_2.id) if contact else (R_27_1.id,),
    )
    return _read(row, message=message, contact=contact)
