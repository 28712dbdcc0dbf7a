"""One person's data, for the slices that answer or act for the person: rights, provision, processors.

These functions do not check a purpose: the caller (answering a request from the person, or a provision whose
legal basis the provision slice checks per person) has already decided and says why in its own audit entry.
Each read is still audited here, naming the fields, never the values.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, update

from mamori.customers import queries
from mamori.customers.models import (
    Activity,
    BlindIndex,
    ContactPoint,
    Customer,
    CustomerAttribute,
)
from mamori.customers.schemas import FIELD_CATEGORIES, SCALAR_FIELDS
from mamori.customers.service.core import GDPR_ORIGINS, _dec, resources
from mamori.kernel.auditing import record_read, record_write
from mamori.kernel.context import SYSTEM_ACTOR, Context
from mamori.kernel.db import chunks
from mamori.kernel.errors import NotFound, ValidationFailed
from mamori.kernel.policy import Action, Category, Decision, decide
from mamori.law.rules import R_35_1
from mamori.purposes import service as purposes_service

# Field names other slices may ask for (contract fields, provision fields, disclosure).
FIELD_NAMES: tuple[str, ...] = (*SCALAR_FIELDS, "email", "phone")
CONTACT_KINDS = ("email", "phone")


def existing(ctx: Context, customer_ids: Sequence[str]) -> set[str]:
    """Which of ``customer_ids`` exist and were not erased."""
    found: set[str] = set()
    ids = list(dict.fromkeys(customer_ids))
    for chunk in chunks(ids):
        found.update(ctx.session.execute(queries.live_ids(chunk)).scalars())
    return found


def gdpr_subjects(ctx: Context, customer_ids: Sequence[str]) -> set[str]:
    """Customers whose data is subject to the GDPR (EU/UK origin, G-45)."""
    found: set[str] = set()
    ids = list(dict.fromkeys(customer_ids))
    for chunk in chunks(ids):
        for cid, origin in ctx.session.execute(queries.origins(chunk)).all():
            if origin in GDPR_ORIGINS:
                found.add(cid)
    return found


def notified_purposes(ctx: Context, customer_ids: Sequence[str]) -> list[tuple[str, str, int, str]]:
    """(customer id, purpose code, version, how notified) for these customers — codes only (R-32-2)."""
    return [
        (str(cid), str(code), int(version), str(method))
        for cid, code, version, method in ctx.session.execute(queries.notified_rows(customer_ids)).all()
    ]


def imported_by(ctx: Context, job_id: str) -> list[str]:
    """The customers an import job created or merged (ids only)."""
    return list(ctx.session.execute(queries.ids_of_import(job_id)).scalars())


def purpose_refusals(ctx: Context, customer_ids: Sequence[str], purpose: str) -> dict[str, Decision]:
    """Customers whose data may NOT be used for ``purpose``, with the policy's refusal — the same checks as a
    read (notified R-21-1, not stopped R-35-1, consent where the purpose or the GDPR needs it), without the
    actor's row scope and without reading any value. For slices that hand data on (outsourcee handovers)."""
    pctx = Context(
        actor=SYSTEM_ACTOR,
        session=ctx.session,
        runtime=ctx.runtime,
        purpose=purpose,
        clock=ctx.clock,
        lang=ctx.lang,
    )
    refused: dict[str, Decision] = {}
    # R-17-2 / R-21-1: resources() gives each person the purpose version THEY were notified of
    for chunk in chunks(list(dict.fromkeys(customer_ids))):
        rows = list(ctx.session.execute(queries.customers(chunk)).scalars())
        for cid, resource in resources(pctx, rows, {}).items():
            decision = decide(pctx, Action.CUSTOMER_READ, resource)
            if not decision.allowed:
                refused[cid] = decision
    return refused


def is_erased(ctx: Context, customer_id: str) -> bool:
    row = ctx.session.execute(queries.customer(customer_id)).scalar_one_or_none()
    if row is None:
        raise NotFound("顧客が見つかりません。", "Customer not found.", code="customer_not_found")
    return row.erased_at is not None


