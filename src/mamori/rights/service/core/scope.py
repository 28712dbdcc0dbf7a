"""What the company holds and what the person asks for; the public status pages; throttling."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import timedelta

from mamori.kernel import registry
from mamori.kernel.auditing import authorise, record_info
from mamori.kernel.context import Actor, ActorKind, Context, Role
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from mamori.kernel.policy import Action, Resource
from mamori.law.rules import R_37_1
from mamori.rights import queries
from mamori.rights.models import RightsAttempt, RightsRequest
from mamori.rights.schemas import (
    PublicStatus,
    RequestView,
)
from mamori.rights.service.core.common import (
    CODE_MAX_ATTEMPTS,
    TooManyAttempts,
    _identifiers,
    _load,
    _not_found,
    event,
    subject_ids,
    view,
)
from mamori.rights.service.core.opening import _open_request
from mamori.rights.service.core.verify import VerifyResult, _check_code, _require_verified
from mamori.rights.service.sealing import (
    KEY_DIGEST,
    throttle_digest,
)
from mamori.rights.service.sealing import mac as _mac


def _held(ctx: Context, ids: Sequence[str]) -> dict[str, int]:
    held: dict[str, int] = {}
    for sid in ids:
        for source in registry.sources():
            for category, n in source.summary(ctx, sid).items():
                key = f"{source.name}:{category}"
                held[key] = held.get(key, 0) + int(n)
    return dict(sorted(held.items()))


def held_categories(ctx: Context, request_id: str) -> dict[str, int]:
    """Category → records held for the verified subjects (helps the person narrow the request)."""
    authorise(ctx, Action.RIGHTS_MANAGE, Resource(kind="rights_request"))
    req = _load(ctx, request_id)
    ids = _require_verified(ctx, req)
    record_info(ctx, "rights.categories", ids, details={"request_id": req.id})
    return _held(ctx, ids)


def _scope(ctx: Context, req: RightsRequest, categories: Sequence[str]) -> None:
    known = {s.name for s in registry.sources()}
    bad = [c for c in categories if ":" not in c or c.split(":", 1)[0] not in known]
    if bad or not categories:
        raise ValidationFailed(
            "範囲は「データ源:区分」（例 customers:contact）で指定してください。",
            "Give the scope as source:category (e.g. customers:contact).",
            code="bad_category",
        )
    req.categories = ",".join(sorted(set(categories)))
    ctx.session.flush()
    event(ctx, req, "scoped", (R_37_1.id,), categories=req.categories)


def set_scope(ctx: Context, request_id: str, categories: Sequence[str]) -> RequestView:
    authorise(ctx, Action.RIGHTS_MANAGE, Resource(kind="rights_request"))
    req = _open_request(ctx, request_id)
    _scope(ctx, req, categories)
    return view(ctx, req)


# -- the person's own access (token) ----------------------------------------------------------------------------


def _by_token(ctx: Context, request_id: str, token: str) -> RightsRequest:
    req = ctx.session.execute(queries.request(request_id)).scalar_one_or_none()
    if req is None or not req.token_hash:
        _mac(ctx, KEY_DIGEST, "token", request_id, token)  # same work either way
        raise _not_found()
    if not hmac.compare_digest(_mac(ctx, KEY_DIGEST, "token", req.id, token), bytes(req.token_hash)):
        raise _not_found()
    return req


def public_status(ctx: Context, request_id: str, token: str) -> PublicStatus:
    req = _by_token(ctx, request_id, token)
    idents = _identifiers(ctx, req.id)
    verified = sum(1 for i in idents if i.verified_at is not None)
    held = None
    if verified:
        ids = subject_ids(ctx, req.id)
        record_info(ctx, "rights.categories", ids, details={"request_id": req.id})
        held = _held(ctx, ids)
    now = ctx.clock.now()
    left = [
        CODE_MAX_ATTEMPTS - i.code_attempts
        for i in idents
        if i.kind == "email"
        and i.verified_at is None
        and i.code_hash is not None
        and i.code_expires_at is not None
        and now <= i.code_expires_at
    ]
    return PublicStatus(
        request_id=req.id,
        receipt_no=req.receipt_no,
        kind=req.kind,
        status=req.status,
        outcome=req.outcome,
        answered=req.answered_at is not None or req.status == "closed",
        due_on=req.extended_due_on or req.due_on,
        verified_identifiers=verified,
        categories_held=held,
        attempts_left=0 if verified or req.status == "closed" else max([0, *left]),
    )


def public_verify(ctx: Context, request_id: str, token: str, code: str) -> VerifyResult:
    """The person enters the code from the email; tried against each unverified email identifier's code."""
    req = _by_token(ctx, request_id, token)
    if req.status == "closed":
        raise PolicyDenied("この請求は対応済みです。", "This request is closed.", code="request_closed")
    pending = [i for i in _identifiers(ctx, req.id) if i.kind == "email" and i.verified_at is None]
    if not pending:
        return VerifyResult(True, 0, len(subject_ids(ctx, req.id)))
    result = VerifyResult(False, 0)
    for ident in pending:
        if ident.code_hash is None:
            continue
        result = _check_code(ctx, req, ident, code)
        if result.verified:
            return result
    return result


def public_scope(ctx: Context, request_id: str, token: str, categories: Sequence[str]) -> PublicStatus:
    req = _by_token(ctx, request_id, token)
    if req.status == "closed":
        raise PolicyDenied("この請求は対応済みです。", "This request is closed.", code="request_closed")
    _require_verified(ctx, req)
    _scope(ctx, req, categories)
    return public_status(ctx, request_id, token)


# -- throttling of the public endpoints ---------------------------------------------------------------------------

# Per hour: filing per IP / per identifier, verification per IP / per request, status per IP, downloads per
# request. The API (mamori.rights.api) and the privacy center's pages (mamori.rights.web.public) count under the
# same keys, so the person has one budget whichever door they use.
FILE_PER_IP = 20
FILE_PER_IDENTIFIER = 5
VERIFY_PER_IP = 30
VERIFY_PER_REQUEST = 10
STATUS_PER_IP = VERIFY_PER_IP * 2
PACKAGE_PER_REQUEST = 10


def person(request_id: str = "new") -> Actor:
    """The person on the public routes: no staff role; they are authorised by possession of the request token."""
    return Actor(kind=ActorKind.PERSON, id=f"request:{request_id}", name="本人", role=Role.PERSON)


def throttle(
    ctx: Context, keys: Sequence[tuple[str, str, int]], window: timedelta = timedelta(hours=1)
) -> None:
    """Count one attempt under each (kind, value, limit) key (stored as keyed hashes) and refuse beyond the limit.

    Call it in its own transaction before the real work, so refused attempts are still counted."""
    now = ctx.clock.now()
    over = False
    for kind, value, limit in keys:
        digest = throttle_digest(ctx, kind, value)
        ctx.session.add(RightsAttempt(key_digest=digest, at=now))
        ctx.session.flush()
        count = int(ctx.session.execute(queries.attempts_since(digest, now - window)).scalar_one())
        over = over or count > limit
    if over:
        raise TooManyAttempts(
            "試行回数が多すぎます。しばらくしてからやり直してください。",
            "Too many attempts; try again later.",
            code="too_many_attempts",
        )


# -- board, show ------------------------------------------------------------------------------------------------
