"""The consent ledger. Append-only: grant and withdraw add lines; the current state is the last line per
(person, purpose) — derived, never stored twice. Withdrawal is as easy as granting (G-7).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import Select

from mamori.consent import queries
from mamori.consent.models import ConsentEvent
from mamori.consent.schemas import (
    CHANNELS,
    ConsentEventRead,
    ConsentIn,
    ConsentSummary,
    SuppressedPerson,
    SuppressionCount,
)
from mamori.customers import queries as customers_queries
from mamori.customers.service import subjects as customer_subjects
from mamori.kernel.auditing import authorise, record_read, record_write
from mamori.kernel.clock import JST
from mamori.kernel.context import Context
from mamori.kernel.db import hidden_customer_scope
from mamori.kernel.errors import NotFound, ValidationFailed
from mamori.kernel.policy import Action, Resource, Scope, decide, row_scope
from mamori.kernel.registry import ConsentState, PurposeState, StateRow
from mamori.law.age import under
from mamori.law.rules import G_7, R_20_2, R_35_1, R_CNS_1, R_R8_4, in_force
from mamori.purposes import service as purposes_service


def _customer_resource(ctx: Context, customer_id: str) -> Resource:
    found = ctx.session.execute(customers_queries.owner_of(customer_id)).one_or_none()
    # PostgreSQL: row-level security may hide a customer outside a rep's scope (0017): decided, not "not found"
    owner = tuple(found) if found is not None else hidden_customer_scope(ctx.session, customer_id)
    if owner is None:
        raise NotFound("顧客が見つかりません。", "Customer not found.", code="customer_not_found")
    return Resource(kind="consent", subject_id=customer_id, owner_id=owner[0], team=owner[1])


def _authorise(ctx: Context, action: Action, customer_id: str) -> None:
    authorise(ctx, action, _customer_resource(ctx, customer_id), [customer_id])


# How far ahead of the server's clock a stated consent time may be: the skew between two honest clocks. A consent
# dated later (2099) was accepted and counted as given now (issue 17); it is refused.
CLOCK_SKEW = timedelta(minutes=5)


def _check_when(ctx: Context, data: ConsentIn, now: datetime) -> None:
    """Refuse a consent or withdrawal stated to happen in the future (beyond :data:`CLOCK_SKEW`). A time without a
    zone is read as Japan time, as the product's dates are."""
    when = data.occurred_at
    if when is None:
        return
    aware = when.replace(tzinfo=JST) if when.tzinfo is None else when
    if aware > now + CLOCK_SKEW:
        raise ValidationFailed(
            "同意・撤回の日時が未来です。実際に意思表示があった日時を指定してください（同意の記録）。",
            "The consent or withdrawal is dated in the future; give the time it was actually given.",
            rule_id=R_CNS_1.id,
            code="consent_in_future",
        )


def _append(
    ctx: Context, customer_id: str, kind: str, target: str, action: str, data: ConsentIn
) -> ConsentEventRead:
    now = ctx.clock.now()
    _check_when(ctx, data, now)
    event = ConsentEvent(
        customer_id=customer_id,
        kind=kind,
        target=target,
        action=action,
        method=data.method,
        notice_version=data.notice_version,
        evidence=data.evidence,
        occurred_at=data.occurred_at or now,
        recorded_at=now,
        recorded_by=ctx.actor.label,
        guardian=data.guardian,
    )
    ctx.session.add(event)
    ctx.session.flush()
    rules = (R_20_2.id,) if kind == "sensitive" else (G_7.id,) if action == "withdrawn" else (R_CNS_1.id,)
    record_write(ctx, f"consent.{action}", [customer_id], [f"{kind}:{target}"], rule_ids=rules)
    return _read(event)


def _read(e: ConsentEvent) -> ConsentEventRead:
    return ConsentEventRead(
        seq=e.seq,
        kind=e.kind,
        target=e.target,
        action=e.action,
        method=e.method,
        notice_version=e.notice_version,
        evidence=e.evidence,
        occurred_at=e.occurred_at,
        recorded_by=e.recorded_by,
        guardian=e.guardian,
    )


