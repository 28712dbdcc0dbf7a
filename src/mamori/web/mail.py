"""The e-mail queue page (issue 18): what ``mamori mail status`` shows, for the admin and the privacy officer.

- ``GET  /mail`` — counts by status and topic, the oldest message still waiting, the messages that finally failed
  with their error codes and times, the periodic jobs' last runs. Ids, topics, codes and times only: never an
  address, a subject or a body.
- ``POST /mail/{id}/retry`` (CSRF) — a failed message back in the queue (if its content is still kept); it is
  delivered right after (the server's delivery worker), then the page is shown again with the outcome.

Who may: the kernel action MAIL_MANAGE (admin, privacy officer); anyone else gets the refusal page (403, audited).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamori.kernel import mail
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages, templating
from mamori.kernel.http.deps import runtime_of
from mamori.kernel.mail.backend import describe

router = APIRouter(include_in_schema=False)

_ID = re.compile(r"^[0-9a-f]{32}$")
_DONE = ("requeued",)


@router.get("/mail", response_class=HTMLResponse)
def mail_page(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    rt = runtime_of(request)
    try:
        with rt.transaction(who.actor, lang=templating.lang_of(request), readonly=True) as ctx:
            found = mail.status(ctx)
    except MamoriError as exc:
        return pages.refusal(request, who, exc)
    done = request.query_params.get("done", "")
    data = pages.page_context(
        request,
        who,
        found=found,
        backend=describe(rt.settings),
        done=done if done in _DONE else "",
        statuses=("pending", "sent", "failed"),
    )
    return templating.render(request, "web/mail.html", data)


@router.post("/mail/{message_id}/retry")
def retry(request: Request, message_id: str, csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    if not _ID.match(message_id):
        return pages.not_found(request, who, back="/mail")
    try:
        with runtime_of(request).transaction(who.actor, lang=templating.lang_of(request)) as ctx:
            mail.retry(ctx, message_id)
    except MamoriError as exc:
        if exc.code == "mail_not_found":
            return pages.not_found(request, who, back="/mail")
        return pages.refusal(request, who, exc, back="/mail")
    return RedirectResponse("/mail?done=requeued", status_code=303)
