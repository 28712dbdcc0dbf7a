"""Helpers of the notice tests (issue 22, R-26-6 / G-34): people in scope written directly (IncidentScope +
IncidentSubject rows, independent of the scope helper), the file outbox. Synthetic data only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mamori.incidents.models import IncidentScope, IncidentSubject
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.db import new_id
from mamori.kernel.runtime import Runtime
from tests.factories import make_customer

A_EMAIL = "notice.a@example.jp"
B_EMAIL = "notice.b@example.jp"
EU_EMAIL = "notice.eu@example.de"


def put_in_scope(
    runtime: Runtime, incident_id: str, people: dict[str, dict[str, Any]], *, method: str = "ids"
) -> str:
    """One scope row and a subject row per person: ``{customer_id: {"fields": [...], "categories": [...],
    "sensitive": bool, "financial": bool, "origin": "JP"}}``."""
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        scope = IncidentScope(
            id=new_id(),
            incident_id=incident_id,
            method=method,
            params=json.dumps({"ids": sorted(people)}),
            persons=len(people),
            maximum=None,
            items=json.dumps({}),
            created_at=ctx.clock.now(),
            created_by="test",
        )
        ctx.session.add(scope)
        ctx.session.flush()
        for cid, spec in people.items():
            ctx.session.add(
                IncidentSubject(
                    incident_id=incident_id,
                    customer_id=cid,
                    scope_id=scope.id,
                    fields=json.dumps(spec.get("fields", ["name", "emails"])),
                    categories=json.dumps(spec.get("categories", ["identifier", "contact"])),
                    sensitive=bool(spec.get("sensitive", False)),
                    financial=bool(spec.get("financial", False)),
                    origin=str(spec.get("origin", "JP")),
                )
            )
        return scope.id


def people(runtime: Runtime, actor) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Four people: a with e-mail, b with e-mail, post (a postal address only), none (no e-mail, no address),
    eu (EU origin, e-mail)."""
    return {
        "a": make_customer(runtime, actor, name="通知 一郎", email=A_EMAIL, phone="090-1111-0001"),
        "b": make_customer(runtime, actor, name="通知 二郎", email=B_EMAIL, phone="090-1111-0002"),
        "post": make_customer(runtime, actor, name="郵送 三郎", email=None, phone="090-1111-0003"),
        "none": make_customer(runtime, actor, name="連絡 不可", email=None, phone=None, address=None),
        "eu": make_customer(runtime, actor, name="Anna Schmidt", kana=None, email=EU_EMAIL, origin="DE"),
    }


def outbox(runtime: Runtime) -> list[dict[str, Any]]:
    d = Path(runtime.settings.home_path) / "outbox"
    if not d.exists():
        return []
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(d.glob("*.json"))]


def to(runtime: Runtime, address: str) -> list[dict[str, Any]]:
    return [m for m in outbox(runtime) if m["to"] == address]
