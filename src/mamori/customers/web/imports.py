"""The import wizard (issue 15): upload a CSV, map columns, see every bad line, run it with a progress bar.

URLs (nothing personal in any of them: the file travels in a POST body, the ids are random and opaque):

- ``GET  /imports`` — the form: the file, its source (取得元, R-20-1), the purposes notified at collection, how the
  data was acquired (and, for data from a provider, the R-30-1 confirmation), what to do with duplicates.
- ``POST /imports/preview`` — multipart upload: the file is kept in this process's memory only (never written to
  disk), under a random upload id bound to the session, for 30 minutes at most. Shows the column mapping
  (suggested from the header) and the validation: total lines and a table of every bad line with its column and
  reason — never its value.
- ``POST /imports/{upload_id}/mapping`` — change the mapping and validate again.
- ``POST /imports/{upload_id}/run`` — starts ``customers.jobs.run_import`` in a background thread (the job runner
  commits per batch); redirects to the job page. With bad lines the user must tick 「不正な行を除いて取り込む」.
- ``GET  /imports/jobs/{job_id}`` — the progress bar (survives a reload) and, at the end, the report;
  ``GET /imports/jobs/{job_id}/progress`` is the fragment htmx polls every second.

The service and the job runner decide (permission, R-20-1, R-30-1, R-41-5 / R-43-5) and audit; a view only maps
their answer to a page. The uploaded bytes are dropped from memory when the job ends or the upload expires.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from mamori.customers import jobs
from mamori.customers.permissions import CUSTOMER_IMPORT
from mamori.customers.schemas import PROVIDER_METHODS, ProvenanceIn, ReceiptIn
from mamori.customers.service import importing
from mamori.customers.service.importing import IMPORT_FIELDS, ImportReport, RowError
from mamori.kernel import validation
from mamori.kernel.auditing import authorise
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import is_htmx, lang_of, render
from mamori.kernel.http.uploads import BadUpload, UploadTooLarge, read_multipart
from mamori.kernel.labels import label
from mamori.kernel.policy import Resource
from mamori.kernel.runtime import Runtime
from mamori.law.rules import R_20_1
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeRead

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # one file
MAX_FORM_BYTES = 256 * 1024  # the other fields of the upload form together
MAX_STORE_BYTES = 200 * 1024 * 1024  # every upload held in memory at once
MAX_UPLOADS_PER_SESSION = 3  # an older one is dropped when a fourth arrives
UPLOAD_TTL_SECONDS = 30 * 60
JOB_TTL_SECONDS = 60 * 60  # a finished job's report (counts and line numbers, no value) stays this long
_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)
_PURPOSE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
METHODS = ("direct", "public", "third_party", "succession")
CHANNELS = ("import", "event", "web_form", "counter", "phone", "paper", "email", "receipt")
ON_DUPLICATE = ("report", "merge", "create")
VARIANTS = ("consent", "opt_out", "referable", "non_operator", "succession")
_FLAGS = ("acquisition_lawful", "ppc_publication_confirmed", "consent_confirmed")


def _now() -> float:
    return time.monotonic()


# -- the in-memory store: uploads (bytes) and jobs, each bound to the session that made it -----------------------


@dataclass
class Settings:
    """What the form said besides the file (no value from the file)."""

    source: str
    purposes: list[str]
    provenance: ProvenanceIn
    on_duplicate: str


@dataclass
class Upload:
    id: str
    staff_id: str
    session: bytes
    data: bytes
    header: list[str]
    settings: Settings
    mapping: dict[int, str]  # column index → field
    created: float
    total: int = 0
    errors: list[RowError] = field(default_factory=list)
    problem: str | None = None  # the mapping cannot be used (no name column, a field twice…), in words
    validated: bool = False


@dataclass
class Job:
    id: str
    staff_id: str
    session: bytes
    total: int
    created: float
    done: int = 0
    finished: bool = False
    report: ImportReport | None = None
    failure: MamoriError | None = None
    crashed: bool = False


class _Store:
    """A small in-process store. Nothing here is written to disk; a restart forgets it (the job runner's own
    checkpoint in the database is what survives: the same file uploaded again resumes after the last batch)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.uploads: dict[str, Upload] = {}
        self.jobs: dict[str, Job] = {}

    def _prune(self) -> None:
        now = _now()
        for uid in [u.id for u in self.uploads.values() if now - u.created > UPLOAD_TTL_SECONDS]:
            del self.uploads[uid]
        for jid in [j.id for j in self.jobs.values() if j.finished and now - j.created > JOB_TTL_SECONDS]:
            del self.jobs[jid]

    def add_upload(self, upload: Upload) -> bool:
        """Keep it; False when the store is full (the caller says so; nothing is kept)."""
        with self.lock:
            self._prune()
            mine = sorted(
                (u for u in self.uploads.values() if u.session == upload.session), key=lambda u: u.created
            )
            for old in mine[: max(0, len(mine) - MAX_UPLOADS_PER_SESSION + 1)]:
                del self.uploads[old.id]
            if sum(len(u.data) for u in self.uploads.values()) + len(upload.data) > MAX_STORE_BYTES:
                return False
            self.uploads[upload.id] = upload
            return True

    def upload(self, uid: str, who: Principal) -> Upload | None:
        """The upload if it exists, has not expired and belongs to this session (else None: a 404 page)."""
        with self.lock:
            self._prune()
            u = self.uploads.get(uid)
            return u if u is not None and _owned(u.staff_id, u.session, who) else None

    def drop_upload(self, uid: str) -> None:
        with self.lock:
            self.uploads.pop(uid, None)

    def add_job(self, job: Job) -> None:
        with self.lock:
            self._prune()
            self.jobs[job.id] = job

    def job(self, jid: str, who: Principal) -> Job | None:
        with self.lock:
            self._prune()
            j = self.jobs.get(jid)
            return j if j is not None and _owned(j.staff_id, j.session, who) else None


