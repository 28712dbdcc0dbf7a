"""Pydantic's validation errors as one-line messages a person can read — Japanese by default, English when chosen.

Each error becomes 「<field label>: <reason>」: the location is named with the label dictionary (``field.*``, then
``input_field.*``; an unknown name is shown as it is), list positions as 「3件目の…」, and the reason comes from a
template per pydantic error ``type`` (data/validation.toml ``[pydantic]``). The submitted value is never part of
a message. Our own validators raise ``ValueError``; pydantic reports them as ``value_error``:

- :class:`Invalid` (``raise Invalid("…です", "… is …")``) carries both languages — the way for new validators;
- older validators raise an English message; :data:`KNOWN_MESSAGES` maps those to ``[value_error]`` words, and
  any other English-only message in Japanese mode becomes the generic 「値が正しくありません」.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from mamori.kernel.labels import has, label, table

# Location prefixes FastAPI adds (where the value came from), not part of the field's name.
_SOURCES = frozenset({"body", "query", "path", "header", "cookie", "form", "file"})
# pydantic error types that share one template.
_ALIASES = {
    "int_type": "int_parsing",
    "int_parsing_size": "int_parsing",
    "float_type": "float_parsing",
    "decimal_type": "decimal_parsing",
    "decimal_max_digits": "decimal_parsing",
    "decimal_max_places": "decimal_parsing",
    "decimal_whole_digits": "decimal_parsing",
    "date_type": "date_parsing",
    "date_from_datetime_parsing": "date_parsing",
    "date_from_datetime_inexact": "date_parsing",
    "datetime_type": "datetime_parsing",
    "datetime_from_date_parsing": "datetime_parsing",
    "datetime_object_invalid": "datetime_parsing",
    "datetime_future": "date_future",
    "datetime_past": "date_past",
    "time_type": "time_parsing",
    "timedelta_type": "time_parsing",
    "timedelta_parsing": "time_parsing",
    "iterable_type": "list_type",
    "frozen_set_type": "set_type",
    "mapping_type": "dict_type",
    "model_attributes_type": "model_type",
    "dataclass_type": "model_type",
    "dataclass_exact_type": "model_type",
    "string_sub_type": "string_type",
    "url_type": "url_parsing",
    "url_syntax_violation": "url_parsing",
    "uuid_type": "uuid_parsing",
    "uuid_version": "uuid_parsing",
    "bytes_too_short": "string_too_short",
    "bytes_too_long": "string_too_long",
    "frozen_instance": "frozen_field",
    "union_tag_not_found": "union_tag_invalid",
    "enum_parsing": "enum",
    "assertion_error": "invalid",
    "missing_argument": "missing",
    "missing_keyword_only_argument": "missing",
    "missing_positional_only_argument": "missing",
    "unexpected_keyword_argument": "extra_forbidden",
    "unexpected_positional_argument": "extra_forbidden",
}

# English messages raised by existing validators (matched at the start, after a leading 「field: 」) → a
# [value_error] key. New validators should raise :class:`Invalid` instead.
KNOWN_MESSAGES: tuple[tuple[str, str], ...] = (
    ("value is not a valid email address", "email"),  # pydantic's EmailStr (email-validator)
    ("not a valid address", "email"),
    ("not a valid Japanese or international number", "phone"),
    ("phone must be 6-32 characters", "phone_length"),
    ("expected 123-4567", "postal_code"),
    ("only katakana or hiragana", "kana"),
    ("expected YYYY-MM-DD or 和暦", "birth_date"),
    ("must start with a prefecture", "prefecture"),
    ("control characters are not allowed", "control_characters"),
    ("category must be a code", "category"),
    ("country must be an ISO 3166 alpha-2 code", "country"),
    ("lower-case purpose codes", "purpose_code"),
    ("lower-case letters, digits, _ - (2–64 chars)", "code"),
    ("lower-case letters, digits, _ . - (2–64 chars)", "username"),
    ("not a staff role", "staff_role"),
    ("purpose or sensitive is required", "purpose_or_sensitive"),
    ("a date-time needs a UTC offset", "utc_offset"),
    ("the year must be between 1990 and 2200", "year_range"),
    ("customer ids are 32 hex characters", "customer_ids"),
)

_ENGLISH_WORD = re.compile(r"[A-Za-z]{4,}")
_FIELD_PREFIX = re.compile(r"^[a-z_][a-z0-9_]*: ")


class Invalid(ValueError):
    """A validator's message in both languages: ``raise Invalid("郵便番号は…", "postal codes are …")``.
    Neither text may contain the submitted value."""

    def __init__(self, message_ja: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_ja = message_ja
        self.message_en = message_en

    def message(self, lang: str) -> str:
        return self.message_en if lang == "en" else self.message_ja


def _en(lang: str) -> str:
    return "en" if lang == "en" else "ja"


def _word(key: str, lang: str, **fmt: object) -> str:
    text = label(key, _en(lang))
    if fmt:
        try:
            return text.format(**fmt)
        except (KeyError, IndexError, ValueError):
            return label("pydantic.invalid", _en(lang))
    return text


def field_name(part: str | int, lang: str = "ja") -> str:
    """The label of one field name: ``field.<name>``, else ``input_field.<name>``, else the name itself."""
    name = str(part)
    for candidate in dict.fromkeys((name, name.lower())):  # header names arrive as sent: Mamori-Purpose
        for domain in ("field", "input_field"):
            if has(f"{domain}.{candidate}"):
                return label(f"{domain}.{candidate}", _en(lang))
    return name


def _parts(loc: Iterable[str | int]) -> list[str | int]:
    parts = list(loc)
    if parts and isinstance(parts[0], str) and parts[0] in _SOURCES:
        parts = parts[1:]
    # union members and validator wrappers appear as tags such as "function-after[…]" or "literal['a','b']"
    return [p for p in parts if not (isinstance(p, str) and "[" in p)]


def field_path(loc: Iterable[str | int]) -> str:
    """The location as a dotted path of codes (``emails.2``): the API's ``field``; no value in it."""
    return ".".join(str(p) for p in _parts(loc))


