"""Web pages of the purposes slice (issue 15): thin — parse, call the service, render the template.

URLs (purpose codes are not personal; nothing personal is in any URL):

- ``GET  /purposes`` — the registry: code, title, GDPR basis, data categories, consent required (APPI / GDPR),
  third party, sensitive, version and its date, status. The privacy officer also sees the actions.
- ``GET  /purposes/{code}`` — one purpose with every version (each with its notice text, categories, date).
- ``GET  /purposes/new`` + ``POST /purposes/new`` — register (``purposes add`` / ``POST /api/v1/purposes``).
- ``GET  /purposes/{code}/revise`` + ``POST /purposes/{code}/revise`` — a new version in three steps
  (入力 → 確認 → 完了): the confirm step shows the diff of the notice text against the current version; the done
  step how many persons now need the new notice (``service.revise``'s ``pending_notice``).
- ``POST /purposes/{code}/retire`` — retire (never deleted): first a confirmation page, then with ``confirm=1``
  the retirement.

The service authorises (PURPOSE_MANAGE), checks (G-6, R-17-1) and audits; a view only maps its answer to a page.
Every write needs the session's CSRF token; every page carries the CSP and ``no-store`` (``render``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from mamori.kernel import validation
from mamori.kernel.auditing import authorise
from mamori.kernel.context import Context
from mamori.kernel.errors import MamoriError
from mamori.kernel.http import pages
from mamori.kernel.http.deps import Principal, runtime_of
from mamori.kernel.http.templating import lang_of, render
from mamori.kernel.labels import label, value, values
from mamori.kernel.policy import CHANNELS, OPT_IN_CHANNELS, Category, Resource
from mamori.kernel.policy.actions import scope_for
from mamori.purposes import service
from mamori.purposes.permissions import PURPOSE_MANAGE
from mamori.purposes.schemas import ART9_CONDITIONS, LAWFUL_BASES, PurposeCreate, PurposeRead

TEMPLATES = Path(__file__).resolve().parent / "templates"
router = APIRouter(include_in_schema=False)

_CODE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)
FLAGS = ("third_party", "consent_appi", "consent_gdpr", "art10")
TEXTS = ("code", "title_ja", "title_en", "text_ja", "text_en")
OPTIONAL = ("retention_days", "lawful_basis", "balancing_ref", "art9_condition")
MAX_FIELD = 20000  # a form field longer than this is refused before it reaches the model
_NOT_FOUND_CODES = frozenset({"purpose_unknown"})
# Issues 20 and 24: the words of the newer fields (the other fields' are web_purposes_field.* labels).
_FIELD_WORDS = {
    "channels": ("連絡手段", "Contact channels"),
    "marketing": ("広告宣伝", "Advertising"),
    "profiling": ("分析・プロファイリング", "Analysis and profiling"),
}


# -- the signed-in user, transactions, error pages --------------------------------------------------------------


def _lang(request: Request) -> str:
    return lang_of(request)


@contextmanager
def _transaction(request: Request, who: Principal, *, readonly: bool = False) -> Iterator[Context]:
    with runtime_of(request).transaction(who.actor, None, lang=_lang(request), readonly=readonly) as ctx:
        yield ctx


def _can_manage(who: Principal) -> bool:
    """Only chooses whether to show the actions; the service still decides on every write."""
    return scope_for(who.actor.role, PURPOSE_MANAGE) is not None


def _error(
    request: Request,
    who: Principal,
    status: int,
    message: str,
    *,
    rule_id: str | None = None,
    errors: list[dict[str, str]] | None = None,
) -> HTMLResponse:
    return pages.error_page(request, who, status, message, rule_id=rule_id, errors=errors, back="/purposes")


def _not_found(request: Request, who: Principal) -> HTMLResponse:
    return _error(request, who, 404, label("web_purposes.not_found", _lang(request)))


def _csrf_refused(request: Request, who: Principal) -> HTMLResponse:
    return _error(request, who, 403, label("web_purposes.csrf", _lang(request)))


def _message(request: Request, who: Principal, exc: MamoriError) -> str:
    lang = _lang(request)
    if exc.code == "role_not_permitted":  # the engine names the role by its code: say it in words
        return label("web_purposes.not_permitted", lang).format(
            role=value("role", who.actor.role.value, lang)
        )
    return exc.message(lang)


def _failure(request: Request, who: Principal, exc: MamoriError) -> HTMLResponse:
    """A service's refusal in plain words with its rule id small beside it (never a stack trace)."""
    if exc.code in _NOT_FOUND_CODES:
        return _not_found(request, who)
    return _error(request, who, exc.http_status, _message(request, who, exc), rule_id=exc.rule_id)