def locate(ctx: Context, kind: str, value: str) -> list[str]:
    """Customers whose REGISTERED email or phone matches ``value`` (blind index; erased people excluded).

    Only a verified identifier may be passed here: the caller proves the requester controls ``value``.
    """
    if kind not in CONTACT_KINDS:
        raise ValidationFailed(
            "本人確認に使える識別子は email または phone です。",
            "Only an email or a phone number can identify the person.",
            code="bad_identifier_kind",
        )
    try:
        digest = ctx.runtime.indexer.digest(kind, value)
    except ValueError as exc:
        raise ValidationFailed(
            "識別子の形式が正しくありません。", "The identifier is malformed.", code="bad_identifier"
        ) from exc
    ids = {cid for cid, _ in ctx.session.execute(queries.ids_by_digest(kind, [digest])).all()}
    return sorted(existing(ctx, sorted(ids))) if ids else []


def registered_contacts(ctx: Context, customer_id: str) -> list[tuple[str, str]]:
    """The person's registered (kind, value) pairs — to send a one-time code or call back (R-37-1)."""
    out: list[tuple[str, str]] = []
    for cp in ctx.session.execute(queries.contact_points([customer_id])).scalars():
        value = _dec(ctx, customer_id, "contact_points", "value", cp.id, cp.value_enc)
        if value is not None:
            out.append((cp.kind, value))
    record_read(ctx, Action.CUSTOMER_READ, [customer_id], ["phones", "emails"], rule_ids=("R-37-1",))
    return out


def read_fields(
    ctx: Context, customer_ids: Sequence[str], fields: Sequence[str], *, purpose: str | None = None
) -> dict[str, dict[str, str | None]]:
    """Plaintext values of ``fields`` for each non-erased customer (first registered email / phone).

    With ``purpose``, each person's values are limited to what the version of that purpose notified to THEM
    covers (R-17-2 / R-21-1): a field outside it, or every field of a person the purpose may not be used for,
    comes back None and is never decrypted.
    """
    bad = [
        f
        for f in fields
        if f not in FIELD_NAMES
        and not (f.startswith("attr:") and len(f) > 5)
        and f not in ("emails", "phones")
    ]
    if bad:
        raise ValidationFailed(
            "不明な項目です: " + ", ".join(sorted(bad)),
            "Unknown fields: " + ", ".join(sorted(bad)),
            code="unknown_field",
        )
    live = existing(ctx, customer_ids)
    ids = [c for c in dict.fromkeys(customer_ids) if c in live]
    out: dict[str, dict[str, str | None]] = {cid: {} for cid in ids}
    if not ids:
        return out
    wanted = set(fields)
    for chunk in chunks(ids):
        ctx.runtime.cipher.preload(chunk)
        rows = {r.id: r for r in ctx.session.execute(queries.customers(chunk)).scalars()}
        hidden = _outside_purpose(ctx, list(rows.values()), wanted, purpose) if purpose else {}
        for cid in chunk:
            row = rows[cid]
            for f in SCALAR_FIELDS:
                if f in wanted and f not in hidden.get(cid, ()):
                    out[cid][f] = _dec(ctx, cid, "customers", f, cid, getattr(row, f"{f}_enc"))
        if wanted & {"email", "phone", "emails", "phones"}:
            for cp in ctx.session.execute(queries.contact_points(chunk)).scalars():
                if cp.kind in hidden.get(cp.customer_id, ()):
                    continue
                value = _dec(ctx, cp.customer_id, "contact_points", "value", cp.id, cp.value_enc)
                single, plural = cp.kind, f"{cp.kind}s"
                if single in wanted and out[cp.customer_id].get(single) is None:
                    out[cp.customer_id][single] = value
                if plural in wanted and value is not None:
                    prev = out[cp.customer_id].get(plural)
                    out[cp.customer_id][plural] = value if prev is None else f"{prev};{value}"
        attr_keys = {f[5:] for f in wanted if f.startswith("attr:")}
        if attr_keys:
            for a in ctx.session.execute(queries.attributes_of(chunk, sorted(attr_keys))).scalars():
                if purpose and _attribute_hidden(ctx, rows[a.customer_id], a.key, a.category, purpose):
                    continue
                out[a.customer_id][f"attr:{a.key}"] = _dec(
                    ctx, a.customer_id, "customer_attributes", "value", a.id, a.value_enc
                )
        for cid in chunk:
            for f in fields:
                out[cid].setdefault(f, None)
    record_read(ctx, Action.CUSTOMER_READ, ids, sorted(wanted))
    return out


