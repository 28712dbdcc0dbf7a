"""Containment done and recorded from the incident (issue 22 "Deliver" 7; R-26-7: escalate and contain).

Each step is done by the slice that owns it — the staff slice disables an account and revokes sessions and API
tokens (``staff.contain``), the processors slice suspends an outsourcee's contract (``processor.manage``), the
keystore rotates the key-encryption key (``keys.rotate``: the administrator only) — and each authorises its own
action, so a step the caller may not take is refused (and audited) there. Then the step is recorded as an
``IncidentMeasure`` (kind, target, counts) and audited as ``incident.contain`` with the incident id, the measure
id, the kind, the counts and the target's opaque id (never a user name or a personal value).

A refused or failed step records nothing. Key rotation commits in the keystore as it goes (it cannot be rolled
back with the incident's transaction): the measure is recorded once it is done.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import select

from mamori.incidents.containment_schemas import ContainmentIn, MeasureRead, check_target
from mamori.incidents.models import Incident, IncidentMeasure
from mamori.incidents.permissions import INCIDENT_CONTAIN, INCIDENT_READ
from mamori.incidents.service.register import RESOURCE, find
from mamori.kernel.auditing import authorise, record_denial, record_info, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import Conflict, ValidationFailed
from mamori.kernel.policy import Action, Decision, Resource, decide
from mamori.processors import service as processors_service
from mamori.processors.models import ProcessorContract
from mamori.staff import service as staff_service

RULE = "R-26-7"
Progress = Callable[[int, int], None]


# -- helpers ---------------------------------------------------------------------------------------------------


def _open_incident(ctx: Context, key: str) -> Incident:
    """The incident, after authorising ``incident.contain``; a closed incident takes no more steps."""
    authorise(ctx, INCIDENT_CONTAIN, RESOURCE, [])
    row = find(ctx, key)
    if row.status != "open":
        raise Conflict(
            "終了した事案からは封じ込めの手順を取れません。",
            "The incident is closed; no containment step can be taken from it.",
            code="incident_closed",
        )
    return row


def authorise_contain(ctx: Context, key: str) -> Incident:
    """The open incident, after authorising ``incident.contain`` (for the edges that check input after who)."""
    return _open_incident(ctx, key)


def _target(kind: str, target: str) -> str:
    try:
        checked = check_target(kind, target)
    except ValueError as exc:
        ja, _, en = str(exc).partition(" / ")
        raise ValidationFailed(ja + "。", en.capitalize() + ".", code="bad_target") from None
    assert checked is not None
    return checked


def to_measure(row: IncidentMeasure) -> MeasureRead:
    result = json.loads(row.result or "{}")
    return MeasureRead(
        id=row.id,
        incident_id=row.incident_id,
        kind=row.kind,
        target=row.target,
        note=row.note,
        result={str(k): int(v) for k, v in result.items() if isinstance(v, int)},
        at=row.at,
        by=row.by,
    )


def _record(
    ctx: Context,
    incident: Incident,
    kind: str,
    target: str | None,
    counts: dict[str, int],
    ids: dict[str, str],
) -> MeasureRead:
    """The measure row and its audit entry (incident id, measure id, kind, counts, the target's opaque id)."""
    row = IncidentMeasure(
        id=new_id(),
        incident_id=incident.id,
        kind=kind,
        target=target,
        note=None,
        result=json.dumps(counts, sort_keys=True, separators=(",", ":")),
        at=ctx.clock.now(),
        by=ctx.actor.label,
    )
    ctx.session.add(row)
    ctx.session.flush()
    details: dict[str, str | int | bool | None] = {
        "incident_id": incident.id,
        "measure_id": row.id,
        "kind": kind,
        **ids,
        **counts,
    }
    record_write(ctx, "incident.contain", [], [], rule_ids=(RULE,), details=details)
    return to_measure(row)


# -- the steps -------------------------------------------------------------------------------------------------


def disable_account(ctx: Context, key: str, username: str) -> MeasureRead:
    """Disable a staff account (no more sign-in); its sessions and API tokens are revoked with it."""
    incident = _open_incident(ctx, key)
    name = _target("disable_account", username)
    staff_id, counts = staff_service.contain_disable(ctx, name)
    return _record(ctx, incident, "disable_account", name, counts, {"staff_id": staff_id})


def revoke_sessions(ctx: Context, key: str, username: str) -> MeasureRead:
    """Revoke every session of a staff account (the account stays enabled)."""
    incident = _open_incident(ctx, key)
    name = _target("revoke_sessions", username)
    staff_id, counts = staff_service.contain_revoke_sessions(ctx, name)
    return _record(ctx, incident, "revoke_sessions", name, counts, {"staff_id": staff_id})


def revoke_session(ctx: Context, key: str, session_id: str) -> MeasureRead:
    """Revoke one session by its public id (the ``session:<id>`` of the audit log's ``via``)."""
    incident = _open_incident(ctx, key)
    sid = _target("revoke_session", session_id)
    staff_id, counts = staff_service.contain_revoke_session(ctx, sid)
    return _record(ctx, incident, "revoke_session", sid, counts, {"staff_id": staff_id, "session_id": sid})


def revoke_tokens(ctx: Context, key: str, username: str) -> MeasureRead:
    """Revoke every API token of a staff account."""
    incident = _open_incident(ctx, key)
    name = _target("revoke_tokens", username)
    staff_id, counts = staff_service.contain_revoke_tokens(ctx, name)
    return _record(ctx, incident, "revoke_tokens", name, counts, {"staff_id": staff_id})


def revoke_token(ctx: Context, key: str, token_id: str) -> MeasureRead:
    """Revoke one API token by its id."""
    incident = _open_incident(ctx, key)
    tid = _target("revoke_token", token_id)
    staff_id, counts = staff_service.contain_revoke_token(ctx, tid)
    return _record(ctx, incident, "revoke_token", tid, counts, {"staff_id": staff_id, "token_id": tid})


def suspend_outsourcee(ctx: Context, key: str, contract_id: str) -> MeasureRead:
    """Suspend an outsourcee's contract: its operators see no customer any more (R-25-1 grant stops)."""
    incident = _open_incident(ctx, key)
    cid = _target("suspend_outsourcee", contract_id)
    existing = ctx.session.get(ProcessorContract, cid)
    was_suspended = existing is not None and existing.status == "suspended"
    contract = processors_service.suspend(ctx, cid, "incident")
    operators = len(processors_service.list_operators(ctx, contract.id))
    counts = {"suspended": 0 if was_suspended else 1, "operators": operators}
    return _record(ctx, incident, "suspend_outsourcee", contract.id, counts, {"contract_id": contract.id})


def rotate_keys(ctx: Context, key: str, *, progress: Progress | None = None) -> MeasureRead:
    """Rotate the key-encryption key and rewrap every data key (``keys.rotate``: the administrator only).

    The privacy officer is refused with a message naming who can; with a KEK from the environment (no new
    version can be made here) and nothing to rewrap, nothing was rotated: refused, nothing recorded."""
    incident = _open_incident(ctx, key)
    if not decide(ctx, Action.KEYS_ROTATE, Resource(kind="keys")).allowed:
        refused = Decision(
            False,
            ("R-23-2",),
            reason_ja="鍵の更新（KEK ローテーション）は管理者（admin）だけが行えます。管理者に依頼してください。",
            reason_en="Only an administrator (admin) may rotate the keys; ask one to take this step.",
            code="keys_rotate_admin_only",
        )
        record_denial(ctx, Action.KEYS_ROTATE, [], refused)  # R-23-2: the key custodian is the administrator
        refused.raise_if_denied()
    rt = ctx.runtime
    before = rt.kek.current_version()
    add_version = getattr(rt.kek, "add_version", None)
    if callable(add_version):
        add_version()
    report = rt.keystore.rotate(progress=progress)
    if not callable(add_version) and report.to_version == before and report.rewrapped == 0:
        raise Conflict(
            "環境変数の KEK を使用中のため鍵を更新できませんでした。MAMORI_KEK の先頭に新しい版を置いてから実行してください。",
            "The KEK comes from the environment and nothing was rotated: put the new version first in MAMORI_KEK, "
            "then take this step.",
            code="kek_not_rotated",
        )
    counts = {
        "rewrapped": report.rewrapped,
        "from_version": before,
        "to_version": report.to_version,
        "remaining_on_old": report.remaining_on_old,
        "unreadable": report.unreadable,
    }
    # the keystore's own entry, as `mamori keys rotate` writes it, with the incident it was done for
    record_info(
        ctx,
        "keys.rotate",
        details={
            "rewrapped": report.rewrapped,
            "to_version": report.to_version,
            "unreadable": report.unreadable,
            "dropped": report.dropped,
            "remaining_on_old": report.remaining_on_old,
            "incident_id": incident.id,
        },
    )
    return _record(ctx, incident, "rotate_keys", None, counts, {})


def take(ctx: Context, key: str, step: ContainmentIn, *, progress: Progress | None = None) -> MeasureRead:
    """One step, as the API and the web form send it (``kind`` and ``target``)."""
    target = step.target or ""
    if step.kind == "disable_account":
        return disable_account(ctx, key, target)
    if step.kind == "revoke_sessions":
        return revoke_sessions(ctx, key, target)
    if step.kind == "revoke_session":
        return revoke_session(ctx, key, target)
    if step.kind == "revoke_tokens":
        return revoke_tokens(ctx, key, target)
    if step.kind == "revoke_token":
        return revoke_token(ctx, key, target)
    if step.kind == "suspend_outsourcee":
        return suspend_outsourcee(ctx, key, target)
    return rotate_keys(ctx, key, progress=progress)


# -- what was done ---------------------------------------------------------------------------------------------


def measures(ctx: Context, key: str) -> list[MeasureRead]:
    """Every step recorded for the incident (containment and substitute measures), oldest first."""
    authorise(ctx, INCIDENT_READ, RESOURCE, [])
    incident = find(ctx, key)
    rows = ctx.session.execute(
        select(IncidentMeasure)
        .where(IncidentMeasure.incident_id == incident.id)
        .order_by(IncidentMeasure.at, IncidentMeasure.id)
    ).scalars()
    return [to_measure(r) for r in rows]
