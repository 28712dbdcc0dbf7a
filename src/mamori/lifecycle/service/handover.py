"""The departing rep's handover (issue 21, seed 001 case 1): 退職する営業担当者Aさんの顧客をBさんが引き継ぐ.

1. **Plan** (:func:`plan`): the departing rep's customers — ids and count, no personal value (whoever may move
   them: the privacy officer, an admin, or the rep for their own) — and who may take them over: active staff of a
   role that owns customers (sales, support) who hold a current training and the latest pledge (R-23-3). Those who
   would qualify but are not current are listed apart and refused if chosen.
2. **Run** (:func:`run`): every customer of the rep moves to the successor in one owner change
   (``customers.service.ownership.set_owner``: authorised per customer, refused as a whole, audited
   ``customer.reassign`` with the ids), and a ``Handover`` row records who, to whom, how many, why, when and by
   whom (audited ``lifecycle.handover``, ids and counts only).
3. **Greeting** (:func:`greet`, or ``HandoverCreate.greeting`` in the same run): the successor's greeting e-mail to
   the customers handed over, through the contact slice (``campaigns.send_to``) under a purpose that names e-mail.
   The policy engine decides each person (notified of the purpose, e-mail allowed: consent, opt-in, do-not-contact);
   the exclusions are counted by reason. Sent by the successor (a sales rep may send only to their own customers)
   or by the privacy officer on their behalf; the customers are those the handover moved that the successor still
   owns.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import insert, or_, select

from mamori.contact.permissions import CAMPAIGN_SEND
from mamori.contact.service import campaigns
from mamori.customers.permissions import CUSTOMER_REASSIGN
from mamori.customers.service import ownership
from mamori.kernel.auditing import audits_refusals, authorise, record_refusal, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.policy import Resource, Scope, row_scope
from mamori.lifecycle import queries
from mamori.lifecycle.models import Handover, HandoverCustomer
from mamori.lifecycle.schemas import (
    HANDOVER_REASONS,
    GreetingIn,
    GreetingResult,
    HandoverCreate,
    HandoverPlan,
    HandoverRead,
    HandoverStaff,
)
from mamori.staff import queries as staff_queries
from mamori.staff.models import StaffUser

A_HANDOVER = "lifecycle.handover"  # audit actions (labels in kernel/labels/data/web_audit.toml)
A_GREETED = "lifecycle.handover_greeting"
RULE_TRAINING = "R-23-3"
GREETING_NAME = "引継ぎのご挨拶"


def _staff(user: StaffUser, *, ready: bool = True) -> HandoverStaff:
    return HandoverStaff(
        staff_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        active=bool(user.active),
        ready=ready,
    )


def _authorise(ctx: Context) -> Scope:
    """Handovers are for whoever may move customers (``customer.reassign``); returns the actor's scope."""
    authorise(ctx, CUSTOMER_REASSIGN, Resource(kind="handover"))
    return row_scope(ctx, CUSTOMER_REASSIGN)


def plan(ctx: Context, from_user: str) -> HandoverPlan:
    """Step 1: the departing rep's customers and the possible successors (see the module docstring)."""
    _authorise(ctx)
    departing = ownership.find_staff(ctx, from_user)
    ids = ownership.owned_by(ctx, departing.id)  # authorised over the rep's book (a rep: their own)
    ready: list[HandoverStaff] = []
    not_ready: list[HandoverStaff] = []
    for user in ctx.session.execute(staff_queries.all_staff()).scalars():
        if (
            user.id == departing.id
            or not user.active
            or user.is_service
            or user.role not in ownership.OWNER_ROLES
        ):
            continue
        if ownership.successor_ready(ctx, user):  # R-23-3: only the trained are offered
            ready.append(_staff(user))
        else:
            not_ready.append(_staff(user, ready=False))
    return HandoverPlan(
        departing=_staff(departing),
        customers=len(ids),
        customer_ids=ids,
        candidates=sorted(ready, key=lambda s: s.username),
        not_ready=sorted(not_ready, key=lambda s: s.username),
    )