def _purpose_context(ctx: Context, purpose: str) -> Context:
    return Context(
        actor=SYSTEM_ACTOR,
        session=ctx.session,
        runtime=ctx.runtime,
        purpose=purpose,
        clock=ctx.clock,
        lang=ctx.lang,
    )


def _outside_purpose(
    ctx: Context, rows: Sequence[Customer], wanted: set[str], purpose: str
) -> dict[str, set[str]]:
    """Per person, the wanted scalar / contact fields the purpose as notified to them does not cover (R-17-2):
    every field when the purpose may not be used for the person at all. Contact kinds appear as email/phone."""
    categories = {f: FIELD_CATEGORIES[f] for f in wanted if f in FIELD_CATEGORIES}
    for single in ("email", "phone"):
        if single in wanted:
            categories[f"{single}s"] = FIELD_CATEGORIES[f"{single}s"]
    pctx = _purpose_context(ctx, purpose)
    hidden: dict[str, set[str]] = {}
    for cid, resource in resources(pctx, rows, categories).items():
        decision = decide(pctx, Action.CUSTOMER_READ, resource)
        masked = set(categories) if not decision.allowed else set(decision.masked_fields)
        names = {f for f in masked if f in SCALAR_FIELDS}
        names |= {f.removesuffix("s") for f in masked if f in ("emails", "phones")}
        if names:
            hidden[cid] = names
    return hidden


def _attribute_hidden(ctx: Context, row: Customer, key: str, category: str, purpose: str) -> bool:
    pctx = _purpose_context(ctx, purpose)
    name = f"attr:{key}"
    resource = resources(pctx, [row], {name: Category(category)})[row.id]
    decision = decide(pctx, Action.CUSTOMER_READ, resource)
    return not decision.allowed or name in decision.masked_fields


def sensitive_subjects(ctx: Context, customer_ids: Sequence[str]) -> set[str]:
    """Customers holding 要配慮 attributes (R-2.3-1): never provided by opt-out (R-27-5)."""
    found: set[str] = set()
    ids = list(dict.fromkeys(customer_ids))
    for chunk in chunks(ids):
        found.update(ctx.session.execute(queries.sensitive_holders(chunk)).scalars())
    return found


def ids_with_purpose(ctx: Context, purpose: str) -> list[str]:
    """Non-erased customers notified of ``purpose`` (ids only)."""
    return list(ctx.session.execute(queries.ids_notified_of(purpose)).scalars())


def erase(ctx: Context, customer_id: str) -> int:
    """Crypto-shred one person (R-35-1, G-17): destroy the data key, drop the blind index and every ciphertext.

    The customers row stays as a tombstone (id, origin, dates, ``erased_at``) so requests, consent evidence and
    provision records can still refer to it; it holds no personal data. The data key is destroyed first, in the
    keystore's own transaction: if this business transaction then fails, the values are already unreadable and
    running the erasure again completes it. Returns the number of rows whose personal values were removed.
    """
    row = ctx.session.execute(queries.customer(customer_id)).scalar_one_or_none()
    if row is None:
        raise NotFound("顧客が見つかりません。", "Customer not found.", code="customer_not_found")
    ctx.runtime.keystore.destroy_data_keys([customer_id])
    s = ctx.session
    removed = 0
    for model in (ContactPoint, CustomerAttribute, Activity, BlindIndex):
        result = s.execute(delete(model).where(model.customer_id == customer_id))
        removed += int(getattr(result, "rowcount", 0) or 0)
    already = row.erased_at is not None
    s.execute(
        update(Customer)
        .where(Customer.id == customer_id)
        .values(
            {f"{f}_enc": None for f in SCALAR_FIELDS}
            | {"erased_at": row.erased_at or ctx.clock.now(), "version": row.version + 1}
        )
    )
    if not already:
        removed += 1
    record_write(ctx, "customer.erase", [customer_id], ["*"], rule_ids=(R_35_1.id, "G-17"))
    return removed