CHILD_AGE = 16  # R-R8-4: under 16, consent comes from the legal guardian (令和8年改正)


def consent_day(ctx: Context, data: ConsentIn) -> date:
    """The JST calendar day the consent was given (``occurred_at``, else now)."""
    return (data.occurred_at or ctx.clock.now()).astimezone(JST).date()


def _require_guardian_for_a_child(ctx: Context, customer_id: str, data: ConsentIn) -> None:
    """R-R8-4 (令和8年改正, in force from the Cabinet Order's date): a person under 16 on the day of the consent
    consents through a legal guardian (法定代理人), so the ledger line must name the guardian's relationship.

    Looked up in the rule book on the consent day: before R-R8-4 is in force nothing changes (R-R8-3) and the
    birth date is not even read. A person whose birth date is unknown is not refused (capacity is then a human
    judgement, APPI-RULES §13). Grants only: withdrawing stays as easy as giving (G-7).
    """
    day = consent_day(ctx, data)
    if data.guardian is not None or not in_force(R_R8_4.id, day):
        return
    value = customer_subjects.read_fields(ctx, [customer_id], ["birth_date"]).get(customer_id, {})
    birth = value.get("birth_date")
    if birth and under(CHILD_AGE, date.fromisoformat(birth), day):
        raise ValidationFailed(
            "16歳未満の本人の同意は法定代理人から得て、その続柄（parent: 親権者 / guardian: 未成年後見人）を記録してください。",
            "Consent for a person under 16 must come from a legal guardian; record who (parent or guardian).",
            rule_id=R_R8_4.id,
            code="guardian_consent_required",
        )


def _require_guardians_for_children(ctx: Context, grants: Sequence[tuple[str, str, str, ConsentIn]]) -> None:
    """R-R8-4 for many ledger lines at once: refuse the batch if a grant for a child names no guardian."""
    days = {
        cid: consent_day(ctx, data)
        for cid, _purpose, action, data in grants
        if action == "granted" and data.guardian is None
    }
    days = {cid: day for cid, day in days.items() if in_force(R_R8_4.id, day)}
    if not days:
        return
    births = customer_subjects.read_fields(ctx, sorted(days), ["birth_date"])
    children = [
        cid
        for cid, day in days.items()
        if (birth := births.get(cid, {}).get("birth_date"))
        and under(CHILD_AGE, date.fromisoformat(birth), day)
    ]
    if children:
        raise ValidationFailed(
            f"16歳未満の本人 {len(children)} 名の同意に法定代理人の記録がありません。",
            f"{len(children)} consent line(s) for persons under 16 name no legal guardian.",
            rule_id=R_R8_4.id,
            code="guardian_consent_required",
        )


def grant(ctx: Context, customer_id: str, purpose: str, data: ConsentIn) -> ConsentEventRead:
    """Record the person's consent to a purpose (R-CNS-1: a declaration from the verified person)."""
    _authorise(ctx, Action.CONSENT_RECORD, customer_id)
    if purposes_service.facts(ctx, purpose) is None:
        raise NotFound(
            f"利用目的「{purpose}」は登録されていません。",
            f"Purpose '{purpose}' is not registered.",
            rule_id="R-17-1",
            code="purpose_unknown",
        )
    _require_guardian_for_a_child(ctx, customer_id, data)
    return _append(ctx, customer_id, "purpose", purpose, "granted", data)


def withdraw(ctx: Context, customer_id: str, purpose: str, data: ConsentIn) -> ConsentEventRead:
    """Withdraw consent: effective at once for every later read (G-7(3))."""
    _authorise(ctx, Action.CONSENT_RECORD, customer_id)
    return _append(ctx, customer_id, "purpose", purpose, "withdrawn", data)


def grant_sensitive(ctx: Context, customer_id: str, data: ConsentIn) -> ConsentEventRead:
    """Consent to acquire 要配慮個人情報 (R-20-2)."""
    _authorise(ctx, Action.CONSENT_RECORD, customer_id)
    _require_guardian_for_a_child(ctx, customer_id, data)
    return _append(ctx, customer_id, "sensitive", "*", "granted", data)