def _owned(staff_id: str, session: bytes, who: Principal) -> bool:
    return staff_id == who.actor.id and secrets.compare_digest(session, who.session_token_hash or b"")


STORE = _Store()


# -- helpers: the page context, the permission, the purposes -------------------------------------------------------


def _text(form: FormData, name: str, limit: int = 2000) -> str:
    raw = form.get(name)
    return raw.strip()[:limit] if isinstance(raw, str) else ""


def _may_import(request: Request, who: Principal) -> MamoriError | None:
    """The job runner's permission (customer.import), asked before the page and each step; a refusal is audited."""
    try:
        with runtime_of(request).transaction(who.actor, lang=lang_of(request), readonly=True) as ctx:
            authorise(ctx, CUSTOMER_IMPORT, Resource(kind="customer"))
    except MamoriError as exc:
        return exc
    return None


def _purposes(request: Request, who: Principal) -> list[PurposeRead]:
    with runtime_of(request).transaction(who.actor, readonly=True) as ctx:
        return [p for p in purposes_service.list_purposes(ctx, include_retired=False)]


def _common(request: Request, who: Principal, **extra: Any) -> dict[str, Any]:
    lang = lang_of(request)
    return pages.page_context(
        request,
        who,
        fields=IMPORT_FIELDS,
        methods=METHODS,
        channels=CHANNELS,
        on_duplicate_choices=ON_DUPLICATE,
        variants=VARIANTS,
        max_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
        field_word=lambda f: validation.field_name(f, lang),
        title_of=lambda p: p.title_en if lang == "en" else p.title_ja,
        **extra,
    )


def _empty_form() -> dict[str, Any]:
    return {
        "source": "",
        "purposes": [],
        "method": "direct",
        "channel": "import",
        "notice_version": "",
        "on_duplicate": "report",
        "counterparty_id": "",
        "variant": "",
        "identity_confirmed_by": "",
        "acquisition": "",
        "prior_purposes": [],
        **{flag: False for flag in _FLAGS},
    }


def _form_values(form: FormData) -> dict[str, Any]:
    v = _empty_form()
    for key in ("source", "method", "channel", "notice_version", "on_duplicate", "variant"):
        if key in form:  # a choice left out keeps its default
            v[key] = _text(form, key, 300)
    for key in ("counterparty_id", "identity_confirmed_by", "acquisition"):
        v[key] = _text(form, key, 2100)
    v["purposes"] = [p for p in form.getlist("purposes") if isinstance(p, str)][:50]
    v["prior_purposes"] = [p for p in form.getlist("prior_purposes") if isinstance(p, str)][:50]
    for flag in _FLAGS:
        v[flag] = _text(form, flag) == "1"
    return v


