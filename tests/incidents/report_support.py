"""Helpers of the PPC report tests (issue 22, R-26-4 / R-26-5): an incident with a scope set up as rows (two people
found by the audit log, one with a card number; an estimate of at most 1,500), a containment step, a substitute
measure and notices. Synthetic data only; the rows are what the scope, notices and containment helpers write."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from mamori.incidents.models import (
    Incident,
    IncidentMeasure,
    IncidentNotice,
    IncidentScope,
    IncidentSubject,
)
from mamori.inventory.models import DataItem
from mamori.kernel.context import SYSTEM_ACTOR, Actor
from mamori.kernel.db import new_id
from mamori.kernel.runtime import Runtime
from tests.incidents.support import make_customer, new_incident, seed_basics

AT = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


def set_fields(rt: Runtime, incident_id: str, **fields: Any) -> None:
    """Change register columns directly (the register helper's update is another part)."""
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        row = ctx.session.get(Incident, incident_id)
        assert row is not None
        for name, value in fields.items():
            setattr(row, name, value)


def add_scope(
    rt: Runtime,
    incident_id: str,
    people: dict[str, list[str]],
    *,
    financial: set[str] = frozenset(),  # type: ignore[assignment]
    maximum: int | None = None,
) -> str:
    """One audit-log scope finding ``people`` (customer id -> field names), and optionally an estimate."""
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        scope_id = new_id()
        items: dict[str, int] = {}
        for fields in people.values():
            for f in fields:
                items[f] = items.get(f, 0) + 1
        ctx.session.add(
            IncidentScope(
                id=scope_id,
                incident_id=incident_id,
                method="audit",
                params=json.dumps({"session": "s1"}),
                persons=len(people),
                maximum=None,
                items=json.dumps(items),
                created_at=AT,
                created_by="po",
            )
        )
        ctx.session.flush()
        for cid, fields in people.items():
            cats = sorted({"financial" if f in financial else _cat(f) for f in fields})
            ctx.session.add(
                IncidentSubject(
                    incident_id=incident_id,
                    customer_id=cid,
                    scope_id=scope_id,
                    fields=json.dumps(sorted(fields)),
                    categories=json.dumps(cats),
                    sensitive=False,
                    financial=bool(set(fields) & financial),
                    origin="JP",
                )
            )
        if maximum is not None:
            ctx.session.add(
                IncidentScope(
                    id=new_id(),
                    incident_id=incident_id,
                    method="estimate",
                    params=json.dumps({"maximum": maximum}),
                    persons=0,
                    maximum=maximum,
                    items=json.dumps({"emails": maximum}),
                    created_at=AT,
                    created_by="po",
                )
            )
    return scope_id


def _cat(field: str) -> str:
    return {"name": "identifier", "kana": "identifier", "emails": "contact", "phones": "contact"}.get(
        field, "attribute"
    )


def tag_financial(rt: Runtime, key: str) -> None:
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.add(
            DataItem(key=key, appi_category="attribute", financial=True, updated_at=AT, updated_by="po")
        )


def add_measure(
    rt: Runtime, incident_id: str, kind: str, *, target: str | None = None, note: str | None = None
) -> str:
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        mid = new_id()
        ctx.session.add(
            IncidentMeasure(
                id=mid,
                incident_id=incident_id,
                kind=kind,
                target=target,
                note=note,
                result="{}",
                at=AT,
                by="po",
            )
        )
    return mid


def add_notice(rt: Runtime, incident_id: str, customer_id: str, status: str, channel: str = "email") -> None:
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.add(
            IncidentNotice(
                id=new_id(),
                incident_id=incident_id,
                customer_id=customer_id,
                channel=channel,
                status=status,
                at=AT,
                by="po",
            )
        )


def actors_of(rt: Runtime, names: list[str]) -> dict[str, Actor]:
    """The actors of staff already there (e.g. made by tests.api.conftest.Api)."""
    from mamori.staff import service as staff_service

    with rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return {n: staff_service.actor_for(ctx, n) for n in names}


def story(rt: Runtime, actors: dict[str, Actor] | None = None) -> dict[str, Any]:
    """Staff (seeded unless given), two customers, a misconfiguration incident with both in scope (one with a card
    number)."""
    actors = actors or seed_basics(rt)
    a = make_customer(rt, actors["sato"], name="試験 一郎", email="ichiro@example.jp")
    b = make_customer(rt, actors["sato"], name="試験 二郎", email="jiro@example.jp")
    inc = new_incident(rt, actors["sato"], cause="misconfiguration", title="設定誤りによる顧客一覧の公開")
    tag_financial(rt, "attr:card_number")
    add_scope(
        rt,
        inc.id,
        {a: ["name", "emails", "attr:card_number"], b: ["name", "emails"]},
        financial={"attr:card_number"},
    )
    return {"actors": actors, "incident": inc, "customers": [a, b]}
