"""What an operator watches (issue 17): structured logs with a request id, Prometheus metrics, health and
readiness, and the store checks ``mamori doctor`` and ``/readyz`` share.

- Logs: ``MAMORI_LOG_FORMAT=json`` (the default) writes one JSON object per line (structlog's renderer over the
  standard library's records, so uvicorn's and every ``mamori.*`` logger's lines alike), each with the request id
  of the request it belongs to; ``text`` a plain line. Nothing personal is logged: the access line names the
  route template, never the raw path or its query string.
- Metrics (``/metrics``, prometheus-fastapi-instrumentator): labelled by route template, method and status class
  only; requests that match no route are grouped as ``none``. Served only to a client connected directly over
  loopback (no ``X-Forwarded-For``/``Forwarded`` header, i.e. not through a proxy): a scraper on the host, never
  the internet.
- ``/healthz``: the process answers (no store is touched). ``/readyz``: the data store, the keystore and the
  audit log answer and are migrated; 503 problem+json naming the part that is not, without URLs or errors.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
import sys
from collections.abc import Callable, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.engine import Engine

    from mamori.kernel.runtime import Runtime
    from mamori.kernel.settings import Settings

REQUEST_ID: ContextVar[str | None] = ContextVar("mamori_request_id", default=None)
# An incoming X-Request-ID is kept only if it is 16–64 hex digits and hyphens (a UUID, nginx's $request_id, a
# trace id): a value that could carry a name, an e-mail address or a phone number (E.164 has at most 15 digits
# and a "+") is replaced by a new id.
REQUEST_ID_PATTERN = re.compile(r"^[0-9A-Fa-f-]{16,64}$")
access_log = logging.getLogger("mamori.access")
METRICS_PATH = "/metrics"


def accept_request_id(incoming: str | None) -> str:
    if incoming is not None and REQUEST_ID_PATTERN.fullmatch(incoming):
        return incoming
    return secrets.token_hex(16)


def route_template(scope: Any) -> str:
    """The template of the route a request matched (``/api/v1/customers/{customer_id}``), as the metrics label
    it; ``<unmatched>`` when none did. Never the raw path: logs carry no id, name or query string."""
    from prometheus_fastapi_instrumentator.routing import get_route_name
    from starlette.requests import HTTPConnection

    try:
        name = get_route_name(HTTPConnection(scope), False)
    except Exception:
        name = None
    return name or "<unmatched>"


# -- logs -------------------------------------------------------------------------------------------------------


def _add_request_id(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


_UNSAFE_STDLIB_FIELDS = ("args", "msg")


def _drop_args(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in _UNSAFE_STDLIB_FIELDS:
        event.pop(key, None)
    return event


def log_formatter(log_format: str) -> logging.Formatter:
    """structlog's ProcessorFormatter: JSON (``json``) or a console line (``text``), with timestamp, level,
    logger name, the record's ``extra`` fields and the current request id."""
    import structlog

    pre_chain: list[Callable[..., Any]] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_request_id,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if log_format.strip().lower() != "text"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre_chain,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _drop_args,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


