"""What services call to audit: reads and denials now (own connection), writes in the transaction (outbox).

Entries hold ids, field names, purpose codes and rule ids — never a personal value.

Every refusal is audited (R-23-2), whichever way it is made:
- ``authorise`` decides and, on denial, audits and raises;
- ``record_denial`` audits a Decision a service made itself;
- ``record_refusal`` audits a ``PolicyDenied`` a service raised itself (rule ids, code, ids from its details —
  never its message); ``refusals_audited`` (a context manager) and ``audits_refusals`` (a decorator) do that for
  every ``PolicyDenied`` leaving a block or a service function;
- ``record_escaped_refusal`` is for the edge's unit of work (``Runtime.transaction``): a ``PolicyDenied`` leaving
  it that nothing audited yet;
- ``record_edge_refusal`` is for a refusal made before any Context exists (an API token used for a purpose it
  does not carry).
All of them write on the audit store's own connection, so the rollback of the business transaction that the
refusal causes cannot erase the entry; each refusal is written once per unit of work (by its code).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from mamori.kernel.audit import AuditEntry, StoredEntry
from mamori.kernel.context import Actor, Context
from mamori.kernel.errors import PolicyDenied
from mamori.kernel.outbox import OUTBOX_PENDING, AuditOutbox
from mamori.kernel.policy import Action, Decision, Resource, decide

if TYPE_CHECKING:
    from mamori.kernel.runtime import Runtime

P = ParamSpec("P")
R = TypeVar("R")

# ctx.memo keys: the codes of the refusals already audited in this unit of work, and the last action authorised
# (the action an escaped refusal is filed under when its service did not say).
AUDITED_REFUSALS = "auditing.refusals"
LAST_ACTION = "auditing.last_action"
ESCAPED_ACTION = "refusal"  # the action of a refusal whose service named none
# Keys of a PolicyDenied's details copied into its audit entry: ids and states, never a value.
_PURPOSE_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_DETAIL_KEYS = frozenset({"status", "count", "kind", "basis", "direction"})


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
    if ctx.actor.via is not None:
        details = {**(details or {}), "via": ctx.actor.via}  # the session or token (issue 22: incident scope)
    if ctx.actor.net is not None:
        details = {**(details or {}), "net": ctx.actor.net}  # the network's keyed tag (issue 25: monitoring)
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
    details: dict[str, str | int | bool | None] | None = None,
) -> None:
    """A read (own connection). ``masked`` names the fields withheld; ``rule_ids`` and ``details`` say why and
    what was withheld (field names, categories, counts — never content)."""
    masked_list = sorted(set(masked))
    extra = dict(details or {})
    if masked_list:
        extra["masked"] = ",".join(masked_list)
    ctx.runtime.audit.append(
        [_entry(ctx, str(action), subject_ids, fields, "allow", rule_ids, details=extra or None)]
    )


def _audited(ctx: Context) -> set[str]:
    seen = ctx.memo.get(AUDITED_REFUSALS)
    if not isinstance(seen, set):
        seen = set()
        ctx.memo[AUDITED_REFUSALS] = seen
    return seen


def record_denial(ctx: Context, action: Action | str, subject_ids: Iterable[str], decision: Decision) -> None:
    ctx.runtime.audit.append(
        [_entry(ctx, str(action), subject_ids, (), "deny", decision.rule_ids, reason=decision.code)]
    )
    _audited(ctx).add(decision.code)


def _refusal_rules(error: PolicyDenied) -> tuple[str, ...]:
    listed = error.details.get("rule_ids")
    if isinstance(listed, list | tuple) and listed and all(isinstance(r, str) for r in listed):
        return tuple(listed)
    return (error.rule_id,) if error.rule_id else ()


def _refusal_fields(error: PolicyDenied) -> list[str]:
    """Field names a refusal names (``details["fields"]``): names only, as the error carries them."""
    named = error.details.get("fields")
    if isinstance(named, list | tuple):
        return [f for f in named if isinstance(f, str)]
    return []


def _refusal_details(error: PolicyDenied) -> dict[str, str | int | bool | None]:
    """The ids and states a refusal's details carry (``*_id``, status …) — never a message, never a value."""
    out: dict[str, str | int | bool | None] = {}
    for key, value in error.details.items():
        if (key.endswith("_id") or key in _DETAIL_KEYS) and isinstance(value, str | int | bool):
            out[key] = value
    return out


