"""Providing personal data to a counterparty: the per-person legal check (consent R-27-1, recorded 27(1)
exception, opt-out R-27-4/5, joint use R-27-2, foreign R-28-1/3, stop requests R-35-1), the export of only the
named fields, and the automatic record (R-29-1/2/3/4)."""

from __future__ import annotations

from mamori.customers.service import subjects
from mamori.kernel import registry
from mamori.kernel.auditing import record_denial, record_read, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.policy import Decision
from mamori.law.rules import (
    R_2_3_2,
    R_17_2,
    R_18_1,
    R_20_1,
    R_21_1,
    R_25_1,
    R_27_1,
    R_27_2,
    R_27_4,
    R_27_5,
    R_28_1,
    R_29_1,
    R_29_2,
    R_29_3,
    R_35_1,
)
from mamori.provision import queries
from mamori.provision.models import Counterparty, Provision
from mamori.provision.schemas import ProvideIn, ProvisionPreview, ProvisionResult, Refusal
from mamori.provision.service import joint_use, opt_out
from mamori.provision.service.common import can_manage, join, seal
from mamori.provision.service.counterparties import (
    EQUIVALENT_COUNTRIES,
    foreign_refusals_for,
    get_row,
    is_foreign,
)
from mamori.provision.service.records import open_bulk_map, write_record
from mamori.purposes import service as purposes_service

# Which counterparty kinds each basis applies to.
BASIS_KINDS = {
    "consent": {"third_party", "joint_user", "succession", "outsourcee"},
    "exception": {"third_party", "joint_user", "succession", "outsourcee"},
    "opt_out": {"third_party"},
    "joint_use": {"joint_user"},
    "entrustment": {"outsourcee"},
    "succession": {"succession"},
}
# R-29-3 (1): provision needing no record — a 27(1) exception or a non-third party (27(5)).
EXEMPT_CODES = {
    "exception": "27-1-{code}",
    "joint_use": "27-5-3",
    "entrustment": "27-5-1",
    "succession": "27-5-2",
}
PUBLIC_BODY_EXEMPT = "16-2"  # R-29-3 (2): state organs, local governments, 独立行政法人等
IDENTIFYING_FIELDS = ("name",)  # R-29-2: information identifying the principal


class ProvisionRefused(PolicyDenied):
    """Some persons may not be provided; ``refusals`` lists each person id with its rule id (no values).

    The message names up to ``LISTED`` refused ids with their rule ids (ids are not personal values), so the API's
    problem document carries them too; ``details["refused"]`` has the full list."""

    code = "provision_refused"
    LISTED = 100

    def __init__(self, refusals: list[Refusal]) -> None:
        first = refusals[0].rule_id
        listed = "; ".join(f"{r.customer_id} [{r.rule_id}]" for r in refusals[: self.LISTED])
        more = len(refusals) - self.LISTED
        tail_ja = f"（他 {more} 人）" if more > 0 else ""
        tail_en = f" (+{more} more)" if more > 0 else ""
        self.summary_ja = f"{len(refusals)} 人は提供できないため、何も提供していません（提供できない人を除けば残りを提供できます）。"
        self.summary_en = f"{len(refusals)} persons may not be provided; nothing was provided (skipping the refused persons provides the rest)."
        super().__init__(
            f"{self.summary_ja} {listed}{tail_ja}",
            f"{self.summary_en} {listed}{tail_en}",
            rule_id=first,
            details={"refused": [r.model_dump() for r in refusals]},
        )
        self.refusals = refusals


def _resolve_ids(ctx: Context, data: ProvideIn) -> list[str]:
    if (data.customer_ids is None) == (data.notified_purpose is None):
        raise ValidationFailed(
            "顧客IDの一覧か、利用目的による抽出（notified_purpose）のどちらか一方を指定してください。",
            "Give either customer ids or a query (notified_purpose), not both.",
            code="bad_selection",
        )
    if data.customer_ids is not None:
        ids = list(dict.fromkeys(data.customer_ids))
        live = subjects.existing(ctx, ids)
        missing = [c for c in ids if c not in live]
        if missing:
            raise NotFound(
                f"{len(missing)} 人の顧客が見つかりません（削除済みを含む）: {', '.join(missing[:20])}",
                f"{len(missing)} customers not found (or erased): {', '.join(missing[:20])}",
                code="customer_not_found",
            )
        return ids
    return subjects.ids_with_purpose(ctx, data.notified_purpose or "")


