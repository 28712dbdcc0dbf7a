"""Creating a customer: the rows of one person (R-21-1, R-20-2) and their insertion."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert

from mamori.customers.models import (
    BlindIndex,
    ContactPoint,
    Customer,
    CustomerAttribute,
    CustomerPurpose,
    Provenance,
)
from mamori.customers.schemas import (
    SCALAR_FIELDS,
    CustomerCreate,
    CustomerView,
    ProvenanceIn,
)
from mamori.customers.service.core.common import _enc, _sensitive_guard, _validate_purposes
from mamori.kernel.auditing import record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.policy import (
    Action,
    Category,
    Resource,
    decide,
)
from mamori.law.rules import R_21_1


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


def create(
    ctx: Context,
    data: CustomerCreate,
    *,
    provenance: ProvenanceIn,
    purposes: Sequence[str],
    purpose_method: str = "stated",
    owner_id: str | None = None,
    sensitive_basis: str | None = None,
) -> CustomerView:
    """Store a new customer. Purposes notified at collection are recorded with their version (R-21-1/R-21-2)."""
    decide(ctx, Action.CUSTOMER_CREATE, Resource(kind="customer")).raise_if_denied()
    versions = _validate_purposes(ctx, purposes)
    _sensitive_guard(data.attributes, sensitive_basis)
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
        provenance=provenance,
        purpose_versions=versions,
        purpose_method=purpose_method,
        sensitive_basis=sensitive_basis,
    )
    insert_rows(ctx, rows)
    ctx.session.flush()
    record_write(
        ctx,
        Action.CUSTOMER_CREATE,
        [cid],
        [k for k, v in data.model_dump().items() if v],
        rule_ids=(R_21_1.id,),
    )
    return CustomerView(
        id=cid,
        owner_id=owner_id,
        origin=data.origin,
        purpose=",".join(purposes),
        notified_purposes=list(purposes),
    )


# -- read ---------------------------------------------------------------------------------------------------------
