"""SELECTs on the provision slice's personal-data tables (records, consents, lineage, relays)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select

from mamori.kernel.auditing import authorise
from mamori.kernel.context import Context
from mamori.kernel.policy import Action, Resource
from mamori.provision.models import (
    Counterparty,
    DataLineage,
    ProvisionConsent,
    ProvisionRecord,
    Receipt,
    RelayRequest,
)


def active_consents(
    counterparty_id: str, purpose: str, customer_ids: Sequence[str]
) -> Select[str, str, str, bool, int | None]:
    return select(
        ProvisionConsent.customer_id,
        ProvisionConsent.id,
        ProvisionConsent.method,
        ProvisionConsent.foreign,
        ProvisionConsent.sheet_version,
    ).where(
        ProvisionConsent.counterparty_id == counterparty_id,
        ProvisionConsent.purpose == purpose,
        ProvisionConsent.customer_id.in_(list(customer_ids)),
        ProvisionConsent.withdrawn_at.is_(None),
    )


def consents_of(customer_id: str | None, counterparty_id: str | None) -> Select[ProvisionConsent]:
    stmt = select(ProvisionConsent).order_by(ProvisionConsent.granted_at, ProvisionConsent.id)
    if customer_id is not None:
        stmt = stmt.where(ProvisionConsent.customer_id == customer_id)
    if counterparty_id is not None:
        stmt = stmt.where(ProvisionConsent.counterparty_id == counterparty_id)
    return stmt


def has_active_consent(customer_id: str, counterparty_id: str) -> Select[str]:
    """Any consent of the person to this counterparty that is not withdrawn (use ``.first()``)."""
    return select(ProvisionConsent.id).where(
        ProvisionConsent.customer_id == customer_id,
        ProvisionConsent.counterparty_id == counterparty_id,
        ProvisionConsent.withdrawn_at.is_(None),
    )


def active_foreign_consents(
    counterparty_id: str, customer_ids: Sequence[str], purpose: str | None
) -> Select[str, int | None]:
    """(customer id, sheet version) of the active foreign-provision consents of these persons to a counterparty."""
    stmt = select(ProvisionConsent.customer_id, ProvisionConsent.sheet_version).where(
        ProvisionConsent.counterparty_id == counterparty_id,
        ProvisionConsent.customer_id.in_(list(customer_ids)),
        ProvisionConsent.foreign.is_(True),
        ProvisionConsent.withdrawn_at.is_(None),
    )
    if purpose is not None:
        stmt = stmt.where(ProvisionConsent.purpose == purpose)
    return stmt


def lineage_flag(customer_id: str, flag: str) -> Select[int]:
    """The person's lineage row with this flag, if any (use ``.first()``)."""
    return select(DataLineage.seq).where(DataLineage.customer_id == customer_id, DataLineage.flag == flag)


def customers_with_flag(customer_ids: Sequence[str], flag: str) -> Select[str]:
    """Which of these persons carry a lineage flag (e.g. ``opt_out_received``)."""
    return select(DataLineage.customer_id).where(
        DataLineage.customer_id.in_(list(customer_ids)), DataLineage.flag == flag
    )


def lineage_flags(customer_ids: Sequence[str]) -> Select[str, str]:
    return select(DataLineage.customer_id, DataLineage.flag).where(
        DataLineage.customer_id.in_(list(customer_ids))
    )


def records_of(customer_id: str) -> Select[ProvisionRecord]:
    return (
        select(ProvisionRecord)
        .where(ProvisionRecord.customer_id == customer_id)
        .order_by(ProvisionRecord.created_at, ProvisionRecord.id)
    )


