"""Every text the rights slice sends to the person: the 通知書 (disclosure letter) and the e-mails.

Each text is a Jinja2 template under ``mamori/rights/templates/rights/``; an operator overrides one by putting a
file of the same name under ``$MAMORI_HOME/templates/rights/`` (looked up first). E-mail templates
(``email_*.<lang>.txt.j2``) give the subject on their first line and the body after a blank line; each has an HTML
twin (``email_*.<lang>.html.j2``, autoescaped, the same words, no style, image or tracking) for the HTML part of the
mail; an override of one part does not need the other. The letter (``letter.html.j2``) is HTML, and the PDF is
drawn from the same :func:`letter_context`.

What every text carries: the sender (事業者名 in the subject and the body; address, representative and 窓口 from
the settings — a clear placeholder such as 「（事業者名未設定）」 when one is not configured), the 受付番号
(R-2026-000123, never the internal id), the request and the date it was received, the answer, the article it
rests on (the statute, never a rule id) and the 窓口 for questions and complaints. Words come from the label
dictionary (mamori.kernel.labels); dates are 2026年12月6日, times JST with the zone, amounts 12,345円. Japanese by
default; English when the person made the request in English (``RightsRequest.lang``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from mamori.kernel import labels
from mamori.kernel.context import Context
from mamori.kernel.errors import MamoriError
from mamori.kernel.settings import Settings, get_settings
from mamori.law.articles import cite
from mamori.law.rules import G_19
from mamori.rights import grounds as grounds_mod
from mamori.rights.grounds import GROUNDS, Ground
from mamori.rights.models import RightsRequest
from mamori.rights.schemas import DisclosurePackage, Outcome, RecordOut, rule_for

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
OVERRIDE_DIR = "templates"  # under MAMORI_HOME: templates/rights/<name> overrides the shipped template

_PLACEHOLDER = {
    "ja": {
        "name": "（事業者名未設定）",
        "address": "（所在地未設定）",
        "representative": "（代表者未設定）",
        "contact": "（お問い合わせ窓口未設定）",
    },
    "en": {
        "name": "(operator name not set)",
        "address": "(address not set)",
        "representative": "(representative not set)",
        "contact": "(privacy contact not set)",
    },
}


# -- templates ---------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _environment(override: str) -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(override), FileSystemLoader(str(TEMPLATES))]),
        autoescape=select_autoescape(enabled_extensions=("html.j2", "html"), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        cache_size=0,  # an override put in place while running is used at once
    )
    env.filters["date"] = labels.fmt_date
    env.filters["datetime"] = labels.fmt_datetime
    env.filters["yen"] = labels.fmt_yen
    return env


def environment(settings: Settings) -> Environment:
    """The template environment: ``$MAMORI_HOME/templates`` first, then the templates shipped with mamori."""
    return _environment(str(settings.home_path / OVERRIDE_DIR))


def _lang(lang: str | None) -> str:
    return "en" if lang == "en" else "ja"


@dataclass(frozen=True)
class Email:
    """One e-mail as rendered: the subject, the plain text and the HTML part (the same words)."""

    subject: str
    text: str
    html: str
    lang: str = "ja"


def _email(settings: Settings, name: str, **values: Any) -> Email:
    """Render ``rights/<name>.<lang>.txt.j2`` (the first line is the subject, the rest after a blank line the
    body) and its HTML twin ``rights/<name>.<lang>.html.j2`` (given the subject as ``subject``)."""
    lang = _lang(values.get("lang"))
    env = environment(settings)
    text = env.get_template(f"rights/{name}.{lang}.txt.j2").render(**values)
    subject, _, body = text.lstrip("\n").partition("\n")
    subject = subject.strip()
    html = env.get_template(f"rights/{name}.{lang}.html.j2").render(subject=subject, **values)
    return Email(subject=subject, text=body.strip("\n") + "\n", html=html.strip("\n") + "\n", lang=lang)


DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def public_url(settings: Settings, path: str) -> str:
    """An address on the privacy center (``public_base_url``, else the development server's). Only opaque ids go
    into a path, never a token or a personal value."""
    base = (settings.public_base_url or DEFAULT_BASE_URL).rstrip("/")
    return f"{base}{path}"


def status_path(request_id: str) -> str:
    """The privacy center's page of one request (the id is random and says nothing; the page asks for the
    person's access details)."""
    return f"/privacy/requests/{request_id}"


# -- the sender and the request ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sender:
    """The business that answers (個人情報取扱事業者) as the settings name it."""

    name: str
    address: str
    representative: str
    contact: str
    configured: bool  # operator_name is set


def sender(settings: Settings, lang: str = "ja") -> Sender:
    ph = _PLACEHOLDER[_lang(lang)]
    return Sender(
        name=settings.operator_name or ph["name"],
        address=settings.operator_address or ph["address"],
        representative=settings.operator_representative or ph["representative"],
        contact=settings.privacy_contact or ph["contact"],
        configured=bool(settings.operator_name),
    )


def request_phrase(kind: str, lang: str = "ja", regime: str = "appi") -> str:
    """「保有個人データの開示」: what the person asked for, as a letter names it (a GDPR request in the
    Regulation's words: 「個人データへのアクセス」)."""
    lang = _lang(lang)
    if regime == "gdpr" and labels.has(f"letter_request.{kind}_gdpr"):
        return labels.label(f"letter_request.{kind}_gdpr", lang)
    return labels.label(f"letter_request.{kind}", lang, default=labels.value("kind", kind, lang))


def data_term(regime: str, lang: str = "ja") -> str:
    """保有個人データ is the Act's term (法第16条第4項); the GDPR speaks of personal data (個人データ)."""
    if _lang(lang) == "en":
        return "personal data" if regime == "gdpr" else "retained personal data"
    return "個人データ" if regime == "gdpr" else "保有個人データ"


def _base(ctx: Context, req: RightsRequest) -> dict[str, Any]:
    lang = _lang(req.lang)
    return {
        "lang": lang,
        "sender": sender(ctx.runtime.settings, lang),
        "receipt_no": req.receipt_no,
        "request": request_phrase(req.kind, lang, req.regime),
        "data_term": data_term(req.regime, lang),
        "received_on": labels.fmt_date(req.received_at, lang),
        "regime": req.regime,
        "today": labels.fmt_date(ctx.clock.now(), lang),
    }


# -- e-mails -----------------------------------------------------------------------------------------------------


def code_email(ctx: Context, req: RightsRequest, code: str, expires_at: datetime) -> Email:
    """The one-time code (R-37-1): who sends it and why, the code, until when it is valid (a clock time in JST),
    not to pass it on, what to do if the request is not theirs. No link to click."""
    lang = _lang(req.lang)
    return _email(
        ctx.runtime.settings,
        "email_code",
        code=code,
        expires=labels.fmt_time(expires_at, lang),
        by_phone=req.channel != "web",  # taken by staff: the person reads the code out to them
        **_base(ctx, req),
    )


def _purpose_title(ctx: Context, code: str | None, lang: str) -> str | None:
    if not code:
        return None
    from mamori.purposes import service as purposes_service  # an earlier slice's public face

    try:
        p = purposes_service.show(ctx, code)
    except MamoriError:  # an unknown or retired purpose: the letter says 「ご指定の利用目的」
        return None
    return p.title_en if lang == "en" and p.title_en else p.title_ja


def _show(field: str, value: Any, lang: str) -> str:
    """A corrected value as the person reads it (dates in Japanese form, codes through the labels)."""
    if value is None or value == "":
        return "（削除）" if lang == "ja" else "(deleted)"
    return format_value(field, value, lang)


def result_notice(
    ctx: Context, req: RightsRequest, outcome: Outcome, *, download_until: date | None = None
) -> Email:
    """The result of a correction, stop of use / provision, erasure (法第34条第3項, 第35条第7項; GDPR 12(3)) —
    and the cover text of a disclosure or purpose notice. One text per kind: what exactly was done. With
    ``download_until`` (a disclosure filed in the privacy center) it says where the answer is downloaded and
    until when."""
    lang = _lang(req.lang)
    corrections = [
        {
            "category": labels.value("record_category", c.category, lang),
            "field": field_label(c.field, lang),
            "before": _show(c.field, c.before, lang),
            "after": _show(c.field, c.after, lang),
        }
        for c in outcome.corrections
    ]
    purpose = _purpose_title(ctx, req.purpose, lang) if req.stop_scope == "purpose" else None
    unverified = outcome.outcome == "partial" and any(r == "R-37-1" for r in outcome.rule_ids)
    return _email(
        ctx.runtime.settings,
        "email_result",
        kind=req.kind,
        scope=req.stop_scope or ("provision" if req.kind == "stop_provision" else "all"),
        purpose=purpose,
        purpose_given=bool(req.purpose),
        corrections=corrections,
        recipients=len(outcome.recipients_to_notify),
        unverified=unverified,
        citation=cite(rule_for(req.kind, req.regime), lang),
        recipients_citation=cite(G_19, lang),
        download_url=public_url(ctx.runtime.settings, status_path(req.id)) if download_until else None,
        download_until=labels.fmt_date(download_until, lang) if download_until else None,
        **_base(ctx, req),
    )


def extension_notice(ctx: Context, req: RightsRequest, new_due: date, reason: str) -> Email:
    """GDPR 12(3): the extension, its new due date and its reason, within the first month."""
    lang = _lang(req.lang)
    return _email(
        ctx.runtime.settings,
        "email_extension",
        new_due=labels.fmt_date(new_due, lang),
        reason=labels.value("extension_reason", reason, lang),
        citation="Art. 12(3) GDPR" if lang == "en" else "GDPR第12条第3項",
        **_base(ctx, req),
    )


def refusal_notice(
    ctx: Context, req: RightsRequest, ground: Ground, explanation: str, alternative: str | None
) -> Email:
    """The refusal (法第32条第3項, 第33条第3項, 第34条第3項, 第35条第7項; 法第36条; GDPR 12(4)): that the request
    will not be answered (or not as asked), the ground's plain reason, the concrete explanation, the alternative
    measure when one is taken (法第35条 ただし書), the article, and where to complain."""
    lang = _lang(req.lang)
    return _email(
        ctx.runtime.settings,
        "email_refusal",
        reason=ground.reason(lang),
        explanation=explanation.strip(),
        alternative=(alternative or "").strip() or None,
        citation=grounds_mod.citation(ground, req.kind, req.regime, lang),
        gdpr=req.regime == "gdpr",
        gdpr_complaint="Art. 12(4) GDPR" if lang == "en" else "GDPR第12条第4項",
        **_base(ctx, req),
    )


def received_notice(ctx: Context, req: RightsRequest) -> Email:
    """受付のお知らせ, sent once the person's address is proven: the receipt number, what was asked, the answer
    deadline (回答期限) and how to follow the request — the privacy center's page for a request filed there (its
    opaque id in the address, never the token), else the 窓口. Nothing in it says whether data was found."""
    lang = _lang(req.lang)
    web = req.channel == "web" and bool(req.token_hash)
    return _email(
        ctx.runtime.settings,
        "email_received",
        due_on=labels.fmt_date(req.extended_due_on or req.due_on, lang),
        status_url=public_url(ctx.runtime.settings, status_path(req.id)) if web else None,
        **_base(ctx, req),
    )


@dataclass(frozen=True)
class DueRow:
    """One line of the staff reminder: no personal data, only what the board shows."""

    receipt_no: str
    kind: str
    due: date
    days_left: int
    state: str | None = None  # an answer waiting for delivery / undelivered / to be posted, in words


def reminder_digest(settings: Settings, rows: Sequence[DueRow], today: date) -> Email:
    """期限が3日以内の請求 — to staff (settings.reminder_to): receipt numbers, kinds, due dates and days left; no
    personal data at all. Japanese, English when the installation's language is English."""
    lang = _lang(settings.lang)

    def left(n: int) -> str:
        if lang == "en":
            return f"{n} day(s) left" if n > 0 else ("due today" if n == 0 else f"{-n} day(s) overdue")
        return f"残り{n}日" if n > 0 else ("本日が期限" if n == 0 else f"{-n}日超過")

    lines = [
        {
            "receipt_no": r.receipt_no,
            "kind": labels.value("kind", r.kind, lang),
            "due": labels.fmt_date(r.due, lang),
            "left": left(r.days_left),
            "state": r.state,
        }
        for r in rows
    ]
    return _email(
        settings,
        "email_reminder",
        lang=lang,
        sender=sender(settings, lang),
        rows=lines,
        today=labels.fmt_date(today, lang),
        board_url=public_url(settings, "/rights"),
    )


# -- the letter (通知書) -----------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_HIDDEN = frozenset({"id", "customer_id", "counterparty_id", "contract_id", "record_id"})  # internal ids
# The words of a field's values: the canonical domain first, then the letter's own.
_DOMAINS: dict[str, tuple[str, ...]] = {
    "gender": ("gender",),
    "label": ("contact_label",),
    "origin": ("country", "letter_country"),
    "country": ("country", "letter_country"),
    "counterparty_country": ("country", "letter_country"),
    "channel": ("acquisition_channel", "letter_channel"),
    "direction": ("letter_direction",),
    "medium": ("letter_medium",),
    "action": ("consent_action", "letter_consent_action"),
}
_BY_CATEGORY: dict[tuple[str, str], tuple[str, ...]] = {
    ("provenance", "method"): ("acquisition_method", "letter_acquisition_method"),
    ("purpose", "method"): ("notice_method", "letter_notice_method"),
    ("consent", "method"): ("consent_method", "letter_consent_method"),
    ("consent", "kind"): ("consent_kind", "letter_consent_kind"),
    ("contact", "kind"): ("identifier",),
    ("activity", "kind"): ("activity_kind", "letter_activity_kind"),
    ("attribute", "category"): ("data_category", "letter_data_category"),
}
_FIELD_LISTS = frozenset({"items", "fields"})  # lists of field names
_PURPOSE_FIELDS = frozenset({"purpose", "purposes", "target"})


def field_label(key: str, lang: str = "ja", category: str = "") -> str:
    """The word for a field of a record: the label dictionary's ``field.*`` or the letter's ``letter_field.*``
    (``letter_field_in.<category>__<field>`` where one category uses a field name in its own sense)."""
    lang = _lang(lang)
    if category and labels.has(f"letter_field_in.{category}__{key}"):
        return labels.label(f"letter_field_in.{category}__{key}", lang)
    for domain in ("field", "letter_field"):
        if labels.has(f"{domain}.{key}"):
            return labels.label(f"{domain}.{key}", lang)
    return "その他の項目" if lang == "ja" else "Other item"


def _coded(domains: Sequence[str], code: str, lang: str) -> str | None:
    for domain in domains:
        if labels.has(f"{domain}.{code}"):
            return labels.label(f"{domain}.{code}", lang)
    return None


def _phone(value: str) -> str:
    return "0" + value[3:] if value.startswith("+81") and value[3:].isdigit() else value


def format_value(
    key: str,
    value: Any,
    lang: str = "ja",
    *,
    category: str = "",
    purposes: Mapping[str, str] | None = None,
) -> str:
    """One value as a letter shows it: birth dates with 和暦, timestamps in JST, codes in words, lists joined with
    「、」, mappings as 「項目：値」 lines — never a Python repr, an ISO timestamp or a bare code."""
    lang = _lang(lang)
    sep = ", " if lang == "en" else "、"
    if value is None:
        return "—"
    if isinstance(value, bool):
        return labels.label(f"yesno.{'yes' if value else 'no'}", lang)
    if isinstance(value, Mapping):
        colon = ": " if lang == "en" else "："
        return "\n".join(
            f"{field_label(str(k), lang)}{colon}{format_value(str(k), v, lang, category=category, purposes=purposes)}"
            for k, v in value.items()
            if v is not None and str(k) not in _HIDDEN
        )
    if isinstance(value, list | tuple | set | frozenset):
        if key in _FIELD_LISTS:
            return sep.join(field_label(str(v), lang) for v in value) or "—"
        return (
            sep.join(format_value(key, v, lang, category=category, purposes=purposes) for v in value) or "—"
        )
    if isinstance(value, datetime):
        return labels.fmt_datetime(value, lang)
    if isinstance(value, date):
        return labels.fmt_birth_date(value, lang) if key == "birth_date" else labels.fmt_date(value, lang)
    if isinstance(value, int | float):
        if key == "amount":
            return labels.fmt_yen(int(value), lang)
        return f"{value:,}" if isinstance(value, int) and key != "version" else str(value)
    text = str(value)
    if key in _PURPOSE_FIELDS and purposes and text in purposes:
        return purposes[text]
    if _ISO_DATE.match(text):
        day = date.fromisoformat(text)
        return labels.fmt_birth_date(day, lang) if key == "birth_date" else labels.fmt_date(day, lang)
    if _ISO_DATETIME.match(text):
        try:
            return labels.fmt_datetime(datetime.fromisoformat(text.replace("Z", "+00:00")), lang)
        except ValueError:
            return text
    domains = _BY_CATEGORY.get((category, key)) or _DOMAINS.get(key)
    if domains:
        word = _coded(domains, text, lang)
        if word is not None:
            return word
    if key == "value" and category == "contact":
        return _phone(text)
    return text


def _acquired(text: str | None, lang: str) -> str:
    if not text:
        return ""
    parts = []
    for part in (p.strip() for p in text.split(";")):
        head = part.split(":", 1)[0]
        word = _coded(("acquisition_channel", "letter_channel", "letter_acquisition_method"), head, lang)
        parts.append(word or part)
    return ("、" if lang == "ja" else ", ").join(dict.fromkeys(parts))


def record_rows(r: RecordOut, lang: str = "ja", purposes: Mapping[str, str] | None = None) -> list[list[str]]:
    """The item-by-item rows of one record: [項目, 内容] with Japanese field labels and formatted values."""
    rows = [
        [field_label(k, lang, r.category), format_value(k, v, lang, category=r.category, purposes=purposes)]
        for k, v in r.data.items()
        if v is not None and v != "" and v != [] and k not in _HIDDEN
    ]
    acquired = _acquired(r.acquired_from, lang)
    if acquired:
        rows.append([field_label("acquired_from", lang), acquired])
    if r.purposes:
        rows.append(
            [
                field_label("purposes", lang),
                format_value("purposes", list(r.purposes), lang, purposes=purposes),
            ]
        )
    if r.occurred_at is not None:
        rows.append([field_label("recorded_at", lang), labels.fmt_datetime(r.occurred_at, lang)])
    return rows


def _addressee(p: DisclosurePackage, lang: str) -> str:
    for r in p.records:
        if r.category == "profile" and r.data.get("name"):
            return str(r.data["name"])
    return "ご請求者" if lang == "ja" else "the requester"


def letter_title(p: DisclosurePackage, lang: str = "ja") -> str:
    """Full, partial and no-data answers have different titles; provision records, purposes and portability
    their own."""
    if p.kind in ("disclosure", "provision_records"):
        suffix = "_partial" if p.refused_categories else ("_none" if p.no_data else "")
        key = f"{p.kind}{suffix}"
    elif p.kind == "purpose_notice":
        key = "purpose_notice_none" if p.no_data else "purpose_notice"
    else:
        key = p.kind
    if p.regime == "gdpr" and labels.has(f"letter_title.{key}_gdpr"):
        key = f"{key}_gdpr"
    return labels.label(
        f"letter_title.{key}", _lang(lang), default=labels.label("letter_title.disclosure", lang)
    )


def _refused(p: DisclosurePackage, lang: str) -> list[dict[str, str]]:
    out = []
    for part, code in p.refused_categories.items():
        category = part.split(":", 1)[-1]
        g = GROUNDS.get(code)
        out.append(
            {
                "part": labels.value("record_category", category, lang)
                if labels.has(f"record_category.{category}")
                else category,
                "reason": g.reason(lang) if g is not None else "",
                "citation": grounds_mod.citation(g, p.kind, p.regime, lang) if g is not None else "",
                "line": _cited(g.reason(lang), grounds_mod.citation(g, p.kind, p.regime, lang), lang)
                if g is not None
                else "",
            }
        )
    return out


def letter_context(
    p: DisclosurePackage,
    today: date,
    *,
    settings: Settings | None = None,
    lang: str | None = None,
    fmt: str = "pdf",
    method: str = "electronic",
) -> dict[str, Any]:
    """Everything the 通知書 says, for the HTML template and the PDF alike."""
    settings = settings or get_settings()
    lang = _lang(lang or getattr(p, "lang", None))  # the person's language, when the package carries it
    purposes = {x["code"]: x["title"] for x in p.purposes}
    groups: dict[str, list[RecordOut]] = {}
    for r in p.records:
        groups.setdefault(r.category, []).append(r)
    received = labels.fmt_date(p.received_at, lang) if p.received_at else None
    phrase = request_phrase(p.kind, lang, p.regime)
    if lang == "ja":
        head = f"{received}付けでご請求のありました" if received else "ご請求のありました"
        intro = f"{head}{phrase}について、下記のとおり" + (
            "お知らせいたします。" if p.no_data else "回答いたします。"
        )
    else:
        intro = (
            f"We answer your request for {phrase}" + (f" received on {received}" if received else "") + "."
        )
    term = data_term(p.regime, lang)
    words = {
        key.removeprefix("letter_word."): labels.label(key, lang).replace("{term}", term)
        for key in labels.table()
        if key.startswith("letter_word.")
    }
    method_word = labels.value("disclosure_method", method, lang)
    fmt_word = labels.value("letter_format", fmt, lang)
    regime_appi = p.regime != "gdpr"
    method_text = f"{method_word}（{fmt_word}）" if lang == "ja" else f"{method_word} ({fmt_word})"
    method_citation = (
        cite("R-33-1", lang).replace("第1項〜第3項", "第1項").replace("(1)-(3)", "(1)")
        if regime_appi
        else cite("G-15", lang)
    )
    fee = labels.fmt_yen(p.fee_yen or 0, lang)
    fee_citation = (
        cite("R-38-1", lang) if regime_appi else "Art. 12(5) GDPR" if lang == "en" else "GDPR第12条第5項"
    )
    return {
        "lang": lang,
        "title": letter_title(p, lang),
        "data_term": term,
        "w": words,
        "today": labels.fmt_date(today, lang),
        "addressee": _addressee(p, lang),
        "sender": sender(settings, lang),
        "receipt_no": p.receipt_no or "—",
        "received_on": received,
        "intro": intro,
        "no_data": p.no_data,
        "kind": p.kind,
        "purposes": [
            {
                "title": x["title"],
                "text": x.get("text", ""),
                "method": labels.value("letter_notice_method", x.get("method"), lang)
                if x.get("method")
                else "",
                "line": _cited(
                    x.get("text", ""), labels.value("letter_notice_method", x.get("method"), lang), lang
                )
                if x.get("method")
                else x.get("text", ""),
            }
            for x in p.purposes
        ],
        "groups": [
            {
                "label": labels.value("record_category", cat, lang),
                "records": [record_rows(r, lang, purposes) for r in recs],
            }
            for cat, recs in groups.items()
        ],
        "recipients": [
            {
                "name": r.get("name") or "",
                "kind": _coded(("counterparty_kind", "letter_counterparty_kind"), str(r.get("kind")), lang)
                or "",
                "country": format_value("country", r.get("country"), lang) if r.get("country") else "",
            }
            for r in p.recipients
        ],
        "refused": _refused(p, lang),
        "refusal_explanation": p.refusal_explanation,
        "method": method_text,
        "method_citation": method_citation,
        "method_line": _cited(method_text, method_citation, lang),
        "fee": fee,
        "fee_citation": fee_citation,
        "fee_line": _cited(fee, fee_citation, lang),
        "basis": [cite(rule, lang) for rule in dict.fromkeys(p.rule_ids)],
        "basis_line": ("; " if lang == "en" else "、").join(
            cite(rule, lang) for rule in dict.fromkeys(p.rule_ids)
        ),
    }


def _cited(text: str, citation: str, lang: str) -> str:
    return f"{text} ({citation})" if lang == "en" else f"{text}（{citation}）"


def letter_html(p: DisclosurePackage, today: date, **options: Any) -> str:
    """The letter from ``rights/letter.html.j2`` (Japanese) or ``rights/letter.en.html.j2`` (English)."""
    ctx = letter_context(p, today, **options)
    settings = options.get("settings") or get_settings()
    name = "rights/letter.en.html.j2" if ctx["lang"] == "en" else "rights/letter.html.j2"
    return environment(settings).get_template(name).render(**ctx)
