"""What the provision pages share: the form, transactions, errors in words, the words for the templates."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from mamori.kernel.clock import JST
from mamori.kernel.context import Context
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import lang_of, render
from mamori.kernel.labels import fmt_date, has, label, value, values
from mamori.law.rules import rule
from mamori.provision.schemas import (
    CounterpartyRead,
    Refusal,
)
from mamori.provision.service.common import can_manage
from mamori.purposes import service as purposes_service

_ID = re.compile(r"^[0-9a-f]{32}$")
BASES = ("consent", "exception", "opt_out", "joint_use", "entrustment", "succession")
DIRECTIONS = ("provided", "received")
MAX_TEXT = 10000
MAX_FILE = 5_000_000  # bytes, as the API's receipt body
# Persons listed on the preview and result pages, records on the records page (the counts are always exact).
SHOWN = 500


async def _form(request: Request) -> FormData:
    """The urlencoded forms of these pages take no file (a file part would be refused, never spooled to disk)."""
    return await request.form(max_files=0)


Form_ = Annotated[FormData, Depends(_form)]


# -- the signed-in user, transactions, errors ----------------------------------------------------------------------


def _lang(request: Request) -> str:
    return lang_of(request)


@contextmanager
def _transaction(request: Request, who: Principal, *, readonly: bool = False) -> Iterator[Context]:
    with runtime_of(request).transaction(who.actor, None, lang=_lang(request), readonly=readonly) as ctx:
        yield ctx


def _text(form: FormData, name: str, limit: int = MAX_TEXT) -> str:
    raw = form.get(name)
    if not isinstance(raw, str):
        return ""
    return raw.replace("\r\n", "\n").replace("\r", "\n").strip()[: limit + 1]


def _word(name: str, lang: str) -> str:
    for domain in ("web_provision_field", "provision_field", "field", "input_field"):
        if has(f"{domain}.{name}"):
            return label(f"{domain}.{name}", lang)
    return name


def _field_word(field: str, lang: str) -> str:
    """A form field's label: this screen's words, then provision.toml's, then the shared dictionary; a nested
    field as 「法第27条第1項の例外の判断者」 (list positions left out)."""
    parts = [p for p in field.split(".") if p and not p.isdigit()]
    if not parts:
        return label("validation.request", lang)
    return (" " if lang == "en" else "の").join(_word(p, lang) for p in parts)


def _errors_of(exc: ValidationError, lang: str) -> list[dict[str, str]]:
    """Pydantic's errors as lines in words (field label: reason), never the value."""
    out = pages.form_errors(exc, lang)
    for e in out:
        e["label"] = _field_word(e["field"], lang)
    return out


def _error(name: str, key: str, lang: str, **fmt: Any) -> dict[str, str]:
    return {
        "field": name,
        "label": _field_word(name, lang),
        "message": label(f"web_provision.{key}", lang).format(**fmt),
    }


def _problem(request: Request, who: Principal, exc: MamoriError) -> dict[str, Any]:
    """A service's refusal shown on a form: the message in words (a role refusal names the role), the rule id."""
    lang = _lang(request)
    message = exc.message(lang)
    if exc.code == "role_not_permitted":
        message = label("web.not_permitted", lang).format(role=value("role", who.actor.role.value, lang))
    return {"status": exc.http_status, "message": message, "rule_id": exc.rule_id, "errors": []}


def _invalid(request: Request, errors: list[dict[str, str]]) -> dict[str, Any]:
    return {"status": 422, "message": label("web.invalid", _lang(request)), "rule_id": None, "errors": errors}


def _day(
    form_value: str, name: str, lang: str, errors: list[dict[str, str]], *, end: bool = False
) -> datetime | None:
    """A date typed as 2026-12-06 (full-width digits accepted) → midnight JST (``end``: the next midnight)."""
    if not form_value:
        return None
    text = unicodedata.normalize("NFKC", form_value).strip().replace("/", "-")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors.append(_error(name, "bad_date", lang))
        return None
    if not 1990 <= day.year <= 2200:
        errors.append(_error(name, "bad_date", lang))
        return None
    start = datetime.combine(day, time(0), tzinfo=JST)
    return start + timedelta(days=1) if end else start