def _check_fields(fields: list[str]) -> None:
    bad = [f for f in fields if f not in subjects.FIELD_NAMES and not (f.startswith("attr:") and len(f) > 5)]
    if bad:
        raise ValidationFailed(
            "提供できない項目です: " + ", ".join(sorted(bad)),
            "Unknown fields: " + ", ".join(sorted(bad)),
            code="unknown_field",
        )


def _basis_check(ctx: Context, data: ProvideIn, cp: Counterparty) -> None:
    if cp.kind not in BASIS_KINDS[data.basis]:
        raise PolicyDenied(
            f"提供先の種別（{cp.kind}）にこの根拠（{data.basis}）は使えません。",
            f"Basis '{data.basis}' does not apply to a counterparty of kind '{cp.kind}'.",
            rule_id=R_27_2.id if data.basis in ("joint_use", "entrustment", "succession") else R_27_1.id,
            code="basis_not_applicable",
        )
    if data.basis == "exception" and data.exception is None:
        raise ValidationFailed(
            "法27条1項の例外には、その区分・判断者・理由が必要です。",
            "An Art. 27(1) exception needs its code, who decided and why.",
            rule_id=R_27_1.id,
            code="exception_required",
        )
    if data.basis != "exception" and data.exception is not None:
        raise ValidationFailed(
            "例外は basis=exception のときだけ指定できます。",
            "An exception is given only with basis=exception.",
            code="exception_unexpected",
        )
    if data.basis == "opt_out":
        if data.continuous:
            raise ValidationFailed(
                "オプトアウトによる提供は一括記録（継続的提供）にできません。",
                "Opt-out provision cannot use a bulk record.",
                rule_id=R_29_1.id,
                code="bulk_opt_out",
            )
        if data.opt_out_filing_id is None:
            raise PolicyDenied(
                "オプトアウトによる提供には届出の記録が必要です。",
                "Opt-out provision needs a recorded PPC filing.",
                rule_id=R_27_4.id,
                code="no_filing",
            )
        filing = opt_out.get(ctx, data.opt_out_filing_id)
        now = ctx.clock.now()
        issues = opt_out.problems(filing, now)
        if opt_out.pending_advance_change(ctx, filing, now):
            issues.append("変更の効力発生前 / a change is not yet effective")
        if filing.purpose != data.purpose:
            issues.append("届出の利用目的と異なる / purpose differs from the filing")
        if filing.counterparty_id is not None and filing.counterparty_id != cp.id:
            issues.append("届出の提供先と異なる / recipient differs from the filing")
        outside = sorted(set(data.fields) - set(filing.items.split(",")))
        if outside:
            issues.append("届出にない項目 / fields not in the filing: " + ", ".join(outside))
        if issues:
            raise PolicyDenied(
                "オプトアウトによる提供の要件を満たしていません: "
                + "; ".join(i.split(" / ")[0] for i in issues),
                "Opt-out provision requirements not met: " + "; ".join(i.split(" / ")[-1] for i in issues),
                rule_id=R_27_4.id,
                code="opt_out_not_ready",
            )
    if data.basis == "joint_use":
        why = joint_use.refusal_for(
            ctx, data.joint_use_id, cp.id, data.purpose, list(data.fields), ctx.clock.now()
        )
        if why is not None:
            raise PolicyDenied(
                "共同利用の範囲外です: " + why.split(" / ")[0],
                "Not covered by the joint use as notified to the persons: " + why.split(" / ")[-1],
                rule_id=R_27_2.id,
                code="joint_use_not_covered",
            )


