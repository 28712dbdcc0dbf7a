"""What an analysis may read, person by person (issue 24): the customers slice decides, because it owns the data
and the policy facts; the analytics slice asks it.

For ``ctx.purpose`` (which the analytics slice has checked states profiling, R-17-1) every live customer of the
actor's row scope is decided by the policy engine exactly as a contact list decides them
(:mod:`mamori.customers.service.contactable`, through
:mod:`mamori.customers.service.decide_many`): notified of the purpose (R-18-1, R-21-1), not stopped (R-35-1),
consenting where the purpose or the GDPR needs it (R-CNS-1, G-6) — once per distinct set of facts. Only the people
allowed are decrypted, and only the fields an analysis uses: birth date and gender (ATTRIBUTE) and the activities'
kind, time and amount (BEHAVIOUR) — never a name, a contact point or the text of a note. A field outside the
purpose's categories comes back masked (``None``), and the analysis is told which.

This module does not audit: its caller (``mamori.analytics.service``) records the run with the ids read and the
counts of the people left out by reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mamori.customers import queries
from mamori.customers.schemas import FIELD_CATEGORIES
from mamori.customers.service.contactable import ERASED, _open
from mamori.customers.service.core.common import _grant
from mamori.customers.service.decide_many import decide_rows
from mamori.kernel.context import Context
from mamori.kernel.policy import Action, Decision, PurposeFacts, Scope, row_scope
from mamori.purposes import service as purposes_service

ANALYSIS_FIELDS = ("birth_date", "gender")  # the scalar fields an analysis may use (ATTRIBUTE)
VALUE_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class AnalysablePerson:
    customer_id: str
    birth_date: str | None  # ISO date, None when masked or unknown
    gender: str | None


@dataclass(frozen=True, slots=True)
class AnalysableActivity:
    customer_id: str
    kind: str
    occurred_at: datetime
    amount: int | None


@dataclass(frozen=True)
class AnalysableResult:
    people: list[AnalysablePerson]
    activities: list[AnalysableActivity]
    considered: int
    excluded: dict[str, int]  # people left out, by the policy's decision code (or "erased")
    masked: frozenset[str]  # fields masked for at least one person allowed
    facts: PurposeFacts
    purpose_version: int
    rule_ids: tuple[str, ...] = field(default=())


def analysable(ctx: Context, action: Action, facts: PurposeFacts) -> AnalysableResult:
    """Decide every live customer of the actor's row scope for ``action`` under ``ctx.purpose`` and give the allowed
    people's analysis fields and activities (see the module docstring)."""
    purpose = facts.code
    scope = row_scope(ctx, action)
    grant = _grant(ctx) if scope == Scope.GRANT else None
    only = grant.customer_ids if grant else None
    conn = ctx.session.connection()
    rows: list[Any] = list(
        conn.execute(queries.contact_candidates(ctx, scope, purpose=purpose, only=only)).all()
    )
    fields = {f: FIELD_CATEGORIES[f] for f in (*ANALYSIS_FIELDS, "activities")}
    excluded: Counter[str] = Counter()
    allowed: list[tuple[str, Decision]] = []
    for cid, _owner, decision in decide_rows(ctx, action, purpose, rows, fields=fields, grant=grant):
        if decision is None:
            excluded[ERASED] += 1
        elif decision.allowed:
            allowed.append((cid, decision))
        else:
            excluded[decision.code] += 1
    people, activities, masked = _read(ctx, scope, only, allowed)
    version_now = purposes_service.current_versions(ctx, [purpose]).get(purpose, (facts.version, False))[0]
    return AnalysableResult(
        people=people,
        activities=activities,
        considered=len(rows),
        excluded=dict(sorted(excluded.items())),
        masked=masked,
        facts=facts,
        purpose_version=version_now,
    )


def _read(
    ctx: Context, scope: Scope, only: frozenset[str] | None, allowed: Sequence[tuple[str, Decision]]
) -> tuple[list[AnalysablePerson], list[AnalysableActivity], frozenset[str]]:
    """Decrypt the analysis fields and activity amounts of the people allowed, honouring each decision's masks."""
    if not allowed:
        return [], [], frozenset()
    conn = ctx.session.connection()
    wanted = {cid for cid, _ in allowed}
    blobs: dict[str, Sequence[bytes | None]] = {}
    for row in conn.execute(queries.contact_values(ctx, scope, ANALYSIS_FIELDS, only=only)).all():
        if row[0] in wanted:
            blobs[row[0]] = row[1:]
    acts: dict[str, list[tuple[str, str, datetime, bytes | None]]] = {}
    for cid, aid, kind, occurred_at, amount in conn.execute(
        queries.analysis_activities(ctx, scope, only=only)
    ).all():
        if cid in wanted:
            acts.setdefault(cid, []).append((aid, kind, occurred_at, amount))
    people: list[AnalysablePerson] = []
    activities: list[AnalysableActivity] = []
    masked_any: set[str] = set()
    for start in range(0, len(allowed), VALUE_CHUNK):
        batch = allowed[start : start + VALUE_CHUNK]
        keys = ctx.runtime.cipher.keystore.aeads([cid for cid, _ in batch], skip_missing=True)
        for cid, decision in batch:
            aead = keys.get(cid)
            sealed = blobs.get(cid)
            if aead is None or sealed is None:  # erased since the candidates were read
                continue
            masked = decision.masked_fields
            masked_any |= masked & {*ANALYSIS_FIELDS, "activities"}
            values: dict[str, str | None] = dict.fromkeys(ANALYSIS_FIELDS)
            for f, blob in zip(ANALYSIS_FIELDS, sealed, strict=True):
                if blob is not None and f not in masked:
                    values[f] = _open(aead, "customers", f, cid, blob)
            people.append(AnalysablePerson(cid, values["birth_date"], values["gender"]))
            if "activities" in masked:
                continue
            for aid, kind, occurred_at, blob in acts.get(cid, ()):
                amount = None
                if blob is not None:
                    text = _open(aead, "activities", "amount", aid, blob)
                    amount = int(text) if text else None
                activities.append(AnalysableActivity(cid, kind, occurred_at, amount))
    return people, activities, frozenset(masked_any)
