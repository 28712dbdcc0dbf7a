"""The import wizard (issues 15 and 19): upload a file, choose its sheet, map its columns, try it without writing,
then import it with a progress bar — the same files, mapping, saved mappings and report as ``mamori customers
import``.

URLs (nothing personal in any of them: the file travels in a POST body, the ids are random and opaque):

- ``GET  /imports`` — the form: the file (.csv / .tsv / .txt / .xlsx), its source (取得元, R-20-1), the purposes
  notified at collection, how the data was acquired (and, for data from a provider, the R-30-1 confirmation), what
  to do with duplicates, and — for whoever may import into any book — the owner (担当営業) of the new customers.
  A sales rep whose role imports into their own book (scope OWN) sees no owner choice: the customers are theirs.
- ``POST /imports/preview`` — multipart upload: the file is kept in this process's memory only (never written to
  disk), under a random upload id bound to the session, for 30 minutes at most. An Excel book with several sheets
  asks for the sheet first (``POST /imports/{upload_id}/sheet``). Then the mapping step: the suggested mapping
  (``import_mapping.suggest``), checked by a dry run of the import (``jobs.run_import(dry_run=True)``: nothing is
  written) — the summary by reason, every bad line with its column and reason (never its value), the rows that
  would wait for the privacy officer's approval.
- ``POST /imports/{upload_id}/mapping`` — change the mapping (one or several columns per target, joined with a
  separator) and try again; ``action=save`` also saves it by name (the CLI's ``--mapping NAME``).
  ``POST /imports/{upload_id}/mapping/load`` — use a saved mapping.
- ``GET  /imports/{upload_id}/errors.csv`` — the rejected lines as CSV (line, column, field, reason; no value),
  UTF-8 with a BOM so that Excel opens it. ``GET /imports/jobs/{job_id}/errors.csv`` the same after the import.
- ``POST /imports/{upload_id}/run`` — starts ``customers.jobs.run_import`` in a background thread (the job runner
  commits per batch); redirects to the job page. With bad lines the user must tick 「不正な行を除いて取り込む」.
- ``GET  /imports/jobs/{job_id}`` — the progress bar (survives a reload) and, at the end, the report;
  ``GET /imports/jobs/{job_id}/progress`` is the fragment htmx polls every second.

The service and the job runner decide (permission and scope, R-20-1, R-30-1, R-41-5 / R-43-5, the per-row purpose
check) and audit; a view only maps their answer to a page. The uploaded bytes are dropped from memory when the job
ends or the upload expires.
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
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from mamori.customers import jobs
from mamori.customers.permissions import CUSTOMER_IMPORT
from mamori.customers.schemas import PROVIDER_METHODS, ProvenanceIn, ReceiptIn
from mamori.customers.service import import_files, import_mapping, importing
from mamori.customers.service.import_mapping import ImportMapping
from mamori.customers.service.importing import ImportReport
from mamori.customers.web import import_form
from mamori.customers.web.import_form import MappingState
from mamori.kernel.auditing import authorise
from mamori.kernel.context import Role
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import PAGE_HEADERS, is_htmx, lang_of, render
from mamori.kernel.http.uploads import BadUpload, UploadTooLarge, read_multipart
from mamori.kernel.labels import label
from mamori.kernel.policy import Resource, Scope, row_scope
from mamori.kernel.runtime import Runtime
from mamori.law.rules import R_20_1
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeRead
from mamori.staff import service as staff_service

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
ACCEPT = ".csv,.tsv,.txt,.xlsx,text/csv,text/tab-separated-values,text/plain,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OWNER_ROLES = (Role.SALES,)  # who may be chosen as the owner (担当営業) of imported customers


def _now() -> float:
    return time.monotonic()


def _say(lang: str, ja: str, en: str) -> str:
    return en if lang == "en" else ja


# -- the in-memory store: uploads (bytes) and jobs, each bound to the session that made it -----------------------


@dataclass
class Settings:
    """What the form said besides the file (no value from the file)."""

    source: str
    purposes: list[str]
    provenance: ProvenanceIn
    on_duplicate: str
    owner_id: str | None = None  # the owner of the new customers (a sales rep importing: themselves)
    own_book: bool = False  # the importer's scope is OWN: no owner choice, no per-row owner column


@dataclass
class Upload:
    id: str
    staff_id: str
    session: bytes
    data: bytes
    file_name: (
        str  # named by its content (an Excel book or a text file), for the reader and the dataset guards
    )
    settings: Settings
    created: float
    sheets: list[str] = field(default_factory=list)  # an Excel book's sheets
    sheet: str | None = None
    header: list[str] = field(default_factory=list)
    state: MappingState = field(default_factory=MappingState)
    mapping: ImportMapping | None = None  # the state as a usable mapping (None: it cannot be used yet)
    report: ImportReport | None = None  # the dry run's report (line numbers, columns and reasons; no value)
    problems: dict[str, str] = field(default_factory=dict)  # target → why its mapping is refused
    problem: str | None = None  # the mapping or the file cannot be used, in words
    problem_rule: str | None = None
    saved_message: str | None = None  # the answer to "save this mapping"
    saved_failed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)  # one step at a time (two tabs, one upload)

    @property
    def validated(self) -> bool:
        return self.report is not None


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


# -- helpers: the page context, the permission, the purposes, the owners -------------------------------------------


def _text(form: FormData, name: str, limit: int = 2000) -> str:
    raw = form.get(name)
    return raw.strip()[:limit] if isinstance(raw, str) else ""


@dataclass(frozen=True)
class _Allowed:
    own_book: bool  # the role imports into its own book only (scope OWN)


def _may_import(request: Request, who: Principal) -> MamoriError | _Allowed:
    """The job runner's permission (customer.import), asked before the page and each step; a refusal is audited.
    With the OWN scope (a sales rep, if the policy grants it) the import goes into the importer's own book."""
    try:
        with runtime_of(request).transaction(who.actor, lang=lang_of(request), readonly=True) as ctx:
            authorise(ctx, CUSTOMER_IMPORT, Resource(kind="customer"))
            own = row_scope(ctx, CUSTOMER_IMPORT) == Scope.OWN
    except MamoriError as exc:
        return exc
    return _Allowed(own_book=own)


