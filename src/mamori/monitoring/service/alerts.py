"""Alert handling (issue 25 "Deliver" 2): the queue, one alert and the audit entries behind it, and what the
privacy officer does with it — look at it, dismiss it with a reason, or open an incident from it whose scope is
drawn from the same audit entries. High-severity alerts are mailed to the privacy office in one digest.

The evaluation (:mod:`mamori.monitoring.service.evaluate`) creates and updates the alerts; this module reads and
handles them. Every function takes the Context first, authorises (``monitoring.read`` / ``monitoring.handle``) and
audits with the alert id, the signal and codes — never free text, never a customer's id or value (an entry behind
an alert is shown with the NUMBER of people it concerns). Who watches is kept apart from who is watched: nobody
handles an alert about themselves (R-23-2, ``own_alert``). A dismissed alert, or one an incident was opened from,
is closed: it cannot be looked at, dismissed or escalated again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import func, select

from mamori.incidents.schemas import IncidentIn
from mamori.incidents.service import register as incidents_register
from mamori.incidents.service import scope as incidents_scope
from mamori.kernel import labels, mail, registry, validation
from mamori.kernel.auditing import authorise, record_read, record_refusal, record_write
from mamori.kernel.clock import JST
from mamori.kernel.context import Context
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.policy import Resource
from mamori.monitoring.alert_schemas import (
    AlertDetail,
    AlertEntries,
    AlertEntry,
    AlertEventRead,
    AlertIncident,
    AlertIncidentIn,
    AlertList,
    AlertRead,
    DismissIn,
)
from mamori.monitoring.models import (
    DISMISSED,
    INCIDENT,
    LOOKING,
    OPEN_STATUSES,
    SEVERITIES,
    STATUSES,
    MonitoringAlert,
    MonitoringAlertEvent,
)
from mamori.monitoring.permissions import MONITORING_HANDLE, MONITORING_READ
from mamori.monitoring.signals import BY_CODE
from mamori.monitoring.signals import label as signal_label
from mamori.staff import queries as staff_queries

RESOURCE = Resource(kind="monitoring")
A_READ = "monitoring.read"
A_HANDLE = "monitoring.handle"
A_LOOK = "monitoring.alert_look"
A_DISMISS = "monitoring.alert_dismiss"
A_INCIDENT = "monitoring.alert_incident"
A_MAILED = "monitoring.alert_mailed"
RULES = ("R-23-2",)  # 組織的安全管理措置: the handling log is read back and acted on
TOPIC = "monitoring.alert"
MAX_LIMIT = 500
MAX_MAILED = 100  # alerts listed in one digest (the count is always complete)
STAFF_KINDS = ("staff", "outsourcee")  # audit labels of staff accounts: staff:<id>, outsourcee:<id>


def ref_of(number: int) -> str:
    """The alert's number as shown: ALT-0007."""
    return f"ALT-{number:04d}"


# -- reading ---------------------------------------------------------------------------------------------------


def _seqs(row: MonitoringAlert) -> list[int]:
    try:
        raw = json.loads(row.entry_seqs or "[]")
    except ValueError:
        return []
    return [int(s) for s in raw if isinstance(s, int)] if isinstance(raw, list) else []


def _detail(row: MonitoringAlert) -> dict[str, Any]:
    try:
        raw = json.loads(row.detail or "{}")
    except ValueError:
        return {}
    return raw if isinstance(raw, dict) else {}


def _staff_id(actor_label: str) -> str | None:
    kind, _, ident = actor_label.partition(":")
    return ident if kind in STAFF_KINDS and ident else None


def _usernames(ctx: Context, actor_labels: Iterable[str]) -> dict[str, str]:
    """Audit label -> the staff account's user name (staff accounts are not customers)."""
    out: dict[str, str] = {}
    for label_ in set(actor_labels):
        staff_id = _staff_id(label_)
        if staff_id is None:
            continue
        user = ctx.session.execute(staff_queries.by_id(staff_id)).scalar_one_or_none()
        if user is not None:
            out[label_] = user.username
    return out