def records(
    *,
    counterparty_id: str | None = None,
    customer_id: str | None = None,
    direction: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select[ProvisionRecord]:
    """Records, oldest first; ``since`` / ``until`` keep those whose provision or receipt period (first … last)
    overlaps [since, until)."""
    stmt = select(ProvisionRecord).order_by(ProvisionRecord.created_at, ProvisionRecord.id)
    if since is not None:
        stmt = stmt.where(ProvisionRecord.last_at >= since)
    if until is not None:
        stmt = stmt.where(ProvisionRecord.first_at < until)
    if counterparty_id is not None:
        stmt = stmt.where(ProvisionRecord.counterparty_id == counterparty_id)
    if customer_id is not None:
        stmt = stmt.where(ProvisionRecord.customer_id == customer_id)
    if direction is not None:
        stmt = stmt.where(ProvisionRecord.direction == direction)
    return stmt


def open_bulk_record(
    customer_id: str | None, counterparty_id: str, purpose: str | None, kind: str, items: str, now: datetime
) -> Select[ProvisionRecord]:
    return select(ProvisionRecord).where(
        ProvisionRecord.direction == "provided",
        ProvisionRecord.customer_id.is_(None)
        if customer_id is None
        else ProvisionRecord.customer_id == customer_id,
        ProvisionRecord.counterparty_id == counterparty_id,
        ProvisionRecord.purpose.is_(None) if purpose is None else ProvisionRecord.purpose == purpose,
        ProvisionRecord.kind == kind,
        ProvisionRecord.items == items,
        ProvisionRecord.bulk.is_(True),
        ProvisionRecord.retention_until > now,
    )


def record_count() -> Select[int]:
    return select(func.count()).select_from(ProvisionRecord)


def expired_records(now: datetime) -> Select[str]:
    return select(ProvisionRecord.id).where(ProvisionRecord.retention_until <= now)


def relay(relay_id: str) -> Select[RelayRequest]:
    return select(RelayRequest).where(RelayRequest.id == relay_id)


def open_bulk_records(
    customer_ids: Sequence[str], counterparty_id: str, purpose: str, kind: str, items: str, now: datetime
) -> Select[ProvisionRecord]:
    """The open bulk records of many persons for one recipient / purpose / kind / items (one query per chunk)."""
    return select(ProvisionRecord).where(
        ProvisionRecord.direction == "provided",
        ProvisionRecord.customer_id.in_(list(customer_ids)),
        ProvisionRecord.counterparty_id == counterparty_id,
        ProvisionRecord.purpose == purpose,
        ProvisionRecord.kind == kind,
        ProvisionRecord.items == items,
        ProvisionRecord.bulk.is_(True),
        ProvisionRecord.retention_until > now,
    )


def receipt_record_ids(receipt_id: str) -> Select[str]:
    """The recipient records (R-30-2) written with one receipt, oldest first."""
    return (
        select(ProvisionRecord.id)
        .where(ProvisionRecord.receipt_id == receipt_id)
        .order_by(ProvisionRecord.created_at, ProvisionRecord.id)
    )


def receipts(counterparty_id: str | None = None) -> Select[Receipt]:
    """Receipts from providers (R-30-1), newest first."""
    stmt = select(Receipt).order_by(Receipt.received_at.desc(), Receipt.id)
    if counterparty_id is not None:
        stmt = stmt.where(Receipt.counterparty_id == counterparty_id)
    return stmt


def provision_record_ids(provision_id: str) -> Select[str]:
    """The records (R-29-1) written by one provision, oldest first."""
    return (
        select(ProvisionRecord.id)
        .where(ProvisionRecord.provision_id == provision_id)
        .order_by(ProvisionRecord.created_at, ProvisionRecord.id)
    )


def customers_of_provision(provision_id: str) -> Select[str | None]:
    """The people one provision provided (its records' customer ids; issue 22: an incident's scope)."""
    return (
        select(ProvisionRecord.customer_id)
        .where(ProvisionRecord.provision_id == provision_id, ProvisionRecord.customer_id.is_not(None))
        .distinct()
    )


def counterparty_names_and_phones(ctx: Context) -> list[tuple[str, str | None]]:
    """(name, phone) of every registered counterparty: what ``mamori text`` keeps as not personal (issue 23).
    Needs PROVISION_READ."""
    authorise(ctx, Action.PROVISION_READ, Resource(kind="provision"), [])
    stmt = select(Counterparty.name, Counterparty.phone).order_by(Counterparty.name)
    return [(name, phone) for name, phone in ctx.session.execute(stmt).all()]