def _purposes(request: Request, who: Principal) -> list[PurposeRead]:
    with runtime_of(request).transaction(who.actor, readonly=True) as ctx:
        return [p for p in purposes_service.list_purposes(ctx, include_retired=False)]


def _owners(request: Request, who: Principal) -> list[tuple[str, str]]:
    """(staff id, display name) of the active staff who may own customers (the owner choice)."""
    with runtime_of(request).transaction(who.actor, readonly=True) as ctx:
        staff = staff_service.list_staff(ctx)
    return [
        (s.id, s.display_name or s.username)
        for s in staff
        if s.active and s.kind == "person" and s.role in OWNER_ROLES
    ]


def _common(request: Request, who: Principal, **extra: Any) -> dict[str, Any]:
    lang = lang_of(request)
    return pages.page_context(
        request,
        who,
        methods=METHODS,
        channels=CHANNELS,
        on_duplicate_choices=ON_DUPLICATE,
        variants=VARIANTS,
        accept=ACCEPT,
        max_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
        target_word=lambda f: import_form.target_word(f, lang),
        default_sep=lambda f: import_form.default_sep(f, lang),
        title_of=lambda p: p.title_en if lang == "en" else p.title_ja,
        **extra,
    )


def _empty_form() -> dict[str, Any]:
    return {
        "source": "",
        "purposes": [],
        "method": "direct",
        "channel": "import",
        "campaign": "",
        "notice_version": "",
        "on_duplicate": "report",
        "owner": "",
        "counterparty_id": "",
        "variant": "",
        "identity_confirmed_by": "",
        "acquisition": "",
        "prior_purposes": [],
        **{flag: False for flag in _FLAGS},
    }


