"""Shared pieces of the customers use cases: sealing values, policy resources and checks, purpose and R-20-2 guards."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from mamori.customers import queries
from mamori.customers.models import (
    BlindIndex,
    Customer,
    CustomerPurpose,
)
from mamori.customers.schemas import (
    FIELD_CHANNELS,
    AttributeIn,
    PurposeNoticeRead,
)
from mamori.customers.service.identity import KIND as IDENTITY
from mamori.customers.service.identity import identity_digest
from mamori.kernel import registry
from mamori.kernel.auditing import authorise, record_denial
from mamori.kernel.context import ActorKind, Context
from mamori.kernel.db import hidden_customer_scope
from mamori.kernel.errors import NotFound, PolicyDenied
from mamori.kernel.policy import (
    Action,
    Category,
    Decision,
    Resource,
)
from mamori.kernel.registry import PurposeState
from mamori.law.rules import R_17_1, R_20_2
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


IDENTITY_PARTS = ("name", "kana", "birth_date", "postal_code")


def reindex_identity(ctx: Context, row: Customer) -> None:
    """Replace the person's identity token (duplicates without e-mail or phone, issue 19) after any of its four
    values changed; the values are read back from the row as it now is."""
    cid = row.id
    parts = [_dec(ctx, cid, "customers", f, cid, getattr(row, f"{f}_enc")) for f in IDENTITY_PARTS]
    ctx.session.query(BlindIndex).filter_by(customer_id=cid, kind=IDENTITY).delete()
    digest = identity_digest(ctx.runtime.indexer, *parts)
    if digest is not None:
        ctx.session.add(BlindIndex(customer_id=cid, kind=IDENTITY, digest=digest))


def _not_found(customer_id: str) -> NotFound:
    return NotFound(
        "顧客が見つかりません。",
        "Customer not found.",
        code="customer_not_found",
        details={"customer_id": customer_id},
    )


# -- policy facts -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeRow:
    """A customer_purposes row as the policy and the notice views read it (ids and codes only)."""

    customer_id: str
    purpose_code: str
    purpose_version: int
    method: str
    notified_at: datetime
    exception_ground: str | None
    exception_by: str | None

    @classmethod
    def of(cls, row: CustomerPurpose) -> NoticeRow:
        return cls(
            row.customer_id,
            row.purpose_code,
            row.purpose_version,
            row.method,
            row.notified_at,
            row.exception_ground,
            row.exception_by,
        )


# A purpose-checked read of up to this many customers fetches every policy fact in one statement.
FACTS_IN_ONE_STATEMENT = 500


def policy_facts(
    ctx: Context, rows: Sequence[Customer], fields: dict[str, Category]
) -> tuple[dict[str, Resource], dict[str, list[PurposeNoticeRead]]]:
    """The facts the policy needs for each row, and how each purpose was notified to each person.

    One statement for up to FACTS_IN_ONE_STATEMENT rows: the notices and every purpose-state provider's ledger
    lines (consent, stop-use: registered by later slices) in one UNION ALL. The purpose catalog comes from the
    process's cache while the stamp read with the customer row is unchanged (purposes.note_catalog_stamp).

    R-17-2 / R-21-1: the purpose facts of each row are those of the version notified to THAT person (a widened
    revision reaches them only once they are notified of it; a stricter consent need applies at once).
    """
    ids = [r.id for r in rows]
    purpose = ctx.purpose
    notices: list[NoticeRow] = []
    states: dict[str, PurposeState] = {}
    if not ids:
        return {}, {}
    if len(ids) <= FACTS_IN_ONE_STATEMENT:
        statements = tuple(registry.purpose_state_statements()) if purpose else ()
        per_provider: list[list[registry.StateRow]] = [[] for _ in statements]
        stmt = queries.policy_facts(statements)
        for sid, part, a, b, c, n, at, d, e in ctx.session.execute(
            stmt, {"subject_ids": ids, "purpose": purpose}
        ).all():
            if part == "n":
                notices.append(NoticeRow(sid, a, int(n), b, at, d, e))
            else:
                per_provider[int(part[1:])].append((sid, a, b, c, int(n)))
        if purpose:
            states = registry.purpose_states_from_rows(per_provider, ids, purpose)
    else:
        notices = [NoticeRow.of(r) for r in ctx.session.execute(queries.notices_of(ids)).scalars()]
        if purpose:
            states = registry.purpose_states(ctx, ids, purpose)
    notified: dict[str, set[str]] = defaultdict(set)
    version_of: dict[str, int] = {}
    for row in notices:
        notified[row.customer_id].add(row.purpose_code)
        if row.purpose_code == purpose:
            version_of[row.customer_id] = row.purpose_version
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
            purpose=purposes_service.facts_for_version(ctx, purpose, version_of.get(r.id)),
            notified_purposes=frozenset(notified[r.id]),
            gdpr=r.origin in GDPR_ORIGINS,
            fields=fields,
            grant=grant,
            field_channels=FIELD_CHANNELS,
            **kwargs,  # type: ignore[arg-type]
        )
    return out, _notice_reads_of(ctx, notices)


def resources(ctx: Context, rows: Sequence[Customer], fields: dict[str, Category]) -> dict[str, Resource]:
    """The policy facts of each row (see :func:`policy_facts`)."""
    return policy_facts(ctx, rows, fields)[0]


def notice_reads(
    ctx: Context, customer_ids: Sequence[str], purpose: str | None = None
) -> dict[str, list[PurposeNoticeRead]]:
    """How each purpose (or only ``purpose``) was notified to each person: version, method, date, and the
    R-21-3 exception with its ground; ``pending`` when only an older version was notified (R-17-2). No values."""
    if not customer_ids:
        return defaultdict(list)
    rows = ctx.session.execute(queries.notices_of(customer_ids, purpose)).scalars()
    return _notice_reads_of(
        ctx,
        [NoticeRow.of(r) for r in rows],
    )


def _notice_reads_of(ctx: Context, rows: Sequence[NoticeRow]) -> dict[str, list[PurposeNoticeRead]]:
    out: dict[str, list[PurposeNoticeRead]] = defaultdict(list)
    if not rows:
        return out
    current = purposes_service.current_versions(ctx, sorted({r.purpose_code for r in rows}))
    for r in sorted(rows, key=lambda r: (r.customer_id, r.purpose_code)):
        now = current.get(r.purpose_code, (None, False))[0]
        out[r.customer_id].append(
            PurposeNoticeRead(
                purpose=r.purpose_code,
                version=r.purpose_version,
                current_version=now,
                method=r.method,
                customer_id=r.customer_id,
                notified_at=r.notified_at,
                exception_ground=r.exception_ground,
                exception_by=r.exception_by,
                pending=now is not None and r.purpose_version < now,
            )
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


def hidden_resource(ctx: Context, customer_id: str) -> Resource | None:
    """PostgreSQL: the customer row-level security hid from this transaction (migration 0017: outside a sales
    rep's own customers), as a Resource to decide on — so a rep asking for another rep's customer gets the same
    audited R-23-2 refusal as on SQLite, not a silent "not found". None for no such customer, an erased one, or
    on SQLite (nothing is hidden there)."""
    hidden = hidden_customer_scope(ctx.session, customer_id)
    if hidden is None or hidden[2]:
        return None
    return Resource(kind="customer", subject_id=customer_id, owner_id=hidden[0], team=hidden[1])


def _load(ctx: Context, customer_id: str, action: Action) -> Customer:
    found = ctx.session.execute(
        queries.customer_and(purposes_service.catalog_stamp_column()), {"customer_id": customer_id}
    ).one_or_none()
    row = None if found is None else found[0]
    if found is not None:
        purposes_service.note_catalog_stamp(ctx, found[1])
    if row is None and (hidden := hidden_resource(ctx, customer_id)) is not None:
        authorise(
            ctx, action, hidden, [customer_id]
        )  # out of the actor's scope: refused and audited (R-23-2)
    if row is None or row.erased_at is not None:  # an erased person is a tombstone: nothing to read or change
        record_denial(ctx, action, [customer_id], Decision(False, (), frozenset(), "", "", "not_found"))
        raise _not_found(customer_id)
    return row


# -- create -------------------------------------------------------------------------------------------------------


def _validate_purposes(ctx: Context, purposes: Sequence[str]) -> dict[str, int]:
    if not purposes:
        raise PolicyDenied(
            "個人情報を取得するには、本人に通知し、明示し、又は公表した利用目的を少なくとも一つ指定してください。",
            "At least one purpose notified or stated to the person, or published, is required to store personal data.",
            rule_id=R_17_1.id,
            code="purpose_required",
        )
    versions = purposes_service.current_versions(ctx, list(purposes))
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


def text_category(text: str | None) -> str | None:
    """R-2.3-1: the data category free text is stored under — "sensitive" when the registered scanners find 要配慮
    in it, else "behaviour"; None when no scanner is registered (not classified)."""
    if not registry.text_scanning_available():
        return None
    if text and any(f.sensitive for f in registry.scan_text(text)):
        return Category.SENSITIVE.value
    return Category.BEHAVIOUR.value


def _sensitive_guard(
    attributes: Sequence[AttributeIn], basis: str | None, *, free_text: Sequence[str | None] = ()
) -> None:
    """R-20-2 / R-2.3-1: 要配慮 is recognised wherever it is written. Attribute values and free-text fields are
    scanned like notes; a 要配慮 finding outside an attribute tagged ``sensitive`` is refused (never re-tagged
    silently: the user tags it 要配慮, which then needs consent or a recorded exception). A sensitive attribute
    needs a basis from SENSITIVE_BASES; "consent" must also be in the ledger (checked by the caller)."""

    def _has_sensitive(text: str) -> bool:
        return any(f.sensitive for f in registry.scan_text(text))

    if registry.text_scanning_available():
        for a in attributes:
            if a.category != Category.SENSITIVE and _has_sensitive(a.value):
                raise PolicyDenied(
                    f"属性「{a.key}」の値は要配慮個人情報です。要配慮（category sensitive）として登録してください"
                    "（本人の同意または記録された例外事由が必要です）。",
                    f"The value of attribute '{a.key}' is special care-required data: tag it sensitive "
                    "(it then needs consent or a recorded exception).",
                    rule_id=R_20_2.id,
                    code="sensitive_untagged",
                    details={"key": a.key},
                )
        if any(_has_sensitive(t) for t in free_text if t):
            raise PolicyDenied(
                "自由記述の項目に要配慮個人情報が含まれています。要配慮の属性として（同意を得て）登録してください。",
                "A free-text field holds special care-required data: store it as a sensitive attribute (with "
                "consent or a recorded exception).",
                rule_id=R_20_2.id,
                code="sensitive_in_free_text",
            )
    if any(a.category == Category.SENSITIVE for a in attributes) and basis not in SENSITIVE_BASES:
        raise PolicyDenied(
            "要配慮個人情報は本人の同意または記録された例外事由がなければ取得できません。",
            "Special care-required data needs consent or a recorded exception (sensitive basis).",
            rule_id=R_20_2.id,
            code="sensitive_consent_missing",
        )
