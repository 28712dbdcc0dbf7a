"""The only place SELECTs over customers' personal-data tables are built, from the policy's row scope."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    LargeBinary,
    ScalarSelect,
    Select,
    String,
    and_,
    bindparam,
    case,
    distinct,
    func,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import QueryableAttribute

from mamori.customers.models import (
    Activity,
    BlindIndex,
    ContactPoint,
    Customer,
    CustomerAttribute,
    CustomerPurpose,
    ImportJob,
    ImportPending,
    Provenance,
)
from mamori.kernel.context import Context
from mamori.kernel.policy.engine import Scope


def customer(customer_id: str) -> Select[Customer]:
    return select(Customer).where(Customer.id == customer_id)


@functools.cache
def customer_and(extra: ScalarSelect[str]) -> Select[Customer, str]:
    """The customer row (bound ``customer_id``) and one more value computed in the same statement (the purpose
    catalog's stamp). Built once per ``extra`` (the statement is compiled once per process)."""
    return select(Customer, extra).where(Customer.id == bindparam("customer_id"))


@functools.cache
def customers_and(extra: ScalarSelect[str]) -> Select[Customer, str]:
    """The customer rows (bound ``ids``, a list) with one more value computed in the same statement."""
    return select(Customer, extra).where(Customer.id.in_(bindparam("ids", expanding=True)))


def _none(type_: type[String] | type[Integer] | type[LargeBinary]) -> ColumnElement[object]:
    return type_coerce(null(), type_())


@functools.cache
def record_parts() -> CompoundSelect[Any]:
    """Attributes, contact points and provenance of one customer in ONE round trip (a UNION ALL), as
    (part, id, a, b, c, d, e, value_enc, at): part "a" = (key, category), "c" = (kind, label), "p" = (method,
    channel, notice_version, source, campaign). Bound parameter ``customer_id``; built once per process. Sealed values
    stay sealed; the caller orders and decrypts."""
    customer_id: Any = bindparam("customer_id")
    return union_all(
        select(
            literal_column("'a'").label("part"),
            CustomerAttribute.id,
            CustomerAttribute.key.label("a"),
            CustomerAttribute.category.label("b"),
            _none(String).label("c"),
            _none(String).label("d"),
            _none(String).label("e"),
            CustomerAttribute.value_enc.label("value_enc"),
            CustomerAttribute.created_at.label("at"),
        ).where(CustomerAttribute.customer_id == customer_id),
        select(
            literal_column("'c'"),
            ContactPoint.id,
            ContactPoint.kind,
            ContactPoint.label,
            _none(String),
            _none(String),
            _none(String),
            ContactPoint.value_enc,
            ContactPoint.created_at,
        ).where(ContactPoint.customer_id == customer_id),
        select(
            literal_column("'p'"),
            Provenance.id,
            Provenance.method,
            Provenance.channel,
            Provenance.notice_version,
            Provenance.source,
            Provenance.campaign,
            _none(LargeBinary),
            Provenance.acquired_at,
        ).where(Provenance.customer_id == customer_id),
    )


@functools.cache
def policy_facts(state_statements: tuple[Select[str, str, str, str, int], ...]) -> CompoundSelect[Any]:
    """The purposes notified to the bound ``subject_ids`` and every purpose-state provider's ledger lines
    (consent, stop-use; each provider's statement takes ``subject_ids`` and ``purpose`` too) in ONE round trip, as
    (subject_id, part, a, b, c, n, at, d, e): part "n" = a notice (purpose code, method, -, version,
    notified_at, exception ground, exception by); part "s<i>" = provider i's line (kind, target, action, seq).
    Ids and codes only. Built once per set of providers."""
    notices: Any = select(
        CustomerPurpose.customer_id.label("subject_id"),
        literal_column("'n'").label("part"),
        CustomerPurpose.purpose_code.label("a"),
        CustomerPurpose.method.label("b"),
        _none(String).label("c"),
        CustomerPurpose.purpose_version.label("n"),
        CustomerPurpose.notified_at.label("at"),
        CustomerPurpose.exception_ground.label("d"),
        CustomerPurpose.exception_by.label("e"),
    ).where(CustomerPurpose.customer_id.in_(bindparam("subject_ids", expanding=True)))
    arms: list[Any] = [notices]
    for i, state in enumerate(state_statements):
        cols = list(state.subquery().c)
        arms.append(
            select(
                cols[0],
                literal_column(f"'s{i}'"),
                cols[1],
                cols[2],
                cols[3],
                cols[4],
                _none(String),
                _none(String),
                _none(String),
            )
        )
    return union_all(*arms)


def owner_of(customer_id: str) -> Select[str | None, str | None]:
    """Row-scope facts only (no personal values)."""
    return select(Customer.owner_id, Customer.team).where(Customer.id == customer_id)


def customers(ids: Sequence[str]) -> Select[Customer]:
    return select(Customer).where(Customer.id.in_(list(ids)))


def scoped_page(
    ctx: Context,
    scope: Scope,
    *,
    purpose: str,
    after: str | None,
    limit: int,
    only: frozenset[str] | None = None,
) -> Select[Customer]:
    """Customers the actor may see (row scope) that were notified of ``purpose``, keyset-paginated by id."""
    stmt = (
        select(Customer)
        .join(CustomerPurpose, CustomerPurpose.customer_id == Customer.id)
        .where(CustomerPurpose.purpose_code == purpose, Customer.erased_at.is_(None))
        .order_by(Customer.id)
        .limit(limit)
    )
    if scope == Scope.OWN:
        stmt = stmt.where(Customer.owner_id == ctx.actor.id)
    elif scope == Scope.TEAM:
        stmt = stmt.where(Customer.team == ctx.actor.team)
    elif scope == Scope.GRANT and only is not None:
        stmt = stmt.where(Customer.id.in_(sorted(only)))
    elif scope != Scope.ALL:
        stmt = stmt.where(Customer.id.is_(None))
    if after:
        stmt = stmt.where(Customer.id > after)
    return stmt


def notified_purposes(ids: Sequence[str]) -> Select[str, str]:
    return select(CustomerPurpose.customer_id, CustomerPurpose.purpose_code).where(
        CustomerPurpose.customer_id.in_(list(ids))
    )


def contact_points(ids: Sequence[str]) -> Select[ContactPoint]:
    return (
        select(ContactPoint).where(ContactPoint.customer_id.in_(list(ids))).order_by(ContactPoint.created_at)
    )


def contact_point_counts(customer_id: str) -> Select[str, int]:
    """How many contact points of each kind one customer holds (the per-customer limits, issue 17)."""
    return (
        select(ContactPoint.kind, func.count())
        .where(ContactPoint.customer_id == customer_id)
        .group_by(ContactPoint.kind)
    )


def attributes(customer_id: str) -> Select[CustomerAttribute]:
    return (
        select(CustomerAttribute)
        .where(CustomerAttribute.customer_id == customer_id)
        .order_by(CustomerAttribute.key)
    )


def activities(customer_id: str, limit: int = 50) -> Select[Activity]:
    return (
        select(Activity)
        .where(Activity.customer_id == customer_id)
        .order_by(Activity.occurred_at.desc())
        .limit(limit)
    )


def provenance(customer_id: str) -> Select[Provenance]:
    return select(Provenance).where(Provenance.customer_id == customer_id).order_by(Provenance.acquired_at)


def ids_by_digest(kind: str, digests: Sequence[bytes]) -> Select[str, bytes]:
    return select(BlindIndex.customer_id, BlindIndex.digest).where(
        BlindIndex.kind == kind, BlindIndex.digest.in_(list(digests))
    )


def import_job(job_id: str) -> Select[ImportJob]:
    return select(ImportJob).where(ImportJob.id == job_id)


def finished_imports(file_sha256: str) -> Select[str]:
    """The finished import jobs of this exact file (a re-run creates nothing twice, issue 19)."""
    return select(ImportJob.id).where(ImportJob.file_sha256 == file_sha256, ImportJob.status == "done")


def lines_imported(job_ids: Sequence[str]) -> Select[int | None, str]:
    """(line, customer id) of every customer these import jobs created."""
    return select(Customer.import_line, Customer.id).where(
        Customer.import_job_id.in_(list(job_ids)), Customer.import_line.is_not(None)
    )


def lines_held(job_ids: Sequence[str]) -> Select[int, str | None]:
    """(line, customer id once approved) of every line these import jobs held for approval."""
    return select(ImportPending.line, ImportPending.customer_id).where(
        ImportPending.job_id.in_(list(job_ids))
    )


def unfinished_import(file_sha256: str) -> Select[ImportJob]:
    return (
        select(ImportJob)
        .where(ImportJob.file_sha256 == file_sha256, ImportJob.status == "running")
        .order_by(ImportJob.created_at.desc())
    )


def all_activities(customer_id: str) -> Select[Activity]:
    """Every activity of one person, oldest first (disclosure needs all of them, not a page)."""
    return select(Activity).where(Activity.customer_id == customer_id).order_by(Activity.occurred_at)


def customer_purposes(customer_id: str) -> Select[CustomerPurpose]:
    return (
        select(CustomerPurpose)
        .where(CustomerPurpose.customer_id == customer_id)
        .order_by(CustomerPurpose.purpose_code)
    )


def live_ids(ids: Sequence[str]) -> Select[str]:
    """Which of ``ids`` exist and were not erased (ids only)."""
    return select(Customer.id).where(Customer.id.in_(list(ids)), Customer.erased_at.is_(None))


def ids_notified_of(purpose: str) -> Select[str]:
    return (
        select(Customer.id)
        .join(CustomerPurpose, CustomerPurpose.customer_id == Customer.id)
        .where(CustomerPurpose.purpose_code == purpose, Customer.erased_at.is_(None))
        .order_by(Customer.id)
    )


def attributes_of(ids: Sequence[str], keys: Sequence[str]) -> Select[CustomerAttribute]:
    return select(CustomerAttribute).where(
        CustomerAttribute.customer_id.in_(list(ids)), CustomerAttribute.key.in_(list(keys))
    )


def sensitive_holders(ids: Sequence[str]) -> Select[str]:
    return select(CustomerAttribute.customer_id).where(
        CustomerAttribute.customer_id.in_(list(ids)), CustomerAttribute.category == "sensitive"
    )


def contact_point_of(customer_id: str, record_id: str) -> Select[ContactPoint]:
    return select(ContactPoint).where(ContactPoint.id == record_id, ContactPoint.customer_id == customer_id)


def attribute_of(customer_id: str, record_id: str) -> Select[CustomerAttribute]:
    return select(CustomerAttribute).where(
        CustomerAttribute.id == record_id, CustomerAttribute.customer_id == customer_id
    )


def activity_of(customer_id: str, record_id: str) -> Select[Activity]:
    return select(Activity).where(Activity.id == record_id, Activity.customer_id == customer_id)


def origins(ids: Sequence[str]) -> Select[str, str]:
    """(id, origin) — where the person's data comes from (EU/UK → the GDPR applies, G-45); no personal values."""
    return select(Customer.id, Customer.origin).where(Customer.id.in_(list(ids)))


def notified_rows(ids: Sequence[str]) -> Select[str, str, int, str]:
    """(customer id, purpose code, version, method) of the purposes notified to these customers; codes only."""
    return (
        select(
            CustomerPurpose.customer_id,
            CustomerPurpose.purpose_code,
            CustomerPurpose.purpose_version,
            CustomerPurpose.method,
        )
        .where(CustomerPurpose.customer_id.in_(list(ids)))
        .order_by(CustomerPurpose.customer_id, CustomerPurpose.purpose_code)
    )


def ids_of_import(job_id: str) -> Select[str]:
    return select(Provenance.customer_id).where(Provenance.import_job_id == job_id).distinct()


def succession_limits(ids: Sequence[str]) -> Select[str, str | None]:
    """(customer id, purpose limit) of provenance rows received by succession (R-18-2); purpose codes only."""
    return select(Provenance.customer_id, Provenance.purpose_limit).where(
        Provenance.customer_id.in_(list(ids)), Provenance.purpose_limit.is_not(None)
    )


# -- purpose notices (R-17-2, R-21-1, R-21-3; customers/service/notices.py) ----------------------------------


def notices_of(ids: Sequence[str], purpose: str | None = None) -> Select[CustomerPurpose]:
    """The notice rows of these customers (all purposes, or one): version, method, date, R-21-3 exception."""
    stmt = select(CustomerPurpose).where(CustomerPurpose.customer_id.in_(list(ids)))
    if purpose is not None:
        stmt = stmt.where(CustomerPurpose.purpose_code == purpose)
    return stmt.order_by(CustomerPurpose.customer_id, CustomerPurpose.purpose_code)


def notices_behind(purpose: str, version: int) -> Select[CustomerPurpose]:
    """Notice rows of live customers told an older version of ``purpose`` than ``version`` (R-17-2)."""
    return (
        select(CustomerPurpose)
        .join(Customer, Customer.id == CustomerPurpose.customer_id)
        .where(
            CustomerPurpose.purpose_code == purpose,
            CustomerPurpose.purpose_version < version,
            Customer.erased_at.is_(None),
        )
        .order_by(CustomerPurpose.customer_id)
    )


def notice_exception_ids(purpose: str) -> Select[str]:
    """Live customers for whom a notice exception (R-21-3) stands in for the notice of ``purpose``."""
    return (
        select(CustomerPurpose.customer_id)
        .join(Customer, Customer.id == CustomerPurpose.customer_id)
        .where(
            CustomerPurpose.purpose_code == purpose,
            CustomerPurpose.method == "exception",
            Customer.erased_at.is_(None),
        )
        .order_by(CustomerPurpose.customer_id)
    )


def attribute_keys_in_use() -> Select[str, str]:
    """(attribute key, category) pairs some customer has: item names only — no value, no customer id."""
    return (
        select(CustomerAttribute.key, CustomerAttribute.category)
        .distinct()
        .order_by(CustomerAttribute.key, CustomerAttribute.category)
    )


def attribute_categories(ids: Sequence[str], keys: Sequence[str]) -> Select[str, str, str]:
    """(customer id, attribute key, category) of these customers' attributes with these keys; no values."""
    return select(CustomerAttribute.customer_id, CustomerAttribute.key, CustomerAttribute.category).where(
        CustomerAttribute.customer_id.in_(ids), CustomerAttribute.key.in_(keys)
    )


# -- issue 20: contact lists (contactable.py) ---------------------------------------------------------------------


def _contact_scope(
    stmt: Any,
    ctx: Context,
    scope: Scope,
    *,
    ids: Sequence[str] | None,
    only: frozenset[str] | None,
    owner_id: str | None,
) -> Any:
    """``stmt`` narrowed to ``ids`` (whatever the scope: the policy refuses the ones outside it, R-23-2) or, without
    ``ids``, to the actor's row scope; and to one owner's customers when ``owner_id`` is given."""
    if ids is not None:
        stmt = stmt.where(Customer.id.in_(list(ids)))
    elif scope == Scope.OWN:
        stmt = stmt.where(Customer.owner_id == ctx.actor.id)
    elif scope == Scope.TEAM:
        stmt = stmt.where(Customer.team == ctx.actor.team)
    elif scope == Scope.GRANT:
        stmt = stmt.where(Customer.id.in_(sorted(only or ())))
    elif scope != Scope.ALL:
        stmt = stmt.where(Customer.id.is_(None))
    if owner_id is not None:
        stmt = stmt.where(Customer.owner_id == owner_id)
    return stmt


def contact_candidates(
    ctx: Context,
    scope: Scope,
    *,
    purpose: str,
    ids: Sequence[str] | None = None,
    only: frozenset[str] | None = None,
    owner_id: str | None = None,
) -> Select[str, str | None, str | None, str, Any, int | None]:
    """Row-scope and notice facts of the customers a contact list considers, in ONE statement: (id, owner id,
    team, origin, erased_at, version of ``purpose`` notified to them or NULL). No personal value.

    Without ``ids``: every customer of the actor's row scope (erased ones too: the caller counts them). With
    ``ids``: those customers, whatever the scope (the policy refuses the ones outside it, R-23-2)."""
    stmt = (
        select(
            Customer.id,
            Customer.owner_id,
            Customer.team,
            Customer.origin,
            Customer.erased_at,
            CustomerPurpose.purpose_version,
        )
        .outerjoin(
            CustomerPurpose,
            (CustomerPurpose.customer_id == Customer.id) & (CustomerPurpose.purpose_code == purpose),
        )
        .order_by(Customer.id)
    )
    return _contact_scope(stmt, ctx, scope, ids=ids, only=only, owner_id=owner_id)  # type: ignore[no-any-return]


def contact_values(
    ctx: Context,
    scope: Scope,
    columns: Sequence[str],
    *,
    ids: Sequence[str] | None = None,
    only: frozenset[str] | None = None,
    owner_id: str | None = None,
) -> Select[Any]:
    """The sealed ``columns`` (e.g. "name", "kana", "address") of the live customers of ``ids`` or, without ids,
    of the actor's row scope (one statement, no id list), as (id, *blobs)."""
    stmt = select(Customer.id, *(getattr(Customer, f"{c}_enc") for c in columns)).where(
        Customer.erased_at.is_(None)
    )
    return _contact_scope(stmt, ctx, scope, ids=ids, only=only, owner_id=owner_id)  # type: ignore[no-any-return]


def contact_points_of_kind(
    ctx: Context,
    scope: Scope,
    kind: str,
    *,
    ids: Sequence[str] | None = None,
    only: frozenset[str] | None = None,
    owner_id: str | None = None,
) -> Select[str, str, bytes]:
    """The contact points of one kind (phone / email) of the live customers of ``ids`` or of the actor's row
    scope, sealed, in the order they were registered, as (customer id, contact point id, value blob)."""
    stmt = (
        select(ContactPoint.customer_id, ContactPoint.id, ContactPoint.value_enc)
        .join(Customer, Customer.id == ContactPoint.customer_id)
        .where(ContactPoint.kind == kind, Customer.erased_at.is_(None))
        .order_by(ContactPoint.customer_id, ContactPoint.created_at, ContactPoint.id)
    )
    return _contact_scope(stmt, ctx, scope, ids=ids, only=only, owner_id=owner_id)  # type: ignore[no-any-return]


# -- accuracy (issue 21) ------------------------------------------------------------------------------------------
# R-22-1: confirmation dates, records due for confirmation and the data-quality checks (customers.service.accuracy,
# customers.service.quality_reads). Row-scope facts, presence flags and sealed bytes only.


def unconfirmed(ctx: Context, scope: Scope, *, before: Any, limit: int) -> Select[str, str | None, Any]:
    """The live customers of the actor's row scope not confirmed since ``before`` (never confirmed first, then the
    oldest), as (id, owner id, confirmed_at). No personal value."""
    stmt = (
        select(Customer.id, Customer.owner_id, Customer.confirmed_at)
        .where(
            Customer.erased_at.is_(None),
            (Customer.confirmed_at.is_(None)) | (Customer.confirmed_at < before),
        )
        .order_by(Customer.confirmed_at.is_not(None), Customer.confirmed_at, Customer.id)
        .limit(limit)
    )
    return _contact_scope(stmt, ctx, scope, ids=None, only=None, owner_id=None)  # type: ignore[no-any-return]


def unconfirmed_count(ctx: Context, scope: Scope, *, before: Any) -> Select[int]:
    """How many live customers of the actor's row scope are due for confirmation (see :func:`unconfirmed`)."""
    stmt = select(func.count(Customer.id)).where(
        Customer.erased_at.is_(None),
        (Customer.confirmed_at.is_(None)) | (Customer.confirmed_at < before),
    )
    return _contact_scope(stmt, ctx, scope, ids=None, only=None, owner_id=None)  # type: ignore[no-any-return]


QUALITY_SEALED = ("kana", "birth_date", "postal_code", "address")


def quality_rows(ctx: Context, scope: Scope, *, ids: Sequence[str] | None = None) -> Select[Any]:
    """The live customers of ``ids`` or of the actor's row scope, for the quality checks: (id, owner id, origin,
    confirmed_at, whether a name is stored, then the sealed kana, birth date, postal code and address). The name
    is never read: only whether there is one."""
    stmt = (
        select(
            Customer.id,
            Customer.owner_id,
            Customer.origin,
            Customer.confirmed_at,
            Customer.name_enc.is_not(None),
            *(getattr(Customer, f"{c}_enc") for c in QUALITY_SEALED),
        )
        .where(Customer.erased_at.is_(None))
        .order_by(Customer.id)
    )
    return _contact_scope(stmt, ctx, scope, ids=ids, only=None, owner_id=None)  # type: ignore[no-any-return]


def quality_points(
    ctx: Context, scope: Scope, *, ids: Sequence[str] | None = None
) -> Select[str, str, str, bytes]:
    """The phones and e-mails of the live customers of ``ids`` or of the actor's row scope, sealed, as
    (customer id, contact point id, kind, value blob)."""
    stmt = (
        select(ContactPoint.customer_id, ContactPoint.id, ContactPoint.kind, ContactPoint.value_enc)
        .join(Customer, Customer.id == ContactPoint.customer_id)
        .where(ContactPoint.kind.in_(("phone", "email")), Customer.erased_at.is_(None))
    )
    return _contact_scope(stmt, ctx, scope, ids=ids, only=None, owner_id=None)  # type: ignore[no-any-return]


def shared_contact_digests(ids: Sequence[str] | None = None) -> Select[str, str, int]:
    """(customer id, kind, how many of that person's tokens of the kind another person shares) for every person
    who shares an e-mail or phone blind-index token with someone else — or only for ``ids``. The blind index holds
    the live people only (an erasure deletes the person's tokens with their key), so no join to customers is
    needed, and the comparison sees every person whatever the actor's scope: a duplicate outside it still counts."""
    shared = (
        select(BlindIndex.kind, BlindIndex.digest)
        .where(BlindIndex.kind.in_(("phone", "email")))
        .group_by(BlindIndex.kind, BlindIndex.digest)
        .having(func.count(func.distinct(BlindIndex.customer_id)) > 1)
        .subquery()
    )
    stmt = (
        select(BlindIndex.customer_id, BlindIndex.kind, func.count(func.distinct(BlindIndex.digest)))
        .join(shared, (shared.c.kind == BlindIndex.kind) & (shared.c.digest == BlindIndex.digest))
        .group_by(BlindIndex.customer_id, BlindIndex.kind)
    )
    if ids is not None:
        stmt = stmt.where(BlindIndex.customer_id.in_(list(ids)))
    return stmt


def contact_digest_counts(ids: Sequence[str] | None = None) -> Select[str, str, int]:
    """(customer id, kind, distinct e-mail / phone tokens) of every person with any — or only of ``ids``."""
    stmt = (
        select(BlindIndex.customer_id, BlindIndex.kind, func.count(func.distinct(BlindIndex.digest)))
        .where(BlindIndex.kind.in_(("phone", "email")))
        .group_by(BlindIndex.customer_id, BlindIndex.kind)
    )
    if ids is not None:
        stmt = stmt.where(BlindIndex.customer_id.in_(list(ids)))
    return stmt


# -- ownership (issue 21) -------------------------------------------------------------------------------------------


def owner_facts(ids: Sequence[str]) -> Select[str, str | None, str | None, Any]:
    """Row-scope facts of ``ids`` for an owner change (id, owner id, team, erased_at): no personal value."""
    return (
        select(Customer.id, Customer.owner_id, Customer.team, Customer.erased_at)
        .where(Customer.id.in_(list(ids)))
        .order_by(Customer.id)
    )


def ids_owned_by(owner_id: str) -> Select[str]:
    """The live customers a staff member owns, by id (no personal value)."""
    return (
        select(Customer.id)
        .where(Customer.owner_id == owner_id, Customer.erased_at.is_(None))
        .order_by(Customer.id)
    )


def owned_counts(owner_ids: Sequence[str]) -> Select[str | None, int]:
    """How many live customers each of ``owner_ids`` owns: (owner id, count)."""
    return (
        select(Customer.owner_id, func.count())
        .where(Customer.owner_id.in_(list(owner_ids)), Customer.erased_at.is_(None))
        .group_by(Customer.owner_id)
    )


# -- retention (issue 21, R-22-1): dates and ids only, for the lifecycle slice's retention plan -----------------


def retention_page(after_id: str, limit: int) -> Select[str, Any, Any, Any, Any]:
    """Live customers after ``after_id`` (keyset, by id): id, relationship end, created, updated, confirmed."""
    return (
        select(
            Customer.id,
            Customer.relationship_ended_at,
            Customer.created_at,
            Customer.updated_at,
            Customer.confirmed_at,
        )
        .where(Customer.erased_at.is_(None), Customer.id > after_id)
        .order_by(Customer.id)
        .limit(limit)
    )


def last_activity_at(ids: Sequence[str]) -> Select[str, Any]:
    """Each customer's latest activity time (customers without one are left out)."""
    return (
        select(Activity.customer_id, func.max(Activity.occurred_at))
        .where(Activity.customer_id.in_(list(ids)))
        .group_by(Activity.customer_id)
    )


def live_customer_ids() -> Select[str]:
    """Every customer not erased (ids), in id order — the demo's confirmation dates (issue 21)."""
    return select(Customer.id).where(Customer.erased_at.is_(None)).order_by(Customer.id)


def analysis_activities(
    ctx: Context,
    scope: Scope,
    *,
    ids: Sequence[str] | None = None,
    only: frozenset[str] | None = None,
) -> Select[str, str, str, Any, bytes | None]:
    """The activities of the live customers of ``ids`` (or the actor's row scope) as (customer id, activity id,
    kind, occurred_at, sealed amount) — what an analysis reads (issue 24). The note text is not selected."""
    stmt = (
        select(Activity.customer_id, Activity.id, Activity.kind, Activity.occurred_at, Activity.amount_enc)
        .join(Customer, Customer.id == Activity.customer_id)
        .where(Customer.erased_at.is_(None))
        .order_by(Activity.customer_id, Activity.occurred_at)
    )
    return _contact_scope(stmt, ctx, scope, ids=ids, only=only, owner_id=None)  # type: ignore[no-any-return]


# -- aggregate statistics (issue 24: the KPI dashboard and the CAC, read by the analytics slice) ------------------
#
# Counts over plaintext columns only — ids, the activity kind, the provenance channel and campaign, dates — so no
# statement here selects a personal value and nothing is decrypted. The analytics slice executes them (DESIGN: a
# slice reads only its own tables; the customers tables are read here). Dates: the window bounds arrive as aware
# UTC datetimes (JST midnights); grouping by JST month or day is done by the database (SQLite ``strftime`` with
# ``+9 hours``, PostgreSQL ``to_char(timezone('Asia/Tokyo', …))``): JST has no daylight saving time.

PURCHASE = "purchase"
Grain = Literal["month", "day"]
_FORMATS = {
    "sqlite": {"month": "'%Y-%m'", "day": "'%Y-%m-%d'"},
    "postgresql": {"month": "'YYYY-MM'", "day": "'YYYY-MM-DD'"},
}


def jst(
    value: ColumnElement[Any] | QueryableAttribute[Any], dialect: str, grain: Grain
) -> ColumnElement[str]:
    """The JST month (``2026-11``) or day (``2026-11-23``) of a UTC timestamp column, computed by the database."""
    if dialect == "postgresql":
        local = func.timezone(literal_column("'Asia/Tokyo'"), value)
        return func.to_char(local, literal_column(_FORMATS["postgresql"][grain]))
    return func.strftime(literal_column(_FORMATS["sqlite"][grain]), value, literal_column("'+9 hours'"))


def purchases_by_month(dialect: str, start: datetime, end: datetime) -> Select[str, int]:
    """(JST month, purchases) in [start, end): activities of kind purchase, their time only."""
    month = jst(Activity.occurred_at, dialect, "month").label("month")
    return (
        select(month, func.count())
        .where(Activity.kind == PURCHASE, Activity.occurred_at >= start, Activity.occurred_at < end)
        .group_by(month)
    )


def purchase_facts(
    dialect: str, start: datetime, end: datetime, cutoff: datetime
) -> Select[int, int | None, int | None, int | None]:
    """In one scan of the purchases before ``end``: (people who had bought, those whose last purchase is before
    ``cutoff``, people who bought in [start, end), those of them who bought on two or more JST days). Grouped by an
    expression of the customer id, so SQLite scans the table instead of walking the (customer, time) index row by
    row for the kind (measured 2x faster on a million purchases). An erased person's activities are deleted at
    erasure, so they are not counted."""
    in_window = Activity.occurred_at >= start
    day = jst(Activity.occurred_at, dialect, "day")
    per_person = (
        select(
            func.max(Activity.occurred_at).label("last"),
            func.count(distinct(case((in_window, day)))).label("days"),
        )
        .where(Activity.kind == PURCHASE, Activity.occurred_at < end)
        .group_by(Activity.customer_id.concat(literal_column("''")))
        .subquery()
    )
    return select(
        func.count(),
        func.sum(case((per_person.c.last < cutoff, 1), else_=0)),
        func.sum(case((per_person.c.days >= 1, 1), else_=0)),
        func.sum(case((per_person.c.days >= 2, 1), else_=0)),
    )


def _acquisitions() -> Any:
    """Each person's earliest provenance row: (customer id, channel, campaign, acquired at). Erased people were
    acquired too: their provenance rows are kept."""
    ranked = select(
        Provenance.customer_id,
        Provenance.channel,
        Provenance.campaign,
        Provenance.acquired_at,
        func.row_number()
        .over(partition_by=Provenance.customer_id, order_by=(Provenance.acquired_at, Provenance.id))
        .label("n"),
    ).subquery()
    return (
        select(ranked.c.customer_id, ranked.c.channel, ranked.c.campaign, ranked.c.acquired_at)
        .where(ranked.c.n == 1)
        .subquery()
    )


def new_customers_by_channel(start: datetime, end: datetime) -> Select[str | None, int]:
    """(channel, people acquired) for the people whose first provenance falls in [start, end)."""
    first = _acquisitions()
    return (
        select(first.c.channel, func.count())
        .where(first.c.acquired_at >= start, first.c.acquired_at < end)
        .group_by(first.c.channel)
    )


def new_customers_by_campaign(start: datetime, end: datetime) -> Select[str, int]:
    """(campaign code, people acquired) for the people whose first provenance falls in [start, end) and names a
    campaign — counted as the channels are: a later provenance row naming a campaign does not make a person new."""
    first = _acquisitions()
    return (
        select(first.c.campaign, func.count())
        .where(first.c.acquired_at >= start, first.c.acquired_at < end, first.c.campaign.is_not(None))
        .group_by(first.c.campaign)
    )


def new_customers_by_month(dialect: str, start: datetime, end: datetime) -> Select[str, str | None, int]:
    """(JST month, channel, people acquired) in [start, end)."""
    first = _acquisitions()
    month = jst(first.c.acquired_at, dialect, "month").label("month")
    return (
        select(month, first.c.channel, func.count())
        .where(first.c.acquired_at >= start, first.c.acquired_at < end)
        .group_by(month, first.c.channel)
    )


def channels_in_use() -> Select[str | None]:
    """The provenance channels recorded on at least one person (what a cost may be entered for)."""
    return (
        select(Provenance.channel)
        .where(Provenance.channel.is_not(None))
        .group_by(Provenance.channel)
        .order_by(Provenance.channel)
    )


def campaigns_in_use() -> Select[str | None]:
    """The acquisition campaign codes recorded on at least one provenance row (what a campaign cost may name)."""
    return (
        select(Provenance.campaign)
        .where(Provenance.campaign.is_not(None))
        .group_by(Provenance.campaign)
        .order_by(Provenance.campaign)
    )


def _live_before(end: datetime) -> ColumnElement[bool]:
    return and_(Customer.erased_at.is_(None), Customer.created_at < end)


def live_customers(end: datetime | None = None) -> Select[int]:
    """People not erased (created before ``end`` when given)."""
    live = select(func.count()).select_from(Customer).where(Customer.erased_at.is_(None))
    return live if end is None else live.where(Customer.created_at < end)


def live_ids_before(end: datetime) -> Select[str]:
    """The ids of the people not erased and created before ``end`` — for a later slice to join its own rows to
    (the consent ledger's do-not-contact rate); ids only."""
    return select(Customer.id).where(_live_before(end))


def notified_per_purpose(end: datetime) -> Select[str, int]:
    """(purpose code, live people notified of it before ``end``)."""
    return (
        select(CustomerPurpose.purpose_code, func.count(distinct(CustomerPurpose.customer_id)))
        .join(Customer, Customer.id == CustomerPurpose.customer_id)
        .where(_live_before(end), CustomerPurpose.notified_at < end)
        .group_by(CustomerPurpose.purpose_code)
    )


def notified_live_before(end: datetime) -> Select[str, str]:
    """(customer id, purpose code) of every live person notified of the purpose before ``end`` (one row per pair:
    customer_purposes is unique on it) — for a later slice to join its own rows to (the consent rate)."""
    return (
        select(CustomerPurpose.customer_id, CustomerPurpose.purpose_code)
        .join(Customer, Customer.id == CustomerPurpose.customer_id)
        .where(_live_before(end), CustomerPurpose.notified_at < end)
    )