# -- the form -----------------------------------------------------------------------------------------------------


async def _form(request: Request) -> FormData:
    return await request.form()


Form_ = Annotated[FormData, Depends(_form)]


def _text(form: FormData, name: str) -> str:
    raw = form.get(name)
    return raw.replace("\r\n", "\n").replace("\r", "\n") if isinstance(raw, str) else ""


def _values(form: FormData) -> dict[str, Any]:
    """What was typed, as the form shows it again (strings, a list of categories, flags)."""
    out: dict[str, Any] = {name: _text(form, name).strip() for name in (*TEXTS, *OPTIONAL)}
    out["categories"] = [c for c in form.getlist("categories") if isinstance(c, str)]
    for flag in FLAGS:
        out[flag] = _text(form, flag) == "1"
    out["channels"] = [c for c in form.getlist("channels") if isinstance(c, str)]
    out["marketing"] = _text(form, "marketing") == "1"
    out["profiling"] = _text(form, "profiling") == "1"
    return out


def _values_of(p: PurposeRead) -> dict[str, Any]:
    """A purpose's current version as the form's values (the starting point of a revision)."""
    return {
        "code": p.code,
        "title_ja": p.title_ja,
        "title_en": p.title_en,
        "text_ja": p.text_ja,
        "text_en": p.text_en,
        "categories": [c.value for c in p.categories],
        "retention_days": "" if p.retention_days is None else str(p.retention_days),
        "lawful_basis": p.lawful_basis or "",
        "balancing_ref": p.balancing_ref or "",
        "art9_condition": p.art9_condition or "",
        **{flag: bool(getattr(p, flag)) for flag in FLAGS},
        "channels": list(p.channels),
        "marketing": p.marketing,
        "profiling": p.profiling,
    }


def _field_word(field: str, lang: str) -> str:
    head = field.split(".", 1)[0]
    if head in _FIELD_WORDS:
        ja, en = _FIELD_WORDS[head]
        return en if lang == "en" else ja
    return label(f"web_purposes_field.{head}", lang, default=head or label("validation.request", lang))


def _parse(v: dict[str, Any], lang: str) -> tuple[PurposeCreate | None, list[dict[str, str]]]:
    """The form's values as the service's input, or the errors in words (field label: reason; no value)."""
    too_long = [k for k in (*TEXTS, *OPTIONAL) if len(v[k]) > MAX_FIELD]
    if too_long:
        msg = label("pydantic.string_too_long", lang).format(max_length=MAX_FIELD)
        return None, [{"field": k, "label": _field_word(k, lang), "message": msg} for k in too_long]
    if any(c not in CHANNELS for c in v["channels"]):  # not one of the boxes (the value is never echoed)
        msg = "選択肢から選んでください" if lang != "en" else "choose from the list"
        return None, [{"field": "channels", "label": _field_word("channels", lang), "message": msg}]
    body: dict[str, Any] = {k: v[k] for k in TEXTS}
    body.update({k: (v[k] or None) for k in OPTIONAL})
    body["categories"] = v["categories"]
    body.update({flag: v[flag] for flag in FLAGS})
    body["channels"] = v["channels"]
    body["marketing"] = v["marketing"]
    body["profiling"] = v["profiling"]
    try:
        return PurposeCreate.model_validate(body), []
    except ValidationError as exc:
        errors = []
        for err in exc.errors(include_input=False, include_url=False):
            field = validation.field_path(err.get("loc", ()))
            errors.append(
                {"field": field, "label": _field_word(field, lang), "message": validation.reason(err, lang)}
            )
        return None, errors


def _form_page(
    request: Request,
    who: Principal,
    *,
    mode: str,
    v: dict[str, Any],
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    refusal: MamoriError | None = None,
    current: PurposeRead | None = None,
) -> HTMLResponse:
    lang = _lang(request)
    data = pages.page_context(
        request,
        who,
        mode=mode,
        v=v,
        current=current,
        errors=errors or [],
        message=(
            label("web_purposes.invalid", lang)
            if errors
            else (_message(request, who, refusal) if refusal else None)
        ),
        rule_id=refusal.rule_id if refusal else None,
        categories=CATEGORIES,
        lawful_bases=LAWFUL_BASES,
        art9_conditions=ART9_CONDITIONS,
        channels=CHANNELS,
        opt_in_channels=OPT_IN_CHANNELS,
        optin_note=lambda chs, marketing: optin_note(chs, marketing, lang),
    )
    return render(request, "purposes/form.html", data, status_code=status)


