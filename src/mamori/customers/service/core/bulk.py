"""Bulk creation of many customers in one flush."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert

from mamori.customers.models import (
    Activity,
)
from mamori.customers.schemas import (
    FIELD_CATEGORIES,
    PROVIDER_METHODS,
    ActivityIn,
    CustomerCreate,
    ProvenanceIn,
    notice_method_for,
)
from mamori.customers.service.core.common import _enc, _sensitive_guard, _validate_purposes
from mamori.customers.service.import_rows import NewCustomer, write_customers
from mamori.kernel import registry
from mamori.kernel.auditing import audits_refusals, authorise, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import PolicyDenied
from mamori.kernel.policy import (
    Action,
    Category,
    Resource,
)
from mamori.law.rules import R_21_1, R_30_1


@audits_refusals("customer.create")  # every refusal audited (R-20-2, R-30-1)
def bulk_create(
    ctx: Context,
    items: Sequence[tuple[CustomerCreate, ProvenanceIn, Sequence[str], str | None, Sequence[ActivityIn]]],
) -> list[str]:
    """Create many customers in the current transaction: (data, provenance, purposes, owner id, activities)."""
    authorise(ctx, Action.CUSTOMER_CREATE, Resource(kind="customer"))
    all_codes = sorted({code for _, _, codes, _, _ in items for code in codes})
    versions = _validate_purposes(ctx, all_codes)
    ids = sorted(new_id() for _ in items)  # random, ascending along the batch (index pages in key order)
    ctx.runtime.keystore.create_data_keys(ids)
    people: list[NewCustomer] = []
    activities: list[dict[str, object]] = []
    for (data, prov, codes, owner, acts), cid in zip(items, ids, strict=True):
        # R-20-2: attributes, free-text fields and note bodies are scanned alike; new people have no consent yet.
        _sensitive_guard(
            data.attributes, None, free_text=(data.occupation, data.employer, *(a.body for a in acts))
        )
        if prov.method in PROVIDER_METHODS:
            # R-30-1: bulk creation has no receipt; provider-sourced data enters through import / add only.
            raise PolicyDenied(
                "一括登録では第三者・事業承継から取得したデータを登録できません（受領の手続きを経てください）。",
                "Bulk creation cannot take data from a third party or by succession: use the receipt path.",
                rule_id=R_30_1.id,
                code="provider_required",
            )
        people.append(
            NewCustomer(
                customer_id=cid,
                data=data,
                provenance=prov,
                purpose_versions={c: versions[c] for c in codes},
                purpose_method=notice_method_for(prov),  # R-21-2: stated only for data given in writing
                owner_id=owner,
            )
        )
        for act in acts:
            aid = new_id()
            activities.append(
                {
                    "id": aid,
                    "customer_id": cid,
                    "kind": act.kind,
                    "occurred_at": act.occurred_at or ctx.clock.now(),
                    "body_enc": _enc(ctx, cid, "activities", "body", aid, act.body),
                    "amount_enc": _enc(
                        ctx, cid, "activities", "amount", aid, None if act.amount is None else str(act.amount)
                    ),
                    "created_by": ctx.actor.label,
                    "purpose": None,
                    # R-2.3-1: _sensitive_guard above refused any 要配慮 body (no consent yet): behaviour only.
                    "category": Category.BEHAVIOUR.value if registry.text_scanning_available() else None,
                }
            )
    # the same rows as customer_rows + insert_rows, built as tuples (customers.service.import_rows)
    write_customers(ctx, people)
    if activities:
        ctx.session.connection().execute(insert(Activity.__table__), activities)  # type: ignore[arg-type]
    ctx.session.flush()
    record_write(
        ctx,
        Action.CUSTOMER_CREATE,
        ids,
        list(FIELD_CATEGORIES),
        rule_ids=(R_21_1.id,),
    )
    return ids