def withdraw_sensitive(ctx: Context, customer_id: str, data: ConsentIn) -> ConsentEventRead:
    _authorise(ctx, Action.CONSENT_RECORD, customer_id)
    return _append(ctx, customer_id, "sensitive", "*", "withdrawn", data)


def _channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise ValidationFailed(
            f"不明な連絡手段です（{', '.join(CHANNELS)} のいずれか）",
            f"Unknown channel (one of {', '.join(CHANNELS)})",
            code="bad_channel",
        )
    return channel


def do_not_contact(ctx: Context, customer_id: str, channel: str, data: ConsentIn) -> ConsentEventRead:
    """Per-channel do-not-contact (seed 003: 「二度と電話しないで」)."""
    _authorise(ctx, Action.CONSENT_RECORD, customer_id)
    return _append(ctx, customer_id, "channel", _channel(channel), "opt_out", data)


def allow_contact(ctx: Context, customer_id: str, channel: str, data: ConsentIn) -> ConsentEventRead:
    _authorise(ctx, Action.CONSENT_RECORD, customer_id)
    return _append(ctx, customer_id, "channel", _channel(channel), "opt_in", data)


def show(ctx: Context, customer_id: str) -> ConsentSummary:
    _authorise(ctx, Action.CONSENT_READ, customer_id)
    events = list(ctx.session.execute(queries.events(customer_id)).scalars())
    purposes: dict[str, str] = {}
    sensitive = "none"
    channels: dict[str, str] = {}
    suppressed: dict[str, str] = {}
    for e in events:
        if e.kind == "purpose":
            purposes[e.target] = e.action
        elif e.kind == "sensitive":
            sensitive = e.action
        elif e.kind == "channel":
            channels[e.target] = e.action
        elif e.kind == "suppression":
            suppressed[e.target] = e.action
    record_read(ctx, Action.CONSENT_READ, [customer_id], ["consent"])
    return ConsentSummary(
        customer_id=customer_id,
        purposes=purposes,
        sensitive=sensitive,
        do_not_contact=sorted(c for c, a in channels.items() if a == "opt_out"),
        channels={
            c: (
                "opt_in"
                if channels.get(c) == "opt_in"
                else "opt_out"
                if channels.get(c) == "opt_out"
                else "none"
            )
            for c in CHANNELS
        },
        suppressed=sorted(t for t, a in suppressed.items() if a == "stopped"),
        events=[_read(e) for e in events],
    )


def may_contact(ctx: Context, customer_id: str, channel: str) -> bool:
    """False when the person opted out of this channel (checked before any call, mail or message)."""
    last = None
    for e in ctx.session.execute(
        queries.latest_for([customer_id], ["channel"], [_channel(channel)])
    ).scalars():
        last = e.action
    return last != "opt_out"


class PurposeStates:
    """Registered with the kernel: the consent facts the policy engine needs (G-7: the latest line wins).

    ``select`` gives the ledger lines that bear on a purpose (so the customers slice can fetch them in the same
    statement as its own facts); ``fold`` reads them."""

    def statement(self) -> Select[str, str, str, str, int]:
        return queries.state_rows(
            ["purpose", "sensitive", "suppression", "channel"], [ALL_PURPOSES, PROVISION, *CHANNELS]
        )

    def fold(
        self, rows: Iterable[StateRow], subject_ids: Sequence[str], purpose: str
    ) -> Mapping[str, PurposeState]:
        consent: dict[str, ConsentState] = {}
        sensitive: dict[str, bool] = {}
        stops: dict[tuple[str, str], bool] = {}
        channels: dict[
            str, dict[str, str]
        ] = {}  # issue 20: person -> channel -> last action (opt_in / opt_out)
        for customer_id, kind, target, action, _seq in sorted(rows, key=lambda r: r[4]):
            if kind == "purpose":
                if target == purpose:
                    consent[customer_id] = (
                        ConsentState.GRANTED if action == "granted" else ConsentState.WITHDRAWN
                    )
            elif kind == "sensitive":
                sensitive[customer_id] = action == "granted"
            elif kind == "suppression" and target in (purpose, ALL_PURPOSES, PROVISION):
                stops[(customer_id, target)] = action == "stopped"
            elif kind == "channel" and target in CHANNELS:
                channels.setdefault(customer_id, {})[target] = action
        stopped = {sid for (sid, t), on in stops.items() if on and t in (purpose, ALL_PURPOSES)}
        provision_stopped = {sid for (sid, t), on in stops.items() if on and t == PROVISION}
        return {
            sid: PurposeState(
                consent=consent.get(sid, ConsentState.NONE),
                sensitive_consent=sensitive.get(sid, False),
                stopped=sid in stopped,
                provision_stopped=sid in provision_stopped,
                channels_out=frozenset(c for c, a in channels.get(sid, {}).items() if a == "opt_out"),
                channels_in=frozenset(c for c, a in channels.get(sid, {}).items() if a == "opt_in"),
            )
            for sid in subject_ids
            if sid in consent
            or sid in sensitive
            or sid in stopped
            or sid in provision_stopped
            or sid in channels
        }


