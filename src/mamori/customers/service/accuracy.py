"""Accuracy of customers' data (issue 21, R-22-1: 正確性の確保): the last date each record was confirmed with the
person, a confirmation, and the records due for one.

- :func:`confirm` — the staff member confirmed the data with the person: ``confirmed_at`` becomes now. It is
  authorised as a customer update (``customer.update``: a sales rep their own customers, support and the privacy
  officer all) for the declared purpose, which must have been notified to the person like any update, and audited
  ``customer.confirm`` with rule R-22-1. No value changes (the record's version stays).
- :func:`unconfirmed` / :func:`count_unconfirmed` — live customers not confirmed within ``older_than_days``
  (never confirmed first, then the oldest): ids, owner and date only. Listed for whoever may confirm them: the row
  scope of ``customer.update`` (a sales rep sees only their own customers); a role without it is refused (R-23-2).
  No value is read, so no purpose is needed; the listing is audited with its counts.

A new record is confirmed when it is created (``customer_rows`` sets ``confirmed_at``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, update

from mamori.customers import queries
from mamori.customers.models import Customer
from mamori.customers.schemas import (
    CONFIRMATION_PERIOD_DAYS,
    MAX_CONFIRMATION_DAYS,
    MAX_UNCONFIRMED_LIMIT,
    ConfirmationRead,
    DueForConfirmation,
)
from mamori.customers.service.core.common import _check, _load
from mamori.kernel.auditing import record_denial, record_read, record_write
from mamori.kernel.context import ActorKind, Context
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from mamori.kernel.policy import Action, Decision, Scope, row_scope
from mamori.law.rules import R_22_1, R_23_2
from mamori.staff import queries as staff_queries

CONFIRM = "customer.confirm"  # audit action of a confirmation
UNCONFIRMED = "customer.unconfirmed"  # audit action of the list of records due for confirmation


def confirm(ctx: Context, customer_id: str) -> ConfirmationRead:
    """Record that the data of ``customer_id`` was confirmed with the person now (R-22-1)."""
    row = _load(ctx, customer_id, Action.CUSTOMER_UPDATE)
    _check(ctx, Action.CUSTOMER_UPDATE, row, {})  # scope, purpose notified to the person, stop-use …
    previous = row.confirmed_at
    now = ctx.clock.now()
    row.confirmed_at = now
    ctx.session.flush()
    record_write(
        ctx,
        CONFIRM,
        [row.id],
        ["confirmed_at"],
        rule_ids=(R_22_1.id,),
        details={"first": previous is None},
    )
    return ConfirmationRead(customer_id=row.id, confirmed_at=now, previous_confirmed_at=previous)


def _period(older_than_days: int) -> int:
    if not 1 <= older_than_days <= MAX_CONFIRMATION_DAYS:
        raise ValidationFailed(
            f"確認の期間は1〜{MAX_CONFIRMATION_DAYS}日で指定してください。",
            f"The confirmation period must be 1-{MAX_CONFIRMATION_DAYS} days.",
            code="bad_period",
        )
    return older_than_days


def _confirmer_scope(ctx: Context) -> Scope:
    """The row scope of those who may confirm (``customer.update``); a role without it is refused (R-23-2)."""
    scope = row_scope(ctx, Action.CUSTOMER_UPDATE)
    if scope == Scope.NONE:
        decision = Decision(
            False,
            (R_23_2.id,),
            frozenset(),
            f"ロール「{ctx.actor.role.value}」には確認が必要な顧客の一覧を見る権限がありません。",
            f"Role '{ctx.actor.role.value}' may not list the customers due for confirmation.",
            "role_not_permitted",
        )
        record_denial(ctx, UNCONFIRMED, [], decision)
        decision.raise_if_denied()
    return scope


def cutoff(ctx: Context, older_than_days: int = CONFIRMATION_PERIOD_DAYS) -> datetime:
    """Confirmed before this instant (or never): due for confirmation."""
    return ctx.clock.now() - timedelta(days=_period(older_than_days))


def unconfirmed(
    ctx: Context, *, older_than_days: int = CONFIRMATION_PERIOD_DAYS, limit: int = 100
) -> list[DueForConfirmation]:
    """The live customers of the actor's scope not confirmed within ``older_than_days`` (R-22-1), never confirmed
    first, then the oldest; at most ``limit``. Ids, owner and date only."""
    if not 1 <= limit <= MAX_UNCONFIRMED_LIMIT:
        raise ValidationFailed(
            f"件数は1〜{MAX_UNCONFIRMED_LIMIT}で指定してください。",
            f"The limit must be 1-{MAX_UNCONFIRMED_LIMIT}.",
            code="bad_limit",
        )
    before = cutoff(ctx, older_than_days)
    scope = _confirmer_scope(ctx)
    rows = ctx.session.execute(queries.unconfirmed(ctx, scope, before=before, limit=limit)).all()
    owners = {str(o) for _, o, _ in rows if o}
    names = {
        u.id: u.username for u in ctx.session.execute(staff_queries.all_staff()).scalars() if u.id in owners
    }
    out = [
        DueForConfirmation(customer_id=cid, owner_id=owner, owner=names.get(owner or ""), confirmed_at=at)
        for cid, owner, at in rows
    ]
    record_read(
        ctx,
        UNCONFIRMED,
        [],
        ["confirmed_at"],
        rule_ids=(R_22_1.id,),
        details={"count": len(out), "days": older_than_days},
    )
    return out


def count_unconfirmed(ctx: Context, *, older_than_days: int = CONFIRMATION_PERIOD_DAYS) -> int:
    """How many live customers of the actor's scope are due for confirmation (see :func:`unconfirmed`)."""
    before = cutoff(ctx, older_than_days)
    scope = _confirmer_scope(ctx)
    return int(ctx.session.execute(queries.unconfirmed_count(ctx, scope, before=before)).scalar_one())


def backdate_confirmations(ctx: Context, dates: Callable[[int], Sequence[datetime]]) -> dict[str, datetime]:
    """The demo's confirmation dates (``mamori demo``; the system only): every live customer gets one of ``dates(n)``
    in id order. Dates only; no value is read. Audited as one ``customer.confirm`` entry with the count."""
    if ctx.actor.kind != ActorKind.SYSTEM:
        raise PolicyDenied(
            "確認日の一括設定はデモ作成（システム）だけが行えます。",
            "Only the demo generator (the system) sets confirmation dates in bulk.",
            rule_id=R_23_2.id,
            code="system_only",
        )
    ids = list(ctx.session.execute(queries.live_customer_ids()).scalars())
    chosen = dict(zip(ids, dates(len(ids)), strict=True))
    if chosen:
        stmt = (
            update(Customer)
            .where(Customer.id == bindparam("cid"))
            .values(confirmed_at=bindparam("at"))
            .execution_options(synchronize_session=False)
        )
        ctx.session.connection().execute(stmt, [{"cid": c, "at": at} for c, at in chosen.items()])
    record_write(ctx, CONFIRM, [], ["confirmed_at"], rule_ids=(R_22_1.id,), details={"demo": len(chosen)})
    return chosen
