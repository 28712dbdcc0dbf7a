"""Web pages of the provision slice (issue 15): third-party provision (第三者提供) — thin: parse, call the service,
render the template. For the privacy officer (PROVISION_READ / PROVISION_MANAGE); any other role gets the
refusal page from the service's own check (audited).

- ``GET  /provision`` the counterparties with their kind, country and alerts in words with rule ids (R-28-2 no
  information sheet, R-28-3 基準適合体制 review overdue or stopped); ``?kind=`` filters by kind (a code).
- ``GET  /provision/counterparties/new`` + ``POST`` register a counterparty (``provision counterparties add``).
- ``GET  /provision/counterparties/{id}`` one counterparty with its information sheets; ``POST …/sheets`` a new
  sheet version (R-28-2); ``POST …/reviews`` the yearly review of its 基準適合体制 (R-28-3).
- ``GET  /provision/provide`` + ``POST /provision/provide`` the provide wizard (入力 → 確認 → 完了): ``step=preview``
  is a dry run (``service.providing.preview``: who would be provided, who refused with rule id and reason;
  nothing provided or recorded), ``step=edit`` the form again, ``step=confirm`` provides (all-or-nothing, or
  ``skip_refused=1``) and redirects to ``GET /provision/provisions/{id}`` (the record ids). Customer ids go in the
  POST body only. The provided data is handed over once from that page: ``POST /provision/provisions/{id}/export``
  (``exports``: held in memory only, for the user and session that provided, 30 minutes; audited).
- ``GET  /provision/records`` provision and receipt records, filtered by counterparty, direction and period
  (dates, not personal); ``GET /provision/records/{id}`` one record with its identifying information.
- ``GET  /provision/receipts`` receipts; ``GET /provision/receipts/{id}`` one receipt with its R-30-1
  confirmation; ``GET/POST /provision/receipts/new`` receive from a provider: ``step=confirm`` checks the provider
  (R-30-1, nothing written), ``step=record`` uploads the file (parsed into memory only, never written to disk:
  ``kernel.http.uploads``) and records the receipt (R-30-2).

Modules by screen: ``counterparties``, ``provide`` (the wizard and its result), ``exports`` (the one-time
download), ``records`` (provision and receipt records, receiving); ``common`` the shared helpers.

Every write needs the session's CSRF token; ids in paths are opaque; every page carries the CSP and no-store.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from mamori.provision.web import counterparties, exports, provide, records

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
router = APIRouter(include_in_schema=False)
for _part in (counterparties, provide, exports, records):
    router.include_router(_part.router)

__all__ = ["TEMPLATES", "router"]