PURPOSE_STATES = PurposeStates()


def purpose_states(ctx: Context, subject_ids: Sequence[str], purpose: str) -> Mapping[str, PurposeState]:
    """The consent facts of these subjects for ``purpose`` (the provider's own query, 500 ids at a time)."""
    rows: list[StateRow] = []
    stmt = PURPOSE_STATES.statement()
    for start in range(0, len(subject_ids), 500):
        params = {"subject_ids": list(subject_ids[start : start + 500]), "purpose": purpose}
        rows.extend((a, b, c, d, int(e)) for a, b, c, d, e in ctx.session.execute(stmt, params).all())
    return PURPOSE_STATES.fold(rows, subject_ids, purpose)


# --- stop-use (利用停止・第三者提供の停止, R-35-1; GDPR restriction / objection, G-18 / G-21) -------------------

ALL_PURPOSES = "*"
PROVISION = "@provision"
SUPPRESSION_SCOPES = ("purpose", "all", "provision")


def _suppression_target(ctx: Context, scope: str, purpose: str | None) -> str:
    if scope == "all":
        return ALL_PURPOSES
    if scope == "provision":
        return PROVISION
    if scope == "purpose" and purpose:
        purposes_service.show(ctx, purpose)  # NotFound for an unknown purpose code
        return purpose
    raise ValidationFailed(
        "停止の範囲は purpose（目的を指定）/ all / provision のいずれかです。",
        "The stop scope must be purpose (with a purpose code), all, or provision.",
        rule_id=R_35_1.id,
        code="bad_suppression_scope",
    )


def _suppression(
    ctx: Context, customer_id: str, scope: str, purpose: str | None, reference: str, action: str
) -> ConsentEventRead:
    authorise(ctx, Action.RIGHTS_MANAGE, _customer_resource(ctx, customer_id), [customer_id])
    target = _suppression_target(ctx, scope, purpose)
    now = ctx.clock.now()
    event = ConsentEvent(
        customer_id=customer_id,
        kind="suppression",
        target=target,
        action=action,
        method="request",
        notice_version=None,
        evidence=reference[:200],
        occurred_at=now,
        recorded_at=now,
        recorded_by=ctx.actor.label,
    )
    ctx.session.add(event)
    ctx.session.flush()
    record_write(ctx, f"consent.suppression.{action}", [customer_id], [target], rule_ids=(R_35_1.id,))
    return _read(event)


def suppress(
    ctx: Context, customer_id: str, scope: str, purpose: str | None, reference: str
) -> ConsentEventRead:
    """Stop using the person's data for one purpose, all purposes, or third-party provision (R-35-1).

    Takes effect at once: the policy engine sees it through ``purpose_states`` on the very next decision.
    ``reference`` names the request (no personal values).
    """
    return _suppression(ctx, customer_id, scope, purpose, reference, "stopped")