def _entrustment(
    ctx: Context, data: ProvideIn, cp: Counterparty, ids: list[str]
) -> registry.EntrustmentCheck:
    """R-25-1 / R-27-2: an entrustment runs the processors rules (running contract with this outsourcee, passed
    selection evaluation, purpose and fields within the contract, per person covered / notified / not stopped)
    through the kernel hook the processors slice registers. Without it nothing is entrusted (fail closed)."""
    gate = registry.entrustment_gate()
    if gate is None:
        raise PolicyDenied(
            "委託先の監督（委託契約の確認）が利用できないため、委託として提供できません。",
            "Outsourcee supervision (the contract checks) is not available, so nothing can be entrusted.",
            rule_id=R_25_1.id,
            code="entrustment_unavailable",
        )
    return gate.check(ctx, cp.id, data.purpose, list(data.fields), ids)


# How a read-policy refusal under the provided purpose shows in a succession refusal (R-18-1/R-21-1, R-35-1).
SUCCESSION_REFUSED = {
    "purpose_not_notified": (R_21_1.id, "not_notified"),
    "use_stopped": (R_35_1.id, "use_stopped"),
}


def _person_refusals(
    ctx: Context,
    data: ProvideIn,
    cp: Counterparty,
    ids: list[str],
    entrusted: registry.EntrustmentCheck | None = None,
) -> dict[str, Refusal]:
    out: dict[str, Refusal] = {}

    def refuse(cid: str, rule: str, reason: str) -> None:
        out.setdefault(cid, Refusal(customer_id=cid, rule_id=rule, reason=reason))

    # R-35-1: a person who asked to stop third-party provision (a legal exception still applies).
    if data.basis != "exception":
        for cid, st in registry.purpose_states(ctx, ids, data.purpose).items():
            if st.provision_stopped:
                refuse(cid, R_35_1.id, "provision_stopped")
    if entrusted is not None:
        # R-25-1 / R-21-1 / R-35-1: the processors checks per person (covered, notified, not stopped …).
        for cid in ids:
            if cid in entrusted.withheld:
                rule, reason = entrusted.withheld[cid]
                refuse(cid, rule, reason)
    if data.basis == "succession":
        # R-18-1 / R-21-1, R-35-1: only people told of the purpose and not stopped go to the successor.
        for cid, decision in subjects.purpose_refusals(ctx, ids, data.purpose).items():
            if decision.code in SUCCESSION_REFUSED:
                rule, reason = SUCCESSION_REFUSED[decision.code]
                refuse(cid, rule, reason)
    if data.basis == "consent":
        consented: set[str] = set()
        for start in range(0, len(ids), 500):
            for row in ctx.session.execute(
                queries.active_consents(cp.id, data.purpose, ids[start : start + 500])
            ).all():
                consented.add(row[0])
        for cid in ids:
            if cid not in consented:
                refuse(cid, R_27_1.id, "no_consent")
    if data.basis == "opt_out":
        # R-27-5 / R-2.3-2: never 要配慮 data, improperly acquired data, or data itself received by opt-out.
        for cid in sorted(subjects.sensitive_subjects(ctx, ids)):
            refuse(cid, R_27_5.id, "sensitive")
        for start in range(0, len(ids), 500):
            for cid, flag in ctx.session.execute(queries.lineage_flags(ids[start : start + 500])).all():
                refuse(cid, R_27_5.id, flag)
    if data.basis != "exception":
        # R-18-1: only data of the categories the purpose covers for this person; R-17-2 / R-21-1: a category only
        # a newer version covers goes nowhere for a person told an older version until they are notified of it.
        outside = subjects.fields_outside_notified_purpose(ctx, ids, list(data.fields), data.purpose)
        for cid, (rule, _fields) in outside.items():
            refuse(
                cid, rule, "purpose_version_not_notified" if rule == R_17_2.id else "field_outside_purpose"
            )
    if data.basis != "exception":
        # R-28-1 (c): only the 27(1) exceptions lift the foreign requirement.
        purpose = data.purpose if data.basis == "consent" else None
        for cid, rule in foreign_refusals_for(ctx, cp, ids, purpose).items():
            refuse(cid, rule, "foreign")
    return out


