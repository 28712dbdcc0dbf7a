"""Request-scoped dependencies: who is calling (Principal), the Context with its declared purpose, pagination.

The route is the edge: the Context's transaction commits when the endpoint function returns without error
(``scope="function"``: before the response is sent), and rolls back otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from mamori.kernel.auditing import record_edge_refusal
from mamori.kernel.context import Actor, Context
from mamori.kernel.db import unit_of_work
from mamori.kernel.errors import MamoriError, PolicyDenied, Unauthenticated
from mamori.kernel.runtime import Runtime


@dataclass(frozen=True)
class Principal:
    actor: Actor
    via: str  # "session" (cookie) or "token" (Authorization: Bearer)
    purposes: frozenset[str] | None = None  # an API token may be limited to some purposes
    session_token_hash: bytes | None = None


Authenticator = Callable[[Request, Session, Runtime], Principal | None]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"


class CsrfRejected(MamoriError):
    code = "csrf_rejected"
    http_status = 403


def csrf_token(rt: Runtime, session_token_hash: bytes) -> str:
    """A CSRF token bound to the server-side session (HMAC of the session's hash under a keystore secret)."""
    return hmac.new(rt.keystore.system_key("csrf"), session_token_hash, hashlib.sha256).hexdigest()


def check_csrf(request: Request, rt: Runtime, who: Principal) -> None:
    """Cookie-authenticated writes need the session's CSRF token and must not come from another site."""
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        raise CsrfRejected("他サイトからの書き込み要求は拒否されました。", "Cross-site write refused.")
    sent = request.headers.get(CSRF_HEADER, "")
    expected = csrf_token(rt, who.session_token_hash or b"")
    if not sent or not hmac.compare_digest(sent, expected):
        raise CsrfRejected("CSRF トークンがないか一致しません。", "Missing or wrong CSRF token.")


def _busy(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text


def network_tag(rt: Runtime, host: str | None) -> str | None:
    """The client's network as a keyed tag: HMAC-SHA256 of its /24 (IPv4) or /48 (IPv6) prefix under the
    keystore secret ``audit.network``, ``n`` + 12 hex. The address is never stored (it is the staff member's
    personal data); the same network always gives the same tag in one store (issue 25: a read from a new
    network). None when the host is not an IP address (a test client, a Unix socket)."""
    if not host:
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    digest = hmac.new(rt.keystore.system_key("audit.network"), str(network).encode(), hashlib.sha256)
    return "n" + digest.hexdigest()[:12]


def _tagged(request: Request, rt: Runtime, found: Principal | None) -> Principal | None:
    if found is None:
        return None
    net = network_tag(rt, request.client.host if request.client else None)
    if net is None:
        return found
    return replace(found, actor=replace(found.actor, net=net))


def authenticate(request: Request, rt: Runtime) -> Principal | None:
    """Run the app's authenticator in the auth edge's own small transaction (a deferred one: last-seen times are
    written at most once a minute). The actor carries the network's tag (:func:`network_tag`)."""
    authenticator: Authenticator = request.app.state.authenticate
    try:
        with unit_of_work(rt.read_sessions) as session:
            return _tagged(request, rt, authenticator(request, session, rt))
    except OperationalError as exc:
        if not _busy(exc):
            raise
    # SQLite: a concurrent request wrote the same last-seen time after this read began (BUSY_SNAPSHOT, which
    # waiting does not cure): check again in a transaction that takes the write lock first and waits its turn.
    with unit_of_work(rt.sessions) as session:
        return _tagged(request, rt, authenticator(request, session, rt))


def runtime_of(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def principal(request: Request) -> Principal:
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    rt = runtime_of(request)
    found = authenticate(request, rt)
    if found is None:
        raise Unauthenticated("サインインが必要です。", "Sign-in required.")
    if found.via == "session" and request.method not in SAFE_METHODS:
        check_csrf(request, rt, found)
    request.state.principal = found
    return found


PrincipalDep = Annotated[Principal, Depends(principal)]


def require_token_purpose(who: Principal, purpose: str | None) -> None:
    """Refuse a purpose an API token was not issued for (R-23-2: each user's data scope). Every action that names
    a purpose — the ``Mamori-Purpose`` header or a purpose in the body (a consent for a purpose) — is bound to the
    token's purposes (issue 17). The message never repeats the submitted purpose (no request input echoed)."""
    if purpose is not None and who.purposes is not None and purpose not in who.purposes:
        raise PolicyDenied(
            "この API トークンは、指定された利用目的には使えません。",
            "This API token is not allowed for the declared purpose.",
            rule_id="R-23-2",
            code="token_purpose_not_allowed",
        )


_PURPOSE_FIELD = re.compile(r"(?:^|_)purposes?$")


def declared_purposes(value: object) -> frozenset[str]:
    """Every purpose code a request body names: the values of its fields called ``purpose``, ``purposes`` or
    ``…_purpose(s)`` (``notified_purpose``, ``prior_purposes``), at any depth."""
    found: set[str] = set()
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            field = getattr(value, name)
            if _PURPOSE_FIELD.search(name):
                items = field if isinstance(field, list | tuple | set | frozenset) else (field,)
                found.update(item for item in items if isinstance(item, str))
            else:
                found |= declared_purposes(field)
    elif isinstance(value, list | tuple):
        for item in value:
            found |= declared_purposes(item)
    return frozenset(found)


def require_body_purposes(who: Principal, body: BaseModel) -> None:
    """Bind every purpose a request body names to the API token's purposes (R-23-2, issue 17): a token issued for
    ``contract`` cannot register customers for ``marketing``, provide data for it or cover it by a contract."""
    if who.purposes is not None:
        for purpose in sorted(declared_purposes(body)):
            require_token_purpose(who, purpose)


def _context(request: Request, who: Principal, purpose: str | None) -> Iterator[Context]:
    rt = runtime_of(request)
    try:
        require_token_purpose(who, purpose)
    except (
        PolicyDenied
    ) as exc:  # refused before a Context exists: audited on the audit store's own connection
        record_edge_refusal(rt, who.actor, purpose, "api.token.purpose", exc)
        raise
    lang = "en" if request.headers.get("accept-language", "").lower().startswith("en") else "ja"
    with rt.transaction(who.actor, purpose, lang=lang, readonly=request.method in SAFE_METHODS) as ctx:
        yield ctx


def purpose_context(
    request: Request,
    who: PrincipalDep,
    mamori_purpose: Annotated[
        str,
        Header(
            alias="Mamori-Purpose",
            min_length=1,
            max_length=64,
            description="利用目的コード（個人データの利用に必須） / declared purpose",
        ),
    ],
) -> Iterator[Context]:
    yield from _context(request, who, mamori_purpose)


def plain_context(request: Request, who: PrincipalDep) -> Iterator[Context]:
    yield from _context(request, who, None)


PurposeContext = Annotated[Context, Depends(purpose_context, scope="function")]
PlainContext = Annotated[Context, Depends(plain_context, scope="function")]


@dataclass(frozen=True)
class Page:
    cursor: str | None
    limit: int


def page(
    cursor: Annotated[str | None, Query(max_length=64, pattern=r"^[0-9a-f]{1,64}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page:
    return Page(cursor, limit)


PageDep = Annotated[Page, Depends(page)]
