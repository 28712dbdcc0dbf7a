"""Creating a customer: the rows of one person (R-21-1, R-20-2) and their insertion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert

from mamori.customers import queries
from mamori.customers.models import (
    BlindIndex,
    ContactPoint,
    Customer,
    CustomerAttribute,
    CustomerPurpose,
    Provenance,
)
from mamori.customers.schemas import (
    PROVIDER_METHODS,
    SCALAR_FIELDS,
    CustomerCreate,
    CustomerView,
    ProvenanceIn,
    SensitiveConsentIn,
    notice_method_for,
)
from mamori.customers.service.core.common import _enc, _sensitive_guard, _validate_purposes
from mamori.customers.service.identity import KIND as IDENTITY
from mamori.customers.service.identity import identity_digest
from mamori.kernel import registry
from mamori.kernel.auditing import audits_refusals, authorise, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from mamori.kernel.policy import (
    Action,
    Category,
    Resource,
)
from mamori.kernel.registry import ConsentState, ReceiptFacts
from mamori.law.rules import R_18_2, R_20_1, R_20_2, R_21_1, R_30_1

# -- provider-sourced intake: third-party and succession data only through the receipt path (R-30-1, R-18-2) --


@dataclass(frozen=True)
class Intake:
    """How a new record's data was acquired, after the checks: for provider-sourced data (third_party /
    succession) the confirmed receipt facts, the receipt id to write, and the R-18-2 purpose limit."""

    provenance: ProvenanceIn  # source = the provider's registered name for provider-sourced data
    facts: ReceiptFacts | None = None
    receipt_id: str | None = None
    purpose_limit: tuple[str, ...] = ()  # succession: the purposes that applied before it (R-18-2)


def provider_intake(ctx: Context, provenance: ProvenanceIn, purposes: Sequence[str]) -> Intake:
    """Check where the data comes from before anything is written.

    Provider-sourced data (third_party / succession) needs a registered provider and the R-30-1 confirmation,
    made by provision's receipt path through the kernel registry (no intake registered: refused, fail closed);
    a free-text source is not enough. Succession data may be notified only of the purposes that applied before
    it (R-18-2). Data from a public source must name the source (R-20-1)."""
    if provenance.method not in PROVIDER_METHODS:
        if provenance.receipt is not None:
            raise ValidationFailed(
                "受領の確認事項は、第三者（third_party）または事業承継（succession）からの取得にだけ指定できます。",
                "Receipt facts apply only to data from a third party or by succession.",
                rule_id=R_30_1.id,
                code="receipt_without_provider",
            )
        if provenance.method == "public" and not (provenance.source or "").strip():
            raise PolicyDenied(
                "公開情報から取得したデータには、その情報源の記録が必要です。",
                "Data taken from a public source needs that source recorded.",
                rule_id=R_20_1.id,
                code="source_required",
            )
        return Intake(provenance)
    receipt = provenance.receipt
    if receipt is None or not receipt.counterparty_id.strip():
        raise PolicyDenied(
            "第三者・事業承継から取得するデータは、登録済みの提供元と受領時の確認（R-30-1）が必要です"
            "（提供元の名称の記入だけでは受け付けません）。",
            "Data from a third party or by succession needs a registered provider and the receipt confirmation "
            "(R-30-1); a free-text source is not enough.",
            rule_id=R_30_1.id,
            code="provider_required",
        )
    intake = registry.receipt_intake()
    if intake is None:
        raise PolicyDenied(
            "受領の手続きが利用できないため、第三者からのデータは取り込めません。",
            "The receipt path is not available: data from a third party cannot be taken in.",
            rule_id=R_30_1.id,
            code="receipt_path_unavailable",
        )
    succession = provenance.method == "succession"
    variant = "succession" if succession else receipt.variant
    if variant is None or (variant == "succession") != succession:
        raise ValidationFailed(
            "受領の種類（opt_out / consent / referable / non_operator）を指定してください"
            "（事業承継は取得方法 succession で指定します）。",
            "Give the receipt variant (opt_out / consent / referable / non_operator); succession is the "
            "provenance method 'succession'.",
            rule_id=R_30_1.id,
            code="variant_required",
        )
    facts = ReceiptFacts(
        counterparty_id=receipt.counterparty_id,
        variant=variant,
        identity_confirmed_by=receipt.identity_confirmed_by,
        acquisition=receipt.acquisition,
        acquisition_lawful=receipt.acquisition_lawful,
        ppc_publication_confirmed=receipt.ppc_publication_confirmed,
        consent_confirmed=receipt.consent_confirmed,
        prior_purposes=tuple(sorted(set(receipt.prior_purposes))) if succession else (),
    )
    name = intake.confirm(ctx, facts)
    if succession:
        outside = sorted(set(purposes) - set(facts.prior_purposes))
        if outside:
            raise PolicyDenied(
                "事業承継で取得したデータは、承継前の利用目的の範囲でしか利用できません: "
                + ", ".join(outside),
                "Data acquired by succession may be used only for the purposes that applied before it: "
                + ", ".join(outside),
                rule_id=R_18_2.id,
                code="purpose_outside_succession",
            )
    return Intake(
        provenance.model_copy(update={"source": name}),
        facts,
        new_id(),
        facts.prior_purposes,
    )


def record_intake(
    ctx: Context,
    intake: Intake,
    *,
    items: Sequence[str],
    customer_ids: Sequence[str],
    import_job_id: str | None,
) -> None:
    """Write the receipt, the recipient records (R-30-2) and lineage (R-27-5) in the caller's transaction."""
    if intake.facts is None or intake.receipt_id is None:
        return
    hook = registry.receipt_intake()
    if hook is None:  # checked in provider_intake; kept so a removed hook can never skip the records
        raise PolicyDenied(
            "受領の手続きが利用できません。",
            "The receipt path is not available.",
            rule_id=R_30_1.id,
            code="receipt_path_unavailable",
        )
    hook.record(
        ctx,
        intake.facts,
        items=items,
        customer_ids=customer_ids,
        import_job_id=import_job_id,
        receipt_id=intake.receipt_id,
    )


