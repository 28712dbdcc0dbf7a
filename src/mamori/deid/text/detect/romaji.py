"""Romanised Japanese names: a Hepburn (and kunrei) syllable grammar plus context.

A capitalised or ALL-CAPS word is a candidate when it parses completely into Japanese syllables (``Kiryu`` =
ki-ryu, ``Saitoh`` = sa-i-to-h, ``Homma`` = ho-m-ma, ``Ōno``). Syllabic English words and Japanese places
(``Name``, ``Home``, ``Tokyo``, ``Kobe``) parse too, so a word is a name only when it is in no stop list
(``names.romaji_stop_words()``) and a second signal stands next to it: another such word (either order,
``KIRYU Asahi`` / ``Asahi Kiryu``), a title (Mr. Ms. Mrs. Dr.), ``-san``/``san`` after it, or a name label.
"""

from __future__ import annotations

import re
from functools import lru_cache

from mamori.deid.text import names
from mamori.deid.text.detect.common import Finding, lazy_compile

_V = "aiueoāīūēōâîûêô"
_ONSET = (
    r"(?:k(?=k)|s(?=s)|t(?=t)|p(?=p)|t(?=ch)|c(?=ch)|m(?=[bmp]))?"  # geminate, m before b/m/p (Homma, Namba)
    r"(?:ky|gy|sh|sy|ch|ty|ts|ny|hy|by|py|my|ry|jy|zy|j|f|w|y|[kgsztdnhbpmr])?"
)
_SYLLABLE = r"(?:" + _ONSET + r"[" + _V + r"](?:h(?![" + _V + r"y]))?|n'?(?![" + _V + r"y]))"
_ROMAJI_WORD = lazy_compile(r"(?:" + _SYLLABLE + r")+")
_BAD = lazy_compile(r"yi|ye|wu|wi|we|^n(?![aiueoy])|nnn")  # combinations Hepburn does not write

_WORD = r"(?:[A-Z][a-zāīūēō]+|[A-ZĀĪŪĒŌ]{2,})"
_TITLED = lazy_compile(r"(?<![A-Za-z])(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?[ ]+(" + _WORD + r")(?![A-Za-z'-])")
_SAN = lazy_compile(r"(?<![A-Za-z.'-])(" + _WORD + r")(?:-| )(?:san|sama|sensei|kun|chan)\b")
_LABELLED = lazy_compile(
    r"(?:Name|Contact|From|Attendee|Speaker|担当者?|氏名|お名前)[ ]*[:：][ ]*(" + _WORD + r")(?![A-Za-z'-])"
)
_PLACE_AFTER = lazy_compile(
    r"[ -]?(?:ku|shi|cho|machi|mura|gun|ken|to|fu|ward|city|prefecture|station|eki)\b", re.I
)


@lru_cache(maxsize=16384)
def is_romaji_name(word: str) -> bool:
    """``word`` parses fully as Japanese syllables and is neither an English word nor a place on our lists."""
    low = word.lower()
    if len(low) < 3 or low in names.romaji_stop_words():
        return False
    return _ROMAJI_WORD.fullmatch(low) is not None and _BAD.search(low) is None


# After a name: a company word (Washio Denso Corporation), or another capitalised word that is not romaji
# (Hibino Online Securities): the words are a company or a product, not a person.
_COMPANY_NEXT = lazy_compile(
    r"[ ,]+(?:Corporation|Corp|Inc|Co|Ltd|LLC|KK|K\.K|Holdings|Group|Company|Trading)\b"
)
_NEXT_WORD = lazy_compile(r" ([A-Z][a-z]+)\b")


def _usable(norm: str, m: re.Match[str], group: int) -> bool:
    if not is_romaji_name(m.group(group)) or _PLACE_AFTER.match(norm, m.end(group)):
        return False
    nxt = _NEXT_WORD.match(norm, m.end(group))
    return not (nxt and not is_romaji_name(nxt.group(1))) and not _COMPANY_NEXT.match(norm, m.end(group))


_CAP_WORD = lazy_compile(r"[A-ZĀĪŪĒŌ][A-Za-zāīūēōĀĪŪĒŌ]+")
_HONORIFIC_WORDS = ("san", "sama", "sensei", "kun", "chan")


def find_romaji_names(norm: str) -> list[Finding]:
    out: list[Finding] = []
    prev: re.Match[str] | None = None  # the last name-like word, when only spaces separate it from the next
    for m in _CAP_WORD.finditer(norm):
        s, e = m.start(), m.end()
        if (s and (norm[s - 1].isalpha() or norm[s - 1] in ".'-")) or (e < len(norm) and norm[e] in "'"):
            prev = None
            continue
        ok = is_romaji_name(m.group()) and not _PLACE_AFTER.match(norm, e)
        if (
            ok
            and prev is not None
            and norm[prev.end() : s] in (" ", "  ")
            and not _COMPANY_NEXT.match(norm, e)
        ):
            out.append(Finding("person", prev.start(), e))
        prev = m if ok else None
    if "Mr" in norm or "Ms" in norm or "Dr" in norm or "Miss" in norm or "Prof" in norm:
        out += _single(norm, _TITLED)
    if any(h in norm for h in _HONORIFIC_WORDS):
        out += _single(norm, _SAN)
    if ":" in norm or "：" in norm:
        out += _single(norm, _LABELLED)
    return out


def _single(norm: str, pat: re.Pattern[str]) -> list[Finding]:
    return [Finding("person", m.start(1), m.end(1)) for m in pat.finditer(norm) if _usable(norm, m, 1)]