def _refused_on_form(exc: MamoriError) -> bool:
    """A refusal about the input (G-6 conflicts, an existing code): shown on the form, the values kept."""
    return exc.http_status in (409, 422) and exc.code not in _NOT_FOUND_CODES


# -- presentation helpers (no rule: the service has decided) ---------------------------------------------------------


def consent_words(p: PurposeRead, lang: str) -> str:
    """Under which law the purpose needs the person's consent: 「個人情報保護法、GDPR」, or 「不要」."""
    regimes = [r for r, needed in (("appi", p.consent_appi), ("gdpr", p.consent_gdpr)) if needed]
    return values("regime", regimes, lang) if regimes else label("web_purposes.consent_none", lang)


def basis_words(p: PurposeRead | dict[str, Any], lang: str) -> str:
    """G-6 at a glance: the Art. 6 basis, the Art. 9(2) condition, the Art. 10 flag (as ``purposes list``)."""
    get = p.get if isinstance(p, dict) else (lambda k: getattr(p, k))
    parts = [value("lawful_basis", get("lawful_basis") or None, lang)]
    if get("art9_condition"):
        head = label("purpose_field.art9", lang)
        parts.append(f"{head}: {value('art9_condition', get('art9_condition'), lang)}")
    if get("art10"):
        parts.append(label("purpose_field.art10", lang))
    return ("; " if lang == "en" else "、").join(parts)


def channel_words(channels: list[str], lang: str) -> str:
    """The purpose's contact channels in words (「電話、メール」), 「なし」 when it contacts nobody (issue 20)."""
    if not channels:
        return "none" if lang == "en" else "なし"
    return values("dnc_channel", [c for c in CHANNELS if c in channels], lang)


def optin_note(channels: list[str], marketing: bool, lang: str) -> str | None:
    """TE-3 (特定電子メール法 第3条) for staff: a marketing purpose with e-mail or SMS reaches only those who opted
    in beforehand; None for any other purpose."""
    need = [c for c in CHANNELS if marketing and c in channels and c in OPT_IN_CHANNELS]
    if not need:
        return None
    words = values("dnc_channel", need, lang)
    if lang == "en":
        return (
            f"Advertising by {words} may be sent only to persons who opted in beforehand, and no more once they "
            "ask to stop (Act on Specified Electronic Mail Art. 3). Consent to this purpose counts, or record an "
            "opt-in for the channel on the person's consent page."
        )
    return (
        f"広告宣伝の{words}は、事前に受信に同意（オプトイン）した本人にだけ送れます。配信停止の申出があれば以後は"
        "送れません（特定電子メール法 第3条）。この目的への同意、または連絡手段ごとの受信の同意を、本人の"
        "同意・連絡停止の画面で記録します。"
    )


def _token(text: str) -> list[str]:
    """Latin words and runs of spaces stay whole; Japanese is compared character by character."""
    return re.findall(r"[A-Za-z0-9]+|\s+|.", text, flags=re.S)


def diff(old: str, new: str) -> list[tuple[str, str]]:
    """The notice text's changes as (op, text) runs, op one of same / del / ins (rendered as <del> / <ins>)."""
    a, b = _token(old), _token(new)
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("same", "".join(a[i1:i2])))
            continue
        if op in ("replace", "delete"):
            out.append(("del", "".join(a[i1:i2])))
        if op in ("replace", "insert"):
            out.append(("ins", "".join(b[j1:j2])))
    return out


def _changes(cur: PurposeRead, v: dict[str, Any], lang: str) -> list[tuple[str, str, str]]:
    """The other fields that change: (label, current version, new version) in words."""
    old = _values_of(cur)
    rows: list[tuple[str, str, str]] = []

    def words(d: dict[str, Any], key: str) -> str:
        if key == "categories":
            return values("data_category", d["categories"], lang)
        if key in FLAGS:
            return label("yesno.yes" if d[key] else "yesno.no", lang)
        if key == "lawful_basis":
            return value("lawful_basis", d[key] or None, lang)
        if key == "art9_condition":
            return value("art9_condition", d[key] or None, lang)
        if key == "channels":
            return channel_words(d["channels"], lang)
        if key in ("marketing", "profiling"):
            return label("yesno.yes" if d[key] else "yesno.no", lang)
        return str(d[key]) or "—"

    for key in (
        "categories",
        *FLAGS,
        "channels",
        "marketing",
        "profiling",
        "retention_days",
        "lawful_basis",
        "balancing_ref",
        "art9_condition",
    ):
        before, after = words(old, key), words(v, key)
        if before != after:
            rows.append((_field_word(key, lang), before, after))
    return rows