def received_items(data: CustomerCreate) -> list[str]:
    """The data items of one record (for the receipt record, R-30-2), never their values."""
    items = [f for f in SCALAR_FIELDS if getattr(data, f, None) not in (None, "")]
    items += [kind for kind, values in (("phone", data.phones), ("email", data.emails)) if values]
    items += [f"attr:{a.key}" for a in data.attributes]
    return sorted(items)


# R-18-2: a person received by succession may be notified of / used for another purpose only with consent.
def check_succession_purposes(ctx: Context, customer_ids: Sequence[str], purposes: Sequence[str]) -> None:
    """Refuse (R-18-2) adding a purpose outside the purposes that applied before the succession to a person
    received by succession, unless the person consented to that purpose (consent ledger)."""
    if not customer_ids or not purposes:
        return
    limits: dict[str, set[str]] = {}
    for cid, limit in ctx.session.execute(queries.succession_limits(customer_ids)).all():
        limits.setdefault(cid, set()).update(c for c in (limit or "").split(",") if c)
    for cid, allowed in sorted(limits.items()):
        for code in sorted(set(purposes) - allowed):
            state = registry.purpose_states(ctx, [cid], code).get(cid)
            if state is None or state.consent != ConsentState.GRANTED:
                raise PolicyDenied(
                    f"事業承継で取得した顧客に、承継前の利用目的の範囲外の目的「{code}」を加えるには本人の同意が必要です。",
                    f"A person received by succession needs their consent before purpose '{code}', outside the "
                    "purposes that applied before the succession, is added.",
                    rule_id=R_18_2.id,
                    code="purpose_outside_succession",
                    details={"customer_id": cid, "purpose": code},
                )


