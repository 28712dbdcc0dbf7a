"""Detectors for personal information in Japanese and English free text.

Every detector works on the width-normalised text (see ``normalize``), which has the same length as the
original, so the offsets reported are offsets in the original text. Structured identifiers are checked
(phone numbers by ``phonenumbers``, My Number / 法人番号 check digits, Luhn for cards, real calendar dates);
names and addresses use dictionaries plus context (honorifics, labels, 都道府県 + 市区町村 + 番地).
"""

from __future__ import annotations

import bisect
import datetime as dt
import ipaddress
import re
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import phonenumbers
from faker.providers.address.en_US import Provider as _EnAddress

from mamori.deid.text import names
from mamori.deid.text.checkdigits import corporate_number_valid, luhn_valid, my_number_valid
from mamori.deid.text.normalize import normalize
from mamori.deid.text.sensitive import find_sensitive

PII_TYPES: Final = (
    "email",
    "phone",
    "postal_code",
    "my_number",
    "corporate_number",
    "credit_card",
    "bank_account",
    "date_of_birth",
    "address",
    "person",
    "ip_address",
)

TYPE_LABELS_JA: Final = {
    "email": "メールアドレス",
    "phone": "電話番号",
    "postal_code": "郵便番号",
    "my_number": "個人番号",
    "corporate_number": "法人番号",
    "credit_card": "カード番号",
    "bank_account": "口座番号",
    "date_of_birth": "生年月日",
    "address": "住所",
    "person": "人名",
    "ip_address": "IPアドレス",
}
TYPE_LABELS_EN: Final = {
    "email": "EMAIL",
    "phone": "PHONE",
    "postal_code": "POSTAL_CODE",
    "my_number": "MY_NUMBER",
    "corporate_number": "CORPORATE_NUMBER",
    "credit_card": "CREDIT_CARD",
    "bank_account": "BANK_ACCOUNT",
    "date_of_birth": "DATE_OF_BIRTH",
    "address": "ADDRESS",
    "person": "PERSON",
    "ip_address": "IP_ADDRESS",
}

