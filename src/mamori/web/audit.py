"""The audit log viewer (issue 15): filter, verify, export — for the roles the kernel lets read the audit log.

URLs (only ids, codes and dates in a query string — never a name or a value):

- ``GET  /audit?customer=<id>&staff=<id>&action=<code>&decision=<code>&from=YYYY-MM-DD&to=YYYY-MM-DD&before=<seq>``
  the newest entries (50 a page, newest first; ``before`` is the cursor of the 「さらに古い記録」 link), each with
  its time in JST, the actor by name, the action and the decision in words, the rule ids, the persons (opaque ids)
  and the purpose. ``from`` / ``to`` are calendar days in JST, both included. htmx: the table alone.
- ``POST /audit/verify`` (CSRF) — recompute the whole chain as ``mamori audit verify`` does; the result in words.
- ``GET  /audit/export.csv?…the same filters…`` — the filtered entries as CSV (UTF-8 with BOM, for Excel), an
  attachment, never cached; the export is itself recorded in the audit log (``audit.export``).

Who may: ``Action.AUDIT_READ`` (the kernel grants it to the privacy officer). Every read is authorised with the
kernel's ``authorise`` (a refusal is audited and shown with its rule, R-23-2) and recorded with ``record_info``
(``audit.search`` / ``audit.verify`` / ``audit.export``), as ``auditing.tail`` does for ``audit tail``.

The filtered, newest-first read below is a plain query on the audit database's own table (the kernel's writer
offers only ``tail`` and an oldest-first ``entries``); it decides nothing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from mamori.kernel import files, labels
from mamori.kernel.audit import StoredEntry
from mamori.kernel.audit import verify as audit_verify
from mamori.kernel.auditing import authorise, record_info
from mamori.kernel.clock import JST
from mamori.kernel.context import Context
from mamori.kernel.errors import MamoriError, PolicyDenied
from mamori.kernel.http import pages, templating
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.policy import Action, Resource
from mamori.purposes import service as purposes_service
from mamori.staff import service as staff_service

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
EXPORT_MAX = 50_000  # more than this: narrow the filter (an export is never silently cut short)
ACTION_MAX = 64
_ID = re.compile(r"^[0-9a-f]{32}$")
_ACTION = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")
_DECISIONS = ("allow", "deny", "info")
# Actions that share a first part form a group in the select (「同意の操作すべて」): ``consent`` matches consent.*.
_GROUPS = (
    "customer",
    "consent",
    "purpose",
    "rights",
    "provision",
    "processors",
    "deid",
    "inventory",
    "notice",
    "mail",
    "staff",
    "audit",
    "store",
    "keys",
    "subject",
    "activity",
    "incident",
)


def _lang(request: Request) -> str:
    return templating.lang_of(request)


@contextmanager
def _reading(request: Request, who: Principal) -> Iterator[Context]:
    """A read-only unit of work for ``who`` in which the audit log may be read (or PolicyDenied, audited)."""
    with runtime_of(request).transaction(who.actor, None, lang=_lang(request), readonly=True) as ctx:
        authorise(ctx, Action.AUDIT_READ, Resource(kind="audit"))
        yield ctx


# -- refusals and bad input -------------------------------------------------------------------------------------


def _refused(request: Request, who: Principal, err: MamoriError) -> HTMLResponse:
    """A refusal in plain words with the rule id small beside it; the engine's role code said in words."""
    ja, en = err.message_ja, err.message_en
    if err.code == "role_not_permitted":
        role_ja, role_en = (labels.value("role", who.actor.role.value, lang) for lang in ("ja", "en"))
        ja = labels.label("web_audit.refused_role", "ja").format(role=role_ja)
        en = labels.label("web_audit.refused_role", "en").format(role=role_en)
    data = pages.page_context(
        request, who, status=err.http_status, message_ja=ja, message_en=en, rule_id=err.rule_id, errors=[]
    )
    return templating.render(request, "web/audit_error.html", data, status_code=err.http_status)


def _csrf_refused(request: Request, who: Principal) -> HTMLResponse:
    err = PolicyDenied(
        labels.label("web_audit.csrf", "ja"), labels.label("web_audit.csrf", "en"), code="csrf_rejected"
    )
    return _refused(request, who, err)


def _invalid(request: Request, who: Principal, errors: list[str]) -> HTMLResponse:
    """422: which filter is wrong, in words (the value typed is never echoed)."""
    lang = _lang(request)
    data = pages.page_context(
        request,
        who,
        status=422,
        message_ja=labels.label("web_audit.invalid", "ja"),
        message_en=labels.label("web_audit.invalid", "en"),
        rule_id=None,
        errors=[labels.label(f"web_audit_invalid.{e}", lang) for e in errors],
    )
    return templating.render(request, "web/audit_error.html", data, status_code=422)


