"""What an outsourcee gets: the operator's grant (R-25-1, R-28-1) and handovers (R-25-1, R-27-2)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import insert

from mamori.customers.service import subjects
from mamori.kernel.auditing import audits_refusals, record_write, refusals_audited
from mamori.kernel.context import ActorKind, Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from mamori.kernel.policy import Action, Decision
from mamori.kernel.registry import AccessGrant, EntrustmentCheck
from mamori.law.rules import R_17_2, R_25_1, R_27_2, R_28_1, R_CNS_1
from mamori.processors import queries
from mamori.processors.models import (
    ProcessorContract,
    ProcessorHandover,
    ProcessorHandoverSubject,
)
from mamori.processors.schemas import (
    HANDOVER_FIELDS,
    Handover,
    HandoverIn,
    HandoverRecord,
)
from mamori.processors.service.common import (
    CHUNK,
    RULE_NOT_NOTIFIED,
    authorise_processor,
    contract_row,
    is_foreign,
    window,
)
from mamori.provision import service as provision_service
from mamori.provision.models import Counterparty
from mamori.provision.service.counterparties import foreign_refusals_for
from mamori.provision.service.providing import record_entrustment

# -- the grant an operator acts under (registered with the kernel) -------------------------------------------

_GRANT_MEMO = "processors.grant"


def _foreign_refusals(ctx: Context, party: Counterparty, customer_ids: Sequence[str]) -> dict[str, str]:
    """Customers a foreign outsourcee may not receive (R-28-1: 委託 does not remove the foreign-transfer rule).

    Called with the operator's own Context by the grant provider, so it uses provision's unauthorised helper
    (the caller has already decided); the handover path goes through the authorised service function.
    """
    if not customer_ids:
        return {}
    return dict(foreign_refusals_for(ctx, party, list(customer_ids)))


def running_grant(ctx: Context) -> AccessGrant | None:
    """The AccessGrant of an outsourcee operator's running contract, or None (then they see nothing; R-25-1).

    Suspended (failed audit), ended and draft contracts grant nothing; the validity window is checked by the
    policy engine against the clock.
    """
    if ctx.actor.kind != ActorKind.OUTSOURCEE:
        return None
    key = (_GRANT_MEMO, ctx.actor.id)
    if key in ctx.memo:
        cached = ctx.memo[key]
        return cached if isinstance(cached, AccessGrant) else None
    grant: AccessGrant | None = None
    link = ctx.session.execute(queries.operator_link(ctx.actor.id)).scalar_one_or_none()
    row = ctx.session.execute(queries.contract(link.contract_id)).scalar_one_or_none() if link else None
    if row is not None and row.status == "active":
        ids = list(ctx.session.execute(queries.covered_ids(row.id)).scalars())
        party = ctx.session.execute(queries.counterparty(row.counterparty_id)).scalar_one_or_none()
        if party is not None and is_foreign(party.country):
            refused = _foreign_refusals(ctx, party, ids)
            ids = [c for c in ids if c not in refused]
        start, until = window(row)
        grant = AccessGrant(
            contract_id=row.id,
            purposes=frozenset(row.purposes),
            fields=frozenset(row.fields),
            customer_ids=frozenset(ids),
            valid_from=start,
            valid_until=until,
            activity_write=row.activity_write,
        )
    ctx.memo[key] = grant
    return grant


# -- the checks every entrustment runs (processors handover and provide --basis entrustment) -----------------


def _withheld_rule(decision: Decision) -> str:
    if decision.code.startswith("consent_"):
        return R_CNS_1.id  # consent the purpose needs (APPI, or the GDPR for EU/UK-origin people)
    return decision.rule_ids[0] if decision.rule_ids else R_25_1.id


CONTACT_PLURAL = {"email": "emails", "phone": "phones"}


def ensure_running(ctx: Context, row: ProcessorContract) -> None:
    """R-25-1: data goes to an outsourcee only under a running contract (active, inside its window) whose latest
    selection evaluation passed — a contract cannot start without one, and a later failed re-evaluation stops
    further handovers until a new evaluation passes."""
    start, until = window(row)
    now = ctx.clock.now()
    if row.status != "active" or not start <= now < until:
        raise PolicyDenied(
            "実施中の委託契約がないため引き渡せません。",
            "The outsourcing contract is not running.",
            rule_id=R_25_1.id,
            code="contract_not_running",
            details={"contract_id": row.id, "status": row.status},
        )
    evaluations = list(ctx.session.execute(queries.evaluations([row.id])).scalars())
    if not evaluations or evaluations[-1].result != "passed":
        raise PolicyDenied(
            "委託先の選定評価（合格）がないため引き渡せません。",
            "No passed selection evaluation of the outsourcee.",
            rule_id=R_25_1.id,
            code="evaluation_not_passed",
            details={"contract_id": row.id},
        )


def check_fields(row: ProcessorContract, fields: Sequence[str]) -> list[str]:
    """R-25-1: only the fields the entrusted work needs (the contract's fields), and only exportable ones.

    ``email`` / ``phone`` (provide's first registered contact) count as the contract's ``emails`` / ``phones``."""
    unneeded = sorted(f for f in fields if CONTACT_PLURAL.get(f, f) not in row.fields)
    if unneeded:
        # R-25-1: never hand over data the entrusted work does not need.
        raise PolicyDenied(
            "委託された業務に必要のない項目は引き渡せません: " + ", ".join(unneeded),
            "Fields the entrusted work does not need cannot be handed over: " + ", ".join(unneeded),
            rule_id=R_25_1.id,
            code="field_not_needed",
            details={"fields": unneeded},
        )
    not_exportable = sorted(
        f for f in fields if CONTACT_PLURAL.get(f, f) not in HANDOVER_FIELDS and not f.startswith("attr:")
    )
    if not_exportable or not fields:
        raise ValidationFailed(
            "引渡しファイルに含められない項目です: " + ", ".join(not_exportable or ["(none)"]),
            "These fields cannot go into a handover file: " + ", ".join(not_exportable or ["(none)"]),
            code="field_not_exportable",
        )
    return list(fields)


def person_refusals(
    ctx: Context,
    row: ProcessorContract,
    ids: list[str],
    purposes: Sequence[str],
    fields: Sequence[str] = (),
) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """Split customers into those whose data may go to the outsourcee (→ the purpose it goes for) and those
    withheld (→ rule id, reason code).

    A customer may go when the contract covers them (R-25-1) and at least one of ``purposes`` passes the same
    policy checks as a read: notified (R-21-1/R-18-1), not stopped (R-35-1), consented where needed; otherwise
    the first refusal other than "not notified" is reported. With ``fields``, a purpose passes for a person only
    when the version of it notified to them covers every field's category (R-18-1; a category only a newer
    version covers: R-17-2 — they must be notified of it first)."""
    covered: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        covered.update(
            ctx.session.execute(queries.covered_among(row.id, ids[start : start + CHUNK])).scalars()
        )
    withheld: dict[str, tuple[str, str]] = {
        cid: (R_25_1.id, "not_covered") for cid in ids if cid not in covered
    }
    candidates = [c for c in ids if c in covered]
    refusals = {purpose: subjects.purpose_refusals(ctx, candidates, purpose) for purpose in purposes}
    outside = {
        purpose: subjects.fields_outside_notified_purpose(ctx, candidates, fields, purpose) if fields else {}
        for purpose in purposes
    }
    usable: dict[str, str] = {}
    for cid in candidates:
        passing = [p for p in purposes if cid not in refusals[p] and cid not in outside[p]]
        if passing:
            usable[cid] = passing[0]
            continue
        beyond = [outside[p][cid][0] for p in purposes if cid not in refusals[p] and cid in outside[p]]
        if beyond:
            rule = R_17_2.id if R_17_2.id in beyond else beyond[0]
            withheld[cid] = (
                rule,
                "purpose_version_not_notified" if rule == R_17_2.id else "field_outside_purpose",
            )
            continue
        mine = [refusals[p][cid] for p in purposes]
        telling = [d for d in mine if d.code != "purpose_not_notified"]
        if telling:
            withheld[cid] = (_withheld_rule(telling[0]), telling[0].code)
        else:
            withheld[cid] = (RULE_NOT_NOTIFIED, "not_notified")
    return usable, withheld


def write_log(
    ctx: Context,
    row: ProcessorContract,
    fields: Sequence[str],
    included: Sequence[str],
    withheld: int,
    method: str,
    *,
    foreign: bool,
) -> ProcessorHandover:
    """The handover log (ids and field names only) and its audit entry (R-25-1, R-27-2)."""
    record = ProcessorHandover(
        id=new_id(),
        contract_id=row.id,
        fields=list(fields),
        customer_count=len(included),
        withheld_count=withheld,
        method=method,
        handed_at=ctx.clock.now(),
        handed_by=ctx.actor.label,
    )
    ctx.session.add(record)
    ctx.session.flush()
    if included:
        ctx.session.execute(
            insert(ProcessorHandoverSubject), [{"handover_id": record.id, "customer_id": c} for c in included]
        )
    rules = (R_25_1.id, R_27_2.id, R_28_1.id) if foreign else (R_25_1.id, R_27_2.id)
    record_write(
        ctx,
        HANDOVER_ACTION,
        included,
        fields,
        rule_ids=rules,
        details={
            "contract_id": row.id,
            "handover_id": record.id,
            "count": len(included),
            "withheld": withheld,
            "method": method,
        },
    )
    return record


# -- handover ------------------------------------------------------------------------------------------------


# Every refusal of a handover is audited (own connection, survives the rollback): the role, a contract that is not
# running (R-25-1), fields the work does not need (R-25-1) — under the handover's own action name.
HANDOVER_ACTION = "processors.handover"


@audits_refusals(HANDOVER_ACTION)
def handover(ctx: Context, contract_id: str, data: HandoverIn, *, method: str = "file") -> Handover:
    """Hand the contract's customers' data to the outsourcee: only the fields the work needs (R-25-1), only
    for a contract purpose, and for a foreign outsourcee only with the R-28-1 basis. Logged without values;
    abroad outside the EU/UK the outsourcee is a third party, so each person also gets a provision record
    (R-28-1, R-29-1) written by the provision service."""
    authorise_processor(ctx, Action.PROCESSOR_MANAGE)
    row = contract_row(ctx, contract_id)
    ensure_running(ctx, row)
    fields = check_fields(
        row, data.fields if data.fields is not None else [f for f in row.fields if f != "activities"]
    )
    covered = list(ctx.session.execute(queries.covered_ids(row.id)).scalars())
    live = subjects.existing(ctx, covered)
    ids = [c for c in covered if c in live]
    usable_for, withheld_why = person_refusals(ctx, row, ids, row.purposes, fields)
    withheld = {cid: rule for cid, (rule, _reason) in withheld_why.items()}
    usable = list(usable_for)
    party = ctx.session.execute(queries.counterparty(row.counterparty_id)).scalar_one()
    foreign = is_foreign(party.country)
    if foreign:
        refused = provision_service.foreign_transfer_refusals(ctx, party.id, usable) if usable else {}
        for cid, rule in refused.items():
            withheld[cid] = rule or R_28_1.id
        usable = [c for c in usable if c not in refused]
    values = subjects.read_fields(ctx, usable, fields) if usable else {}
    rows: list[dict[str, str | None]] = [
        {"customer_id": cid, **{f: values[cid].get(f) for f in fields}} for cid in usable if cid in values
    ]
    included = [r["customer_id"] for r in rows if r["customer_id"] is not None]
    record = write_log(ctx, row, fields, included, len(withheld), method, foreign=foreign)
    if foreign and included:
        # R-28-1 / R-29-1: outside Japan (and the EU/UK) an outsourcee is a third party — record each person.
        record_entrustment(
            ctx, party.id, {cid: usable_for[cid] for cid in included}, fields, handover_id=record.id
        )
    withheld_rules = dict(sorted(Counter(withheld.values()).items()))
    return Handover(
        record=HandoverRecord(
            id=record.id,
            contract_id=row.id,
            fields=list(fields),
            customer_count=len(included),
            withheld_count=len(withheld),
            withheld_rules=withheld_rules,
            method=method,
            handed_at=record.handed_at,
            handed_by=ctx.actor.label,
        ),
        rows=rows,
    )


# -- the gate provision uses for provide --basis entrustment (registered by mamori.processors.sources) -------


class _EntrustmentGate:
    """``provide --basis entrustment`` runs exactly the handover checks above (kernel registry hook)."""

    def check(
        self,
        ctx: Context,
        counterparty_id: str,
        purpose: str,
        fields: Sequence[str],
        customer_ids: Sequence[str],
    ) -> EntrustmentCheck:
        with refusals_audited(ctx, HANDOVER_ACTION):  # provide --basis entrustment: its refusals audited too
            return self._check(ctx, counterparty_id, purpose, fields, customer_ids)

    def _check(
        self,
        ctx: Context,
        counterparty_id: str,
        purpose: str,
        fields: Sequence[str],
        customer_ids: Sequence[str],
    ) -> EntrustmentCheck:
        authorise_processor(ctx, Action.PROCESSOR_MANAGE)
        rows = list(ctx.session.execute(queries.contracts_with(counterparty_id)).scalars())
        if not rows:
            raise PolicyDenied(
                "この委託先との委託契約がないため、委託として提供できません。",
                "There is no outsourcing contract with this outsourcee, so nothing can be entrusted.",
                rule_id=R_25_1.id,
                code="no_contract",
                details={"counterparty_id": counterparty_id},
            )
        running: list[ProcessorContract] = []
        last_error: PolicyDenied | None = None
        for row in rows:
            try:
                ensure_running(ctx, row)
            except PolicyDenied as exc:
                last_error = exc
                continue
            running.append(row)
        if not running:
            assert last_error is not None
            raise last_error
        within = [r for r in running if purpose in r.purposes]
        if not within:
            # R-27-2 (a): entrustment only within the purposes of the entrusted work.
            raise PolicyDenied(
                f"利用目的「{purpose}」は委託された業務の目的ではありません。",
                f"Purpose '{purpose}' is not a purpose of the entrusted work.",
                rule_id=R_27_2.id,
                code="purpose_outside_contract",
                details={"counterparty_id": counterparty_id},
            )
        fitting = [r for r in within if all(f in r.fields for f in fields)]
        row = fitting[0] if fitting else within[0]
        check_fields(row, fields)
        _usable, withheld = person_refusals(ctx, row, list(customer_ids), [purpose])
        return EntrustmentCheck(contract_id=row.id, withheld=withheld)

    def log(
        self,
        ctx: Context,
        contract_id: str,
        fields: Sequence[str],
        customer_ids: Sequence[str],
        withheld: int,
        method: str,
    ) -> str:
        row = contract_row(ctx, contract_id)
        party = ctx.session.execute(queries.counterparty(row.counterparty_id)).scalar_one()
        record = write_log(
            ctx, row, fields, list(customer_ids), withheld, method, foreign=is_foreign(party.country)
        )
        return record.id


ENTRUSTMENT_GATE = _EntrustmentGate()


def list_handovers(ctx: Context, contract_id: str) -> list[HandoverRecord]:
    """The handover log of a contract (when, who, how many, which fields — never a value)."""
    authorise_processor(ctx, Action.PROCESSOR_READ)
    row = contract_row(ctx, contract_id)
    out = [
        HandoverRecord(
            id=h.id,
            contract_id=h.contract_id,
            fields=list(h.fields),
            customer_count=h.customer_count,
            withheld_count=h.withheld_count,
            withheld_rules={},
            method=h.method,
            handed_at=h.handed_at,
            handed_by=h.handed_by,
        )
        for h in ctx.session.execute(queries.handovers(row.id)).scalars()
    ]
    return out