def _form_values(form: FormData) -> dict[str, Any]:
    v = _empty_form()
    for key in (
        "source",
        "method",
        "channel",
        "campaign",
        "notice_version",
        "on_duplicate",
        "variant",
        "owner",
    ):
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
    request: Request, who: Principal, v: dict[str, Any], allowed: _Allowed, *, status: int = 200
) -> HTMLResponse:
    owners = [] if allowed.own_book else _owners(request, who)
    data = _common(
        request,
        who,
        v=v,
        purposes=_purposes(request, who),
        owners=owners,
        own_book=allowed.own_book,
    )
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


def _settings(
    request: Request, who: Principal, v: dict[str, Any], allowed: _Allowed
) -> Settings | HTMLResponse:
    """The form's settings, or the page that says what is wrong with them (never echoing a value)."""
    lang = lang_of(request)
    if v["method"] not in METHODS or v["channel"] not in CHANNELS or v["on_duplicate"] not in ON_DUPLICATE:
        return _invalid(request, who, "bad_choice")
    if allowed.own_book:
        owner_id: str | None = who.actor.id  # their own book; the importer enforces it too
    elif v["owner"]:
        if v["owner"] not in {sid for sid, _ in _owners(request, who)}:
            return _invalid(request, who, "bad_choice")
        owner_id = v["owner"]
    else:
        owner_id = None
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
                "campaign": v["campaign"] or None,
            }
        )
    except ValidationError as exc:
        return pages.invalid(request, who, exc, back="/imports")
    except MamoriError as exc:  # bad_campaign_code: one message, never the value
        return pages.error_page(request, who, 422, exc.message(lang), back="/imports")
    return Settings(
        source=v["source"],
        purposes=chosen,
        provenance=provenance,
        on_duplicate=v["on_duplicate"],
        owner_id=owner_id,
        own_book=allowed.own_book,
    )


def _file_name(data: bytes) -> str:
    """A name for the reader, from the bytes themselves (an .xlsx book is a zip; anything else is read as text,
    its encoding and delimiter detected by the reader). The browser's own file name is not relied on."""
    return "upload.xlsx" if data[:4] == b"PK\x03\x04" else "upload.csv"


def _offered(upload: Upload) -> list[str]:
    return import_form.targets(owner=not upload.settings.own_book)


def _read_header(upload: Upload, sheet: str | None) -> None:
    """Read the heading line of the file (or of the chosen sheet) and suggest a mapping for it."""
    table = import_files.read_table(upload.data, upload.file_name, sheet=sheet)
    upload.sheet = table.sheet if table.kind == "xlsx" else None
    upload.header = list(table.header)
    suggested = import_form.from_mapping(import_mapping.suggest(upload.header))
    if upload.settings.own_book:
        suggested.fields.pop("owner", None)  # their own book: no per-row owner
    upload.state = suggested


def _check(request: Request, who: Principal, upload: Upload) -> None:
    """Turn the page's mapping into the import's mapping and try the import with it (a dry run: nothing is
    written). The outcome — the report, or why the mapping or the file cannot be used — is kept on the upload."""
    lang = lang_of(request)
    upload.report, upload.mapping, upload.problems, upload.problem, upload.problem_rule = (
        None,
        None,
        {},
        None,
        None,
    )
    if not upload.state.columns_of("name"):
        upload.problem = label("web_imports.name_missing", lang)
        return
    checked = import_form.check(upload.state, upload.header, upload.sheet, lang)
    upload.problems, upload.problem = checked.problems, checked.problem
    if checked.mapping is None:
        return
    upload.mapping = checked.mapping
    s = upload.settings
    try:
        upload.report = jobs.run_import(
            runtime_of(request),
            who.actor,
            upload.data,
            source=s.source,
            purposes=s.purposes,
            provenance=s.provenance,
            mapping=checked.mapping,
            sheet=upload.sheet,
            skip_bad_rows=True,  # the dry run goes on past bad lines, to count what the good ones would do
            on_duplicate=s.on_duplicate,
            owner_id=s.owner_id,
            file_name=upload.file_name,
            auto_map=False,
            dry_run=True,
        )
    except MamoriError as exc:
        if exc.code in ("mapping_conflict", "bad_mapping"):
            refused = import_form.refused(exc, upload.state, upload.header, upload.sheet, lang)
            upload.problems, upload.problem = refused.problems, refused.problem
        else:
            upload.problem, upload.problem_rule = exc.message(lang), exc.rule_id
        upload.mapping = None


