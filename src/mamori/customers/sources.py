"""The customers slice's subject data source: one person's profile, contacts, attributes, activities and
provenance — to disclose (R-33-1 / G-15), correct (R-34-1 / G-16) and erase (R-35-1 / G-17).

Registered with the kernel registry; the rights slice iterates every source and never imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, select

from mamori.customers import queries
from mamori.customers.models import (
    Activity,
    BlindIndex,
    ContactPoint,
    Customer,
    CustomerAttribute,
    CustomerExternalId,
    CustomerPurpose,
    Provenance,
)
from mamori.customers.schemas import SCALAR_FIELDS, CustomerUpdate
from mamori.customers.service import external_ids, notices, subjects
from mamori.customers.service.core import _dec, reindex_name
from mamori.customers.service.core.common import IDENTITY_PARTS, reindex_identity, text_category
from mamori.kernel import registry
from mamori.kernel.auditing import record_read, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import chunks
from mamori.kernel.errors import NotFound, ValidationFailed
from mamori.kernel.registry import Correction, Recipient, SubjectRecord
from mamori.kernel.runtime import SCRUB_PENDING
from mamori.law.rules import R_34_1
from mamori.purposes import service as purposes_service

NAME = "customers"


def _live(ctx: Context, subject_id: str) -> Customer | None:
    row = ctx.session.execute(queries.customer(subject_id)).scalar_one_or_none()
    return None if row is None or row.erased_at is not None else row


def _not_found() -> NotFound:
    return NotFound(
        "この本人の記録が見つかりません。", "No such record for this person.", code="record_not_found"
    )


def _bad_value(field: str) -> ValidationFailed:
    return ValidationFailed(
        f"項目「{field}」の値が正しくありません。",
        f"The value for '{field}' is invalid.",
        rule_id=R_34_1.id,
        code="bad_correction",
        details={"field": field},
    )


class CustomersSource:
    name = NAME

    def summary(self, ctx: Context, subject_id: str) -> Mapping[str, int]:
        if _live(ctx, subject_id) is None:
            return {}
        s = ctx.session

        def count(model: Any, *where: Any) -> int:
            return int(s.execute(select(func.count()).select_from(model).where(*where)).scalar_one())

        return {
            "profile": 1,
            "contact": count(ContactPoint, ContactPoint.customer_id == subject_id),
            "attribute": count(
                CustomerAttribute,
                CustomerAttribute.customer_id == subject_id,
                CustomerAttribute.withheld.is_(None),
            ),
            "activity": count(Activity, Activity.customer_id == subject_id, Activity.withheld.is_(None)),
            "provenance": count(Provenance, Provenance.customer_id == subject_id),
            "purpose": count(CustomerPurpose, CustomerPurpose.customer_id == subject_id),
            "external_id": count(CustomerExternalId, CustomerExternalId.customer_id == subject_id),
        }

    def export(self, ctx: Context, subject_id: str) -> Sequence[SubjectRecord]:
        row = _live(ctx, subject_id)
        if row is None:
            return []
        cid = row.id
        s = ctx.session
        provenance = list(s.execute(queries.provenance(cid)).scalars())
        origin = (
            "; ".join(sorted({p.source or p.channel or p.method for p in provenance})) if provenance else None
        )
        purposes = tuple(sorted(p.purpose_code for p in s.execute(queries.customer_purposes(cid)).scalars()))
        out: list[SubjectRecord] = []
        profile = {f: _dec(ctx, cid, "customers", f, cid, getattr(row, f"{f}_enc")) for f in SCALAR_FIELDS}
        profile["origin"] = row.origin
        out.append(
            SubjectRecord(
                NAME,
                "profile",
                cid,
                profile,
                acquired_from=origin,
                purposes=purposes,
                occurred_at=row.created_at,
                correctable=SCALAR_FIELDS,
            )
        )
        for cp in s.execute(queries.contact_points([cid])).scalars():
            out.append(
                SubjectRecord(
                    NAME,
                    "contact",
                    cp.id,
                    {
                        "kind": cp.kind,
                        "label": cp.label,
                        "value": _dec(ctx, cid, "contact_points", "value", cp.id, cp.value_enc),
                    },
                    acquired_from=origin,
                    purposes=purposes,
                    occurred_at=cp.created_at,
                    correctable=("value",),
                )
            )
        for a in s.execute(queries.attributes(cid)).scalars():
            out.append(
                SubjectRecord(
                    NAME,
                    "attribute",
                    a.id,
                    {
                        "key": a.key,
                        "category": a.category,
                        "value": _dec(ctx, cid, "customer_attributes", "value", a.id, a.value_enc),
                    },
                    acquired_from=origin,
                    purposes=purposes,
                    occurred_at=a.created_at,
                    excluded=a.withheld,  # R-16-4: 政令5 records are not 保有個人データ
                    correctable=("value",),
                )
            )
        for act in s.execute(queries.all_activities(cid)).scalars():
            amount = _dec(ctx, cid, "activities", "amount", act.id, act.amount_enc)
            out.append(
                SubjectRecord(
                    NAME,
                    "activity",
                    act.id,
                    {
                        "kind": act.kind,
                        "body": _dec(ctx, cid, "activities", "body", act.id, act.body_enc),
                        "amount": int(amount) if amount is not None else None,
                        "purpose": act.purpose,
                    },
                    acquired_from="activity",
                    purposes=(act.purpose,) if act.purpose else purposes,
                    occurred_at=act.occurred_at,
                    excluded=act.withheld,
                    correctable=("body",),
                )
            )
        for x in external_ids.rows_of(ctx, cid):  # 顧客番号 (issue 19): the number and its issuing system
            out.append(
                SubjectRecord(
                    NAME,
                    "external_id",
                    x.id,
                    {
                        "system": x.system,
                        "value": _dec(ctx, cid, external_ids.TABLE, "value", x.id, x.value_enc),
                    },
                    acquired_from=origin,
                    purposes=purposes,
                    occurred_at=x.created_at,
                )
            )
        for p in provenance:
            out.append(
                SubjectRecord(
                    NAME,
                    "provenance",
                    p.id,
                    {
                        "method": p.method,
                        "channel": p.channel,
                        "source": p.source,
                        "acquisition": p.acquisition,
                        "notice_version": p.notice_version,
                        "campaign": p.campaign,
                    },
                    acquired_from=p.source or p.channel or p.method,
                    occurred_at=p.acquired_at,
                )
            )
        for cp_row in s.execute(queries.customer_purposes(cid)).scalars():
            out.append(
                SubjectRecord(
                    NAME,
                    "purpose",
                    str(cp_row.id),
                    {
                        "purpose": cp_row.purpose_code,
                        "version": cp_row.purpose_version,
                        "method": cp_row.method,
                    },
                    occurred_at=cp_row.notified_at,
                )
            )
        fields = [r.category for r in out if r.excluded is None]
        record_read(ctx, "subject.export", [cid], sorted(set(fields)), rule_ids=("R-33-1",))
        return out

    def correct(
        self, ctx: Context, subject_id: str, record_id: str, changes: Mapping[str, str | None]
    ) -> Sequence[Correction]:
        """R-34-1 / G-16: correct, add or delete; a value of None deletes the field (or the whole record)."""
        row = _live(ctx, subject_id)
        if row is None or not changes:
            raise _not_found()
        cid = row.id
        s = ctx.session
        now = ctx.clock.now()
        out: list[Correction] = []
        if record_id == cid:
            identity_changed = False
            for f, value in changes.items():
                if f not in SCALAR_FIELDS:
                    raise _bad_value(f)
                if value is not None:
                    try:
                        parsed = getattr(CustomerUpdate.model_validate({f: value}), f)
                    except ValidationError as exc:
                        raise _bad_value(f) from exc
                    value = parsed.isoformat() if isinstance(parsed, date) else str(parsed)
                before = _dec(ctx, cid, "customers", f, cid, getattr(row, f"{f}_enc"))
                setattr(
                    row,
                    f"{f}_enc",
                    None if value is None else ctx.runtime.cipher.encrypt(cid, "customers", f, cid, value),
                )
                if f in ("name", "kana"):
                    reindex_name(ctx, cid, f, value)
                if f in IDENTITY_PARTS:
                    identity_changed = True
                out.append(Correction(NAME, "profile", cid, f, before, value))
            if identity_changed:
                reindex_identity(ctx, row)
        else:
            out.extend(self._correct_child(ctx, cid, record_id, changes))
        row.version += 1
        row.updated_at = now
        s.flush()
        record_write(
            ctx,
            "subject.correct",
            [cid],
            sorted({c.field for c in out}),
            rule_ids=(R_34_1.id, "G-16"),
        )
        return out

    def _correct_child(
        self, ctx: Context, cid: str, record_id: str, changes: Mapping[str, str | None]
    ) -> list[Correction]:
        s = ctx.session
        idx = ctx.runtime.indexer
        cp = s.execute(queries.contact_point_of(cid, record_id)).scalar_one_or_none()
        if cp is not None:
            if set(changes) != {"value"}:
                raise _bad_value(",".join(sorted(set(changes) - {"value"})) or "value")
            value = changes["value"]
            if value is not None:
                key = "add_emails" if cp.kind == "email" else "add_phones"
                try:
                    value = str(getattr(CustomerUpdate.model_validate({key: [value]}), key)[0])
                except ValidationError as exc:
                    raise _bad_value("value") from exc
            before = _dec(ctx, cid, "contact_points", "value", cp.id, cp.value_enc)
            if before is not None:
                s.execute(
                    delete(BlindIndex).where(
                        BlindIndex.customer_id == cid,
                        BlindIndex.kind == cp.kind,
                        BlindIndex.digest == idx.digest(cp.kind, before),
                    )
                )
            if value is None:
                s.delete(cp)
            else:
                cp.value_enc = ctx.runtime.cipher.encrypt(cid, "contact_points", "value", cp.id, value)
                s.add(BlindIndex(customer_id=cid, kind=cp.kind, digest=idx.digest(cp.kind, value)))
            return [Correction(NAME, "contact", cp.id, "value", before, value)]
        attr = s.execute(queries.attribute_of(cid, record_id)).scalar_one_or_none()
        if attr is not None and attr.withheld is None:
            if set(changes) != {"value"}:
                raise _bad_value("value")
            value = changes["value"]
            before = _dec(ctx, cid, "customer_attributes", "value", attr.id, attr.value_enc)
            if value is None:
                s.delete(attr)
            else:
                attr.value_enc = ctx.runtime.cipher.encrypt(
                    cid, "customer_attributes", "value", attr.id, value
                )
            return [Correction(NAME, "attribute", attr.id, "value", before, value)]
        act = s.execute(queries.activity_of(cid, record_id)).scalar_one_or_none()
        if act is not None and act.withheld is None:
            if set(changes) != {"body"}:
                raise _bad_value("body")
            value = changes["body"]
            before = _dec(ctx, cid, "activities", "body", act.id, act.body_enc)
            act.body_enc = (
                None
                if value is None
                else ctx.runtime.cipher.encrypt(cid, "activities", "body", act.id, value)
            )
            act.category = text_category(
                value
            )  # R-2.3-1: a corrected text keeps the category of what it holds
            return [Correction(NAME, "activity", act.id, "body", before, value)]
        raise _not_found()

    def erase(self, ctx: Context, subject_id: str) -> int:
        try:
            removed = subjects.erase(ctx, subject_id)
        except NotFound:
            return 0  # not a customer of ours: nothing held here
        # 顧客番号 (issue 19): the sealed number AND its digest go, so the number no longer finds or links the person
        removed += external_ids.erase(ctx, subject_id)
        # The deleted rows' old pages stay in the SQLite WAL until it is reset: the edge checkpoints it with
        # TRUNCATE once this transaction has committed (Runtime.scrub).
        ctx.memo[SCRUB_PENDING] = True
        return removed

    def erase_many(self, ctx: Context, subject_ids: Sequence[str]) -> int:
        """Many people at once (retention disposal, R-22-1): ``subjects.erase_many`` (one key destruction, chunked
        deletes, one audit entry) and their customer numbers with their digests."""
        removed = subjects.erase_many(ctx, subject_ids)
        for chunk in chunks(list(dict.fromkeys(subject_ids))):
            result = ctx.session.execute(
                delete(CustomerExternalId).where(CustomerExternalId.customer_id.in_(list(chunk)))
            )
            removed += int(getattr(result, "rowcount", 0) or 0)
        ctx.memo[SCRUB_PENDING] = True
        return removed

    def recipients(self, ctx: Context, subject_id: str) -> Sequence[Recipient]:
        return []


def register() -> None:
    registry.register_source(CustomersSource())
    # `purposes revise` says how many persons now need the new notice; purposes may not read customers (R-17-2).
    purposes_service.register_notice_counter(notices.pending_count)
