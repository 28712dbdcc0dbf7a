"""Provision and receipt records (R-29-1, R-29-2, R-30-2, R-31-3): written automatically, kept for their
retention period (R-29-4) even when the person is erased, then purged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from mamori.kernel.auditing import record_read, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import NotFound, ValidationFailed
from mamori.law.rules import R_29_1, R_29_2, R_29_4, R_30_2, R_31_3
from mamori.provision import queries
from mamori.provision.models import Counterparty, Provision, ProvisionRecord
from mamori.provision.schemas import ProvisionSummary, PurgeResult, RecordRead
from mamori.provision.service.common import aware, can_manage, can_read, join, seal, split, unseal


def add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February → 28 February
        return moment.replace(year=moment.year + years, day=28)


def retention_until(*, medium: str, bulk: bool, created_at: datetime, last_at: datetime) -> datetime:
    """R-29-4 (規則21, 25): 1 year from the last provision/receipt when a contract or other document served as the
    record; 3 years from the last one for a bulk record; 3 years from creation otherwise."""
    if medium == "contract":
        return add_years(last_at, 1)
    if bulk:
        return add_years(last_at, 3)
    return add_years(created_at, 3)


def write_record(
    ctx: Context,
    *,
    direction: str,
    kind: str,
    customer_id: str | None,
    counterparty: Counterparty | None,
    purpose: str | None,
    items: list[str],
    consent_fact: str | None,
    subject: dict[str, str | None] | None,
    exempt_code: str | None = None,
    bulk: bool = False,
    medium: str = "system",
    provision_id: str | None = None,
    receipt_id: str | None = None,
    recipient_label: str | None = None,
    org: tuple[str, str, str, str] | None = None,
    open_bulk: ProvisionRecord | None = None,
    bulk_looked_up: bool = False,
) -> ProvisionRecord:
    """One record (R-29-2 provider side / R-30-2 recipient side / R-31-3 referable). A continuous provision
    extends its open bulk record (first/last dates); opt-out provision is never recorded in bulk (R-29-1)."""
    if bulk and kind == "opt_out":
        raise ValidationFailed(
            "オプトアウトによる提供は一括して記録できません。",
            "Opt-out provision cannot be recorded in bulk.",
            rule_id=R_29_1.id,
            code="bulk_opt_out",
        )
    now = ctx.clock.now()
    item_text = join(sorted(items))
    if bulk and counterparty is not None:
        existing = (
            open_bulk
            if bulk_looked_up
            else ctx.session.execute(
                queries.open_bulk_record(customer_id, counterparty.id, purpose, kind, item_text, now)
            ).scalar_one_or_none()
        )
        if existing is not None:
            existing.last_at = now
            existing.retention_until = retention_until(
                medium=existing.medium, bulk=True, created_at=aware(existing.created_at), last_at=now
            )
            return existing
    if org is None:
        if counterparty is None:
            raise ValidationFailed(
                "記録の相手方がありません。", "A record needs a counterparty.", code="no_party"
            )
        org = (counterparty.name, counterparty.address, counterparty.representative, counterparty.country)
    rec_id = new_id()
    rec = ProvisionRecord(
        id=rec_id,
        direction=direction,
        kind=kind,
        customer_id=customer_id,
        counterparty_id=counterparty.id if counterparty else None,
        recipient_label=recipient_label,
        counterparty_name=org[0],
        counterparty_address=org[1],
        counterparty_representative=org[2],
        counterparty_country=org[3],
        purpose=purpose,
        items=item_text,
        consent_fact=consent_fact,
        # R-29-4: sealed under a system key (not the person's data key) so the record survives erasure.
        subject_enc=seal(ctx, "provision_records", "subject", rec_id, subject)
        if subject is not None
        else None,
        exempt_code=exempt_code,
        bulk=bulk,
        medium=medium,
        provision_id=provision_id,
        receipt_id=receipt_id,
        first_at=now,
        last_at=now,
        created_at=now,
        retention_until=retention_until(medium=medium, bulk=bulk, created_at=now, last_at=now),
    )
    ctx.session.add(rec)
    return rec


def to_read(ctx: Context, r: ProvisionRecord, *, with_subject: bool = False) -> RecordRead:
    subject: dict[str, str | None] | None = None
    if with_subject and r.subject_enc is not None:
        value = unseal(ctx, "provision_records", "subject", r.id, r.subject_enc)
        subject = (
            {str(k): (None if v is None else str(v)) for k, v in dict(value).items()}
            if isinstance(value, dict)
            else None
        )
    return RecordRead(
        id=r.id,
        direction=r.direction,
        kind=r.kind,
        customer_id=r.customer_id,
        counterparty_id=r.counterparty_id,
        recipient_label=r.recipient_label,
        counterparty_name=r.counterparty_name,
        counterparty_address=r.counterparty_address,
        counterparty_representative=r.counterparty_representative,
        counterparty_country=r.counterparty_country,
        purpose=r.purpose,
        items=split(r.items),
        consent_fact=r.consent_fact,
        exempt_code=r.exempt_code,
        bulk=r.bulk,
        medium=r.medium,
        first_at=aware(r.first_at),
        last_at=aware(r.last_at),
        created_at=aware(r.created_at),
        retention_until=aware(r.retention_until),
        subject=subject,
    )


def list_records(
    ctx: Context,
    *,
    counterparty_id: str | None = None,
    customer_id: str | None = None,
    direction: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[RecordRead]:
    """Records, oldest first; ``since`` / ``until`` (aware) keep those whose period overlaps [since, until)."""
    can_read(ctx, [customer_id] if customer_id else [])
    if since is not None and until is not None and since >= until:
        raise ValidationFailed(
            "期間の開始は終了より前にしてください。",
            "The start of the period must come before its end.",
            code="bad_period",
        )
    if direction is not None and direction not in ("provided", "received"):
        raise ValidationFailed(
            "direction は provided か received です。",
            "direction is provided or received.",
            code="bad_direction",
        )
    rows = list(
        ctx.session.execute(
            queries.records(
                counterparty_id=counterparty_id,
                customer_id=customer_id,
                direction=direction,
                since=aware(since) if since is not None else None,
                until=aware(until) if until is not None else None,
            )
        ).scalars()
    )
    record_read(
        ctx,
        "provision.records.list",
        sorted({r.customer_id for r in rows if r.customer_id}),
        ["provision_record"],
    )
    return [to_read(ctx, r) for r in rows]


def show_record(ctx: Context, record_id: str) -> RecordRead:
    """One record with its identifying information (decrypted from the system key)."""
    can_read(ctx)
    r = ctx.session.get(ProvisionRecord, record_id)
    if r is None:
        raise NotFound("記録が見つかりません。", "Record not found.", code="record_not_found")
    record_read(
        ctx,
        "provision.records.show",
        [r.customer_id] if r.customer_id else [],
        ["provision_record", "subject"],
    )
    return to_read(ctx, r, with_subject=True)


def show_provision(ctx: Context, provision_id: str) -> ProvisionSummary:
    """One act of providing with the ids of the records it wrote (PROVISION_READ; audited, no values)."""
    can_read(ctx)
    p = ctx.session.get(Provision, provision_id)
    if p is None:
        raise NotFound("提供の記録が見つかりません。", "Provision not found.", code="provision_not_found")
    record_ids = list(ctx.session.execute(queries.provision_record_ids(provision_id)).scalars())
    record_read(ctx, "provision.provisions.show", [], ["provision"])
    return ProvisionSummary(
        provision_id=p.id,
        counterparty_id=p.counterparty_id,
        purpose=p.purpose,
        basis=p.basis,
        exception_code=p.exception_code,
        fields=split(p.fields),
        provided=p.person_count,
        refused=p.refused_count,
        record_ids=record_ids,
        provided_at=aware(p.provided_at),
    )


def purge_expired(ctx: Context, *, apply: bool = False) -> PurgeResult:
    """Delete records whose retention period (R-29-4) has ended; nothing younger is touched. A dry run (the
    default) only counts them."""
    can_manage(ctx)
    now = ctx.clock.now()
    ids = list(ctx.session.execute(queries.expired_records(now)).scalars())
    total = int(ctx.session.execute(queries.record_count()).scalar_one())
    if not apply:
        return PurgeResult(purged=0, kept=total, expired=len(ids), dry_run=True)
    for start in range(0, len(ids), 500):
        ctx.session.execute(delete(ProvisionRecord).where(ProvisionRecord.id.in_(ids[start : start + 500])))
    record_write(
        ctx,
        "provision.records.purge",
        [],
        ["provision_record"],
        rule_ids=(R_29_4.id,),
        details={"purged": len(ids), "kept": total - len(ids)},
    )
    return PurgeResult(purged=len(ids), kept=total - len(ids), expired=len(ids), dry_run=False)


RECORD_RULES = (R_29_1.id, R_29_2.id, R_30_2.id, R_31_3.id)


def open_bulk_map(
    ctx: Context, customer_ids: list[str], counterparty_id: str, purpose: str, kind: str, items: list[str]
) -> dict[str, ProvisionRecord]:
    """customer id → its open bulk record for this recipient / purpose / kind / items (R-29-1 first/last dates)."""
    now = ctx.clock.now()
    out: dict[str, ProvisionRecord] = {}
    item_text = join(sorted(items))
    for start in range(0, len(customer_ids), 500):
        chunk = customer_ids[start : start + 500]
        for rec in ctx.session.execute(
            queries.open_bulk_records(chunk, counterparty_id, purpose, kind, item_text, now)
        ).scalars():
            if rec.customer_id is not None:
                out.setdefault(rec.customer_id, rec)
    return out