def _bad_lines(report: ImportReport | None) -> int:
    return len({e.line for e in report.errors}) if report is not None else 0


def _error_rows(report: ImportReport, lang: str) -> list[dict[str, object]]:
    return [
        {
            "line": e.line,
            "column": e.column or "—",
            "field": label("web_imports.whole_line", lang)
            if e.field == "*"
            else import_form.target_word(e.field, lang),
            "reason": e.reason_text(lang),
        }
        for e in report.errors
    ]


def _saved_names(request: Request, who: Principal) -> list[str]:
    """The names of the saved mappings (the ones ``mamori customers import --mapping NAME`` uses)."""
    try:
        with runtime_of(request).transaction(who.actor, lang=lang_of(request), readonly=True) as ctx:
            found = import_mapping.list_(ctx)
    except MamoriError:
        return []  # a role that may not read them: the page offers none
    names: list[str] = []
    for item in found:
        name = item if isinstance(item, str) else getattr(item, "name", None)
        if name is None and isinstance(item, dict):
            name = item.get("name")
        if isinstance(name, str):
            names.append(name)
    return sorted(names)


def _preview(request: Request, who: Principal, upload: Upload, *, status: int = 200) -> HTMLResponse:
    lang = lang_of(request)
    report = upload.report
    bad_lines = _bad_lines(report)
    offered = _offered(upload)
    rows = []
    for target in offered:
        choice = upload.state.fields.get(target, import_form.Choice())
        rows.append({"target": target, "choice": choice, "multi": import_form.is_multi(target)})
    missing = sorted(
        {c for t in offered for c in upload.state.columns_of(t) if c not in upload.header}
        | {c for a in upload.state.attrs for c in a.choice.columns if c not in upload.header}
    )
    data = _common(
        request,
        who,
        u=upload,
        report=report,
        columns=upload.header,
        missing_columns=missing,
        targets=rows,
        attrs=[*upload.state.attrs, import_form.AttrChoice("")],
        categories=import_form.CATEGORIES,
        bad_rows=_error_rows(report, lang) if report is not None else [],
        summary=report.summary(lang) if report is not None else [],
        bad_lines=bad_lines,
        good_lines=(report.total - bad_lines) if report is not None else 0,
        saved=_saved_names(request, who),
        purpose_titles=_titles(request, who, upload.settings.purposes),
        owner_name=_owner_name(request, who, upload.settings),
    )
    name = "customers/import_check.html" if is_htmx(request) else "customers/import_preview.html"
    return render(request, name, data, status_code=status)


def _owner_name(request: Request, who: Principal, s: Settings) -> str | None:
    if s.owner_id is None:
        return None
    if s.own_book:
        return who.actor.name
    return dict(_owners(request, who)).get(s.owner_id)


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
    allowed = _may_import(request, who)
    if isinstance(allowed, MamoriError):
        return pages.refusal(request, who, allowed)
    return _form_page(request, who, _empty_form(), allowed)


# -- 2. upload, sheet, mapping, dry run ------------------------------------------------------------------------------


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
    # reading the file and the dry run take a while on a big file: off the event loop
    return await run_in_threadpool(_preview_sync, request, who, form, data)


