"""Receiving personal data from a provider: the R-30-1 confirmation before anything is written, the recipient
record (R-30-2) afterwards, and the lineage mark for data received by opt-out (R-27-5).

This is the ONE implementation of the receipt path: ``provision receive`` and the customers intake
(``customers add`` / ``customers import`` with provenance third_party or succession, through the kernel registry's
receipt intake registered in ``provision.sources``) all call ``confirm`` and ``record`` here. Data acquired by
succession (事業承継, R-18-2) is received from a counterparty of kind ``succession`` with the purposes that applied
before the succession; customers keeps that limit with the person's provenance.
"""

from __future__ import annotations

from collections.abc import Sequence

from mamori.customers.service import subjects
from mamori.kernel.auditing import record_read, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.registry import ReceiptFacts
from mamori.law.rules import R_18_2, R_20_1, R_27_5, R_30_1, R_30_2
from mamori.provision import queries
from mamori.provision.models import Counterparty, DataLineage, ProvisionRecord, Receipt
from mamori.provision.schemas import ReceiptDetail, ReceiptRead, ReceiveIn
from mamori.provision.service.common import aware, can_manage, can_read, join, split
from mamori.provision.service.counterparties import get_row
from mamori.provision.service.records import write_record
from mamori.purposes import service as purposes_service

Facts = ReceiveIn | ReceiptFacts


def _provider(ctx: Context, data: Facts) -> Counterparty:
    if not (data.counterparty_id or "").strip():
        raise PolicyDenied(
            "第三者から取得するデータには、登録済みの提供元（提供先ID）の指定が必要です。",
            "Data from a third party needs its provider: give a registered counterparty id.",
            rule_id=R_30_1.id,
            code="provider_required",
        )
    try:
        return get_row(ctx, data.counterparty_id)
    except NotFound:
        raise NotFound(
            "提供元が登録されていません（提供元の確認ができません）。",
            "The provider is not a registered counterparty (its identity cannot be confirmed).",
            rule_id=R_30_1.id,
            code="counterparty_not_found",
        ) from None


def confirm(ctx: Context, data: Facts) -> Counterparty:
    """R-30-1: the provider is a registered counterparty (identity confirmed, and how), and how it acquired the
    data is stated; R-20-1: refused when lawful acquisition cannot be stated; R-18-2: a succession comes from a
    successor counterparty with the purposes that applied before it. Nothing is written here."""
    can_manage(ctx)
    cp = _provider(ctx, data)
    if not data.identity_confirmed_by.strip() or not data.acquisition.strip():
        raise PolicyDenied(
            "提供元の確認方法と取得の経緯を記録してください（空欄は受け付けません）。",
            "State how the provider's identity was confirmed and how it acquired the data (blank is refused).",
            rule_id=R_30_1.id,
            code="confirmation_missing",
        )
    succession = data.variant == "succession"
    if succession != (cp.kind == "succession") or (not succession and cp.kind != "third_party"):
        raise PolicyDenied(
            "提供元の種別が受領の種類と合いません（第三者からの受領は第三者、事業承継は承継元として登録してください）。",
            "The provider's kind does not match the receipt (a third party for third-party data, a succession "
            "counterparty for succession).",
            rule_id=R_18_2.id if succession else R_30_1.id,
            code="provider_kind_mismatch",
        )
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
    if succession:
        _prior_purposes(ctx, data.prior_purposes)
    return cp


def _prior_purposes(ctx: Context, codes: Sequence[str]) -> list[str]:
    """R-18-2: the purposes that applied before the succession — required, and our registered purpose codes."""
    if not codes:
        raise PolicyDenied(
            "事業承継で取得するデータには、承継前の利用目的（当社の利用目的コード）を指定してください。",
            "Data acquired by succession needs the purposes that applied before the succession (purpose codes).",
            rule_id=R_18_2.id,
            code="prior_purposes_required",
        )
    known = purposes_service.current_versions(ctx, list(codes))
    unknown = sorted(set(codes) - set(known))
    if unknown:
        raise ValidationFailed(
            f"承継前の利用目的が登録されていません: {', '.join(unknown)}",
            f"Prior purposes not registered: {', '.join(unknown)}",
            rule_id=R_18_2.id,
            code="purpose_unknown",
        )
    return sorted(set(codes))