def configure_logging(settings: Settings, *, stream: Any = None) -> None:
    """The server's logging: one handler on the root logger (stderr), ``log_level`` and ``log_format`` from the
    settings; uvicorn's loggers propagate to it (its own access log stays off: the access line is ours)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(log_formatter(settings.log_format))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    level = logging.getLevelName(settings.log_level.strip().upper())
    root.setLevel(level if isinstance(level, int) else logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # HTTP client libraries log each URL they fetch at INFO (a query string may carry personal data)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


# -- metrics ------------------------------------------------------------------------------------------------------


_LOOPBACK_FORWARD_HEADERS = (b"x-forwarded-for", b"forwarded", b"x-real-ip")


def direct_loopback(scope: dict[str, Any]) -> bool:
    """A client on this host, not relayed by a proxy: its address is loopback and it sent no forwarding header
    (a reverse proxy on the same host adds one)."""
    client = scope.get("client")
    if not client:
        return False
    try:
        if not ipaddress.ip_address(str(client[0])).is_loopback:
            return False
    except ValueError:
        return False
    return not any(name in _LOOPBACK_FORWARD_HEADERS for name, _ in scope.get("headers") or ())


def loopback_only(request: Request) -> None:
    """The dependency of ``/metrics``: anyone but a direct loopback client gets the same 404 as a missing page."""
    from fastapi import HTTPException

    if not direct_loopback(dict(request.scope)):
        raise HTTPException(404, "Not Found")


def install_metrics(app: FastAPI) -> None:
    """Prometheus metrics of the HTTP app on ``/metrics`` (own registry per app; not in the OpenAPI schema)."""
    from fastapi import Depends
    from prometheus_client import CollectorRegistry
    from prometheus_fastapi_instrumentator import Instrumentator

    instrumentator = Instrumentator(
        should_group_status_codes=True,
        should_ignore_untemplated=False,
        should_group_untemplated=True,  # unmatched paths count under handler="none", never as themselves
        excluded_handlers=[METRICS_PATH, "/healthz", "/readyz"],
        registry=CollectorRegistry(),
    )
    instrumentator.instrument(app).expose(
        app, endpoint=METRICS_PATH, include_in_schema=False, dependencies=[Depends(loopback_only)]
    )


# -- health and readiness ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartState:
    part: str  # data_store | keystore | audit_store
    ok: bool
    problem: str = ""  # a code: unreachable | not_migrated | schema_missing


_HEADS: dict[str, tuple[str, ...]] = {}
KEYSTORE_TABLES = ("data_keys", "system_keys", "kek_checks")
AUDIT_TABLES = ("audit_entries", "audit_checkpoints", "audit_head")


def migration_heads() -> tuple[str, ...]:
    """The Alembic heads of this code (read once per process)."""
    if "heads" not in _HEADS:
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        from mamori.kernel.runtime import MIGRATIONS_DIR

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        _HEADS["heads"] = tuple(sorted(ScriptDirectory.from_config(cfg).get_heads()))
    return _HEADS["heads"]


def current_revisions(engine: Engine) -> tuple[str, ...]:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return tuple(sorted(MigrationContext.configure(conn).get_current_heads()))


def data_store_state(engine: Engine) -> PartState:
    try:
        current = current_revisions(engine)
    except Exception:
        return PartState("data_store", False, "unreachable")
    if current != migration_heads():
        return PartState("data_store", False, "not_migrated")
    return PartState("data_store", True)


def tables_state(part: str, engine: Engine, tables: tuple[str, ...]) -> PartState:
    from sqlalchemy import inspect

    try:
        with engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
    except Exception:
        return PartState(part, False, "unreachable")
    if not set(tables) <= present:
        return PartState(part, False, "schema_missing")
    return PartState(part, True)


def store_states(rt: Runtime) -> list[PartState]:
    return [
        data_store_state(rt.read_engine),
        tables_state("keystore", rt.keystore_engine, KEYSTORE_TABLES),
        tables_state("audit_store", rt.audit_engine, AUDIT_TABLES),
    ]


_PART_JA = {"data_store": "データストア", "keystore": "鍵保管庫", "audit_store": "監査ログ"}
_PART_EN = {"data_store": "data store", "keystore": "keystore", "audit_store": "audit store"}
_PROBLEM_JA = {
    "unreachable": "接続できません",
    "not_migrated": "マイグレーションが最新ではありません",
    "schema_missing": "スキーマがありません",
}
_PROBLEM_EN = {
    "unreachable": "unreachable",
    "not_migrated": "not migrated to head",
    "schema_missing": "schema missing",
}


def install_health(app: FastAPI) -> None:
    """``GET /healthz`` and ``GET /readyz`` (no sign-in, no personal data, not in the OpenAPI schema)."""
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool

    from mamori.kernel.http import problems

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        states = await run_in_threadpool(store_states, request.app.state.runtime)
        failed = [s for s in states if not s.ok]
        if not failed:
            return JSONResponse(
                {"status": "ready", "parts": {s.part: "ok" for s in states}},
                headers={"Cache-Control": "no-store"},
            )
        lang = problems.lang_of_scope(dict(request.scope))
        ja = "、".join(f"{_PART_JA[s.part]}: {_PROBLEM_JA[s.problem]}" for s in failed)
        en = "; ".join(f"{_PART_EN[s.part]}: {_PROBLEM_EN[s.problem]}" for s in failed)
        return problems.problem_response(
            503,
            "not_ready",
            f"準備ができていません（{ja}）。",
            f"Not ready ({en}).",
            lang=lang,
            errors=[{"part": s.part, "problem": s.problem} for s in failed],
        )
