"""Legal holds (訴訟・調査等による保全, issue 21): the privacy officer stops the disposal of one person's data.

A hold names a reason code (litigation / investigation / regulator / other) and an optional note (the officer's
reference, e.g. a case number — not a value of the person). While it is not released, a retention run leaves
the person untouched (whole person and categories alike) and the plan counts them under ``legal_hold``.
Setting and releasing are audited with the person's id and the reason code only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select

from mamori.customers.service import subjects as customer_subjects
from mamori.kernel.auditing import authorise, record_read, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import chunks, new_id
from mamori.kernel.errors import Conflict, NotFound
from mamori.kernel.policy import Resource
from mamori.kernel.registry import Hold
from mamori.lifecycle.models import LegalHold
from mamori.lifecycle.permissions import RETENTION_HOLD
from mamori.lifecycle.retention_schemas import HoldCreate, HoldRead

CODE = "legal_hold"
RULE = "R-22-1"  # the duty to erase data no longer needed yields to a duty to keep it (litigation, regulator)


def _read(row: LegalHold) -> HoldRead:
    return HoldRead(
        id=row.id,
        customer_id=row.customer_id,
        reason=row.reason_code,
        note=row.note,
        set_at=row.set_at,
        set_by=row.set_by,
        released_at=row.released_at,
        released_by=row.released_by,
    )


def set(ctx: Context, customer_id: str, reason_code: str, note: str | None = None) -> HoldRead:  # noqa: A001
    """Put a legal hold on a (live) customer; one open hold per person and reason."""
    data = HoldCreate.model_validate({"customer_id": customer_id, "reason": reason_code, "note": note})
    authorise(ctx, RETENTION_HOLD, Resource(kind="legal_hold"), [data.customer_id])
    if not customer_subjects.existing(ctx, [data.customer_id]):
        raise NotFound("顧客が見つかりません。", "Customer not found.", code="customer_not_found")
    dup = ctx.session.execute(
        select(LegalHold.id).where(
            LegalHold.customer_id == data.customer_id,
            LegalHold.reason_code == data.reason,
            LegalHold.released_at.is_(None),
        )
    ).first()
    if dup is not None:
        raise Conflict(
            "この顧客には同じ理由の保全が既に設定されています。",
            "This customer already has an open hold for this reason.",
            code="hold_exists",
            details={"hold_id": str(dup[0])},
        )
    row = LegalHold(
        id=new_id(),
        customer_id=data.customer_id,
        reason_code=data.reason,
        note=data.note,
        set_at=ctx.clock.now(),
        set_by=ctx.actor.label,
    )
    ctx.session.add(row)
    ctx.session.flush()
    record_write(
        ctx,
        "retention.hold_set",
        [data.customer_id],
        [],
        rule_ids=(RULE,),
        details={"hold_id": row.id, "reason": data.reason},
    )
    return _read(row)


def release(ctx: Context, hold_id: str) -> HoldRead:
    authorise(ctx, RETENTION_HOLD, Resource(kind="legal_hold"))
    row = ctx.session.get(LegalHold, hold_id) if isinstance(hold_id, str) and len(hold_id) <= 32 else None
    if row is None:
        raise NotFound("保全が見つかりません。", "No such hold.", code="hold_not_found")
    if row.released_at is not None:
        raise Conflict("この保全は解除済みです。", "This hold was already released.", code="hold_released")
    row.released_at = ctx.clock.now()
    row.released_by = ctx.actor.label
    ctx.session.flush()
    record_write(
        ctx,
        "retention.hold_release",
        [row.customer_id],
        [],
        rule_ids=(RULE,),
        details={"hold_id": row.id, "reason": row.reason_code},
    )
    return _read(row)


def list_holds(ctx: Context, *, include_released: bool = False) -> list[HoldRead]:
    authorise(ctx, RETENTION_HOLD, Resource(kind="legal_hold"))
    stmt = select(LegalHold).order_by(LegalHold.set_at, LegalHold.id)
    if not include_released:
        stmt = stmt.where(LegalHold.released_at.is_(None))
    rows = [_read(r) for r in ctx.session.execute(stmt).scalars()]
    record_read(ctx, "retention.hold_list", [r.customer_id for r in rows], [], details={"holds": len(rows)})
    return rows


def held(ctx: Context, subject_ids: Sequence[str]) -> Mapping[str, Hold]:
    """The persons among ``subject_ids`` under an open legal hold (no authorisation: the plan's caller did)."""
    out: dict[str, Hold] = {}
    for chunk in chunks(list(dict.fromkeys(subject_ids))):
        for (cid,) in ctx.session.execute(
            select(LegalHold.customer_id).where(
                LegalHold.customer_id.in_(list(chunk)), LegalHold.released_at.is_(None)
            )
        ).all():
            out[str(cid)] = Hold(CODE, RULE)
    return out
