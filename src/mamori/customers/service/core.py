"""Create, read, find, list and update customers — every read purpose-checked, masked and audited."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import cast

from sqlalchemy import insert

from mamori.customers import queries
from mamori.customers.models import (
    Activity,
    BlindIndex,
    ContactPoint,
    Customer,
    CustomerAttribute,
    CustomerPurpose,
    Provenance,
)
from mamori.customers.schemas import (
    FIELD_CATEGORIES,
    SCALAR_FIELDS,
    ActivityIn,
    ActivityRead,
    AttributeIn,
    AttributeRead,
    CustomerCreate,
    CustomerSummary,
    CustomerUpdate,
    CustomerView,
    NoteWarning,
    ProvenanceIn,
    ProvenanceRead,
    prefecture_of,
)
from mamori.kernel import registry
from mamori.kernel.auditing import authorise, record_denial, record_read, record_write
from mamori.kernel.context import ActorKind, Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import NotFound, PolicyDenied, PreconditionFailed, ValidationFailed
from mamori.kernel.policy import (
    Action,
    Category,
    Decision,
    PurposeFacts,
    Resource,
    Scope,
    decide,
    grant_refusal,
    row_scope,
)
from mamori.law.rules import R_17_1, R_20_2, R_21_1
from mamori.purposes import service as purposes_service

GDPR_ORIGINS = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO GB UK".split()
)
SENSITIVE_BASES = frozenset(
    {"consent", "law", "life", "public_health", "state", "published", "entrusted", "observed"}
)


# R-23-5 (technical measures): every personal value is sealed under the person's data key before it is stored.
def _enc(ctx: Context, cid: str, table: str, column: str, row_id: str, value: str | None) -> bytes | None:
    if value is None:
        return None
    return bytes(ctx.runtime.cipher.encrypt(cid, table, column, row_id, value))


def _dec(ctx: Context, cid: str, table: str, column: str, row_id: str, blob: bytes | None) -> str | None:
    if blob is None:
        return None
    return str(ctx.runtime.cipher.decrypt(cid, table, column, row_id, blob))


def reindex_name(ctx: Context, cid: str, kind: str, value: str | None) -> None:
    """Replace the person's name or kana blind-index token (one per kind) after a change."""
    ctx.session.query(BlindIndex).filter_by(customer_id=cid, kind=kind).delete()
    if value is not None:
        ctx.session.add(
            BlindIndex(customer_id=cid, kind=kind, digest=ctx.runtime.indexer.digest(kind, value))
        )


def _not_found(customer_id: str) -> NotFound:
    return NotFound(
        "顧客が見つかりません。",
        "Customer not found.",
        code="customer_not_found",
        details={"customer_id": customer_id},
    )


# -- policy facts -------------------------------------------------------------------------------------------------


def resources(ctx: Context, rows: Sequence[Customer], fields: dict[str, Category]) -> dict[str, Resource]:
    """The facts the policy needs for each row, fetched in bulk (3 queries for any number of rows)."""
    ids = [r.id for r in rows]
    notified: dict[str, set[str]] = defaultdict(set)
    for cid, code in ctx.session.execute(queries.notified_purposes(ids)).all():
        notified[cid].add(code)
    key = ("purpose_facts", ctx.purpose)
    if key not in ctx.memo:
        ctx.memo[key] = purposes_service.facts(ctx.session, ctx.purpose)
    facts = cast(PurposeFacts | None, ctx.memo[key])
    states = registry.purpose_states(ctx, ids, ctx.purpose) if ctx.purpose else {}
    grant = _grant(ctx)
    out: dict[str, Resource] = {}
    for r in rows:
        kwargs = {}
        if r.id in states:
            kwargs["state"] = states[r.id]
        out[r.id] = Resource(
            kind="customer",
            subject_id=r.id,
            owner_id=r.owner_id,
            team=r.team,
            purpose=facts,
            notified_purposes=frozenset(notified[r.id]),
            gdpr=r.origin in GDPR_ORIGINS,
            fields=fields,
            grant=grant,
            **kwargs,  # type: ignore[arg-type]
        )
    return out