# -- the filter ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """What the list is narrowed to: opaque ids, codes and JST calendar days only."""

    customer: str = ""
    staff: str = ""
    action: str = ""
    decision: str = ""
    since: date | None = None
    until: date | None = None

    def query(self, **extra: str | int) -> dict[str, str]:
        """The query string of this filter (and ``extra``), without empty items."""
        items: dict[str, Any] = {
            "customer": self.customer,
            "staff": self.staff,
            "action": self.action,
            "decision": self.decision,
            "from": self.since.isoformat() if self.since else "",
            "to": self.until.isoformat() if self.until else "",
            **extra,
        }
        return {k: str(v) for k, v in items.items() if v not in ("", None)}

    @property
    def active(self) -> bool:
        return bool(self.query())

    def details(self) -> dict[str, str | int | bool | None]:
        """For the audit entry of this read: the filter's codes and ids (no personal value)."""
        return {k: v for k, v in self.query().items()}


def _day(text: str) -> date | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(text)
    return date.fromisoformat(text)


def parse_filter(params: dict[str, str], staff_ids: Iterable[str]) -> tuple[Filter, list[str]]:
    """The filter from the query string, or the names of the bad items (never their values)."""
    bad: list[str] = []
    customer = params.get("customer", "").strip().lower()
    if customer and not _ID.match(customer):
        bad.append("customer")
    staff = params.get("staff", "").strip()
    if staff and staff not in set(staff_ids):
        bad.append("staff")
    action = params.get("action", "").strip()
    if action and (len(action) > ACTION_MAX or not _ACTION.match(action)):
        bad.append("action")
    decision = params.get("decision", "").strip()
    if decision and decision not in _DECISIONS:
        bad.append("decision")
    days: dict[str, date | None] = {}
    for name in ("from", "to"):
        text = params.get(name, "").strip()
        try:
            days[name] = _day(text) if text else None
        except ValueError:
            bad.append(name)
            days[name] = None
    since, until = days["from"], days["to"]
    if since and until and since > until:
        bad.append("window")
    return Filter(customer, staff, action, decision, since, until), bad


def search(
    ctx: Context, f: Filter, *, before: int | None = None, limit: int = PAGE_SIZE
) -> list[StoredEntry]:
    """The newest entries matching ``f`` with ``seq < before``, newest first, at most ``limit`` (JST days)."""
    return ctx.runtime.audit.search(
        actors=[f"staff:{f.staff}", f"outsourcee:{f.staff}"] if f.staff else (),
        action=f.action or None,
        decision=f.decision or None,
        since=datetime.combine(f.since, time(), JST) if f.since else None,
        until=datetime.combine(f.until + timedelta(days=1), time(), JST) if f.until else None,
        subject_id=f.customer or None,
        before=before,
        limit=limit,
    )


# -- words --------------------------------------------------------------------------------------------------------


class Words:
    """Codes of an entry said in words: actors by name, actions, decisions, purposes and items."""

    def __init__(self, ctx: Context, lang: str) -> None:
        self.lang = lang
        self.staff = {s.id: s for s in staff_service.list_staff(ctx)}
        self.purposes = {
            p.code: (p.title_en if lang == "en" else p.title_ja)
            for p in purposes_service.list_purposes(ctx, include_retired=True)
        }

    def actor(self, label: str) -> str:
        kind, _, ident = label.partition(":")
        user = self.staff.get(ident)
        if kind in ("staff", "outsourcee") and user is not None:
            return user.display_name or user.username
        key = f"web_audit_actor.{kind if ident != 'unknown' else 'unknown'}"
        return labels.label(key, self.lang) if labels.has(key) else label

    def action(self, code: str) -> str:
        return action_words(code, self.lang)

    def decision(self, code: str) -> str:
        return labels.value("audit_decision", code, self.lang)

    def role(self, code: str) -> str:
        return labels.value("role", code, self.lang)

    def purpose(self, code: str | None) -> str:
        if not code:
            return "—"
        return self.purposes.get(code, code)

    def items(self, names: Iterable[str]) -> str:
        words = []
        for f in names:
            keys = (f"field.{f}", f"customer_field.{f}", f"audit_item.{f}")
            words.append(next((labels.label(k, self.lang) for k in keys if labels.has(k)), f))
        return (", " if self.lang == "en" else "、").join(words) or "—"


def action_words(code: str, lang: str) -> str:
    """「顧客情報の閲覧」 for ``customer.read``: the web_audit_action dictionary, else a request's handling step
    (rights_event) or a consent action (consent_action) from their own domains; else the code itself."""
    key = f"web_audit_action.{code}"
    if labels.has(key):
        return labels.label(key, lang)
    head, _, rest = code.partition(".")
    sep = ": " if lang == "en" else "："
    if head == "rights" and labels.has(f"rights_event.{rest}"):
        return labels.label("web_audit_group.rights", lang) + sep + labels.label(f"rights_event.{rest}", lang)
    if head == "consent":
        tail = rest.removeprefix("suppression.")
        if labels.has(f"consent_action.{tail}"):
            return labels.label(f"consent_action.{tail}", lang)
    return code


def action_choices(lang: str) -> list[tuple[str, str]]:
    """The action select: each group (「本人からの請求（すべて）」) and each action with words, sorted by word."""
    codes = sorted(k.split(".", 1)[1] for k in labels.table() if k.startswith("web_audit_action."))
    groups = [
        (g, labels.label(f"web_audit_group.{g}", lang) + labels.label("web_audit.all_of_group", lang))
        for g in _GROUPS
        if labels.has(f"web_audit_group.{g}")
    ]
    return groups + sorted(((c, action_words(c, lang)) for c in codes), key=lambda x: x[1])