def _preview_sync(request: Request, who: Principal, form: FormData, data: bytes | None) -> Response:
    lang = lang_of(request)
    if not pages.csrf_ok(request, who, _text(form, "csrf", 200)):
        return pages.csrf_refused(request, who)
    allowed = _may_import(request, who)
    if isinstance(allowed, MamoriError):
        return pages.refusal(request, who, allowed, back="/imports")
    settings = _settings(request, who, _form_values(form), allowed)
    if isinstance(settings, HTMLResponse):
        return settings
    if not data:
        entry = _missing("web_imports.file", lang)
        return _invalid(request, who, "file_required", errors=[entry])
    upload = Upload(
        id=secrets.token_urlsafe(32),
        staff_id=who.actor.id,
        session=who.session_token_hash or b"",
        data=data,
        file_name=_file_name(data),
        settings=settings,
        created=_now(),
    )
    try:
        with runtime_of(request).transaction(who.actor, lang=lang, readonly=True) as ctx:
            # a 仮名加工情報 / 匿名加工情報 dataset is refused before anything else (R-41-5, R-43-5)
            importing.check_intake_data(ctx, data, label("web_imports.uploaded_file", lang))
        if upload.file_name.endswith(".xlsx"):
            upload.sheets = list(import_files.sheet_names(data, upload.file_name))
        if len(upload.sheets) <= 1:
            _read_header(upload, upload.sheets[0] if upload.sheets else None)
    except MamoriError as exc:
        if exc.http_status in (400, 422) or exc.code.startswith("bad_") or exc.code in _FILE_CODES:
            return pages.error_page(
                request, who, 422, exc.message(lang), rule_id=exc.rule_id, back="/imports"
            )
        return pages.refusal(request, who, exc, back="/imports")
    if len(upload.sheets) <= 1 and not upload.header:
        return _invalid(request, who, "no_header")
    if not STORE.add_upload(upload):
        return _invalid(request, who, "busy", status=503)
    if len(upload.sheets) > 1:
        return _sheet_page(request, who, upload)
    _check(request, who, upload)
    return _preview(request, who, upload)


_FILE_CODES = frozenset({"bad_encoding", "unreadable_line", "bad_sheet", "not_a_table", "line_too_long"})


def _sheet_page(request: Request, who: Principal, upload: Upload, *, status: int = 200) -> HTMLResponse:
    data = _common(request, who, u=upload, purpose_titles=_titles(request, who, upload.settings.purposes))
    return render(request, "customers/import_sheet.html", data, status_code=status)


def _upload_or_404(request: Request, who: Principal, upload_id: str) -> Upload | HTMLResponse:
    upload = STORE.upload(upload_id, who) if _ID.match(upload_id) else None
    if upload is None:  # unknown, expired, or another session's: the same page
        return pages.not_found(
            request, who, label("web_imports.upload_gone", lang_of(request)), back="/imports"
        )
    return upload