def _grant(ctx: Context) -> registry.AccessGrant | None:
    """An outsourcee operator's running-contract grant (R-25-1), looked up once per unit of work."""
    if ctx.actor.kind != ActorKind.OUTSOURCEE:
        return None
    key = ("access_grant", ctx.actor.id)
    if key not in ctx.memo:
        ctx.memo[key] = registry.access_grant(ctx)
    return cast(registry.AccessGrant | None, ctx.memo[key])


def _check(ctx: Context, action: Action, row: Customer, fields: dict[str, Category]) -> Decision:
    return authorise(ctx, action, resources(ctx, [row], fields)[row.id], [row.id])


def _load(ctx: Context, customer_id: str, action: Action) -> Customer:
    row = ctx.session.execute(queries.customer(customer_id)).scalar_one_or_none()
    if row is None or row.erased_at is not None:  # an erased person is a tombstone: nothing to read or change
        record_denial(ctx, action, [customer_id], Decision(False, (), frozenset(), "", "", "not_found"))
        raise _not_found(customer_id)
    return row


# -- create -------------------------------------------------------------------------------------------------------


def _validate_purposes(ctx: Context, purposes: Sequence[str]) -> dict[str, int]:
    if not purposes:
        raise PolicyDenied(
            "個人情報を取得するには、通知・公表した利用目的を少なくとも一つ指定してください。",
            "At least one notified purpose is required to store personal data.",
            rule_id=R_17_1.id,
            code="purpose_required",
        )
    versions = purposes_service.current_versions(ctx.session, list(purposes))
    for code in purposes:
        if code not in versions:
            raise PolicyDenied(
                f"利用目的「{code}」は登録されていません。",
                f"Purpose '{code}' is not registered.",
                rule_id=R_17_1.id,
                code="purpose_unknown",
            )
        if versions[code][1]:
            raise PolicyDenied(
                f"利用目的「{code}」は廃止されています。",
                f"Purpose '{code}' has been retired.",
                rule_id=R_17_1.id,
                code="purpose_retired",
            )
    return {code: versions[code][0] for code in purposes}


def _sensitive_guard(attributes: Sequence[AttributeIn], basis: str | None) -> None:
    if any(a.category == Category.SENSITIVE for a in attributes) and basis not in SENSITIVE_BASES:
        raise PolicyDenied(
            "要配慮個人情報は本人の同意または記録された例外事由（--sensitive-basis）がなければ取得できません。",
            "Special care-required data needs consent or a recorded exception (sensitive basis).",
            rule_id=R_20_2.id,
            code="sensitive_consent_missing",
        )


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


def _fields_for(attributes: Sequence[CustomerAttribute], include_activities: bool) -> dict[str, Category]:
    fields = dict(FIELD_CATEGORIES)
    if not include_activities:
        fields.pop("activities")
    for attr in attributes:
        fields[f"attr:{attr.key}"] = Category(attr.category)
    return fields


def get(ctx: Context, customer_id: str, *, include_activities: bool = True) -> CustomerView:
    """Read one customer for ``ctx.purpose``: denied unless allowed, masked outside the purpose, audited."""
    row = _load(ctx, customer_id, Action.CUSTOMER_READ)
    attributes = list(ctx.session.execute(queries.attributes(row.id)).scalars())
    fields = _fields_for(attributes, include_activities)
    resource = resources(ctx, [row], fields)[row.id]
    decision = authorise(ctx, Action.CUSTOMER_READ, resource, [row.id])
    view = _view(ctx, row, decision, attributes, sorted(resource.notified_purposes), include_activities)
    record_read(
        ctx,
        Action.CUSTOMER_READ,
        [row.id],
        [f for f in fields if f not in decision.masked_fields],
        masked=decision.masked_fields,
    )
    return view


