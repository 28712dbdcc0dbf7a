"""Many people decided at once for one purpose (issue 20's contact lists, issue 24's analyses): the loop both share.

Given the candidates' row-scope facts and the version of the purpose notified to each (one statement of
``queries.contact_candidates``: no personal value read), the purpose-state providers' ledger lines (consent,
stop-use, channels) are fetched for the notified live people only, STATE_CHUNK ids per statement, and the policy
engine is asked once per distinct set of facts — owner, team, notified version, ledger state, GDPR origin, and the
person's id too under an outsourcee's grant (its contract names its customers) — since ``decide`` is pure.

This module neither decrypts nor audits: its callers (:mod:`~mamori.customers.service.contactable`,
:mod:`~mamori.customers.service.analysable`) do, knowing what they read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from mamori.customers.service.core.common import GDPR_ORIGINS
from mamori.kernel import registry
from mamori.kernel.context import Context
from mamori.kernel.policy import Action, Category, Decision, PurposeFacts, Resource, decide
from mamori.kernel.registry import AccessGrant, PurposeState
from mamori.purposes import service as purposes_service

STATE_CHUNK = 5000  # ids per ledger statement (below SQLite's 32,766 bound parameters, PostgreSQL's 65,535)


def ledger_states(ctx: Context, subject_ids: Sequence[str], purpose: str) -> dict[str, PurposeState]:
    """Every purpose-state provider's ledger lines for these people, STATE_CHUNK ids per statement, folded."""
    if not subject_ids:
        return {}
    statements = registry.purpose_state_statements()
    per_provider: list[list[registry.StateRow]] = []
    for stmt in statements:
        lines: list[registry.StateRow] = []
        for start in range(0, len(subject_ids), STATE_CHUNK):
            params = {"subject_ids": list(subject_ids[start : start + STATE_CHUNK]), "purpose": purpose}
            lines.extend((a, b, c, d, int(e)) for a, b, c, d, e in ctx.session.execute(stmt, params).all())
        per_provider.append(lines)
    # Folded for the people with a ledger line only: a person without one has the empty state whatever the
    # provider (the fold of no lines), and most people have none — folding every id would cost more than the query.
    with_lines = sorted({line[0] for lines in per_provider for line in lines})
    empty = PurposeState()
    return {
        sid: state
        for sid, state in registry.purpose_states_from_rows(per_provider, with_lines, purpose).items()
        if state != empty
    }


def decide_rows(
    ctx: Context,
    action: Action,
    purpose: str,
    rows: Sequence[Any],
    *,
    fields: Mapping[str, Category],
    grant: AccessGrant | None,
    channel: str | None = None,
    field_channels: Mapping[str, tuple[str, ...]] | None = None,
) -> Iterator[tuple[str, str | None, Decision | None]]:
    """For each candidate row ``(id, owner, team, origin, erased_at, notified version)``, in order: the person's
    id, owner, and the policy's decision on them for ``action`` under ``purpose`` (reading ``fields``, on
    ``channel`` when given) — None for a person erased, who is not asked about."""
    notified = [r[0] for r in rows if r[4] is None and r[5] is not None]
    states = ledger_states(ctx, notified, purpose)
    per_version: dict[int | None, PurposeFacts | None] = {}
    decisions: dict[tuple[object, ...], Decision] = {}
    empty = PurposeState()
    per_person = grant is not None
    extra: dict[str, Any] = {}
    if channel is not None:
        extra["channel"] = channel
    if field_channels is not None:
        extra["field_channels"] = field_channels
    for cid, owner, team, origin, erased_at, version in rows:
        if erased_at is not None:
            yield cid, owner, None
            continue
        state = states.get(cid)  # None: no ledger line (most people; nothing to hash)
        gdpr = origin in GDPR_ORIGINS
        key = (owner, team, version, state, gdpr, cid if per_person else None)
        decision = decisions.get(key)
        if decision is None:
            if version not in per_version:
                per_version[version] = purposes_service.facts_for_version(ctx, purpose, version)
            decision = decide(
                ctx,
                action,
                Resource(
                    kind="customer",
                    subject_id=cid,
                    owner_id=owner,
                    team=team,
                    purpose=per_version[version],
                    notified_purposes=frozenset({purpose}) if version is not None else frozenset(),
                    state=state or empty,
                    gdpr=gdpr,
                    fields=dict(fields),
                    grant=grant,
                    **extra,
                ),
            )
            decisions[key] = decision
        yield cid, owner, decision