def field_label(loc: Iterable[str | int], lang: str = "ja") -> str:
    """``("body", "kind")`` → 「種別」; ``("emails", 2)`` → 「3件目のメールアドレス」; nested names joined with 「の」.
    An empty location (the whole body) → 「入力」."""
    segments: list[str] = []
    for part in _parts(loc):
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            n = int(part) + 1
            if segments:
                segments[-1] = _word("validation.nth", lang, n=n, name=segments[-1])
            else:
                segments.append(_word("validation.nth_alone", lang, n=n))
            continue
        segments.append(field_name(part, lang))
    if not segments:
        return label("validation.request", _en(lang))
    out = segments[0]
    for seg in segments[1:]:
        out = _word("validation.of", lang, parent=out, child=seg)
    return out


@functools.cache
def _domains() -> Mapping[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for key in table():
        domain, _, code = key.rpartition(".")
        out.setdefault(domain, set()).add(code)
    return {d: frozenset(c) for d, c in out.items()}


def _expected_codes(expected: object) -> list[str]:
    """pydantic's ``ctx["expected"]`` ("'a', 'b' or 'c'") → ["a", "b", "c"]."""
    text = str(expected)
    codes = re.findall(r"'([^']*)'", text)
    if not codes:
        codes = [c.strip() for c in re.split(r",| or ", text) if c.strip()]
    return codes


def _domain_for(name: str | None, codes: Sequence[str]) -> str | None:
    """The label domain whose words name every one of ``codes``: the field's own name first, then any domain."""
    domains = _domains()
    wanted = set(codes)
    if name and name not in ("field", "input_field") and wanted <= domains.get(name, frozenset()):
        return name
    for domain, known in sorted(domains.items()):
        if domain in ("field", "input_field", "pydantic", "value_error", "cli_error", "validation"):
            continue
        if wanted <= known:
            return domain
    return None


def _choices(codes: Sequence[str], domain: str | None, lang: str) -> str:
    sep = ", " if lang == "en" else "、"
    if domain is None or lang == "en":
        return sep.join(codes)
    return sep.join(f"{c}（{label(f'{domain}.{c}', 'ja')}）" for c in codes)


def _value_error(err: Mapping[str, Any], lang: str) -> str:
    ctx = err.get("ctx") or {}
    exc = ctx.get("error") if isinstance(ctx, Mapping) else None
    if isinstance(exc, Invalid):
        return exc.message(lang)
    return value_error_text(str(err.get("msg", "")), lang)


def value_error_text(msg: str | BaseException, lang: str = "ja") -> str:
    """A validator's message (``ValueError("email: not a valid address")``, pydantic's "Value error, …") in
    ``lang``: an :class:`Invalid`'s own words, a known English message's translation, our Japanese message as
    it is, else — in Japanese mode — the generic 「値が正しくありません」, never English."""
    if isinstance(msg, Invalid):
        return msg.message(lang)
    text = str(msg).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    bare = _FIELD_PREFIX.sub("", text, count=1)
    for prefix, key in KNOWN_MESSAGES:
        if text.startswith(prefix) or bare.startswith(prefix):
            return label(f"value_error.{key}", _en(lang))
    if lang == "en":
        return bare or label("pydantic.value_error", "en")
    if bare and not _ENGLISH_WORD.search(bare):
        return bare
    return label("pydantic.value_error", "ja")


def reason(err: Mapping[str, Any], lang: str = "ja") -> str:
    """What is wrong with one field, in ``lang``, from pydantic's error ``type`` and context (no value)."""
    kind = str(err.get("type", ""))
    kind = _ALIASES.get(kind, kind)
    ctx = err.get("ctx") or {}
    if not isinstance(ctx, Mapping):
        ctx = {}
    if kind in ("value_error", "invalid"):
        return _value_error(err, lang)
    if kind in ("literal_error", "enum"):
        codes = _expected_codes(ctx.get("expected", ""))
        parts = [p for p in _parts(err.get("loc", ())) if isinstance(p, str)]
        domain = _domain_for(parts[-1] if parts else None, codes)
        return _word(f"pydantic.{kind}", lang, expected=_choices(codes, domain, lang))
    if kind == "string_too_short" and int(ctx.get("min_length", 0) or 0) <= 1:
        return label("pydantic.string_empty", _en(lang))
    key = f"pydantic.{kind}"
    if not has(key):
        return label("pydantic.invalid", _en(lang))
    fmt = {k: v for k, v in ctx.items() if isinstance(v, str | int | float)}
    return _word(key, lang, **fmt) if fmt else label(key, _en(lang))


def _loc(err: Mapping[str, Any]) -> Sequence[str | int]:
    # a body that is not JSON at all: pydantic's location is the character position, not a field
    if str(err.get("type", "")) in ("json_invalid", "json_type"):
        return ()
    loc = err.get("loc", ())
    return tuple(loc) if isinstance(loc, Iterable) and not isinstance(loc, str) else (str(loc),)


def describe(err: Mapping[str, Any], lang: str = "ja") -> str:
    """One error as 「生年月日: 日付の形式が正しくありません（…）」."""
    return f"{field_label(_loc(err), lang)}: {reason(err, lang)}"


def entries(errors: Iterable[Mapping[str, Any]], lang: str = "ja") -> list[dict[str, str]]:
    """The API's ``errors``: ``{field, code, type, label, message}`` per error, no value, no URL."""
    out = []
    for err in errors:
        loc = _loc(err)
        out.append(
            {
                "field": field_path(loc),
                "code": str(err.get("type", "")),
                "type": str(err.get("type", "")),
                "label": field_label(loc, lang),
                "message": describe(err, lang),
            }
        )
    return out


def summary(errors: Iterable[Mapping[str, Any]], lang: str = "ja") -> str:
    """Every error on one line: 「生年月日: …／性別: …」 (``; `` in English). Duplicate lines are shown once."""
    seen: list[str] = []
    for err in errors:
        line = describe(err, lang)
        if line not in seen:
            seen.append(line)
    return ("; " if lang == "en" else "／").join(seen)


def message(exc: ValidationError, lang: str = "ja") -> str:
    """A ``ValidationError`` as one line (no value, no URL)."""
    return summary(exc.errors(include_input=False, include_url=False), lang)