def erase_many(ctx: Context, customer_ids: Sequence[str]) -> int:
    """Crypto-shred many people at once (a retention disposal, R-22-1; the same effect as :func:`erase` per
    person): one key-destruction transaction for all their data keys, then chunked deletes of their contact
    points, attributes, activities and blind-index tokens, every ciphertext column set to NULL and the rows
    marked erased, and ONE audit entry naming them. Ids that are not live customers are skipped. Returns the
    number of rows whose personal values were removed."""
    ids = list(dict.fromkeys(customer_ids))
    live: list[str] = []
    for chunk in chunks(ids):
        live.extend(ctx.session.execute(queries.live_ids(chunk)).scalars())
    if not live:
        return 0
    live.sort()
    ctx.runtime.keystore.destroy_data_keys(live)  # first, in the keystore's own transaction (see erase)
    s = ctx.session
    now = ctx.clock.now()
    removed = 0
    for chunk in chunks(live):
        for model in (ContactPoint, CustomerAttribute, Activity, BlindIndex):
            result = s.execute(delete(model).where(model.customer_id.in_(list(chunk))))
            removed += int(getattr(result, "rowcount", 0) or 0)
        s.execute(
            update(Customer)
            .where(Customer.id.in_(list(chunk)), Customer.erased_at.is_(None))
            .values(
                {f"{f}_enc": None for f in SCALAR_FIELDS}
                | {"erased_at": now, "version": Customer.version + 1}
            )
        )
        removed += len(chunk)
    record_write(
        ctx,
        "customer.erase",
        live,
        ["*"],
        rule_ids=("R-22-1",),
        details={"persons": len(live), "batch": True},
    )
    return removed


def attribute_keys_in_use(ctx: Context) -> list[tuple[str, str]]:
    """The attribute keys in use with their categories (the data inventory's item names; no values, no ids)."""
    return [(str(k), str(c)) for k, c in ctx.session.execute(queries.attribute_keys_in_use()).all()]


def fields_outside_notified_purpose(
    ctx: Context, customer_ids: Sequence[str], fields: Sequence[str], purpose: str
) -> dict[str, tuple[str, list[str]]]:
    """Per person notified of ``purpose``, the ``fields`` whose data category the version notified to THEM does
    not cover, with the rule that refuses them: R-17-2 when only a newer version covers the category (they must
    be notified of it first, R-21-1), R-18-1 when no version does (use beyond the purpose). Persons with none,
    and persons not notified of the purpose at all (refused elsewhere), are left out; no values are read."""
    ids = list(dict.fromkeys(customer_ids))
    keys = [f.removeprefix("attr:") for f in fields if f.startswith("attr:")]
    plain = {f: FIELD_CATEGORIES[f] for f in fields if f in FIELD_CATEGORIES}
    for single in ("email", "phone"):
        if single in fields:
            plain[single] = FIELD_CATEGORIES[f"{single}s"]
    out: dict[str, tuple[str, list[str]]] = {}
    for chunk in chunks(ids):
        version_of = {
            cid: int(version)
            for cid, code, version, _method in ctx.session.execute(queries.notified_rows(chunk)).all()
            if code == purpose
        }
        attr_cats: dict[str, dict[str, str]] = {}
        if keys:
            for cid, key, category in ctx.session.execute(queries.attribute_categories(chunk, keys)).all():
                attr_cats.setdefault(cid, {})[f"attr:{key}"] = str(category)
        for cid in chunk:
            if cid not in version_of:
                continue
            facts = purposes_service.facts_for_version(ctx, purpose, version_of[cid])
            if facts is None:
                continue
            cats = {
                **{f: Category(c) for f, c in plain.items()},
                **{f: Category(c) for f, c in attr_cats.get(cid, {}).items()},
            }
            outside = sorted(f for f, c in cats.items() if c not in facts.categories)
            if outside:
                newer = all(cats[f] in facts.unnotified for f in outside)
                out[cid] = ("R-17-2" if newer else "R-18-1", outside)
    return out