def lift_suppression(
    ctx: Context, customer_id: str, scope: str, purpose: str | None, reference: str
) -> ConsentEventRead:
    return _suppression(ctx, customer_id, scope, purpose, reference, "resumed")


def bulk_grant(ctx: Context, grants: Sequence[tuple[str, str, str, ConsentIn]]) -> int:
    """Append many ledger lines at once: (customer id, purpose code, granted|withdrawn, how)."""
    from sqlalchemy import insert

    now = ctx.clock.now()
    for *_, data in grants:
        _check_when(ctx, data, now)
    rows = [
        {
            "customer_id": cid,
            "kind": "purpose",
            "target": purpose,
            "action": action,
            "method": data.method,
            "notice_version": data.notice_version,
            "evidence": data.evidence,
            "occurred_at": data.occurred_at or now,
            "recorded_at": now,
            "recorded_by": ctx.actor.label,
            "guardian": data.guardian,
        }
        for cid, purpose, action, data in grants
    ]
    if rows:
        decide(ctx, Action.CONSENT_RECORD, Resource(kind="consent")).raise_if_denied()
        _require_guardians_for_children(ctx, grants)
        ctx.session.execute(insert(ConsentEvent), rows)
        record_write(
            ctx,
            "consent.bulk",
            sorted({str(r["customer_id"]) for r in rows}),
            ["consent"],
            rule_ids=(R_CNS_1.id,),
        )
    return len(rows)


# --- the stop-use lists for the staff web app's overview (issue 15): ids and codes, row scope, audited ------------


def _stopped_lines(ctx: Context, target: str | None = None) -> list[ConsentEvent]:
    """Stop-use lines in force for persons not erased whom the actor may see (CONSENT_READ and its row scope:
    a sales rep sees only their own customers, decided by the policy engine per person)."""
    authorise(ctx, Action.CONSENT_READ, Resource(kind="consent"))  # a role without it: refused and audited
    lines = list(ctx.session.execute(queries.stopped(target)).scalars())
    live = customer_subjects.existing(ctx, [e.customer_id for e in lines])
    lines = [e for e in lines if e.customer_id in live]
    if row_scope(ctx, Action.CONSENT_READ) == Scope.ALL:
        return lines
    seen: dict[str, bool] = {}
    for cid in dict.fromkeys(e.customer_id for e in lines):
        seen[cid] = decide(ctx, Action.CONSENT_READ, _customer_resource(ctx, cid)).allowed
    return [e for e in lines if seen[e.customer_id]]


def _scope_of(target: str) -> str:
    return "all" if target == ALL_PURPOSES else "provision" if target == PROVISION else "purpose"


def suppression_lists(ctx: Context) -> list[SuppressionCount]:
    """Each stop-use list in force (all use, third-party provision, one purpose) with how many persons are on it."""
    counts: dict[str, int] = {}
    for e in _stopped_lines(ctx):
        counts[e.target] = counts.get(e.target, 0) + 1
    record_read(ctx, Action.CONSENT_READ, [], ["suppression"])
    order = {ALL_PURPOSES: 0, PROVISION: 1}
    return [
        SuppressionCount(
            target=t,
            scope=_scope_of(t),
            purpose=t if _scope_of(t) == "purpose" else None,
            count=n,
        )
        for t, n in sorted(counts.items(), key=lambda kv: (order.get(kv[0], 2), kv[0]))
    ]


def suppressed(ctx: Context, scope: str, purpose: str | None, *, limit: int = 500) -> list[SuppressedPerson]:
    """The persons on one stop-use list (newest first, at most ``limit``): opaque ids, dates, references."""
    authorise(ctx, Action.CONSENT_READ, Resource(kind="consent"))  # before the purpose lookup
    target = _suppression_target(ctx, scope, purpose)
    lines = _stopped_lines(ctx, target)[: max(1, limit)]
    record_read(ctx, Action.CONSENT_READ, [e.customer_id for e in lines], ["suppression"])
    return [
        SuppressedPerson(
            customer_id=e.customer_id, since=e.occurred_at, reference=e.evidence, recorded_by=e.recorded_by
        )
        for e in lines
    ]
