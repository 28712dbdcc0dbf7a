"""One label dictionary for every field, value, status, role, kind and rule — Japanese and English.

The CLI, the API's messages, documents (letters, e-mails) and the web app take their words from here, so one
concept has one name everywhere (shared/UI.md's glossary is the start). The words live in TOML files under
``data/`` (one per area; a key may be defined in one file only), each entry with both languages::

    [kind]
    disclosure = { ja = "開示", en = "Disclosure" }

Keys are ``<domain>.<code>`` (``kind.disclosure``, ``field.birth_date``, ``status.open``). Codes are never
shown alone: :func:`value` gives the Japanese word, and in staff tables 「開示（disclosure）」 at most.

Formatting follows the Japanese conventions of shared/UI.md: dates 2026年12月6日, birth dates also in 和暦
(1985年1月5日（昭和60年）), times 24-hour in JST with the zone, amounts 12,345円, counts with 件 / 人.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

from mamori.kernel.clock import JST, ensure_aware
from mamori.kernel.wareki import ERAS

_DATA = Path(__file__).resolve().parent / "data"
LANGS = ("ja", "en")


class LabelError(LookupError):
    """A label file that breaks the rules (a key twice, a language missing): a programming error."""


@functools.cache
def table() -> Mapping[str, Mapping[str, str]]:
    """Every key → {"ja": …, "en": …}, merged from data/*.toml (a key defined twice is an error)."""
    out: dict[str, dict[str, str]] = {}
    origin: dict[str, str] = {}
    for path in sorted(_DATA.glob("*.toml")):
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
        for domain, entries in doc.items():
            if not isinstance(entries, dict):
                raise LabelError(f"{path.name}: [{domain}] must be a table")
            for code, words in entries.items():
                key = f"{domain}.{code}"
                if key in out:
                    raise LabelError(f"{key} is defined in {origin[key]} and {path.name}")
                if not isinstance(words, dict):
                    raise LabelError(f"{path.name}: {key} must be {{ ja = …, en = … }}")
                out[key] = {lang: str(words.get(lang, "")) for lang in LANGS}
                origin[key] = path.name
    return out


def has(key: str) -> bool:
    return key in table()


def label(key: str, lang: str = "ja", default: str | None = None) -> str:
    """The word for ``key`` in ``lang`` (English when asked, Japanese otherwise). An unknown key returns
    ``default`` when given, else the key's code part (never a crash in a letter; the key test catches gaps)."""
    words = table().get(key)
    if words is None:
        return default if default is not None else key.rsplit(".", 1)[-1]
    return words["en" if lang == "en" else "ja"]


def value(domain: str, code: str | None, lang: str = "ja", *, staff: bool = False) -> str:
    """The word for a code of ``domain`` (``value("kind", "disclosure")`` → 「開示」). In staff tables
    (``staff=True``) the code follows in brackets — 「開示（disclosure）」 — so staff can match it to the CLI's
    options; in English the code is shown only when it differs from the word. ``None`` → 「—」."""
    if code is None or code == "":
        return "—"
    key = f"{domain}.{code}"
    if key not in table():
        return code
    word = label(key, lang)
    if not staff:
        return word
    if lang == "en":
        return word if word.lower().replace(" ", "_") == code else f"{word} ({code})"
    return f"{word}（{code}）"


def values(
    domain: str, codes: list[str] | tuple[str, ...] | None, lang: str = "ja", *, staff: bool = False
) -> str:
    """Several codes of one domain joined with 「、」 (", " in English)."""
    if not codes:
        return "—"
    sep = ", " if lang == "en" else "、"
    return sep.join(value(domain, c, lang, staff=staff) for c in codes)


def choices(domain: str, codes: list[str] | tuple[str, ...], lang: str = "ja") -> str:
    """The allowed codes of an option with their words, for an error message: 「disclosure（開示）、…」."""
    sep = ", " if lang == "en" else "、"
    if lang == "en":
        return sep.join(codes)
    return sep.join(f"{c}（{label(f'{domain}.{c}', 'ja')}）" if has(f"{domain}.{c}") else c for c in codes)


# -- formats -----------------------------------------------------------------------------------------------------

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def fmt_date(day: date | datetime | None, lang: str = "ja") -> str:
    """2026年12月6日 (6 Dec 2026); a datetime is first taken to its JST calendar day."""
    if day is None:
        return "—"
    if isinstance(day, datetime):
        day = ensure_aware(day).astimezone(JST).date()
    if lang == "en":
        return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


def era_year(day: date) -> str:
    """The 和暦 year of ``day``: 「昭和60年」, 「令和元年」 (empty before 明治)."""
    for name, start in ERAS:
        if day >= start:
            year = day.year - start.year + 1
            return f"{name}{'元' if year == 1 else year}年"
    return ""


def fmt_birth_date(day: date | None, lang: str = "ja") -> str:
    """1985年1月5日（昭和60年）: birth dates also in 和暦, as Japanese forms show them."""
    if day is None:
        return "—"
    if lang == "en":
        return fmt_date(day, "en")
    era = era_year(day)
    return f"{fmt_date(day)}（{era}）" if era else fmt_date(day)


def fmt_datetime(at: datetime | None, lang: str = "ja", *, seconds: bool = False) -> str:
    """2026年12月6日 16:05（日本時間） / 6 Dec 2026 16:05 JST: 24-hour, in JST, with the zone named."""
    if at is None:
        return "—"
    local = ensure_aware(at).astimezone(JST)
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    if lang == "en":
        return f"{fmt_date(local.date(), 'en')} {clock} JST"
    return f"{fmt_date(local.date())} {clock}（日本時間）"


def fmt_time(at: datetime, lang: str = "ja") -> str:
    """16:20（日本時間） / 16:20 JST — a clock time, e.g. when a one-time code expires."""
    local = ensure_aware(at).astimezone(JST)
    return f"{local:%H:%M} JST" if lang == "en" else f"{local:%H:%M}（日本時間）"


def fmt_yen(amount: int | None, lang: str = "ja") -> str:
    """12,345円 (JPY 12,345); 0 → 無料 (free)."""
    if amount is None:
        return "—"
    if amount == 0:
        return "free" if lang == "en" else "無料"
    return f"JPY {amount:,}" if lang == "en" else f"{amount:,}円"


def fmt_phone(e164: str, lang: str = "ja") -> str:
    """+819012345678 → 090-1234-5678 (Japanese numbers the way people write them; others international); a stored
    extension (``+81312345678;ext=12``) is shown as 「03-1234-5678 内線12」 (ja) / "03-1234-5678 ext. 12" (en)."""
    import phonenumbers

    number_text, sep, extension = e164.partition(";ext=")
    try:
        number = phonenumbers.parse(number_text, "JP")
    except phonenumbers.NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 81
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    shown = str(phonenumbers.format_number(number, fmt))
    if not sep or not extension:
        return shown
    return f"{shown} ext. {extension}" if lang == "en" else f"{shown} 内線{extension}"


def fmt_count(n: int, unit: str = "件", lang: str = "ja") -> str:
    """3件 / 12人 (records / people); English: the bare number with the unit's English word."""
    if lang == "en":
        word = {"件": "record", "人": "person"}.get(unit, "")
        if not word:
            return f"{n:,}"
        plural = "people" if word == "person" else f"{word}s"
        return f"{n:,} {word if n == 1 else plural}"
    return f"{n:,}{unit}"
