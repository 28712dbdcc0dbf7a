"""The call center's inbound search under /api/v1/contact/inbound (issue 20, seed 003 Q1/Q2).

``POST /contact/inbound/find`` with the declared purpose (``Mamori-Purpose``) and the number in the body (never in
a URL): the matching people as the purpose and the caller's scope allow, with the purposes they were notified of,
where their data came from and their do-not-contact / stop-use state. A do-not-contact request is recorded with
the consent API: ``POST /api/v1/customers/{id}/contact-preferences`` (``{"channel": "phone", "allow": false,
"method": "oral"}``)."""

from __future__ import annotations

from fastapi import APIRouter

from mamori.contact.service import inbound as service
from mamori.kernel.http.deps import PurposeContext
from mamori.kernel.http.problems import responses

router = APIRouter(prefix="/inbound", tags=["contact"])


@router.post("/find", response_model=service.InboundFind, responses=responses(401, 403, 404, 422))
def find_caller(ctx: PurposeContext, body: service.PhoneIn) -> service.InboundFind:
    """電話番号で着信の相手を探す（全角・ハイフンなし・+81 も可。番号は本文で送る） / find the caller by phone
    number (any Japanese form; the number travels in the body). No match: an empty ``callers`` list."""
    return service.find(ctx, body.phone)
