"""Dates of birth: a real calendar date with birth context nearby (or in a birth-date CSV column)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

from mamori.deid.text.detect.common import Finding

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
_DATE = re.compile(
    r"(?P<era>明治|大正|昭和|平成|令和|[MTSHR])\s?(?P<ey>元|\d{1,2})\s?(?:年|[./-])\s?(?P<em>\d{1,2})\s?(?:月|[./-])"
    r"\s?(?P<ed>\d{1,2})日?"
    r"|(?P<y>(?:18|19|20)\d{2})\s?(?:年|[./-])\s?(?P<m>\d{1,2})\s?(?:月|[./-])\s?(?P<d>\d{1,2})日?"
    r"|(?P<us_m>\d{1,2})/(?P<us_d>\d{1,2})/(?P<us_y>(?:18|19|20)\d{2})"
    r"|(?P<mn>" + _MONTH_ALT + r")\.?\s(?P<mn_d>\d{1,2})(?:st|nd|rd|th)?,?\s(?P<mn_y>(?:18|19|20)\d{2})"
    r"|(?P<dm_d>\d{1,2})(?:st|nd|rd|th)?\s(?P<dm_m>" + _MONTH_ALT + r")\.?,?\s(?P<dm_y>(?:18|19|20)\d{2})",
)
_DOB_WORDS = (
    r"(?:生年月日|誕生日|生まれ|DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s*date|birthday|born(?:\s+on)?)"
)
_ASCII_UPPER_OR_LOWER = re.compile(r"[A-Za-z]")
_DOB_ANY = re.compile(_DOB_WORDS, re.IGNORECASE)
_DOB_BEFORE = re.compile(_DOB_WORDS + r"[^\n]{0,12}$", re.IGNORECASE)
_DOB_AFTER = re.compile(r"^\s?(?:生まれ|生|誕生)")


def _dob_context(norm: str, start: int, end: int, csv_col: int | None) -> bool:
    line_start = norm.rfind("\n", 0, start) + 1
    if _DOB_BEFORE.search(norm[max(line_start, start - 24) : start]) or _DOB_AFTER.search(
        norm[end : end + 4]
    ):
        return True
    if csv_col is not None and line_start > 0:
        return norm.count(",", line_start, start) == csv_col
    # A question on the previous line answered at the start of this one (call transcripts, chat logs).
    if line_start > 0 and start - line_start <= 8:
        prev_start = norm.rfind("\n", 0, line_start - 1) + 1
        return bool(_DOB_ANY.search(norm, prev_start, line_start))
    return False


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
            return dt.date(int(g["us_y"]), int(g["us_m"]), int(g["us_d"]))
        if g["mn_y"]:
            return dt.date(int(g["mn_y"]), _MONTHS[g["mn"].lower()], int(g["mn_d"]))
        if g["dm_y"]:
            return dt.date(int(g["dm_y"]), _MONTHS[g["dm_m"].lower()], int(g["dm_d"]))
    except ValueError:
        return None
    return None


_DOB_TRIGGER = re.compile(r"生|誕|DOB|D\.O\.B|[Bb]irth|BIRTH|[Bb]orn|BORN|[Dd]ob")


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
    out: list[Finding] = []
    csv_col = _csv_dob_column(norm) if "," in norm else None
    regions = [(0, len(norm))] if csv_col is not None else _dob_regions(norm)
    for a, b in regions:
        for m in _DATE.finditer(norm, a, b):
            if m.start() > 0 and norm[m.start() - 1].isdigit():
                continue
            if _date_value(m) is None:
                continue
            if _dob_context(norm, m.start(), m.end(), csv_col):
                out.append(Finding("date_of_birth", m.start(), m.end()))
    return out
