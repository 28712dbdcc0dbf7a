"""和暦 (Japanese era) dates: formatting for display and parsing for import.

The era table lives here (one copy); the parser is :func:`mamori.kernel.jptext.wareki_date`, which
:func:`parse_wareki` and :func:`mamori.kernel.jptext.parse_date` both use.
"""

from __future__ import annotations

from datetime import date

ERAS: tuple[tuple[str, date], ...] = (
    ("令和", date(2019, 5, 1)),
    ("平成", date(1989, 1, 8)),
    ("昭和", date(1926, 12, 25)),
    ("大正", date(1912, 7, 30)),
    ("明治", date(1868, 1, 25)),
)
# The letters Excel's "g" format and people write for the eras (upper or lower case): S60.1.5 = 昭和60年1月5日.
ERA_LETTERS: dict[str, str] = {"R": "令和", "H": "平成", "S": "昭和", "T": "大正", "M": "明治"}


def to_wareki(day: date) -> str:
    for name, start in ERAS:
        if day >= start:
            year = day.year - start.year + 1
            y = "元" if year == 1 else str(year)
            return f"{name}{y}年{day.month}月{day.day}日"
    return f"{day.year}年{day.month}月{day.day}日"


def parse_wareki(text: str) -> date | None:
    """Parse 「昭和60年1月2日」 / 「令和元年5月1日」 / 「S60.1.2」 / 「h1-1-8」 / 「R元/5/1」 (full-width digits, any
    dash); None if the text is not a 和暦 date or not a real day of that era."""
    from mamori.kernel.jptext import fold, wareki_date
    from mamori.kernel.validation import Invalid

    try:
        return wareki_date(fold(text))
    except Invalid:
        return None
