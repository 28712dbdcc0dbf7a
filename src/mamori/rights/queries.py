"""SELECTs of the rights slice (requests, identifiers, subjects, events) and the one customer fact it needs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select

from mamori.rights.models import RightsAttempt, RightsEvent, RightsIdentifier, RightsRequest, RightsSubject


def request(request_id: str) -> Select[RightsRequest]:
    return select(RightsRequest).where(RightsRequest.id == request_id)


def board(include_closed: bool, limit: int) -> Select[RightsRequest]:
    """Requests by due date (the extended date when there is one), oldest first."""
    due = func.coalesce(RightsRequest.extended_due_on, RightsRequest.due_on)
    stmt = select(RightsRequest).order_by(due, RightsRequest.received_at).limit(limit)
    if not include_closed:
        stmt = stmt.where(RightsRequest.status != "closed")
    return stmt


def identifiers(request_id: str) -> Select[RightsIdentifier]:
    return (
        select(RightsIdentifier)
        .where(RightsIdentifier.request_id == request_id)
        .order_by(RightsIdentifier.created_at, RightsIdentifier.id)
    )


def subjects(request_id: str) -> Select[str]:
    return (
        select(RightsSubject.customer_id)
        .where(RightsSubject.request_id == request_id)
        .order_by(RightsSubject.customer_id)
    )


def events(request_id: str) -> Select[RightsEvent]:
    return select(RightsEvent).where(RightsEvent.request_id == request_id).order_by(RightsEvent.seq)


def attempts_since(key_digest: bytes, since: datetime) -> Select[int]:
    return select(func.count(RightsAttempt.id)).where(
        RightsAttempt.key_digest == key_digest, RightsAttempt.at >= since
    )


def requests_reaching(customer_ids: Sequence[str]) -> Select[str]:
    """Requests whose verified identifiers reached one of these customers."""
    return (
        select(RightsSubject.request_id)
        .where(RightsSubject.customer_id.in_(list(customer_ids)))
        .distinct()
        .order_by(RightsSubject.request_id)
    )


def requests_with_digests(digests: Sequence[bytes]) -> Select[str]:
    """Requests carrying an identifier with one of these keyed digests."""
    return (
        select(RightsIdentifier.request_id)
        .where(RightsIdentifier.digest.in_(list(digests)))
        .distinct()
        .order_by(RightsIdentifier.request_id)
    )


def request_by_receipt(receipt_no: str) -> Select[RightsRequest]:
    """The request with this 受付番号 (R-2026-000123), as staff read it from a letter."""
    return select(RightsRequest).where(RightsRequest.receipt_no == receipt_no)


def last_receipt_no(prefix: str) -> Select[str | None]:
    """The highest 受付番号 starting with ``prefix`` (R-2026-): the year's sequence so far."""
    return select(func.max(RightsRequest.receipt_no)).where(RightsRequest.receipt_no.like(f"{prefix}%"))


def answer_states(request_ids: Sequence[str]) -> Select[str, str | None]:
    """Each request's answer state (issue 18: sending / undelivered / posting)."""
    return select(RightsRequest.id, RightsRequest.answer_state).where(RightsRequest.id.in_(list(request_ids)))


def open_requests_by_due() -> Select[RightsRequest]:
    """Every open request, by due date (the reminders pick those due within 3 days)."""
    return select(RightsRequest).where(RightsRequest.status != "closed").order_by(RightsRequest.due_on)


def reminded_between(request_id: str, start: datetime, end: datetime) -> Select[int]:
    """A "reminded" event of the request in [start, end) (one reminder per request per day)."""
    return (
        select(RightsEvent.seq)
        .where(
            RightsEvent.request_id == request_id,
            RightsEvent.event == "reminded",
            RightsEvent.at >= start,
            RightsEvent.at < end,
        )
        .limit(1)
    )


def has_event(request_id: str, name: str) -> Select[int]:
    """Whether the request's handling log holds an event of this name (e.g. "receipt_sent": sent once)."""
    return (
        select(RightsEvent.seq)
        .where(RightsEvent.request_id == request_id, RightsEvent.event == name)
        .limit(1)
    )
