"""Relay instead of disclosure (seed 001 case 2): a customer asks for another customer's contact. Giving it would
be provision to a third party without the other person's consent (R-27-1), so the request is refused and a
relayed message is offered: the message is stored encrypted and delivered by staff; the other customer's
contact is provided only after their own recorded consent.

Delivering the message and the other customer's answer are two independent steps, in either order (the seed's
order is: the requester asks → staff passes the message on → the other customer answers later, by phone or
e-mail, whether their contact may be shared):

============  =====================================  =====================================================
status        what has happened                      what may come next
============  =====================================  =====================================================
open          nothing yet                            ``deliver`` or ``consent``
consented     answer recorded (agree), not delivered ``deliver`` (hands the contact over if shared)
delivered     message delivered, no answer yet       ``consent`` (hands the contact over if shared)
completed     delivered and answered (agree)         nothing: the relay is closed
declined      the other customer declined            nothing: the relay is closed (no delivery after it)
============  =====================================  =====================================================

The contact is handed over (returned once, with a provision record: R-27-1 consent, R-29-2 record) at the moment
both have happened and the answer was "share": by ``deliver`` when the answer came first, by ``consent`` when
the message had already been delivered. A decline after delivery closes the relay. The status is derived from
the recorded times (``consented_at``, ``delivered_at``), so rows written before this order was allowed (status
``delivered`` after an answer) read as ``completed``.
"""

from __future__ import annotations

from mamori.customers.service import subjects
from mamori.kernel.auditing import authorise as _authorise
from mamori.kernel.auditing import record_read, record_write
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
# Japanese / English wording of each state, for the errors (the labels file has the short labels).
STATE_TEXT: dict[str, tuple[str, str]] = {
    "open": ("受付中（未取次・相手方の回答なし）", "open (not delivered, no answer yet)"),
    "consented": ("相手方が同意済み・未取次", "answered (agreed), not delivered yet"),
    "delivered": ("取次済み・相手方の回答待ち", "delivered, waiting for the other customer's answer"),
    "completed": ("取次済み・回答済み（完了）", "delivered and answered (closed)"),
    "declined": ("相手方が辞退（終了）", "declined by the other customer (closed)"),
}


def status_of(r: RelayRequest) -> str:
    """The relay's state from what was recorded (see the module docstring)."""
    if r.status == "declined":
        return "declined"
    answered = r.consented_at is not None
    delivered = r.delivered_at is not None or r.status == "delivered"
    if answered and delivered:
        return "completed"
    if delivered:
        return "delivered"
    if answered:
        return "consented"
    return "open"


def _contact_provided(r: RelayRequest) -> bool:
    return status_of(r) == "completed" and r.share_contact


def _read(r: RelayRequest, **extra: object) -> RelayRead:
    state = status_of(r)
    answer = None if r.consented_at is None else ("declined" if state == "declined" else "agreed")
    return RelayRead(
        id=r.id,
        requester_id=r.requester_id,
        target_id=r.target_id,
        status=state,
        share_contact=r.share_contact,
        consented_at=aware(r.consented_at) if r.consented_at else None,
        delivered_at=aware(r.delivered_at) if r.delivered_at else None,
        created_at=aware(r.created_at),
        answer=answer,
        delivered=r.delivered_at is not None or r.status == "delivered",
        contact_provided=_contact_provided(r),
        closed=state in ("completed", "declined"),
        **extra,
    )