def record(
    ctx: Context,
    data: Facts,
    *,
    import_job_id: str | None,
    items: Sequence[str],
    customer_ids: Sequence[str],
    receipt_id: str | None = None,
) -> ReceiptRead:
    """Write the receipt and one recipient record per person (R-30-2); mark opt-out lineage (R-27-5). Runs in the
    caller's transaction: with the customers written there, it is all-or-nothing."""
    cp = confirm(ctx, data)
    items = list(items)
    if not items:
        raise ValidationFailed("受領した項目がありません。", "No data items received.", code="no_items")
    now = ctx.clock.now()
    ids = list(dict.fromkeys(customer_ids))
    if import_job_id is not None:
        ids = list(dict.fromkeys([*ids, *subjects.imported_by(ctx, import_job_id)]))
    succession = data.variant == "succession"
    receipt = Receipt(
        id=receipt_id or new_id(),
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
        prior_purposes=join(sorted(set(data.prior_purposes))) if succession else None,
    )
    ctx.session.add(receipt)
    ctx.session.flush()
    fact = {
        "opt_out": "PPC publication confirmed",
        "consent": "consent confirmed",
        "referable": "consent confirmed (personally referable information)",
        "non_operator": None,
        "succession": "business succession (ACT 27(5)(ii)); purposes before it: "
        + ", ".join(sorted(set(data.prior_purposes))),
    }[data.variant]
    # R-30-2: information identifying the principal (the name), sealed under the system key with the record.
    names = subjects.read_fields(ctx, ids, ["name"]) if ids else {}
    record_ids: list[str] = []
    for cid in ids:
        rec = write_record_for(ctx, data, cp, cid, items, fact, names.get(cid, {}).get("name"), receipt.id)
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
    rules = (R_30_1.id, R_30_2.id) + ((R_27_5.id,) if data.variant == "opt_out" else ())
    record_write(
        ctx,
        "provision.receive",
        ids,
        items,
        rule_ids=rules + ((R_18_2.id,) if succession else ()),
        details={"receipt_id": receipt.id, "counterparty_id": cp.id, "variant": data.variant},
    )
    return _read(receipt, record_ids)


def write_record_for(
    ctx: Context,
    data: Facts,
    cp: Counterparty,
    cid: str,
    items: list[str],
    fact: str | None,
    name: str | None,
    receipt_id: str,
) -> ProvisionRecord:
    return write_record(
        ctx,
        direction="received",
        kind=data.variant,
        customer_id=cid,
        counterparty=cp,
        purpose=None,
        items=items,
        consent_fact=fact,
        subject={"name": name},
        receipt_id=receipt_id,
    )


def _read(receipt: Receipt, record_ids: list[str]) -> ReceiptRead:
    return ReceiptRead(
        id=receipt.id,
        counterparty_id=receipt.counterparty_id,
        variant=receipt.variant,
        items=split(receipt.items),
        person_count=receipt.person_count,
        import_job_id=receipt.import_job_id,
        received_at=aware(receipt.received_at),
        record_ids=record_ids,
        created=receipt.person_count,
        rejected=0,
    )


def read_receipt(ctx: Context, receipt_id: str) -> ReceiptRead:
    """A receipt written by ``record`` (e.g. inside a customers import), with its recipient record ids."""
    receipt = ctx.session.get(Receipt, receipt_id)
    if receipt is None:
        raise NotFound("受領記録が見つかりません。", "Receipt not found.", code="receipt_not_found")
    record_ids = list(ctx.session.execute(queries.receipt_record_ids(receipt_id)).scalars())
    return _read(receipt, record_ids)


def _detail(receipt: Receipt, record_ids: list[str]) -> ReceiptDetail:
    return ReceiptDetail(
        **_read(receipt, record_ids).model_dump(),
        identity_confirmed_by=receipt.identity_confirmed_by,
        acquisition=receipt.acquisition,
        ppc_publication_confirmed=receipt.ppc_publication_confirmed,
        consent_confirmed=receipt.consent_confirmed,
        prior_purposes=split(receipt.prior_purposes or ""),
        received_by=receipt.received_by,
    )


def list_receipts(ctx: Context, counterparty_id: str | None = None) -> list[ReceiptDetail]:
    """Receipts from providers with their R-30-1 confirmation, newest first (PROVISION_READ; audited)."""
    can_read(ctx)
    rows = list(ctx.session.execute(queries.receipts(counterparty_id)).scalars())
    record_read(ctx, "provision.receipts.list", [], ["receipt"])
    return [_detail(r, []) for r in rows]


def show_receipt(ctx: Context, receipt_id: str) -> ReceiptDetail:
    """One receipt with its R-30-1 confirmation and its recipient record ids (PROVISION_READ; audited)."""
    can_read(ctx)
    receipt = ctx.session.get(Receipt, receipt_id)
    if receipt is None:
        raise NotFound("受領記録が見つかりません。", "Receipt not found.", code="receipt_not_found")
    record_ids = list(ctx.session.execute(queries.receipt_record_ids(receipt_id)).scalars())
    record_read(ctx, "provision.receipts.show", [], ["receipt"])
    return _detail(receipt, record_ids)


def opt_out_received(ctx: Context, customer_ids: list[str]) -> set[str]:
    return set(ctx.session.execute(queries.customers_with_flag(customer_ids, "opt_out_received")).scalars())