# -- pages --------------------------------------------------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request) -> Response:
    """The newest entries, filtered; 50 a page, older ones behind the ``before`` cursor."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    params = dict(request.query_params)
    before_text = params.pop("before", "")
    try:
        with _reading(request, who) as ctx:
            words = Words(ctx, _lang(request))
            f, bad = parse_filter(params, words.staff)
            before = int(before_text) if re.fullmatch(r"[0-9]{1,18}", before_text) else None
            if before_text and before is None:
                bad.append("before")
            if bad:
                return _invalid(request, who, bad)
            rows = search(ctx, f, before=before, limit=PAGE_SIZE + 1)
            record_info(
                ctx,
                "audit.search",
                [f.customer] if f.customer else (),
                details={**f.details(), "before": before, "shown": min(len(rows), PAGE_SIZE)},
            )
    except MamoriError as exc:
        return _refused(request, who, exc)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    lang = _lang(request)
    data = pages.page_context(
        request,
        who,
        rows=rows,
        words=words,
        f=f,
        before=before,
        older=f.query(before=rows[-1].seq) if more and rows else None,
        staff_choices=sorted(
            ((s.id, s.display_name or s.username) for s in words.staff.values()), key=lambda x: x[1]
        ),
        action_choices=action_choices(lang),
        decisions=_DECISIONS,
    )
    name = "web/audit_entries.html" if templating.is_htmx(request) else "web/audit.html"
    return templating.render(request, name, data)


@router.post("/audit/verify", response_class=HTMLResponse)
def verify_page(request: Request, csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    """Recompute every leaf, link, MAC and checkpoint (``mamori audit verify``) and say the result in words."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return _csrf_refused(request, who)
    rt = runtime_of(request)
    try:
        with _reading(request, who):
            pass  # authorised (a refusal is audited and raised)
        rt.drain_outbox()  # writes committed but not yet chained are part of what is checked
        report = audit_verify(
            rt.audit_engine,
            rt.audit.public_key_bytes(),
            rt.anchor_path,
            mac_key=rt.keystore.system_key("audit_mac"),
        )
        with rt.transaction(who.actor, None, lang=_lang(request), readonly=True) as ctx:
            record_info(
                ctx,
                "audit.verify",
                details={
                    "ok": report.ok,
                    "entries": report.entries,
                    "problem": report.problem,
                    "first_bad_seq": report.first_bad_seq,
                },
            )
    except MamoriError as exc:
        return _refused(request, who, exc)
    data = pages.page_context(request, who, report=report)
    name = "web/audit_verify_result.html" if templating.is_htmx(request) else "web/audit_verify.html"
    return templating.render(request, name, data, status_code=200)


_CSV_COLUMNS = (
    "audit_field.seq",
    "audit_field.at",
    "audit_field.actor",
    "staff_field.role",
    "audit_field.action",
    "web_audit_column.action_code",
    "audit_field.decision",
    "audit_field.rules",
    "web_audit_column.subject_count",
    "audit_field.subjects",
    "audit_field.fields",
    "audit_field.purpose",
    "web_audit_column.reason",
)


@router.get("/audit/export.csv")
def export_csv(request: Request) -> Response:
    """The filtered entries as CSV (UTF-8 with BOM), newest first; the export is recorded in the audit log."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return _csrf_refused(request, who)
    params = dict(request.query_params)
    params.pop("before", None)
    lang = _lang(request)
    try:
        with _reading(request, who) as ctx:
            words = Words(ctx, lang)
            f, bad = parse_filter(params, words.staff)
            if bad:
                return _invalid(request, who, bad)
            rows = search(ctx, f, limit=EXPORT_MAX + 1)
            if len(rows) > EXPORT_MAX:
                return _invalid(request, who, ["too_many"])
            record_info(
                ctx,
                "audit.export",
                [f.customer] if f.customer else (),
                details={**f.details(), "rows": len(rows), "format": "csv"},
            )
    except MamoriError as exc:
        return _refused(request, who, exc)
    out = io.StringIO()
    writer = files.csv_writer(out)  # every cell neutralised against formulas
    writer.writerow([labels.label(k, lang) for k in _CSV_COLUMNS])
    for r in rows:
        writer.writerow(
            [
                str(r.seq),
                labels.fmt_datetime(r.at, lang, seconds=True),
                words.actor(r.actor),
                words.role(r.actor_role),
                words.action(r.action),
                r.action,
                words.decision(r.decision),
                " ".join(r.rule_ids),
                str(len(r.subject_ids)),
                " ".join(r.subject_ids),
                words.items(r.fields),
                words.purpose(r.purpose),
                r.reason or "",
            ]
        )
    stamp = runtime_of(request).clock.now().astimezone(JST).strftime("%Y%m%d-%H%M")
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            **templating.PAGE_HEADERS,
            "Content-Disposition": f'attachment; filename="mamori-audit-{stamp}.csv"',
        },
    )
