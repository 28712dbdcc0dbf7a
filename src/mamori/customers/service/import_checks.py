"""The import's per-value checks without needless work (issue 16): the same answers as the cleaners in
``customers.schemas``, faster.

- **Phones.** After :func:`mamori.kernel.jptext.split_phone` (the folding of width and dashes, ``TEL:`` prefixes
  and extensions every phone path shares), a Japanese number written the usual way (``090-1234-5678``,
  ``+81-90-1234-5678``) is checked against phonenumbers' own metadata for JP — the patterns and lengths
  that ``phonenumbers.is_valid_number`` uses — without the general parser; the E.164 form is then ``+81`` and the
  national significant number. Anything else (other countries, brackets, spaces, ``010`` international prefix, an
  invalid number) goes through :func:`~mamori.customers.schemas.clean_phone` itself, so an error is always its
  error. Each phone is checked once: the blind index takes the E.164 form it gave (:func:`normal_phone` knows
  it without looking again).
- **Emails.** An all-ASCII dot-atom address is split at its ``@``; the local part is checked with email-validator's
  own dot-atom expression and the domain with email-validator itself, once per distinct domain (domains repeat).
  Anything else — and every refusal — goes through :func:`~mamori.customers.schemas.clean_email`.
- **Values that repeat** in a file (kana, postal codes, birth dates, addresses, occupations, employers) are checked
  once per file by :class:`ValueMemo`.

``tests/customers/test_import_fast.py`` runs these and the reference cleaners over the same varied inputs and
asserts identical outcomes.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import (
    CASE_INSENSITIVE_MAILBOX_NAMES,
    DOT_ATOM_TEXT,
    EMAIL_MAX_LENGTH,
    LOCAL_PART_MAX_LENGTH,
)

from mamori.customers.schemas import clean_email, clean_phone
from mamori.kernel.crypto.blind_index import phone_e164
from mamori.kernel.jptext import PREFECTURES, fold, split_phone

# -- phones -------------------------------------------------------------------------------------------------------

# After kernel.jptext.split_phone (the folding, prefixes and extensions every phone path shares):
# 0 + a non-zero digit (not 010, JP's international prefix), then digits and single hyphens: national form.
_NATIONAL = re.compile(r"0[1-9][0-9]*(?:-[0-9]+)*")
# +81 then a non-zero digit: international form of a JP number (no trunk 0 after the country code).
_INTERNATIONAL_JP = re.compile(r"\+81-?[1-9][0-9]*(?:-[0-9]+)*")


def _desc_check(desc: Any) -> Callable[[str], bool] | None:
    """phonenumbers' ``_is_number_matching_desc`` for one number type: a possible length, then a full match of
    the national number pattern. None: the type has no numbers in this region."""
    if desc is None or not desc.national_number_pattern:
        return None
    lengths = frozenset(desc.possible_length or ())
    pattern = re.compile(desc.national_number_pattern)

    def check(nsn: str) -> bool:
        return (not lengths or len(nsn) in lengths) and pattern.fullmatch(nsn) is not None

    return check


def _jp_validity() -> Callable[[str], bool]:
    """``is_valid_number`` for a JP national significant number: it matches the general description and at least
    one number type (phonenumbers' ``_number_type_helper`` is not UNKNOWN)."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region("JP")
    if meta is None or meta.country_code != 81:  # pragma: no cover - the library always has JP
        return lambda nsn: False
    general = _desc_check(meta.general_desc)
    types = [
        check
        for check in (
            _desc_check(getattr(meta, name, None))
            # every type of phonenumbers' _number_type_helper; the likeliest first (only "any" matters)
            for name in (
                "mobile",
                "fixed_line",
                "toll_free",
                "voip",
                "premium_rate",
                "shared_cost",
                "personal_number",
                "pager",
                "uan",
                "voicemail",
            )
        )
        if check is not None
    ]
    if general is None:  # pragma: no cover
        return lambda nsn: False

    def valid(nsn: str) -> bool:
        return general(nsn) and any(t(nsn) for t in types)

    return valid


_JP_VALID = _jp_validity()


# E.164 strings this module has produced (bounded): an import checks a phone, then indexes its E.164 form; the
# second look returns at once (the E.164 form of a valid number is its own normal form).
_KNOWN_E164: set[str] = set()
_KNOWN_E164_MAX = 200_000


def _fast_number(number: str) -> str | None:
    """The E.164 form of the number part (:func:`~mamori.kernel.jptext.split_phone`) of a JP number in the usual
    national or +81 form; None: not decided here (the caller uses the full parser, which also gives the
    refusal)."""
    if number in _KNOWN_E164:
        return number
    if _NATIONAL.fullmatch(number):
        nsn = number[1:].replace("-", "")
    elif _INTERNATIONAL_JP.fullmatch(number):
        nsn = number[3:].replace("-", "")
    else:
        return None
    if not 8 <= len(nsn) <= 17 or not _JP_VALID(nsn):
        return None
    e164 = "+81" + nsn
    if len(_KNOWN_E164) >= _KNOWN_E164_MAX:
        _KNOWN_E164.clear()
    _KNOWN_E164.add(e164)
    return e164


def _fast_e164(value: str) -> str | None:
    """What :func:`~mamori.customers.schemas.clean_phone` gives (``E.164`` or ``E.164;ext=NNN``) when the number
    is a JP number in the usual form; None: not decided here."""
    if value in _KNOWN_E164:
        return value
    number, extension = split_phone(value)
    e164 = _fast_number(number)
    if e164 is None or extension is None:
        return e164
    return f"{e164};ext={extension}"


def clean_phone_fast(value: str) -> str:
    """:func:`~mamori.customers.schemas.clean_phone`: the same string or the same error."""
    return _fast_e164(value) or clean_phone(value)


def normal_phone(value: str) -> str:
    """``normalise_phone`` (the blind index's normal form: the number's E.164, no extension): the same string or
    the same error."""
    if value in _KNOWN_E164:
        return value
    number, _extension = split_phone(value)
    return _fast_number(number) or phone_e164(number)


# -- emails -------------------------------------------------------------------------------------------------------

_ASCII_DOMAIN = re.compile(r"[A-Za-z0-9.\-]+")
_CASE_INSENSITIVE = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)


