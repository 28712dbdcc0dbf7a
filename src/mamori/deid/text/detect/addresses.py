"""Addresses: 都道府県 + 市区町村 + 番地 in Japanese, street patterns in English."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from faker.providers.address.en_US import Provider as _EnAddress

from mamori.deid.text.detect.common import Finding
from mamori.deid.text.detect.structured import _HIRA, _KANJI, _KATA, _ONE_KANJI_KATA

# --- addresses -------------------------------------------------------------------------------------------

_PREFS: Final = (
    "北海道 青森県 岩手県 宮城県 秋田県 山形県 福島県 茨城県 栃木県 群馬県 埼玉県 千葉県 東京都 神奈川県 新潟県 "
    "富山県 石川県 福井県 山梨県 長野県 岐阜県 静岡県 愛知県 三重県 滋賀県 京都府 大阪府 兵庫県 奈良県 和歌山県 "
    "鳥取県 島根県 岡山県 広島県 山口県 徳島県 香川県 愛媛県 高知県 福岡県 佐賀県 長崎県 熊本県 大分県 宮崎県 "
    "鹿児島県 沖縄県"
).split()
_KNUM = "一二三四五六七八九十"
_JA_ADDR = re.compile(
    r"(?P<pref>" + "|".join(_PREFS) + r")?"
    r"(?P<city>(?:["
    + _KANJI
    + _KATA
    + _HIRA
    + r"]{1,6}?[市区郡](?:["
    + _KANJI
    + _KATA
    + _HIRA
    + r"]{1,5}?[区町村])?"
    r"|[" + _KANJI + _KATA + r"]{1,5}?[町村]))"
    r"(?P<town>[" + _KANJI + _KATA + _HIRA + r"]{0,10}?)"
    r"(?P<num>[\d"
    + _KNUM
    + r"]+(?:丁目|-)(?: ?\d+(?:番地?|-|の))?(?: ?\d+号?)?|\d+番地?(?: ?\d+号?)?|\d+-\d+(?:-\d+)?)"
    r"(?P<bldg> ?[" + _KANJI + _KATA + r"A-Za-z]{2,16} ?\d{1,4}(?:号室)?)?"
)


@lru_cache(maxsize=1)
def _en_addr_pattern() -> re.Pattern[str]:
    suffixes = set(_EnAddress.street_suffixes) | {"St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Pl"}
    suf = "|".join(sorted((re.escape(s) for s in suffixes), key=len, reverse=True))
    states = "[A-Z]{2}"
    return re.compile(
        r"(?<![A-Za-z0-9_-])\d{1,5}\s(?:[NSEW]\.?\s)?(?:[A-Z][a-z]+\s){1,3}(?:" + suf + r")\.?"
        r"(?:,?\s(?:Apt\.?|Suite|Unit|#)\s?\d+[A-Z]?)?"
        r"(?:,?\s(?:[A-Z][a-z]+\s?){1,3},\s(?:" + states + r")\s\d{5}(?:-\d{4})?)?(?![A-Za-z0-9_])"
    )


_DIGIT_SPACE_UPPER = re.compile(r"\d\s[A-Z]")
_KANJI_RUN = re.compile(r"[" + _KANJI + r"]+")
_ADDR_START = re.compile(r"(?<![" + _KANJI + _KATA + r"])[" + _KANJI + _KATA + r"]")


def _address_matches(norm: str) -> list[re.Match[str]]:
    """Try the address pattern only where an address can start: at a prefecture name, or at the start of a
    kanji/katakana run that reaches a 市/区/町/村/郡 within a few characters."""
    starts: set[int] = set()
    for pref in _PREFS:
        i = norm.find(pref)
        while i >= 0:
            starts.add(i)
            i = norm.find(pref, i + 1)
    for m in _ADDR_START.finditer(norm):
        seg = norm[m.start() : m.start() + 12]
        if "市" in seg or "区" in seg or "町" in seg or "村" in seg or "郡" in seg:
            starts.add(m.start())
    out: list[re.Match[str]] = []
    last = -1
    for pos in sorted(starts):
        if pos < last:
            continue
        hit = _JA_ADDR.match(norm, pos)
        if hit:
            out.append(hit)
            last = hit.end()
    return out


_ADDR_HINT = re.compile(r"[市区町村郡][^\n]{0,24}\d")


def _find_addresses(norm: str) -> list[Finding]:
    out: list[Finding] = []
    for m in _address_matches(norm) if _ADDR_HINT.search(norm) else ():
        if not m.group("pref") and not re.search(r"[市区]", m.group("city")):
            continue
        if not m.group("pref"):
            # A city without a prefecture must start a word: not inside a longer kanji run.
            s = m.start()
            if s > 0 and _ONE_KANJI_KATA.match(norm[s - 1]):
                continue
        end = m.end()
        bldg = m.group("bldg")
        if bldg and re.search(r"(?:です|ます|様|さん)", bldg):
            end = m.start("bldg")
        out.append(Finding("address", m.start(), end))
    if _DIGIT_SPACE_UPPER.search(norm):
        for m in _en_addr_pattern().finditer(norm):
            out.append(Finding("address", m.start(), m.end()))
    return out
