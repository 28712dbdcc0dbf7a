"""The FastAPI application: `/api/v1` routers of every slice, auth, problem+json, security headers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from mamori import __version__
from mamori import composition as bootstrap
from mamori.analytics.api import router as analytics_router
from mamori.api import audit, auth
from mamori.consent.api import router as consent_router
from mamori.contact.api import router as contact_router
from mamori.customers.api import router as customers_router
from mamori.customers.api_accuracy import router as customer_accuracy_router
from mamori.customers.api_mappings import router as customer_mappings_router
from mamori.customers.api_owner import router as customer_owner_router
from mamori.deid.api import router as deid_router
from mamori.incidents.api import router as incidents_router
from mamori.inventory.api import router as inventory_router
from mamori.kernel import observability
from mamori.kernel.errors import MamoriError, cite
from mamori.kernel.http import problems
from mamori.kernel.http.middleware import AdmissionLimit, BaselineHeaders, RequestContext, RequestLimits
from mamori.kernel.runtime import Runtime, open_runtime
from mamori.lifecycle.api import router as lifecycle_router
from mamori.monitoring.api import router as monitoring_router
from mamori.notice.api import router as notice_router
from mamori.processors.api import router as processors_router
from mamori.provision.api import router as provision_router
from mamori.purposes.api import router as purposes_router
from mamori.rights.api import router as rights_router
from mamori.staff.api import router as staff_router
from mamori.web import app as web_app
from mamori.web import jobs as jobs_pages
from mamori.web import mail as mail_pages

API = "/api/v1"
DESCRIPTION = """
個人情報保護法（APPI）と GDPR を仕組みで守る顧客データ基盤 mamori の REST API。

- 個人データを扱うエンドポイントは `Mamori-Purpose` ヘッダー（利用目的コード）が必須です。その目的が本人に通知済みか、
  同意が必要なら同意があるか、利用停止されていないかをサーバーが判定し、目的の範囲外の項目はマスクして返します。
- エラーは RFC 9457 problem+json（`code` と、法令上の理由で拒否した場合は `rule_id`）。422 は入力値を返しません。
- 個人データの応答には `Cache-Control: no-store`。一覧はカーソル方式。更新は `If-Match`（ETag）必須。
- 認証: `POST /api/v1/auth/sign-in`（Cookie セッション、書き込みには `X-CSRF-Token`）または `Authorization: Bearer`（API トークン）。
"""


def create_app(runtime: Runtime | None = None) -> FastAPI:
    bootstrap.register_all()
    rt = runtime or open_runtime()
    app = FastAPI(
        title="mamori API",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,  # /docs is served by the web app with Swagger UI from fastapi-offline (no CDN)
        openapi_url="/openapi.json",
        redoc_url=None,
        lifespan=audit.checkpoint_lifespan,
    )
    app.state.runtime = rt
    app.state.authenticate = auth.authenticate
    # health and metrics answer even when every admitted request is busy
    app.add_middleware(
        AdmissionLimit,
        concurrency=rt.settings.http_concurrency,
        exempt_prefixes=("/static/", "/healthz", observability.METRICS_PATH),
    )
    problems.install(app)
    observability.install_health(app)
    web_app.mount(app)  # the staff web app: /, /sign-in, /static, /docs (issue 15)
    app.include_router(mail_pages.router)  # /mail: the e-mail queue (issue 18)
    app.include_router(jobs_pages.router)  # /jobs: the scheduled jobs (issue 21)

    @app.exception_handler(MamoriError)
    async def _mamori(request: Request, exc: MamoriError) -> JSONResponse:
        lang = "en" if request.headers.get("accept-language", "").lower().startswith("en") else "ja"
        if exc.code == "out_of_scope":
            # BOLA: a customer outside your scope looks exactly like one that does not exist (the audit log
            # records the denial with its rule).
            return problems.problem_response(
                404, "customer_not_found", "顧客が見つかりません。", "Customer not found.", lang=lang
            )
        return problems.problem_response(
            exc.http_status,
            exc.code,
            exc.message_ja,
            exc.message_en,
            rule_id=exc.rule_id,
            article=cite(exc.rule_id, lang),
            lang=lang,
            echo=problems.request_values(request),
        )

    app.add_middleware(BaselineHeaders, no_store_prefix=API)
    observability.install_metrics(app)  # its middleware sits outside the headers', inside the limits
    # Outermost: the request id and access line for every answer (a 413 included), then the body limits, which
    # answer before routing, dependencies or sign-in read anything.
    app.add_middleware(
        RequestLimits,
        max_request_bytes=rt.settings.max_request_bytes,
        max_upload_bytes=rt.settings.max_upload_bytes,
        max_fields=rt.settings.max_form_fields,
    )
    app.add_middleware(RequestContext)

    for router in (
        auth.router,
        customer_mappings_router,  # /customers/import-mappings, before /customers/{customer_id}
        customer_accuracy_router,  # /customers/unconfirmed, before /customers/{customer_id} (issue 21)
        customer_owner_router,  # /customers/owner-transfers, /customers/{id}/owner (issue 21)
        customers_router,
        consent_router,
        contact_router,  # /contact: lists, reach checks, campaigns, inbound (issue 20)
        lifecycle_router,  # /handovers, /retention, /quality (issue 21)
        incidents_router,  # /incidents (issue 22)
        analytics_router,  # /kpi, /analytics/... (issue 24)
        monitoring_router,  # /monitoring: alerts, thresholds, access reviews, report (issue 25)
        purposes_router,
        staff_router,
        provision_router,
        processors_router,
        rights_router,
        deid_router,
        inventory_router,
        notice_router,  # /notice: the published notice (R-32-1); its reads are public
        audit.router,
    ):
        app.include_router(router, prefix=API)
    return app


def serve_app() -> FastAPI:
    """The app as ``mamori serve`` runs it (uvicorn's factory, in each worker process): the server's logging
    (``MAMORI_LOG_FORMAT`` / ``MAMORI_LOG_LEVEL``) first, then :func:`create_app`."""
    from mamori.kernel.settings import get_settings

    observability.configure_logging(get_settings())
    return create_app()
