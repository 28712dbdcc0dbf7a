"""The counterparty registry (R-27-1, R-27-2), foreign recipients' information sheets (R-28-2) and
基準適合体制 with their yearly review (R-28-1 (b), R-28-3)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, select

from mamori.kernel.auditing import record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import NotFound, ValidationFailed
from mamori.law.rules import R_27_1, R_27_2, R_28_1, R_28_2, R_28_3
from mamori.provision import queries
from mamori.provision.models import Counterparty, CounterpartyInfoSheet
from mamori.provision.schemas import (
    COUNTERPARTY_KINDS,
    CounterpartyIn,
    CounterpartyRead,
    InfoSheetIn,
    InfoSheetRead,
    ReviewIn,
)
from mamori.provision.service.common import aware, can_manage, can_read

# R-28-1 (a): countries the PPC designated as having an equivalent system (平成31年個人情報保護委員会告示第1号:
# the EEA states) and the United Kingdom.
EQUIVALENT_COUNTRIES = frozenset(
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
        "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO", "GB",
    }
)  # fmt: skip
HOME_COUNTRY = "JP"
# R-28-3: a 基準適合体制 is checked about once a year (年に1回程度).
REVIEW_INTERVAL = timedelta(days=365)


def _get_row(ctx: Context, counterparty_id: str) -> Counterparty:
    row = ctx.session.get(Counterparty, counterparty_id)
    if row is None:
        raise NotFound(
            "提供先が登録されていません。", "Counterparty not found.", code="counterparty_not_found"
        )
    return row


def current_sheet(ctx: Context, counterparty_id: str) -> CounterpartyInfoSheet | None:
    return ctx.session.execute(
        select(CounterpartyInfoSheet)
        .where(CounterpartyInfoSheet.counterparty_id == counterparty_id)
        .order_by(CounterpartyInfoSheet.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def is_foreign(row: Counterparty) -> bool:
    return row.country != HOME_COUNTRY


def system_valid(ctx: Context, row: Counterparty) -> bool:
    """A 基準適合体制 that is in place, not stopped and whose yearly review is not overdue (R-28-3)."""
    if row.system_kind is None or row.system_stopped or row.system_review_due is None:
        return False
    return aware(row.system_review_due) > ctx.clock.now()


def alerts(ctx: Context, row: Counterparty, sheet: CounterpartyInfoSheet | None) -> list[str]:
    out: list[str] = []
    if row.system_kind is not None:
        if row.system_stopped:
            out.append(f"{R_28_3.id}: 基準適合体制による提供は停止中 / provision under the system stopped")
        elif row.system_review_due is not None and aware(row.system_review_due) <= ctx.clock.now():
            out.append(f"{R_28_3.id}: 年次確認の期限切れ / yearly review overdue")
    if is_foreign(row) and row.country not in EQUIVALENT_COUNTRIES and row.system_kind is None:
        if sheet is None:
            out.append(f"{R_28_2.id}: 外国の制度等の情報が未登録 / no information sheet")
    return out


def to_read(ctx: Context, row: Counterparty, sheet: CounterpartyInfoSheet | None = None) -> CounterpartyRead:
    if sheet is None:
        sheet = current_sheet(ctx, row.id)
    return CounterpartyRead(
        id=row.id,
        kind=row.kind,
        name=row.name,
        address=row.address,
        representative=row.representative,
        phone=row.phone,
        country=row.country,
        foreign=is_foreign(row),
        equivalent_country=row.country in EQUIVALENT_COUNTRIES,
        public_body=row.public_body,
        system_kind=row.system_kind,
        system_reference=row.system_reference,
        system_reviewed_at=aware(row.system_reviewed_at) if row.system_reviewed_at else None,
        system_review_due=aware(row.system_review_due) if row.system_review_due else None,
        system_stopped=row.system_stopped,
        sheet_version=sheet.version if sheet else None,
        alerts=alerts(ctx, row, sheet),
        created_at=aware(row.created_at),
    )


def add_counterparty(ctx: Context, data: CounterpartyIn) -> CounterpartyRead:
    """Register a counterparty; a 基準適合体制 gets its first review due one year after the last check."""
    can_manage(ctx)
    if data.system_kind is not None and data.country == HOME_COUNTRY:
        raise ValidationFailed(
            "基準適合体制は外国にある提供先にのみ登録できます。",
            "An equivalent-measures system applies only to a recipient abroad.",
            rule_id=R_28_1.id,
            code="system_for_domestic",
        )
    now = ctx.clock.now()
    reviewed = aware(data.system_reviewed_at) if data.system_reviewed_at else None
    if reviewed is not None and reviewed > now:
        raise ValidationFailed(
            "確認日が未来です。", "The review date is in the future.", rule_id=R_28_3.id, code="future_review"
        )
    if data.system_kind is not None and reviewed is None:
        reviewed = now
    row = Counterparty(
        id=new_id(),
        kind=data.kind,
        name=data.name,
        address=data.address,
        representative=data.representative,
        phone=data.phone,
        country=data.country,
        public_body=data.public_body,
        system_kind=data.system_kind,
        system_reference=data.system_reference,
        system_reviewed_at=reviewed if data.system_kind else None,
        system_review_due=(reviewed + REVIEW_INTERVAL) if (data.system_kind and reviewed) else None,
        system_stopped=False,
        created_at=now,
        created_by=ctx.actor.label,
        updated_at=now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    record_write(
        ctx,
        "provision.counterparty.add",
        [],
        ["counterparty"],
        rule_ids=(R_27_1.id, R_27_2.id),
        details={"counterparty_id": row.id, "kind": row.kind, "country": row.country},
    )
    return to_read(ctx, row, None)


def get_counterparty(ctx: Context, counterparty_id: str) -> CounterpartyRead:
    can_read(ctx)
    return to_read(ctx, _get_row(ctx, counterparty_id))


def list_counterparties(ctx: Context, kind: str | None = None) -> list[CounterpartyRead]:
    can_read(ctx)
    if kind is not None and kind not in COUNTERPARTY_KINDS:
        raise ValidationFailed(
            f"提供先の種別は {', '.join(COUNTERPARTY_KINDS)} のいずれかです。",
            f"The kind must be one of {', '.join(COUNTERPARTY_KINDS)}.",
            code="bad_counterparty_kind",
        )
    stmt = select(Counterparty).order_by(Counterparty.name, Counterparty.id)
    if kind is not None:
        stmt = stmt.where(Counterparty.kind == kind)
    rows = list(ctx.session.execute(stmt).scalars())
    latest = dict(
        ctx.session.execute(
            select(CounterpartyInfoSheet.counterparty_id, func.max(CounterpartyInfoSheet.version)).group_by(
                CounterpartyInfoSheet.counterparty_id
            )
        ).all()
    )
    out = []
    for row in rows:
        sheet = current_sheet(ctx, row.id) if row.id in latest else None
        out.append(to_read(ctx, row, sheet))
    return out


def add_sheet(ctx: Context, counterparty_id: str, data: InfoSheetIn) -> InfoSheetRead:
    """A new version of the R-28-2 information (country's system, recipient's measures). Consents given with an
    earlier version no longer cover foreign provision (R-28-2)."""
    can_manage(ctx)
    row = _get_row(ctx, counterparty_id)
    if not is_foreign(row):
        raise ValidationFailed(
            "国内の提供先には外国の制度等の情報は不要です。",
            "A domestic counterparty needs no foreign information sheet.",
            rule_id=R_28_2.id,
            code="sheet_for_domestic",
        )
    prev = current_sheet(ctx, counterparty_id)
    sheet = CounterpartyInfoSheet(
        counterparty_id=counterparty_id,
        version=(prev.version + 1) if prev else 1,
        country=row.country,
        protection_system=data.protection_system,
        recipient_measures=data.recipient_measures,
        created_at=ctx.clock.now(),
        created_by=ctx.actor.label,
    )
    ctx.session.add(sheet)
    ctx.session.flush()
    record_write(
        ctx,
        "provision.counterparty.sheet",
        [],
        ["info_sheet"],
        rule_ids=(R_28_2.id,),
        details={"counterparty_id": counterparty_id, "version": sheet.version},
    )
    return _sheet_read(sheet)


def _sheet_read(s: CounterpartyInfoSheet) -> InfoSheetRead:
    return InfoSheetRead(
        counterparty_id=s.counterparty_id,
        version=s.version,
        country=s.country,
        protection_system=s.protection_system,
        recipient_measures=s.recipient_measures,
        created_at=aware(s.created_at),
        created_by=s.created_by,
    )


def sheets(ctx: Context, counterparty_id: str) -> list[InfoSheetRead]:
    can_read(ctx)
    _get_row(ctx, counterparty_id)
    return [
        _sheet_read(s)
        for s in ctx.session.execute(
            select(CounterpartyInfoSheet)
            .where(CounterpartyInfoSheet.counterparty_id == counterparty_id)
            .order_by(CounterpartyInfoSheet.version)
        ).scalars()
    ]


def review(ctx: Context, counterparty_id: str, data: ReviewIn) -> CounterpartyRead:
    """Record the yearly check of a 基準適合体制 (R-28-3); ``ok=False`` stops provision under it."""
    can_manage(ctx)
    row = _get_row(ctx, counterparty_id)
    if row.system_kind is None:
        raise ValidationFailed(
            "この提供先には基準適合体制が登録されていません。",
            "This counterparty has no equivalent-measures system.",
            rule_id=R_28_3.id,
            code="no_system",
        )
    now = ctx.clock.now()
    reviewed = aware(data.reviewed_at) if data.reviewed_at else now
    if reviewed > now:
        raise ValidationFailed(
            "確認日が未来です。", "The review date is in the future.", rule_id=R_28_3.id, code="future_review"
        )
    due = aware(data.next_due) if data.next_due else reviewed + REVIEW_INTERVAL
    if due <= reviewed or due > reviewed + REVIEW_INTERVAL:
        raise ValidationFailed(
            "次回確認期限は確認日から1年以内にしてください。",
            "The next review must fall within one year of this review.",
            rule_id=R_28_3.id,
            code="bad_review_due",
        )
    row.system_reviewed_at = reviewed
    row.system_review_due = due
    row.system_stopped = not data.ok
    row.updated_at = now
    ctx.session.flush()
    record_write(
        ctx,
        "provision.counterparty.review",
        [],
        ["system_review"],
        rule_ids=(R_28_3.id,),
        details={"counterparty_id": counterparty_id, "ok": data.ok},
    )
    return to_read(ctx, row)


def _active_foreign_consents(
    ctx: Context, counterparty_id: str, customer_ids: Sequence[str], purpose: str | None
) -> dict[str, set[int | None]]:
    """customer id → sheet versions of their active foreign-provision consents to this counterparty."""
    out: dict[str, set[int | None]] = {}
    ids = list(dict.fromkeys(customer_ids))
    for start in range(0, len(ids), 500):
        stmt = queries.active_foreign_consents(counterparty_id, ids[start : start + 500], purpose)
        for cid, version in ctx.session.execute(stmt).all():
            out.setdefault(cid, set()).add(version)
    return out


def foreign_refusals_for(
    ctx: Context, row: Counterparty, customer_ids: Sequence[str], purpose: str | None = None
) -> dict[str, str]:
    """R-28-1: customers whose data may NOT go to this counterparty abroad → the rule id that refuses it.

    Allowed: a domestic counterparty; an EU/UK (equivalent) country; a valid 基準適合体制 whose yearly review is
    not overdue (R-28-3); or the person's foreign-provision consent given with the current info sheet (R-28-2).
    """
    if not is_foreign(row) or row.country in EQUIVALENT_COUNTRIES:
        return {}
    if system_valid(ctx, row):
        return {}
    sheet = current_sheet(ctx, row.id)
    consents = _active_foreign_consents(ctx, row.id, customer_ids, purpose)
    out: dict[str, str] = {}
    for cid in dict.fromkeys(customer_ids):
        versions = consents.get(cid, set())
        if sheet is not None and sheet.version in versions:
            continue
        if versions:
            out[cid] = R_28_2.id  # consented with an outdated (or no) info sheet
        elif row.system_kind is not None:
            out[cid] = R_28_3.id  # the system's review is overdue or provision under it stopped
        else:
            out[cid] = R_28_1.id
    return out


def foreign_transfer_refusals(
    ctx: Context, counterparty_id: str, customer_ids: Sequence[str], purpose: str | None = None
) -> dict[str, str]:
    """customer id → rule id for customers whose data may NOT go to this counterparty abroad (R-28-1).

    Used by processors for a foreign outsourcee: entrustment does not remove the foreign-consent requirement.
    The rule id is R-28-1 (no foreign consent, no valid system), R-28-2 (consent given with an outdated
    information sheet) or R-28-3 (the 基準適合体制's yearly review is overdue or provision under it stopped).
    """
    can_read(ctx)
    return foreign_refusals_for(ctx, _get_row(ctx, counterparty_id), customer_ids, purpose)


def get_row(ctx: Context, counterparty_id: str) -> Counterparty:
    return _get_row(ctx, counterparty_id)
