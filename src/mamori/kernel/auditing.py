"""What services call to audit: reads and denials now (own connection), writes in the transaction (outbox).

Entries hold ids, field names, purpose codes and rule ids — never a personal value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from mamori.kernel.audit import AuditEntry, StoredEntry
from mamori.kernel.context import Context
from mamori.kernel.outbox import OUTBOX_PENDING, AuditOutbox
from mamori.kernel.policy import Action, Decision, Resource, decide


def _entry(
    ctx: Context,
    action: str,
    subject_ids: Iterable[str],
    fields: Iterable[str],
    decision: str,
    rule_ids: Sequence[str] = (),
    reason: str | None = None,
    details: dict[str, str | int | bool | None] | None = None,
) -> AuditEntry:
    return AuditEntry(
        actor=ctx.actor.label,
        actor_role=ctx.actor.role.value,
        action=action,
        purpose=ctx.purpose,
        subject_ids=tuple(subject_ids),
        fields=tuple(sorted(set(fields))),
        decision=decision,
        rule_ids=tuple(rule_ids),
        reason=reason,
        details=details or {},
        at=ctx.clock.now(),
    )


def record_read(
    ctx: Context,
    action: Action | str,
    subject_ids: Iterable[str],
    fields: Iterable[str],
    *,
    masked: Iterable[str] = (),
    rule_ids: Sequence[str] = (),
) -> None:
    masked_list = sorted(set(masked))
    ctx.runtime.audit.append(
        [
            _entry(
                ctx,
                str(action),
                subject_ids,
                fields,
                "allow",
                rule_ids,
                details={"masked": ",".join(masked_list)} if masked_list else None,
            )
        ]
    )


def record_denial(ctx: Context, action: Action | str, subject_ids: Iterable[str], decision: Decision) -> None:
    ctx.runtime.audit.append(
        [_entry(ctx, str(action), subject_ids, (), "deny", decision.rule_ids, reason=decision.code)]
    )


def record_info(
    ctx: Context,
    action: str,
    subject_ids: Iterable[str] = (),
    details: dict[str, str | int | bool | None] | None = None,
) -> None:
    ctx.runtime.audit.append([_entry(ctx, action, subject_ids, (), "info", details=details)])


def record_write(
    ctx: Context,
    action: Action | str,
    subject_ids: Iterable[str],
    fields: Iterable[str],
    *,
    rule_ids: Sequence[str] = (),
    details: dict[str, str | int | bool | None] | None = None,
) -> None:
    """Queue a write entry in the business transaction; it reaches the chain only if the transaction commits."""
    e = _entry(ctx, str(action), subject_ids, fields, "allow", rule_ids, details=details)
    payload = {
        "actor": e.actor,
        "actor_role": e.actor_role,
        "action": e.action,
        "purpose": e.purpose,
        "subject_ids": list(e.subject_ids),
        "fields": list(e.fields),
        "decision": e.decision,
        "rule_ids": list(e.rule_ids),
        "reason": e.reason,
        "details": dict(e.details),
        "at": e.at.isoformat() if e.at else None,
    }
    ctx.session.add(AuditOutbox(payload=json.dumps(payload, ensure_ascii=False), created_at=ctx.clock.now()))
    ctx.memo[OUTBOX_PENDING] = True


def authorise(ctx: Context, action: Action, resource: Resource, subject_ids: Iterable[str] = ()) -> Decision:
    """Decide; on denial audit it (own connection, survives the rollback) and raise PolicyDenied with the rule."""
    decision = decide(ctx, action, resource)
    if not decision.allowed:
        record_denial(ctx, action, subject_ids, decision)
        decision.raise_if_denied()
    return decision


def tail(ctx: Context, n: int) -> list[StoredEntry]:
    """The newest audit entries, for the privacy officer; reading the log is itself audited."""
    authorise(ctx, Action.AUDIT_READ, Resource(kind="audit"))
    record_info(ctx, "audit.tail", details={"n": n})
    return ctx.runtime.audit.tail(n)