def customer_rows(
    ctx: Context,
    data: CustomerCreate,
    *,
    customer_id: str,
    owner_id: str | None,
    team: str | None,
    provenance: ProvenanceIn,
    purpose_versions: dict[str, int],
    purpose_method: str,
    sensitive_basis: str | None,
    import_job_id: str | None = None,
    import_line: int | None = None,
    receipt_id: str | None = None,
    purpose_limit: Sequence[str] = (),
) -> dict[str, list[dict[str, object]]]:
    """The rows (as dicts, ready for a bulk INSERT) that store one new customer, encrypted."""
    now = ctx.clock.now()
    cid = customer_id
    values: dict[str, str | None] = {
        "name": data.name,
        "kana": data.kana,
        "birth_date": data.birth_date.isoformat() if data.birth_date else None,
        "gender": data.gender,
        "postal_code": data.postal_code,
        "address": data.address,
        "occupation": data.occupation,
        "employer": data.employer,
    }
    cust: dict[str, object] = {
        "id": cid,
        "owner_id": owner_id,
        "team": team,
        "origin": data.origin,
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "confirmed_at": now,  # R-22-1: the data as given at collection counts as confirmed then
        "import_job_id": import_job_id,
        "import_line": import_line,
    }
    for f in SCALAR_FIELDS:
        cust[f"{f}_enc"] = _enc(ctx, cid, "customers", f, cid, values[f])
    idx = ctx.runtime.indexer
    blind: list[dict[str, object]] = [
        {"customer_id": cid, "kind": "name", "digest": idx.digest("name", data.name)},
    ]
    if data.kana:
        blind.append({"customer_id": cid, "kind": "kana", "digest": idx.digest("kana", data.kana)})
    contacts: list[dict[str, object]] = []
    for kind, items in (("email", data.emails), ("phone", data.phones)):
        for value in items:
            cp_id = new_id()
            contacts.append(
                {
                    "id": cp_id,
                    "customer_id": cid,
                    "kind": kind,
                    "label": None,
                    "value_enc": _enc(ctx, cid, "contact_points", "value", cp_id, value),
                    "created_at": now,
                }
            )
            blind.append({"customer_id": cid, "kind": kind, "digest": idx.digest(kind, value)})
    ident = identity_digest(idx, data.name, data.kana, data.birth_date, data.postal_code)
    if ident is not None:  # duplicates of people without an e-mail or phone (issue 19)
        blind.append({"customer_id": cid, "kind": IDENTITY, "digest": ident})
    attrs: list[dict[str, object]] = []
    for a in data.attributes:
        aid = new_id()
        attrs.append(
            {
                "id": aid,
                "customer_id": cid,
                "key": a.key,
                "category": a.category.value,
                "value_enc": _enc(ctx, cid, "customer_attributes", "value", aid, a.value),
                "basis": sensitive_basis if a.category == Category.SENSITIVE else None,
                "created_at": now,
            }
        )
    prov: list[dict[str, object]] = [
        {
            "id": new_id(),
            "customer_id": cid,
            "method": provenance.method,
            "channel": provenance.channel,
            "notice_version": provenance.notice_version,
            "source": provenance.source,
            "acquired_at": now,
            "recorded_by": ctx.actor.label,
            "import_job_id": import_job_id,
            "receipt_id": receipt_id,
            "purpose_limit": ",".join(purpose_limit) if purpose_limit else None,
            "acquisition": provenance.acquisition,
            "campaign": provenance.campaign,
        }
    ]
    notified: list[dict[str, object]] = [
        {
            "customer_id": cid,
            "purpose_code": code,
            "purpose_version": version,
            "method": purpose_method,
            "notified_at": now,
        }
        for code, version in purpose_versions.items()
    ]
    return {
        "customers": [cust],
        "contact_points": contacts,
        "customer_attributes": attrs,
        "provenance": prov,
        "customer_purposes": notified,
        "blind_index": blind,
    }


TABLES = {
    "customers": Customer,
    "contact_points": ContactPoint,
    "customer_attributes": CustomerAttribute,
    "provenance": Provenance,
    "customer_purposes": CustomerPurpose,
    "blind_index": BlindIndex,
}
INSERT_ORDER = (
    "customers",
    "contact_points",
    "customer_attributes",
    "provenance",
    "customer_purposes",
    "blind_index",
)


def insert_rows(ctx: Context, rows: dict[str, list[dict[str, object]]]) -> None:
    """Bulk INSERT through Core on the session's connection (same transaction, no ORM unit-of-work overhead)."""
    conn = ctx.session.connection()
    for table in INSERT_ORDER:
        if rows.get(table):
            conn.execute(insert(TABLES[table].__table__), rows[table])  # type: ignore[arg-type]


