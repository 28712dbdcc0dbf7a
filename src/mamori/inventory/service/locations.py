"""The storage-location registry (R-23-7 storage region per dataset, with its country; R-28-4 cloud services).

- A location abroad is registered only with the understanding of that country's system (外的環境の把握, R-23-7),
  which feeds the published notice (R-32-1).
- A provider that handles the data (a cloud operator without a no-handling contract and access control, an
  outsourcee's own system) is a recipient: an outsourcee or a third party, so the location names that
  counterparty (R-28-4); one that does not handle the data is a place, not a provision.
"""

from __future__ import annotations

from mamori.inventory import queries
from mamori.inventory.models import StorageLocation
from mamori.inventory.schemas import HOME_COUNTRY, LocationIn, LocationRead, LocationUpdate
from mamori.inventory.service.common import can_keep_locations, can_read, join, split
from mamori.kernel.auditing import record_write
from mamori.kernel.clock import ensure_aware
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import Conflict, NotFound, ValidationFailed
from mamori.kernel.policy import Category
from mamori.law.rules import R_17_1, R_23_7, R_28_4
from mamori.provision.models import Counterparty
from mamori.provision.service import EQUIVALENT_COUNTRIES
from mamori.purposes import service as purposes_service

# R-28-4: a provider that handles the data receives it as an outsourcee (委託) or as a third party.
RECIPIENT_KINDS = ("outsourcee", "third_party")


def _row(ctx: Context, code: str) -> StorageLocation:
    row = ctx.session.execute(queries.location(code)).scalar_one_or_none()
    if row is None:
        raise NotFound(
            f"保管場所「{code}」は登録されていません。",
            f"Storage location '{code}' is not registered.",
            code="location_not_found",
        )
    return row


def _counterparty(ctx: Context, counterparty_id: str | None) -> Counterparty | None:
    if counterparty_id is None:
        return None
    return ctx.session.execute(queries.counterparty(counterparty_id)).scalar_one_or_none()


def to_read(ctx: Context, row: StorageLocation) -> LocationRead:
    cp = _counterparty(ctx, row.counterparty_id)
    return LocationRead(
        id=row.id,
        code=row.code,
        name=row.name,
        kind=row.kind,
        operator=row.operator,
        country=row.country,
        region=row.region,
        foreign=row.country != HOME_COUNTRY,
        equivalent_country=row.country in EQUIVALENT_COUNTRIES,
        handles_data=row.handles_data,
        counterparty_id=row.counterparty_id,
        counterparty_name=cp.name if cp else None,
        counterparty_kind=cp.kind if cp else None,
        categories=[Category(c) for c in split(row.categories)],
        purposes=split(row.purposes),
        foreign_note=row.foreign_note,
        note=row.note,
        retired=row.retired_at is not None,
        created_at=ensure_aware(row.created_at),
        updated_at=ensure_aware(row.updated_at),
    )


def _check(ctx: Context, row: StorageLocation) -> None:
    """The rules a location must meet, checked on the values it will have (on add and on every update)."""
    if row.country != HOME_COUNTRY and not (row.foreign_note or "").strip():
        raise ValidationFailed(
            f"外国（{row.country}）にある保管場所には、その国の個人情報保護制度等の把握（外的環境の把握）の記録が必要です。",
            f"A storage location abroad ({row.country}) needs a note on that country's data-protection system "
            "(understanding of the foreign environment).",
            rule_id=R_23_7.id,
            code="foreign_understanding_missing",
        )
    if (row.handles_data or row.kind == "outsourcee_system") and row.counterparty_id is None:
        raise ValidationFailed(
            "データを取り扱う事業者（クラウド事業者・委託先）の保管場所は、提供先（委託先または第三者）として登録し、"
            "その提供先に紐付けてください。取り扱わない場合は契約とアクセス制御でそれを確認してください。",
            "A provider that handles the data is an outsourcee or a third party: link the location to its "
            "registered counterparty (one that does not handle it must be bound by contract and access control).",
            rule_id=R_28_4.id,
            code="handling_provider_needs_counterparty",
        )
    if row.counterparty_id is not None:
        cp = _counterparty(ctx, row.counterparty_id)
        if cp is None:
            raise NotFound(
                "提供先が登録されていません。", "Counterparty not found.", code="counterparty_not_found"
            )
        if cp.kind not in RECIPIENT_KINDS:
            raise ValidationFailed(
                "保管場所に紐付ける提供先は委託先または第三者です。",
                "A storage location links to an outsourcee or a third party.",
                rule_id=R_28_4.id,
                code="bad_counterparty_kind",
            )
    codes = split(row.purposes)
    known = purposes_service.current_versions(ctx, codes)
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise NotFound(
            f"利用目的が登録されていません: {', '.join(unknown)}",
            f"Purposes not registered: {', '.join(unknown)}",
            rule_id=R_17_1.id,
            code="purpose_unknown",
        )


