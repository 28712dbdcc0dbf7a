"""Dates of birth: a real calendar date with birth context nearby (or in a birth-date CSV column)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

from mamori.deid.text.detect.common import Finding, lazy_compile
from mamori.deid.text.detect.structured import _on_view

# --- dates of birth --------------------------------------------------------------------------------------

_ERAS: Final = {
    "明治": (1868, dt.date(1868, 1, 25), dt.date(1912, 7, 29)),
    "大正": (1912, dt.date(1912, 7, 30), dt.date(1926, 12, 24)),
    "昭和": (1926, dt.date(1926, 12, 25), dt.date(1989, 1, 7)),
    "平成": (1989, dt.date(1989, 1, 8), dt.date(2019, 4, 30)),
    "令和": (2019, dt.date(2019, 5, 1), dt.date(9999, 12, 31)),
}
_ERA_LETTERS: Final = {"M": "明治", "T": "大正", "S": "昭和", "H": "平成", "R": "令和"}
_MONTHS: Final = {
    m.lower(): i
    for i, names_ in enumerate(
        [
            ("January", "Jan"),
            ("February", "Feb"),
            ("March", "Mar"),
            ("April", "Apr"),
            ("May",),
            ("June", "Jun"),
            ("July", "Jul"),
            ("August", "Aug"),
            ("September", "Sep", "Sept"),
            ("October", "Oct"),
            ("November", "Nov"),
            ("December", "Dec"),
        ],
        start=1,
    )
    for m in names_
}
_MONTH_ALT = "|".join(
    sorted({v for m in _MONTHS for v in (m, m.capitalize(), m.upper())}, key=len, reverse=True)
)
_KANJI_NUM = "〇一二三四五六七八九十"
# 1976年（昭和51年）8月30日: the era year in brackets after the western year.
_ERA_ASIDE = r"(?:\s?\((?:明治|大正|昭和|平成|令和)[元\d]{1,2}年\))?"
_DATE = lazy_compile(
    r"(?P<era>明治|大正|昭和|平成|令和|[MTSHR])\s?(?P<ey>元|\d{1,2})\s?(?:年の?|[./-])\s?(?P<em>\d{1,2})\s?(?:月|[./-])"
    r"\s?(?P<ed>\d{1,2})(?: ?日)?"
    r"|(?P<kera>明治|大正|昭和|平成|令和)(?P<key>元|["
    + _KANJI_NUM
    + r"]{1,3})年(?P<kem>["
    + _KANJI_NUM
    + r"]{1,2})月"
    r"(?P<ked>[" + _KANJI_NUM + r"]{1,3})日"
    r"|(?P<y>(?:18|19|20)\d{2})\s?(?:年の?|[./-])"
    + _ERA_ASIDE
    + r"\s?(?P<m>\d{1,2})\s?(?:月|[./-])\s?(?P<d>\d{1,2})(?: ?日)?"
    r"|(?P<ym_y>(?:18|19|20)\d{2})\s?年\s?(?P<ym_m>\d{1,2})\s?月(?=\s?生まれ)"
    r"|(?P<us_m>\d{1,2})\s?/\s?(?P<us_d>\d{1,2})\s?/\s?(?P<us_y>(?:18|19|20)\d{2})"
    r"|(?P<mn>" + _MONTH_ALT + r")\.?\s(?P<mn_d>\d{1,2})(?:st|nd|rd|th)?,?\s(?P<mn_y>(?:18|19|20)\d{2})"
    r"|(?P<dm_d>\d{1,2})(?:st|nd|rd|th)?\s(?:of\s)?(?P<dm_m>"
    + _MONTH_ALT
    + r")\.?,?\s(?P<dm_y>(?:18|19|20)\d{2})",
)
# Birthdays without a year: 12月3日, 12/3, Dec 3, 3 December — looked for only right after a birth word or right
# before 生まれ (``_find_birthdays``).
_DATE_NO_YEAR = lazy_compile(
    r"(?P<nm>\d{1,2})\s?月\s?(?P<nd>\d{1,2})\s?日"
    r"|(?P<sm>\d{1,2})/(?P<sd>\d{1,2})(?![/\d])"
    r"|(?P<ymn>" + _MONTH_ALT + r")\.?\s(?P<ymn_d>\d{1,2})(?:st|nd|rd|th)?(?![\d:])"
    r"|(?P<yd>\d{1,2})(?:st|nd|rd|th)?\s(?:of\s)?(?P<ydm>" + _MONTH_ALT + r")\b"
)
_DOB_WORDS = (
    r"(?:生年月日|誕生日|生まれ|DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s*date|birthday|born(?:\s+on)?)"
)
_ASCII_UPPER_OR_LOWER = lazy_compile(r"[A-Za-z]")
_DOB_ANY = lazy_compile(_DOB_WORDS, re.IGNORECASE)
_DOB_BEFORE = lazy_compile(_DOB_WORDS + r"[^\n]{0,20}$", re.IGNORECASE)
_DOB_AFTER = lazy_compile(r"^\s?(?:生まれ|生|誕生)")
# A date without a year is a birthday only right after the word (誕生日は12月3日, Birthday: Dec 3) or before 生まれ.
_DOB_WORD_END = lazy_compile(
    r"(?:生年月日|誕生日|DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s*date|birthday|born(?:\s+on)?)"
    r"(?:\s|は|が|：|:|,|is|was|on|it's|it is|\(|（)*",
    re.IGNORECASE,
)
_NO_YEAR_BEFORE_BORN = lazy_compile(r"(?:\d{1,2}\s?月\s?\d{1,2}\s?日|\d{1,2}/\d{1,2})\s?$")


def _dob_context(norm: str, start: int, end: int, csv_col: int | None) -> bool:
    line_start = norm.rfind("\n", 0, start) + 1
    if _DOB_BEFORE.search(norm[max(line_start, start - 32) : start]) or _DOB_AFTER.search(
        norm[end : end + 4]
    ):
        return True
    if csv_col is not None and line_start > 0:
        return norm.count(",", line_start, start) == csv_col
    # A question on the previous line answered at the start of this one (call transcripts, chat logs).
    if line_start > 0 and start - line_start <= 8:
        prev_start = norm.rfind("\n", 0, line_start - 1) + 1
        return bool(_DOB_ANY.search(norm, prev_start, line_start))
    # ... or after a speaker's label ("[10:06] Customer: Aug 9, 1988"), when the question has no date of its own
    if line_start > 0 and _SPEAKER.fullmatch(norm, line_start, start):
        prev_start = norm.rfind("\n", 0, line_start - 1) + 1
        word = _DOB_ANY.search(norm, prev_start, line_start)
        return word is not None and not _ANY_DIGIT.search(norm, word.end(), line_start)
    return False


# A speaker's label before an answer: "[10:06] Customer: ", "お客様：".
_SPEAKER = lazy_compile(r"[^\n]{0,30}[:：]\s*")
_ANY_DIGIT = lazy_compile(r"\d")


def _kanji_int(s: str) -> int:
    """一 … 九十九 (and 〇-style digits: 二〇 → 20) as an int; 元 is 1."""
    if s == "元":
        return 1
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (_KANJI_NUM.index(tens) if tens else 1) * 10 + (_KANJI_NUM.index(ones) if ones else 0)
    value = 0
    for ch in s:
        value = value * 10 + _KANJI_NUM.index(ch)
    return value


def _csv_dob_column(norm: str) -> int | None:
    """If the first line is a CSV header naming a birth-date column, its index."""
    first = norm.split("\n", 1)[0]
    if "," not in first:
        return None
    for i, name in enumerate(first.split(",")):
        if _DOB_ANY.search(name):
            return i
    return None


def _date_value(m: re.Match[str]) -> dt.date | None:
    g = m.groupdict()
    try:
        if g["kera"]:
            base, first, last = _ERAS[g["kera"]]
            d = dt.date(base + _kanji_int(g["key"]) - 1, _kanji_int(g["kem"]), _kanji_int(g["ked"]))
            return d if first <= d <= last else None
        if g["ym_y"]:
            return dt.date(int(g["ym_y"]), int(g["ym_m"]), 1)
        if g["era"]:
            era = _ERA_LETTERS.get(g["era"].upper(), g["era"])
            if era not in _ERAS:
                return None
            base, first, last = _ERAS[era]
            year = base + (0 if g["ey"] == "元" else int(g["ey"]) - 1)
            d = dt.date(year, int(g["em"]), int(g["ed"]))
            return d if first <= d <= last else None
        if g["y"]:
            return dt.date(int(g["y"]), int(g["m"]), int(g["d"]))
        if g["us_y"]:
            y, a, b = int(g["us_y"]), int(g["us_m"]), int(g["us_d"])
            if a > 12 >= b:  # day/month/year (DOB: 23/12/1988)
                a, b = b, a
            return dt.date(y, a, b)
        if g["mn_y"]:
            return dt.date(int(g["mn_y"]), _MONTHS[g["mn"].lower()], int(g["mn_d"]))
        if g["dm_y"]:
            return dt.date(int(g["dm_y"]), _MONTHS[g["dm_m"].lower()], int(g["dm_d"]))
    except ValueError:
        return None
    return None


# Case variants spelt out: alternatives that all start with a literal let the engine skip other characters fast.
_DOB_TRIGGER = lazy_compile(r"生|誕|DOB|D\.O\.B|Birth|birth|BIRTH|Born|born|BORN|Dob|dob")


def _dob_regions(norm: str) -> list[tuple[int, int]]:
    """Line-aligned windows around birth-date words; dates are only parsed there (dates elsewhere cannot be
    birth dates, and parsing every date is the most expensive step)."""
    regions: list[tuple[int, int]] = []
    n = len(norm)
    for kw in _DOB_TRIGGER.finditer(norm):
        a = norm.rfind("\n", 0, max(0, kw.start() - 30)) + 1
        line_end = norm.find("\n", kw.end())
        next_end = norm.find("\n", line_end + 1) if line_end >= 0 else -1
        b = n if next_end < 0 else next_end
        if regions and a <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(b, regions[-1][1]))
        else:
            regions.append((a, b))
    return regions


def _find_dob(norm: str) -> list[Finding]:
    return _on_view(norm, _dob_in)


# Between two dates of a list (生年月日：1962年4月8日 ／ 1999年1月30日, born 3 May 1990 and 9 June 1992).
_LIST_GAP = lazy_compile(r"\s?(?:[/,、・]|and|or|と|及び|および)\s?")


def _dob_in(norm: str) -> list[Finding]:
    out: list[Finding] = []
    csv_col = _csv_dob_column(norm) if "," in norm else None
    regions = [(0, len(norm))] if csv_col is not None else _dob_regions(norm)
    for a, b in regions:
        for m in _DATE.finditer(norm, a, b):
            if m.start() > 0 and norm[m.start() - 1].isdigit():
                continue
            if _date_value(m) is None:
                continue
            if _dob_context(norm, m.start(), m.end(), csv_col) or (
                out and _LIST_GAP.fullmatch(norm, out[-1].end, m.start())
            ):
                out.append(Finding("date_of_birth", m.start(), m.end()))
    if regions:
        out += _find_birthdays(norm, out, regions)
    return out


_BIRTHDAY_TRIGGER = lazy_compile(r"誕生日|生年月日|生まれ|DOB|D\.O\.B|[Bb]irth|BIRTH|[Bb]orn|BORN")


def _no_year_value(m: re.Match[str]) -> dt.date | None:
    """The date of a match of ``_DATE_NO_YEAR`` in a leap year (2月29日 is a birthday too), or None."""
    g = m.groupdict()
    try:
        if g["nm"]:
            return dt.date(2000, int(g["nm"]), int(g["nd"]))
        if g["sm"]:
            return dt.date(2000, int(g["sm"]), int(g["sd"]))
        if g["ymn"]:
            return dt.date(2000, _MONTHS[g["ymn"].lower()], int(g["ymn_d"]))
        return dt.date(2000, _MONTHS[g["ydm"].lower()], int(g["yd"]))
    except ValueError:
        return None


def _find_birthdays(norm: str, taken: list[Finding], regions: list[tuple[int, int]]) -> list[Finding]:
    """Birthdays without a year: right after a birth word (誕生日は１２月３日, Birthday: Dec 3) or right before
    生まれ (12/3生まれ), looked for in the regions around birth words only. Dates elsewhere (納品日は12月3日, a
    birthday party on May 5) are not birthdays."""
    out: list[Finding] = []
    for kw in (kw for a, b in regions for kw in _BIRTHDAY_TRIGGER.finditer(norm, a, b)):
        if kw.group() == "生まれ":
            before = _NO_YEAR_BEFORE_BORN.search(norm, max(0, kw.start() - 12), kw.start())
            if before and (before.start() == 0 or not norm[before.start() - 1].isdigit()):
                m = _DATE_NO_YEAR.match(norm, before.start())
                if m and _no_year_value(m):
                    out.append(Finding("date_of_birth", m.start(), m.end()))
            continue
        # the word starts at the trigger (誕生日, 生年月日, DOB, birthday) or 8 characters before it (date of birth)
        w = _DOB_WORD_END.match(norm, kw.start()) or _DOB_WORD_END.match(norm, max(0, kw.start() - 8))
        if not w:
            continue
        m = _DATE_NO_YEAR.match(norm, w.end())
        if m and _no_year_value(m) and not (m.end() < len(norm) and norm[m.end()] in "/年"):
            out.append(Finding("date_of_birth", m.start(), m.end()))
    return [f for f in out if not any(t.start <= f.start < t.end for t in taken)]