# Higher wins when two findings overlap and neither contains the other by length rule.
_PRIORITY: Final = {
    "my_number": 9,
    "corporate_number": 9,
    "credit_card": 9,
    "email": 8,
    "ip_address": 8,
    "bank_account": 7,
    "phone": 7,
    "postal_code": 6,
    "date_of_birth": 6,
    "address": 5,
    "person": 4,
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected span of the original text. ``sensitive`` marks 要配慮 flags (R-2.3-1)."""

    type: str
    start: int
    end: int
    sensitive: bool = False


# --- structured identifiers ------------------------------------------------------------------------------

_KANJI = r"\u3400-\u9fff\u3005"  # CJK ideographs + 々
_KATA = r"\u30a1-\u30fa\u30fc"
_HIRA = r"\u3041-\u3096"

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
_SEP = r"[-\s.ー]?"
_PHONE = re.compile(
    r"(?<![A-Za-z0-9_+-])(?:"
    r"\+81[-\s]?\(?0?\)?\d{1,4}[-\s.]?\d{1,4}[-\s.]?\d{3,4}"  # +81 forms
    r"|\+1[-\s.]?\(?\d{3}\)?[-\s.]?\d{3}[-\s.]\d{4}"  # +1 (US/CA)
    r"|\(0\d{1,4}\)\s?\d{1,4}" + _SEP + r"\d{3,4}"  # (03)1234-5678
    r"|0\d{1,4}" + _SEP + r"\d{1,4}" + _SEP + r"\d{3,4}"  # domestic JP
    r"|\(\d{3}\)\s?\d{3}[-.]\d{4}|\d{3}[-.]\d{3}[-.]\d{4}"  # domestic US
    r")(?![A-Za-z0-9_-])"
)
_POSTAL = re.compile(
    r"(?:〒|郵便番号[:\s]*)\s?(\d{3}-?\d{4})(?!\d)|(?<![A-Za-z0-9_-])(\d{3}-\d{4})(?![A-Za-z0-9_-])"
)
_DIGIT_RUN = re.compile(r"(?<![A-Za-z0-9_-])\d(?:[- ]?\d){11,18}(?![A-Za-z0-9_-])")
_IPV4 = re.compile(r"(?<![A-Za-z0-9_.])(?:\d{1,3}\.){3}\d{1,3}(?![A-Za-z0-9_.]|\.\d)")
_IPV6 = re.compile(
    r"(?<![A-Za-z0-9_])(?:[0-9A-Fa-f]{1,4}:){2,7}(?::|[0-9A-Fa-f]{1,4})(?:[0-9A-Fa-f:]*)(?![A-Za-z0-9_:])"
)
_HEX_COLON = re.compile(r"[0-9A-Fa-f]:[0-9A-Fa-f]{1,4}:")
_BANK = re.compile(
    r"(?:口座番号|口座|普通預金|当座預金|普通|当座|account\s+(?:no\.?|number|#)|a/c(?:\s+no\.?)?)"
    r"[\s:#]*(?:(?:普通|当座)[\s:]*)?(?:no\.?\s*)?(\d(?:[- ]?\d){5,13})(?![\d-])",
    re.IGNORECASE,
)

_ORDER_CONTEXT = re.compile(
    r"(?:(?:注文|受注|発注|請求書?|伝票|管理|会員|顧客|製品|型番|商品|品番|案件|問合せ|問い合わせ|チケット|予約|見積)"
    r"(?:番号|No\.?|ID|#|コード)|(?:order|invoice|ticket|ref|sku|model|serial|tracking)(?:\s*(?:no\.?|number|#|id))?)"
    r"[\s:#]*$",
    re.IGNORECASE,
)
_NON_DIGIT = re.compile(r"\D")
_CARD_WORD = re.compile(r"カード|card", re.IGNORECASE)
_GROUP_SEP = re.compile(r"[- ]")
_ONE_KANJI = re.compile(r"[" + _KANJI + r"]")
_ONE_KANJI_KATA = re.compile(r"[" + _KANJI + _KATA + r"]")
_JP_PHONE_DIGITS = re.compile(r"0[789]0[1-9]\d{7}|050[1-9]\d{7}|0120\d{6}|0800\d{7}|0570\d{6}|0[1-9]\d{8}")
_JP_NON_FIXED = ("050", "070", "080", "090", "0120", "0800", "0570", "020", "060", "0990")


def _jp_phone_valid(digits: str) -> bool:
    """Numbering-plan check for Japanese numbers (総務省 電気通信番号計画): mobile/050 11 digits, 0120/0570 10,
    0800 11, fixed lines 10 digits with a non-zero area code."""
    if not _JP_PHONE_DIGITS.fullmatch(digits):
        return False
    if len(digits) == 10:
        return digits.startswith(("0120", "0570")) or not digits.startswith(_JP_NON_FIXED)
    return digits.startswith(("050", "070", "080", "090", "0800"))


@lru_cache(maxsize=2048)
def _nanp_area_valid(area: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(f"+1{area}2012345", None))
    except phonenumbers.NumberParseException:  # pragma: no cover - the input is always well formed
        return False


def _nanp_valid(digits: str) -> bool:
    """10-digit NANP number: area and exchange codes start 2-9, the area code is not N11 and must be one
    libphonenumber knows for the US/Canada/Caribbean."""
    if len(digits) != 10 or digits[0] in "01" or digits[3] in "01":
        return False
    if digits[1:3] == "11":
        return False
    return _nanp_area_valid(digits[:3])


def _find_phones(norm: str) -> list[Finding]:
    out: list[Finding] = []
    for m in _PHONE.finditer(norm):
        raw = m.group().replace("ー", "-")
        digits = _NON_DIGIT.sub("", raw)
        if len(digits) < 9 or len(digits) > 13:
            continue
        if _ORDER_CONTEXT.search(norm[max(0, m.start() - 16) : m.start()]):
            continue
        if digits.startswith("81") and raw.lstrip().startswith("+81"):
            digits = "0" + digits[2:].removeprefix("0")
            ok = _jp_phone_valid(digits)
        elif digits.startswith("0"):
            ok = _jp_phone_valid(digits)
        else:  # North American forms: NANP shape + libphonenumber's metadata for the area code (cached)
            ok = _nanp_valid(digits.removeprefix("1") if len(digits) == 11 else digits)
        if ok:
            out.append(Finding("phone", m.start(), m.end()))
    return out


def _groups_ok(raw: str, allowed: tuple[tuple[int, ...], ...]) -> bool:
    parts = tuple(len(p) for p in _GROUP_SEP.split(raw))
    return len(parts) == 1 or parts in allowed


def _find_numbers(norm: str) -> list[Finding]:
    """My Number (12), 法人番号 (13) and card numbers (13-19) from one scan of digit runs."""
    out: list[Finding] = []
    for m in _DIGIT_RUN.finditer(norm):
        digits = _NON_DIGIT.sub("", m.group())
        before = norm[max(0, m.start() - 20) : m.start()]
        n = len(digits)
        raw = m.group()
        if n == 12 and my_number_valid(digits) and _groups_ok(raw, ((4, 4, 4),)):
            out.append(Finding("my_number", m.start(), m.end()))
        elif (
            n == 13
            and corporate_number_valid(digits)
            and _groups_ok(raw, ((1, 4, 4, 4),))
            and not _CARD_WORD.search(before)
        ):
            out.append(Finding("corporate_number", m.start(), m.end()))
        elif (
            13 <= n <= 19
            and digits[0] in "23456"
            and luhn_valid(digits)
            and _groups_ok(raw, ((4, 4, 4, 4), (4, 6, 5), (4, 6, 4), (4, 4, 4, 4, 3), (4, 4, 4, 1)))
        ):
            if _ORDER_CONTEXT.search(before):
                continue
            out.append(Finding("credit_card", m.start(), m.end()))
    return out


def _find_ips(norm: str) -> list[Finding]:
    out: list[Finding] = []
    if "." in norm:
        for m in _IPV4.finditer(norm):
            try:
                ipaddress.IPv4Address(m.group())
            except ValueError:
                continue
            out.append(Finding("ip_address", m.start(), m.end()))
    if "::" in norm or _HEX_COLON.search(norm):
        for m in _IPV6.finditer(norm):
            try:
                ipaddress.IPv6Address(m.group())
            except ValueError:
                continue
            out.append(Finding("ip_address", m.start(), m.end()))
    return out


def _find_postal(norm: str) -> list[Finding]:
    out: list[Finding] = []
    for m in _POSTAL.finditer(norm):
        g = 1 if m.group(1) else 2
        s, e = m.span(g)
        if g == 2 and _ORDER_CONTEXT.search(norm[max(0, s - 16) : s]):
            continue
        out.append(Finding("postal_code", s, e))
    return out


def _find_bank(norm: str) -> list[Finding]:
    return [Finding("bank_account", m.start(1), m.end(1)) for m in _BANK.finditer(norm)]


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


# --- person names ----------------------------------------------------------------------------------------

_HONORIFIC = r"(?:さん|様|さま|氏|殿|くん|君|ちゃん|先生|部長|課長|社長)"
_NAME_LABEL = re.compile(
    r"(?:氏名|お名前|名前|担当者?|差出人|送信者|講師|登壇者|受講者|申込者|契約者|フリガナ|ふりがな|"
    r"name|from|contact|attendee|speaker)[\s:：]*$",
    re.IGNORECASE,
)
_KANJI_OR_KANA = re.compile(r"[" + _KANJI + _KATA + _HIRA + r"]")


@lru_cache(maxsize=1)
def _ja_name_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    surnames = names.ja_surnames()
    given = names.ja_given_names()
    giv_alt = "|".join(sorted(given, key=len, reverse=True))
    kana_sur = "|".join(sorted({v for v in surnames.values() if v}, key=len, reverse=True))
    kana_giv = "|".join(sorted({v for v in given.values() if v}, key=len, reverse=True))
    kana_first = "".join(sorted({v[0] for v in surnames.values() if v}))
    # What may follow a surname: a given name (dictionary, or free when an honorific follows), an honorific.
    rest = re.compile(
        r"(?:(?P<sp>[ 　]?)(?:(?P<giv>" + giv_alt + r")(?![" + _KANJI + r"])"
        r"|(?P<free>[" + _KANJI + r"]{1,3}|[" + _HIRA + r"]{2,4})(?=[ 　]?" + _HONORIFIC + r")))?"
        r"(?P<hon>[ 　]?" + _HONORIFIC + r")?"
    )
    kana = re.compile(
        r"(?<!["
        + _KATA
        + r"])(?=["
        + kana_first
        + r"])(?:"
        + kana_sur
        + r")[ 　・]?(?:"
        + kana_giv
        + r")(?!["
        + _KATA
        + r"])"
    )
    return rest, kana


_HONORIFIC_HINT = re.compile(_HONORIFIC)
_NOT_A_NAME_END = "社店所局課部院会館行校園庁省署組合様方者員長業"
_NOT_NAMES = frozenset(
    "担当 担当者 関係者 利用者 顧客 患者 会員 株主 取引先 御社 貴社 弊社 当社 各位 皆 お客 同僚 上司 部下 家族 "
    "本人 代表 先方 先生 講師 受講者 参加者 申込者 契約者 相手 社員 職員".split()
)
# A surname not in the dictionary: 2-4 kanji right before an honorific, not inside a longer kanji run.
_SURNAME_HON = re.compile(r"(?<![" + _KANJI + r"])([" + _KANJI + r"]{2,4})(?=" + _HONORIFIC + r")")
# After a name label (お名前：, 氏名:, お客様：): kanji surname + optional space + kanji/hiragana given name.
_LABELLED_JA_NAME = re.compile(
    r"(?:氏名|お名前|名前|お客様|差出人|申込者|契約者|担当者?)[ :]+"
    r"(["
    + _KANJI
    + r"]{1,4}(?: ?(?:["
    + _KANJI
    + r"]{1,3}|["
    + _HIRA
    + r"]{2,3}))??)(?=です|$|[\n,、。]|\()",
    re.MULTILINE,
)
# A name alone on the line under a department / company line (e-mail signatures).
_SIGNATURE_NAME = re.compile(
    r"(?:部|課|室|店|社|センター|事務所)\n([" + _KANJI + r"]{1,4} ?[" + _KANJI + _HIRA + r"]{1,3})(?=\n)"
)
_CSV_PERSON_HEADER = re.compile(r"^(?:氏名|お名前|名前|顧客名|name|full ?name)$", re.IGNORECASE)
_CSV_CELL_NAME = re.compile(
    r"[" + _KANJI + _KATA + _HIRA + r"][" + _KANJI + _KATA + _HIRA + r" ]{0,10}|[A-Z][A-Za-z .'-]{1,40}"
)
_FREE_JA_NAME = re.compile(
    r"(?<![" + _KANJI + r"])([" + _KANJI + r"]{1,3}[ 　][" + _KANJI + r"]{1,3})(?=[ 　]?" + _HONORIFIC + r")"
)
_EN_TITLE = re.compile(
    r"(?<![A-Za-z])(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?\s((?:[A-Z][a-z]+(?:-[A-Z][a-z]+)?\s)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?)"
)
_EN_CAND = re.compile(
    r"(?<![A-Za-z])(?!(?:Dear|Hi|Hello|Name|From|Contact|Regards|Sincerely|Thanks|Mr|Mrs|Ms|Miss|Dr|Prof)\b)"
    r"([A-Z][a-z]+)(?:\s([A-Z])\.)?\s([A-Z][a-z]+(?:-[A-Z][a-z]+)?)(?![A-Za-z])"
)
_EN_LABEL = re.compile(r"(?:Dear|Name|Contact|From|Attendee|Speaker|Regards,?|Sincerely,?)[\s:,]*$")


@lru_cache(maxsize=1)
def _surname_first_pattern() -> re.Pattern[str]:
    """The characters a dictionary surname can start with: the regex engine finds them faster than a loop."""
    return re.compile("[" + "".join(sorted({re.escape(n[0]) for n in names.ja_surnames()})) + "]")


def _find_person_ja(norm: str) -> list[Finding]:
    out: list[Finding] = []
    rest, kana = _ja_name_patterns()
    surnames = names.ja_surnames()
    for hit in _surname_first_pattern().finditer(norm):
        s = hit.start()
        sur_end = 0
        for k in (4, 3, 2, 1):  # longest dictionary surname starting here
            if norm[s : s + k] in surnames:
                sur_end = s + k
                break
        if not sur_end:
            continue
        m = rest.match(norm, sur_end)
        if m is None:  # pragma: no cover - every group is optional
            continue
        prev = norm[s - 1] if s > 0 else ""
        if prev and _ONE_KANJI.match(prev) and not m.group("hon"):
            continue
        has_given = bool(m.group("giv") or m.group("free"))
        end = m.end("giv") if m.group("giv") else m.end("free") if m.group("free") else sur_end
        nxt = norm[end : end + 1]
        if m.group("giv") and not m.group("hon") and _ONE_KANJI.match(nxt):
            continue
        if m.group("hon") or m.group("giv"):
            out.append(Finding("person", s, end))
        elif _NAME_LABEL.search(norm[max(0, s - 12) : s]) and (
            has_given or not nxt or not _KANJI_OR_KANA.match(nxt)
        ):
            out.append(Finding("person", s, end))
    for m in kana.finditer(norm):
        out.append(Finding("person", m.start(), m.end()))
    if _HONORIFIC_HINT.search(norm):
        for m in _FREE_JA_NAME.finditer(norm):
            out.append(Finding("person", m.start(1), m.end(1)))
        for m in _SURNAME_HON.finditer(norm):
            cand = m.group(1)
            if cand[-1] not in _NOT_A_NAME_END and cand not in _NOT_NAMES:
                out.append(Finding("person", m.start(1), m.end(1)))
    for m in _SIGNATURE_NAME.finditer(norm):
        out.append(Finding("person", m.start(1), m.end(1)))
    for m in _LABELLED_JA_NAME.finditer(norm):
        cand = m.group(1)
        if cand not in _NOT_NAMES and cand[-1] not in _NOT_A_NAME_END:
            out.append(Finding("person", m.start(1), m.end(1)))
    return out


def _find_person_csv(norm: str) -> list[Finding]:
    """Cells of a column whose CSV header names a person (氏名, お名前, name)."""
    first, sep, rest = norm.partition("\n")
    if "," not in first or not sep:
        return []
    cols = [i for i, h in enumerate(first.split(",")) if _CSV_PERSON_HEADER.match(h.strip())]
    out: list[Finding] = []
    if not cols:
        return out
    pos = len(first) + 1
    for line in rest.split("\n"):
        cells = line.split(",")
        off = pos
        for i, cell in enumerate(cells):
            if i in cols and _CSV_CELL_NAME.fullmatch(cell.strip()):
                lead = len(cell) - len(cell.lstrip())
                out.append(Finding("person", off + lead, off + lead + len(cell.strip())))
            off += len(cell) + 1
        pos += len(line) + 1
    return out


def _find_person_en(norm: str) -> list[Finding]:
    out: list[Finding] = []
    firsts = names.en_first_names()
    lasts = names.en_last_names()
    if "M" in norm or "D" in norm or "P" in norm:
        for m in _EN_TITLE.finditer(norm):
            out.append(Finding("person", m.start(1), m.end(1)))
    for m in _EN_CAND.finditer(norm):
        first, last = m.group(1), m.group(3)
        labelled = bool(_EN_LABEL.search(norm[max(0, m.start() - 12) : m.start()]))
        if first in firsts and (last in lasts or labelled or last.split("-")[0] in lasts):
            out.append(Finding("person", m.start(), m.end()))
        elif labelled and (first in firsts or last in lasts):
            out.append(Finding("person", m.start(), m.end()))
    return out


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


_ANY_DIGIT = re.compile(r"\d")
# Career history (a prospect's former employer, seed 004): personal information a sales purpose rarely needs.
# Reported as the review flag "flag:career" (not 要配慮, not redacted by default).
_CAREER = re.compile(
    r"前職|前の会社|元勤務先|以前の勤務先|職歴|転職歴|経歴|former employer|previous employer|previously worked"
    r"|used to work|work history|career history",
    re.IGNORECASE,
)
_ADDR_HINT = re.compile(r"[市区町村郡][^\n]{0,24}\d")

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
) -> list[Finding]:
    """All findings in ``text`` (offsets on the original text), sorted by position.

    ``types`` restricts the PII types returned; ``sensitive`` adds the review flags: 要配慮 terms
    (``sensitive:<category>``, sensitive=True, R-2.3-1) and career history (``flag:career``, sensitive=False).
    Flags may overlap other findings and are never merged away. ``ner`` is an optional span provider
    (``mamori.deid.text.ner``: ``ginza_ner()``); without it, the one set by ``using_ner`` is used, if any.
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
    found += _find_person_ja(norm)
    if "," in norm and "\n" in norm:
        found += _find_person_csv(norm)
    if not norm.isascii() or any(c.isupper() for c in norm):
        found += _find_person_en(norm)
    provider = ner if ner is not None else NER_PROVIDER.get()
    if provider is not None:
        from mamori.deid.text.ner import merge_ner  # noqa: PLC0415  # ner imports this module

        found = merge_ner(text, found, provider(text))
    if types is not None:
        found = [f for f in found if f.type in types]
    result = _resolve(found)
    if sensitive:
        result += [Finding(t, s, e, True) for t, s, e in find_sensitive(norm)]
        result += [Finding("flag:career", m.start(), m.end()) for m in _CAREER.finditer(norm)]
        result.sort(key=lambda f: (f.start, f.end))
    return result
