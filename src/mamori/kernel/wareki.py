"""和暦 (Japanese era) dates: formatting for display and parsing for import."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

ERAS: tuple[tuple[str, date], ...] = (
    ("令和", date(2019, 5, 1)),
    ("平成", date(1989, 1, 8)),
    ("昭和", date(1926, 12, 25)),
    ("大正", date(1912, 7, 30)),
    ("明治", date(1868, 1, 25)),
)

_WAREKI = re.compile(r"^(明治|大正|昭和|平成|令和)(元|\d{1,2})年(\d{1,2})月(\d{1,2})日$")


def to_wareki(day: date) -> str:
    for name, start in ERAS:
        if day >= start:
            year = day.year - start.year + 1
            y = "元" if year == 1 else str(year)
            return f"{name}{y}年{day.month}月{day.day}日"
    return f"{day.year}年{day.month}月{day.day}日"


def parse_wareki(text: str) -> date | None:
    """Parse 「昭和60年1月2日」 / 「令和元年5月1日」; None if the text is not a 和暦 date or not a real day."""
    m = _WAREKI.match(unicodedata.normalize("NFKC", text).replace(" ", ""))
    if not m:
        return None
    era, y, mo, d = m.groups()
    start = dict(ERAS)[era]
    year = start.year + (0 if y == "元" else int(y) - 1)
    try:
        result = date(year, int(mo), int(d))
    except ValueError:
        return None
    if result < start:
        return None
    names = [n for n, _ in ERAS]
    i = names.index(era)
    if i > 0 and result >= ERAS[i - 1][1]:
        return None  # past the era's last day (e.g. 平成31年5月1日 is 令和元年5月1日)
    return result
