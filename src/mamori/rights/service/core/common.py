"""Shared pieces of the rights use cases: loading a request, its events and its view."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import update

from mamori.kernel.auditing import record_write
from mamori.kernel.clock import today_jst
from mamori.kernel.context import Context
from mamori.kernel.errors import MamoriError, NotFound
from mamori.law import requests as deadlines
from mamori.rights import queries
from mamori.rights.models import RightsEvent, RightsIdentifier, RightsRequest
from mamori.rights.schemas import (
    EventView,
    IdentifierView,
    RequestView,
    rule_for,
)
from mamori.rights.service.sealing import destroy_request_keys

CODE_TTL = timedelta(minutes=15)
CODE_MAX_ATTEMPTS = 5
_LEGAL_REP_DOCS = frozenset({"family_register", "guardianship_registry"})
_MANDATE_DOCS = frozenset({"power_of_attorney", "seal_certificate"})


class TooManyAttempts(MamoriError):
    code = "too_many_attempts"
    http_status = 429


def _not_found() -> NotFound:
    # The same answer for "no such request" and "wrong token": a request id alone reveals nothing.
    return NotFound("請求が見つかりません。", "Request not found.", code="request_not_found")


# -- loading, events, views -----------------------------------------------------------------------------------


def _load(ctx: Context, request_id: str) -> RightsRequest:
    """The request by its id, or by its 受付番号 (R-2026-000123) as staff read it from a letter."""
    if re.fullmatch(r"R-\d{4}-\d{6}", request_id):
        row = ctx.session.execute(queries.request_by_receipt(request_id)).scalar_one_or_none()
    else:
        row = ctx.session.execute(queries.request(request_id)).scalar_one_or_none()
    if row is None:
        raise _not_found()
    return row


def subject_ids(ctx: Context, request_id: str) -> list[str]:
    return list(ctx.session.execute(queries.subjects(request_id)).scalars())


def _identifiers(ctx: Context, request_id: str) -> list[RightsIdentifier]:
    return list(ctx.session.execute(queries.identifiers(request_id)).scalars())


def event(
    ctx: Context,
    req: RightsRequest,
    name: str,
    rule_ids: Sequence[str] = (),
    subjects: Sequence[str] | None = None,
    **details: str | int | bool | None,
) -> None:
    """Append one line to the handling log and the audit chain (ids, counts, codes only — never a value)."""
    ctx.session.add(
        RightsEvent(
            request_id=req.id,
            event=name,
            actor=ctx.actor.label,
            at=ctx.clock.now(),
            rule_ids=",".join(rule_ids),
            details=json.dumps(details, ensure_ascii=False, sort_keys=True),
        )
    )
    ctx.session.flush()
    who = subjects if subjects is not None else subject_ids(ctx, req.id)
    record_write(
        ctx, f"rights.{name}", who, [], rule_ids=tuple(rule_ids), details={"request_id": req.id, **details}
    )


def view(ctx: Context, req: RightsRequest, *, with_events: bool = True) -> RequestView:
    today = today_jst(ctx.clock)
    due = req.extended_due_on or req.due_on
    idents = _identifiers(ctx, req.id)
    events = (
        [
            EventView(
                seq=e.seq,
                event=e.event,
                actor=e.actor,
                at=e.at,
                rule_ids=[r for r in e.rule_ids.split(",") if r],
                details=json.loads(e.details or "{}"),
            )
            for e in ctx.session.execute(queries.events(req.id)).scalars()
        ]
        if with_events
        else []
    )
    return RequestView(
        receipt_no=req.receipt_no,
        id=req.id,
        kind=req.kind,
        regime=req.regime,
        channel=req.channel,
        status=req.status,
        outcome=req.outcome,
        answer_state=req.answer_state,
        received_at=req.received_at,
        due_on=req.due_on,
        extended_due_on=req.extended_due_on,
        effective_due_on=due,
        overdue=req.status != "closed" and deadlines.is_overdue(due, today),
        days_left=deadlines.days_left(due, today),
        agent_kind=req.agent_kind,
        agent_document=req.agent_document,
        categories=req.categories.split(",") if req.categories else None,
        purpose=req.purpose,
        stop_scope=req.stop_scope,
        fee_yen=req.fee_yen,
        refusal_ground=req.refusal_ground,
        withheld_count=req.withheld_count,
        subject_ids=subject_ids(ctx, req.id),
        identifiers=[
            IdentifierView(
                id=i.id,
                kind=i.kind,
                verified=i.verified_at is not None,
                method=i.method,
                document=i.document,
                checked_by=i.checked_by,
            )
            for i in idents
        ],
        events=events,
        rule_id=rule_for(req.kind, req.regime),
    )


def close(ctx: Context, req: RightsRequest, outcome: str, *, at: datetime | None = None) -> None:
    """Close the request (answered: the answer delivered or posted, ``at`` that time), drop every claimed value it
    still holds (only keyed hashes remain) and the sealed answer, and destroy the request's key, so no copy of
    those values (a backup, an old WAL page) can be opened any more."""
    req.status = "closed"
    req.outcome = outcome
    req.closed_at = at or ctx.clock.now()
    req.answer_enc = None
    ctx.session.execute(
        update(RightsIdentifier)
        .where(RightsIdentifier.request_id == req.id)
        .values(value_enc=None, code_hash=None, code_expires_at=None)
    )
    ctx.session.flush()
    destroy_request_keys(ctx, [req.id])


# -- intake -----------------------------------------------------------------------------------------------------
