"""Erasure: what the rights slice holds under the person's identifiers, traced before and forgotten after.

Found while the person's data can still be read (:func:`trace_person`), dropped once it is erased
(:func:`forget_person`): the values typed into their requests (by destroying those requests' keys), the keyed
digests of their addresses (a digest would confirm a guessed address later) and the throttle counts kept under
them. The request rows stay as evidence of who verified what, and when.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, update

from mamori.customers.service import subjects as customer_subjects
from mamori.kernel.context import Context
from mamori.kernel.db import chunks
from mamori.kernel.errors import MamoriError, ValidationFailed
from mamori.rights import queries
from mamori.rights.models import RightsAttempt, RightsIdentifier
from mamori.rights.service.core import _identifiers, subject_ids
from mamori.rights.service.sealing import (
    IDENTIFIER_THROTTLES,
    KEY_DIGEST,
    destroy_request_keys,
    identifier_digest,
    mac,
    open_value,
)

# -- erasure: what the rights slice holds under the person's identifiers ---------------------------------------


@dataclass(frozen=True)
class PersonTrace:
    """What points at people about to be erased, found while their data can still be read."""

    # Requests whose verified identifiers reached them, and requests that carry one of their identifiers (not
    # shared with another customer) but reached nobody, e.g. an abandoned filing with an old address:
    # everything typed into these is forgotten.
    requests: tuple[str, ...]
    digests: tuple[bytes, ...]  # keyed digests of their emails and phones (as typed, or registered)
    # Digests and addresses of values no other (not erased) customer has registered: forgotten wherever they
    # appear. An address shared with someone else (a household email) stays in that person's own requests.
    exclusive: tuple[bytes, ...]
    emails: tuple[str, ...]


def _digest_chunks(digests: Sequence[bytes], size: int = 500) -> Iterator[Sequence[bytes]]:
    return chunks(sorted(set(digests)), size)


def trace_person(ctx: Context, customer_ids: Sequence[str]) -> PersonTrace:
    """Before an erasure: the requests that reached these people, the keyed digests of their identifiers (from
    those requests and from their registered contacts), and the requests carrying those digests that reached
    nobody. Reads the registered contacts (audited) and the values typed into their requests."""
    ids = list(dict.fromkeys(customer_ids))
    reached: set[str] = set()
    for chunk in chunks(ids):
        reached.update(ctx.session.execute(queries.requests_reaching(chunk)).scalars())
    values: set[tuple[str, str]] = set()
    digests: set[bytes] = set()
    for rid in sorted(reached):
        for ident in _identifiers(ctx, rid):
            if ident.kind in ("email", "phone"):
                if ident.digest:
                    digests.add(bytes(ident.digest))
                value = open_value(ctx, ident)
                if value:
                    values.add((ident.kind, value))
    for cid in ids:
        try:
            values.update(customer_subjects.registered_contacts(ctx, cid))
        except MamoriError:  # already erased, or its key already destroyed: nothing readable is left there
            continue
    exclusive: set[bytes] = set()
    shared: set[bytes] = set()
    emails: set[str] = set()
    for kind, value in values:
        try:
            digest = identifier_digest(ctx, kind, value)
            others = set(customer_subjects.locate(ctx, kind, value)) - set(ids)
        except ValidationFailed:
            continue
        digests.add(digest)
        if others:
            shared.add(digest)  # also someone else's registered contact (a household address)
        else:
            exclusive.add(digest)
            if kind == "email":
                emails.add(value)
    matching: set[str] = set()
    for part in _digest_chunks(list(digests - shared)):
        matching.update(ctx.session.execute(queries.requests_with_digests(part)).scalars())
    orphaned = {r for r in matching - reached if not subject_ids(ctx, r)}
    return PersonTrace(
        requests=tuple(sorted(reached | orphaned)),
        digests=tuple(sorted(digests)),
        exclusive=tuple(sorted(exclusive)),
        emails=tuple(sorted(emails)),
    )


def forget_person(ctx: Context, trace: PersonTrace) -> tuple[int, int, int]:
    """After an erasure: drop the claimed values and keyed digests of the person's identifiers (with the system
    key, a digest would confirm a guessed address later), the throttle counts kept under them, and destroy the
    keys of the requests in the trace. The rows stay as evidence (kind, how verified, by whom, when).
    Returns (identifiers scrubbed, throttle rows dropped, request keys destroyed)."""
    blank = {"value_enc": None, "code_hash": None, "code_expires_at": None}
    contact = RightsIdentifier.kind.in_(("email", "phone"))
    scrubbed = 0
    for chunk in chunks(list(trace.requests)):
        in_request = RightsIdentifier.request_id.in_(chunk)
        ctx.session.execute(update(RightsIdentifier).where(in_request, ~contact).values(blank))
        result = ctx.session.execute(
            update(RightsIdentifier).where(in_request, contact).values({**blank, "digest": b""})
        )
        scrubbed += int(getattr(result, "rowcount", 0) or 0)
    for part in _digest_chunks(trace.exclusive):
        result = ctx.session.execute(
            update(RightsIdentifier)
            .where(RightsIdentifier.digest.in_(part), contact)
            .values({**blank, "digest": b""})
        )
        scrubbed += int(getattr(result, "rowcount", 0) or 0)
    dropped = 0
    for part in _digest_chunks(trace.digests):
        counted = [
            mac(ctx, KEY_DIGEST, "throttle", kind, d.hex()) for kind in IDENTIFIER_THROTTLES for d in part
        ]
        result = ctx.session.execute(delete(RightsAttempt).where(RightsAttempt.key_digest.in_(counted)))
        dropped += int(getattr(result, "rowcount", 0) or 0)
    ctx.session.flush()
    destroyed = destroy_request_keys(ctx, trace.requests)
    return scrubbed, dropped, destroyed
