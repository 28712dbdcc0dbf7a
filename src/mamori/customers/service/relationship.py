"""The end of the customer relationship and the facts a retention plan counts from (issue 21, R-22-1).

- :func:`end_relationship` records when the relationship ended (a closed account, a finished contract): a retention
  rule "from relationship_end" counts its period from this date. It is a change of the customer (audited as
  ``customer.relationship_end``), authorised as an update under the purpose of the use; no personal value is read.
- :func:`retention_facts` pages through the live customers with the dates only (ids, relationship end, created,
  updated, confirmed, latest activity): the lifecycle slice decides from them who is due for disposal.
- :func:`dispose_categories` deletes one category of a kept person's data (a category rule due while the person
  is kept), e.g. the activities and behaviour attributes of a marketing purpose's retention.

Nothing here reads or writes a personal value except the rows :func:`dispose_categories` deletes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import delete, or_, update

from mamori.customers import queries
from mamori.customers.models import Activity, Customer, CustomerAttribute
from mamori.customers.service.core.common import _check, _load
from mamori.kernel.auditing import record_write
from mamori.kernel.clock import JST
from mamori.kernel.context import Context
from mamori.kernel.db import chunks
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.policy import Action
from mamori.kernel.runtime import SCRUB_PENDING

# The categories a category rule may name: the data categories of customers' fields and attributes.
CATEGORIES: tuple[str, ...] = ("identifier", "contact", "attribute", "behaviour", "sensitive")


@dataclass(frozen=True)
class RelationshipEnd:
    customer_id: str
    relationship_ended_at: datetime | None


@dataclass(frozen=True)
class RetentionFacts:
    """One live customer's dates (no personal value): the bases a retention rule counts from."""

    customer_id: str
    relationship_ended_at: datetime | None
    last_activity_at: datetime


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def end_relationship(
    ctx: Context, customer_id: str, *, on: date | datetime | None = None, clear: bool = False
) -> RelationshipEnd:
    """Record the end of the relationship (``on``: a day means its start in Japan time; default now), or clear it.

    A date in the future is refused: the retention period may only count from an end that happened.
    """
    row = _load(ctx, customer_id, Action.CUSTOMER_UPDATE)
    _check(ctx, Action.CUSTOMER_UPDATE, row, {})
    now = ctx.clock.now()
    if clear:
        ended: datetime | None = None
    elif on is None:
        ended = now
    elif isinstance(on, datetime):
        ended = _aware(on)
    else:
        ended = datetime.combine(on, time(0, 0), tzinfo=JST).astimezone(UTC)
    if ended is not None and ended > now:
        raise ValidationFailed(
            "取引終了日に未来の日付は指定できません。",
            "The end of the relationship cannot be in the future.",
            code="relationship_end_in_future",
        )
    row.relationship_ended_at = ended
    row.updated_at = now
    row.version += 1
    ctx.session.flush()
    record_write(
        ctx,
        "customer.relationship_end",
        [row.id],
        ["relationship_ended_at"],
        rule_ids=("R-22-1",),
        details={"cleared": ended is None},
    )
    return RelationshipEnd(row.id, ended)


def retention_facts(ctx: Context, *, page: int = 2000) -> Iterator[list[RetentionFacts]]:
    """Every live customer's retention dates, a page at a time (keyset by id).

    ``last_activity_at`` is the latest of: the customer's creation, last update (a correction, a new attribute,
    a relationship change), last confirmation of accuracy, and latest activity (purchase, inquiry, call, note).
    """
    after = ""
    while True:
        rows = ctx.session.execute(queries.retention_page(after, page)).all()
        if not rows:
            return
        ids = [str(r[0]) for r in rows]
        last: dict[str, datetime] = {}
        for chunk in chunks(ids):
            for cid, at in ctx.session.execute(queries.last_activity_at(chunk)).all():
                if at is not None:
                    last[str(cid)] = _aware(at)  # type: ignore[assignment]
        out: list[RetentionFacts] = []
        for cid, ended, created, updated, confirmed in rows:
            moments = [m for m in (_aware(created), _aware(updated), _aware(confirmed), last.get(cid)) if m]
            out.append(RetentionFacts(str(cid), _aware(ended), max(moments)))
        yield out
        after = ids[-1]


def dispose_categories(ctx: Context, items: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Delete the rows of the named categories of kept persons (customer id → categories; R-22-1).

    ``behaviour``: the person's activities (those the scanner found 要配慮 stay unless ``sensitive`` is named)
    and behaviour attributes; ``sensitive``: 要配慮 attributes and activities; ``identifier`` / ``contact`` /
    ``attribute``: the attributes of that category. The profile fields and contact points of a kept person stay
    (they identify the person the remaining data belongs to). Returns category → rows deleted.
    """
    out: dict[str, int] = {}
    by_category: dict[str, list[str]] = {}
    for cid, cats in items.items():
        for cat in cats:
            if cat not in CATEGORIES:
                raise ValidationFailed(
                    "不明なデータ区分です。", "Unknown data category.", code="bad_category"
                )
            by_category.setdefault(cat, []).append(cid)
    s = ctx.session
    touched: set[str] = set()
    for cat, ids in sorted(by_category.items()):
        n = 0
        for chunk in chunks(sorted(set(ids))):
            result = s.execute(
                delete(CustomerAttribute).where(
                    CustomerAttribute.customer_id.in_(list(chunk)), CustomerAttribute.category == cat
                )
            )
            n += int(getattr(result, "rowcount", 0) or 0)
            if cat in ("behaviour", "sensitive"):
                kind = (
                    or_(Activity.category.is_(None), Activity.category != "sensitive")
                    if cat == "behaviour"
                    else Activity.category == "sensitive"
                )
                result = s.execute(delete(Activity).where(Activity.customer_id.in_(list(chunk)), kind))
                n += int(getattr(result, "rowcount", 0) or 0)
            touched.update(chunk)
        out[cat] = n
    if touched:
        # the version moves (cached views reload), updated_at does not: a disposal is not an activity
        for chunk in chunks(sorted(touched)):
            s.execute(
                update(Customer).where(Customer.id.in_(list(chunk))).values(version=Customer.version + 1)
            )
        record_write(
            ctx,
            "customer.category_dispose",
            sorted(touched),
            sorted(by_category),
            rule_ids=("R-22-1",),
            details={k: v for k, v in out.items()},
        )
        ctx.memo[SCRUB_PENDING] = True
    return out