async def _step(
    request: Request, upload_id: str, max_fields: int
) -> tuple[Principal, FormData, Upload] | Response:
    """What every later step does first: the session, the CSRF token, the upload (this session's), the permission."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    form = await request.form(max_files=0, max_fields=max_fields)
    if not pages.csrf_ok(request, who, _text(form, "csrf", 200)):
        return pages.csrf_refused(request, who)
    found = _upload_or_404(request, who, upload_id)
    if isinstance(found, HTMLResponse):
        return found
    allowed = _may_import(request, who)
    if isinstance(allowed, MamoriError):
        return pages.refusal(request, who, allowed, back="/imports")
    return who, form, found


@router.post("/imports/{upload_id}/sheet", response_class=HTMLResponse)
async def choose_sheet(request: Request, upload_id: str) -> Response:
    step = await _step(request, upload_id, 20)
    if isinstance(step, Response):
        return step
    return await run_in_threadpool(_locked, _sheet, request, *step)


def _locked(fn: Any, request: Request, who: Principal, form: FormData, upload: Upload) -> Response:
    """A later step, in a worker thread (it reads the file and runs the dry run), one at a time per upload."""
    with upload.lock:
        result: Response = fn(request, who, form, upload)
        return result


def _sheet(request: Request, who: Principal, form: FormData, upload: Upload) -> Response:
    sheet = _text(form, "sheet", 200)
    if sheet not in upload.sheets:
        return _invalid(request, who, "bad_choice")
    try:
        _read_header(upload, sheet)
    except MamoriError as exc:
        upload.header = []
        upload.problem = exc.message(lang_of(request))
        return _sheet_page(request, who, upload, status=422)
    if not upload.header:
        return _invalid(request, who, "no_header")
    _check(request, who, upload)
    return _preview(request, who, upload)


@router.post("/imports/{upload_id}/mapping", response_class=HTMLResponse)
async def remap(request: Request, upload_id: str) -> Response:
    step = await _step(request, upload_id, 3000)
    if isinstance(step, Response):
        return step
    return await run_in_threadpool(_locked, _remap, request, *step)


def _remap(request: Request, who: Principal, form: FormData, upload: Upload) -> Response:
    lang = lang_of(request)
    if not upload.header:  # a book whose sheet is not chosen yet
        return _sheet_page(request, who, upload, status=422)
    try:
        upload.state = import_form.from_form(form, upload.header, _offered(upload), upload.state)
    except import_form.BadChoice:
        return _invalid(request, who, "bad_choice")
    upload.saved_message, upload.saved_failed = None, False
    _check(request, who, upload)
    if _text(form, "action", 20) == "save":
        _save(request, who, upload, _text(form, "save_name", 100), lang)
    return _preview(request, who, upload)


def _save(request: Request, who: Principal, upload: Upload, name: str, lang: str) -> None:
    """Save the page's mapping by name (the same saved mappings as the CLI's ``--save-mapping`` / ``--mapping``)."""
    upload.saved_failed = True
    if upload.mapping is None:
        upload.saved_message = _say(
            lang,
            "この対応は使えないため保存していません。上の指摘を直してください。",
            "This mapping cannot be used, so it was not saved. Fix what is shown above.",
        )
        return
    if not name:
        upload.saved_message = _say(lang, "保存する名前を入れてください。", "Enter a name to save it under.")
        return
    try:
        with runtime_of(request).transaction(who.actor, lang=lang) as ctx:
            import_mapping.save(ctx, name, upload.mapping)
    except MamoriError as exc:
        upload.saved_message = exc.message(lang)
        return
    upload.state.name = name
    upload.saved_failed = False
    upload.saved_message = _say(
        lang,
        f"この対応を「{name}」として保存しました。CLI では --mapping {name} で使えます。",
        f"This mapping was saved as '{name}'. The CLI uses it with --mapping {name}.",
    )


@router.post("/imports/{upload_id}/mapping/load", response_class=HTMLResponse)
async def load_mapping(request: Request, upload_id: str) -> Response:
    step = await _step(request, upload_id, 20)
    if isinstance(step, Response):
        return step
    return await run_in_threadpool(_locked, _load, request, *step)


def _load(request: Request, who: Principal, form: FormData, upload: Upload) -> Response:
    lang = lang_of(request)
    name = _text(form, "saved", 100)
    if name not in _saved_names(request, who):
        return _invalid(request, who, "bad_choice")
    try:
        with runtime_of(request).transaction(who.actor, lang=lang, readonly=True) as ctx:
            saved = import_mapping.get(ctx, name)
        if saved.sheet and saved.sheet in upload.sheets and saved.sheet != upload.sheet:
            _read_header(upload, saved.sheet)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/imports")
    state = import_form.from_mapping(saved)
    if upload.settings.own_book:
        state.fields.pop("owner", None)
    state.name = name
    upload.state = state
    upload.saved_message, upload.saved_failed = None, False
    _check(request, who, upload)
    return _preview(request, who, upload)


def _csv_response(text: str, file_name: str) -> Response:
    """A CSV for Excel: UTF-8 with a BOM, as an attachment, never cached."""
    body = "\ufeff" + text.removeprefix("\ufeff")
    headers = {
        **PAGE_HEADERS,
        "Content-Disposition": f'attachment; filename="{file_name}"',
    }
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/imports/{upload_id}/errors.csv")
def errors_csv(request: Request, upload_id: str) -> Response:
    """The dry run's rejected lines (line, column, field, reason — never a value) for fixing the file in Excel."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    found = _upload_or_404(request, who, upload_id)
    if isinstance(found, HTMLResponse):
        return found
    allowed = _may_import(request, who)
    if isinstance(allowed, MamoriError):
        return pages.refusal(request, who, allowed, back="/imports")
    if found.report is None:
        return _preview(request, who, found, status=409)
    return _csv_response(found.report.errors_csv(lang_of(request)), "import-errors.csv")