@audits_refusals(A_HANDOVER)
def run(
    ctx: Context,
    data: HandoverCreate,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> HandoverRead:
    """Steps 3 and 4: move every customer of the departing rep to the successor, record the handover, and send the
    greeting when one is given. Refused as a whole — nothing moves — for a successor who is not active, not of a
    role that owns customers, or not current on training and pledge (R-23-3)."""
    _authorise(ctx)
    if data.reason not in HANDOVER_REASONS:
        raise ValidationFailed(
            "引継ぎの理由が正しくありません。", "Unknown handover reason.", code="bad_reason"
        )
    departing = ownership.find_staff(ctx, data.from_)
    successor = ownership.find_staff(ctx, data.to)
    if successor.id == departing.id:
        raise ValidationFailed(
            "引継ぎ元と引継ぎ先が同じ担当者です。",
            "The successor is the departing staff member.",
            code="same_staff",
        )
    ids = ownership.owned_by(ctx, departing.id)
    if not ids:
        raise Conflict(
            "引き継ぐ顧客がいません。",
            "This staff member owns no customer to hand over.",
            code="nothing_to_hand_over",
        )
    handover_id = new_id()
    moved = ownership.set_owner(
        ctx, ids, successor.id, reason=data.reason, progress=progress, details={"handover_id": handover_id}
    )
    now = ctx.clock.now()
    row = Handover(
        id=handover_id,
        from_user=departing.id,
        to_user=successor.id,
        customers=moved.changed,
        reason=data.reason,
        at=now,
        by=ctx.actor.label,
        campaign_id=None,
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.session.execute(
        insert(HandoverCustomer),
        [{"handover_id": row.id, "customer_id": cid} for cid in moved.customer_ids],
    )
    record_write(
        ctx,
        A_HANDOVER,
        (),
        (),
        rule_ids=(RULE_TRAINING,),
        details={
            "handover_id": row.id,
            "from_staff_id": departing.id,
            "to_staff_id": successor.id,
            "customers": moved.changed,
            "reason": data.reason,
        },
    )
    greeting = None
    if data.greeting is not None:
        greeting = _greet(ctx, row, moved.customer_ids, data.greeting)
    return _read(ctx, row, customer_ids=moved.customer_ids, greeting=greeting)


def _row(ctx: Context, handover_id: str) -> Handover:
    row = ctx.session.get(Handover, handover_id) if handover_id else None
    if row is None:
        raise NotFound("引継ぎが見つかりません。", "No such handover.", code="handover_not_found")
    return row


def _visible(ctx: Context, row: Handover, scope: Scope) -> bool:
    return scope == Scope.ALL or ctx.actor.id in (row.from_user, row.to_user)


def _read(
    ctx: Context,
    row: Handover,
    *,
    customer_ids: list[str] | None = None,
    greeting: GreetingResult | None = None,
    names: dict[str, str] | None = None,
) -> HandoverRead:
    if names is None:
        names = _usernames(ctx, [row.from_user, row.to_user])
    return HandoverRead(
        id=row.id,
        from_staff_id=row.from_user,
        from_username=names.get(row.from_user, row.from_user),
        to_staff_id=row.to_user,
        to_username=names.get(row.to_user, row.to_user),
        customers=row.customers,
        reason=row.reason,
        at=row.at,
        by=row.by,
        campaign_id=row.campaign_id,
        customer_ids=customer_ids or [],
        greeting=greeting,
    )


def _usernames(ctx: Context, staff_ids: list[str]) -> dict[str, str]:
    return {
        u.id: u.username
        for u in ctx.session.execute(
            select(StaffUser).where(StaffUser.id.in_(sorted(set(staff_ids))))
        ).scalars()
    }


def get(ctx: Context, handover_id: str) -> HandoverRead:
    """One handover (ids, counts, who and when). A rep sees the handovers they gave or received."""
    scope = _authorise(ctx)
    row = _row(ctx, handover_id)
    if not _visible(ctx, row, scope):
        raise NotFound("引継ぎが見つかりません。", "No such handover.", code="handover_not_found")
    return _read(ctx, row)


def list_handovers(ctx: Context, *, limit: int = 200) -> list[HandoverRead]:
    """The handovers, newest first (a rep: those they gave or received)."""
    scope = _authorise(ctx)
    stmt = select(Handover).order_by(Handover.at.desc(), Handover.id).limit(max(1, min(limit, 1000)))
    if scope != Scope.ALL:
        stmt = stmt.where(or_(Handover.from_user == ctx.actor.id, Handover.to_user == ctx.actor.id))
    rows = list(ctx.session.execute(stmt).scalars())
    names = _usernames(ctx, [u for r in rows for u in (r.from_user, r.to_user)])
    return [_read(ctx, r, names=names) for r in rows]


def handed_over(ctx: Context, row: Handover) -> list[str]:
    """The customers a handover moved (``lifecycle_handover_customers``) that the successor still owns (ids)."""
    moved = set(ctx.session.execute(queries.handover_customers(row.id)).scalars())
    if not moved:
        return []
    return sorted(moved & set(ownership.owned_by(ctx, row.to_user)))


@audits_refusals(A_GREETED)
def greet(ctx: Context, handover_id: str, greeting: GreetingIn) -> GreetingResult:
    """Step 4 on its own: the successor's greeting to the customers handed over (see the module docstring). Sent
    once per handover; by the successor, or by someone who may send to every customer (the privacy officer)."""
    scope = _authorise(ctx)
    row = _row(ctx, handover_id)
    if not _visible(ctx, row, scope):
        raise NotFound("引継ぎが見つかりません。", "No such handover.", code="handover_not_found")
    return _greet(ctx, row, handed_over(ctx, row), greeting)


def _greet(ctx: Context, row: Handover, customer_ids: list[str], greeting: GreetingIn) -> GreetingResult:
    if row.campaign_id is not None:
        raise Conflict(
            "この引継ぎの挨拶メールは送信済みです。",
            "The greeting of this handover has already been sent.",
            code="already_greeted",
        )
    if ctx.actor.id != row.to_user and row_scope(ctx, CAMPAIGN_SEND) != Scope.ALL:
        refused = PolicyDenied(
            "挨拶メールは引継ぎ先の担当者が送信します。",
            "The greeting is sent by the successor.",
            rule_id="R-23-2",
            code="not_the_successor",
        )
        record_refusal(ctx, CAMPAIGN_SEND, (), refused)
        raise refused
    if not customer_ids:
        raise Conflict(
            "挨拶を送る顧客がいません（引き継いだ顧客を現在担当していません）。",
            "No customer to greet: the successor no longer owns the customers handed over.",
            code="no_recipients",
        )
    sent = campaigns.send_to(
        ctx,
        name=f"{GREETING_NAME}（{row.id[:8]}）",
        purpose=greeting.purpose,
        subject=greeting.subject,
        body=greeting.body,
        customer_ids=customer_ids,
    )
    row.campaign_id = sent.id
    ctx.session.flush()
    record_write(
        ctx,
        A_GREETED,
        (),
        (),
        details={
            "handover_id": row.id,
            "campaign_id": sent.id,
            "purpose": sent.purpose,
            "queued": sent.queued,
            "excluded": sum(sent.excluded.values()),
        },
    )
    return GreetingResult(
        campaign_id=sent.id, purpose=sent.purpose, queued=sent.queued, excluded=sent.excluded
    )


def departure_holding(ctx: Context, staff_id: str) -> tuple[int, str] | None:
    """For the staff slice's disable screens (through the kernel registry): how many customers ``staff_id`` still
    owns and the wizard that hands them over — None when they own none or the actor may not move them."""
    from mamori.kernel.policy import decide

    if not decide(
        ctx, CUSTOMER_REASSIGN, Resource(kind="customer", subject_id="*", owner_id=staff_id)
    ).allowed:
        return None
    count = ownership.owned_counts(ctx, [staff_id]).get(staff_id, 0)
    return (count, f"/handovers/new?from={staff_id}") if count else None
