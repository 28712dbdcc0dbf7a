"""Web pages of data quality and confirmations (issue 21, R-22-1) — thin: parse, call the services, render.

- ``GET  /quality[?days=N]`` — the score of the customers in your scope: overall, a bar per part, the
  distribution, the lowest scores by id; and the records due for confirmation, each with a 確認済みにする button.
- ``POST /quality/confirm/{id}`` — htmx (or a plain form): the staff member confirmed the data with the person,
  for the purpose chosen on the page (``customers.service.accuracy.confirm``: a customer update, audited
  ``customer.confirm``); answers the row, now confirmed.
- ``GET  /quality/customers/{id}`` — htmx fragment for the customer page: 最終確認日 (with 和暦) and the
  customer's score.

Nothing personal is in any URL or page here: ids, dates, scores and codes. Every POST needs the session's CSRF
token; every page carries the CSP and ``no-store``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from mamori.customers.service import accuracy
from mamori.kernel.clock import JST, ensure_aware
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import is_htmx, lang_of, render
from mamori.kernel.labels import label
from mamori.kernel.wareki import to_wareki
from mamori.lifecycle.schemas import QUALITY_PARTS, CustomerQuality
from mamori.lifecycle.service import quality
from mamori.purposes import service as purposes_service
from mamori.purposes.schemas import PurposeRead

router = APIRouter(include_in_schema=False)

_ID = re.compile(r"^[0-9a-f]{32}$")
_PURPOSE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
DUE_SHOWN = 50
PART_WORDS = {
    "completeness": ("完全性（必要な項目がそろっている）", "Completeness (expected items present)"),
    "validity": (
        "妥当性（電話・メール・郵便番号・フリガナ・生年月日）",
        "Validity (phone, e-mail, postal code, kana, birth date)",
    ),
    "duplicates": (
        "重複なし（メール・電話を他の顧客と共有していない）",
        "No duplicates (no e-mail or phone shared)",
    ),
    "staleness": ("鮮度（期間内に本人に確認済み）", "Freshness (confirmed within the period)"),
}
ISSUE_WORDS = {
    "phone_invalid": ("電話番号が無効", "invalid phone number"),
    "email_invalid": ("メールアドレスの形式が不正", "invalid e-mail address"),
    "postal_code_invalid": ("郵便番号の形式が不正", "postal code not 7 digits"),
    "postal_code_unknown": ("存在しない郵便番号", "unknown postal code"),
    "postal_prefecture_mismatch": (
        "郵便番号と住所の都道府県が不一致",
        "postal code outside the address's prefecture",
    ),
    "kana_not_katakana": ("フリガナがカタカナでない", "kana not in katakana"),
    "birth_date_implausible": ("生年月日がありえない", "implausible birth date"),
    "duplicate_email": ("メールアドレスが他の顧客と重複", "e-mail shared with another customer"),
    "duplicate_phone": ("電話番号が他の顧客と重複", "phone shared with another customer"),
    "due_for_confirmation": ("確認が必要", "due for confirmation"),
    "missing_name": ("氏名なし", "no name"),
    "missing_kana": ("フリガナなし", "no kana"),
    "missing_birth_date": ("生年月日なし", "no birth date"),
    "missing_postal_code": ("郵便番号なし", "no postal code"),
    "missing_address": ("住所なし", "no address"),
    "missing_contact": ("電話・メールなし", "no phone or e-mail"),
}


def wareki_of(at: datetime | None) -> str:
    """The JST calendar day of ``at`` in 和暦: 令和8年12月7日 ("" for none)."""
    if at is None:
        return ""
    return to_wareki(ensure_aware(at).astimezone(JST).date())


def issue_codes(c: CustomerQuality) -> list[str]:
    """The codes of a customer's issues, in the order the page lists them."""
    codes = [f"missing_{m}" for m in c.missing] + list(c.invalid) + [f"duplicate_{k}" for k in c.shared]
    return codes + (["due_for_confirmation"] if c.due else [])


def _purposes(request: Request, who: Principal) -> list[PurposeRead]:
    with runtime_of(request).transaction(who.actor, None, lang=lang_of(request), readonly=True) as ctx:
        return purposes_service.list_purposes(ctx, include_retired=False)


def _words(**extra: Any) -> dict[str, Any]:
    return {
        "parts": QUALITY_PARTS,
        "part_words": PART_WORDS,
        "issue_words": ISSUE_WORDS,
        "wareki": wareki_of,
        "issue_codes": issue_codes,
        **extra,
    }


@router.get("/quality", response_class=HTMLResponse)
def quality_page(request: Request, days: str = "365") -> Response:
    """The data-quality report and the records due for confirmation (the user's scope)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    lang = lang_of(request)
    if not days.isdigit() or not 1 <= int(days) <= 3650:
        return pages.error_page(
            request,
            who,
            422,
            label("web.invalid", lang),
            errors=[{"field": "days", "label": "days", "message": "1〜3650" if lang != "en" else "1-3650"}],
            back="/quality",
        )
    period = int(days)
    try:
        with runtime_of(request).transaction(who.actor, None, lang=lang, readonly=True) as ctx:
            report = quality.report(ctx, period_days=period, worst=20)
            due = accuracy.unconfirmed(ctx, older_than_days=period, limit=DUE_SHOWN)
            due_total = accuracy.count_unconfirmed(ctx, older_than_days=period)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/")
    data = pages.page_context(
        request,
        who,
        **_words(
            report=report,
            due=due,
            due_total=due_total,
            period=period,
            purposes=_purposes(request, who),
        ),
    )
    return render(request, "lifecycle/quality.html", data)


@router.post("/quality/confirm/{cid}", response_class=HTMLResponse)
def confirm(
    request: Request,
    cid: str,
    csrf: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
) -> Response:
    """確認済みにする: the data was confirmed with the person (a customer update for ``purpose``, audited)."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _ID.match(cid):
        return pages.not_found(request, who)
    lang = lang_of(request)
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    if not _PURPOSE.match(purpose):
        return pages.error_page(
            request,
            who,
            422,
            label("web.invalid", lang),
            errors=[
                {
                    "field": "purpose",
                    "label": label("field.purpose", lang),
                    "message": "確認した利用目的を選んでください" if lang != "en" else "choose the purpose",
                }
            ],
            back="/quality",
        )
    try:
        with runtime_of(request).transaction(who.actor, purpose, lang=lang) as ctx:
            done = accuracy.confirm(ctx, cid)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/quality")
    data = pages.page_context(request, who, **_words(row=done))
    name = "lifecycle/quality_confirmed.html" if is_htmx(request) else "lifecycle/quality_confirmed_page.html"
    return render(request, name, data)


@router.get("/quality/customers/{cid}", response_class=HTMLResponse)
def customer_quality(request: Request, cid: str, days: str = "365") -> Response:
    """The customer page's block (htmx): 最終確認日 (和暦 too) and this customer's score."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _ID.match(cid) or not days.isdigit() or not 1 <= int(days) <= 3650:
        return pages.not_found(request, who)
    lang = lang_of(request)
    try:
        with runtime_of(request).transaction(who.actor, None, lang=lang, readonly=True) as ctx:
            score = quality.customer_score(ctx, cid, period_days=int(days))
    except MamoriError as exc:
        if exc.code == "role_not_permitted":  # a role without the report (support): the page keeps its link
            return Response(status_code=204)
        return pages.refusal(request, who, exc, back=f"/customers/{cid}")
    data = pages.page_context(request, who, **_words(c=score, period=int(days)))
    return render(request, "lifecycle/quality_customer.html", data)