def to_read(row: MonitoringAlert, usernames: dict[str, str], lang: str = "ja") -> AlertRead:
    return AlertRead(
        id=row.id,
        number=row.number,
        ref=ref_of(row.number),
        signal=row.signal,
        signal_name=signal_label(row.signal, lang),
        severity=row.severity,
        actor=row.actor,
        actor_username=usernames.get(row.actor),
        actor_role=row.actor_role,
        day=row.day,
        first_at=row.first_at,
        last_at=row.last_at,
        observed=row.observed,
        threshold=row.threshold,
        baseline=row.baseline,
        baseline_kind=row.baseline_kind,
        entries_total=row.entries_total,
        entries_named=len(_seqs(row)),
        detail=_detail(row),
        status=row.status,
        dismiss_reason=row.dismiss_reason,
        dismiss_note=row.dismiss_note,
        incident_id=row.incident_id,
        handled_by=row.handled_by,
        handled_at=row.handled_at,
        mailed_at=row.mailed_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _read_one(ctx: Context, row: MonitoringAlert) -> AlertRead:
    return to_read(row, _usernames(ctx, [row.actor]), ctx.lang)


def find(ctx: Context, key: str) -> MonitoringAlert:
    """An alert by id or by its number (``ALT-0007`` or ``7``); NotFound otherwise (no authorisation)."""
    text = (key or "").strip()
    number = text.upper().removeprefix("ALT-")
    row: MonitoringAlert | None = None
    if number.isdigit() and len(number) <= 9:
        row = ctx.session.execute(
            select(MonitoringAlert).where(MonitoringAlert.number == int(number))
        ).scalar_one_or_none()
    if row is None and text:
        row = ctx.session.get(MonitoringAlert, text)
    if row is None:
        raise NotFound("監視アラートが見つかりません。", "Alert not found.", code="alert_not_found")
    return row


def _bad_filter(name: str) -> ValidationFailed:
    return ValidationFailed(
        f"絞り込みの条件が正しくありません（{name}）。",
        f"Invalid filter ({name}).",
        code="bad_filter",
        details={"field": name},
    )


def list_alerts(
    ctx: Context,
    *,
    status: str | None = None,
    signal: str | None = None,
    severity: str | None = None,
    limit: int = 100,
    before: int | None = None,
) -> AlertList:
    """The queue, newest first (by number), with the count of alerts in each status for the same signal and
    severity. ``status`` is one of new / looking / dismissed / incident, or ``open`` (new and looking);
    ``before`` an alert number (the next page of older alerts). Audited ``monitoring.read`` with the count."""
    authorise(ctx, MONITORING_READ, RESOURCE)
    if status is not None and status not in (*STATUSES, "open"):
        raise _bad_filter("status")
    if signal is not None and signal not in BY_CODE:
        raise _bad_filter("signal")
    if severity is not None and severity not in SEVERITIES:
        raise _bad_filter("severity")
    if not 1 <= limit <= MAX_LIMIT:
        raise _bad_filter("limit")
    if before is not None and before < 1:
        raise _bad_filter("before")
    where = []
    if signal is not None:
        where.append(MonitoringAlert.signal == signal)
    if severity is not None:
        where.append(MonitoringAlert.severity == severity)
    counted = ctx.session.execute(
        select(MonitoringAlert.status, func.count()).where(*where).group_by(MonitoringAlert.status)
    ).all()
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({str(s): int(n) for s, n in counted})
    counts["open"] = sum(counts[s] for s in OPEN_STATUSES)
    stmt = select(MonitoringAlert).where(*where)
    if status == "open":
        stmt = stmt.where(MonitoringAlert.status.in_(OPEN_STATUSES))
    elif status is not None:
        stmt = stmt.where(MonitoringAlert.status == status)
    if before is not None:
        stmt = stmt.where(MonitoringAlert.number < before)
    rows = list(ctx.session.execute(stmt.order_by(MonitoringAlert.number.desc()).limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    names = _usernames(ctx, (r.actor for r in rows))
    record_read(
        ctx,
        A_READ,
        (),
        (),
        details={"what": "list", "status": status, "signal": signal, "count": len(rows)},
    )
    return AlertList(
        alerts=[to_read(r, names, ctx.lang) for r in rows],
        counts=counts,
        next_before=rows[-1].number if more and rows else None,
    )


def _events(ctx: Context, alert_id: str) -> list[AlertEventRead]:
    rows = ctx.session.execute(
        select(MonitoringAlertEvent)
        .where(MonitoringAlertEvent.alert_id == alert_id)
        .order_by(MonitoringAlertEvent.at, MonitoringAlertEvent.id)
    ).scalars()
    events = list(rows)
    names = _usernames(ctx, (e.by for e in events))
    return [
        AlertEventRead(at=e.at, by=e.by, by_username=names.get(e.by), action=e.action, detail=e.detail)
        for e in events
    ]


def get(ctx: Context, key: str) -> AlertDetail:
    """One alert with the history of what was done with it (``monitoring.read``, audited)."""
    authorise(ctx, MONITORING_READ, RESOURCE)
    row = find(ctx, key)
    record_read(ctx, A_READ, (), (), details={"what": "alert", "alert_id": row.id, "signal": row.signal})
    return AlertDetail(alert=_read_one(ctx, row), events=_events(ctx, row.id))


def entries(ctx: Context, key: str) -> AlertEntries:
    """The audit entries behind an alert, in log order: sequence number, time, action, decision, denial code,
    rules, the number of people concerned, field names and purpose — never whom (``monitoring.read``, audited
    with the count)."""
    authorise(ctx, MONITORING_READ, RESOURCE)
    row = find(ctx, key)
    stored = ctx.runtime.audit.by_seqs(_seqs(row))
    record_read(
        ctx,
        A_READ,
        (),
        (),
        details={"what": "entries", "alert_id": row.id, "signal": row.signal, "count": len(stored)},
    )
    return AlertEntries(
        alert_id=row.id,
        ref=ref_of(row.number),
        entries_total=row.entries_total,
        entries=[
            AlertEntry(
                seq=e.seq,
                at=e.at,
                action=e.action,
                action_label=labels.label(f"web_audit_action.{e.action}", ctx.lang, default=e.action),
                decision=e.decision,
                reason=e.reason,
                rule_ids=list(e.rule_ids),
                subjects=sum(1 for s in e.subject_ids if s),
                fields=list(e.fields),
                purpose=e.purpose,
            )
            for e in stored
        ],
    )


# -- handling --------------------------------------------------------------------------------------------------


def _handled(ctx: Context, key: str) -> MonitoringAlert:
    """The alert to handle (the caller has authorised ``monitoring.handle``): refused for one's own alert (R-23-2,
    audited) and for a closed one (dismissed, incident opened)."""
    row = find(ctx, key)
    if row.actor == ctx.actor.label:
        error = PolicyDenied(
            "自分についての監視アラートは対応できません。他の担当者が対応します。",
            "Nobody handles an alert about themselves: another officer handles it.",
            rule_id="R-23-2",
            code="own_alert",
            details={"alert_id": row.id},
        )
        record_refusal(ctx, A_HANDLE, (), error)
        raise error
    if row.status in (DISMISSED, INCIDENT):
        raise Conflict(
            "このアラートは対応済みです（対応不要または事案登録済み）。",
            "The alert is closed (dismissed, or an incident was opened from it).",
            code="alert_closed",
            details={"status": row.status},
        )
    return row


def _event(ctx: Context, row: MonitoringAlert, action: str, detail: str | None = None) -> None:
    ctx.session.add(
        MonitoringAlertEvent(
            alert_id=row.id, at=ctx.clock.now(), by=ctx.actor.label, action=action, detail=detail
        )
    )


def _mark(ctx: Context, row: MonitoringAlert, status: str) -> None:
    now = ctx.clock.now()
    row.status = status
    row.handled_by = ctx.actor.label
    row.handled_at = now
    row.updated_at = now


def look(ctx: Context, key: str) -> AlertRead:
    """確認中にする: a new alert is being looked at (``monitoring.handle``; audited)."""
    authorise(ctx, MONITORING_HANDLE, RESOURCE)
    row = _handled(ctx, key)
    if row.status == LOOKING:
        raise Conflict(
            "このアラートはすでに確認中です。",
            "The alert is already being looked at.",
            code="alert_already_looking",
            details={"status": row.status},
        )
    _mark(ctx, row, LOOKING)
    _event(ctx, row, "look")
    ctx.session.flush()
    record_write(ctx, A_LOOK, (), (), rule_ids=RULES, details={"alert_id": row.id, "signal": row.signal})
    return _read_one(ctx, row)


def check_note(note: str | None) -> None:
    """Refuse a note in which the text scanner finds personal data (a name, a phone, an e-mail …): a note says
    why the alert needs no action, never who the customer was. The error names the kinds found, never the text."""
    if not note or not note.strip() or not registry.text_scanning_available():
        return
    kinds = sorted({f.type for f in registry.scan_text(note) if not f.sensitive})
    if kinds:
        raise ValidationFailed(
            "メモに個人データが含まれています。理由だけを書き、顧客を特定する情報は書かないでください。",
            "The note contains personal data: give the reason only, never who the customer was.",
            code="personal_data_in_text",
            details={"fields": ["note"], "kinds": kinds},
        )


def dismiss(ctx: Context, key: str, reason: str, note: str | None = None) -> AlertRead:
    """対応不要: close the alert with a reason code (business_need / false_positive / confirmed_with_person /
    other — a note is required for other). The note (1,000 characters at most) is scanned for personal data.
    Audited with the reason code, never the note."""
    authorise(ctx, MONITORING_HANDLE, RESOURCE)
    try:
        data = DismissIn.model_validate({"reason": reason, "note": note})
    except PydanticValidationError as exc:
        raise ValidationFailed(
            validation.message(exc, "ja"), validation.message(exc, "en"), code="invalid_input"
        ) from None
    text = (data.note or "").strip() or None
    if data.reason == "other" and text is None:
        raise ValidationFailed(
            "理由が「その他」のときは、メモを書いてください。",
            'A note is required when the reason is "other".',
            code="note_required",
            details={"field": "note"},
        )
    row = _handled(ctx, key)
    check_note(text)
    _mark(ctx, row, DISMISSED)
    row.dismiss_reason = data.reason
    row.dismiss_note = text
    _event(ctx, row, "dismiss", data.reason)
    ctx.session.flush()
    record_write(
        ctx,
        A_DISMISS,
        (),
        (),
        rule_ids=RULES,
        details={"alert_id": row.id, "signal": row.signal, "reason": data.reason, "note": text is not None},
    )
    return _read_one(ctx, row)


def open_incident(ctx: Context, key: str, title: str | None = None) -> AlertIncident:
    """事案として登録: register a suspected leak by an insider from the alert (the clock starts now, R-26-2) and
    draw its scope from the audit log — the people the alert's account read or exported between the alert's first
    and last entry (``incidents.service.scope.from_audit``). The alert is then closed with the incident's id.
    Needs ``monitoring.handle`` and the incident slice's own actions (register, scope); audited."""
    authorise(ctx, MONITORING_HANDLE, RESOURCE)
    try:
        data = AlertIncidentIn.model_validate({"title": title})
    except PydanticValidationError as exc:
        raise ValidationFailed(
            validation.message(exc, "ja"), validation.message(exc, "en"), code="invalid_input"
        ) from None
    row = _handled(ctx, key)
    ref = ref_of(row.number)
    now = ctx.clock.now()
    incident = incidents_register.register(
        ctx,
        IncidentIn(
            title=data.title or f"監視アラート {ref}: {signal_label(row.signal, 'ja')}",
            kind="leak",
            suspected=True,
            occurred_at=row.first_at,
            known_at=now,
            known_by=f"monitoring {ref}",
            discovered_by=f"monitoring {ref}",
            cause="insider",
            cause_detail=(
                f"監視アラート {ref}（シグナル {row.signal}、{row.day.isoformat()}、"
                f"監査ログの記録 {row.entries_total}件）から登録。"
            ),
        ),
    )
    username = _usernames(ctx, [row.actor]).get(row.actor)
    scope_id: str | None = None
    persons = 0
    if username is not None:
        scope = incidents_scope.from_audit(
            ctx,
            incident.id,
            username=username,
            since=row.first_at,
            until=row.last_at + timedelta(microseconds=1),
        )
        scope_id, persons = scope.id, scope.persons
    _mark(ctx, row, INCIDENT)
    row.incident_id = incident.id
    _event(ctx, row, "incident", incident.id)
    ctx.session.flush()
    record_write(
        ctx,
        A_INCIDENT,
        (),
        (),
        rule_ids=RULES,
        details={
            "alert_id": row.id,
            "signal": row.signal,
            "incident_id": incident.id,
            "scope_id": scope_id,
            "persons": persons,
        },
    )
    return AlertIncident(
        alert=_read_one(ctx, row),
        incident_id=incident.id,
        incident_ref=incident.ref,
        scope_id=scope_id,
        scope_persons=persons,
    )


# -- the digest to the privacy office --------------------------------------------------------------------------


def _addresses(raw: str | None) -> list[str]:
    return [a.strip() for a in (raw or "").split(",") if a.strip()]


def _jst(at: datetime) -> str:
    return at.astimezone(JST).strftime("%Y-%m-%d %H:%M")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def digest(rows: Sequence[MonitoringAlert], usernames: dict[str, str]) -> str:
    """The mail text: numbers, signals, staff accounts, counts and JST times — never a customer's value."""
    lines = [
        f"重要度「高」の監視アラートが {len(rows)}件 発生しました。",
        f"{len(rows)} high-severity monitoring alert(s) were raised.",
        "",
    ]
    for r in rows[:MAX_MAILED]:
        who = usernames.get(r.actor, r.actor)
        lines.append(
            f"- {ref_of(r.number)} {signal_label(r.signal, 'ja')} / {signal_label(r.signal, 'en')}: "
            f"{who}（{r.actor_role}）"
        )
        lines.append(
            f"  観測 {_number(r.observed)}（閾値 {_number(r.threshold)}）  監査ログの記録 {r.entries_total}件  "
            f"{_jst(r.first_at)}〜{_jst(r.last_at)} JST"
        )
    if len(rows) > MAX_MAILED:
        lines.append(f"… ほか {len(rows) - MAX_MAILED}件 / and {len(rows) - MAX_MAILED} more")
    lines += ["", "mamori monitoring alerts / 画面の「監視アラート」で確認してください。"]
    return "\n".join(lines) + "\n"


def notify_new(ctx: Context, alert_ids: Sequence[str]) -> int:
    """Mail the privacy office (``MAMORI_REMINDER_TO``, comma-separated) one digest of the high-severity alerts
    among ``alert_ids`` that are still open and not mailed yet; mark them mailed. Returns the number of alerts
    mailed (0, quietly, when no address is set or none qualifies). Called by the evaluation, whoever runs it (no
    authorisation of its own); audited ``monitoring.alert_mailed`` with counts."""
    ids = sorted({str(i) for i in alert_ids if i})
    if not ids:
        return 0
    addresses = _addresses(ctx.runtime.settings.reminder_to)
    if not addresses:
        return 0
    rows = list(
        ctx.session.execute(
            select(MonitoringAlert)
            .where(
                MonitoringAlert.id.in_(ids),
                MonitoringAlert.severity == "high",
                MonitoringAlert.mailed_at.is_(None),
                MonitoringAlert.status.in_(OPEN_STATUSES),
            )
            .order_by(MonitoringAlert.number)
        ).scalars()
    )
    if not rows:
        return 0
    text = digest(rows, _usernames(ctx, (r.actor for r in rows)))
    for to in addresses:
        mail.enqueue(
            ctx,
            mail.Mail(
                to=to,
                subject=f"【mamori】監視アラート（重要度 高）{len(rows)}件 / high-severity alerts",
                text=text,
                topic=TOPIC,
            ),
        )
    now = ctx.clock.now()
    for r in rows:
        r.mailed_at = now
        _event(ctx, r, "mailed")
    ctx.session.flush()
    record_write(
        ctx, A_MAILED, (), (), rule_ids=RULES, details={"alerts": len(rows), "queued": len(addresses)}
    )
    return len(rows)