@audits_refusals("customer.create")  # every refusal audited (R-20-2, R-30-1 guards included)
def create(
    ctx: Context,
    data: CustomerCreate,
    *,
    provenance: ProvenanceIn,
    purposes: Sequence[str],
    purpose_method: str | None = None,
    owner_id: str | None = None,
    sensitive_basis: str | None = None,
    sensitive_consent: SensitiveConsentIn | None = None,
) -> CustomerView:
    """Store a new customer. Purposes notified at collection are recorded with their version (R-21-1/R-21-2).

    Third-party and succession data go through the receipt path (R-30-1/R-30-2, R-27-5, R-18-2) in this
    transaction. 要配慮 is scanned for in attributes and free text (R-20-2); a sensitive attribute on the basis
    "consent" needs the consent line in the ledger — given with ``sensitive_consent`` it is written there first,
    in this transaction, before the value is stored."""
    authorise(ctx, Action.CUSTOMER_CREATE, Resource(kind="customer"))
    versions = _validate_purposes(ctx, purposes)
    basis = sensitive_basis or ("consent" if sensitive_consent is not None else None)
    _sensitive_guard(data.attributes, basis, free_text=(data.occupation, data.employer))
    sensitive = any(a.category == Category.SENSITIVE for a in data.attributes)
    recorder = registry.sensitive_consent_recorder()
    if sensitive and basis == "consent" and sensitive_consent is None:
        raise PolicyDenied(
            "要配慮個人情報の取得への同意が同意台帳にありません。取得時に同意を得た場合は、その同意"
            "（取得方法と証跡）を添えて登録してください。",
            "No consent to acquire special care-required data is in the consent ledger: when the person consented "
            "at collection, give that consent (its method and evidence) with the record.",
            rule_id=R_20_2.id,
            code="sensitive_consent_not_in_ledger",
        )
    if sensitive_consent is not None and recorder is None:
        raise PolicyDenied(
            "同意台帳が利用できないため、要配慮個人情報の取得同意を記録できません。",
            "The consent ledger is not available: the consent to acquire sensitive data cannot be recorded.",
            rule_id=R_20_2.id,
            code="consent_ledger_unavailable",
        )
    intake = provider_intake(ctx, provenance, purposes)
    if ctx.actor.role.value == "sales":
        owner_id = ctx.actor.id
    cid = new_id()
    ctx.runtime.keystore.create_data_keys([cid])
    rows = customer_rows(
        ctx,
        data,
        customer_id=cid,
        owner_id=owner_id,
        team=ctx.actor.team,
        provenance=intake.provenance,
        purpose_versions=versions,
        # R-21-1 / R-21-2: 明示 (stated) only for data given in writing; phone / counter: 通知 (notified)
        purpose_method=purpose_method or notice_method_for(provenance),
        sensitive_basis=basis,
        receipt_id=intake.receipt_id,
        purpose_limit=intake.purpose_limit,
    )
    attributes = rows.pop("customer_attributes")
    insert_rows(ctx, rows)
    if sensitive_consent is not None and recorder is not None:
        # R-20-2: the consent line goes into the ledger before the 要配慮 value is stored (same transaction).
        recorder(ctx, cid, sensitive_consent.method, sensitive_consent.evidence)
        state = registry.purpose_states(ctx, [cid], purposes[0]).get(cid)
        if state is None or not state.sensitive_consent:
            raise PolicyDenied(
                "要配慮個人情報の取得への同意を同意台帳で確認できません。",
                "The consent to acquire special care-required data is not in the consent ledger.",
                rule_id=R_20_2.id,
                code="sensitive_consent_not_in_ledger",
            )
    insert_rows(ctx, {"customer_attributes": attributes})
    ctx.session.flush()
    record_intake(ctx, intake, items=received_items(data), customer_ids=[cid], import_job_id=None)
    record_write(
        ctx,
        Action.CUSTOMER_CREATE,
        [cid],
        [k for k, v in data.model_dump().items() if v],
        rule_ids=(R_21_1.id,) + ((R_20_2.id,) if sensitive else ()),
    )
    return CustomerView(
        id=cid,
        owner_id=owner_id,
        origin=data.origin,
        purpose=",".join(purposes),
        notified_purposes=list(purposes),
    )


# -- read ---------------------------------------------------------------------------------------------------------