def _form_page(
    request: Request, who: Principal, v: dict[str, Any], *, status: int = 200, **extra: Any
) -> HTMLResponse:
    data = _common(request, who, v=v, purposes=_purposes(request, who), **extra)
    return render(request, "customers/import_form.html", data, status_code=status)


def _invalid(request: Request, who: Principal, key: str, *, status: int = 422, **kw: Any) -> HTMLResponse:
    return pages.error_page(
        request, who, status, label(f"web_imports.{key}", lang_of(request)), back="/imports", **kw
    )


def _missing(key: str, lang: str) -> dict[str, str]:
    """One line of the error page (shown 「取得元: 必須です」)."""
    word = label(key, lang)
    return {
        "field": key.rsplit(".", 1)[-1],
        "label": word,
        "message": label("pydantic.missing", lang),
    }


def _settings(request: Request, who: Principal, v: dict[str, Any]) -> Settings | HTMLResponse:
    """The form's settings, or the page that says what is wrong with them (never echoing a value)."""
    lang = lang_of(request)
    if v["method"] not in METHODS or v["channel"] not in CHANNELS or v["on_duplicate"] not in ON_DUPLICATE:
        return _invalid(request, who, "bad_choice")
    provider = v["method"] in PROVIDER_METHODS
    if not provider and not v["source"]:
        # R-20-1: every import is traceable to where it came from (the job runner refuses it too).
        entry = _missing("field.source", lang)
        return _invalid(request, who, "source_required", rule_id=R_20_1.id, errors=[entry])
    registered = {p.code for p in _purposes(request, who)}
    chosen = list(dict.fromkeys(v["purposes"]))
    if not chosen:
        entry = _missing("field.purposes", lang)
        return _invalid(request, who, "purposes_required", errors=[entry])
    if any(not _PURPOSE.match(p) or p not in registered for p in chosen + v["prior_purposes"]):
        return _invalid(request, who, "bad_purpose")
    receipt = None
    if provider:
        receipt = {
            "counterparty_id": v["counterparty_id"],
            "variant": v["variant"] or None,
            "identity_confirmed_by": v["identity_confirmed_by"],
            "acquisition": v["acquisition"],
            "prior_purposes": v["prior_purposes"],
            **{flag: v[flag] for flag in _FLAGS},
        }
    try:
        provenance = ProvenanceIn.model_validate(
            {
                "method": v["method"],
                "channel": v["channel"],
                "notice_version": v["notice_version"] or None,
                "source": v["source"] or None,
                "receipt": ReceiptIn.model_validate(receipt) if receipt is not None else None,
            }
        )
    except ValidationError as exc:
        return pages.invalid(request, who, exc, back="/imports")
    return Settings(
        source=v["source"], purposes=chosen, provenance=provenance, on_duplicate=v["on_duplicate"]
    )


def _validate(upload: Upload, lang: str) -> None:
    """Validate the whole file with the upload's mapping; the result (line numbers and reasons) is kept."""
    upload.errors, upload.total, upload.problem, upload.validated = [], 0, None, False
    targets = list(upload.mapping.values())
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        upload.problem = label("web_imports.field_twice", lang).format(
            fields=("、" if lang != "en" else ", ").join(validation.field_name(t, lang) for t in twice)
        )
        return
    if "name" not in targets:
        upload.problem = label("web_imports.name_missing", lang)
        return
    try:
        vf = importing.validate_data(upload.data, _column_mapping(upload), auto_map=False)
    except MamoriError as exc:
        upload.problem = exc.message(lang)
        return
    upload.total, upload.errors, upload.validated = vf.total, vf.errors, True


def _column_mapping(upload: Upload) -> dict[str, str]:
    return {upload.header[i]: f for i, f in upload.mapping.items() if 0 <= i < len(upload.header)}


def _preview(request: Request, who: Principal, upload: Upload, *, status: int = 200) -> HTMLResponse:
    lang = lang_of(request)
    bad_lines = len({e.line for e in upload.errors})
    rows = [
        {
            "line": e.line,
            "column": _column_of(upload, e.field),
            "field": label("web_imports.whole_line", lang)
            if e.field == "*"
            else validation.field_name(e.field, lang),
            "reason": e.reason_text(lang),
        }
        for e in upload.errors
    ]
    data = _common(
        request,
        who,
        u=upload,
        columns=list(enumerate(upload.header)),
        bad_rows=rows,
        bad_lines=bad_lines,
        good_lines=upload.total - bad_lines,
        purpose_titles=_titles(request, who, upload.settings.purposes),
    )
    name = "customers/import_check.html" if is_htmx(request) else "customers/import_preview.html"
    return render(request, name, data, status_code=status)