def _evaluate(
    ctx: Context, data: ProvideIn
) -> tuple[Counterparty, list[str], registry.EntrustmentCheck | None, list[Refusal]]:
    """The whole check of a provision, writing nothing: the counterparty, the selected persons, the entrustment
    decision and the per-person refusals in selection order. ``provide`` and ``preview`` share it, so a preview
    shows exactly what the provision would decide."""
    can_manage(ctx)
    cp = get_row(ctx, data.counterparty_id)
    if purposes_service.facts(ctx, data.purpose) is None:
        raise NotFound(
            f"利用目的「{data.purpose}」は登録されていません。",
            f"Purpose '{data.purpose}' is not registered.",
            rule_id="R-17-1",
            code="purpose_unknown",
        )
    _check_fields(list(data.fields))
    _basis_check(ctx, data, cp)
    ids = _resolve_ids(ctx, data)
    if not ids:
        raise ValidationFailed("提供対象の顧客がいません。", "No customers selected.", code="no_customers")
    entrusted = _entrustment(ctx, data, cp, ids) if data.basis == "entrustment" else None
    refusals = _person_refusals(ctx, data, cp, ids, entrusted)
    return cp, ids, entrusted, [refusals[c] for c in ids if c in refusals]


def preview(ctx: Context, data: ProvideIn) -> ProvisionPreview:
    """A dry run of ``provide`` (the web wizard's 確認 step): who would be provided and who would be refused, with
    the rule id and reason of each refusal. Nothing is provided, recorded or exported; the check itself is audited
    as a read (which persons were checked, no values)."""
    cp, ids, _entrusted, ordered = _evaluate(ctx, data)
    refused = {r.customer_id for r in ordered}
    record_read(
        ctx,
        "provision.provide.preview",
        ids,
        ["provision_check"],
        rule_ids=tuple(sorted({r.rule_id for r in ordered})),
    )
    return ProvisionPreview(
        counterparty_id=cp.id,
        purpose=data.purpose,
        basis=data.basis,
        fields=list(data.fields),
        selected=len(ids),
        provided_ids=[c for c in ids if c not in refused],
        refused=ordered,
    )


