"""Handing over the provided data once (提供データのダウンロード).

``service.provide`` returns the export (customer id + the allowed fields) but the wizard redirects to the result
page (Post/Redirect/Get). The rows are kept here in this process's memory only — never on disk, never in the
database — under the provision id, bound to the staff member and the session that provided, for 30 minutes at
most and in a bounded store. The result page offers ``POST /provision/provisions/{pid}/export`` (with the CSRF
token) once: it returns the CSV and drops the rows; a second download, another user or session, an expired or an
unknown id get the 404 page saying the download is one-time and the data was not kept. The download is audited
(``provision.export.download``: the customer ids, the provision id and the row count — never a value).
"""

from __future__ import annotations

import io
import secrets
import threading
import time
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from mamori.kernel import files
from mamori.kernel.auditing import record_info
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal
from mamori.kernel.http.templating import PAGE_HEADERS
from mamori.kernel.labels import label
from mamori.provision.service import records as records_service
from mamori.provision.web.common import _ID, _lang, _text, _transaction

router = APIRouter(include_in_schema=False)

EXPORT_TTL_SECONDS = 30 * 60
MAX_HELD = 32  # provisions held at once; the oldest is dropped first
MAX_HELD_ROWS = 500_000  # rows held at once, all provisions together
DONE_TTL_SECONDS = (
    24 * 60 * 60
)  # how long the result page remembers "handed over" (an id and a time, no data)
AUDIT_ACTION = "provision.export.download"


def _now() -> float:
    return time.monotonic()


@dataclass
class Held:
    provision_id: str
    staff_id: str
    session: bytes
    fields: list[str]
    rows: list[dict[str, str | None]]
    created: float


class _Exports:
    """In-process and in-memory only; a restart forgets it (the provision records in the database remain)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.held: dict[str, Held] = {}
        self.handed: dict[str, tuple[str, float]] = {}  # provision id → (staff id, when): no data

    def _prune(self) -> None:
        now = _now()
        for pid in [h.provision_id for h in self.held.values() if now - h.created > EXPORT_TTL_SECONDS]:
            del self.held[pid]
        for pid in [p for p, (_, at) in self.handed.items() if now - at > DONE_TTL_SECONDS]:
            del self.handed[pid]

    def keep(self, held: Held) -> bool:
        """Hold an export; False when it alone is over the bound (nothing is kept then)."""
        if len(held.rows) > MAX_HELD_ROWS:
            return False
        with self.lock:
            self._prune()
            self.held[held.provision_id] = held
            oldest = sorted(self.held.values(), key=lambda h: h.created)
            while len(self.held) > MAX_HELD or sum(len(h.rows) for h in self.held.values()) > MAX_HELD_ROWS:
                del self.held[oldest.pop(0).provision_id]
            return held.provision_id in self.held

    def holds(self, pid: str, who: Principal) -> bool:
        with self.lock:
            self._prune()
            h = self.held.get(pid)
            return h is not None and _owned(h, who)

    def take(self, pid: str, who: Principal) -> Held | None:
        """The export, removed from memory (one time), if it is this user's and this session's."""
        with self.lock:
            self._prune()
            h = self.held.get(pid)
            if h is None or not _owned(h, who):
                return None
            del self.held[pid]
            self.handed[pid] = (who.actor.id, _now())
            while len(self.handed) > 10 * MAX_HELD:
                del self.handed[next(iter(self.handed))]
            return h

    def handed_over(self, pid: str, who: Principal) -> bool:
        with self.lock:
            self._prune()
            found = self.handed.get(pid)
            return found is not None and found[0] == who.actor.id

    def clear(self) -> None:
        with self.lock:
            self.held.clear()
            self.handed.clear()


def _owned(h: Held, who: Principal) -> bool:
    return h.staff_id == who.actor.id and secrets.compare_digest(h.session, who.session_token_hash or b"")


EXPORTS = _Exports()


def hold(who: Principal, provision_id: str, fields: list[str], rows: list[dict[str, str | None]]) -> bool:
    """Called by the wizard right after ``service.provide`` succeeded."""
    return EXPORTS.keep(
        Held(
            provision_id=provision_id,
            staff_id=who.actor.id,
            session=who.session_token_hash or b"",
            fields=list(fields),
            rows=rows,
            created=_now(),
        )
    )


def state_of(pid: str, who: Principal) -> str:
    """For the result page: ``held`` (the download form), ``handed`` (downloaded) or ``not_held``."""
    if EXPORTS.holds(pid, who):
        return "held"
    return "handed" if EXPORTS.handed_over(pid, who) else "not_held"


def to_csv(fields: list[str], rows: list[dict[str, str | None]]) -> bytes:
    """UTF-8 with a BOM (Excel opens it in Japanese), the header ``customer_id`` + the fields; cells a spreadsheet
    would run as a formula get a leading ``'`` (kernel.files)."""
    buf = io.StringIO()
    columns = ["customer_id", *fields]
    writer = files.csv_writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


@router.post("/provision/provisions/{pid}/export", response_class=HTMLResponse)
async def download(request: Request, pid: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    form = await request.form(max_files=0, max_fields=10)
    if not pages.csrf_ok(request, who, _text(form, "csrf", 200)):
        return pages.csrf_refused(request, who)  # the export stays held
    return await run_in_threadpool(_download, request, who, pid)


def _download(request: Request, who: Principal, pid: str) -> Response:
    back = f"/provision/provisions/{pid}" if _ID.match(pid) else "/provision/records"
    gone = label("web_provision.export_gone", _lang(request))
    held = EXPORTS.take(pid, who) if _ID.match(pid) else None
    if held is None:  # downloaded already, another user's or session's, expired, unknown: one page
        return pages.not_found(request, who, gone, back=back)
    try:
        with _transaction(request, who) as ctx:
            records_service.show_provision(ctx, pid)  # still allowed to read this provision (audited)
            record_info(
                ctx,
                AUDIT_ACTION,
                [str(r["customer_id"]) for r in held.rows],
                {"provision_id": pid, "rows": len(held.rows)},
            )
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back=back)
    body = to_csv(held.fields, held.rows)
    held.rows = []
    headers = {
        **PAGE_HEADERS,
        "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="provision-{pid[:8]}.csv"',
    }
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
