"""Receiving personal data from a provider: the R-30-1 confirmation before anything is written, the recipient
record (R-30-2) afterwards, and the lineage mark for data received by opt-out (R-27-5)."""

from __future__ import annotations

from mamori.customers.service import subjects
from mamori.kernel.auditing import record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from mamori.law.rules import R_20_1, R_27_5, R_30_1, R_30_2
from mamori.provision import queries
from mamori.provision.models import DataLineage, Receipt
from mamori.provision.schemas import ReceiptRead, ReceiveIn
from mamori.provision.service.common import aware, can_manage, join
from mamori.provision.service.counterparties import get_row
from mamori.provision.service.records import write_record


def confirm(ctx: Context, data: ReceiveIn) -> None:
    """R-30-1: the provider is a registered counterparty (identity confirmed), and how it acquired the data is
    stated; R-20-1: refused when lawful acquisition cannot be stated. Nothing is written here."""
    can_manage(ctx)
    get_row(ctx, data.counterparty_id)
    if not data.acquisition_lawful:
        raise PolicyDenied(
            "提供元が適正に取得したことを確認できないため、受領できません。",
            "Cannot receive: the provider's lawful acquisition cannot be stated.",
            rule_id=R_20_1.id,
            code="acquisition_not_lawful",
        )
    if data.variant == "opt_out" and not data.ppc_publication_confirmed:
        raise PolicyDenied(
            "オプトアウトによる受領には、個人情報保護委員会による公表の確認が必要です。",
            "Receiving opt-out data requires confirming the PPC's publication of the filing.",
            rule_id=R_30_2.id,
            code="publication_not_confirmed",
        )
    if data.variant in ("consent", "referable") and not data.consent_confirmed:
        raise PolicyDenied(
            "本人の同意があることを確認してください。",
            "Confirm the principals' consent first.",
            rule_id=R_30_2.id,
            code="consent_not_confirmed",
        )


def record(
    ctx: Context, data: ReceiveIn, *, import_job_id: str | None, items: list[str], customer_ids: list[str]
) -> ReceiptRead:
    """Write the receipt and one recipient record per person (R-30-2); mark opt-out lineage (R-27-5)."""
    confirm(ctx, data)
    if not items:
        raise ValidationFailed("受領した項目がありません。", "No data items received.", code="no_items")
    cp = get_row(ctx, data.counterparty_id)
    now = ctx.clock.now()
    ids = list(dict.fromkeys(customer_ids))
    if import_job_id is not None:
        ids = list(dict.fromkeys([*ids, *subjects.imported_by(ctx, import_job_id)]))
    receipt = Receipt(
        id=new_id(),
        counterparty_id=cp.id,
        variant=data.variant,
        identity_confirmed_by=data.identity_confirmed_by,
        acquisition=data.acquisition,
        ppc_publication_confirmed=data.ppc_publication_confirmed,
        consent_confirmed=data.consent_confirmed,
        items=join(sorted(set(items))),
        import_job_id=import_job_id,
        person_count=len(ids),
        received_at=now,
        received_by=ctx.actor.label,
    )
    ctx.session.add(receipt)
    ctx.session.flush()
    fact = {
        "opt_out": "PPC publication confirmed",
        "consent": "consent confirmed",
        "referable": "consent confirmed (personally referable information)",
        "non_operator": None,
    }[data.variant]
    # R-30-2: information identifying the principal (the name), sealed under the system key with the record.
    names = subjects.read_fields(ctx, ids, ["name"]) if ids else {}
    record_ids: list[str] = []
    for cid in ids:
        rec = write_record(
            ctx,
            direction="received",
            kind=data.variant,
            customer_id=cid,
            counterparty=cp,
            purpose=None,
            items=items,
            consent_fact=fact,
            subject={"name": names.get(cid, {}).get("name")},
            receipt_id=receipt.id,
        )
        record_ids.append(rec.id)
        if data.variant == "opt_out":
            ctx.session.add(
                DataLineage(
                    customer_id=cid,
                    flag="opt_out_received",
                    receipt_id=receipt.id,
                    reference=None,
                    noted_at=now,
                    noted_by=ctx.actor.label,
                )
            )
    ctx.session.flush()
    record_write(
        ctx,
        "provision.receive",
        ids,
        items,
        rule_ids=(R_30_1.id, R_30_2.id) + ((R_27_5.id,) if data.variant == "opt_out" else ()),
        details={"receipt_id": receipt.id, "counterparty_id": cp.id, "variant": data.variant},
    )
    return ReceiptRead(
        id=receipt.id,
        counterparty_id=cp.id,
        variant=data.variant,
        items=sorted(set(items)),
        person_count=len(ids),
        import_job_id=import_job_id,
        received_at=aware(now),
        record_ids=record_ids,
        created=len(ids),
        rejected=0,
    )


def opt_out_received(ctx: Context, customer_ids: list[str]) -> set[str]:
    return set(ctx.session.execute(queries.customers_with_flag(customer_ids, "opt_out_received")).scalars())
