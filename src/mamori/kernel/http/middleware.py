"""The ASGI middlewares of the server: admission control (ADR 0016), the headers every answer carries, request
body and field-count limits, and the request id with its access-log line (issue 17).

FastAPI runs synchronous handlers and dependencies on AnyIO's worker threads (40 by default) while each store's
connection pool held 15 connections: under load most of a request's time went to waiting for a connection with
the CPU idle. Here the three are sized together: at most N requests are admitted (the rest wait at the door,
holding no thread and no connection), the worker threads are N, and every store's pool keeps N connections
(``Runtime``), so an admitted request never waits for a connection.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mamori.kernel import observability
from mamori.kernel.http import problems

# One gate per event loop (a test client runs its own loop; a server worker has one).
_GATE: RunVar[anyio.Semaphore] = RunVar("mamori_admission_gate")


class AdmissionLimit:
    """Pure ASGI middleware (no per-request task or body buffering, unlike BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp, concurrency: int, *, exempt_prefixes: tuple[str, ...] = ("/static/",)):
        self.app = app
        self.concurrency = concurrency
        self.exempt_prefixes = exempt_prefixes

    def _gate_of_this_loop(self) -> anyio.Semaphore:
        try:
            return _GATE.get()
        except LookupError:
            gate = anyio.Semaphore(self.concurrency)
            _GATE.set(gate)
            anyio.to_thread.current_default_thread_limiter().total_tokens = self.concurrency
            return gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(self.exempt_prefixes):
            await self.app(scope, receive, send)
            return
        async with self._gate_of_this_loop():
            await self.app(scope, receive, send)


class BaselineHeaders:
    """Headers every answer carries (``nosniff``, ``no-referrer``; ``no-store`` under ``no_store_prefix``), added
    to the response's start message — a pure ASGI middleware, so no extra task or body copy per request."""

    def __init__(self, app: ASGIApp, *, no_store_prefix: str) -> None:
        self.app = app
        self.no_store_prefix = no_store_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = str(scope.get("path", "")).startswith(self.no_store_prefix)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if no_store:
                    headers["Cache-Control"] = "no-store"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
            await send(message)

        await self.app(scope, receive, with_headers)


# -- request limits (issue 17) -------------------------------------------------------------------------------------

# Routes that take a file upload get ``Settings.max_upload_bytes``; every other request ``max_request_bytes``.
# Both pages parse their multipart body with ``kernel.http.uploads.read_multipart`` (in memory, with their own
# smaller per-file limits inside this bound).
UPLOAD_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("POST", re.compile(r"^/imports/preview$"), "customers CSV import (customers/web/imports.py)"),
    (
        "POST",
        re.compile(r"^/provision/receipts/new$"),
        "receiving from a provider (provision/web/records.py)",
    ),
    # the API's CSV in a JSON body (its own schema caps the text at 5,000,000 characters)
    ("POST", re.compile(r"^/api/v1/customers/imports$"), "customers CSV import (customers/api.py)"),
    ("POST", re.compile(r"^/api/v1/receipts$"), "receiving from a provider (provision/api.py)"),
)
MAX_JSON_DEPTH = 32

_TOO_LARGE = (
    "リクエストの本文が大きすぎます（上限 {n} バイト）。",
    "The request body is too large (limit {n} bytes).",
)
_TOO_MANY = (
    "項目が多すぎます（1 つのフォームまたは JSON オブジェクトにつき上限 {n}）。",
    "Too many fields (at most {n} per form or JSON object).",
)
_TOO_DEEP = (
    "JSON の入れ子が深すぎます（上限 {n} 段）。",
    "The JSON is nested too deeply (at most {n} levels).",
)


