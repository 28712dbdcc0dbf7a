"""Helpers of the alert-handling tests (issue 25 "Deliver" 2). The evaluation that creates alerts is tested on its
own (test_signals*.py); these tests write the alert rows themselves, naming audit entries that real services or
``rt.audit.append`` wrote. Synthetic data only."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from mamori.customers import service as customers_service
from mamori.kernel.audit import StoredEntry
from mamori.kernel.clock import JST
from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.db import new_id
from mamori.kernel.runtime import Runtime
from mamori.monitoring.models import NEW, MonitoringAlert, MonitoringAlertEvent

DAY = date(2026, 11, 20)
FIRST = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)  # 20:00 JST


def insert_alert(
    rt: Runtime,
    actor: str,
    *,
    signal: str = "read_volume",
    severity: str = "high",
    role: str = "sales",
    seqs: list[int] | None = None,
    first_at: datetime = FIRST,
    last_at: datetime | None = None,
    observed: float = 400,
    threshold: float = 3,
    baseline: float | None = 12,
    status: str = NEW,
    detail: dict[str, object] | None = None,
) -> str:
    """One alert row as the evaluation writes it (with its ``raised`` event); returns its id. Numbers follow on."""
    seqs = list(seqs or [])
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        number = int(
            ctx.session.execute(select(func.coalesce(func.max(MonitoringAlert.number), 0))).scalar_one()
        )
        alert_id = new_id()
        ctx.session.add(
            MonitoringAlert(
                id=alert_id,
                number=number + 1,
                fingerprint=f"{signal}|{actor}|{DAY.isoformat()}|{number + 1}",
                signal=signal,
                severity=severity,
                actor=actor,
                actor_role=role,
                day=first_at.astimezone(JST).date(),
                first_at=first_at,
                last_at=last_at or first_at + timedelta(hours=1),
                observed=observed,
                threshold=threshold,
                baseline=baseline,
                baseline_kind="person" if baseline is not None else None,
                entries_total=len(seqs),
                entry_seqs=json.dumps(seqs),
                detail=json.dumps(detail or {"people": int(observed)}),
                status=status,
                created_at=first_at,
                updated_at=first_at,
            )
        )
        ctx.session.flush()
        ctx.session.add(
            MonitoringAlertEvent(alert_id=alert_id, at=first_at, by="system:system", action="raised")
        )
    return alert_id


def read_customer(rt: Runtime, who: Actor, customer_id: str, purpose: str = "contract") -> None:
    """``who`` opens a customer's record through the customers service (audited ``customer.read``)."""
    with rt.transaction(who, purpose) as ctx:
        customers_service.get(ctx, customer_id)


def entries_of(rt: Runtime, actor: Actor, action: str, n: int = 200) -> list[StoredEntry]:
    """The newest audit entries of ``actor`` for ``action``, oldest first."""
    return [e for e in rt.audit.tail(n) if e.actor == actor.label and e.action == action]


def alert_row(rt: Runtime, alert_id: str) -> MonitoringAlert:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        row = ctx.session.get(MonitoringAlert, alert_id)
        assert row is not None
        ctx.session.expunge(row)
        return row


def events_of(rt: Runtime, alert_id: str) -> list[tuple[str, str | None]]:
    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        rows = ctx.session.execute(
            select(MonitoringAlertEvent)
            .where(MonitoringAlertEvent.alert_id == alert_id)
            .order_by(MonitoringAlertEvent.id)
        ).scalars()
        return [(e.action, e.detail) for e in rows]
