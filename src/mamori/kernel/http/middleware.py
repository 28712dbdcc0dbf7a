"""The ASGI middlewares of the server: admission control (ADR 0016) and the headers every answer carries.

FastAPI runs synchronous handlers and dependencies on AnyIO's worker threads (40 by default) while each store's
connection pool held 15 connections: under load most of a request's time went to waiting for a connection with
the CPU idle. Here the three are sized together: at most N requests are admitted (the rest wait at the door,
holding no thread and no connection), the worker threads are N, and every store's pool keeps N connections
(``Runtime``), so an admitted request never waits for a connection.
"""

from __future__ import annotations

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