def _view(
    ctx: Context,
    row: Customer,
    decision: Decision,
    attributes: Sequence[CustomerAttribute],
    notified: list[str],
    include_activities: bool,
) -> CustomerView:
    """Decrypt what the decision allows (masked fields are never decrypted); facts already read are passed in."""
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
    if "phones" not in masked or "emails" not in masked:
        for cp in ctx.session.execute(queries.contact_points([cid])).scalars():
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
        for a in attributes
    ]
    acts: list[ActivityRead] = []
    if include_activities and "activities" not in masked:
        for act in ctx.session.execute(queries.activities(cid)).scalars():
            amount = _dec(ctx, cid, "activities", "amount", act.id, act.amount_enc)
            acts.append(
                ActivityRead(
                    id=act.id,
                    kind=act.kind,
                    occurred_at=act.occurred_at,
                    body=_dec(ctx, cid, "activities", "body", act.id, act.body_enc),
                    amount=int(amount) if amount is not None else None,
                )
            )
    prov = [
        ProvenanceRead(
            method=p.method,
            channel=p.channel,
            notice_version=p.notice_version,
            source=p.source,
            acquired_at=p.acquired_at,
        )
        for p in ctx.session.execute(queries.provenance(cid)).scalars()
    ]
    return CustomerView(
        id=cid,
        owner_id=row.owner_id,
        origin=row.origin,
        purpose=ctx.purpose or "",
        phones=phones,
        emails=emails,
        attributes=attrs,
        activities=acts,
        provenance=prov,
        notified_purposes=notified,
        masked=sorted(masked),
        version=row.version,
        **values,
    )


def _summaries(ctx: Context, rows: Sequence[Customer], action: Action) -> list[CustomerSummary]:
    fields = {k: FIELD_CATEGORIES[k] for k in ("name", "kana", "address")}
    by_id = resources(ctx, rows, fields)
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
            )
        )
        allowed_ids.append(row.id)
        masked_union |= m
    if allowed_ids:
        record_read(
            ctx, action, allowed_ids, [f for f in fields if f not in masked_union], masked=masked_union
        )
    return out


def find(
    ctx: Context,
    *,
    email: str | None = None,
    phone: str | None = None,
    name: str | None = None,
    kana: str | None = None,
) -> list[CustomerSummary]:
    """Exact-match lookup through the blind index (normalised: NFKC, width, case, kana, E.164)."""
    given = [(k, v) for k, v in (("email", email), ("phone", phone), ("name", name), ("kana", kana)) if v]
    if len(given) != 1:
        raise ValidationFailed(
            "検索条件をひとつ指定してください（email / phone / name / kana）。",
            "Give exactly one of email, phone, name or kana.",
            code="bad_query",
        )
    kind, value = given[0]
    digest = ctx.runtime.indexer.digest(kind, value)
    ids = sorted({cid for cid, _ in ctx.session.execute(queries.ids_by_digest(kind, [digest])).all()})
    if not ids:
        return []
    rows = list(ctx.session.execute(queries.customers(ids)).scalars())
    return _summaries(ctx, rows, Action.CUSTOMER_READ)


def list_page(
    ctx: Context, *, after: str | None = None, limit: int = 50
) -> tuple[list[CustomerSummary], str | None]:
    """One page of the customers the actor may see for ``ctx.purpose``; returns (items, next cursor)."""
    limit = max(1, min(limit, 500))
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


