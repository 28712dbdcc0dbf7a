"""The scheduled jobs page (issue 21): what ``mamori jobs list`` shows, for the admin and the privacy officer.

- ``GET  /jobs`` — every registered job: what it does (in words), its schedule, the next slot, its last run with
  status, error code and counts, and the newest runs. Job names, slots, codes and counts only: no personal data.
- ``POST /jobs/{name}/run`` (CSRF) — 今すぐ実行: run the job now (audited ``job.run_now``), then the page again
  with the outcome.

Who may: the kernel action JOBS_MANAGE (admin, privacy officer); anyone else gets the refusal page (403, audited).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamori.kernel import scheduler
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages, templating
from mamori.kernel.http.deps import runtime_of

router = APIRouter(include_in_schema=False)

_NAME = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
_DONE = ("succeeded", "failed")
RECENT = 30


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    rt = runtime_of(request)
    try:
        with rt.transaction(who.actor, lang=templating.lang_of(request), readonly=True) as ctx:
            found = scheduler.overview(ctx)
            recent = scheduler.runs(ctx, limit=RECENT)
    except MamoriError as exc:
        return pages.refusal(request, who, exc)
    done = request.query_params.get("done", "")
    job = request.query_params.get("job", "")
    data = pages.page_context(
        request,
        who,
        jobs=found,
        recent=recent,
        done=done if done in _DONE else "",
        done_job=job if _NAME.match(job) and any(v.name == job for v in found) else "",
    )
    return templating.render(request, "web/jobs.html", data)


@router.post("/jobs/{name}/run")
def run_now(request: Request, name: str, csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    if not _NAME.match(name):
        return pages.not_found(request, who, back="/jobs")
    rt = runtime_of(request)
    try:
        outcome = scheduler.run_now(
            rt, lambda: rt.transaction(who.actor, lang=templating.lang_of(request)), name
        )
    except MamoriError as exc:
        if exc.code == "job_not_found":
            return pages.not_found(request, who, back="/jobs")
        return pages.refusal(request, who, exc, back="/jobs")
    return RedirectResponse(f"/jobs?done={outcome.status}&job={outcome.job}", status_code=303)