def is_upload_route(method: str, path: str) -> bool:
    return any(method == m and pattern.match(path) for m, pattern, _ in UPLOAD_ROUTES)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _body_kind(content_type: str | None) -> str:
    """How the app will parse the body: ``json`` (also with no content type: FastAPI then reads JSON), ``form``,
    ``multipart`` or ``other``."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if not media:
        return "json"
    if media == "application/x-www-form-urlencoded":
        return "form"
    if media == "multipart/form-data":
        return "multipart"
    main, _, sub = media.partition("/")
    if main == "application" and (sub == "json" or sub.endswith("+json")):
        return "json"
    return "other"


MAX_REMEMBERED_STRINGS = 1000


def _json_shape_problem(body: bytes, max_fields: int, strings: list[str]) -> str | None:
    """``too_many_fields`` / ``too_deeply_nested`` for a JSON body beyond the limits; None otherwise (a body
    that is not JSON is left to the route, which answers 422 without echoing it). The body's string values are
    added to ``strings`` (an error message must not repeat them: ``problems.request_values``)."""
    try:
        doc = json.loads(body)
    except RecursionError:
        return "too_deeply_nested"
    except ValueError:
        return None
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if len(strings) < MAX_REMEMBERED_STRINGS:
                strings.append(value)
            continue
        if isinstance(value, dict):
            if len(value) > max_fields:
                return "too_many_fields"
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            return "too_deeply_nested"
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list | str))
    return None


def _form_fields(body: bytes) -> int:
    return sum(1 for part in body.split(b"&") if part)


class RequestLimits:
    """Body and field-count limits before anything else runs (routing, dependencies, sign-in): a pure ASGI
    middleware.

    - A body over the limit (``max_upload_bytes`` on :data:`UPLOAD_ROUTES`, else ``max_request_bytes``) → 413
      problem+json: at once when Content-Length says so (nothing of the body is read), else as soon as the
      streamed (chunked) body passes it (the rest is not read).
    - A JSON body (or a body without a content type, which FastAPI reads as JSON), a urlencoded form or a
      multipart form outside the upload routes is read whole (it is within the request limit) and checked
      before the route sees it: an object or form with more than ``max_fields`` fields (parts), or JSON nested
      deeper than :data:`MAX_JSON_DEPTH` → 422 problem+json.
    - Any other body, and an upload, is passed through as it streams: bytes are counted on the way, and an
      upload's parts too (more than ``max_fields`` → 422 as the page reads them).
    Answers use fixed texts only (nothing of the request is echoed).
    """

    def __init__(
        self, app: ASGIApp, *, max_request_bytes: int, max_upload_bytes: int, max_fields: int
    ) -> None:
        self.app = app
        self.max_request_bytes = max_request_bytes
        self.max_upload_bytes = max_upload_bytes
        self.max_fields = max_fields

    def limit_for(self, method: str, path: str) -> int:
        return self.max_upload_bytes if is_upload_route(method, path) else self.max_request_bytes

    async def _refuse(self, send: Send, scope: Scope, code: str, limit: int) -> None:
        texts = {"too_large": _TOO_LARGE, "too_many_fields": _TOO_MANY, "too_deeply_nested": _TOO_DEEP}[code]
        n = MAX_JSON_DEPTH if code == "too_deeply_nested" else limit
        status = 413 if code == "too_large" else 422
        code = "request_too_large" if code == "too_large" else code
        await problems.send_problem(
            send, status, code, texts[0].format(n=n), texts[1].format(n=n), lang=problems.lang_of_scope(scope)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(str(scope.get("method", "")), str(scope.get("path", "")))
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await self._refuse(send, scope, "too_large", limit)
            return
        content_type = _header(scope, b"content-type")
        kind = _body_kind(content_type)
        if kind in ("json", "form") or (kind == "multipart" and limit == self.max_request_bytes):
            await self._buffered(scope, receive, send, limit, kind)
        else:
            await self._streamed(scope, receive, send, limit, kind)

    async def _buffered(self, scope: Scope, receive: Receive, send: Send, limit: int, kind: str) -> None:
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await self._refuse(send, scope, "too_large", limit)
                return
            if not message.get("more_body", False):
                break
        if body:
            strings: list[str] = []
            if kind == "json":
                problem = _json_shape_problem(bytes(body), self.max_fields, strings)
            elif kind == "form":
                problem = "too_many_fields" if _form_fields(bytes(body)) > self.max_fields else None
                if problem is None:
                    pairs = parse_qsl(bytes(body).decode("latin-1"), keep_blank_values=False)
                    strings = [v for _, v in pairs[:MAX_REMEMBERED_STRINGS]]
            else:
                count = _StreamCount(delimiter=_multipart_delimiter(_header(scope, b"content-type")))
                problem = count.add(bytes(body), limit, self.max_fields) or None
            if problem is not None:
                await self._refuse(send, scope, problem, self.max_fields)
                return
            scope[problems.REQUEST_STRINGS] = tuple(strings)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, limit: int, kind: str) -> None:
        delimiter = _multipart_delimiter(_header(scope, b"content-type")) if kind == "multipart" else b""
        count = _StreamCount(delimiter=delimiter)

        async def counted() -> Message:
            if count.refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                count.refused = count.add(message.get("body", b""), limit, self.max_fields)
                if count.refused:
                    return {"type": "http.disconnect"}  # the rest of the body is never read
            return message

        async def guarded_send(message: Message) -> None:
            if count.refused and not count.started:
                return  # the route's own answer to the cut-off body is replaced by the problem below
            if message["type"] == "http.response.start":
                count.started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except Exception:
            if not count.refused or count.started:
                raise
        if count.refused and not count.started:
            await self._refuse(
                send, scope, count.refused, limit if count.refused == "too_large" else self.max_fields
            )


@dataclass
class _StreamCount:
    """Bytes and multipart delimiters seen so far in a streamed body."""

    delimiter: bytes
    received: int = 0
    delimiters: int = 0
    tail: bytes = b""
    refused: str = ""
    started: bool = False

    def add(self, chunk: bytes, limit: int, max_fields: int) -> str:
        self.received += len(chunk)
        if self.received > limit:
            return "too_large"
        if self.delimiter:
            window = self.tail + chunk
            self.delimiters += window.count(self.delimiter)
            self.tail = window[-(len(self.delimiter) - 1) :]
            if self.delimiters - 1 > max_fields:  # n parts have n + 1 delimiters (the last one closes)
                return "too_many_fields"
        return ""


def _multipart_delimiter(content_type: str | None) -> bytes:
    """``--<boundary>`` of a multipart body (empty when there is none: nothing to count)."""
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "boundary" and value:
            return b"--" + value.strip().strip('"').encode("latin-1")
    return b""


# -- request id and the access log (issue 17) ---------------------------------------------------------------------


class RequestContext:
    """A request id per request and one access-log line per answer.

    The id is the incoming ``X-Request-ID`` when it matches :data:`observability.REQUEST_ID_PATTERN` (a proxy's
    or a client's correlation id: hex digits and hyphens only, so no name, e-mail or phone can ride in it), else a
    new random one; it is bound to every log line of the request and returned in the ``X-Request-ID`` header. The
    access line (logger ``mamori.access``) carries method, route template, status, duration and request id —
    never the raw path or its query string."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = observability.accept_request_id(_header(scope, b"x-request-id"))
        token = observability.REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = {"code": 500}

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, with_id)
        finally:
            route = observability.route_template(scope)
            observability.access_log.info(
                "request",
                extra={
                    "method": str(scope.get("method", "")),
                    "route": str(route),
                    "status": status["code"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            observability.REQUEST_ID.reset(token)