# R-22-1: corrections keep personal data accurate; each one is a new version of the row, audited.
def update(
    ctx: Context, customer_id: str, changes: CustomerUpdate, *, expected_version: int | None = None
) -> CustomerView:
    row = _load(ctx, customer_id, Action.CUSTOMER_UPDATE)
    data = changes.model_dump(exclude_unset=True, exclude_none=True)
    touched: dict[str, Category] = {}
    for key in data:
        field = {"add_phones": "phones", "add_emails": "emails"}.get(key, key)
        touched[field] = FIELD_CATEGORIES[field]
    if not touched:
        raise ValidationFailed("変更する項目がありません。", "Nothing to change.", code="empty_update")
    _check(ctx, Action.CUSTOMER_UPDATE, row, touched)
    if expected_version is not None and expected_version != row.version:
        raise PreconditionFailed(
            "他の担当者が先に更新しました。最新の内容を確認してください。",
            "Someone else changed this customer first; reload and retry.",
            code="version_conflict",
        )
    cid = row.id
    now = ctx.clock.now()
    idx = ctx.runtime.indexer
    for f in SCALAR_FIELDS:
        if f in data:
            value = data[f].isoformat() if isinstance(data[f], date) else str(data[f])
            setattr(row, f"{f}_enc", _enc(ctx, cid, "customers", f, cid, value))
            if f in ("name", "kana"):
                reindex_name(ctx, cid, f, value)
    for key, kind in (("add_phones", "phone"), ("add_emails", "email")):
        for value in data.get(key, []):
            cp_id = new_id()
            ctx.session.add(
                ContactPoint(
                    id=cp_id,
                    customer_id=cid,
                    kind=kind,
                    label=None,
                    created_at=now,
                    value_enc=_enc(ctx, cid, "contact_points", "value", cp_id, value) or b"",
                )
            )
            ctx.session.add(BlindIndex(customer_id=cid, kind=kind, digest=idx.digest(kind, value)))
    row.version += 1
    row.updated_at = now
    ctx.session.flush()
    record_write(ctx, Action.CUSTOMER_UPDATE, [cid], list(touched))
    return get(ctx, cid, include_activities=False)


def add_attribute(
    ctx: Context, customer_id: str, attribute: AttributeIn, *, sensitive_exception: str | None = None
) -> None:
    """Add or replace an extensible attribute. 要配慮 attributes need consent in the ledger or a recorded
    exception (R-20-2)."""
    row = _load(ctx, customer_id, Action.CUSTOMER_UPDATE)
    fields = {f"attr:{attribute.key}": attribute.category}
    if attribute.category == Category.SENSITIVE:
        if sensitive_exception is not None and sensitive_exception not in SENSITIVE_BASES:
            raise ValidationFailed("例外事由が不正です。", "Unknown exception code.", code="bad_exception")
        resource = resources(ctx, [row], fields)[row.id]
        resource = Resource(**{**resource.__dict__, "sensitive_exception": sensitive_exception, "fields": {}})
        authorise(ctx, Action.SENSITIVE_WRITE, resource, [row.id])
    else:
        _check(ctx, Action.CUSTOMER_UPDATE, row, fields)
    existing = [
        a for a in ctx.session.execute(queries.attributes(row.id)).scalars() if a.key == attribute.key
    ]
    for a in existing:
        ctx.session.delete(a)
    ctx.session.flush()
    aid = new_id()
    ctx.session.add(
        CustomerAttribute(
            id=aid,
            customer_id=row.id,
            key=attribute.key,
            category=attribute.category.value,
            value_enc=_enc(ctx, row.id, "customer_attributes", "value", aid, attribute.value) or b"",
            basis=(sensitive_exception or "consent") if attribute.category == Category.SENSITIVE else None,
            withheld=attribute.withheld,
            created_at=ctx.clock.now(),
        )
    )
    row.version += 1
    ctx.session.flush()
    record_write(
        ctx,
        Action.CUSTOMER_UPDATE,
        [row.id],
        list(fields),
        rule_ids=(R_20_2.id,) if attribute.category == Category.SENSITIVE else (),
    )


# Text-scanner finding types → the data category a purpose must cover for a note to hold them.
_NOTE_TYPE_CATEGORIES: dict[str, Category] = {
    "email": Category.CONTACT,
    "phone": Category.CONTACT,
    "postal_code": Category.CONTACT,
    "address": Category.CONTACT,
    "ip_address": Category.IDENTIFIER,
    "person": Category.IDENTIFIER,
    "my_number": Category.IDENTIFIER,
    "corporate_number": Category.IDENTIFIER,
    "credit_card": Category.IDENTIFIER,
    "bank_account": Category.IDENTIFIER,
    "date_of_birth": Category.ATTRIBUTE,
    "flag:career": Category.ATTRIBUTE,  # seed 004: a prospect's former employer is an attribute, not behaviour
}
# 個人識別符号 and payment data never belong in free text, whatever the purpose covers.
_NEVER_IN_NOTES = frozenset({"my_number", "credit_card", "bank_account"})


