"""Reading customers: one record, search and pages, each decided by policy and audited (R-23-2)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    LargeBinary,
    String,
    bindparam,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)

from mamori.customers import queries
from mamori.customers.models import (
    Activity,
    Customer,
    CustomerExternalId,
)
from mamori.customers.schemas import (
    FIELD_CATEGORIES,
    SCALAR_FIELDS,
    ActivityRead,
    AttributeRead,
    CustomerSummary,
    CustomerView,
    ExternalIdRead,
    ProvenanceRead,
    PurposeNoticeRead,
    prefecture_of,
)
from mamori.customers.service import external_ids
from mamori.customers.service.core.common import (
    _dec,
    _grant,
    _load,
    hidden_resource,
    policy_facts,
    text_category,
)
from mamori.kernel import registry
from mamori.kernel.auditing import authorise, record_denial, record_read
from mamori.kernel.context import Context
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.policy import (
    Action,
    Category,
    Decision,
    Resource,
    Scope,
    decide,
    grant_refusal,
    row_scope,
    training_refusal,
)
from mamori.law.rules import R_20_2
from mamori.purposes import service as purposes_service


@dataclass(frozen=True)
class _Attr:
    id: str
    key: str
    category: str
    value_enc: bytes


@dataclass(frozen=True)
class _Contact:
    id: str
    kind: str
    value_enc: bytes


@dataclass(frozen=True)
class _ExternalId:
    id: str
    system: str
    value_enc: bytes | None


@dataclass(frozen=True)
class _Parts:
    """A customer's attributes, contact points, provenance and numbers in other systems, read in one round trip
    (still sealed)."""

    attributes: list[_Attr]
    contacts: list[_Contact]
    provenance: list[ProvenanceRead]
    external_ids: list[_ExternalId]


# The customer's external ids (顧客番号, issue 19) as a fourth part "x" = (system) of the record's UNION ALL, so
# a purpose-checked read still fetches its parts in one round trip.
EXTERNAL_IDS_FIELD = "external_ids"


def _none(type_: type[String] | type[LargeBinary]) -> Any:
    return type_coerce(null(), type_())


@functools.cache
def _record_parts() -> CompoundSelect[Any]:
    base = queries.record_parts()
    return union_all(
        *base.selects,
        select(
            literal_column("'x'"),
            CustomerExternalId.id,
            CustomerExternalId.system,
            _none(String),
            _none(String),
            _none(String),
            _none(String),
            CustomerExternalId.value_enc,
            CustomerExternalId.created_at,
        ).where(CustomerExternalId.customer_id == bindparam("customer_id")),
    )


def _parts(ctx: Context, customer_id: str) -> _Parts:
    attrs: list[tuple[str, _Attr]] = []
    contacts: list[tuple[datetime, str, _Contact]] = []
    prov: list[tuple[datetime, str, ProvenanceRead]] = []
    xids: list[tuple[str, datetime, str, _ExternalId]] = []
    rows = ctx.session.execute(_record_parts(), {"customer_id": customer_id}).all()
    for part, rid, a, b, c, d, e, blob, at in rows:
        if part == "a":
            attrs.append((a, _Attr(rid, a, b, blob)))
        elif part == "c":
            contacts.append((at, rid, _Contact(rid, a, blob)))
        elif part == "x":
            xids.append((a, at, rid, _ExternalId(rid, a, blob)))
        else:
            prov.append(
                (
                    at,
                    rid,
                    ProvenanceRead(
                        method=a, channel=b, notice_version=c, source=d, acquired_at=at, campaign=e
                    ),
                )
            )
    return _Parts(
        attributes=[x for _, x in sorted(attrs, key=lambda t: t[0])],
        # stable sorts: rows with the same time keep the store's order, as the ORDER BY of one table did
        contacts=[x for _, _, x in sorted(contacts, key=lambda t: t[0])],
        provenance=[x for _, _, x in sorted(prov, key=lambda t: t[0])],
        external_ids=[x for _, _, _, x in sorted(xids, key=lambda t: (t[0], t[1], t[2]))],
    )


def _fields_for(attributes: Sequence[_Attr], include_activities: bool) -> dict[str, Category]:
    fields = dict(FIELD_CATEGORIES)
    if not include_activities:
        fields.pop("activities")
    for attr in attributes:
        fields[f"attr:{attr.key}"] = Category(attr.category)
    return fields


# R-20-2 / R-2.3-1: the pseudo-field of a person's 要配慮 notes. Its category is SENSITIVE, so the policy engine
# masks it — like a sensitive attribute — for every purpose that does not cover 要配慮 data, without the person's
# consent to it, or (GDPR subject) without an Art. 9(2) condition; the note's text is then never decrypted.
SENSITIVE_NOTES = "activities:sensitive"
WITHHELD_NOTE = {
    "ja": "要配慮個人情報のため非表示（R-20-2）",
    "en": "Withheld: special care-required information (R-20-2)",
}


def withheld_note(lang: str) -> str:
    """The placeholder shown instead of a 要配慮 note the purpose may not see (never the text)."""
    return WITHHELD_NOTE["en" if lang == "en" else "ja"]


def get(ctx: Context, customer_id: str, *, include_activities: bool = True) -> CustomerView:
    """Read one customer for ``ctx.purpose``: denied unless allowed, masked outside the purpose, audited.

    Four statements besides the audit append (issue 16): the customer row with the purpose catalog's stamp,
    its attributes / contact points / provenance (one UNION ALL), every policy fact (one UNION ALL), and the
    person's data key when it is not in the keystore's cache (a read without the write lock); with activities,
    one more for them.

    Notes the scanner flagged 要配慮 (stored under the category "sensitive") are decided as the field
    ``activities:sensitive`` (R-20-2): when it is masked their text is replaced by a placeholder, never
    decrypted, and the read's audit entry names what was withheld (the field and how many, rule R-20-2).
    """
    row = _load(ctx, customer_id, Action.CUSTOMER_READ)
    parts = _parts(ctx, row.id)
    fields = _fields_for(parts.attributes, include_activities)
    if parts.external_ids:  # 顧客番号: identifiers, masked for a purpose that does not cover them
        fields[EXTERNAL_IDS_FIELD] = Category.IDENTIFIER
    acts = list(ctx.session.execute(queries.activities(row.id)).scalars()) if include_activities else []
    if any(_maybe_sensitive(a) for a in acts):
        fields[SENSITIVE_NOTES] = Category.SENSITIVE
    by_id, notices = policy_facts(ctx, [row], fields)
    resource = by_id[row.id]
    decision = authorise(ctx, Action.CUSTOMER_READ, resource, [row.id])
    view, withheld = _view(
        ctx,
        row,
        decision,
        parts,
        sorted(resource.notified_purposes),
        notices.get(row.id, []),
        acts,
    )
    masked = set(decision.masked_fields)
    if SENSITIVE_NOTES in masked and not withheld:
        masked.discard(SENSITIVE_NOTES)  # only notes of an older store, none of them 要配慮 after all
        view.masked = sorted(masked)
    record_read(
        ctx,
        Action.CUSTOMER_READ,
        [row.id],
        [f for f in fields if f not in masked],
        masked=masked,
        rule_ids=(R_20_2.id,) if withheld else (),
        details={"withheld_category": Category.SENSITIVE.value, "withheld": len(withheld)}
        if withheld
        else None,
    )
    return view


def _maybe_sensitive(act: Activity) -> bool:
    """Stored as 要配慮, or written before activities had a category (classified when read)."""
    if act.category == Category.SENSITIVE:
        return True
    return act.category is None and act.body_enc is not None and registry.text_scanning_available()


def _view(
    ctx: Context,
    row: Customer,
    decision: Decision,
    parts: _Parts,
    notified: list[str],
    notices: list[PurposeNoticeRead],
    activities: Sequence[Activity],
) -> tuple[CustomerView, list[str]]:
    """Decrypt what the decision allows (masked fields are never decrypted); facts already read are passed in.
    Returns the view and the ids of the 要配慮 notes withheld from it (R-20-2)."""
    masked = decision.masked_fields
    cid = row.id
    values: dict[str, object] = {}
    for f in SCALAR_FIELDS:
        if f not in masked:
            values[f] = _dec(ctx, cid, "customers", f, cid, getattr(row, f"{f}_enc"))
    if isinstance(values.get("birth_date"), str):
        values["birth_date"] = date.fromisoformat(str(values["birth_date"]))
    phones: list[str] = []
    emails: list[str] = []
    for cp in parts.contacts:
        if cp.kind == "phone" and "phones" not in masked:
            phones.append(_dec(ctx, cid, "contact_points", "value", cp.id, cp.value_enc) or "")
        if cp.kind == "email" and "emails" not in masked:
            emails.append(_dec(ctx, cid, "contact_points", "value", cp.id, cp.value_enc) or "")
    attrs = [
        AttributeRead(
            key=a.key,
            category=Category(a.category),
            value=None
            if f"attr:{a.key}" in masked
            else _dec(ctx, cid, "customer_attributes", "value", a.id, a.value_enc),
        )
        for a in parts.attributes
    ]
    acts: list[ActivityRead] = []
    withheld: list[str] = []
    hide_sensitive = SENSITIVE_NOTES in masked
    if "activities" not in masked:
        for act in activities:
            amount = _dec(ctx, cid, "activities", "amount", act.id, act.amount_enc)
            body: str | None
            if act.category == Category.SENSITIVE and hide_sensitive:
                body = None  # R-20-2: stored as 要配慮 and the purpose may not see it: never decrypted
            else:
                body = _dec(ctx, cid, "activities", "body", act.id, act.body_enc)
                if hide_sensitive and act.category is None and text_category(body) == Category.SENSITIVE:
                    body = None  # an older store's note that holds 要配慮 (classified as it is read)
            if body is None and act.body_enc is not None:
                withheld.append(act.id)
                body = withheld_note(ctx.lang)
            acts.append(
                ActivityRead(
                    id=act.id,
                    kind=act.kind,
                    occurred_at=act.occurred_at,
                    body=body,
                    amount=int(amount) if amount is not None else None,
                )
            )
    hide_xids = EXTERNAL_IDS_FIELD in masked
    xids = [
        ExternalIdRead(
            system=x.system,
            value=None if hide_xids else _dec(ctx, cid, external_ids.TABLE, "value", x.id, x.value_enc),
        )
        for x in parts.external_ids
    ]
    view = CustomerView(
        id=cid,
        external_ids=xids,
        owner_id=row.owner_id,
        origin=row.origin,
        purpose=ctx.purpose or "",
        phones=phones,
        emails=emails,
        attributes=attrs,
        activities=acts,
        provenance=parts.provenance,
        notified_purposes=notified,
        notices=notices,
        masked=sorted(masked),
        version=row.version,
        **values,
    )
    return view, withheld


def _summaries(ctx: Context, rows: Sequence[Customer], action: Action) -> list[CustomerSummary]:
    fields = {k: FIELD_CATEGORIES[k] for k in ("name", "kana", "address")}
    by_id, every_notice = policy_facts(ctx, rows, fields)
    notices = {
        cid: [n for n in ns if n.purpose == ctx.purpose] for cid, ns in every_notice.items() if ctx.purpose
    }
    out: list[CustomerSummary] = []
    allowed_ids: list[str] = []
    masked_union: set[str] = set()
    for row in rows:
        decision = decide(ctx, action, by_id[row.id])
        if not decision.allowed:
            record_denial(ctx, action, [row.id], decision)
            continue
        m = decision.masked_fields
        address = (
            None if "address" in m else _dec(ctx, row.id, "customers", "address", row.id, row.address_enc)
        )
        out.append(
            CustomerSummary(
                id=row.id,
                name=None if "name" in m else _dec(ctx, row.id, "customers", "name", row.id, row.name_enc),
                kana=None if "kana" in m else _dec(ctx, row.id, "customers", "kana", row.id, row.kana_enc),
                prefecture=prefecture_of(address) if address else None,
                masked=sorted(m),
                notice=next(iter(notices.get(row.id, [])), None),
            )
        )
        allowed_ids.append(row.id)
        masked_union |= m
    if allowed_ids:
        record_read(
            ctx, action, allowed_ids, [f for f in fields if f not in masked_union], masked=masked_union
        )
    return out


def _refuse_uncleared(ctx: Context) -> None:
    """R-23-3: staff the training policy does not clear are refused a search or a listing outright (one audited
    denial) instead of being shown an empty list."""
    refused = training_refusal(ctx)
    if refused is not None:
        record_denial(ctx, Action.CUSTOMER_READ, [], refused)
        refused.raise_if_denied()


def find(
    ctx: Context,
    *,
    email: str | None = None,
    phone: str | None = None,
    name: str | None = None,
    kana: str | None = None,
    customer_no: str | None = None,
    system: str | None = None,
) -> list[CustomerSummary]:
    """Exact-match lookup through the blind index (normalised: NFKC, width, case, kana, E.164), or by a
    customer number (顧客番号) of ``system`` — of any issuing system when ``system`` is None. The actor sees only
    the matches their row scope covers (the others are audited denials), as for every criterion."""
    given = [
        (k, v)
        for k, v in (
            ("email", email),
            ("phone", phone),
            ("name", name),
            ("kana", kana),
            ("customer_no", customer_no),
        )
        if v
    ]
    if len(given) != 1 or (system is not None and customer_no is None):
        raise ValidationFailed(
            "検索条件をひとつ指定してください（email / phone / name / kana / 顧客番号）。"
            "発行元は顧客番号とともに指定します。",
            "Give exactly one of email, phone, name, kana or customer number; a system only with a customer"
            " number.",
            code="bad_query",
        )
    _refuse_uncleared(ctx)
    kind, value = given[0]
    if kind == "customer_no":
        ids = external_ids.lookup(ctx, system, value)
    else:
        digest = ctx.runtime.indexer.digest(kind, value)
        ids = sorted({cid for cid, _ in ctx.session.execute(queries.ids_by_digest(kind, [digest])).all()})
    if not ids:
        return []
    rows = []
    for row, stamp in ctx.session.execute(
        queries.customers_and(purposes_service.catalog_stamp_column()), {"ids": ids}
    ).all():
        purposes_service.note_catalog_stamp(ctx, stamp)
        rows.append(row)
    seen = {row.id for row in rows}
    for cid in ids:  # PostgreSQL: a match row-level security hid is a denial, audited as on SQLite (R-23-2)
        hidden = None if cid in seen else hidden_resource(ctx, cid)
        if hidden is not None and not (decision := decide(ctx, Action.CUSTOMER_READ, hidden)).allowed:
            record_denial(ctx, Action.CUSTOMER_READ, [cid], decision)
    return _summaries(ctx, rows, Action.CUSTOMER_READ)


def list_page(
    ctx: Context, *, after: str | None = None, limit: int = 50
) -> tuple[list[CustomerSummary], str | None]:
    """One page of the customers the actor may see for ``ctx.purpose``; returns (items, next cursor)."""
    limit = max(1, min(limit, 500))
    _refuse_uncleared(ctx)
    if not ctx.purpose:
        decision = decide(ctx, Action.CUSTOMER_READ, Resource(kind="customer", subject_id="*"))
        record_denial(ctx, Action.CUSTOMER_READ, [], decision)
        decision.raise_if_denied()
    scope = row_scope(ctx, Action.CUSTOMER_READ)
    if scope.value == "none":
        decision = decide(ctx, Action.CUSTOMER_READ, Resource(kind="customer", subject_id="*"))
        record_denial(ctx, Action.CUSTOMER_READ, [], decision)
        decision.raise_if_denied()
    grant = _grant(ctx) if scope == Scope.GRANT else None
    if scope == Scope.GRANT:
        # R-25-1: an outsourcee lists only its running contract's customers, for the contract's purposes.
        refused = grant_refusal(ctx, Action.CUSTOMER_READ, Resource(kind="customer", grant=grant))
        if refused is not None:
            record_denial(ctx, Action.CUSTOMER_READ, [], refused)
            refused.raise_if_denied()
    rows = list(
        ctx.session.execute(
            queries.scoped_page(
                ctx,
                scope,
                purpose=ctx.purpose or "",
                after=after,
                limit=limit,
                only=grant.customer_ids if grant is not None else None,
            )
        ).scalars()
    )
    items = _summaries(ctx, rows, Action.CUSTOMER_READ)
    next_cursor = rows[-1].id if len(rows) == limit else None
    return items, next_cursor


# -- write --------------------------------------------------------------------------------------------------------