def _details(row: StorageLocation) -> dict[str, str | int | bool | None]:
    return {
        "location": row.code,
        "kind": row.kind,
        "country": row.country,
        "handles_data": row.handles_data,
        "counterparty_id": row.counterparty_id,
    }


def add_location(ctx: Context, data: LocationIn) -> LocationRead:
    can_keep_locations(ctx)
    if ctx.session.execute(queries.location(data.code)).scalar_one_or_none() is not None:
        raise Conflict(
            f"保管場所「{data.code}」は既に登録されています。",
            f"Storage location '{data.code}' already exists.",
            code="location_exists",
        )
    now = ctx.clock.now()
    row = StorageLocation(
        id=new_id(),
        code=data.code,
        name=data.name,
        kind=data.kind,
        operator=data.operator,
        country=data.country,
        region=data.region,
        handles_data=data.handles_data,
        counterparty_id=data.counterparty_id,
        categories=join([c.value for c in data.categories]),
        purposes=join(list(data.purposes)),
        foreign_note=data.foreign_note,
        note=data.note,
        created_at=now,
        created_by=ctx.actor.label,
        updated_at=now,
        updated_by=ctx.actor.label,
    )
    _check(ctx, row)
    ctx.session.add(row)
    ctx.session.flush()
    record_write(
        ctx, "inventory.location.add", (), (), rule_ids=(R_23_7.id, R_28_4.id), details=_details(row)
    )
    return to_read(ctx, row)


def update_location(ctx: Context, code: str, data: LocationUpdate) -> LocationRead:
    """Change the given fields; the result must still meet R-23-7 and R-28-4, or nothing changes."""
    can_keep_locations(ctx)
    row = _row(ctx, code)
    changed: list[str] = []
    for name in sorted(data.model_fields_set):
        value = getattr(data, name)
        if name == "categories":
            value = join([c.value for c in value or []])
        elif name == "purposes":
            value = join(list(value or []))
        elif value is None and name in ("name", "kind", "operator", "country", "handles_data"):
            raise ValidationFailed(
                f"{name} は空にできません。", f"{name} cannot be emptied.", code="required_field"
            )
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed.append(name)
    _check(ctx, row)
    if changed:
        row.updated_at = ctx.clock.now()
        row.updated_by = ctx.actor.label
        ctx.session.flush()
        record_write(
            ctx,
            "inventory.location.update",
            (),
            (),
            rule_ids=(R_23_7.id, R_28_4.id),
            details={**_details(row), "changed": ",".join(changed)},
        )
    return to_read(ctx, row)


def retire_location(ctx: Context, code: str) -> LocationRead:
    """No personal data is kept there any more; the location stays in the register (never deleted)."""
    can_keep_locations(ctx)
    row = _row(ctx, code)
    if row.retired_at is None:
        row.retired_at = ctx.clock.now()
        row.updated_at = row.retired_at
        row.updated_by = ctx.actor.label
        ctx.session.flush()
        record_write(ctx, "inventory.location.retire", (), (), details=_details(row))
    return to_read(ctx, row)


def show_location(ctx: Context, code: str) -> LocationRead:
    can_read(ctx)
    return to_read(ctx, _row(ctx, code))


def list_locations(ctx: Context, *, include_retired: bool = True) -> list[LocationRead]:
    can_read(ctx)
    return [to_read(ctx, r) for r in ctx.session.execute(queries.locations(include_retired)).scalars()]


def ensure_location(ctx: Context, data: LocationIn) -> LocationRead | None:
    """Add ``data`` unless a location with its code exists (the demo's seed; idempotent). None if it existed."""
    if ctx.session.execute(queries.location(data.code)).scalar_one_or_none() is not None:
        return None
    return add_location(ctx, data)