# -- 3. run, progress, report ---------------------------------------------------------------------------------------


@router.post("/imports/{upload_id}/run", response_class=HTMLResponse)
async def run(request: Request, upload_id: str) -> Response:
    step = await _step(request, upload_id, 20)
    if isinstance(step, Response):
        return step
    who, form, found = step
    skip = _text(form, "skip_bad_rows") == "1"
    if found.report is None or found.mapping is None:
        return _preview(request, who, found, status=422)
    if found.report.errors and not skip:
        # nothing from a file with bad lines is written unless the user chose to leave them out
        return _invalid(request, who, "skip_needed", status=422)
    job = Job(
        id=secrets.token_urlsafe(32),
        staff_id=who.actor.id,
        session=who.session_token_hash or b"",
        total=found.report.total - _bad_lines(found.report),
        created=_now(),
    )
    STORE.add_job(job)
    STORE.drop_upload(found.id)  # the store no longer holds it; the worker's reference is the last one
    worker = threading.Thread(
        target=_work,
        args=(runtime_of(request), who, job, found, found.mapping, skip),
        name=f"mamori-import-{job.id[:8]}",
        daemon=True,
    )
    worker.start()
    return RedirectResponse(f"/imports/jobs/{job.id}", status_code=303)


def _work(rt: Runtime, who: Principal, job: Job, upload: Upload, mapping: ImportMapping, skip: bool) -> None:
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
            mapping=mapping,
            sheet=upload.sheet,
            skip_bad_rows=skip,
            on_duplicate=s.on_duplicate,
            owner_id=s.owner_id,
            progress=progress,
            file_name=upload.file_name,
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
    # One snapshot of a job another thread is running: ``finished`` first (the thread sets the report, then
    # finished), so a finished job always comes with its report or its failure — reading ``job.finished`` again in
    # the template could see it finish after the report was read, and showed an empty box.
    finished = job.finished
    report = job.report
    failure = None
    if job.failure is not None:
        failure = {"message": job.failure.message(lang), "rule_id": job.failure.rule_id}
    elif job.crashed or (finished and report is None):
        # a job that ended without a report or a refusal is shown as stopped, never as an empty box
        failure = {"message": label("web_imports.crashed", lang), "rule_id": None}
    data = _common(
        request,
        who,
        job=job,
        finished=finished,
        report=report,
        failure=failure,
        duplicates=report.duplicates if report else [],
        summary=report.summary(lang) if report else [],
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


@router.get("/imports/jobs/{job_id}/errors.csv")
def job_errors_csv(request: Request, job_id: str) -> Response:
    """The finished import's rejected lines as CSV (no value), like the dry run's."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    found = _job_or_404(request, who, job_id)
    if isinstance(found, HTMLResponse):
        return found
    if found.report is None:
        return _job_page(request, who, found, fragment=False)
    return _csv_response(found.report.errors_csv(lang_of(request)), "import-errors.csv")