def provide(ctx: Context, data: ProvideIn) -> ProvisionResult:
    """Provide the named fields of the selected customers to a counterparty.

    All-or-nothing by default: any refused person refuses the whole provision (ProvisionRefused lists each id
    and its rule id); ``skip_refused`` provides the rest. Every provided person gets a record (R-29-1/2), or an
    exempt record with its R-29-3 code; records are sealed under a system key and kept until their retention
    ends (R-29-4), even after the person's erasure.
    """
    cp, ids, entrusted, ordered = _evaluate(ctx, data)
    fields = list(data.fields)
    if ordered and not data.skip_refused:
        decision = Decision(
            False, tuple(sorted({r.rule_id for r in ordered})), code="provision_refused", reason_en="refused"
        )
        record_denial(ctx, "provision.provide", [r.customer_id for r in ordered], decision)
        raise ProvisionRefused(ordered)
    refused_ids = {r.customer_id for r in ordered}
    allowed = [c for c in ids if c not in refused_ids]
    now = ctx.clock.now()
    provision_id = new_id()
    exception = data.exception
    prov = Provision(
        id=provision_id,
        counterparty_id=cp.id,
        purpose=data.purpose,
        basis=data.basis,
        exception_code=exception.code if exception else None,
        exception_reason_enc=seal(ctx, "provisions", "exception_reason", provision_id, exception.reason)
        if exception
        else None,
        decided_by=exception.decided_by if exception else None,
        opt_out_filing_id=data.opt_out_filing_id if data.basis == "opt_out" else None,
        joint_use_id=data.joint_use_id if data.basis == "joint_use" else None,
        fields=join(fields),
        out_format=data.out_format,
        person_count=len(allowed),
        refused_count=len(ordered),
        provided_at=now,
        provided_by=ctx.actor.label,
    )
    ctx.session.add(prov)
    ctx.session.flush()
    rows_out: list[dict[str, str | None]] = []
    record_ids: list[str] = []
    if allowed:
        wanted = list(dict.fromkeys([*fields, *IDENTIFYING_FIELDS]))
        values = subjects.read_fields(ctx, allowed, wanted)
        consents: dict[str, tuple[str, str]] = {}
        if data.basis == "consent":
            for start in range(0, len(allowed), 500):
                for cid, consent_id, method, _f, _v in ctx.session.execute(
                    queries.active_consents(cp.id, data.purpose, allowed[start : start + 500])
                ).all():
                    consents.setdefault(cid, (consent_id, method))
        exempt = EXEMPT_CODES.get(data.basis)
        if exempt and exception:
            exempt = exempt.format(code=exception.code)
        elif exempt and is_foreign(cp) and cp.country not in EQUIVALENT_COUNTRIES:
            # R-29-3: for provision abroad under Art. 28 only the 27(1) exceptions lift the record duty; a
            # foreign joint user, outsourcee or successor is a third party there, so the record is required.
            exempt = None
        if cp.public_body:
            exempt = exempt or PUBLIC_BODY_EXEMPT
        kind = data.basis if not exempt else "exempt"
        bulk = data.continuous and data.basis != "opt_out"
        open_bulk = open_bulk_map(ctx, allowed, cp.id, data.purpose, kind, fields) if bulk else {}
        for cid in allowed:
            person = values.get(cid, {})
            rows_out.append({"customer_id": cid, **{f: person.get(f) for f in fields}})
            consent_fact = None
            if cid in consents:
                consent_fact = f"consent:{consents[cid][0]} ({consents[cid][1]})"
            elif data.basis == "opt_out":
                consent_fact = f"opt_out:{data.opt_out_filing_id}"
            elif exception is not None:
                consent_fact = f"exception:{exception.code}"
            elif data.basis == "joint_use":
                consent_fact = f"joint_use:{data.joint_use_id}"
            elif data.basis in ("entrustment", "succession"):
                consent_fact = f"{data.basis} (abroad: foreign consent or 基準適合体制, R-28-1)"
            rec = write_record(
                ctx,
                direction="provided",
                kind=kind,
                customer_id=cid,
                counterparty=cp,
                purpose=data.purpose,
                items=fields,
                consent_fact=consent_fact,
                subject={f: person.get(f) for f in IDENTIFYING_FIELDS},
                exempt_code=exempt,
                bulk=bulk,
                medium=data.medium,
                provision_id=provision_id,
                open_bulk=open_bulk.get(cid),
                bulk_looked_up=bulk,
            )
            record_ids.append(rec.id)
        ctx.session.flush()
    handover_id = None
    gate = registry.entrustment_gate()
    if entrusted is not None and gate is not None:
        # R-25-1: an entrustment is a handover to the outsourcee, logged as such by the processors slice.
        handover_id = gate.log(ctx, entrusted.contract_id, fields, allowed, len(ordered), "provide")
    rules = {
        "consent": (R_27_1.id, R_29_1.id, R_29_2.id),
        "exception": (R_27_1.id, R_29_3.id),
        "opt_out": (R_27_4.id, R_27_5.id, R_2_3_2.id, R_29_1.id, R_29_2.id),
        "joint_use": (R_27_2.id, R_29_3.id),
        "entrustment": (R_25_1.id, R_27_2.id, R_29_3.id, R_21_1.id, R_35_1.id),
        "succession": (R_27_2.id, R_29_3.id, R_18_1.id, R_21_1.id, R_35_1.id),
    }[data.basis]
    if cp.country != "JP":
        rules = (*rules, R_28_1.id)
    record_write(
        ctx,
        "provision.provide",
        allowed,
        fields,
        rule_ids=rules,
        details={
            "provision_id": provision_id,
            "counterparty_id": cp.id,
            "basis": data.basis,
            "refused": len(ordered),
            **({"contract_id": entrusted.contract_id, "handover_id": handover_id} if entrusted else {}),
        },
    )
    return ProvisionResult(
        provision_id=provision_id,
        counterparty_id=cp.id,
        purpose=data.purpose,
        basis=data.basis,
        fields=fields,
        provided=len(allowed),
        refused=ordered,
        record_ids=record_ids,
        rows=rows_out,
        contract_id=entrusted.contract_id if entrusted else None,
        handover_id=handover_id,
    )