@functools.lru_cache(maxsize=8192)
def _domain(domain: str) -> tuple[str, str] | None:
    """email-validator's normal and ASCII forms of ``domain`` (the domain check depends on the domain alone);
    None if it refuses it."""
    try:
        checked = validate_email("a@" + domain, check_deliverability=False)
    except EmailNotValidError:
        return None
    return checked.domain, checked.ascii_domain


def clean_email_fast(value: str) -> str:
    """:func:`~mamori.customers.schemas.clean_email`: the same normalised address or the same error."""
    text = unicodedata.normalize("NFKC", value).strip()
    local, at, domain = text.partition("@")
    if (
        at
        and text.isascii()
        and 0 < len(local) <= LOCAL_PART_MAX_LENGTH
        and _ASCII_DOMAIN.fullmatch(domain)
        and DOT_ATOM_TEXT.match(local)
        and local.lower() not in _CASE_INSENSITIVE
    ):
        checked = _domain(domain)
        if checked is not None and len(local) + 1 + max(len(d.encode()) for d in (domain, *checked)) <= (
            EMAIL_MAX_LENGTH
        ):  # email-validator's three length checks (as given, normalised, ASCII), in UTF-8 bytes
            return local + "@" + checked[0]
    return clean_email(value)


# -- addresses ----------------------------------------------------------------------------------------------------

_PREFECTURE_LENGTHS = tuple(sorted({len(p) for p in PREFECTURES}))
_PREFECTURE_SET = frozenset(PREFECTURES)


def has_prefecture(address: str) -> bool:
    """``prefecture_of(address) is not None``: the address starts with a prefecture (after :func:`fold`)."""
    a = fold(address)
    return any(a[:n] in _PREFECTURE_SET for n in _PREFECTURE_LENGTHS)


# -- values that repeat in a file ---------------------------------------------------------------------------------

# entries per kind, then it starts afresh: memory stays bounded on a file of unique values
_MEMO_LIMIT = 50_000


class ValueMemo:
    """One file's checks by value: a value seen before gets the same result or the same error without being
    checked again. ``check`` returns ``(result, None)`` or ``(None, error)`` — the error is not raised, so a
    value refused on thousands of lines never re-raises one exception object."""

    def __init__(self) -> None:
        self._memo: dict[str, dict[str, tuple[Any, ValueError | None]]] = {}

    def check(self, kind: str, fn: Callable[[str], Any], value: str) -> tuple[Any, ValueError | None]:
        memo = self._memo.get(kind)
        if memo is None:
            memo = self._memo[kind] = {}
        hit = memo.get(value)
        if hit is None:
            try:
                hit = (fn(value), None)
            except ValueError as exc:
                hit = (None, exc)
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            memo[value] = hit
        return hit


__all__ = [
    "ValueMemo",
    "clean_email_fast",
    "clean_phone_fast",
    "has_prefecture",
    "normal_phone",
]


# -- lines --------------------------------------------------------------------------------------------------------

# A line of a customer file is a few hundred bytes; even 20 addresses and 20 numbers stay under 10 KiB. A longer
# physical line (a 50 MB line ended in a traceback, issue 17) is refused before anything is read or written.
MAX_LINE_BYTES = 64 * 1024
# One field (a quoted value may span lines) at most this many characters: csv.field_size_limit's default, which the
# reader keeps; a longer field is refused in one line, as a long line is.
MAX_FIELD_CHARS = 131_072


def first_long_line(data: bytes, limit: int = MAX_LINE_BYTES) -> int | None:
    """The number (1-based) of the first physical line longer than ``limit`` bytes, or None."""
    if len(data) <= limit:
        return None
    for number, line in enumerate(data.splitlines(), start=1):
        if len(line) > limit:
            return number
    return None


def check_line_lengths(data: bytes) -> None:
    """Refuse, naming the line, a file with a line longer than :data:`MAX_LINE_BYTES` (one line, no value)."""
    from mamori.kernel.errors import ValidationFailed

    number = first_long_line(data)
    if number is not None:
        raise ValidationFailed(
            f"{number}行目が長すぎます（1行 {MAX_LINE_BYTES:,} バイトまで）。何も取り込んでいません。",
            f"Line {number} is too long (at most {MAX_LINE_BYTES:,} bytes a line); nothing was imported.",
            code="line_too_long",
            details={"line": number, "max_bytes": MAX_LINE_BYTES},
        )


def unreadable_line(number: int) -> Exception:
    """The one-line error for a line the CSV reader refuses (a field over :data:`MAX_FIELD_CHARS`, a bad quote)."""
    from mamori.kernel.errors import ValidationFailed

    return ValidationFailed(
        f"{number}行目を CSV として読めません（1項目 {MAX_FIELD_CHARS:,} 文字まで）。何も取り込んでいません。",
        f"Line {number} cannot be read as CSV (at most {MAX_FIELD_CHARS:,} characters a field); "
        "nothing was imported.",
        code="line_unreadable",
        details={"line": number},
    )
