"""The acquisition costs screen (issue 24, item 4: the CAC's numerator) — thin: parse, call the costs service, render.

- ``GET  /analytics/costs[?added=<id>]`` — every cost line, newest first: the lines that count and the ones a later
  line for the same channel, campaign and period superseded (a correction is a new line; lines are never changed),
  then the form to add one. ``added`` (a line's id, put there by the redirect after a POST) shows 「登録しました」.
- ``POST /analytics/costs`` — adds a line through :func:`costs_service.add_cost` (which checks the channel is in use
  or the campaign exists, the period, the amount, and that the note names no one; audited ``analytics.cost_add``),
  then redirects to the list (post / redirect / get). Bad input re-renders the form (422) with each field's error in
  words and the service's code, the values entered kept — except a note refused for personal data, never shown back.

Who: the service's ``analytics.costs`` (the analyst and the privacy officer), for the list and for adding; any other
role gets the app's refusal page with its rule id (R-23-2, audited by the service). Every POST needs the session's
CSRF token. Nothing on this page is personal data: channels, campaign codes, dates, amounts, staff labels.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mamori.analytics.kpi_schemas import CAMPAIGN, CostIn, CostRead
from mamori.analytics.service import costs as costs_service
from mamori.analytics.web.kpi import _subnav, parse_day
from mamori.customers import queries as customers_queries
from mamori.kernel import validation
from mamori.kernel.errors import MamoriError, ValidationFailed
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import lang_of, render

router = APIRouter(include_in_schema=False)

PAGE = "analytics/costs.html"
URL = "/analytics/costs"
_ID = re.compile(r"^[0-9a-f]{32}$")
#: ``CostIn``'s field that takes what the form's ``campaign`` box holds.
CAMPAIGN_FIELD = "campaign_id"
FIELDS = ("channel", "campaign", "period_start", "period_end", "amount_yen", "note")
#: How long a value is kept when the form comes back (longer input is refused by the schema all the same).
KEEP = {"channel": 32, "campaign": 64, "period_start": 20, "period_end": 20, "amount_yen": 24, "note": 1000}
FIELD_WORDS = {
    "channel": ("経路", "Channel"),
    "campaign": ("キャンペーン", "Campaign"),
    "period_start": ("期間の開始日", "Period start"),
    "period_end": ("期間の終了日", "Period end"),
    "amount_yen": ("金額（円）", "Amount (yen)"),
    "note": ("メモ", "Note"),
}
#: The service's error codes -> the form field they are about.
CODE_FIELD = {
    "bad_date": "period_start",
    "period_reversed": "period_end",
    "bad_amount": "amount_yen",
    "campaign_required": "campaign",
    "unknown_campaign": "campaign",
    "campaign_not_expected": "campaign",
    "unknown_channel": "channel",
    "personal_data_in_text": "note",
    "bad_campaign_code": "campaign",
}
#: Codes whose refused value is never shown back (it may be a person's name, e-mail address or phone number).
NOT_SHOWN_BACK = {"personal_data_in_text": "note", "bad_campaign_code": "campaign"}
#: The schema's field names -> the form's.
SCHEMA_FIELD = {CAMPAIGN_FIELD: "campaign"}


def _t(lang: str, ja: str, en: str) -> str:
    return en if lang == "en" else ja


def yen(amount: int, lang: str) -> str:
    """12,345円 / JPY 12,345 (0 is a line that cancels an earlier one: 0円, not 無料)."""
    return f"JPY {amount:,}" if lang == "en" else f"{amount:,}円"


def _error(
    field: str, lang: str, message: str, code: str | None = None, rule_id: str | None = None
) -> dict[str, str]:
    words = FIELD_WORDS.get(field, ("入力", "Input"))
    return {
        "field": field,
        "label": _t(lang, *words),
        "message": message,
        "code": code or "",
        "rule_id": rule_id or "",
    }


def _refused(exc: ValidationFailed, lang: str) -> dict[str, str]:
    """A refusal of the schema or the service, on the field it is about, with its code and rule id."""
    return _error(CODE_FIELD.get(exc.code, ""), lang, exc.message(lang), exc.code, exc.rule_id)


def parse_cost_form(form: dict[str, str], lang: str) -> tuple[CostIn | None, list[dict[str, str]]]:
    """The service's input from the form, or the fields that are wrong (in words, never the value).

    Dates as 2026-01-31 (also 2026/1/31, 2026年1月31日, full-width digits); the amount a whole number of yen, 1 or
    more (commas, 円 and full-width digits accepted). The rest — the channel in use, the campaign, the period's order
    and range, the note — is the schema's and the service's to check."""
    errors: list[dict[str, str]] = []
    channel = form.get("channel", "").strip()
    if not channel:
        errors.append(_error("channel", lang, _t(lang, "経路を選んでください。", "Choose a channel.")))
    days = {}
    for name in ("period_start", "period_end"):
        text = form.get(name, "").strip()
        day = parse_day(text) if text and len(text) <= 20 else None
        if day is None:
            errors.append(
                _error(
                    name,
                    lang,
                    _t(lang, "日付を 2026-01-31 の形で入力してください。", "Enter a date as 2026-01-31."),
                )
            )
        days[name] = day
    amount_text = unicodedata.normalize("NFKC", form.get("amount_yen", "")).strip()
    amount_text = amount_text.replace(",", "").removesuffix("円").removeprefix("¥").strip()
    amount = (
        int(amount_text) if amount_text.isascii() and amount_text.isdigit() and len(amount_text) <= 16 else 0
    )
    if amount < 1:
        errors.append(
            _error(
                "amount_yen",
                lang,
                _t(
                    lang,
                    "金額は 1 円以上の整数で入力してください。",
                    "Enter the amount as a whole number of yen, 1 or more.",
                ),
            )
        )
    if errors:
        return None, errors
    note = form.get("note", "").strip()
    campaign = form.get("campaign", "").strip()
    try:
        data = CostIn.model_validate(
            {
                "channel": channel,
                CAMPAIGN_FIELD: campaign or None,
                "period_start": days["period_start"],
                "period_end": days["period_end"],
                "amount_yen": amount,
                "note": note or None,
            }
        )
    except ValidationFailed as exc:  # the schema's own check of the campaign code (bad_campaign_code)
        return None, [_refused(exc, lang)]
    except ValidationError as exc:
        for err in exc.errors(include_input=False, include_url=False):
            loc = [p for p in err.get("loc", ()) if isinstance(p, str)]
            field = (
                SCHEMA_FIELD.get(loc[0], loc[0]) if loc else "period_end"
            )  # the model's own check: the period
            errors.append(_error(field if field in FIELD_WORDS else "", lang, validation.reason(err, lang)))
        return None, errors
    return data, errors


def _kept(form: dict[str, str], errors: list[dict[str, str]]) -> dict[str, str]:
    """What goes back into the form: each value cut to its field's length (what is shown is escaped) — but not a
    value refused because it may name a person."""
    hidden = {NOT_SHOWN_BACK[e["code"]] for e in errors if e.get("code") in NOT_SHOWN_BACK}
    return {k: "" if k in hidden else form.get(k, "")[: KEEP[k]] for k in FIELDS}


def _page(
    request: Request,
    who: Principal,
    *,
    chosen: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    added: str | None = None,
    status: int = 200,
) -> Response:
    """The list and the form; a role without ``analytics.costs`` gets the refusal (audited by the service)."""
    lang = lang_of(request)
    try:
        with runtime_of(request).transaction(who.actor, None, lang=lang, readonly=True) as ctx:
            lines = costs_service.list_costs(ctx)
            # what the service accepts (the queries it validates against): codes, never a person
            channels = [str(c) for c in ctx.session.execute(customers_queries.channels_in_use()).scalars()]
            campaigns = [str(c) for c in ctx.session.execute(customers_queries.campaigns_in_use()).scalars()]
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/analytics")
    shown: CostRead | None = next((r for r in lines if r.id == added), None) if added else None
    data = pages.page_context(
        request,
        who,
        lines=lines,
        counted=sum(1 for r in lines if not r.superseded),
        channels=channels,
        campaigns=campaigns,
        campaign_channel=CAMPAIGN,
        campaign_field=CAMPAIGN_FIELD,
        chosen=chosen or {},
        errors=errors or [],
        error_fields={e["field"] for e in errors or []},
        added=shown,
        yen=yen,
        subnav=_subnav(who),
    )
    return render(request, PAGE, data, status_code=status)


@router.get(URL, response_class=HTMLResponse)
def costs_page(request: Request, added: str = "") -> Response:
    """Every cost line (newest first, superseded ones marked) and the form to add one."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    return _page(request, who, added=added if _ID.match(added) else None)


@router.post(URL, response_class=HTMLResponse)
def add_cost(
    request: Request,
    csrf: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "",
    campaign: Annotated[str, Form()] = "",
    period_start: Annotated[str, Form()] = "",
    period_end: Annotated[str, Form()] = "",
    amount_yen: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Add a cost line (``analytics.costs``), then show the list again with the line marked as added."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, csrf):
        return pages.csrf_refused(request, who)
    lang = lang_of(request)
    form = {
        "channel": channel,
        "campaign": campaign,
        "period_start": period_start,
        "period_end": period_end,
        "amount_yen": amount_yen,
        "note": note,
    }
    data, errors = parse_cost_form(form, lang)
    if data is None:
        return _page(request, who, chosen=_kept(form, errors), errors=errors, status=422)
    try:
        with runtime_of(request).transaction(who.actor, None, lang=lang) as ctx:
            row = costs_service.add_cost(ctx, data)
    except ValidationFailed as exc:
        errors = [_refused(exc, lang)]
        return _page(request, who, chosen=_kept(form, errors), errors=errors, status=422)
    except MamoriError as exc:
        return pages.refusal(request, who, exc, back="/analytics")
    return RedirectResponse(f"{URL}?added={row.id}", status_code=303)
