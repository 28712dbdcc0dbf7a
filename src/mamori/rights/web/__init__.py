"""Web pages of the rights slice (issue 15): requests from the person (本人からの請求) — thin: parse, call the
service, render the template.

- ``GET /rights`` the board by due date (期限超過 in red, 3日以内 in amber, with the words); ``?closed=1`` adds
  the closed requests; ``GET /rights/new`` + ``POST /rights/new`` staff intake (phone, letter, counter), like
  ``rights open`` (:mod:`.board`);
- ``GET /rights/{id}`` one request with its handling log and its actions as forms, each posting to
  ``/rights/{id}/<action>`` (identifiers, send-code, verify, scope, fulfil with partial refusals and corrections,
  refuse, extend, fee) and calling the same service function as :mod:`mamori.rights.api` (:mod:`.request`). A
  disclosure is answered as a download (attachment) and never stored. Ids in paths are opaque; what the person
  told us (email, phone, codes) goes in POST bodies only.

The service authorises (RIGHTS_INTAKE / RIGHTS_MANAGE) and audits; a refusal is shown in plain Japanese with its
rule id (:mod:`.common`); the handling log is in words (:mod:`.words`).

The person's own pages (the privacy center, no staff login: file a request, verify with the e-mailed code, follow
it, download the answer) are in :mod:`.public`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from mamori.rights.web import board, public, request

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
router = APIRouter(include_in_schema=False)
router.include_router(board.router)  # /rights/new before /rights/{rid}
router.include_router(request.router)
router.include_router(public.router)  # the person's pages in the privacy center (/privacy/requests/...)
