"""Running every detector and resolving overlapping findings: detect()."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from contextvars import ContextVar

from mamori.deid.text.detect.addresses import _find_addresses, find_residences
from mamori.deid.text.detect.common import _PRIORITY, Finding, lazy_compile
from mamori.deid.text.detect.dates import _find_dob
from mamori.deid.text.detect.keep import KEEP_LIST, KeepList, apply_keep
from mamori.deid.text.detect.persons import coreference, find_persons
from mamori.deid.text.detect.structured import (
    _EMAIL,
    _find_bank,
    _find_ips,
    _find_numbers,
    _find_phones,
    _find_postal,
)
from mamori.deid.text.normalize import normalize
from mamori.deid.text.sensitive import find_sensitive

# --- orchestration ---------------------------------------------------------------------------------------


def _resolve(findings: list[Finding]) -> list[Finding]:
    """Drop overlaps: keep the higher-priority finding, then the longer one (O(n log n))."""
    ranked = sorted(findings, key=lambda f: (-_PRIORITY.get(f.type, 0), -(f.end - f.start), f.start))
    starts: list[int] = []  # kept intervals, sorted by start; they never overlap each other
    ends: list[int] = []
    kept: list[Finding] = []
    for f in ranked:
        i = bisect.bisect_left(starts, f.end)  # kept intervals starting before f ends are at < i
        if i > 0 and ends[i - 1] > f.start:
            continue
        starts.insert(i, f.start)
        ends.insert(i, f.end)
        kept.append(f)
    return sorted(kept, key=lambda f: (f.start, f.end))


_ANY_DIGIT = lazy_compile(r"\d")
# Career history (a prospect's former employer, seed 004): personal information a sales purpose rarely needs.
# Reported as the review flag "flag:career" (not 要配慮, not redacted by default).
_CAREER = lazy_compile(
    r"前職|前の会社|元勤務先|以前の勤務先|職歴|転職歴|経歴|former employer|previous employer|previously worked"
    r"|used to work|work history|career history",
    re.IGNORECASE,
)

# The optional NER span provider in effect (set with ``mamori.deid.text.ner.using_ner``); None: rules only.
NER_PROVIDER: ContextVar[Callable[[str], Iterable[tuple[int, int, str]]] | None] = ContextVar(
    "mamori_text_ner", default=None
)


def detect(
    text: str,
    *,
    types: frozenset[str] | None = None,
    sensitive: bool = True,
    ner: Callable[[str], Iterable[tuple[int, int, str]]] | None = None,
    keep: KeepList | None = None,
) -> list[Finding]:
    """All findings in ``text`` (offsets on the original text), sorted by position.

    ``types`` restricts the PII types returned; ``sensitive`` adds the review flags: 要配慮 terms
    (``sensitive:<category>``, sensitive=True, R-2.3-1) and career history (``flag:career``, sensitive=False).
    Flags may overlap other findings and are never merged away. ``ner`` is an optional span provider
    (``mamori.deid.text.ner``: ``ginza_ner()``); without it, the one set by ``using_ner`` is used, if any.
    ``keep`` lists what is not personal however it looks (the company's own numbers and names, from the company
    settings and the counterparty registry); without it, the one set by ``using_keep`` is used, if any.
    """
    if not text:
        return []
    norm = normalize(text)
    found: list[Finding] = []
    has_digit = _ANY_DIGIT.search(norm) is not None
    if "@" in norm:
        found += [Finding("email", m.start(), m.end()) for m in _EMAIL.finditer(norm)]
    if has_digit:
        found += _find_numbers(norm)
        found += _find_phones(norm)
        found += _find_postal(norm)
        found += _find_ips(norm)
        found += _find_bank(norm)
        found += _find_dob(norm)
        found += _find_addresses(norm)
    elif "生" in norm or "誕" in norm:  # a birth date in kanji numerals (昭和十九年三月十日生まれ)
        found += _find_dob(norm)
    persons = find_persons(norm)
    found += persons
    found += find_residences(norm, persons)
    provider = ner if ner is not None else NER_PROVIDER.get()
    if provider is not None:
        from mamori.deid.text.ner import merge_ner  # noqa: PLC0415  # ner imports this module

        found = merge_ner(text, found, provider(text))
    if types is not None:
        found = [f for f in found if f.type in types]
    result = _resolve(found)
    # A surname or given name seen once as part of a full name is a person everywhere else in the document.
    more = coreference(norm, [f for f in result if f.type == "person"])
    if more and (types is None or "person" in types):
        result = _resolve(result + more)
    result = apply_keep(norm, result, keep if keep is not None else KEEP_LIST.get())
    if sensitive:
        result += [Finding(t, s, e, True) for t, s, e in find_sensitive(norm)]
        result += [Finding("flag:career", m.start(), m.end()) for m in _CAREER.finditer(norm)]
        result.sort(key=lambda f: (f.start, f.end))
    return result