def _common(request: Request, who: Principal, **extra: Any) -> dict[str, Any]:
    lang = _lang(request)
    return pages.page_context(
        request,
        who,
        can_manage=_can_manage(who),
        consent_words=lambda p: consent_words(p, lang),
        basis_words=lambda p: basis_words(p, lang),
        channel_words=lambda chs: channel_words(list(chs), lang),
        optin_note=lambda chs, marketing: optin_note(list(chs), bool(marketing), lang),
        title_of=lambda p: p.title_en if lang == "en" else p.title_ja,
        text_of=lambda p: p.text_en if lang == "en" else p.text_ja,
        version_word=lambda n: label("web_purposes.version_n", lang).format(n=n),
        sensitive=Category.SENSITIVE,
        values=values,  # not a template global (label and value are)
        **extra,
    )


# -- the registry ---------------------------------------------------------------------------------------------------


@router.get("/purposes", response_class=HTMLResponse)
def registry(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    try:
        with _transaction(request, who, readonly=True) as ctx:
            items = service.list_purposes(ctx, include_retired=True)
    except MamoriError as exc:
        return _failure(request, who, exc)
    return render(request, "purposes/list.html", _common(request, who, items=items))


# -- register -------------------------------------------------------------------------------------------------------


def _may_manage(request: Request, who: Principal) -> MamoriError | None:
    """The same check the service makes on every write, audited when it refuses (for the form pages)."""
    try:
        with _transaction(request, who, readonly=True) as ctx:
            authorise(ctx, PURPOSE_MANAGE, Resource(kind="purpose"))
    except MamoriError as exc:
        return exc
    return None


@router.get("/purposes/new", response_class=HTMLResponse)
def new_page(request: Request) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    refused = _may_manage(request, who)
    if refused is not None:
        return _failure(request, who, refused)
    empty: dict[str, Any] = {k: "" for k in (*TEXTS, *OPTIONAL)}
    empty.update(
        {flag: False for flag in FLAGS}, categories=[], channels=[], marketing=False, profiling=False
    )
    return _form_page(request, who, mode="new", v=empty)


@router.post("/purposes/new", response_class=HTMLResponse)
def add(request: Request, form: Form_) -> Response:
    """Register a purpose (``purposes add``); the R-17-1 / G-6 wording checks come back as warnings."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not pages.csrf_ok(request, who, _text(form, "csrf")):
        return _csrf_refused(request, who)
    lang = _lang(request)
    v = _values(form)
    data, errors = _parse(v, lang)
    if data is None:
        return _form_page(request, who, mode="new", v=v, status=422, errors=errors)
    try:
        with _transaction(request, who) as ctx:
            result = service.add(ctx, data)
    except MamoriError as exc:
        if _refused_on_form(exc):
            return _form_page(request, who, mode="new", v=v, status=exc.http_status, refusal=exc)
        return _failure(request, who, exc)
    return render(request, "purposes/done.html", _common(request, who, mode="new", p=result), status_code=201)


# -- one purpose ----------------------------------------------------------------------------------------------------


@router.get("/purposes/{code}", response_class=HTMLResponse)
def show_page(request: Request, code: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _CODE.match(code):
        return _not_found(request, who)
    return _show(request, who, code)


def _show(request: Request, who: Principal, code: str, *, retired_now: bool = False) -> HTMLResponse:
    try:
        with _transaction(request, who, readonly=True) as ctx:
            current = service.show(ctx, code)
            versions = service.history(ctx, code)
    except MamoriError as exc:
        return _failure(request, who, exc)
    data = _common(
        request,
        who,
        p=current,
        versions=sorted(versions, key=lambda x: x.version, reverse=True),
        retired_now=retired_now,
    )
    return render(request, "purposes/show.html", data)


# -- revise: 入力 → 確認 → 完了 ----------------------------------------------------------------------------------------


def _current(request: Request, who: Principal, code: str) -> PurposeRead | MamoriError:
    try:
        with _transaction(request, who, readonly=True) as ctx:
            return service.show(ctx, code)
    except MamoriError as exc:
        return exc


@router.get("/purposes/{code}/revise", response_class=HTMLResponse)
def revise_page(request: Request, code: str) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _CODE.match(code):
        return _not_found(request, who)
    current = _current(request, who, code)
    if isinstance(current, MamoriError):
        return _failure(request, who, current)
    refused = _may_manage(request, who)
    if refused is not None:
        return _failure(request, who, refused)
    return _form_page(request, who, mode="revise", v=_values_of(current), current=current)


@router.post("/purposes/{code}/revise", response_class=HTMLResponse)
def revise(request: Request, code: str, form: Form_) -> Response:
    """``step=confirm`` (the default) shows the diff; ``step=edit`` the form again; ``step=save`` saves."""
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _CODE.match(code):
        return _not_found(request, who)
    if not pages.csrf_ok(request, who, _text(form, "csrf")):
        return _csrf_refused(request, who)
    lang = _lang(request)
    current = _current(request, who, code)
    if isinstance(current, MamoriError):
        return _failure(request, who, current)
    refused = _may_manage(request, who)  # before any step: the confirm page is part of the write
    if refused is not None:
        return _failure(request, who, refused)
    v = _values(form)
    v["code"] = code  # the code is the path's; a revision never renames
    step = _text(form, "step") or "confirm"
    if step == "edit":
        return _form_page(request, who, mode="revise", v=v, current=current)
    data, errors = _parse(v, lang)
    if data is None:
        return _form_page(request, who, mode="revise", v=v, current=current, status=422, errors=errors)
    base = _text(form, "base_version")
    if base != str(current.version):  # the diff shown was against another version: confirm again
        msg = label("web_purposes.stale", lang).format(n=current.version)
        return _error(request, who, 409, msg)
    if step != "save":
        try:  # R-17-1 (issue 24): a profiling purpose that does not say so is refused here, before the diff
            service.check_profiling(data)
        except MamoriError as exc:
            return _form_page(
                request, who, mode="revise", v=v, current=current, status=exc.http_status, refusal=exc
            )
        data_ctx = _common(
            request,
            who,
            p=current,
            v=v,
            diffs=[
                (label("web_purposes_field.text_ja", lang), diff(current.text_ja, data.text_ja)),
                (label("web_purposes_field.text_en", lang), diff(current.text_en, data.text_en)),
                (label("web_purposes_field.title_ja", lang), diff(current.title_ja, data.title_ja)),
                (label("web_purposes_field.title_en", lang), diff(current.title_en, data.title_en)),
            ],
            changes=_changes(current, v, lang),
            warnings=service.wording_warnings(data),
            new_version=current.version + 1,
            flags=FLAGS,
        )
        return render(request, "purposes/confirm.html", data_ctx)
    try:
        with _transaction(request, who) as ctx:
            result = service.revise(ctx, data)
    except MamoriError as exc:
        if _refused_on_form(exc):
            return _form_page(
                request, who, mode="revise", v=v, current=current, status=exc.http_status, refusal=exc
            )
        return _failure(request, who, exc)
    return render(
        request, "purposes/done.html", _common(request, who, mode="revise", p=result), status_code=201
    )


# -- retire ---------------------------------------------------------------------------------------------------------


@router.post("/purposes/{code}/retire", response_class=HTMLResponse)
def retire(request: Request, code: str, form: Form_) -> Response:
    who = pages.signed_in(request)
    if who is None:
        return pages.to_sign_in()
    if not _CODE.match(code):
        return _not_found(request, who)
    if not pages.csrf_ok(request, who, _text(form, "csrf")):
        return _csrf_refused(request, who)
    if _text(form, "confirm") != "1":  # first the question, with what retiring means; nothing changes yet
        current = _current(request, who, code)
        if isinstance(current, MamoriError):
            return _failure(request, who, current)
        refused = _may_manage(request, who)
        if refused is not None:
            return _failure(request, who, refused)
        return render(request, "purposes/retire.html", _common(request, who, p=current))
    try:
        with _transaction(request, who) as ctx:
            service.retire(ctx, code)
    except MamoriError as exc:
        return _failure(request, who, exc)
    return _show(request, who, code, retired_now=True)
