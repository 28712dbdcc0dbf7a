"""Corrections (R-22-1), new attributes and activity notes."""

from __future__ import annotations

from datetime import date
from typing import Any

from mamori.customers import queries
from mamori.customers.models import (
    Activity,
    BlindIndex,
    ContactPoint,
    CustomerAttribute,
)
from mamori.customers.schemas import (
    FIELD_CATEGORIES,
    MAX_ATTRIBUTES,
    MAX_EMAILS,
    MAX_PHONES,
    SCALAR_FIELDS,
    ActivityIn,
    AttributeIn,
    CustomerUpdate,
    CustomerView,
    NoteWarning,
)
from mamori.customers.service.core.common import (
    IDENTITY_PARTS,
    SENSITIVE_BASES,
    _check,
    _enc,
    _load,
    _sensitive_guard,
    reindex_identity,
    reindex_name,
    resources,
)
from mamori.customers.service.core.reads import get
from mamori.kernel import registry
from mamori.kernel.auditing import audits_refusals, authorise, record_denial, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import PolicyDenied, PreconditionFailed, ValidationFailed
from mamori.kernel.policy import (
    Action,
    Category,
    Decision,
    Resource,
)
from mamori.law.rules import R_20_2
from mamori.purposes import service as purposes_service


# R-22-1: corrections keep personal data accurate; each one is a new version of the row, audited.
@audits_refusals("customer.update")  # every refusal audited (R-20-2 guards included)
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
    # R-20-2: free-text fields are scanned like notes; 要配慮 belongs in a sensitive attribute, with consent.
    _sensitive_guard([], None, free_text=[str(data[f]) for f in ("occupation", "employer") if f in data])
    if expected_version is not None and expected_version != row.version:
        raise PreconditionFailed(
            "他の担当者が先に更新しました。最新の内容を確認してください。",
            "Someone else changed this customer first; reload and retry.",
            code="version_conflict",
        )
    _check_contact_limits(ctx, row.id, data)
    cid = row.id
    now = ctx.clock.now()
    idx = ctx.runtime.indexer
    for f in SCALAR_FIELDS:
        if f in data:
            value = data[f].isoformat() if isinstance(data[f], date) else str(data[f])
            setattr(row, f"{f}_enc", _enc(ctx, cid, "customers", f, cid, value))
            if f in ("name", "kana"):
                reindex_name(ctx, cid, f, value)
    if any(f in data for f in IDENTITY_PARTS):
        reindex_identity(ctx, row)  # the identity token follows the four values it is made of
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


def _check_contact_limits(ctx: Context, customer_id: str, data: dict[str, Any]) -> None:
    """A customer holds at most MAX_PHONES numbers and MAX_EMAILS addresses in all (issue 17): the request's own
    list is capped by the schema; here what is already stored counts too."""
    held = {kind: n for kind, n in ctx.session.execute(queries.contact_point_counts(customer_id)).all()}
    for key, kind, limit in (("add_phones", "phone", MAX_PHONES), ("add_emails", "email", MAX_EMAILS)):
        if held.get(kind, 0) + len(data.get(key, [])) > limit:
            raise ValidationFailed(
                f"1人の顧客に登録できる{'電話番号' if kind == 'phone' else 'メールアドレス'}は{limit}件までです。",
                f"A customer may hold at most {limit} {'phone numbers' if kind == 'phone' else 'e-mail addresses'}.",
                code="too_many_contacts",
            )


@audits_refusals("customer.update")  # every refusal audited (R-20-2 guards included)
def add_attribute(
    ctx: Context, customer_id: str, attribute: AttributeIn, *, sensitive_exception: str | None = None
) -> None:
    """Add or replace an extensible attribute. 要配慮 attributes need consent in the ledger or a recorded
    exception (R-20-2); a value the scanner finds 要配慮 must be tagged sensitive (refused otherwise)."""
    row = _load(ctx, customer_id, Action.CUSTOMER_UPDATE)
    fields = {f"attr:{attribute.key}": attribute.category}
    if attribute.category != Category.SENSITIVE:
        # R-20-2: a 要配慮 value is never stored as an ordinary attribute: refused, to be tagged sensitive.
        _sensitive_guard([attribute], None)
    if attribute.category == Category.SENSITIVE:
        if sensitive_exception is not None and sensitive_exception not in SENSITIVE_BASES:
            raise ValidationFailed("例外事由が不正です。", "Unknown exception code.", code="bad_exception")
        resource = resources(ctx, [row], fields)[row.id]
        resource = Resource(**{**resource.__dict__, "sensitive_exception": sensitive_exception, "fields": {}})
        authorise(ctx, Action.SENSITIVE_WRITE, resource, [row.id])
    else:
        _check(ctx, Action.CUSTOMER_UPDATE, row, fields)
    held = list(ctx.session.execute(queries.attributes(row.id)).scalars())
    existing = [a for a in held if a.key == attribute.key]
    if not existing and len(held) >= MAX_ATTRIBUTES:
        raise ValidationFailed(
            f"1人の顧客に登録できる属性は{MAX_ATTRIBUTES}件までです。",
            f"A customer may hold at most {MAX_ATTRIBUTES} attributes.",
            code="too_many_attributes",
        )
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


@audits_refusals("activity.write")  # every refusal audited (R-20-2 guards included)
def add_activity(ctx: Context, customer_id: str, activity: ActivityIn) -> tuple[str, list[NoteWarning]]:
    """Log a purchase, inquiry, call or note. Free text is scanned: personal information the purpose does not
    cover gives a warning; 要配慮 information without consent is refused (R-20-2)."""
    row = _load(ctx, customer_id, Action.ACTIVITY_WRITE)
    decision = _check(ctx, Action.ACTIVITY_WRITE, row, {"activities": Category.BEHAVIOUR})
    del decision
    warnings: list[NoteWarning] = []
    # R-2.3-1: the note is stored under the category of what it holds — "sensitive" when the scanner finds 要配慮
    # (then masked for every purpose that does not cover 要配慮 data, R-20-2), else "behaviour".
    note_category: str | None = Category.BEHAVIOUR.value if registry.text_scanning_available() else None
    if activity.body and registry.text_scanning_available():
        findings = registry.scan_text(activity.body)
        facts = purposes_service.facts(ctx, ctx.purpose)
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
        if any(f.sensitive for f in findings):
            note_category = Category.SENSITIVE.value
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
            category=note_category,
        )
    )
    ctx.session.flush()
    record_write(
        ctx,
        Action.ACTIVITY_WRITE,
        [cid],
        ["activities"],
        rule_ids=(R_20_2.id,) if note_category == Category.SENSITIVE else (),
        details={"kind": activity.kind, "warnings": len(warnings), "category": note_category},
    )
    return aid, warnings


# -- bulk creation (demo data, fixtures) -------------------------------------------------------------------------