def add_activity(ctx: Context, customer_id: str, activity: ActivityIn) -> tuple[str, list[NoteWarning]]:
    """Log a purchase, inquiry, call or note. Free text is scanned: personal information the purpose does not
    cover gives a warning; 要配慮 information without consent is refused (R-20-2)."""
    row = _load(ctx, customer_id, Action.ACTIVITY_WRITE)
    decision = _check(ctx, Action.ACTIVITY_WRITE, row, {"activities": Category.BEHAVIOUR})
    del decision
    warnings: list[NoteWarning] = []
    if activity.body and registry.text_scanning_available():
        findings = registry.scan_text(activity.body)
        facts = purposes_service.facts(ctx.session, ctx.purpose)
        state = registry.purpose_states(ctx, [row.id], ctx.purpose or "").get(row.id)
        if any(f.sensitive for f in findings) and not (state and state.sensitive_consent):
            decision = Decision(False, (R_20_2.id,), frozenset(), "", "", "sensitive_in_note")
            record_denial(ctx, Action.ACTIVITY_WRITE, [row.id], decision)
            raise PolicyDenied(
                "メモに要配慮個人情報が含まれています。本人の同意なしには記録できません。",
                "The note contains special care-required information; it cannot be stored without consent.",
                rule_id=R_20_2.id,
                code="sensitive_in_note",
                details={"types": sorted({f.type for f in findings if f.sensitive})},
            )
        allowed = facts.categories if facts else frozenset()
        for ftype in sorted({f.type for f in findings if not f.sensitive}):
            category = _NOTE_TYPE_CATEGORIES.get(ftype, Category.IDENTIFIER)
            if category not in allowed or ftype in _NEVER_IN_NOTES:
                warnings.append(
                    NoteWarning(
                        type=ftype,
                        rule_id="R-18-1",
                        message_ja=f"メモに利用目的「{ctx.purpose}」に不要な個人情報（{ftype}）が含まれています。",
                        message_en=f"The note holds personal information ({ftype}) the purpose '{ctx.purpose}' does not need.",
                    )
                )
    aid = new_id()
    cid = row.id
    ctx.session.add(
        Activity(
            id=aid,
            customer_id=cid,
            kind=activity.kind,
            occurred_at=activity.occurred_at or ctx.clock.now(),
            body_enc=_enc(ctx, cid, "activities", "body", aid, activity.body),
            amount_enc=_enc(
                ctx,
                cid,
                "activities",
                "amount",
                aid,
                None if activity.amount is None else str(activity.amount),
            ),
            created_by=ctx.actor.label,
            purpose=ctx.purpose,
            withheld=activity.withheld,
        )
    )
    ctx.session.flush()
    record_write(
        ctx,
        Action.ACTIVITY_WRITE,
        [cid],
        ["activities"],
        details={"kind": activity.kind, "warnings": len(warnings)},
    )
    return aid, warnings


# -- bulk creation (demo data, fixtures) -------------------------------------------------------------------------


def bulk_create(
    ctx: Context,
    items: Sequence[tuple[CustomerCreate, ProvenanceIn, Sequence[str], str | None, Sequence[ActivityIn]]],
) -> list[str]:
    """Create many customers in the current transaction: (data, provenance, purposes, owner id, activities)."""
    decide(ctx, Action.CUSTOMER_CREATE, Resource(kind="customer")).raise_if_denied()
    all_codes = sorted({code for _, _, codes, _, _ in items for code in codes})
    versions = _validate_purposes(ctx, all_codes)
    ids = [new_id() for _ in items]
    ctx.runtime.keystore.create_data_keys(ids)
    merged: dict[str, list[dict[str, object]]] = {}
    activities: list[dict[str, object]] = []
    for (data, prov, codes, owner, acts), cid in zip(items, ids, strict=True):
        _sensitive_guard(data.attributes, None)
        rows = customer_rows(
            ctx,
            data,
            customer_id=cid,
            owner_id=owner,
            team=None,
            provenance=prov,
            purpose_versions={c: versions[c] for c in codes},
            purpose_method="stated",
            sensitive_basis=None,
        )
        for table, values in rows.items():
            merged.setdefault(table, []).extend(values)
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
                }
            )
    insert_rows(ctx, merged)
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