def _column_of(upload: Upload, field_name: str) -> str:
    """The file's column heading mapped to a field (a heading, not a value), or —."""
    for i, f in upload.mapping.items():
        if f == field_name and 0 <= i < len(upload.header):
            return upload.header[i]
    return "—"


def _titles(request: Request, who: Principal, codes: Sequence[str]) -> list[str]:
    lang = lang_of(request)
    by_code = {p.code: (p.title_en if lang == "en" else p.title_ja) for p in _purposes(request, who)}
    return [by_code.get(c, c) for c in codes]


# -- 1. the form ----------------------------------------------------------------------------------------------------


@router.get("/imports", response_class=HTMLResponse)
def form_page(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    refused = _may_import(request, who)
    if refused is not None:
        return pages.refusal(request, who, refused)
    return _form_page(request, who, _empty_form())


# -- 2. upload, mapping, validation ---------------------------------------------------------------------------------


@router.post("/imports/preview", response_class=HTMLResponse)
async def preview(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    try:
        form, data = await read_multipart(
            request, max_file_bytes=MAX_UPLOAD_BYTES, max_form_bytes=MAX_FORM_BYTES
        )
    except UploadTooLarge:
        return pages.error_page(
            request,
            who,
            413,
            label("web_imports.too_large", lang_of(request)).format(mb=MAX_UPLOAD_BYTES // (1024 * 1024)),
            back="/imports",
        )
    except BadUpload:
        return _invalid(request, who, "bad_upload")
    return _preview_sync(request, who, form, data)


def _preview_sync(request: Request, who: Principal, form: FormData, data: bytes | None) -> Response:
    lang = lang_of(request)
    if not pages.csrf_ok(request, who, _text(form, "csrf", 200)):
        return pages.csrf_refused(request, who)
    refused = _may_import(request, who)
    if refused is not None:
        return pages.refusal(request, who, refused, back="/imports")
    settings = _settings(request, who, _form_values(form))
    if isinstance(settings, HTMLResponse):
        return settings
    if not data:
        entry = _missing("web_imports.file", lang)
        return _invalid(request, who, "file_required", errors=[entry])
    try:
        header = importing.read_header(data)
        with runtime_of(request).transaction(who.actor, lang=lang, readonly=True) as ctx:
            # a 仮名加工情報 / 匿名加工情報 dataset is refused before anything else (R-41-5, R-43-5)
            importing.check_intake_data(ctx, data, label("web_imports.uploaded_file", lang))
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/imports")
    if not header:
        return _invalid(request, who, "no_header")
    suggested = importing.suggest_mapping(header)
    upload = Upload(
        id=secrets.token_urlsafe(32),
        staff_id=who.actor.id,
        session=who.session_token_hash or b"",
        data=data,
        header=header,
        settings=settings,
        mapping={i: suggested[col] for i, col in enumerate(header) if col in suggested},
        created=_now(),
    )
    if not STORE.add_upload(upload):
        return _invalid(request, who, "busy", status=503)
    _validate(upload, lang)
    return _preview(request, who, upload)


def _upload_or_404(request: Request, who: Principal, upload_id: str) -> Upload | HTMLResponse:
    upload = STORE.upload(upload_id, who) if _ID.match(upload_id) else None
    if upload is None:  # unknown, expired, or another session's: the same page
        return pages.not_found(
            request, who, label("web_imports.upload_gone", lang_of(request)), back="/imports"
        )
    return upload


@router.post("/imports/{upload_id}/mapping", response_class=HTMLResponse)
async def remap(request: Request, upload_id: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    form = await request.form(max_files=0, max_fields=1000)
    if not pages.csrf_ok(request, who, _text(form, "csrf", 200)):
        return pages.csrf_refused(request, who)
    found = _upload_or_404(request, who, upload_id)
    if isinstance(found, HTMLResponse):
        return found
    refused = _may_import(request, who)
    if refused is not None:
        return pages.refusal(request, who, refused, back="/imports")
    mapping: dict[int, str] = {}
    for i in range(len(found.header)):
        target = _text(form, f"map_{i}", 40)
        if target and target not in IMPORT_FIELDS:
            return _invalid(request, who, "bad_choice")
        if target:
            mapping[i] = target
    found.mapping = mapping
    _validate(found, lang_of(request))
    return _preview(request, who, found)


# -- 3. run, progress, report ---------------------------------------------------------------------------------------


@router.post("/imports/{upload_id}/run", response_class=HTMLResponse)
async def run(request: Request, upload_id: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    form = await request.form(max_files=0, max_fields=20)
    if not pages.csrf_ok(request, who, _text(form, "csrf", 200)):
        return pages.csrf_refused(request, who)
    found = _upload_or_404(request, who, upload_id)
    if isinstance(found, HTMLResponse):
        return found
    refused = _may_import(request, who)
    if refused is not None:
        return pages.refusal(request, who, refused, back="/imports")
    skip = _text(form, "skip_bad_rows") == "1"
    if not found.validated:
        return _preview(request, who, found, status=422)
    if found.errors and not skip:
        # nothing from a file with bad lines is written unless the user chose to leave them out
        return _invalid(request, who, "skip_needed", status=422)
    job = Job(
        id=secrets.token_urlsafe(32),
        staff_id=who.actor.id,
        session=who.session_token_hash or b"",
        total=found.total - len({e.line for e in found.errors}),
        created=_now(),
    )
    STORE.add_job(job)
    STORE.drop_upload(found.id)  # the store no longer holds it; the worker's reference is the last one
    worker = threading.Thread(
        target=_work,
        args=(runtime_of(request), who, job, found, skip),
        name=f"mamori-import-{job.id[:8]}",
        daemon=True,
    )
    worker.start()
    return RedirectResponse(f"/imports/jobs/{job.id}", status_code=303)


def _work(rt: Runtime, who: Principal, job: Job, upload: Upload, skip: bool) -> None:
    """The job runner in a thread: it validates again, then commits batch by batch (``customers.jobs``)."""
    s = upload.settings

    def progress(done: int, total: int) -> None:
        job.done, job.total = done, total

    try:
        job.report = jobs.run_import(
            rt,
            who.actor,
            upload.data,
            source=s.source,
            purposes=s.purposes,
            provenance=s.provenance,
            mapping=_column_mapping(upload),
            skip_bad_rows=skip,
            on_duplicate=s.on_duplicate,
            progress=progress,
            file_name=label("web_imports.uploaded_file", "ja"),
            auto_map=False,
        )
    except MamoriError as exc:
        job.failure = exc
    except Exception:  # never a stack trace on the page; the log has it
        log.exception("import job %s failed", job.id[:8])
        job.crashed = True
    except BaseException:  # the thread is being stopped: the page says the job stopped
        job.crashed = True
        raise
    finally:
        upload.data = b""  # the bytes are gone from memory with the job
        job.finished = True


def _job_or_404(request: Request, who: Principal, job_id: str) -> Job | HTMLResponse:
    job = STORE.job(job_id, who) if _ID.match(job_id) else None
    if job is None:
        return pages.not_found(request, who, label("web_imports.job_gone", lang_of(request)), back="/imports")
    return job


def _job_page(request: Request, who: Principal, job: Job, *, fragment: bool) -> HTMLResponse:
    lang = lang_of(request)
    report = job.report
    failure = None
    if job.failure is not None:
        failure = {"message": job.failure.message(lang), "rule_id": job.failure.rule_id}
    elif job.crashed or (job.finished and report is None):
        # a job that ended without a report or a refusal is shown as stopped, never as an empty box
        failure = {"message": label("web_imports.crashed", lang), "rule_id": None}
    data = _common(
        request,
        who,
        job=job,
        report=report,
        failure=failure,
        duplicates=report.duplicates if report else [],
    )
    name = "customers/import_progress.html" if fragment else "customers/import_job.html"
    return render(request, name, data)


@router.get("/imports/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    found = _job_or_404(request, who, job_id)
    if isinstance(found, HTMLResponse):
        return found
    return _job_page(request, who, found, fragment=False)


@router.get("/imports/jobs/{job_id}/progress", response_class=HTMLResponse)
def job_progress(request: Request, job_id: str) -> Response:
    """What htmx polls every second: lines done / total, then the report (the polling stops with it)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    found = _job_or_404(request, who, job_id)
    if isinstance(found, HTMLResponse):
        return found
    return _job_page(request, who, found, fragment=is_htmx(request))