def _refusal_entry(
    ctx: Context, action: Action | str, subject_ids: Iterable[str], error: PolicyDenied
) -> AuditEntry:
    return _entry(
        ctx,
        str(action),
        subject_ids,
        _refusal_fields(error),
        "deny",
        _refusal_rules(error),
        reason=error.code,
        details=_refusal_details(error) or None,
    )


def record_refusal(
    ctx: Context, action: Action | str, subject_ids: Iterable[str], error: PolicyDenied
) -> None:
    """Audit a refusal a service raised as ``PolicyDenied`` (own connection: it survives the rollback).

    Written once per unit of work and code: a refusal already audited (by ``authorise``, ``record_denial`` or an
    inner ``refusals_audited``) is not written again."""
    seen = _audited(ctx)
    if error.code in seen:
        return
    ctx.runtime.audit.append([_refusal_entry(ctx, action, subject_ids, error)])
    seen.add(error.code)


@contextmanager
def refusals_audited(ctx: Context, action: Action | str, subject_ids: Iterable[str] = ()) -> Iterator[None]:
    """Audit every ``PolicyDenied`` leaving the block under ``action`` (then re-raise it)."""
    try:
        yield
    except PolicyDenied as exc:
        record_refusal(ctx, action, subject_ids, exc)
        raise


def audits_refusals(
    action: Action | str,
) -> Callable[[Callable[Concatenate[Context, P], R]], Callable[Concatenate[Context, P], R]]:
    """Decorate a service function (Context first): every ``PolicyDenied`` it raises is audited under ``action``."""

    def wrap(fn: Callable[Concatenate[Context, P], R]) -> Callable[Concatenate[Context, P], R]:
        @functools.wraps(fn)
        def run(ctx: Context, /, *args: P.args, **kwargs: P.kwargs) -> R:
            with refusals_audited(ctx, action):
                return fn(ctx, *args, **kwargs)

        return run

    return wrap


def record_escaped_refusal(ctx: Context, error: PolicyDenied) -> None:
    """For the edge's unit of work: a ``PolicyDenied`` leaving it that no service audited is audited here, under
    the last action authorised in it (or ``refusal``). Never raises: the refusal itself is what the caller sees."""
    last = ctx.memo.get(LAST_ACTION)
    try:
        record_refusal(ctx, last if isinstance(last, str) else ESCAPED_ACTION, (), error)
    except Exception:  # the audit store failing must not hide the refusal; the writer logs its own failure
        return


def record_edge_refusal(
    runtime: Runtime, actor: Actor, purpose: str | None, action: Action | str, error: PolicyDenied
) -> None:
    """Audit a refusal made before any Context exists (e.g. an API token used for a purpose it does not carry):
    the actor, the purpose asked for when it is shaped like a purpose code (anything else is left out, never
    echoed), the rule and the code."""
    entry = AuditEntry(
        actor=actor.label,
        actor_role=actor.role.value,
        action=str(action),
        purpose=purpose if purpose is not None and _PURPOSE_CODE.fullmatch(purpose) else None,
        subject_ids=(),
        fields=tuple(sorted(set(_refusal_fields(error)))),
        decision="deny",
        rule_ids=_refusal_rules(error),
        reason=error.code,
        details=_refusal_details(error),
        at=runtime.clock.now(),
    )
    runtime.audit.append([entry])


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
    ctx.memo[LAST_ACTION] = str(action)
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