def _conflict(code: str, ja: str, en: str, state: str) -> Conflict:
    sja, sen = STATE_TEXT[state]
    return Conflict(
        f"{ja}（現在の状態: {sja}）", f"{en} (the relay is {sen}).", code=code, details={"status": state}
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


def show(ctx: Context, relay_id: str) -> RelayRead:
    """The relay's state (no message, no contact): what happened and what may come next."""
    can_manage(ctx)
    row = _get(ctx, relay_id)
    can_manage(ctx, [row.requester_id, row.target_id])
    record_read(ctx, "provision.relay.show", [row.requester_id, row.target_id], ["relay_status"])
    return _read(row)


def _hand_over_contact(ctx: Context, row: RelayRequest) -> dict[str, str | None]:
    """The target agreed to share and the message was delivered: give the contact to the requester, with the
    provision record (R-27-1 consent given, R-29-2 record)."""
    values = subjects.read_fields(ctx, [row.target_id], [*CONTACT_FIELDS, "name"])
    person = values.get(row.target_id, {})
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
    return {f: person.get(f) for f in CONTACT_FIELDS}


def consent(ctx: Context, relay_id: str, data: RelayConsentIn) -> RelayRead:
    """Record the target's answer (once), before or after delivery: agree to the relay, and optionally to share
    their contact. After delivery, agreeing to share hands the contact over now; any answer closes the relay."""
    can_manage(ctx)
    row = _get(ctx, relay_id)
    can_manage(ctx, [row.target_id])
    state = status_of(row)
    if state in ("consented", "completed", "declined"):
        raise _conflict(
            "already_answered",
            "相手方の回答は既に記録されています。",
            "The other customer's answer is already recorded",
            state,
        )
    if data.share_contact and not data.agree:
        raise ValidationFailed(
            "連絡先の提供に同意するには取次にも同意が必要です。",
            "Sharing the contact requires agreeing to the relay.",
            code="inconsistent_answer",
        )
    delivered = state == "delivered"
    row.share_contact = data.share_contact
    row.consent_method = data.method
    row.consent_evidence = data.evidence
    row.consented_at = ctx.clock.now()
    if not data.agree:
        row.status = "declined"
    else:
        row.status = "completed" if delivered else "consented"
    contact = _hand_over_contact(ctx, row) if delivered and data.agree and data.share_contact else None
    ctx.session.flush()
    record_write(
        ctx,
        "provision.relay.consent",
        [row.target_id, *([row.requester_id] if contact else [])],
        ["relay_consent", *(CONTACT_FIELDS if contact else ())],
        rule_ids=(R_27_1.id, R_29_2.id) if contact else (R_27_1.id,),
        details={
            "agree": data.agree,
            "share_contact": data.share_contact,
            "after_delivery": delivered,
            "contact_provided": contact is not None,
        },
    )
    return _read(row, contact=contact)


def deliver(ctx: Context, relay_id: str) -> RelayRead:
    """Hand the message to staff for delivery (once; the stored message is then dropped), before or after the
    target's answer. When the target already agreed to share their contact, it is returned for the requester and
    a provision record is written; otherwise the answer may come later (``consent``)."""
    can_manage(ctx)
    row = _get(ctx, relay_id)
    can_manage(ctx, [row.requester_id, row.target_id])
    state = status_of(row)
    if state == "declined":
        raise _conflict(
            "declined", "相手方が取次を断りました。", "The other customer declined the relay", state
        )
    if state in ("delivered", "completed") or row.message_enc is None:
        raise _conflict(
            "already_delivered", "伝言は既に取り次がれています。", "The message was already delivered", state
        )
    message = ctx.runtime.cipher.decrypt(row.requester_id, TABLE, "message", row.id, row.message_enc)
    row.status = "completed" if state == "consented" else "delivered"
    row.message_enc = None  # minimisation: the message is not kept after delivery
    row.delivered_at = ctx.clock.now()
    row.delivered_by = ctx.actor.label
    contact = _hand_over_contact(ctx, row) if state == "consented" and row.share_contact else None
    ctx.session.flush()
    record_write(
        ctx,
        "provision.relay.deliver",
        [row.requester_id, row.target_id],
        ["relay_message", *(CONTACT_FIELDS if contact else ())],
        rule_ids=(R_27_1.id, R_29_2.id) if contact else (R_27_1.id,),
        details={"answered": state == "consented", "contact_provided": contact is not None},
    )
    return _read(row, message=message, contact=contact)