def record_entrustment(
    ctx: Context,
    counterparty_id: str,
    purposes: dict[str, str],
    fields: list[str],
    *,
    handover_id: str,
) -> list[str]:
    """Provision records for a processors handover to a foreign outsourcee (R-28-1, R-29-1).

    ``purposes`` maps each handed-over customer to the contract purpose their data went for. Abroad outside the
    EU/UK (R-28-1) an outsourcee is a third party, so each person gets a full record (no 27(5) exemption,
    R-29-3); in Japan or an equivalent country nothing is written and ``[]`` comes back."""
    can_manage(ctx)
    cp = get_row(ctx, counterparty_id)
    if not is_foreign(cp) or cp.country in EQUIVALENT_COUNTRIES or not purposes:
        return []
    now = ctx.clock.now()
    values = subjects.read_fields(ctx, list(purposes), list(IDENTIFYING_FIELDS))
    by_purpose: dict[str, list[str]] = {}
    for cid, purpose in purposes.items():
        by_purpose.setdefault(purpose, []).append(cid)
    record_ids: list[str] = []
    for purpose, ids in sorted(by_purpose.items()):
        provision_id = new_id()
        ctx.session.add(
            Provision(
                id=provision_id,
                counterparty_id=cp.id,
                purpose=purpose,
                basis="entrustment",
                fields=join(fields),
                out_format="csv",
                person_count=len(ids),
                refused_count=0,
                provided_at=now,
                provided_by=ctx.actor.label,
            )
        )
        ctx.session.flush()
        for cid in ids:
            rec = write_record(
                ctx,
                direction="provided",
                kind="entrustment",
                customer_id=cid,
                counterparty=cp,
                purpose=purpose,
                items=fields,
                consent_fact=f"entrustment:handover {handover_id} (abroad: foreign consent or 基準適合体制, R-28-1)",
                subject={f: values.get(cid, {}).get(f) for f in IDENTIFYING_FIELDS},  # R-29-2
                provision_id=provision_id,
            )
            record_ids.append(rec.id)
    ctx.session.flush()
    record_write(
        ctx,
        "provision.provide",
        list(purposes),
        fields,
        rule_ids=(R_25_1.id, R_28_1.id, R_29_1.id, R_29_2.id),
        details={"counterparty_id": cp.id, "basis": "entrustment", "handover_id": handover_id},
    )
    return record_ids


def mark_improper(ctx: Context, customer_id: str, reference: str) -> None:
    """Mark a person's data as acquired in breach of Art. 20(1) (R-20-1): never provided by opt-out (R-27-5)."""
    from mamori.provision.models import DataLineage

    can_manage(ctx, [customer_id])
    if not reference.strip() or len(reference) > 200 or any(ord(ch) < 32 for ch in reference):
        raise ValidationFailed(
            "参照は 1〜200 文字で、制御文字を含められません。",
            "The reference must be 1-200 characters without control characters.",
            code="bad_reference",
        )
    if customer_id not in subjects.existing(ctx, [customer_id]):
        raise NotFound("顧客が見つかりません。", "Customer not found.", code="customer_not_found")
    exists = ctx.session.execute(queries.lineage_flag(customer_id, "improperly_acquired")).first()
    if exists is None:
        ctx.session.add(
            DataLineage(
                customer_id=customer_id,
                flag="improperly_acquired",
                receipt_id=None,
                reference=reference,
                noted_at=ctx.clock.now(),
                noted_by=ctx.actor.label,
            )
        )
        ctx.session.flush()
    record_write(
        ctx, "provision.lineage.improper", [customer_id], ["lineage"], rule_ids=(R_20_1.id, R_27_5.id)
    )