# -- words for the templates (no rule: the service has decided) ----------------------------------------------------


def country_words(code: str | None, lang: str) -> str:
    """「日本」 / 「アメリカ合衆国（US）」: the country's name where the dictionary has it, with its code abroad."""
    if not code:
        return "—"
    if not has(f"country.{code}"):
        return code
    return value("country", code, lang, staff=code != "JP")


def alert_words(alert: str, cp: CounterpartyRead, lang: str) -> tuple[str, str]:
    """(words, rule id) of one of the service's alerts (「R-28-3: 年次確認の期限切れ / yearly review overdue」)."""
    rule_id, _, text = alert.partition(": ")
    ja, _, en = text.partition(" / ")
    if rule_id == "R-28-3" and cp.system_stopped:
        return label("web_provision_alert.system_stopped", lang), rule_id
    if rule_id == "R-28-3":
        words = label("web_provision_alert.review_overdue", lang)
        if cp.system_review_due is not None:
            due = label("web_provision.review_due_at", lang).format(
                date=_fmt_date(cp.system_review_due, lang)
            )
            words = f"{words}（{due}）" if lang != "en" else f"{words} ({due})"
        return words, rule_id
    if rule_id == "R-28-2":
        return label("web_provision_alert.no_sheet", lang), rule_id
    return (en or ja) if lang == "en" else ja, rule_id


def _fmt_date(at: datetime, lang: str) -> str:
    return fmt_date(at, lang)


def reason_words(r: Refusal, lang: str) -> str:
    """Why a person may not be provided, in plain words (the rule id is shown beside it)."""
    key = r.reason
    if key == "foreign":
        key = "foreign_" + r.rule_id.lower().replace("-", "_")
    if has(f"web_provision_reason.{key}"):
        return label(f"web_provision_reason.{key}", lang)
    try:
        found = rule(r.rule_id)
    except Exception:  # an unknown rule id: say the code rather than fail the page
        return r.reason
    return found.title_en if lang == "en" else found.title_ja


def items_words(items: list[str], lang: str) -> str:
    """「氏名、メールアドレス、属性: 会員ランク」 — the fields of a person in words."""
    words = []
    for item in items:
        if item.startswith("attr:"):
            words.append(f"{label('field.attributes', lang, default='属性')}: {item[5:]}")
        else:
            words.append(label(f"field.{item}", lang, default=item))
    return (", " if lang == "en" else "、").join(words)


def _common(request: Request, who: Principal, **extra: Any) -> dict[str, Any]:
    lang = _lang(request)
    titles: dict[str, str] = extra.pop("titles", None) or {}
    return pages.page_context(
        request,
        who,
        country_words=lambda c: country_words(c, lang),
        alert_words=lambda a, cp: alert_words(a, cp, lang),
        reason_words=lambda r: reason_words(r, lang),
        items_words=lambda items: items_words(items, lang),
        values=values,
        w=lambda key, **fmt: (
            label(f"web_provision.{key}", lang).format(**fmt) if fmt else label(f"web_provision.{key}", lang)
        ),
        f=lambda key: _field_word(key, lang),
        purpose_word=lambda code: (titles.get(code) or code) if code else "—",
        shown=SHOWN,
        **extra,
    )


def _purpose_titles(ctx: Context, lang: str) -> dict[str, str]:
    """Purpose code → its title (retired ones too: records outlive a purpose)."""
    return {
        p.code: p.title_en if lang == "en" else p.title_ja
        for p in purposes_service.list_purposes(ctx, include_retired=True)
    }


def _page(request: Request, who: Principal, name: str, status: int = 200, **extra: Any) -> HTMLResponse:
    return render(request, f"provision/{name}", _common(request, who, **extra), status_code=status)


def _may_manage(request: Request, who: Principal) -> MamoriError | None:
    """The service's own check for a write (audited when it refuses), for pages that only show a form."""
    try:
        with _transaction(request, who, readonly=True) as ctx:
            can_manage(ctx)
    except MamoriError as exc:
        return exc
    return None
