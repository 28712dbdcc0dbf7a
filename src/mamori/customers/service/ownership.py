"""Who owns a customer (issue 21, seed 001 case 1): change the owner of one customer or of many at once.

A sales rep reads only the customers they own (``customer.read`` Scope.OWN), so when a rep leaves, their customers
must be given to a successor or no sales user sees them again. :func:`set_owner` moves customers to another staff
member:

- authorised per customer through the policy engine with ``customer.reassign`` (the privacy officer and an admin
  any customer, a sales rep only their own: R-23-2); the customers' facts are read in one statement, the engine
  asked once per distinct (owner, team);
- the successor must be an active staff member of a role that owns customers (sales, support) and hold a current
  training and the latest pledge (R-23-3, ``mamori.staff.service.training.require_current``);
- refused as a whole: nothing moves unless every customer may be moved to that successor;
- one audit entry per change (``customer.reassign``: the ids, the field ``owner_id``, the successor's staff id and
  counts — never a value); each moved row gets a new version and ``updated_at`` like every other write.

No personal value is read or written here: only ids, owners and teams.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import update

from mamori.customers import queries
from mamori.customers.models import Customer
from mamori.customers.permissions import CUSTOMER_REASSIGN
from mamori.customers.schemas import MAX_OWNER_CHANGE, OWNER_CHANGE_REASONS, OwnershipResult
from mamori.customers.service.core.common import hidden_resource
from mamori.kernel.auditing import audits_refusals, authorise, record_write
from mamori.kernel.context import Context, Role
from mamori.kernel.errors import NotFound, ValidationFailed
from mamori.kernel.policy import Resource
from mamori.kernel.runtime import all_rows
from mamori.staff import queries as staff_queries
from mamori.staff.models import StaffUser

A_REASSIGN = "customer.reassign"  # the audit action (label in kernel/labels/data/web_audit.toml)
RULE_TRAINING = (
    "R-23-3"  # human measures: who takes customers over must be trained and have signed the pledge
)
# The roles whose members may own customers (a sales rep's book; support takes customers over too).
OWNER_ROLES: frozenset[str] = frozenset({Role.SALES.value, Role.SUPPORT.value})
CHUNK = 1000  # ids per UPDATE / SELECT statement


def _bad(ja: str, en: str, code: str) -> ValidationFailed:
    return ValidationFailed(ja, en, code=code)


def find_staff(ctx: Context, username_or_id: str) -> StaffUser:
    """A staff member by user name or by staff id; NotFound (no value echoed) when there is none."""
    key = (username_or_id or "").strip()
    user = ctx.session.execute(staff_queries.by_username(key)).scalar_one_or_none() if key else None
    if user is None and key:
        user = ctx.session.execute(staff_queries.by_id(key)).scalar_one_or_none()
    if user is None:
        raise NotFound("担当者が見つかりません。", "No such staff member.", code="unknown_staff")
    return user


def check_successor(ctx: Context, user: StaffUser) -> None:
    """Whoever takes customers over: active, a role that owns customers, current on training and pledge (R-23-3).

    Raises ValidationFailed (inactive, wrong role) or PolicyDenied ``training_required`` with R-23-3."""
    if not user.active:
        raise _bad(
            "引継ぎ先の担当者は無効化されています。",
            "The successor's account is disabled.",
            "successor_inactive",
        )
    if user.role not in OWNER_ROLES or user.is_service:
        raise _bad(
            "引継ぎ先には顧客を担当できる役割（営業・サポート）の担当者を指定してください。",
            "The successor must be a staff member whose role owns customers (sales, support).",
            "successor_role",
        )
    from mamori.staff.service import training

    training.require_current(ctx, user.id)  # R-23-3: raises PolicyDenied training_required


def successor_ready(ctx: Context, user: StaffUser) -> bool:
    """Whether ``user`` may take customers over now (see :func:`check_successor`), without raising."""
    from mamori.kernel.errors import MamoriError

    try:
        check_successor(ctx, user)
    except MamoriError:
        return False
    return True


def _ids(customer_ids: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for cid in customer_ids:
        if not isinstance(cid, str) or len(cid) != 32 or not cid.isalnum():
            raise _bad("顧客IDが正しくありません。", "A customer id is malformed.", "bad_customer_id")
        seen[cid] = None
    if not seen:
        raise _bad("担当を変更する顧客を指定してください。", "Give at least one customer.", "no_customers")
    if len(seen) > MAX_OWNER_CHANGE:
        raise _bad(
            f"一度に担当を変更できる顧客は{MAX_OWNER_CHANGE}件までです。",
            f"At most {MAX_OWNER_CHANGE} customers can change owner at once.",
            "too_many_customers",
        )
    return list(seen)


def _facts(ctx: Context, ids: Sequence[str]) -> dict[str, tuple[str | None, str | None, Any]]:
    out: dict[str, tuple[str | None, str | None, Any]] = {}
    for start in range(0, len(ids), CHUNK):
        for cid, owner, team, erased in ctx.session.execute(queries.owner_facts(ids[start : start + CHUNK])):
            out[str(cid)] = (owner, team, erased)
    return out


def _authorise_all(ctx: Context, ids: Sequence[str]) -> dict[str, str | None]:
    """Every customer's current owner, once the engine allowed ``customer.reassign`` on each (R-23-2); the first
    refusal is audited and raised. A customer the database hides from a rep (PostgreSQL row-level security) is
    refused the same way as on SQLite; one that does not exist, or was erased, is NotFound."""
    facts = _facts(ctx, ids)
    decided: set[tuple[str | None, str | None]] = set()
    owners: dict[str, str | None] = {}
    for cid in ids:
        found = facts.get(cid)
        if found is None:
            hidden = hidden_resource(ctx, cid)
            if hidden is not None:
                authorise(ctx, CUSTOMER_REASSIGN, hidden, [cid])  # out of the actor's scope: refused (R-23-2)
            raise NotFound(
                "顧客が見つかりません。",
                "Customer not found.",
                code="customer_not_found",
                details={"customer_id": cid},
            )
        owner, team, erased = found
        if erased is not None:
            raise NotFound(
                "顧客が見つかりません。",
                "Customer not found.",
                code="customer_not_found",
                details={"customer_id": cid},
            )
        if (owner, team) not in decided:
            authorise(
                ctx,
                CUSTOMER_REASSIGN,
                Resource(kind="customer", subject_id=cid, owner_id=owner, team=team),
                [cid],
            )
            decided.add((owner, team))
        owners[cid] = owner
    return owners


@audits_refusals(A_REASSIGN)  # every refusal audited (R-23-2 scope, R-23-3 training)
def set_owner(
    ctx: Context,
    customer_ids: Sequence[str],
    to_username_or_id: str,
    *,
    reason: str,
    progress: Callable[[int, int], None] | None = None,
    details: dict[str, str | int | bool | None] | None = None,
) -> OwnershipResult:
    """Give ``customer_ids`` to the staff member ``to_username_or_id`` (see the module docstring).

    ``reason``: departure / reassignment. ``progress`` is called with (done, total) as the rows are written.
    ``details`` (ids and counts only) are added to the audit entry, e.g. the handover's id."""
    if reason not in OWNER_CHANGE_REASONS:
        raise _bad("変更理由が正しくありません。", "Unknown reason.", "bad_reason")
    ids = _ids(customer_ids)
    owners = _authorise_all(ctx, ids)
    successor = find_staff(ctx, to_username_or_id)
    check_successor(ctx, successor)  # R-23-3
    moving = [cid for cid in ids if owners[cid] != successor.id]
    now = ctx.clock.now()
    done = 0
    # PostgreSQL: the rep's row scope would refuse the new row (owner no longer them: WITH CHECK); every row here
    # was authorised above, so the database's scope is lifted for the UPDATE only.
    with all_rows(ctx):
        for start in range(0, len(moving), CHUNK):
            chunk = moving[start : start + CHUNK]
            ctx.session.execute(
                update(Customer)
                .where(Customer.id.in_(chunk))
                .values(owner_id=successor.id, version=Customer.version + 1, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            done += len(chunk)
            if progress is not None:
                progress(done, len(moving))
    ctx.session.flush()
    moved = set(moving)
    previous = sorted({o for cid, o in owners.items() if cid in moved and o is not None})
    if moving:
        audit: dict[str, str | int | bool | None] = {
            "to_staff_id": successor.id,
            "count": len(moving),
            "reason": reason,
            "owners_before": len(previous),
        }
        if len(previous) == 1:
            audit["from_staff_id"] = previous[0]
        audit.update(details or {})
        record_write(ctx, A_REASSIGN, moving, ["owner_id"], rule_ids=(RULE_TRAINING,), details=audit)
    return OwnershipResult(
        to_staff_id=successor.id,
        to_username=successor.username,
        changed=len(moving),
        unchanged=len(ids) - len(moving),
        customer_ids=moving,
        reason=reason,
    )


def _authorise_owner(ctx: Context, owner_id: str) -> None:
    """Listing a staff member's customers (ids only) needs ``customer.reassign`` over their book (a rep: their own)."""
    authorise(ctx, CUSTOMER_REASSIGN, Resource(kind="customer", subject_id="*", owner_id=owner_id))


def owned_by(ctx: Context, user_id: str) -> list[str]:
    """The ids of the live customers ``user_id`` (a staff id) owns. No personal value."""
    _authorise_owner(ctx, user_id)
    with all_rows(ctx):
        return [str(cid) for cid in ctx.session.execute(queries.ids_owned_by(user_id)).scalars()]


def owned_counts(ctx: Context, user_ids: Sequence[str]) -> dict[str, int]:
    """How many live customers each staff member owns (ids → count; 0 for none). Counts only."""
    for uid in user_ids:
        _authorise_owner(ctx, uid)
    if not user_ids:
        return {}
    with all_rows(ctx):
        counts = {str(o): int(n) for o, n in ctx.session.execute(queries.owned_counts(list(user_ids))).all()}
    return {uid: counts.get(uid, 0) for uid in user_ids}


def require_owned(customer_ids: Sequence[str], owned: Sequence[str]) -> None:
    """Every one of ``customer_ids`` is among ``owned`` (a transfer "from" someone names only their customers)."""
    mine = set(owned)
    if any(cid not in mine for cid in customer_ids):
        raise _bad(
            "指定した顧客の一部は引継ぎ元の担当ではありません。",
            "Some of the customers given are not owned by the staff member they are moved from.",
            "not_owned_by_from",
        )
